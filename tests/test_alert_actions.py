"""Acting from an alert on a real store: an alert opens what it is about (the drift report
that fired it and the feature with its reason; a failed job's run), offers only the
actions that fit, refuses an action without a reason or one that does not fit, and an
action is done by the service that always does it (its own audit event) and annotates
the alert (an `annotated` event, annotations["actions"], an alert.action audit event).
The CLI's `wk alerts open` and `wk alerts act` print the same."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alert_store import add_drift, add_job, add_run, build_alert_store

from monitoring import alert_service as service
from monitoring.alert_pass import evaluate
from monitoring.alerts_view import list_alerts, show_alert
from registry.aliases import promote
from scheduler.alert_actions import act, actions_for, alert_subject
from store import audit
from store.errors import Refused, UsageError
from store.types import utcnow


def _drift_alert(tmp_path: Path) -> tuple[Any, dict[str, int], int, int]:
    store, ids = build_alert_store(tmp_path / "store")
    promote(store, "credit", 2, "production", reason="v2 out", actor="tests")
    service.add_rule(store, name="credit-drift", kind="drift", model="credit", feature="income",
                     channels=["hook"])
    now = utcnow()
    add_drift(store, ids, now - timedelta(hours=2), set())
    report = add_drift(store, ids, now, {"income"})
    evaluate(store, now=now)
    (alert,) = list_alerts(store)
    return store, ids, int(alert["id"]), report


def test_a_drift_alert_opens_its_report_and_feature_and_offers_rollback(tmp_path: Path) -> None:
    store, _ids, alert_id, report = _drift_alert(tmp_path)
    about = alert_subject(store, alert_id)
    subject = about["subject"]
    assert (subject["kind"], subject["report"], subject["feature"], subject["model"]) == (
        "drift", report, "income", "credit")
    assert subject["reason"] == "drift: income moved" and subject["status"] == "drift"
    # no retrain job: rolling back is the one action that fits
    assert [a["name"] for a in about["actions"]] == ["rollback"]
    assert [a.name for a in actions_for(about["alert"], retrain_job="credit-retrain")] == [
        "rollback", "retrain"]


def test_act_rolls_back_through_the_deployment_service_and_annotates(tmp_path: Path) -> None:
    store, _ids, alert_id, _report = _drift_alert(tmp_path)
    with pytest.raises(UsageError) as missing:
        act(store, alert_id, "rollback", reason="  ", actor="oncall")
    assert missing.value.field == "reason" and "needs a reason" in missing.value.message
    with pytest.raises(Refused, match="the actions that fit it: rollback"):
        act(store, alert_id, "pause-job", reason="no job here", actor="oncall")
    assert show_alert(store, alert_id)["annotations"].get("actions") is None  # refused: untouched

    done = act(store, alert_id, "rollback", reason="income drifted, back to v1", actor="oncall")
    assert (done["result"]["from_version"], done["result"]["to_version"]) == (2, 1)
    shown = show_alert(store, alert_id)
    (taken,) = shown["annotations"]["actions"]
    assert (taken["action"], taken["reason"], taken["actor"]) == (
        "rollback", "income drifted, back to v1", "oncall")
    event = shown["events"][-1]
    assert (event["event"], event["note"], event["details"]["action"]) == (
        "annotated", "income drifted, back to v1", "rollback")
    with store.db.read() as session:
        events = {e.action: e for e in audit.list_events(session)}
    assert events["alert.action"].reason == "income drifted, back to v1"
    assert events["alias.rollback"].reason == f"alert #{alert_id}: income drifted, back to v1"


def test_a_failed_job_alert_opens_the_run_and_pauses_the_job(tmp_path: Path) -> None:
    store, _ids = build_alert_store(tmp_path / "store")
    job_id = add_job(store, "nightly")
    now = utcnow()
    add_run(store, job_id, "nightly", now, "failed")
    service.add_rule(store, name="jobs-failed", kind="job-failed", channels=["hook"])
    evaluate(store, now=now)
    (alert,) = list_alerts(store)
    about = alert_subject(store, alert["id"])
    assert about["subject"]["kind"] == "job-run" and about["subject"]["job"] == "nightly"
    assert about["subject"]["reason"] == "exit 1: boom"
    assert [a["name"] for a in about["actions"]] == ["pause-job"]
    done = act(store, alert["id"], "pause-job", reason="stop the noise", actor="oncall")
    assert done["result"]["paused"] is True


def test_cli_open_and_act(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from console.cli import main

    store, _ids, alert_id, report = _drift_alert(tmp_path)
    root = str(tmp_path / "store")
    assert main(["--store", root, "alerts", "open", str(alert_id)]) == 0
    text = capsys.readouterr().out
    assert f"drift report #{report}" in text and "income" in text
    assert f"wk alerts act {alert_id} --rollback" in text and "wk models lineage credit" in text
    assert main(["--store", root, "alerts", "act", str(alert_id), "--rollback"]) == 2
    assert "--reason" in capsys.readouterr().err
    assert main(["--store", root, "alerts", "act", str(alert_id), "--rollback", "--reason",
                 "drift on income", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["action"] == "rollback" and out["result"]["to_version"] == 1
