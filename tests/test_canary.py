"""Promotion policy auto, decided with `now` given: a retrained version goes to a canary
share, becomes production by itself when its period ends without an alert, is rolled
back at once (the alert the reason) when one fires on it, and a hand-changed deployment
cancels the watch; both outcomes queue a notification to the model's rules' channels."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from canary_store import MODEL, firing_alert, notifications, rule_with_channels, two_versions
from retrain_store import credit_spec, run_context, trained_in_production
from sqlmodel import select

from registry.promotion import parse_period, set_model
from scheduler.canary import decide_watches, list_watches, start_canary
from scheduler.kinds import KINDS
from serving.traffic import deployments
from store import audit as audit_store
from store.alert_tables import AlertEvent, CanaryWatch
from store.errors import InvalidInput
from store.types import utcnow
from store.vocabulary import AuditAction


def _deployment(store) -> tuple[str, int | None, int | None, float]:
    d = deployments.show(store, MODEL)
    return d["mode"], d["champion"], d["challenger"], d["challenger_share"]


def _watch(store) -> CanaryWatch:
    with store.db.read() as session:
        return session.get(CanaryWatch, list_watches(store, MODEL)[0]["id"])


def _events(store, action: str):
    with store.db.read() as session:
        return audit_store.list_events(session, action=action)


def test_a_retrain_under_auto_canaries_then_becomes_production_with_no_alert(
        store, tmp_path) -> None:
    spec = credit_spec(tmp_path / "p")
    trained_in_production(store, spec)
    set_model(store, MODEL, policy="auto", canary_share=0.2, canary_period_s=60, actor="tests")
    rule_with_channels(store, "credit-latency", ["ops-hook", "ops-mail"])
    credit_spec(tmp_path / "p", seed=2)
    outcome = KINDS["retrain"].run_function()(run_context(store, "retrain", {"spec": str(spec)}))
    assert outcome.result["policy"]["policy"] == "auto", outcome.summary
    assert "20% canary beside v1" in outcome.summary
    assert _deployment(store) == ("canary", 1, 2, 0.2)
    watch = _watch(store)
    assert (watch.status, watch.version, watch.job_run_id) == ("watching", 2, outcome_run(store))
    assert (watch.ends_at - watch.started_at) == timedelta(seconds=60)
    assert _events(store, AuditAction.CANARY_START)[0].actor == "job:retrain-job"

    assert decide_watches(store, watch.started_at + timedelta(seconds=59)) == []
    assert _deployment(store) == ("canary", 1, 2, 0.2)
    [decision] = decide_watches(store, watch.ends_at + timedelta(seconds=1))
    assert (decision.status, decision.version, decision.alert_id) == ("promoted", 2, None)
    assert _deployment(store) == ("single", 2, None, 0.0)
    assert _watch(store).status == "promoted"
    promote = _events(store, AuditAction.CANARY_PROMOTE)[0]
    assert promote.after == {"status": "promoted", "production": 2}
    assert "no alert fired on v2 in its 60 s canary" in promote.reason
    sent = notifications(store)
    assert [n.channel_name for n in sent] == ["ops-hook", "ops-mail"]
    labels = sent[0].payload["alerts"][0]["labels"]
    assert labels == {"alertname": "canary-promoted", "model": MODEL, "version": "2",
                      "severity": "info"}
    assert decide_watches(store, watch.ends_at + timedelta(seconds=5)) == []  # decided once


def outcome_run(store) -> int:
    from store import jobs as job_store

    with store.db.read() as session:
        return int(job_store.list_runs(session, job_name="retrain-job", limit=1)[0].id)


def test_an_alert_on_the_canary_version_rolls_it_back_at_once(store, tmp_path) -> None:
    two_versions(store, tmp_path / "p")
    rule_with_channels(store, "credit-latency", ["ops-hook"])
    start = utcnow()
    start_canary(store, MODEL, 2, reason="test", actor="tests", now=start)
    # an alert on the champion, and one on v2 that fired before the canary, do not count
    firing_alert(store, 1, start + timedelta(seconds=5), rule="champion-latency")
    firing_alert(store, 2, start - timedelta(minutes=5), rule="old-latency")
    assert decide_watches(store, start + timedelta(seconds=10)) == []
    alert_id = firing_alert(store, 2, start + timedelta(seconds=20), by_label=True)
    [decision] = decide_watches(store, start + timedelta(seconds=21))
    assert (decision.status, decision.alert_id, decision.channels) == ("rolled_back", alert_id,
                                                                       ("ops-hook",))
    assert _deployment(store) == ("single", 1, None, 0.0)
    watch = _watch(store)
    assert (watch.status, watch.alert_id) == ("rolled_back", alert_id)
    assert f"alert {alert_id} (credit-latency) fired on v2" in watch.note
    rollback = _events(store, AuditAction.CANARY_ROLLBACK)[0]
    assert rollback.after["alert_id"] == alert_id and rollback.after["rule"] == "credit-latency"
    assert "p95 450 ms above 300 ms" in rollback.reason
    with store.db.read() as session:
        [event] = session.exec(select(AlertEvent)).all()
    assert event.alert_id == alert_id and event.event == "annotated"
    assert f"credit-default v2 was rolled back because of this alert (watch {watch.id})" \
        in event.note
    [sent] = notifications(store)
    assert sent.alert_ids == [alert_id] and sent.kind == "canary"
    assert sent.payload["alerts"][0]["labels"]["alertname"] == "canary-rolled-back"
    assert sent.payload["alerts"][0]["annotations"]["alert_id"] == str(alert_id)


def test_a_hand_changed_deployment_cancels_the_watch_and_moves_nothing(store, tmp_path) -> None:
    two_versions(store, tmp_path / "p")  # no rules: nothing is ever queued
    start = utcnow()
    start_canary(store, MODEL, 2, reason="test", actor="tests", now=start)
    deployments.set_deployment(store, MODEL, mode="shadow", reason="by hand", actor="ana")
    [decision] = decide_watches(store, start + timedelta(seconds=1))
    assert decision.status == "cancelled"
    assert "changed by hand to shadow" in _watch(store).note
    assert _deployment(store) == ("shadow", 1, 2, 0.1)
    # a rollback would have needed an alert; a promote the period: neither came, none queued
    firing_alert(store, 2, start + timedelta(seconds=2))
    assert decide_watches(store, start + timedelta(hours=2)) == []
    assert notifications(store) == []


def test_an_alert_rolls_back_even_without_rules_and_queues_nothing(store, tmp_path) -> None:
    two_versions(store, tmp_path / "p")
    start = utcnow()
    start_canary(store, MODEL, 2, reason="test", actor="tests", now=start)
    firing_alert(store, 2, start + timedelta(seconds=1), state="acknowledged")
    [decision] = decide_watches(store, start + timedelta(seconds=2))
    assert decision.status == "rolled_back" and notifications(store) == []


def test_a_new_canary_supersedes_the_open_one(store, tmp_path) -> None:
    spec = two_versions(store, tmp_path / "p")
    start_canary(store, MODEL, 2, reason="first", actor="tests")
    from registry.training import train

    credit_spec(spec.parent, seed=3)
    assert train(store, str(spec), actor="tests")["version"]["version"] == 3
    start_canary(store, MODEL, 3, reason="second", actor="tests")
    rows = list_watches(store, MODEL)
    assert [(r["version"], r["status"]) for r in rows] == [(3, "watching"), (2, "cancelled")]
    assert rows[1]["note"] == "superseded by the canary of v3"
    assert _deployment(store)[2] == 3


def test_canary_settings_are_checked() -> None:
    assert parse_period("2m") == 120 and parse_period("45") == 45 and parse_period("1h") == 3600
    with pytest.raises(InvalidInput, match="a canary period is a count and a unit"):
        parse_period("soon")


def test_a_bad_canary_share_is_refused(store, tmp_path) -> None:
    spec = credit_spec(tmp_path / "p")
    trained_in_production(store, spec)
    with pytest.raises(InvalidInput, match="a canary share is a fraction between 0 and 1"):
        set_model(store, MODEL, canary_share=1.0, actor="tests")
    view = set_model(store, MODEL, policy="auto", canary_period_s=120, actor="tests")
    assert (view["effective_policy"], view["canary_share"], view["canary_period_s"]) == \
        ("auto", 0.1, 120)


def test_the_cli_sets_auto_and_shows_the_open_watch(wk, trained) -> None:
    from store.handle import open_store

    assert wk("train", trained, "--param", "C=0.5").code == 0  # v2
    assert wk("models", "promote", "tiny", "1", "production", "--reason", "first").code == 0
    bad = wk("models", "set", "tiny", "--canary-period", "soon")
    assert bad.code != 0 and "a canary period is a count and a unit" in bad.err
    set_ = wk("models", "set", "tiny", "--policy", "auto", "--canary-share", "10%",
              "--canary-period", "2m", "--json").json()
    assert (set_["effective_policy"], set_["canary_share"], set_["canary_period_s"]) == \
        ("auto", 0.1, 120)
    assert "10% for 120 s" in wk("models", "set", "tiny", "--canary-share", "0.1").out
    opened = open_store(os.environ["WK_STORE"])
    try:
        start_canary(opened, "tiny", 2, reason="test", actor="tests")
    finally:
        opened.close()
    shown = wk("deploy", "show", "tiny", "--json").json()
    assert shown["canary_watch"]["version"] == 2 and 115 <= shown["canary_watch"]["ends_in_s"] <= 120
    assert "v2 at 10%, watched until" in wk("deploy", "show", "tiny", "--no-chart").out
    [row] = wk("models", "canary", "tiny", "--json").json()
    assert (row["version"], row["status"], row["share"]) == (2, "watching", 0.1)
    assert "watching" in wk("models", "canary", "tiny").out
