"""The rows store/timeline.py reads for a model's timeline: plain tuples, one type per
source, oldest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple


class AliasRow(NamedTuple):
    id: int
    at: datetime
    alias: str
    action: str  # promote | rollback
    from_version: int | None
    to_version: int
    actor: str
    reason: str


class AuditRow(NamedTuple):
    id: int
    at: datetime
    action: str
    actor: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str


class DeploymentRow(NamedTuple):
    """The model's deployment as it is now: when it last changed, and to what."""

    updated_at: datetime
    updated_by: str
    reason: str
    mode: str
    challenger: int | None
    share: float


class RunRow(NamedTuple):
    id: int
    kind: str
    status: str
    reason: str
    started_at: datetime
    ended_at: datetime | None
    actor: str
    version: int | None  # the version the run registered


class JobRunRow(NamedTuple):
    id: int
    job_id: int | None
    job: str
    kind: str
    status: str
    trigger: str
    attempt: int
    queued_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    wall_s: float | None
    error: str
    note: str
    actor: str


class ReportRow(NamedTuple):
    kind: str  # drift | quality | performance
    id: int
    version: int | None
    status: str
    window_start: datetime
    window_end: datetime
    created_at: datetime
    actor: str
    reason: str
    figures: dict[str, Any]  # the few numbers a one-line title says


class AlertRow(NamedTuple):
    id: int
    rule: str
    kind: str
    version: int | None
    feature: str | None
    severity: str
    state: str
    reason: str
    value: float | None
    started_at: datetime
    fired_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str
    annotations: dict[str, Any] | None


class AlertEventRow(NamedTuple):
    id: int
    alert_id: int
    at: datetime
    event: str
    actor: str
    note: str
    details: dict[str, Any] | None


class SilenceRow(NamedTuple):
    id: int
    matchers: dict[str, Any] | None
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    created_by: str
    comment: str
    ended_at: datetime | None
    ended_by: str


class CanaryRow(NamedTuple):
    id: int
    version: int
    share: float
    started_at: datetime
    ends_at: datetime
    status: str
    alert_id: int | None
    decided_at: datetime | None
    job_run_id: int | None
    note: str


class ApprovalRow(NamedTuple):
    id: int
    version: int
    status: str
    requested_at: datetime
    decided_at: datetime | None
    decided_by: str
    reason: str
    training_run_id: int | None
    job_run_id: int | None


class QuarantineGroup(NamedTuple):
    """Refused rows of one batch run (minute None), or of one minute of online traffic
    (batch_run_id None), with one field at fault (None: the row as a whole)."""

    batch_run_id: str | None
    minute: datetime | None
    field: str | None
    rows: int
    first: datetime
    last: datetime


class RollupMinute(NamedTuple):
    """One version's online traffic in one minute, every route summed."""

    version: int
    minute: datetime
    answered: int
    errors: int
    buckets: tuple[int, ...]  # the latency histogram (store.tables.LATENCY_BUCKETS_MS)
