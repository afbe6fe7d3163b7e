"""The acceptance of promotion policy auto with a real `wk scheduler`: a retrained version
under `auto` (the daemon runs the retrain job) reaches production by itself when its canary
period ends with no alert; the next one, with an alert injected on it during its period,
is rolled back at once by the daemon and the watch and the audit log name that alert.

The canary period is WK_CANARY_PERIOD_S seconds (3 in the suite); the acceptance run is
`WK_CANARY_PERIOD_S=120 .venv/bin/python -m pytest tests/test_canary_daemon.py -q`."""

from __future__ import annotations

import os
import time
from pathlib import Path

from canary_store import MODEL, firing_alert, notifications, rule_with_channels
from retrain_store import credit_spec, trained_in_production
from scheduler_harness import new_store, running_daemon, wait_for

from registry.promotion import set_model
from registry.training import train
from scheduler.canary import list_watches, start_canary
from scheduler.jobs_service import JobSettings, add_job, run_now
from serving.traffic import deployments
from store import audit as audit_store
from store.types import utcnow
from store.vocabulary import AuditAction

PERIOD_S = int(os.environ.get("WK_CANARY_PERIOD_S", "3"))
#: the acceptance run (WK_CANARY_PERIOD_S set) has the daemon run the retrain job for v2;
#: the suite starts v2's canary as that job does (the same start_canary, after the same
#: gate in test_canary.py), which spares it a retrain child of about seven seconds
REAL_RETRAIN = "WK_CANARY_PERIOD_S" in os.environ
#: the daemon decides every CANARY_S (2 s); a loaded machine gets a little more
DECIDE_S = 6.0
RETRAIN_S = 90.0


def _watch(store, version: int, status: str) -> dict | None:
    return next((w for w in list_watches(store, MODEL)
                 if w["version"] == version and w["status"] == status), None)


def test_auto_promotion_by_itself_and_rolled_back_by_an_alert(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = new_store(root)
    try:
        spec = credit_spec(tmp_path / "p")
        trained_in_production(store, spec)
        set_model(store, MODEL, policy="auto", canary_share=0.25, canary_period_s=PERIOD_S,
                  actor="tests")
        rule_with_channels(store, "credit-latency", ["ops-hook"])
        add_job(store, "nightly-retrain", "retrain", JobSettings(
            cron="0 3 * * *", model=MODEL, args={"spec": str(spec)}), actor="tests")
        credit_spec(tmp_path / "p", seed=2)  # newer rows for v2
        with running_daemon(root) as daemon:
            if REAL_RETRAIN:
                run_now(store, "nightly-retrain", actor="tests")
            else:
                assert train(store, str(spec), actor="tests")["version"]["version"] == 2
                start_canary(store, MODEL, 2, reason="retrain passed its gate", actor="tests")
            wait_for("v2 on its canary", lambda: _watch(store, 2, "watching"), RETRAIN_S, daemon)
            assert deployments.show(store, MODEL)["mode"] == "canary"
            promoted = wait_for("v2 promoted by itself", lambda: _watch(store, 2, "promoted"),
                                PERIOD_S + DECIDE_S + 5, daemon)
            assert deployments.show(store, MODEL)["champion"] == 2
            assert "no alert fired on v2" in promoted["note"]

            # v3 as the retrain would put it (the same start_canary), trained here: a second
            # retrain in the daemon's child costs the suite ten seconds and proves nothing more
            credit_spec(tmp_path / "p", seed=3)
            assert train(store, str(spec), actor="tests")["version"]["version"] == 3
            watch = start_canary(store, MODEL, 3, reason="retrain passed its gate", actor="tests")
            alert_id = firing_alert(store, 3, utcnow())
            injected = time.monotonic()
            rolled = wait_for("v3 rolled back", lambda: _watch(store, 3, "rolled_back"),
                              DECIDE_S, daemon)
            assert time.monotonic() - injected < DECIDE_S
            assert rolled["decided_at"] < watch["ends_at"]  # at once, not at the period's end
        assert rolled["alert_id"] == alert_id and f"alert {alert_id}" in rolled["note"]
        shown = deployments.show(store, MODEL)
        assert (shown["mode"], shown["champion"], shown["challenger"]) == ("single", 2, None)
        with store.db.read() as session:
            rollback = audit_store.list_events(session, action=AuditAction.CANARY_ROLLBACK)[0]
            assert audit_store.list_events(session, action=AuditAction.CANARY_PROMOTE)
        assert rollback.after["alert_id"] == alert_id
        kinds = [n.payload["alerts"][0]["labels"]["alertname"] for n in notifications(store)]
        assert kinds == ["canary-promoted", "canary-rolled-back"]
    finally:
        store.close()
