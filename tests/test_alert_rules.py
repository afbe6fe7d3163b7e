"""Every alert kind on a real store: one rule per kind, evaluated by the pass three times
at explicit times — first with nothing to read (insufficient data: never fires, never
resolves), then with data that breaks each bound (holds), then with healthy data (clear)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from alert_store import (
    add_drift,
    add_job,
    add_performance,
    add_probes,
    add_quality,
    add_rollups,
    add_run,
    build_alert_store,
    conditions,
    set_heartbeat,
)

from monitoring import alert_pass
from monitoring.alert_service import add_rule
from store.types import utcnow

RULES = {
    "drift-income": dict(kind="drift", model="credit", feature="income"),
    "drift-input": dict(kind="drift", model="credit", params={"scope": "input"}),
    "quality": dict(kind="quality", model="credit"),
    "perf": dict(kind="performance", model="credit", params={"margin": 0.05}),
    "perf-est": dict(kind="performance-estimated", model="credit", params={"margin": 0.05}),
    "latency": dict(kind="latency", model="credit", params={"p95_ms": 100, "window_s": 600}),
    "errors": dict(kind="error-rate", model="credit", params={"rate": 0.05, "window_s": 600}),
    "traffic": dict(kind="traffic", model="credit", params={"factor": 3, "window_s": 600}),
    "age": dict(kind="model-age", model="credit"),
    "job": dict(kind="job-failed", job="nightly"),
    "heartbeat": dict(kind="heartbeat", params={"max_age_s": 120}),
    "probe": dict(kind="probe", job="probe-api", params={"uptime": 0.9, "window_s": 600}),
    "disk": dict(kind="disk", params={"min_free_share": 0.1}),
    "memory": dict(kind="server-memory", job="probe-api", params={"rss_mb": 1000}),
    "cpu": dict(kind="server-cpu", job="probe-api", params={"share": 0.5}),
}


def test_each_kind_insufficient_then_holds_then_clears(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from registry.promotion import set_model

    store, ids = build_alert_store(tmp_path / "store")
    nightly = add_job(store, "nightly")
    probe = add_job(store, "probe-api", kind="probe", args={"url": "http://127.0.0.1:8000"})
    for name, settings in RULES.items():
        add_rule(store, name=name, channels=["hook"], **settings)  # type: ignore[arg-type]
    disk: dict[str, tuple[int | None, int | None]] = {"now": (None, None)}
    monkeypatch.setattr(alert_pass, "disk_usage_of", lambda _store: disk["now"])
    t0 = utcnow() + timedelta(days=2)

    alert_pass.evaluate(store, now=t0)
    assert conditions(store) == {name: ["insufficient"] for name in RULES}

    t1 = t0 + timedelta(hours=1)
    add_drift(store, ids, t1, {"income"})
    add_quality(store, ids, t1, "failed")
    add_performance(store, ids, t1, realised=0.70, estimated=0.71)
    add_rollups(store, ids, t1, 10, per_minute=20, errors=5, bucket=13)  # 250-500 ms, 20% refused
    add_rollups(store, ids, t1 - timedelta(days=1), 10, per_minute=200)  # a day earlier: 10x
    set_model(store, "credit", max_age_days=1)
    add_run(store, nightly, "nightly", t1 - timedelta(minutes=5), "failed")
    set_heartbeat(store, t1 - timedelta(minutes=10))
    add_probes(store, probe, t1, [(False, 1500.0, 100.0 + 25 * i) for i in range(6)])
    disk["now"] = (2 * 2**30, 100 * 2**30)
    alert_pass.evaluate(store, now=t1)
    got = conditions(store)
    assert got.pop("drift-income") == ["holds"]
    assert got == {name: ["holds"] for name in RULES if name != "drift-income"}

    t2 = t1 + timedelta(hours=1)
    add_drift(store, ids, t2, set())
    add_quality(store, ids, t2, "ok")
    add_performance(store, ids, t2, realised=0.81, estimated=0.82)
    add_rollups(store, ids, t2, 10, per_minute=200, bucket=5)
    add_rollups(store, ids, t2 - timedelta(days=1), 10, per_minute=200)
    set_model(store, "credit", max_age_days=30)
    add_run(store, nightly, "nightly", t2 - timedelta(minutes=5), "succeeded")
    set_heartbeat(store, t2 - timedelta(seconds=5))
    add_probes(store, probe, t2, [(True, 300.0, 200.0 + 3 * i) for i in range(6)])
    disk["now"] = (50 * 2**30, 100 * 2**30)
    summary = alert_pass.evaluate(store, now=t2)
    assert conditions(store) == {name: ["clear"] for name in RULES}
    assert summary.rules == len(RULES) and summary.targets == len(RULES)
    assert summary.transitions.get("resolved") == len(RULES)  # every one fired at 1 of 1


def test_drift_without_a_feature_has_one_target_per_feature(tmp_path: Path) -> None:
    store, ids = build_alert_store(tmp_path / "store")
    add_rule(store, name="drift-any", kind="drift", model="credit", channels=["hook"])
    now = utcnow()
    add_drift(store, ids, now, {"income", "purpose"})
    alert_pass.evaluate(store, now=now)
    from monitoring.alerts_view import list_alerts

    firing = list_alerts(store)
    assert sorted(a["feature"] for a in firing) == ["income", "purpose"]
    assert {a["state"] for a in firing} == {"firing"}
    # a report with too few rows says nothing: the alerts stay, none resolves
    add_drift(store, ids, now + timedelta(hours=1), set(), rows=30, status="insufficient")
    alert_pass.evaluate(store, now=now + timedelta(hours=1))
    assert sorted(a["feature"] for a in list_alerts(store)) == ["income", "purpose"]
