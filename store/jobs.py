"""Reads and writes of jobs and reads of their runs. Functions take an open Session; the
caller owns the transaction (and writes the audit event in it).

The daemon's own transitions of a run (start, finish, abandon) are in store/run_ledger.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from store.errors import Conflict, NotFound
from store.job_tables import Job, JobRun, SchedulerDaemon
from store.rows import id_of
from store.types import utcnow
from store.vocabulary import JobRunStatus, JobTrigger


def find_job(session: Session, name: str) -> Job | None:
    return session.exec(select(Job).where(Job.name == name)).first()


def get_job(session: Session, name: str) -> Job:
    job = find_job(session, name)
    if job is None:
        names = [n for n in session.exec(select(Job.name).order_by(col(Job.name)))]
        hint = f" (jobs: {', '.join(names[:8])}{'...' if len(names) > 8 else ''})" if names else \
            " (there are no jobs yet)"
        raise NotFound(f"no job {name!r}{hint}", field="job")
    return job


def list_jobs(session: Session) -> Sequence[Job]:
    return session.exec(select(Job).order_by(col(Job.name))).all()


def add_job(session: Session, job: Job) -> Job:
    if find_job(session, job.name) is not None:
        raise Conflict(f"a job named {job.name!r} exists already: choose another name, or "
                       "edit that job", field="name")
    session.add(job)
    session.flush()
    return job


def touch(job: Job, actor: str) -> None:
    """Mark an edit: the daemon rebuilds a job whose revision moved."""
    job.revision += 1
    job.updated_at, job.updated_by = utcnow(), actor


def followers(session: Session, job_id: int) -> Sequence[Job]:
    """The jobs that run after `job_id` succeeds."""
    return session.exec(select(Job).where(Job.after_job_id == job_id)).all()


def after_chain(session: Session, job_id: int | None) -> list[int]:
    """The ids `job_id` runs after, nearest first (stops at a repeat, so a cycle ends)."""
    chain: list[int] = []
    while job_id is not None and job_id not in chain:
        chain.append(job_id)
        job = session.get(Job, job_id)
        job_id = job.after_job_id if job else None
    return chain


def remove_job(session: Session, job: Job) -> None:
    """Delete the job; its runs stay in the ledger under its name (job_id goes NULL).
    The caller refuses a job others run after."""
    job_id = id_of(job)
    for run in session.exec(select(JobRun).where(JobRun.job_id == job_id)):
        run.job_id = None
        session.add(run)
    session.delete(job)


def queue_run(session: Session, job: Job, *, trigger: str, requested_by: str = "",
              scheduled_for: datetime | None = None, attempt: int = 1,
              first_run_id: int | None = None, not_before: datetime | None = None,
              note: str = "") -> JobRun:
    """A queued run of `job`: the daemon starts it when `not_before` has passed."""
    run = JobRun(job_id=id_of(job), job_name=job.name, kind=job.kind, model_id=job.model_id,
                 trigger=trigger, scheduled_for=scheduled_for, attempt=attempt,
                 first_run_id=first_run_id, not_before=not_before, requested_by=requested_by,
                 note=note, status=JobRunStatus.QUEUED)
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, run_id: int) -> JobRun:
    run = session.get(JobRun, run_id)
    if run is None:
        newest = session.exec(select(func.max(JobRun.id))).one()
        raise NotFound(f"no job run {run_id}" + (f" (the newest is {newest})" if newest else
                                                 " (no job has run yet)"), field="run")
    return run


def list_runs(session: Session, *, job_name: str | None = None, model_id: int | None = None,
              status: str | None = None, since: datetime | None = None,
              limit: int = 50) -> Sequence[JobRun]:
    """Newest first, filtered by job name, model, status and time."""
    query = select(JobRun)
    if job_name is not None:
        query = query.where(JobRun.job_name == job_name)
    if model_id is not None:
        query = query.where(JobRun.model_id == model_id)
    if status is not None:
        query = query.where(JobRun.status == status)
    if since is not None:
        query = query.where(col(JobRun.queued_at) >= since)
    return session.exec(query.order_by(col(JobRun.id).desc()).limit(limit)).all()


def last_runs(session: Session) -> dict[int, JobRun]:
    """The newest run of each job, by job id (one query)."""
    newest = (select(func.max(JobRun.id)).where(col(JobRun.job_id).is_not(None))
              .group_by(col(JobRun.job_id)))
    rows = session.exec(select(JobRun).where(col(JobRun.id).in_(newest.scalar_subquery())))
    return {run.job_id: run for run in rows if run.job_id is not None}


def pending_run_now(session: Session, job_id: int) -> JobRun | None:
    """A run-now request of the job that has not started yet."""
    return session.exec(select(JobRun).where(
        JobRun.job_id == job_id, JobRun.status == JobRunStatus.QUEUED,
        JobRun.trigger == JobTrigger.RUN_NOW)).first()


def job_summary(job: Job) -> dict[str, Any]:
    """A job's columns as plain data (for --json, screens and the audit log)."""
    return {
        "id": job.id, "name": job.name, "kind": job.kind, "args": job.args or {},
        "cron": job.cron, "every_s": job.every_s, "after_job_id": job.after_job_id,
        "timezone": job.timezone, "paused": job.paused, "catch_up": job.catch_up,
        "catch_up_limit": job.catch_up_limit, "misfire_grace_s": job.misfire_grace_s,
        "timeout_s": job.timeout_s, "deadline_s": job.deadline_s, "retries": job.retries,
        "backoff_s": job.backoff_s, "memory_mb": job.memory_mb, "revision": job.revision,
    }


def daemon_row(session: Session) -> SchedulerDaemon | None:
    """The scheduler daemon's lease and heartbeat (None: no daemon ever ran on the store)."""
    return session.get(SchedulerDaemon, 1)


def failed_runs_since(session: Session, since: datetime) -> Sequence[JobRun]:
    """Runs that ended badly (failed, timed out, abandoned) since `since`, newest first."""
    bad = (JobRunStatus.FAILED, JobRunStatus.TIMED_OUT, JobRunStatus.ABANDONED)
    return session.exec(select(JobRun).where(col(JobRun.status).in_(bad),
                                             col(JobRun.queued_at) >= since)
                         .order_by(col(JobRun.id).desc())).all()
