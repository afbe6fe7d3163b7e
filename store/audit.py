"""The audit log: one AuditEvent per mutating action, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from store.tables import AuditEvent


def target(model: str, version: int | None = None, alias: str | None = None,
           run: int | None = None) -> str:
    """What an event is about: a model, one of its versions, aliases or runs."""
    if alias:
        return f"model/{model}/alias/{alias}"
    if run is not None:
        return f"model/{model}/run/{run}"
    return f"model/{model}/v{version}" if version is not None else f"model/{model}"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    event = AuditEvent(
        actor=actor, action=action, target=target, before=before, after=after, reason=reason
    )
    session.add(event)
    return event


def _filtered(query: Any, *, actor: str | None, action: str | None, target_prefix: str | None,
              since: datetime | None, until: datetime | None) -> Any:
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if action:
        query = query.where(col(AuditEvent.action).startswith(action, autoescape=True))
    if target_prefix:
        query = query.where(
            (col(AuditEvent.target) == target_prefix)
            | col(AuditEvent.target).startswith(target_prefix + "/", autoescape=True)
        )
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    return query


def list_events(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    target_prefix: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Newest first, filtered; `action` matches a prefix ('alias.' matches 'alias.promote')."""
    query = _filtered(select(AuditEvent), actor=actor, action=action,
                      target_prefix=target_prefix, since=since, until=until)
    query = query.order_by(col(AuditEvent.id).desc()).limit(limit)
    return list(session.exec(query))


def last_event_id(session: Session) -> int:
    return int(session.exec(select(func.max(AuditEvent.id))).one() or 0)


def events_after(session: Session, after_id: int, up_to_id: int, *, page: int,
                 actor: str | None = None, action: str | None = None,
                 target_prefix: str | None = None, since: datetime | None = None,
                 until: datetime | None = None) -> list[AuditEvent]:
    """One page of the filtered events with ids in (after_id, up_to_id], oldest first:
    an export reads the log a page per short read, never in one long transaction."""
    query = _filtered(select(AuditEvent), actor=actor, action=action,
                      target_prefix=target_prefix, since=since, until=until)
    query = query.where(AuditEvent.id > after_id, AuditEvent.id <= up_to_id)  # type: ignore[operator]
    return list(session.exec(query.order_by(col(AuditEvent.id)).limit(page)))
