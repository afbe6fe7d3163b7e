"""The notification policy (pure): given an alert as stored, the damping step of this
evaluation, whether a silence matches it now, its rule's channels and repeat interval,
what the alert becomes, which events it records and which channels get which message.

- firing: the rule's channels; they are remembered (notified_channels) so the resolve
  reaches every channel that got the firing, plus the rule's current ones;
- a still-firing alert is notified again every repeat interval (next_notify_at);
- acknowledged: no repeats until ack_until; past it, if still firing, it goes back to
  firing and notifies again (ack-expired);
- silenced: the alert still changes state, nothing is sent; when the silence ends and
  it still fires, it notifies as a firing (if it never did) or on its repeat time;
- pending alerts and insufficient data never notify.

Each notification names a dedup part that is the same however often the same change is
evaluated (the alert, the change, and the stored time it was due), so a pass re-run
after a crash cannot queue it twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitoring.damping import Step
from store.vocabulary import AlertEventKind, AlertState

#: The order a group's message takes its kind in, when its alerts changed differently.
KIND_ORDER = ("firing", "ack-expired", "repeat", "resolved", "silence-ending")


@dataclass(frozen=True)
class AlertNow:
    """What the policy needs of a stored open alert."""

    id: int
    state: str
    notified_channels: tuple[str, ...] = ()
    next_notify_at: datetime | None = None
    ack_until: datetime | None = None


@dataclass(frozen=True)
class Send:
    kind: str  # firing | resolved | repeat | ack-expired
    channels: tuple[str, ...]
    dedup: str  # stable for the same change: the alert's part of the outbox dedup key


@dataclass
class Plan:
    state: str | None  # the alert's state after this evaluation (None: no alert)
    events: list[str] = field(default_factory=list)
    send: Send | None = None
    next_notify_at: datetime | None = None
    notified_channels: tuple[str, ...] = ()
    clear_ack: bool = False


def matches(matchers: Mapping[str, Any] | None, labels: Mapping[str, Any]) -> bool:
    """A silence matches an alert when every matcher equals the alert's label."""
    if not matchers:
        return False
    return all(str(labels.get(key, "")) == str(value) for key, value in matchers.items())


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else "-"


def _fire(alert_id: int, channels: tuple[str, ...], now: datetime, repeat: timedelta,
          silenced: bool, events: list[str], already: tuple[str, ...] = ()) -> Plan:
    if silenced:
        return Plan(AlertState.SILENCED, [*events, AlertEventKind.SILENCED],
                    notified_channels=already)
    send = Send("firing", channels, f"{alert_id}:firing") if channels else None
    return Plan(AlertState.FIRING, events, send=send, next_notify_at=now + repeat,
                notified_channels=tuple(dict.fromkeys((*already, *channels))))


def plan(alert: AlertNow | None, step: Step, *, silenced: bool, channels: Sequence[str],
         repeat_s: int, now: datetime, new_id: int = 0) -> Plan:
    """`alert`: the open alert of the target (None: none). `new_id`: the id of the alert
    this step creates, when it creates one (pending or fires)."""
    channels = tuple(channels)
    repeat = timedelta(seconds=max(int(repeat_s), 60))
    if alert is None:
        if step == Step.PENDING:
            return Plan(AlertState.PENDING, [AlertEventKind.PENDING])
        if step == Step.FIRES:
            return _fire(new_id, channels, now, repeat, silenced,
                         [AlertEventKind.PENDING, AlertEventKind.FIRING])
        return Plan(None)
    notified = alert.notified_channels
    keep = Plan(alert.state, next_notify_at=alert.next_notify_at, notified_channels=notified)
    if step == Step.RESOLVES:
        targets = tuple(dict.fromkeys((*notified, *channels))) if notified else ()
        send = Send("resolved", targets, f"{alert.id}:resolved") if targets else None
        return Plan(AlertState.RESOLVED, [AlertEventKind.RESOLVED], send=send,
                    notified_channels=notified)
    if step == Step.FIRES and alert.state == AlertState.PENDING:
        return _fire(alert.id, channels, now, repeat, silenced, [AlertEventKind.FIRING])
    if step != Step.STAYS or alert.state == AlertState.PENDING:
        return keep  # insufficient data, or a pending alert still short of firing
    if alert.state == AlertState.ACKNOWLEDGED:
        if alert.ack_until is None or now < alert.ack_until:
            return keep
        if silenced:
            return Plan(AlertState.SILENCED, [AlertEventKind.ACK_EXPIRED, AlertEventKind.SILENCED],
                        notified_channels=notified, clear_ack=True)
        send = Send("ack-expired", channels, f"{alert.id}:ack-expired:{_iso(alert.ack_until)}")
        return Plan(AlertState.FIRING, [AlertEventKind.ACK_EXPIRED], send=send if channels else None,
                    next_notify_at=now + repeat, clear_ack=True,
                    notified_channels=tuple(dict.fromkeys((*notified, *channels))))
    if alert.state == AlertState.SILENCED:
        if silenced:
            return keep
        if not notified:
            return _fire(alert.id, channels, now, repeat, False, [AlertEventKind.UNSILENCED])
        due = alert.next_notify_at is None or now >= alert.next_notify_at
        send = (Send("repeat", channels, f"{alert.id}:repeat:{_iso(alert.next_notify_at)}")
                if due and channels else None)
        return Plan(AlertState.FIRING, [AlertEventKind.UNSILENCED], send=send,
                    next_notify_at=now + repeat if send else alert.next_notify_at,
                    notified_channels=tuple(dict.fromkeys((*notified, *channels))))
    # firing
    if silenced:
        return Plan(AlertState.SILENCED, [AlertEventKind.SILENCED],
                    next_notify_at=alert.next_notify_at, notified_channels=notified)
    if alert.next_notify_at is not None and now >= alert.next_notify_at and channels:
        send = Send("repeat", channels, f"{alert.id}:repeat:{_iso(alert.next_notify_at)}")
        return Plan(AlertState.FIRING, [AlertEventKind.REPEAT], send=send,
                    next_notify_at=now + repeat,
                    notified_channels=tuple(dict.fromkeys((*notified, *channels))))
    return keep


def group_kind(kinds: Sequence[str]) -> str:
    """The kind of one message carrying several alerts' changes."""
    return min(kinds, key=lambda k: KIND_ORDER.index(k) if k in KIND_ORDER else len(KIND_ORDER))
