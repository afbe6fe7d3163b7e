"""What the console says when a dangerous action succeeds.

The actions return typed results (registry.aliases.AliasMove,
registry.versions.VersionStatusChange, serving.traffic.deployments.DeploymentChange), so
the notice is read from the result's type and fields, never guessed from the keys a dict
happens to have. Each screen names the actions it offers (`what`: "promote", "rollback",
"archive", "set share") so that an action without a notice says "done".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from console.screens.cells import percent

if TYPE_CHECKING:  # the services are imported when an action runs, not at first paint
    from registry.aliases import AliasMove
    from registry.versions import VersionStatusChange
    from serving.traffic.deployments import DeploymentChange

Describe = Callable[[Any], str]


def alias_moved(result: AliasMove) -> str:
    return result.change()


def version_status_set(result: VersionStatusChange) -> str:
    return result.change()


def share_set(result: DeploymentChange) -> str:
    d = result.deployment
    return f"{d['model']} {d['mode']}: challenger v{d['challenger']} takes {percent(d['challenger_share'])}"


def deployment_changed(result: DeploymentChange) -> str:
    """A deployment promote or rollback: production moved (its alias move says how), or
    the challenger was taken out."""
    from serving.traffic.deployments import Undid

    if result.alias_move is not None:
        return result.alias_move.change()
    if result.undid is Undid.CHALLENGER:
        return f"{result.model}: challenger out, v{result.deployment['champion']} takes all traffic"
    return f"{result.model}: {result.deployment['mode']} v{result.deployment['champion']}"


#: the versions, models and overview screens' actions
ALIAS_ACTIONS: dict[str, Describe] = {
    "promote": alias_moved,
    "rollback": alias_moved,
    "archive": version_status_set,
}

#: the deployments screen's actions
DEPLOYMENT_ACTIONS: dict[str, Describe] = {
    "promote": deployment_changed,
    "rollback": deployment_changed,
    "set share": share_set,
}

def describe(actions: Mapping[str, Describe], what: str, result: Any) -> str:
    """The notice for a successful `what` (its result is of the type that action
    returns); "done" for an action without a description."""
    describe_as = actions.get(what)
    return "done" if describe_as is None else describe_as(result)


def run_queued(result: dict[str, Any]) -> str:
    return f"{result['job']}: run #{result['run']} {result['status']}; the scheduler starts it within seconds"


def pause_set(result: dict[str, Any]) -> str:
    state = "paused" if result["paused"] else "resumed"
    return f"{result['name']} {state}" if result["changed"] else f"{result['name']} was {state} already"


#: the jobs screen's actions (scheduler.jobs_service returns plain dicts)
JOB_ACTIONS: dict[str, Describe] = {
    "run now": run_queued,
    "pause": pause_set,
    "resume": pause_set,
}


def approved(result: dict[str, Any]) -> str:
    move = result["move"]
    before = f"v{move['from_version']}" if move.get("from_version") else "(none)"
    return f"{result['model']} v{result['version']} approved: production {before} -> v{move['to_version']}"


def rejected(result: dict[str, Any]) -> str:
    return f"{result['model']} v{result['version']} rejected: production unchanged"


#: the approvals screens' actions (registry.approvals returns plain dicts)
APPROVAL_ACTIONS: dict[str, Describe] = {"approve": approved, "reject": rejected}
