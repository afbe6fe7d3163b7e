"""What each console action needs: its permissions (store/roles.py), in one table.

The console reads the user's capabilities every tick (store.access.capabilities: per
permission, None or the denial's words) and shows an action the user may not take
disabled in the footer; its key, and the command palette, say why instead of acting. The
service functions check again (store.access.authorize): this table only makes the answer
visible before a key is pressed, it grants nothing.

An action not listed here only reads (open a view, filter, copy): everyone may.
"""

from __future__ import annotations

from collections.abc import Mapping

from store.roles import Permission

#: action id (console/actions.py ActionSpec.id) -> every permission it needs
NEEDS: dict[str, tuple[Permission, ...]] = {
    # a version's aliases (versions, version, lineage, models, overview)
    "promote": (Permission.PROMOTE,),
    "rollback": (Permission.ROLLBACK,),
    "archive": (Permission.REGISTER,),
    # how a model is served (deployments)
    "promote_challenger": (Permission.PROMOTE,),
    "rollback_deployment": (Permission.ROLLBACK,),
    "set_share": (Permission.DEPLOY,),
    # the labelling queue
    "label_task": (Permission.LABEL,),
    "skip_task": (Permission.LABEL,),
    "fill_queue": (Permission.LABEL,),
    # the scheduler's jobs
    "run_job": (Permission.JOBS,),
    "pause_job": (Permission.JOBS,),
    "resume_job": (Permission.JOBS,),
    # waiting versions
    "approve": (Permission.APPROVE,),
    "reject": (Permission.APPROVE,),
    # alerts, and acting from one (the action's own permission too)
    "ack_alert": (Permission.RESPOND,),
    "silence_alert": (Permission.RESPOND,),
    "resolve_alert": (Permission.RESPOND,),
    "alert_rollback": (Permission.RESPOND, Permission.ROLLBACK),
    "alert_pause_job": (Permission.RESPOND, Permission.JOBS),
    "alert_retrain": (Permission.RESPOND, Permission.JOBS),
}

#: an alert's actions (scheduler.alert_actions: rollback, pause-job, retrain) as actions
ALERT_ACTION_IDS = {"rollback": "alert_rollback", "pause-job": "alert_pause_job",
                    "retrain": "alert_retrain"}

Capabilities = Mapping[Permission, str | None]


def denial(action: str, capabilities: Capabilities | None) -> str | None:
    """Why the user may not take `action` (the first permission missing, in the store's
    words), or None: allowed, only reads, or the capabilities are not read yet (the
    service checks anyway)."""
    if capabilities is None:
        return None
    for permission in NEEDS.get(action, ()):
        if (reason := capabilities.get(permission)) is not None:
            return reason
    return None
