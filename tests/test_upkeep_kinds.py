"""The prune and backup job kinds, run as the daemon's child runs them: the kind's run
function with a RunContext on a real store."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from upkeep_store import bulk_log, bulk_store


def _context(store: Any, kind: str, args: dict[str, Any]) -> Any:
    from scheduler.kinds import kind_spec
    from scheduler.kinds.base import RunContext
    from store import jobs
    from store.job_tables import Job
    from store.vocabulary import JobTrigger

    spec = kind_spec(kind)
    checked = spec.checked_args(args)
    with store.db.write() as session:
        job = jobs.add_job(session, Job(name=f"{kind}-{len(jobs.list_jobs(session))}", kind=kind,
                                        args=checked, every_s=86400))
        run = jobs.queue_run(session, job, trigger=JobTrigger.RUN_NOW)
    return RunContext(store=store, job=job, run=run, args=checked, model=None,
                      log=logging.getLogger("test"))


def _seed_old_and_new(store: Any, logged: Any, now: Any) -> None:
    """Reports, rollups, quarantine, label tasks, probe answers and job runs, old and new."""
    from store.job_tables import JobRun, ProbeResult
    from store.report_tables import DriftReport, LabelTask, PerformanceReport, QualityReport
    from store.tables import MetricRollup, Quarantine

    old, new = now - timedelta(days=15), now - timedelta(days=2)
    model, version = logged.model_id, logged.version_ids[1]
    with store.db.write() as session:
        for at in (old, new):
            session.add(MetricRollup(model_id=model, version_id=version, route="champion",
                                     minute=at, count=3))
            session.add(DriftReport(model_id=model, window_start=at, window_end=at, status="ok"))
            session.add(QualityReport(model_id=model, window_start=at, window_end=at, status="ok"))
            session.add(PerformanceReport(model_id=model, version_id=version, window_start=at,
                                          window_end=at, status="ok"))
            session.add(Quarantine(at=at, model_id=model, source="api", reason="bad"))
            session.add(ProbeResult(url="http://x/readyz", at=at, ok=True))
        session.add(LabelTask(model_id=model, prediction_id="old-000000000"))
        session.add(LabelTask(model_id=model, prediction_id="old-000011999"))
        session.add(LabelTask(model_id=model, prediction_id="new-000000000"))
        for days, status in ((40, "succeeded"), (20, "failed"), (40, "running")):
            session.add(JobRun(job_name="x", kind="command", status=status,
                               queued_at=now - timedelta(days=days)))


def test_prune_deletes_only_old_rows_in_batches_and_keeps_rollups_and_reports(
        tmp_path: Path) -> None:
    from scheduler.kinds.prune import run
    from store.audit import list_events
    from store.types import utcnow

    now = utcnow()
    store, logged = bulk_store(tmp_path / "store", 12_000, start=now - timedelta(days=30),
                               step=timedelta(seconds=60), prefix="old")  # 8.3 days from -30
    bulk_log(store, logged, 3_000, start=now - timedelta(days=5), prefix="new")
    _seed_old_and_new(store, logged, now)
    counts_before = _counts(store)
    outcome = run(_context(store, "prune", {"days": 10}))
    after = _counts(store)
    deleted = outcome.result["deleted"]
    # the 60 rows of logged_store are from 2026-11-01: older than 10 days too
    assert deleted == {"prediction": 12_060, "label_task": 2, "quarantine": 1,
                       "probe_result": 1, "job_run": 1}
    assert outcome.rows == sum(deleted.values())
    assert after["prediction"] == 3_000 and after["label_task"] == 1
    for kept in ("metric_rollup", "drift_report", "quality_report", "performance_report"):
        assert after[kept] == counts_before[kept] == 2
    # the 40-day finished run went; the 20-day one stays (30-day costs), so does the running
    # one; the prune's own run was added
    assert after["job_run"] == counts_before["job_run"] - 1 + 1
    # 2,000 rows a transaction: 7 for the 12,060 predictions, one each for the other tables
    assert outcome.result["batches"] == 7 + 1 + 1 + 1 and outcome.result["batch_rows"] == 2000
    assert not outcome.result["space"]["reclaimed"]  # a new store has no incremental vacuum
    assert outcome.result["space"]["free_pages"] > 0
    event = list_events_one(store, list_events)
    assert event.after["deleted"] == deleted
    store.close()


def list_events_one(store: Any, list_events: Any) -> Any:
    with store.db.read() as session:
        events = list_events(session, action="store.prune")
    assert len(events) == 1
    return events[0]


def test_prune_gives_pages_back_once_the_store_has_incremental_vacuum(tmp_path: Path) -> None:
    from scheduler.kinds.prune import run
    from store.types import utcnow
    from store.vacuum import vacuum
    from store.wal import wal_status

    now = utcnow()
    store, _ = bulk_store(tmp_path / "store", 20_000, start=now - timedelta(days=40))
    vacuum(store)  # turns auto_vacuum=INCREMENTAL on
    before = wal_status(store)["db_bytes"]
    outcome = run(_context(store, "prune", {"days": 10, "vacuum": "incremental"}))
    assert outcome.result["space"]["reclaimed"] and outcome.rows == 20_060
    status = wal_status(store)
    assert status["free_pages"] == 0 and status["db_bytes"] < before / 4
    store.close()


def test_prune_deletes_run_logs_as_old_as_the_runs_it_deletes(store: Any) -> None:
    import os

    from scheduler.kinds.prune import run
    from scheduler.runner import logs_dir
    from store.types import utcnow

    folder = logs_dir(store)
    folder.mkdir(parents=True)
    old, recent = folder / "1.log", folder / "2.log"
    for path in (old, recent):
        path.write_text("a run's output\n")
    forty_days = (utcnow() - timedelta(days=40)).timestamp()
    os.utime(old, (forty_days, forty_days))
    outcome = run(_context(store, "prune", {"days": 7, "vacuum": "none"}))
    # job runs (and so their logs) are kept 30 days whatever the prune's days
    assert outcome.result["run_logs"] == 1 and not old.exists() and recent.exists()
    assert "(1 run logs)" in outcome.summary


def test_prune_options_are_checked() -> None:
    from scheduler.kinds import kind_spec
    from store.errors import InvalidInput

    spec = kind_spec("prune")
    with pytest.raises(InvalidInput, match="needs its days"):
        spec.checked_args({})
    with pytest.raises(InvalidInput, match="1 or more"):
        spec.checked_args({"days": 0})
    with pytest.raises(InvalidInput, match="incremental, full, none"):
        spec.checked_args({"days": 3, "vacuum": "sometimes"})
    assert spec.checked_args({"days": "90"}) == {"days": 90, "vacuum": "incremental"}


def test_backup_kind_writes_timestamped_copies_and_keeps_the_newest(tmp_path: Path) -> None:
    from scheduler.kinds import kind_spec
    from scheduler.kinds.backup import backups_in, run
    from store.backup import read_manifest
    from store.errors import InvalidInput

    with pytest.raises(InvalidInput, match="keep must be 1 or more"):
        kind_spec("backup").checked_args({"dest": "/backups", "keep": 0})
    relative = kind_spec("backup").checked_args({"dest": "relative/folder"})
    assert relative == {"dest": str(Path.cwd() / "relative" / "folder"), "keep": 7}
    store, _ = bulk_store(tmp_path / "store", 1_000)
    dest = tmp_path / "backups"
    outcomes = [run(_context(store, "backup", {"dest": str(dest), "keep": 2})) for _ in range(3)]
    kept = backups_in(dest)
    assert [p.name for p in kept] == [Path(o.result["dest"]).name for o in outcomes[1:]]
    assert sorted(p.name for p in dest.iterdir()) == [p.name for p in kept]  # no partials left
    assert outcomes[2].result["removed"] == [Path(outcomes[0].result["dest"]).name]
    assert all(o.result["check_ok"] for o in outcomes)
    manifest = read_manifest(kept[-1])
    assert manifest is not None and manifest["counts"]["prediction"] == 1_060
    store.close()


def _counts(store: Any) -> dict[str, int]:
    import sqlite3

    conn = sqlite3.connect(store.location.db_path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()
