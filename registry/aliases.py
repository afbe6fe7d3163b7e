"""Aliases: pointing a name (production, staging) at a version, and rolling it back to
the version that held it before."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from registry.production_guard import guard_production
from registry.versions import resolve_version
from store import aliases as alias_store
from store import audit
from store import models as model_store
from store import versions as version_store
from store.access import authorize
from store.errors import InvalidInput, Listing, NotFound, Refused, UsageError, see
from store.roles import Permission
from store.rows import id_of
from store.tables import Alias, AliasChange, ModelVersion, RegisteredModel
from store.types import utcnow
from store.vocabulary import AliasAction, AuditAction, VersionStatus

if TYPE_CHECKING:
    from sqlmodel import Session

    from store.handle import Store

@dataclass(frozen=True)
class AliasMove:
    """An alias moved from one version to another (promote, rollback); `changed` is False
    when it already pointed at the target."""

    model: str
    alias: str
    from_version: int | None
    to_version: int
    changed: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def change(self) -> str:
        before = f"v{self.from_version}" if self.from_version else "(none)"
        return f"{self.model} {self.alias}: {before} -> v{self.to_version}"


@dataclass(frozen=True)
class RollbackPlan:
    """What a rollback of an alias would do."""

    model: str
    alias: str
    from_version: int
    to_version: int

    def change(self) -> str:
        return f"{self.model} {self.alias}: v{self.from_version} -> v{self.to_version}"


ALIAS_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
PROTECTED_ALIASES = frozenset({"production"})

def check_alias_name(alias: str) -> None:
    if not ALIAS_NAME.fullmatch(alias or ""):
        raise InvalidInput(
            f"alias {alias!r} is not allowed; use lower-case letters, digits, '_' or '-' "
            "(1-40 characters, starting with a letter), e.g. production or staging"
        )

def require_reason(change: str, reason: str) -> None:
    """A change of what production serves is made only with a reason (`change` says what
    it is: "changing production", "promoting a challenger to production")."""
    if not reason.strip():
        raise UsageError(f"{change} needs a reason", field="reason", example='"..."')


def _require_reason(alias: str, reason: str, doing: str) -> None:
    """A protected alias changes only with a reason (`doing`: "changing", "rolling back")."""
    if alias in PROTECTED_ALIASES:
        require_reason(f"{doing} {alias}", reason)

def _move(session: Session, model: RegisteredModel, row: Alias, action: AliasAction,
          from_version: ModelVersion | None, to_version: ModelVersion, *, actor: str,
          reason: str) -> AliasMove:
    """Point `row` at `to_version`, with its history entry and audit event."""
    row.version_id, row.updated_at = id_of(to_version), utcnow()
    session.add(row)
    session.add(AliasChange(
        model_id=id_of(model), alias=row.name, action=action,
        from_version_id=from_version.id if from_version else None,
        to_version_id=id_of(to_version), actor=actor, reason=reason,
    ))
    audit_action = AuditAction.ALIAS_PROMOTE if action == AliasAction.PROMOTE else AuditAction.ALIAS_ROLLBACK
    from_number = from_version.version if from_version else None
    audit.record(
        session, actor=actor, action=audit_action, target=audit.target(model.name, alias=row.name),
        before={"version": from_number}, after={"version": to_version.version}, reason=reason,
    )
    return AliasMove(model.name, row.name, from_number, to_version.version)

def alias_permission(alias: str, *, rollback: bool) -> Permission:
    """Moving `production` is promote (or rollback); any other alias is a proposal."""
    if alias != "production":
        return Permission.PROPOSE
    return Permission.ROLLBACK if rollback else Permission.PROMOTE


def promote(store: Store, name: str, version: str | int, alias: str, *, reason: str = "",
            actor: str | None = None) -> AliasMove:
    """Point `alias` at a version; the previous holder is remembered for rollback."""
    actor = authorize(store, actor, alias_permission(alias, rollback=False), model=name)
    check_alias_name(alias)
    _require_reason(alias, reason, "changing")
    guard_production(store, name, actor, alias=alias)
    with store.db.write() as session:
        model = model_store.get_model(session, name)
        return promote_in(session, model, resolve_version(session, model, version), alias,
                          actor=actor, reason=reason)

def promote_in(session: Session, model: RegisteredModel, target: ModelVersion, alias: str,
               *, actor: str, reason: str) -> AliasMove:
    """The promote itself, inside the caller's write transaction (deployments use it too)."""
    name = model.name
    if target.status == VersionStatus.ARCHIVED:
        raise Refused(
            f"{name} v{target.version} is archived and cannot be promoted; register or "
            "train a new version"
        )
    current = alias_store.find_alias(session, id_of(model), alias)
    old = version_store.version_by_id(session, current.version_id) if current else None
    if current is not None and current.version_id == target.id:
        return AliasMove(name, alias, old.version if old else None, target.version, changed=False)
    if current is None:
        current = Alias(model_id=id_of(model), name=alias, version_id=id_of(target))
    return _move(session, model, current, AliasAction.PROMOTE, old, target,
                 actor=actor, reason=reason)

def alias_stack(changes: list[AliasChange]) -> list[int]:
    """Replay an alias's history: a promote pushes its version, a rollback pops one."""
    stack: list[int] = []
    for change in changes:
        if change.action == AliasAction.ROLLBACK:
            if stack:
                stack.pop()
            if not stack or stack[-1] != change.to_version_id:
                stack.append(change.to_version_id)
        else:
            stack.append(change.to_version_id)
    return stack

def _rollback_plan(session: Session, name: str,
                   alias: str) -> tuple[RegisteredModel, Alias, ModelVersion, ModelVersion]:
    """(model, alias row, current version, previous holder) for a rollback of `alias`."""
    model = model_store.get_model(session, name)
    current = alias_store.find_alias(session, id_of(model), alias)
    if current is None:
        raise NotFound(f"model {name!r} has no alias {alias!r}", see=see(Listing.MODEL, name))
    from_version = version_store.version_by_id(session, current.version_id)
    stack = alias_stack(list(alias_store.alias_changes(session, id_of(model), alias)))
    if len(stack) < 2:
        raise Refused(
            f"{name} {alias} has no previous version to roll back to (it has only ever "
            f"pointed at v{from_version.version}); promote another version instead"
        )
    to_version = version_store.version_by_id(session, stack[-2])
    if to_version.status == VersionStatus.ARCHIVED:
        raise Refused(
            f"{name} {alias} would roll back to v{to_version.version}, which is archived; "
            "promote an active version instead"
        )
    return model, current, from_version, to_version

def rollback(store: Store, name: str, alias: str, *, reason: str = "",
             actor: str | None = None) -> AliasMove:
    """Return `alias` to the version that held it before the current one."""
    actor = authorize(store, actor, alias_permission(alias, rollback=True), model=name)
    _require_reason(alias, reason, "rolling back")
    with store.db.write() as session:
        model, current, from_version, to_version = _rollback_plan(session, name, alias)
        return _move(session, model, current, AliasAction.ROLLBACK, from_version, to_version,
                     actor=actor, reason=reason)

def rollback_preview(store: Store, name: str, alias: str) -> RollbackPlan:
    """What `rollback` would do, without doing it."""
    with store.db.read() as session:
        _model, _alias, from_version, to_version = _rollback_plan(session, name, alias)
        return RollbackPlan(name, alias, from_version.version, to_version.version)
