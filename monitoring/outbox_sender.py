"""The outbox sender: claim due notifications, deliver each over its channel, record the
attempt. Runs as a thread of the scheduler daemon, or alone (`wk alerts send`) for a
store without one; any number of senders may run on one store (claims are leased:
store/outbox_delivery.py). Every attempt is logged, one line each, without secrets.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitoring.notifiers import Delivery, Message, deliver
from store import outbox_delivery
from store.errors import InvalidInput, StoreUnavailable
from store.markers import self_recording
from store.outbox_delivery import Claimed
from store.outbox_settings import DeliveryPolicy, delivery_policy
from store.run_life import this_process
from store.types import utcnow

if TYPE_CHECKING:
    from store.handle import Store

log = logging.getLogger(__name__)

#: the most notifications one pass delivers (claimed one at a time, so a claim's lease
#: covers one delivery's timeout, never a queue of them)
BATCH = 20


@dataclass(frozen=True)
class SentAttempt:
    """One attempt as the sender made and recorded it."""

    notification_id: int
    dedup_key: str
    channel: str
    kind: str
    attempt: int
    outcome: str
    status_code: int | None
    duration_ms: float | None
    error: str
    status: str  # the notification's status after it: pending, delivered or failed
    next_attempt_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def policy_of(store: Store) -> DeliveryPolicy:
    return delivery_policy(store.location.root)


def run_once(store: Store, now: datetime | None = None, *, policy: DeliveryPolicy | None = None,
             limit: int = BATCH) -> list[SentAttempt]:
    """Claim what is due at `now` (default: the clock), one notification at a time,
    deliver it and record the outcome; up to `limit` of them."""
    policy = policy or policy_of(store)
    sent: list[SentAttempt] = []
    while len(sent) < limit:
        one = send_one(store, now, policy=policy)
        if one is None:
            break
        sent.append(one)
    return sent


@self_recording("a delivery is the notification row and its attempt rows")
def send_one(store: Store, now: datetime | None = None, *, policy: DeliveryPolicy,
             only: int | None = None) -> SentAttempt | None:
    """Claim one due notification (`only`: that one), deliver it, record the outcome;
    None when nothing is due."""
    host, pid = this_process()
    with store.db.write() as session:
        claimed = outbox_delivery.claim_due(session, now=now or utcnow(), host=host, pid=pid,
                                            policy=policy, only=only)
    if not claimed:
        return None
    return _deliver_one(store, claimed[0], now=now, policy=policy, pid=pid)


@self_recording("a delivery is the notification row and its attempt rows")
def _deliver_one(store: Store, item: Claimed, *, now: datetime | None, policy: DeliveryPolicy,
                 pid: int) -> SentAttempt:
    message = Message(dedup_key=item.dedup_key, group_key=item.group_key, kind=item.kind,
                      payload=item.payload, channel=item.channel_name)
    try:
        result = deliver(item.channel_kind, item.channel_config, message)
    except Exception as exc:  # a notifier's bug must not stop the sender: recorded, retried
        log.exception("notification %s: the %s notifier failed", item.id, item.channel_kind)
        result = Delivery(outbox_delivery.AttemptOutcome.RETRY, None,
                          f"the {item.channel_kind} notifier failed: {type(exc).__name__}: {exc}")
    with store.db.write() as session:
        row = outbox_delivery.record_attempt(
            session, item, outcome=result.outcome, now=now or utcnow(), policy=policy, pid=pid,
            status_code=result.status_code, duration_ms=result.duration_ms, error=result.error)
        sent = SentAttempt(notification_id=item.id, dedup_key=item.dedup_key,
                           channel=item.channel_name, kind=item.kind, attempt=item.attempt,
                           outcome=result.outcome, status_code=result.status_code,
                           duration_ms=result.duration_ms, error=result.error, status=row.status,
                           next_attempt_at=row.next_attempt_at
                           if row.status == "pending" else None)
    _log(sent)
    return sent


def _log(sent: SentAttempt) -> None:
    code = f", code {sent.status_code}" if sent.status_code is not None else ""
    took = f" in {sent.duration_ms:.0f} ms" if sent.duration_ms is not None else ""
    after = (f"; next attempt {sent.next_attempt_at:%H:%M:%S} UTC" if sent.next_attempt_at
             else f"; {sent.status}")
    level = logging.INFO if sent.outcome == "delivered" else logging.WARNING
    log.log(level, "notification %s (%s, dedup %s) to %s: attempt %d %s%s%s%s%s",
            sent.notification_id, sent.kind, sent.dedup_key, sent.channel, sent.attempt,
            sent.outcome, code, took, f": {sent.error}" if sent.error else "", after,
            extra={"attempt": sent.attempt, "status": sent.outcome})


def run_forever(store: Store, stop_event: threading.Event, interval: float | None = None,
                *, policy: DeliveryPolicy | None = None) -> None:
    """Send until `stop_event` is set: a pass every `interval` seconds (the [outbox]
    interval_s by default), at once again while a pass found a full batch. A store that
    is unavailable is tried again at the next pass."""
    if policy is None:
        try:
            policy = policy_of(store)
        except InvalidInput as exc:  # a thread of the daemon: say so and send anyway
            log.error("outbox sender: %s; sending with the default settings", exc.message)
            policy = DeliveryPolicy()
    wait = interval if interval is not None else policy.interval_s
    log.info("outbox sender started (a pass every %g s, at most %d attempts, backoff %g s "
             "to %g s)", wait, policy.max_attempts, policy.backoff_s, policy.max_backoff_s)
    while not stop_event.is_set():
        try:
            sent = run_once(store, policy=policy)
        except StoreUnavailable as exc:
            log.warning("outbox sender: the store is unavailable: %s", exc.message)
            sent = []
        except Exception:  # the thread must outlive one bad pass (logged, tried again)
            log.exception("outbox sender: a pass failed")
            sent = []
        if len(sent) < BATCH:
            stop_event.wait(wait)
    log.info("outbox sender stopped")


def start_thread(store: Store, stop_event: threading.Event,
                 interval: float | None = None) -> threading.Thread:
    """run_forever in a daemon thread (the scheduler daemon's sender)."""
    thread = threading.Thread(target=run_forever, args=(store, stop_event, interval),
                              name="outbox-sender", daemon=True)
    thread.start()
    return thread
