"""The audit log as the registry lists it: events filtered by actor, action, model and time."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from registry import views
from store import audit

if TYPE_CHECKING:
    from store.handle import Store


def audit_log(store: Store, *, actor: str | None = None, action: str | None = None,
              model: str | None = None, since: datetime | None = None,
              until: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
    with store.db.read() as session:
        events = audit.list_events(
            session, actor=actor, action=action,
            target_prefix=audit.target(model) if model else None,
            since=since, until=until, limit=limit,
        )
        return [views.audit_view(e) for e in events]
