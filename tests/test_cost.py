"""Cost visibility: the runs' resources summed per model and per job over 7 and 30 days,
money from the store's prices, disk per model against the files, and the memory a server
measures when it loads a version."""

from __future__ import annotations

import argparse
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from upkeep_store import bulk_store


def _runs(store: Any, model_id: int, now: Any) -> None:
    from store.job_tables import JobRun

    rows = [  # (job, model, days ago, cpu s, wall s, peak MB)
        ("nightly-drift", model_id, 1, 360.0, 400.0, 300.0),
        ("nightly-drift", model_id, 5, 720.0, 800.0, 500.0),
        ("nightly-drift", model_id, 20, 3600.0, 3700.0, 200.0),
        ("nightly-drift", model_id, 40, 9999.0, 9999.0, 999.0),  # outside both windows
        ("backup", None, 2, 180.0, 200.0, 100.0),
    ]
    with store.db.write() as session:
        for job, model, days, cpu, wall, peak in rows:
            at = now - timedelta(days=days)
            session.add(JobRun(job_name=job, kind="drift" if model else "backup", model_id=model,
                               status="succeeded", queued_at=at, started_at=at, ended_at=at,
                               cpu_s=cpu, wall_s=wall, peak_memory_mb=peak, rows=10))
        session.add(JobRun(job_name="nightly-drift", kind="drift", model_id=model,
                           status="queued", queued_at=now))  # never started: costs nothing


def test_cost_sums_per_model_and_job_over_7_and_30_days_with_money(tmp_path: Path) -> None:
    from scheduler.cost_report import cost_report, usage_report
    from store.types import utcnow

    store, logged = bulk_store(tmp_path / "store", 2_000)
    _runs(store, logged.model_id, utcnow())
    week = cost_report(store, 7)
    tiny = next(m for m in week["models"] if m["model"] == "tiny")
    assert (tiny["runs"], tiny["cpu_s"], tiny["wall_s"], tiny["peak_memory_mb"]) == (2, 1080.0, 1200.0, 500.0)
    assert tiny["cpu_hours"] == pytest.approx(0.3) and tiny["cpu_cost"] is None  # no prices yet
    assert week["prices"]["configured"] is False
    store_jobs = next(m for m in week["models"] if m["model"] is None)
    assert store_jobs["cpu_s"] == 180.0
    assert [(j["job"], j["runs"]) for j in week["jobs"]] == [("backup", 1), ("nightly-drift", 2)]
    assert week["totals"]["cpu_s"] == 1260.0 and week["totals"]["runs"] == 3

    (store.location.root / "watchkeeper.toml").write_text("[cost]\ncpu_hour = 0.05\ngb_month = 0.10\n")
    month = cost_report(store, 30, model="tiny")
    tiny = month["models"][0]
    assert [m["model"] for m in month["models"]] == ["tiny"]
    assert tiny["runs"] == 3 and tiny["cpu_s"] == 4680.0
    assert tiny["cpu_cost"] == pytest.approx(1.3 * 0.05, abs=1e-4)
    disk = usage_report(store)["models"][0]["total_bytes"]
    assert tiny["disk_bytes"] == disk > 0
    assert tiny["monthly"]["cpu"] == pytest.approx(1.3 * 0.05, abs=1e-4)
    assert tiny["monthly"]["disk"] == pytest.approx(disk / 1e9 * 0.10, abs=1e-4)
    assert tiny["monthly"]["total"] == pytest.approx(tiny["monthly"]["cpu"] + tiny["monthly"]["disk"])
    # a week's CPU money covers the week; the month's figure is always the last 30 days
    assert cost_report(store, 7, model="tiny")["models"][0]["monthly"] == tiny["monthly"]
    store.close()


def test_prices_that_are_not_numbers_are_refused(tmp_path: Path, store: Any) -> None:
    from scheduler.cost_report import cost_report
    from store.errors import InvalidInput

    (store.location.root / "watchkeeper.toml").write_text('[cost]\ncpu_hour = "cheap"\n')
    with pytest.raises(InvalidInput, match="cpu_hour .* must be a number"):
        cost_report(store, 7)
    (store.location.root / "watchkeeper.toml").write_text("[cost\n")
    with pytest.raises(InvalidInput, match="not valid TOML"):
        cost_report(store, 7)


