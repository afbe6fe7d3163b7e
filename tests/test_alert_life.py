"""The alert life on a real store, with passes at explicit times: one alert per target
however often it is evaluated, one message per model and channel per pass carrying every
change, the resolve reaching every channel that got the firing, an acknowledgement that
runs out re-notifying, a silence suppressing and warned once before it ends, and every
human action in the audit log with its note."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from alert_store import add_drift, add_quality, build_alert_store, notifications

from monitoring import alert_service as service
from monitoring.alert_pass import evaluate
from monitoring.alerts_view import list_alerts, list_silences, open_alert_counts, show_alert
from store.types import utcnow

MINUTE = timedelta(minutes=1)


def _kinds(rows: list[Any]) -> list[tuple[str, str, int]]:
    return [(n.channel_name, n.kind, len(n.payload["alerts"])) for n in rows]


def test_dedup_grouping_and_resolve_to_the_channels_that_got_the_firing(tmp_path: Path) -> None:
    store, ids = build_alert_store(tmp_path / "store")
    service.add_rule(store, name="credit-drift", kind="drift", model="credit",
                     channels=["hook", "mail"])
    now = utcnow()
    add_drift(store, ids, now, {"income", "purpose"})
    first = evaluate(store, now=now)
    assert first.notifications == 2 and first.transitions["firing"] == 2
    sent = notifications(store)
    # two drifted features of one model: ONE message per channel, with both alerts
    assert _kinds(sent) == [("hook", "firing", 2), ("mail", "firing", 2)]
    message = sent[0].payload
    assert message["groupKey"] == '{}:{model="credit"}' and message["status"] == "firing"
    assert sorted(a["labels"]["feature"] for a in message["alerts"]) == ["income", "purpose"]
    # the same pass again (a re-run after a crash) and a later one: no new alert or message
    assert evaluate(store, now=now).notifications == 0
    assert evaluate(store, now=now + MINUTE).notifications == 0
    assert len(list_alerts(store)) == 2 and len(notifications(store)) == 2
    # the rule now names only the webhook; the resolve still reaches the mail that got the firing
    service.edit_rule(store, "credit-drift", {"channels": ["hook"]}, reason="mail is noisy")
    add_drift(store, ids, now + 2 * MINUTE, set())
    resolved = evaluate(store, now=now + 2 * MINUTE)
    assert resolved.transitions["resolved"] == 2
    assert _kinds(notifications(store)[2:]) == [("hook", "resolved", 2), ("mail", "resolved", 2)]
    assert notifications(store)[2].payload["status"] == "resolved"
    assert list_alerts(store) == []
    shown = show_alert(store, list_alerts(store, state="resolved")[0]["id"])
    assert [e["event"] for e in shown["events"]] == [
        "pending", "firing", "notified", "notified", "resolved", "notified", "notified"]
    assert [n["kind"] for n in shown["notifications"]] == ["firing", "firing", "resolved",
                                                           "resolved"]


def test_ack_with_expiry_notifies_again_while_still_firing(tmp_path: Path) -> None:
    store, ids = build_alert_store(tmp_path / "store")
    service.add_rule(store, name="credit-quality", kind="quality", model="credit",
                     channels=["hook"], repeat_s=3600)
    t = utcnow()
    add_quality(store, ids, t, "failed")
    evaluate(store, now=t)
    alert = list_alerts(store)[0]
    assert alert["state"] == "firing" and alert["next_notify_at"] == t + timedelta(hours=1)
    service.ack(store, alert["id"], "looking at the feed", for_s=600, now=t + MINUTE)
    assert list_alerts(store)[0]["next_notify_at"] == t + 11 * MINUTE
    evaluate(store, now=t + 5 * MINUTE)  # acknowledged: nothing sent
    assert len(notifications(store)) == 1
    evaluate(store, now=t + 12 * MINUTE)  # the acknowledgement ran out, still failing
    sent = notifications(store)
    assert _kinds(sent) == [("hook", "firing", 1), ("hook", "ack-expired", 1)]
    assert list_alerts(store)[0]["state"] == "firing"
    evaluate(store, now=t + 13 * MINUTE)
    assert len(notifications(store)) == 2
    # resolved by hand with a note: the resolve goes out in the same transaction
    service.resolve(store, alert["id"], "feed fixed upstream", now=t + 14 * MINUTE)
    assert _kinds(notifications(store))[-1] == ("hook", "resolved", 1)
    events = [(e["event"], e["note"]) for e in show_alert(store, alert["id"])["events"]]
    assert ("acknowledged", "looking at the feed") in events and ("ack-expired", "") in events
    assert ("resolved", "feed fixed upstream") in events
    audit = _audit(store)
    assert ("alert.ack", f"alert/{alert['id']}", "looking at the feed") in audit
    assert ("alert.resolve", f"alert/{alert['id']}", "feed fixed upstream") in audit
    assert ("alert_rule.add", "alert_rule/credit-quality", "") in audit


def test_silence_suppresses_and_its_end_is_warned_once(tmp_path: Path) -> None:
    store, ids = build_alert_store(tmp_path / "store")
    service.add_rule(store, name="credit-quality", kind="quality", model="credit",
                     channels=["hook"], repeat_s=600)
    t = utcnow()
    add_quality(store, ids, t, "failed")
    evaluate(store, now=t)
    nothing = service.add_silence(store, {"model": "churn"}, comment="other team", now=t,
                                  duration_s=3600)
    silence = service.add_silence(store, {"model": "credit"}, comment="maintenance window",
                                  duration_s=30 * 60, now=t + MINUTE)
    assert silence["matched"] == 1 and nothing["matched"] == 0
    shown = {s["id"]: s["matches"] for s in list_silences(store, now=t + MINUTE)}
    assert shown == {silence["id"]: "1 open alert(s)", nothing["id"]: "matches nothing"}
    evaluate(store, now=t + 2 * MINUTE)
    assert list_alerts(store)[0]["state"] == "silenced"
    evaluate(store, now=t + 15 * MINUTE)  # past the repeat interval: still nothing sent
    assert len(notifications(store)) == 1
    evaluate(store, now=t + 22 * MINUTE)  # within 10 minutes of its end: warned
    evaluate(store, now=t + 23 * MINUTE)  # once
    assert _kinds(notifications(store)) == [("hook", "firing", 1), ("hook", "silence-ending", 1)]
    evaluate(store, now=t + 32 * MINUTE)  # it ended: firing again, the repeat is due
    assert list_alerts(store)[0]["state"] == "firing"
    assert _kinds(notifications(store))[-1] == ("hook", "repeat", 1)
    counts = open_alert_counts(store)
    assert counts["models"] == {"credit": {"warning": 1}} and counts["firing"] == 1
    assert ("silence.add", f"silence/{silence['id']}", "maintenance window") in _audit(store)


def _audit(store: Any) -> list[tuple[str, str, str]]:
    from store.audit import list_events

    with store.db.read() as session:
        return [(e.action, e.target, e.reason) for e in list_events(session, limit=100)]
