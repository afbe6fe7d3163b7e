"""The scheduler's transitions of a job run (queued -> running -> a final state), all
the SQL the daemon and a run's child write about runs.

Each function takes an open Session; the caller owns the transaction (Database.write()).
Starting a run claims the job's one `running` slot: the partial unique index
uq_job_run_running (store/job_tables.py) refuses a second running run of a job across
processes (reliability.md SCH-08), and that run is recorded as `skipped` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, and_, col, func, or_, select

from store.job_tables import Job, JobRun
from store.rows import id_of
from store.types import utcnow
from store.vocabulary import JobRunStatus, JobTrigger


@dataclass(frozen=True)
class Ending:
    """How a run's child ended, as the daemon measured it."""

    status: str  # succeeded, failed or timed_out
    exit_code: int | None = None
    signal: int | None = None
    cpu_s: float | None = None
    peak_memory_mb: float | None = None
    wall_s: float | None = None
    log_tail: str = ""
    error: str = ""  # the daemon's reason (a timeout, the memory limit), before the child's
    default_error: str = ""  # when neither the daemon nor the child said why ("exited with 2")


def start(session: Session, run_id: int, *, host: str, daemon_pid: int) -> JobRun:
    """Mark the queued run `running` under this daemon, or `skipped` when another run of
    its job is running. Returns the run either way; look at its status. Two transactions
    that both find no running run (PostgreSQL, read committed) are told apart by the unique
    index: the loser's commit raises IntegrityError, and its retry finds the winner."""
    run = _get(session, run_id)
    if run.status != JobRunStatus.QUEUED:
        return run
    now = utcnow()
    running = running_run(session, run.job_id) if run.job_id is not None else None
    if running is not None:
        run.status, run.ended_at = JobRunStatus.SKIPPED, now
        run.note = _join(run.note, f"previous run {running.id} still running")
    else:
        run.status, run.host, run.daemon_pid = JobRunStatus.RUNNING, host, daemon_pid
        run.started_at = run.heartbeat_at = now
    session.add(run)
    session.flush()
    return run


def set_child(session: Session, run_id: int, *, pid: int, log_path: str) -> None:
    """The child process started for the run (its process group has the same id)."""
    run = _get(session, run_id)
    run.pid, run.log_path = pid, log_path
    session.add(run)


def finish(session: Session, run_id: int, ending: Ending) -> JobRun:
    """Record the end of a running run; the child's own error (a failed check's message)
    stays when the daemon has no reason of its own."""
    run = _get(session, run_id)
    run.status, run.ended_at = ending.status, utcnow()
    run.exit_code, run.signal = ending.exit_code, ending.signal
    run.cpu_s, run.peak_memory_mb, run.wall_s = ending.cpu_s, ending.peak_memory_mb, ending.wall_s
    run.log_tail = ending.log_tail
    if ending.error:
        run.error = ending.error if not run.error else f"{ending.error} ({run.error})"
    elif not run.error:
        run.error = ending.default_error
    session.add(run)
    session.flush()
    return run


def record_outcome(session: Session, run_id: int, *, summary: str, rows: int | None,
                   result: dict[str, Any] | None) -> None:
    """What the run's child reports about its work (the daemon records how it ended)."""
    run = _get(session, run_id)
    run.rows, run.result = rows, result or None
    run.note = _join(run.note, summary)
    session.add(run)


def record_error(session: Session, run_id: int, error: str) -> None:
    """The child's one-line reason for failing (shown with the run)."""
    run = _get(session, run_id)
    run.error = error
    session.add(run)


def save_job_state(session: Session, job_id: int, state: dict[str, Any]) -> None:
    """A kind's memory between runs (an on-commit job's last head); not an edit, so the
    job's revision stays."""
    job = session.get(Job, job_id)
    if job is not None:
        job.state = state
        session.add(job)


def record_missed(session: Session, job: Job, slots: Sequence[datetime], *, note: str,
                  trigger: str = JobTrigger.SCHEDULE) -> list[JobRun]:
    """One `missed` row per slot that will not run, so nothing is dropped silently."""
    now = utcnow()
    runs = [JobRun(job_id=id_of(job), job_name=job.name, kind=job.kind, model_id=job.model_id,
                   trigger=trigger, scheduled_for=slot, status=JobRunStatus.MISSED,
                   queued_at=now, ended_at=now, note=note) for slot in slots]
    session.add_all(runs)
    session.flush()
    return runs


