"""The scheduler's tables: jobs as a named kind with JSON arguments (never a pickled
callable), the ledger of their runs, the daemon's lease and heartbeat, probe answers,
approval requests and the memory a served model takes.

A job run row is written before its child process starts and is the only record of the
run: the daemon keeps APScheduler's job list in memory and rebuilds it from `job`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from store.fields import json_field as _json
from store.fields import set_null_reference
from store.fields import text_field as _text
from store.fields import time_field as _time
from store.vocabulary import ApprovalStatus, CatchUp, JobRunStatus, JobTrigger


class Job(SQLModel, table=True):
    """A job: what it does (kind + args), when (cron, every, or after another job),
    and how its runs are bounded (timeout, deadline, retries, memory)."""

    __tablename__ = "job"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    kind: str
    args: dict[str, Any] | None = _json()
    model_id: int | None = Field(default=None, foreign_key="registered_model.id", index=True)
    cron: str | None = None  # a crontab line (5 fields), in `timezone`
    every_s: int | None = None  # or a fixed interval in seconds
    after_job_id: int | None = set_null_reference("job.id", index=True)
    timezone: str = "UTC"
    paused: bool = False
    catch_up: str = CatchUp.LATEST
    catch_up_limit: int = 1  # for catch_up=all: at most this many missed slots are run
    misfire_grace_s: int | None = None  # None: the scheduler's default for the job's period
    timeout_s: int = 3600  # per attempt
    deadline_s: int | None = None  # across all attempts of one slot
    retries: int = 0  # further attempts after a failure (or an abandoned run)
    backoff_s: int = 60  # wait before the first retry; doubles each time
    memory_mb: int | None = None  # the child's process group is killed above this
    state: dict[str, Any] | None = _json()  # kept by the kind across runs (a git head)
    revision: int = 1  # bumped by every edit: the daemon compares it to rebuild its timetable
    created_at: datetime = _time()
    created_by: str = ""
    updated_at: datetime = _time()
    updated_by: str = ""


class JobRun(SQLModel, table=True):
    """One run (one attempt) of a job. Rows outlive their job (job_id goes NULL)."""

    __tablename__ = "job_run"
    __table_args__ = (
        # at most one running run per job, across processes (reliability.md SCH-08)
        Index("uq_job_run_running", "job_id", unique=True,
              sqlite_where=text("status = 'running'"), postgresql_where=text("status = 'running'")),
        Index("ix_job_run_job_time", "job_id", "queued_at"),
        Index("ix_job_run_status", "status", "not_before"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job_id: int | None = set_null_reference("job.id")
    job_name: str  # kept when the job is removed
    kind: str
    model_id: int | None = Field(default=None, foreign_key="registered_model.id", index=True)
    trigger: str = JobTrigger.SCHEDULE
    scheduled_for: datetime | None = _time(nullable=True)  # the slot this run is for
    attempt: int = 1
    first_run_id: int | None = None  # the run of the slot's first attempt (retries point to it)
    status: str = JobRunStatus.QUEUED
    queued_at: datetime = _time()
    not_before: datetime | None = _time(nullable=True)  # a retry waits for its backoff
    started_at: datetime | None = _time(nullable=True)
    heartbeat_at: datetime | None = _time(nullable=True)
    ended_at: datetime | None = _time(nullable=True)
    host: str | None = None
    daemon_pid: int | None = None  # the scheduler that ran it
    pid: int | None = None  # the child (its process group has the same id)
    exit_code: int | None = None
    signal: int | None = None  # the signal that ended the child, if one did
    cpu_s: float | None = None  # user + system, the child and what it waited for
    peak_memory_mb: float | None = None  # the child's peak resident set
    wall_s: float | None = None
    rows: int | None = None  # rows processed, for the kinds that have rows
    result: dict[str, Any] | None = _json()  # what the kind reports (report ids, version)
    log_path: str = ""
    log_tail: str = _text()
    error: str = _text()
    note: str = _text()  # e.g. "missed 3 while down, ran 1"
    requested_by: str = ""  # who asked, for run-now


class SchedulerDaemon(SQLModel, table=True):
    """The lease of the one scheduler daemon of a store (one row, id 1) and its heartbeat."""

    __tablename__ = "scheduler_daemon"

    id: int | None = Field(default=None, primary_key=True)
    host: str
    pid: int
    user: str = ""
    started_at: datetime = _time()
    heartbeat_at: datetime = _time()
    stopped_at: datetime | None = _time(nullable=True)  # set by a clean stop
    jobs: int = 0  # jobs in its timetable at the last heartbeat
    running: int = 0  # runs in progress at the last heartbeat
    wal_bytes: int | None = None  # the WAL's size at the last checkpoint
    note: str = _text()  # the last warning (a WAL past its bound, a failed heartbeat)


class ProbeResult(SQLModel, table=True):
    """One answer (or silence) of a server's /readyz, asked by a probe job."""

    __tablename__ = "probe_result"
    __table_args__ = (Index("ix_probe_result_job_time", "job_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int | None = set_null_reference("job.id")
    url: str
    at: datetime = _time()
    ok: bool
    status_code: int | None = None
    latency_ms: float | None = None
    error: str = _text()
    # the server's process metrics read from its /metrics at the same time (alert rules
    # server-memory and server-cpu): resident memory, and CPU seconds since it started
    rss_mb: float | None = None
    cpu_s: float | None = None


class ApprovalRequest(SQLModel, table=True):
    """A version a retrain registered that waits for a person (promotion policy manual)."""

    __tablename__ = "approval_request"
    __table_args__ = (Index("ix_approval_model_status", "model_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id")
    version_id: int = Field(foreign_key="model_version.id", unique=True)
    training_run_id: int | None = Field(default=None, foreign_key="training_run.id")
    job_run_id: int | None = None
    status: str = ApprovalStatus.PENDING
    against_version_id: int | None = None  # production when the report was written
    report_md: str = ""  # paths under the store
    report_html: str = ""
    summary: dict[str, Any] | None = _json()  # the report's figures, for screens and --json
    requested_at: datetime = _time()
    decided_at: datetime | None = _time(nullable=True)
    decided_by: str = ""
    reason: str = _text()


class ServedModelMemory(SQLModel, table=True):
    """The memory a loaded model takes in a server, measured when the server loads it."""

    __tablename__ = "served_model_memory"
    __table_args__ = (Index("ix_served_memory_version", "version_id", "measured_at"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="model_version.id")
    host: str
    pid: int
    bytes: int
    measured_at: datetime = _time()
