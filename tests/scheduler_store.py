"""A small store with scheduled jobs and their runs, for the console's scheduler tests.

Jobs are added through scheduler.jobs_service.add_job (audited, as `wk jobs add`);
runs are JobRun rows written in a store session at fixed times before the test clock
(no daemon runs: tests/test_console_scheduler.py must not need one). Every job is of
kind `command`, the one kind every branch has.

What it holds (times relative to NOW, 2026-11-21 09:00 UTC):

- models credit-default and store-demand (no versions: the jobs only name them);
- nightly-retrain (credit-default, cron 0 2 * * *): run 1 succeeded at 02:00 (its result:
  v2, pending approval), run 4
  failed at 08:00 with an error and a log tail;
- hourly-drift (credit-default, every 1h): run 2 succeeded, run 5 running since 08:58;
- demand-score (store-demand, every 15m, paused): run 3 timed out (SIGKILL);
- store-backup (no model, cron 30 3 * * *): never ran; run 6 missed, with a catch-up note.
- approvals (add_approval): credit-default v1 production, v2 pending with its report
  (a Markdown and an HTML file under the store) and summary: roc_auc 0.8291 against
  0.8134, the gate passed, income drifted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from registry.models import ensure_model
from scheduler.jobs_service import JobSettings, add_job
from store.handle import Store, init_store
from store.job_tables import Job, JobRun, SchedulerDaemon
from store.vocabulary import JobRunStatus, JobTrigger

ACTOR = "oncall"
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)

JOBS: tuple[tuple[str, str | None, JobSettings, bool], ...] = (
    ("nightly-retrain", "credit-default", JobSettings(cron="0 2 * * *"), False),
    ("hourly-drift", "credit-default", JobSettings(every="1h"), False),
    ("demand-score", "store-demand", JobSettings(every="15m"), True),
    ("store-backup", None, JobSettings(cron="30 3 * * *"), False),
)
FAILED_ERROR = "python retrain.py exited with 1"
FAILED_LOG = "\n".join(["loading 13105 rows", "training LogisticRegression(C=0.5)",
                        "Traceback (most recent call last):", '  File "retrain.py", line 12',
                        "ValueError: Input X contains NaN (column income)"])


def _run(job: Job, minutes_before: float, status: str, **fields: Any) -> JobRun:
    start = NOW - timedelta(minutes=minutes_before)
    ended = status not in (JobRunStatus.RUNNING, JobRunStatus.QUEUED, JobRunStatus.MISSED)
    wall = fields.pop("wall_s", 42.5)
    return JobRun(job_id=job.id, job_name=job.name, kind=job.kind, model_id=job.model_id,
                  trigger=fields.pop("trigger", JobTrigger.SCHEDULE), scheduled_for=start,
                  status=status, queued_at=start, started_at=start if status != JobRunStatus.MISSED
                  else None, ended_at=start + timedelta(seconds=wall) if ended else None,
                  wall_s=wall if ended else None, host="ops-1", daemon_pid=4242, **fields)


def build_scheduler_store(root: Path) -> Store:
    """Create the store at `root` (a fresh SQLite store) with the jobs and runs above."""
    store, created = init_store(root)
    assert created, f"{root} holds a store already"
    with store.db.write() as session:
        for model in ("credit-default", "store-demand"):
            ensure_model(session, model, actor=ACTOR)
    for name, model, settings, paused in JOBS:
        settings.model = model
        settings.args = {"command": f"python {name}.py"}
        add_job(store, name, "command", settings, paused=paused, actor=ACTOR)
    with store.db.write() as session:
        jobs = {j.name: j for j in session.exec(select(Job)).all()}
        retrain, drift, score, backup = (jobs[n] for n, *_ in JOBS)
        for i, job in enumerate(jobs.values()):  # `every` slots are anchored at creation
            job.created_at = job.updated_at = NOW - timedelta(days=2, minutes=10 * i + 7)
            session.add(job)
        session.add_all([
            _run(retrain, 420, JobRunStatus.SUCCEEDED, exit_code=0, cpu_s=38.21,
                 peak_memory_mb=412.3, rows=13105, log_tail="loading 13105 rows\ngate passed",
                 result={"version": 2, "approval": "pending"}),
            _run(drift, 120, JobRunStatus.SUCCEEDED, exit_code=0, cpu_s=3.4, peak_memory_mb=96.0,
                 rows=2700, wall_s=4.1),
            _run(score, 75, JobRunStatus.TIMED_OUT, signal=9, cpu_s=880.0, peak_memory_mb=1536.0,
                 wall_s=900.0, error="timed out after 900 s: process group killed"),
            _run(retrain, 60, JobRunStatus.FAILED, exit_code=1, cpu_s=1.92, peak_memory_mb=188.4,
                 wall_s=3.2, error=FAILED_ERROR, log_tail=FAILED_LOG, trigger=JobTrigger.RUN_NOW,
                 requested_by="ana"),
            _run(drift, 2, JobRunStatus.RUNNING, pid=5151),
            _run(backup, 330, JobRunStatus.MISSED, note="missed 3 while down, ran 0 (catch-up skip)"),
        ])
    return store


REPORT_MD = """# credit-default v2 against production v1

