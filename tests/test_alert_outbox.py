"""The outbox sender over real receivers on 127.0.0.1: the webhook gets the Alertmanager
v4 body unchanged with the dedup key, 4xx fails at once, 5xx and timeouts are retried
with a doubling backoff (time driven by `now`), every attempt is recorded; a lost claim
is recorded as interrupted and taken over; channel settings are checked and shown without
secrets."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from alert_outbox_store import T0, add_channel, message, queue, senders_at_once, set_outbox
from notify_listeners import webhook_listener
from sqlmodel import select

from monitoring.outbox_sender import run_once
from store.alert_tables import Notification, NotificationAttempt
from store.audit import list_events
from store.errors import InvalidInput
from store.outbox_delivery import claim_due
from store.outbox_settings import DeliveryPolicy, delivery_policy

FAST = DeliveryPolicy(backoff_s=5, max_backoff_s=40, max_attempts=6, lease_s=30)


def _rows(store):  # type: ignore[no-untyped-def]
    with store.db.read() as session:
        rows = session.exec(select(Notification).order_by(Notification.id)).all()
        attempts = session.exec(select(NotificationAttempt)
                                .order_by(NotificationAttempt.id)).all()
    return rows, attempts


def test_webhook_gets_the_alertmanager_body_unchanged_with_its_dedup_key(
        store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # a loopback URL never uses it
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with webhook_listener() as hook:
        add_channel(store, "hook", "webhook", url=hook.url("/am"))
        payload = message("credit", "income")
        queue(store, "hook", "k-1", payload)
        (sent,) = run_once(store, T0, policy=FAST)
        assert (sent.outcome, sent.status_code, sent.status) == ("delivered", 200, "delivered")
        (got,) = hook.delivered()
    assert got.body == payload and got.body["version"] == "4" and "text" in got.body
    assert got.headers["Idempotency-Key"] == got.headers["X-Watchkeeper-Dedup-Key"] == "k-1"
    assert got.headers["Content-Type"] == "application/json"
    rows, attempts = _rows(store)
    assert [(a.attempt, a.outcome, a.status_code, a.sender_pid) for a in attempts] == [
        (1, "delivered", 200, os.getpid())]
    assert rows[0].delivered_at == T0 and rows[0].claimed_until is None
    assert run_once(store, T0 + timedelta(hours=1), policy=FAST) == []  # never sent again


def test_a_4xx_answer_fails_at_once_and_is_not_retried(store) -> None:
    with webhook_listener(status_by_path={"/gone": 404}) as hook:
        add_channel(store, "hook", "webhook", url=hook.url("/gone"))
        queue(store, "hook", "k-404", message("credit", "income"))
        (sent,) = run_once(store, T0, policy=FAST)
        assert run_once(store, T0 + timedelta(hours=1), policy=FAST) == []
        assert len(hook.received) == 1
    assert (sent.outcome, sent.status_code, sent.status) == ("failed", 404, "failed")
    rows, attempts = _rows(store)
    assert rows[0].status == "failed" and "HTTP 404" in rows[0].last_error
    assert [a.outcome for a in attempts] == ["failed"]


def test_5xx_and_timeouts_back_off_doubling_then_give_up_all_attempts_recorded(store) -> None:
    with webhook_listener(status_by_path={"/down": 503}) as hook:
        add_channel(store, "hook", "webhook", url=hook.url("/down"))
        queue(store, "hook", "k-503", message("credit", "income"))
        now, waits = T0, []
        for _ in range(FAST.max_attempts):
            (sent,) = run_once(store, now, policy=FAST)
            assert run_once(store, now, policy=FAST) == []  # not due again before its backoff
            if sent.next_attempt_at is not None:
                waits.append((sent.next_attempt_at - now).total_seconds())
                now = sent.next_attempt_at
        assert len(hook.received) == FAST.max_attempts
    assert waits == [5, 10, 20, 40, 40]  # doubling from 5 s, capped at 40 s
    assert (sent.outcome, sent.status) == ("retry", "failed")
    rows, attempts = _rows(store)
    assert [a.attempt for a in attempts] == [1, 2, 3, 4, 5, 6]
    assert {a.status_code for a in attempts} == {503}
    assert "gave up after 6 attempts" in rows[0].last_error


def test_a_timeout_and_a_refused_connection_are_retried(store) -> None:
    with webhook_listener(delay_s=1.0) as slow:
        add_channel(store, "slow", "webhook", url=slow.url(), timeout_s=0.2)
        queue(store, "slow", "k-slow", message("credit", "income"))
        (sent,) = run_once(store, T0, policy=FAST)
    assert sent.outcome == "retry" and sent.status_code is None and "timed out" in sent.error
    add_channel(store, "closed", "webhook", url=slow.url())  # the listener is stopped now
    queue(store, "closed", "k-closed", message("credit", "age"))
    (sent,) = run_once(store, T0, policy=FAST)
    assert sent.outcome == "retry" and "refused" in sent.error.lower()


def test_a_claim_without_an_outcome_is_recorded_as_interrupted_and_retried(store) -> None:
    """A sender killed between its claim and its commit: the next claim records it."""
    with webhook_listener() as hook:
        add_channel(store, "hook", "webhook", url=hook.url())
        queue(store, "hook", "k-lost", message("credit", "income"))
        with store.db.write() as session:  # a sender on another host claims it, then dies
            claim_due(session, now=T0, host="elsewhere", pid=4242, policy=FAST)
        assert run_once(store, T0 + timedelta(seconds=10), policy=FAST) == []  # its lease holds
        (sent,) = run_once(store, T0 + timedelta(seconds=31), policy=FAST)
    assert (sent.attempt, sent.outcome) == (2, "delivered")
    _, attempts = _rows(store)
    assert [(a.attempt, a.outcome, a.sender_pid) for a in attempts] == [
        (1, "retry", 4242), (2, "delivered", os.getpid())]
    assert "interrupted" in attempts[0].error


def test_a_dead_local_senders_claim_is_taken_over_before_its_lease_ends(store) -> None:
    import socket
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    with webhook_listener() as hook:
        add_channel(store, "hook", "webhook", url=hook.url())
        queue(store, "hook", "k-dead", message("credit", "income"))
        with store.db.write() as session:
            claim_due(session, now=T0, host=socket.gethostname(), pid=dead.pid, policy=FAST)
        (sent,) = run_once(store, T0 + timedelta(seconds=1), policy=FAST)
    assert (sent.attempt, sent.outcome) == (2, "delivered")


def test_outbox_settings_come_from_watchkeeper_toml_and_are_checked(store) -> None:
    set_outbox(store, backoff_s=0.5, max_attempts=3)
    policy = delivery_policy(store.location.root)
    assert (policy.backoff_s, policy.max_attempts, policy.max_backoff_s) == (0.5, 3, 600)
    set_outbox(store, backof_s=1)
    with pytest.raises(InvalidInput, match="no setting 'backof_s'"):
        delivery_policy(store.location.root)


def test_channel_settings_are_checked_and_secrets_never_stored(store, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="http or https") as bad:
        add_channel(store, "x", "webhook", url="ftp://example.com")
    assert bad.value.field == "url"
    loose = tmp_path / "loose"
    loose.write_text("user\npw\n")
    loose.chmod(0o644)
    with pytest.raises(InvalidInput, match="chmod 600") as bad:
        add_channel(store, "mail", "smtp", host="h", **{"from": "a@b.c"}, to=["d@e.f"],
                    credentials_file=str(loose))
    assert bad.value.field == "credentials_file"
    with pytest.raises(InvalidInput, match="not an environment variable name"):
        add_channel(store, "app", "apprise", url_env="slack://T/B/secret-token")
    with pytest.raises(InvalidInput, match="a secret: give the file"):
        add_channel(store, "app", "apprise")
    add_channel(store, "slack", "webhook", url="https://hooks.slack.com/services/T0/B0/SECRET")
    with store.db.read() as session:
        (event,) = list_events(session, action="channel.")
    assert event.action == "channel.add" and "SECRET" not in str(event.after)
    assert event.after["config"]["url"] == "https://hooks.slack.com/***"


def test_two_senders_at_once_never_deliver_the_same_row(store) -> None:
    with webhook_listener(delay_s=0.02) as hook:
        add_channel(store, "hook", "webhook", url=hook.url())
        for i in range(12):
            queue(store, "hook", f"k-{i}", message("credit", f"f{i}"))
        results = senders_at_once(store, FAST)
        keys = sorted(r.dedup_key for r in hook.received)
    assert keys == sorted(f"k-{i}" for i in range(12))  # each POSTed once, none twice
    assert all(results) and len(results[0]) + len(results[1]) == 12  # both took a share