def test_usage_matches_the_files_and_says_how_log_bytes_were_found(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import store.usage
    from scheduler.cost_report import usage_report
    from store.integrity import registered_artifacts

    st, logged = bulk_store(tmp_path / "store", 20_000)
    report = usage_report(st)
    tiny = report["models"][0]
    files = [st.location.artifacts_dir / f"{sha}.skops" for sha in registered_artifacts(st)]
    assert tiny["artifacts_bytes"] == sum(f.stat().st_size for f in files)
    assert tiny["artifact_files"] == 2 and tiny["predictions_rows"] == 20_060
    assert report["method"]["table_bytes"] == "dbstat"
    db = st.location.db_path.stat().st_size + report["totals"]["wal_bytes"]
    assert 20_060 * 150 < tiny["predictions_bytes"] < db  # each row holds ~150 bytes of JSON
    assert report["totals"]["store_bytes"] == db + report["totals"]["artifacts_bytes"]
    monkeypatch.setattr(store.usage, "_has_dbstat", lambda conn: False)
    estimated = usage_report(st)
    assert estimated["method"]["table_bytes"] == "estimate"
    ratio = estimated["models"][0]["predictions_bytes"] / tiny["predictions_bytes"]
    assert 0.5 < ratio < 1.5
    st.close()


def _served_store(root: Path) -> Any:
    """Two versions of a numeric logistic regression, v1 in production (no pipeline to
    train: the load is what is measured)."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from registry.aliases import promote
    from registry.registration import register_estimator
    from store.handle import init_store

    st, _ = init_store(root)
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    label = (frame.a + frame.b > 0).astype(int)
    for c in (1.0, 0.1):
        register_estimator(st, "num", LogisticRegression(C=c).fit(frame, label), training_data=frame)
    promote(st, "num", 1, "production", reason="tests")
    return st


def test_a_server_records_the_memory_of_each_version_it_loads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import store.usage
    from registry.aliases import promote
    from scheduler.cost_report import usage_report
    from serving.traffic.state import ServingState

    st = _served_store(tmp_path / "store")
    state = ServingState(st)
    assert state.refresh()
    for thread in state.cache.recorders:
        thread.join(10)
    served = usage_report(st)["models"][0]["served_memory"]
    assert [s["version"] for s in served] == [1]
    assert served[0]["bytes"] > 500 and served[0]["pid"] > 0  # a 3-input LR: ~1 KB

    def refuse(*_a: Any) -> None:
        raise RuntimeError("the store is locked")

    monkeypatch.setattr(store.usage, "record_served_memory", refuse)
    promote(st, "num", 2, "production", reason="tests")
    with caplog.at_level(logging.WARNING):
        assert state.refresh()
        for thread in state.cache.recorders:
            thread.join(10)
    assert state.models["num"].champion is not None and state.models["num"].champion.version == 2
    assert "could not record the memory" in caplog.text
    st.close()


def test_add_cost_commands_gives_the_jobs_noun_a_cost_verb(tmp_path: Path, capsys: Any) -> None:
    from console.cli.job_cost import add_cost_commands
    from console.cli.parser import Commands, common_options
    from store.types import utcnow

    st, logged = bulk_store(tmp_path / "store", 100)
    _runs(st, logged.model_id, utcnow())
    common = common_options()
    parser = argparse.ArgumentParser(prog="wk", parents=[common])
    nouns = Commands(parser.add_subparsers(dest="command"), common)
    add_cost_commands(nouns.noun("jobs", help="jobs"))
    args = parser.parse_args(["jobs", "cost", "--days", "7", "--store", str(st.location.root)])
    args.json = getattr(args, "json", False)
    module, func = args.handler.split(":")
    import importlib

    assert getattr(importlib.import_module(module), func)(args) == 0
    out = capsys.readouterr()
    assert "nightly-drift" in out.out and "tiny" in out.out and "not set" in out.out
    with pytest.raises(SystemExit):
        parser.parse_args(["jobs", "cost", "--days", "9"])
    st.close()


def test_a_forests_measured_memory_covers_its_tree_nodes() -> None:
    """scikit-learn allocates tree nodes with malloc: the objects' own sizes miss them."""
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier

    from serving.scoring.load_memory import measured_load, object_bytes
    from store.artifacts import dumps_estimator, loads_estimator

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 4))
    y = (X[:, 0] + rng.normal(size=2000) > 0).astype(int)
    data = dumps_estimator(RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y))
    loaded, malloc_bytes = measured_load(lambda: loads_estimator(data))
    nodes = sum(t.tree_.node_count * (64 + 16) for t in loaded.estimators_)  # node + 2 values
    assert max(malloc_bytes, object_bytes(loaded)) >= nodes > object_bytes(loaded)