Same holdout: 2,496 rows (split time).

## Metrics

| metric | v2 | production v1 | delta |
|---|---|---|---|
| roc_auc | 0.8291 | 0.8134 | +0.0157 |
| accuracy | 0.8127 | 0.8010 | +0.0117 |

## Gate

passed: roc_auc 0.8291 >= 0.75

## Training data against production's

income drifted (KS p=0.0003)
"""
SUMMARY = {"candidate": 2, "production": 1, "holdout_rows": 2496, "gate_passed": True,
           "drift_status": "compared", "drifted": ["income"],
           "metrics": {"roc_auc": {"candidate": 0.8291, "production": 0.8134, "delta": 0.0157,
                                   "better": True},
                       "accuracy": {"candidate": 0.8127, "production": 0.801, "delta": 0.0117,
                                    "better": True}}}


def add_approval(store: Store, folder: Path | None = None) -> Path:
    """credit-default v1 (production) and v2, pending approval with its report (written in
    `folder`, by default under the store as a retrain writes it); returns the HTML's path."""
    from registry.aliases import promote
    from registry.approvals import request_approval
    from registry.registration import insert_version
    from store import models as model_store

    for number in (1, 2):
        artifact = store.artifacts.put_bytes(f"scheduler fixture: credit-default v{number}\n".encode())
        with store.db.write() as session:
            insert_version(session, model_store.get_model(session, "credit-default"), artifact,
                           actor=ACTOR, flavor="sklearn.linear_model.LogisticRegression",
                           signature=None, example=None, metrics={"roc_auc": 0.81}, params={},
                           run_id=None, source="register", code_version=None, environment=None)
    promote(store, "credit-default", 1, "production", reason="first release", actor=ACTOR)
    folder = folder or store.location.root / "reports" / "approvals" / "credit-default"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "v2.md").write_text(REPORT_MD)
    (folder / "v2.html").write_text("<html><body><h1>credit-default v2</h1></body></html>")
    request_approval(store, "credit-default", 2, report_md=str(folder / "v2.md"),
                     report_html=str(folder / "v2.html"), summary=SUMMARY, actor="scheduler")
    with store.db.write() as session:  # requested 40 minutes before the test clock
        from store.job_tables import ApprovalRequest

        for row in session.exec(select(ApprovalRequest)).all():
            row.requested_at = NOW - timedelta(minutes=40)
            session.add(row)
    return folder / "v2.html"


def set_daemon(store: Store, *, beat_minutes_ago: float, stopped: bool = False) -> None:
    """The daemon's row as a daemon that last beat `beat_minutes_ago` before NOW left it."""
    beat = NOW - timedelta(minutes=beat_minutes_ago)
    with store.db.write() as session:
        row = session.get(SchedulerDaemon, 1) or SchedulerDaemon(id=1, host="ops-1", pid=4242)
        row.started_at, row.heartbeat_at = NOW - timedelta(days=2), beat
        row.stopped_at = beat if stopped else None
        row.jobs, row.running = 4, 1
        session.add(row)


PRICES = '[cost]\ncpu_hour = 0.05\ngb_month = 0.10\ncurrency = "EUR"\n'


def add_usage(store: Store) -> None:
    """Runs 8 and 12 days before NOW, beyond the 7-day window and within the 30-day one
    (build_scheduler_store's runs are all within both), a server's measurement of
    credit-default v1 (versions from add_approval) and the store's prices."""
    from store.tables import ModelVersion
    from store.usage import record_served_memory

    with store.db.write() as session:
        jobs = {j.name: j for j in session.exec(select(Job)).all()}
        for job, days, cpu, peak in (("nightly-retrain", 8, 1800.0, 2048.0),
                                     ("nightly-retrain", 12, 1700.0, 1900.0),
                                     ("store-backup", 8, 12.0, 64.0)):
            start = NOW - timedelta(days=days)
            session.add(JobRun(job_id=jobs[job].id, job_name=job, kind="command",
                               model_id=jobs[job].model_id, status=JobRunStatus.SUCCEEDED,
                               queued_at=start, started_at=start, ended_at=start,
                               cpu_s=cpu, wall_s=cpu * 1.25, peak_memory_mb=peak))
        v1 = session.exec(select(ModelVersion).where(ModelVersion.version == 1)).first()
        assert v1 is not None and v1.id is not None
        version_id = v1.id
    record_served_memory(store, version_id, 180 * 2**20)
    (store.location.root / "watchkeeper.toml").write_text(PRICES)
