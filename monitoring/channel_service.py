"""Channels as every surface uses them: add, list, remove, and test (queue a test message
and deliver it at once), returning plain dicts without secrets."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from monitoring.alert_message import MessageAlert, build_message, fingerprint, group_key
from monitoring.outbox_sender import policy_of, send_one
from store import channels, outbox
from store.access import authorize
from store.alert_tables import Channel
from store.channel_config import env_notes, shown_config
from store.errors import Conflict
from store.markers import self_recording
from store.outbox_delivery import attempts_of, find_by_dedup_key, list_outbox
from store.roles import Permission
from store.types import utcnow
from store.vocabulary import NotificationStatus

if TYPE_CHECKING:
    from store.handle import Store

TEST_KIND = "test"


def channel_view(session: Session, channel: Channel) -> dict[str, Any]:
    queued = list_outbox(session, channel=channel.name, limit=10_000)
    counts = {str(status): sum(1 for row in queued if row.status == status)
              for status in NotificationStatus}
    last = queued[0] if queued else None
    return {"name": channel.name, "kind": channel.kind,
            "config": shown_config(channel.kind, channel.config), "enabled": channel.enabled,
            "created_at": channel.created_at, "created_by": channel.created_by,
            "notifications": counts,
            "last": {"status": last.status, "at": last.delivered_at or last.created_at,
                     "error": last.last_error} if last else None}


def add_channel(store: Store, name: str, kind: str, config: Mapping[str, Any], *,
                actor: str | None = None) -> dict[str, Any]:
    actor = authorize(store, actor, Permission.CHANNELS)
    with store.db.write() as session:
        channel = channels.add_channel(session, name=name, kind=kind, config=config,
                                       actor=actor)
        view = channel_view(session, channel)
    view["notes"] = env_notes(channel.config or {})
    return view


def list_channels(store: Store) -> list[dict[str, Any]]:
    with store.db.read() as session:
        return [channel_view(session, channel) for channel in channels.list_channels(session)]


def remove_channel(store: Store, name: str, *, reason: str = "",
                   actor: str | None = None) -> dict[str, Any]:
    actor = authorize(store, actor, Permission.CHANNELS)
    with store.db.write() as session:
        view = channel_view(session, channels.get_channel(session, name))
        channels.remove_channel(session, name, actor=actor, reason=reason)
    return view


def set_channel_enabled(store: Store, name: str, enabled: bool, *, reason: str = "",
                        actor: str | None = None) -> dict[str, Any]:
    """Disable a channel (a broken pager, a mailbox under maintenance) without losing its
    settings or its queue, or enable it again."""
    actor = authorize(store, actor, Permission.CHANNELS)
    with store.db.write() as session:
        changed = channels.set_enabled(session, name, enabled, actor=actor, reason=reason)
        view = channel_view(session, channels.get_channel(session, name))
    return {**view, "changed": changed}


def test_message(name: str, now: datetime) -> dict[str, Any]:
    """An Alertmanager v4 message with one firing test alert, addressed to channel `name`."""
    labels = {"alertname": "watchkeeper-test", "severity": "info", "channel": name}
    alert = MessageAlert(status="firing", labels=labels,
                         annotations={"summary": f"a test message from Watchkeeper to the "
                                                 f"channel {name}"},
                         starts_at=now, fingerprint=fingerprint(labels))
    return build_message([alert], group_key_text=group_key({"channel": name}),
                         group_labels={"channel": name}, receiver=name)


@self_recording("a test notification is an outbox row with its attempts, which record when and how it went")
def test_channel(store: Store, name: str) -> dict[str, Any]:
    """Queue a test message for the channel and make one attempt at once (a disabled
    channel too: a test is how one checks it before enabling it again). A retry stays
    queued: the sender tries again after the backoff, once the channel is enabled."""
    now = utcnow()
    dedup_key = f"test:{name}:{now:%Y%m%dT%H%M%S}:{uuid.uuid4().hex[:8]}"
    with store.db.write() as session:
        channel = channels.get_channel(session, name)
        payload = test_message(name, now)
        outbox.enqueue(session, dedup_key=dedup_key, channel=channel,
                       group_key=str(payload["groupKey"]), kind=TEST_KIND, alert_ids=[],
                       payload=payload)
        row = find_by_dedup_key(session, dedup_key)
    notification_id = int(row.id or 0) if row else 0
    sent = send_one(store, policy=policy_of(store), only=notification_id)
    if sent is None:
        raise Conflict(f"the test notification {notification_id} was claimed by another "
                       "sender first; see its attempts in the outbox", field="name")
    return {"channel": name, "dedup_key": dedup_key, **sent.as_dict()}


def outbox_rows(store: Store, *, status: str | None = None, channel: str | None = None,
                alert_id: int | None = None, limit: int = 100,
                with_attempts: bool = False) -> list[dict[str, Any]]:
    """The outbox newest first, each row with its attempts when asked (for `show` views)."""
    with store.db.read() as session:
        rows = list_outbox(session, status=status, channel=channel, alert_id=alert_id,
                           limit=limit)
        attempts = attempts_of(session, [int(r.id or 0) for r in rows]) if with_attempts else []
    by_row: dict[int, list[dict[str, Any]]] = {}
    for a in attempts:
        by_row.setdefault(a.notification_id, []).append(
            {"attempt": a.attempt, "at": a.at, "outcome": a.outcome,
             "status_code": a.status_code, "duration_ms": a.duration_ms, "error": a.error,
             "sender_pid": a.sender_pid})
    return [{"id": r.id, "dedup_key": r.dedup_key, "channel": r.channel_name, "kind": r.kind,
             "group_key": r.group_key, "alert_ids": r.alert_ids or [], "status": r.status,
             "attempts": r.attempts, "next_attempt_at": r.next_attempt_at
             if r.status == NotificationStatus.PENDING else None,
             "created_at": r.created_at, "delivered_at": r.delivered_at,
             "last_error": r.last_error,
             **({"attempt_log": by_row.get(int(r.id or 0), [])} if with_attempts else {})}
            for r in rows]
