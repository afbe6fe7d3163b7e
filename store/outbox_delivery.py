"""Delivering the outbox: claim due rows under a lease, record each attempt and the row's
new state in one transaction, back off on failure, give up after the last attempt.

A claim is a short write transaction (BEGIN IMMEDIATE on SQLite, FOR UPDATE SKIP LOCKED
on PostgreSQL): it counts the attempt, and holds the row for `lease_s` by moving its
`next_attempt_at` to the end of the lease, so no other sender sees it due meanwhile. The
sender delivers outside any transaction and records the outcome in a second one. A sender
killed between the two leaves a claim with no outcome: the next claim of that row records
that attempt as interrupted (a retry) before trying again, so every claim is one attempt
in the table. A claim of a dead process on this host is taken over at once, without
waiting for its lease.

A receiver may get a message twice (a sender killed after the POST and before its commit):
every delivery carries the row's dedup key for it to drop the repeat.

Functions take an open Session; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import exists
from sqlmodel import Session, col, select

from store.alert_tables import Channel, Notification, NotificationAttempt
from store.outbox_settings import DeliveryPolicy
from store.run_life import process_alive
from store.vocabulary import NotificationStatus

ERROR_CHARS = 2000


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # tried again after the backoff (5xx, timeout, connection refused ...)
    FAILED = "failed"  # not retried (4xx, a channel that is gone)


@dataclass(frozen=True)
class Claimed:
    """A notification a sender holds: what it needs to deliver it, and which attempt it is."""

    id: int
    dedup_key: str
    channel_name: str
    channel_kind: str | None  # None: the channel was removed
    channel_config: dict[str, Any]
    group_key: str
    kind: str
    payload: dict[str, Any]
    attempt: int
    claimed_by: str


def claimer_of(host: str, pid: int) -> str:
    return f"{host}:{pid}"


def _dead_here(claimed_by: str, host: str) -> bool:
    owner, _, pid = claimed_by.rpartition(":")
    return owner == host and pid.isdigit() and not process_alive(int(pid))


def claim_due(session: Session, *, now: datetime, host: str, pid: int,
              policy: DeliveryPolicy, limit: int = 1, only: int | None = None) -> list[Claimed]:
    """Take up to `limit` due notifications (pending, next attempt time passed, no live
    claim) for this sender, oldest due first; `only`: that one notification, if due."""
    me = claimer_of(host, pid)
    claimed: list[Claimed] = []
    while len(claimed) < limit:
        rows = _candidates(session, now=now, host=host, limit=limit - len(claimed), only=only)
        if not rows:
            break
        for row in rows:
            if row.claimed_until is not None and _interrupted(session, row, now, policy):
                continue  # that claim was its last attempt: failed now
            row.attempts += 1
            row.claimed_until = row.next_attempt_at = now + timedelta(seconds=policy.lease_s)
            row.claimed_by = me
            session.add(row)
            claimed.append(_claimed(session, row))
        session.flush()
    return claimed


def _candidates(session: Session, *, now: datetime, host: str, limit: int,
                only: int | None) -> list[Notification]:
    lock: Any = {"skip_locked": True}
    pending = select(Notification).where(Notification.status == NotificationStatus.PENDING)
    if only is not None:  # one row asked for by id (a channel test): sent whatever its channel
        pending = pending.where(Notification.id == only)
    else:  # a disabled channel's rows wait (a removed channel's are taken, and fail)
        pending = pending.where(~exists().where(col(Channel.id) == Notification.channel_id,
                                                col(Channel.enabled).is_(False)))
    due = list(session.exec(
        pending.where(col(Notification.next_attempt_at) <= now)
        .order_by(col(Notification.next_attempt_at), col(Notification.id))
        .limit(limit).with_for_update(**lock)).all())
    if len(due) < limit:  # claims of senders that died on this host: no need to wait
        held = session.exec(
            pending.where(col(Notification.claimed_until) > now,
                          col(Notification.claimed_by).startswith(f"{host}:"))
            .with_for_update(**lock)).all()
        due += [row for row in held if _dead_here(row.claimed_by, host)][:limit - len(due)]
    return due


def _interrupted(session: Session, row: Notification, now: datetime,
                 policy: DeliveryPolicy) -> bool:
    """Record the attempt a sender claimed and never finished; True if that was the last."""
    owner = row.claimed_by or "a sender"
    _, _, pid = owner.rpartition(":")
    error = (f"interrupted: {owner} stopped before recording the outcome (the receiver may "
             "have got it; it drops the repeat by dedup key)")
    session.add(NotificationAttempt(notification_id=int(row.id or 0), at=now,
                                    attempt=row.attempts, outcome=AttemptOutcome.RETRY,
                                    error=error, sender_pid=int(pid) if pid.isdigit() else None))
    row.claimed_until = None
    row.last_error = error
    if row.attempts >= policy.max_attempts:
        row.status = NotificationStatus.FAILED
        row.last_error = f"{error}; gave up after {row.attempts} attempts"
        session.add(row)
        return True
    session.add(row)
    return False


def _claimed(session: Session, row: Notification) -> Claimed:
    channel = session.get(Channel, row.channel_id) if row.channel_id is not None else None
    return Claimed(id=int(row.id or 0), dedup_key=row.dedup_key, channel_name=row.channel_name,
                   channel_kind=channel.kind if channel else None,
                   channel_config=dict(channel.config or {}) if channel else {},
                   group_key=row.group_key, kind=row.kind, payload=dict(row.payload or {}),
                   attempt=row.attempts, claimed_by=row.claimed_by)


def record_attempt(session: Session, claimed: Claimed, *, outcome: str, now: datetime,
                   policy: DeliveryPolicy, pid: int, status_code: int | None = None,
                   duration_ms: float | None = None, error: str = "") -> Notification:
    """The attempt, and the row's new status, next attempt time and last error. A row
    this sender no longer holds (its lease ran out and another sender took it) only gets
    the attempt, unless it was delivered."""
    row = session.exec(select(Notification).where(Notification.id == claimed.id)
                       .with_for_update()).one()
    error = error[:ERROR_CHARS]
    session.add(NotificationAttempt(notification_id=claimed.id, at=now, attempt=claimed.attempt,
                                    outcome=outcome, status_code=status_code,
                                    duration_ms=duration_ms, error=error, sender_pid=pid))
    ours = (row.claimed_by == claimed.claimed_by and row.attempts == claimed.attempt
            and row.claimed_until is not None)
    if row.status != NotificationStatus.PENDING or not (ours or outcome == "delivered"):
        session.flush()
        return row
    row.claimed_until = None
    if outcome == AttemptOutcome.DELIVERED:
        row.status, row.delivered_at, row.last_error = NotificationStatus.DELIVERED, now, ""
    elif outcome == AttemptOutcome.RETRY and claimed.attempt < policy.max_attempts:
        row.next_attempt_at = now + timedelta(seconds=policy.backoff(claimed.attempt))
        row.last_error = error
    else:
        row.status = NotificationStatus.FAILED
        row.last_error = (error if outcome == AttemptOutcome.FAILED
                          else f"{error}; gave up after {claimed.attempt} attempts")
    session.add(row)
    session.flush()
    return row


def attempts_of(session: Session, notification_ids: Sequence[int]) -> list[NotificationAttempt]:
    """The attempts of these notifications, oldest first."""
    if not notification_ids:
        return []
    return list(session.exec(
        select(NotificationAttempt)
        .where(col(NotificationAttempt.notification_id).in_(list(notification_ids)))
        .order_by(col(NotificationAttempt.at), col(NotificationAttempt.id))).all())


def list_outbox(session: Session, *, status: str | None = None, channel: str | None = None,
                alert_id: int | None = None, limit: int = 100) -> list[Notification]:
    """Notifications newest first, filtered by status, channel name or alert."""
    query = select(Notification).order_by(col(Notification.created_at).desc(),
                                          col(Notification.id).desc())
    if status:
        query = query.where(Notification.status == status)
    if channel:
        query = query.where(Notification.channel_name == channel)
    if alert_id is None:
        return list(session.exec(query.limit(limit)).all())
    rows = [row for row in session.exec(query).all() if alert_id in (row.alert_ids or [])]
    return rows[:limit]


def find_by_dedup_key(session: Session, dedup_key: str) -> Notification | None:
    return session.exec(select(Notification).where(Notification.dedup_key == dedup_key)).first()
