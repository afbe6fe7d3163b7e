"""What the console says when a dangerous action succeeds, by the action's kind.

The service and serving functions still return plain dicts; the console knows which
function it called, so each screen maps its action (`what`: "promote", "rollback",
"archive", "set share") to the typed result it reads from the dict, instead of guessing
the kind from the keys the dict happens to have. When the service layer returns typed
results these `from_result` readers go and the screens take the results as they come.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from console.screens.cells import percent

Describe = Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class AliasMoved:
    """An alias now points at another version (promote, rollback, a challenger promoted)."""

    model: str
    alias: str
    from_version: int | None
    to_version: int

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> AliasMoved:
        return cls(result["model"], result["alias"], result.get("from_version"), result["to_version"])

    def text(self) -> str:
        before = f"v{self.from_version}" if self.from_version else "(none)"
        return f"{self.model} {self.alias}: {before} -> v{self.to_version}"


@dataclass(frozen=True)
class VersionStatusSet:
    """A version's status after an archive."""

    model: str
    version: int
    status: str

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> VersionStatusSet:
        return cls(result["model"], result["version"], result["status"])

    def text(self) -> str:
        return f"{self.model} v{self.version} is {self.status}"


@dataclass(frozen=True)
class ShareSet:
    """A deployment's challenger share after a change."""

    model: str
    mode: str
    challenger: int | None
    share: float

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> ShareSet:
        return cls(result["model"], result["mode"], result["challenger"], result["challenger_share"])

    def text(self) -> str:
        return f"{self.model} {self.mode}: challenger v{self.challenger} takes {percent(self.share)}"


@dataclass(frozen=True)
class ChallengerOut:
    """A deployment rollback that took the challenger out."""

    model: str
    champion: int | None

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> ChallengerOut:
        return cls(result["model"], result["champion"])

    def text(self) -> str:
        return f"{self.model}: challenger out, v{self.champion} takes all traffic"


def alias_moved(result: Mapping[str, Any]) -> str:
    return AliasMoved.from_result(result).text()


def version_status_set(result: Mapping[str, Any]) -> str:
    return VersionStatusSet.from_result(result).text()


def share_set(result: Mapping[str, Any]) -> str:
    return ShareSet.from_result(result).text()


def deployment_rolled_back(result: Mapping[str, Any]) -> str:
    """A deployment rollback either takes the challenger out or moves production back a
    version; the result says which in "undid" (a typed result would be one of two types)."""
    if result.get("undid") == "challenger":
        return ChallengerOut.from_result(result).text()
    return alias_moved(result)


#: the versions, models and overview screens' actions
ALIAS_ACTIONS: dict[str, Describe] = {
    "promote": alias_moved,
    "rollback": alias_moved,
    "archive": version_status_set,
}

#: the deployments screen's actions
DEPLOYMENT_ACTIONS: dict[str, Describe] = {
    "promote": alias_moved,
    "rollback": deployment_rolled_back,
    "set share": share_set,
}


def describe(actions: Mapping[str, Describe], what: str, result: Any) -> str:
    """The notice for a successful `what`; "done" for an action without a description."""
    describe_as = actions.get(what)
    if describe_as is None or not isinstance(result, Mapping):
        return "done"
    return describe_as(result)