def queue_slot(session: Session, job: Job, *, trigger: str, scheduled_for: datetime | None,
               daemon_pid: int, note: str = "") -> JobRun:
    """A run the daemon queues for a slot of the timetable (or its catch-up). It carries the
    daemon's pid: if that daemon dies before starting it, the next one abandons it."""
    run = JobRun(job_id=id_of(job), job_name=job.name, kind=job.kind, model_id=job.model_id,
                 trigger=trigger, scheduled_for=scheduled_for, daemon_pid=daemon_pid, note=note)
    session.add(run)
    session.flush()
    return run


def running_run(session: Session, job_id: int | None) -> JobRun | None:
    return session.exec(select(JobRun).where(JobRun.job_id == job_id,
                                             JobRun.status == JobRunStatus.RUNNING)).first()


def running_runs(session: Session) -> Sequence[JobRun]:
    return session.exec(select(JobRun).where(JobRun.status == JobRunStatus.RUNNING)).all()


def orphans(session: Session, daemon_pid: int, host: str) -> Sequence[JobRun]:
    """Runs left by another daemon: running ones, and queued ones it had taken on (its
    timetable's slots). The caller holds the store's lease, so that daemon is gone.
    Queued run-now, retry and after runs carry no daemon and wait for this one."""
    return session.exec(select(JobRun).where(
        or_(col(JobRun.status) == JobRunStatus.RUNNING,
            and_(col(JobRun.status) == JobRunStatus.QUEUED, col(JobRun.daemon_pid).is_not(None))),
        or_(JobRun.daemon_pid != daemon_pid, JobRun.host != host,
            col(JobRun.host).is_(None)))).all()


def queued_by(session: Session, daemon_pid: int, host: str) -> Sequence[JobRun]:
    """The slot runs this daemon queued and has not started (at its clean stop)."""
    return session.exec(select(JobRun).where(
        JobRun.status == JobRunStatus.QUEUED, JobRun.daemon_pid == daemon_pid,
        or_(JobRun.host == host, col(JobRun.host).is_(None)))).all()


def abandon(session: Session, run: JobRun, reason: str) -> JobRun:
    run.status, run.ended_at = JobRunStatus.ABANDONED, utcnow()
    run.error = reason
    session.add(run)
    session.flush()
    return run


def due(session: Session, now: datetime, *, exclude: Sequence[int] = (),
        limit: int = 50) -> Sequence[JobRun]:
    """Queued runs whose time has come (no wait, or a retry's backoff has passed), oldest
    first."""
    query = select(JobRun).where(
        JobRun.status == JobRunStatus.QUEUED,
        or_(col(JobRun.not_before).is_(None), col(JobRun.not_before) <= now))
    if exclude:
        query = query.where(col(JobRun.id).not_in(list(exclude)))
    return session.exec(query.order_by(col(JobRun.id)).limit(limit)).all()


def heartbeat(session: Session, daemon_pid: int) -> int:
    """Mark this daemon's running runs alive; returns how many there are."""
    result = session.execute(update(JobRun).where(
        col(JobRun.status) == JobRunStatus.RUNNING, col(JobRun.daemon_pid) == daemon_pid)
        .values(heartbeat_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def run_heartbeat(session: Session, run_id: int) -> None:
    """A child's own sign of life between long steps."""
    session.execute(update(JobRun).where(col(JobRun.id) == run_id).values(heartbeat_at=utcnow()))


def last_slot(session: Session, job_id: int) -> datetime | None:
    """The newest slot the ledger has for the job (run, missed or skipped)."""
    return session.exec(select(func.max(JobRun.scheduled_for)).where(
        JobRun.job_id == job_id)).one()


def first_started(session: Session, run: JobRun) -> datetime | None:
    """When the first attempt of the run's slot started (a deadline counts from there)."""
    if run.first_run_id is None:
        return run.started_at
    first = session.get(JobRun, run.first_run_id)
    return first.started_at if first else run.started_at


def _get(session: Session, run_id: int) -> JobRun:
    from store.jobs import get_run

    return get_run(session, run_id)


def _join(note: str, more: str) -> str:
    return f"{note}; {more}" if note and more else note or more
