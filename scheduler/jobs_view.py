"""What the CLI and the console show of jobs and runs: the timetable with next and last
runs, one job with its recent runs, the ledger, one run with its log, and the daemon's
heartbeat. Read-only; one short read transaction each.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from scheduler.jobs_service import describe
from scheduler.schedule import trigger_for
from store import jobs as job_rows
from store.models import find_model, models_by_ids
from store.probes import uptime
from store.scheduler_lease import STALE_S
from store.types import utcnow
from store.vocabulary import JobKind

if TYPE_CHECKING:
    from store.handle import Store
    from store.job_tables import Job, JobRun, SchedulerDaemon

#: a heartbeat older than this means the daemon is down (the lease's own bound)
HEARTBEAT_STALE_S = float(STALE_S)


def next_run(job: Job, now: datetime) -> datetime | None:
    """The next slot of a scheduled job that is not paused (None: paused or `after` only),
    in the job's own time zone (the triggers answer in UTC)."""
    if job.paused:
        return None
    trigger = trigger_for(job)
    moment = trigger.get_next_fire_time(None, now) if trigger else None
    return moment.astimezone(ZoneInfo(job.timezone)) if moment is not None else None


def run_row(run: JobRun, model: str | None = None) -> dict[str, Any]:
    return {
        "id": run.id, "job": run.job_name, "kind": run.kind, "model": model,
        "trigger": run.trigger, "scheduled_for": run.scheduled_for, "attempt": run.attempt,
        "status": run.status, "queued_at": run.queued_at, "started_at": run.started_at,
        "ended_at": run.ended_at, "exit_code": run.exit_code, "signal": run.signal,
        "cpu_s": run.cpu_s, "peak_memory_mb": run.peak_memory_mb, "wall_s": run.wall_s,
        "rows": run.rows, "error": run.error, "note": run.note, "requested_by": run.requested_by,
    }


def daemon_state(daemon: SchedulerDaemon | None, now: datetime | None = None) -> dict[str, Any]:
    """The daemon as the CLI and the console show it: up (a fresh heartbeat), stopped
    (it said so), or down (silent), with who holds the store."""
    now = now or utcnow()
    if daemon is None:
        return {"state": "never", "detail": "no scheduler has run on this store"}
    age = (now - daemon.heartbeat_at).total_seconds()
    if daemon.stopped_at is not None and daemon.stopped_at >= daemon.heartbeat_at:
        state = "stopped"
    else:
        state = "up" if age <= HEARTBEAT_STALE_S else "down"
    return {"state": state, "host": daemon.host, "pid": daemon.pid, "user": daemon.user,
            "since": daemon.started_at, "heartbeat_at": daemon.heartbeat_at,
            "heartbeat_age_s": round(age, 1), "stopped_at": daemon.stopped_at,
            "jobs": daemon.jobs, "running": daemon.running, "wal_bytes": daemon.wal_bytes,
            "note": daemon.note}


def scheduler_state(store: Store, now: datetime | None = None) -> dict[str, Any]:
    with store.db.read() as session:
        return daemon_state(job_rows.daemon_row(session), now)


def list_jobs(store: Store, now: datetime | None = None) -> dict[str, Any]:
    """Every job with its schedule, next and last run, and the daemon's state (next runs
    and the heartbeat's age as of `now`: the console passes its clock)."""
    now = now or utcnow()
    with store.db.read() as session:
        jobs = job_rows.list_jobs(session)
        last = job_rows.last_runs(session)
        rows = []
        for job in jobs:
            row = describe(session, job)
            latest = last.get(job.id) if job.id is not None else None
            row["next_run"] = next_run(job, now)
            row["last_run"] = run_row(latest) if latest else None
            rows.append(row)
        daemon = daemon_state(job_rows.daemon_row(session), now)
    return {"jobs": rows, "scheduler": daemon}


def show_job(store: Store, name: str, limit: int = 20) -> dict[str, Any]:
    now = utcnow()
    with store.db.read() as session:
        job = job_rows.get_job(session, name)
        out = describe(session, job)
        out["next_run"] = next_run(job, now)
        out["created_at"], out["created_by"] = job.created_at, job.created_by
        out["updated_at"], out["updated_by"] = job.updated_at, job.updated_by
        out["state"] = job.state or {}
        out["followers"] = [f.name for f in job_rows.followers(session, job.id or 0)]
        out["runs"] = [run_row(r, out["model"]) for r in job_rows.list_runs(session, job_name=name,
                                                                             limit=limit)]
        if job.kind == JobKind.PROBE and job.id is not None:
            out["uptime"] = {span: uptime(session, job.id, now - timedelta(days=days))
                             for span, days in (("24h", 1), ("7d", 7))}
    return out


def list_runs(store: Store, *, job: str | None = None, model: str | None = None,
              status: str | None = None, since: timedelta | None = None,
              limit: int = 50) -> list[dict[str, Any]]:
    with store.db.read() as session:
        if job is not None and job_rows.find_job(session, job) is None \
                and not job_rows.list_runs(session, job_name=job, limit=1):
            job_rows.get_job(session, job)  # neither a job nor the runs of a removed one: raises
        model_id = None
        if model is not None:
            found = find_model(session, model)
            if found is None:
                from store.models import get_model

                get_model(session, model)  # raises the not-found error with the model list
            model_id = found.id if found else None
        runs = job_rows.list_runs(session, job_name=job, model_id=model_id, status=status,
                                  since=utcnow() - since if since else None, limit=limit)
        names = models_by_ids(session, [r.model_id for r in runs if r.model_id is not None])
    return [run_row(r, names[r.model_id].name if r.model_id in names else None) for r in runs]


def show_run(store: Store, run_id: int, *, full_log: bool = False) -> dict[str, Any]:
    from pathlib import Path

    with store.db.read() as session:
        run = job_rows.get_run(session, run_id)
        names = models_by_ids(session, [run.model_id] if run.model_id else [])
        out = run_row(run, names[run.model_id].name if run.model_id in names else None)
    out.update(host=run.host, daemon_pid=run.daemon_pid, pid=run.pid, result=run.result or {},
               log_path=run.log_path, log_tail=run.log_tail, first_run_id=run.first_run_id,
               not_before=run.not_before)
    if full_log and run.log_path and Path(run.log_path).is_file():
        out["log"] = Path(run.log_path).read_text(errors="replace")
    return out
