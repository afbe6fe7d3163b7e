"""The outbox survives SIGKILL (issue 12's outbox acceptance): 20 notifications over two
webhook channels, `wk alerts send` killed 10 times at random moments while the receiver
answers 500 to half the POSTs, restarted each time. After the last restart every
notification is delivered, each row exactly once in the outbox; the receiver got each
dedup key at least once (a kill between its 200 and the sender's commit makes a repeat,
which the receiver drops by key); every claim is an attempt in the table, numbered
without gaps, as `wk alerts show` lists them.

The children are forked from a process that imported `wk` once (tests/killtest.py), so
eleven starts cost milliseconds, not seconds each.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import killtest
from alert_outbox_store import add_channel, message, queue, set_outbox
from notify_listeners import webhook_listener
from sqlmodel import select

from monitoring.channel_service import outbox_rows
from store.alert_tables import Notification, NotificationAttempt

CHANNELS = {"ops-a": "/a", "ops-b": "/b"}
ALERTS = 10  # x 2 channels = 20 notifications
KILLS = 10
CHILD = """
import sys
from console.cli import main
print("READY", flush=True)
sys.exit(main(["alerts", "send"]))
"""
PRELOAD = ["console.cli", "console.cli.alert_channels", "monitoring.outbox_sender",
           "monitoring.channel_service", "monitoring.notifiers.webhook", "scheduler.json_log",
           "store.handle", "store.outbox_delivery"]


def _state(store: Any) -> tuple[list[Notification], list[NotificationAttempt]]:
    with store.db.read() as session:
        return (list(session.exec(select(Notification)).all()),
                list(session.exec(select(NotificationAttempt)).all()))


def _check_invariants(store: Any) -> None:
    """What holds after any kill: no row delivered twice, attempts numbered 1..n."""
    rows, attempts = _state(store)
    delivered = Counter(a.notification_id for a in attempts if a.outcome == "delivered")
    assert all(n == 1 for n in delivered.values()), delivered
    for row in rows:
        numbers = sorted(a.attempt for a in attempts if a.notification_id == row.id)
        assert numbers == list(range(1, len(numbers) + 1)), (row.id, numbers)
        assert row.status in ("pending", "delivered")


def test_sigkill_ten_times_every_notification_delivered_once_per_channel(
        store: Any, tmp_path: Path) -> None:
    set_outbox(store, backoff_s=0.05, max_backoff_s=0.2, lease_s=2, interval_s=0.05,
               max_attempts=1000)
    with webhook_listener(fail_share=0.5, seed=12, delay_s=0.08) as hook:
        for name, path in CHANNELS.items():
            add_channel(store, name, "webhook", url=hook.url(path), timeout_s=2)
        keys = {}
        for i in range(ALERTS):
            payload = message("credit", f"feature_{i}")
            for name in CHANNELS:
                keys[f"{name}/{i}"] = name
                queue(store, name, f"{name}/{i}", payload)
        env = {"WK_STORE": str(store.location.root)}
        with killtest.ForkServer(PRELOAD, env=env) as forks:
            work = tmp_path / "children"
            result = killtest.crash_loop(lambda i: forks.start(CHILD, [], work),
                                         lambda i: _check_invariants(store),
                                         kills=KILLS, min_delay=0.25, max_delay=0.8)
            last = forks.start(CHILD, [], work)
            last.wait_ready()
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                rows, _ = _state(store)
                if all(row.status == "delivered" for row in rows):
                    break
                time.sleep(0.05)
            import os

            # SIGTERM only once the sender runs (its first log line): a signal between READY
            # and the handler's installation kills it the default way (exit -15)
            deadline = time.monotonic() + 15
            while "READY" == last.output().strip() and time.monotonic() < deadline:
                time.sleep(0.05)
            os.kill(last.pid, signal.SIGTERM)
            assert last.wait() == 0, last.output()
        received = list(hook.received)

    rows, attempts = _state(store)
    assert len(rows) == ALERTS * len(CHANNELS) and result.kills == KILLS
    assert {row.status for row in rows} == {"delivered"}, [(r.dedup_key, r.last_error)
                                                           for r in rows]
    _check_invariants(store)
    # every claim is one recorded attempt: the row's count and its attempts agree
    by_row = Counter(a.notification_id for a in attempts)
    assert all(by_row[row.id] == row.attempts for row in rows)
    # the receiver: each dedup key reached its channel's path at least once
    got = Counter((r.path, r.dedup_key) for r in received if r.status == 200)
    for key, channel in keys.items():
        assert got[(CHANNELS[channel], key)] >= 1, key
    assert not [r for r in received if r.dedup_key.split("/")[0] not in CHANNELS]
    assert {(CHANNELS[k.split("/")[0]], k) for k in keys} == set(got)  # no stray path
    # every POST answered is an attempt (kills may add attempts that never POSTed)
    assert len(received) <= len(attempts)
    shown = outbox_rows(store, with_attempts=True, limit=100)
    assert sum(len(r["attempt_log"]) for r in shown) == len(attempts)
    duplicates = sum(n - 1 for n in got.values())
    interrupted = sum(1 for a in attempts if a.error.startswith("interrupted"))
    print(f"\noutbox kill figures: seed {result.seed}, {result.kills} kills, {len(rows)} "
          f"notifications, {len(attempts)} attempts ({interrupted} interrupted by a kill, "
          f"{sum(1 for a in attempts if a.status_code == 500)} answered 500), "
          f"{len(received)} POSTs received, {duplicates} duplicate deliveries at the receiver")


def test_the_scheduler_daemon_sends_the_outbox_and_stops_on_sigterm(store: Any) -> None:
    from scheduler_harness import running_daemon, wait_for

    set_outbox(store, backoff_s=0.05, interval_s=0.1)
    with webhook_listener() as hook:
        add_channel(store, "ops", "webhook", url=hook.url("/d"))
        with running_daemon(store.location.root) as daemon:
            queue(store, "ops", "daemon/1", message("credit", "income"))
            (got,) = wait_for("the daemon's delivery", lambda: hook.delivered(), daemon=daemon)
            assert daemon.stop() == 0
    assert got.dedup_key == "daemon/1"
    lines = [line["message"] for line in daemon.lines()]
    assert any("outbox sender started" in m for m in lines)
    assert any("dedup daemon/1) to ops: attempt 1 delivered" in m for m in lines)
    assert lines[-1] == "scheduler stopped" and "outbox sender stopped" in lines
