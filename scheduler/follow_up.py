"""What a finished run leads to, decided in the transaction that records its end: a retry
of a failed, timed-out or abandoned attempt, or the runs of the jobs that follow a job
that succeeded (`--after`).

Retries: attempt n (1-based) that failed is tried again while n <= Job.retries, after
Job.backoff_s * 2**(n-1) seconds, and only while that leaves the slot inside the job's
deadline (Job.deadline_s, from the first attempt's start). Followers that are paused do
not run (a paused job runs only when someone asks: run-now).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from store import jobs as job_rows
from store import run_ledger
from store.job_tables import Job, JobRun
from store.rows import id_of
from store.types import utcnow
from store.vocabulary import JobRunStatus, JobTrigger

RETRIED = frozenset({JobRunStatus.FAILED, JobRunStatus.TIMED_OUT, JobRunStatus.ABANDONED})


def retry_at(job: Job, attempt: int, first_started: datetime | None,
             now: datetime) -> datetime | None:
    """When the next attempt after `attempt` may start, or None: no attempts left, or the
    wait would end past the job's deadline."""
    if attempt > job.retries:
        return None
    at = now + timedelta(seconds=job.backoff_s * 2 ** (attempt - 1))
    if job.deadline_s is not None and first_started is not None and \
            at >= first_started + timedelta(seconds=job.deadline_s):
        return None
    return at


def after_finish(session: Session, run: JobRun, now: datetime | None = None) -> list[JobRun]:
    """Queue what `run`'s end calls for; returns the queued runs."""
    now = now or utcnow()
    job = session.get(Job, run.job_id) if run.job_id is not None else None
    if job is None:
        return []
    if run.status == JobRunStatus.SUCCEEDED:
        return [job_rows.queue_run(session, follower, trigger=JobTrigger.AFTER,
                                   note=f"after {job.name} run {run.id} succeeded")
                for follower in job_rows.followers(session, id_of(job)) if not follower.paused]
    if run.status not in RETRIED:
        return []
    at = retry_at(job, run.attempt, run_ledger.first_started(session, run), now)
    if at is None:
        return []
    first = run.first_run_id or id_of(run)
    return [job_rows.queue_run(session, job, trigger=JobTrigger.RETRY, attempt=run.attempt + 1,
                               scheduled_for=run.scheduled_for, first_run_id=first,
                               not_before=at, note=f"retry {run.attempt} of run {first}")]
