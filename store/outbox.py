"""The notification outbox: rows queued in the caller's transaction (the one that changes
the alert's state), so a change and its notifications commit or vanish together.

Delivery (claiming due rows, recording attempts, backing off) is store/outbox_delivery.py.
Functions take an open Session; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from store.alert_tables import Channel, Notification
from store.types import utcnow


def enqueue(session: Session, *, dedup_key: str, channel: Channel, group_key: str, kind: str,
            alert_ids: Sequence[int], payload: dict[str, Any],
            not_before: datetime | None = None) -> bool:
    """Queue one message for one channel. A row with the same `dedup_key` already queued
    (the same change evaluated twice) is left as it is: returns False then.

    `payload` is the Alertmanager v4 message (monitoring/alert_message.py) that every
    channel renders from: a webhook posts it as it is, SMTP and shell take its fields.
    """
    values = dict(dedup_key=dedup_key, channel_id=channel.id, channel_name=channel.name,
                  group_key=group_key, kind=kind, alert_ids=list(alert_ids), payload=payload,
                  next_attempt_at=not_before or utcnow(), created_at=utcnow())
    dialect = session.get_bind().dialect.name
    table = Notification.__table__  # type: ignore[attr-defined]
    if dialect == "sqlite":
        stmt: Any = sqlite_insert(table).values(**values).on_conflict_do_nothing(
            index_elements=["dedup_key"])
    elif dialect == "postgresql":
        stmt = pg_insert(table).values(**values).on_conflict_do_nothing(
            index_elements=["dedup_key"])
    else:  # pragma: no cover - the two dialects the store supports are above
        stmt = insert(table).values(**values)
    # RETURNING, not rowcount: on PostgreSQL an insert returns its new id, and then its
    # rowcount is -1 (true) even when ON CONFLICT inserted nothing (seen in
    # tests/test_postgres_alerts.py); the row that came back is the answer on both dialects
    result = session.connection().execute(stmt.returning(table.c.id))
    return result.first() is not None


def channels_named(session: Session, names: Sequence[str]) -> list[Channel]:
    """The enabled channels among `names`, in the order given (unknown names skipped:
    the rule's editor refuses them; a channel removed since is simply not sent to)."""
    if not names:
        return []
    rows = session.exec(select(Channel).where(col(Channel.name).in_(list(names)),
                                              col(Channel.enabled))).all()
    by_name = {row.name: row for row in rows}
    return [by_name[name] for name in names if name in by_name]
