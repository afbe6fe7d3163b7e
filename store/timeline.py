"""Reads for one model's timeline (monitoring/timeline.py): everything that happened to
the model between two times, one query per source, each bounded by the model and the
window and served by an index on the model (most on the model and a time):

| source | index |
|---|---|
| alias changes | ix_alias_change_model_alias (model_id, ...) |
| deployment changes | ix_audit_event_target (target) |
| training runs | ix_training_run_model_id |
| job runs | ix_job_run_model_id |
| drift, quality, performance reports | ix_<kind>_report_model_end (model_id, window_end) |
| alerts, then their events | ix_alert_model_time (model_id, started_at), ix_alert_event_alert |
| approval requests | ix_approval_model_status (model_id, status) |
| quarantine | ix_quarantine_model_at (model_id, at) |
| rollups | ix_rollup_model_minute (model_id, minute) |

Canary watches and silences are few (one per automatic promotion, one per silence
added) and have no model index; they are read by time.

Rows come back as plain tuples, oldest first; the timeline's wording and rules
(what is a burst, a spike) are monitoring's. Functions take an open Session.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, literal, or_, select, type_coerce
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from store.alert_tables import Alert, AlertEvent, CanaryWatch, Silence
from store.job_tables import ApprovalRequest, JobRun
from store.prediction_log import BUCKET_COLUMNS
from store.report_tables import DriftReport, PerformanceReport, QualityReport
from store.tables import (
    AliasChange,
    AuditEvent,
    Deployment,
    MetricRollup,
    ModelVersion,
    Quarantine,
    TrainingRun,
)
from store.timeline_rows import (
    AlertEventRow,
    AlertRow,
    AliasRow,
    ApprovalRow,
    AuditRow,
    CanaryRow,
    DeploymentRow,
    JobRunRow,
    QuarantineGroup,
    ReportRow,
    RollupMinute,
    RunRow,
    SilenceRow,
)
from store.types import UTCDateTime

#: How long after its window ends a report may be written and still be found (reports).
REPORT_LAG = timedelta(days=1)


def _rows(session: Session, stmt: Any) -> list[Any]:
    """The rows of a select of columns (untyped: most here have more columns than the
    typed helpers spell out; each NamedTuple below says what a row holds)."""
    return list(session.connection().execute(stmt).all())  # Core: no ORM work per row


def _versions() -> Any:
    return aliased(ModelVersion)


def alias_changes(session: Session, model_id: int, since: datetime, until: datetime) -> list[AliasRow]:
    old, new = _versions(), _versions()
    stmt = (select(col(AliasChange.id), col(AliasChange.at), col(AliasChange.alias), col(AliasChange.action),
                   old.version, new.version, col(AliasChange.actor), col(AliasChange.reason))
            .outerjoin(old, old.id == col(AliasChange.from_version_id))
            .join(new, new.id == col(AliasChange.to_version_id))
            .where(col(AliasChange.model_id) == model_id, col(AliasChange.at) >= since,
                   col(AliasChange.at) < until)
            .order_by(col(AliasChange.at), col(AliasChange.id)))
    return [AliasRow(*r) for r in _rows(session, stmt)]


def deployment_events(session: Session, model: str, since: datetime, until: datetime) -> list[AuditRow]:
    """The audit log's deployment.* events of the model (set, promote, rollback)."""
    stmt = (select(col(AuditEvent.id), col(AuditEvent.at), col(AuditEvent.action), col(AuditEvent.actor),
                   col(AuditEvent.before), col(AuditEvent.after), col(AuditEvent.reason))
            .where(col(AuditEvent.target) == f"model/{model}/deployment", col(AuditEvent.at) >= since,
                   col(AuditEvent.at) < until)
            .order_by(col(AuditEvent.at), col(AuditEvent.id)))
    return [AuditRow(*r) for r in _rows(session, stmt)]


def deployment_now(session: Session, model_id: int) -> DeploymentRow | None:
    challenger = _versions()
    stmt = (select(col(Deployment.updated_at), col(Deployment.updated_by), col(Deployment.reason),
                   col(Deployment.mode), challenger.version, col(Deployment.challenger_share))
            .outerjoin(challenger, challenger.id == col(Deployment.challenger_version_id))
            .where(col(Deployment.model_id) == model_id))
    row = session.execute(stmt).first()
    return DeploymentRow(*row) if row is not None else None


def training_runs(session: Session, model_id: int, since: datetime, until: datetime) -> list[RunRow]:
    """Runs that started before `until` and ended (or, still running, started) in the window."""
    end = func.coalesce(col(TrainingRun.ended_at), col(TrainingRun.started_at))
    stmt = (select(col(TrainingRun.id), col(TrainingRun.kind), col(TrainingRun.status), col(TrainingRun.reason),
                   col(TrainingRun.started_at), col(TrainingRun.ended_at), col(TrainingRun.created_by),
                   col(ModelVersion.version))
            .outerjoin(ModelVersion, col(ModelVersion.run_id) == col(TrainingRun.id))
            .where(col(TrainingRun.model_id) == model_id, col(TrainingRun.started_at) < until,
                   type_coerce(end, UTCDateTime()) >= since)
            .order_by(col(TrainingRun.started_at), col(TrainingRun.id)))
    return [RunRow(*r) for r in _rows(session, stmt)]


def job_runs(session: Session, model_id: int, since: datetime, until: datetime) -> list[JobRunRow]:
    """The runs of the model's jobs that were queued before `until` and ended (or started,
    or were queued) in the window."""
    last = func.coalesce(col(JobRun.ended_at), col(JobRun.started_at), col(JobRun.queued_at))
    stmt = (select(col(JobRun.id), col(JobRun.job_id), col(JobRun.job_name), col(JobRun.kind),
                   col(JobRun.status), col(JobRun.trigger), col(JobRun.attempt), col(JobRun.queued_at),
                   col(JobRun.started_at), col(JobRun.ended_at), col(JobRun.wall_s), col(JobRun.error),
                   col(JobRun.note), col(JobRun.requested_by))
            .where(col(JobRun.model_id) == model_id, col(JobRun.queued_at) < until,
                   type_coerce(last, UTCDateTime()) >= since)
            .order_by(col(JobRun.queued_at), col(JobRun.id)))
    return [JobRunRow(*r) for r in _rows(session, stmt)]


def reports(session: Session, kind: str, model_id: int, since: datetime, until: datetime) -> list[ReportRow]:
    """A model's stored reports of `kind` written in [since, until), found by the end of
    their window (indexed): a report is written when its window ends or soon after, so
    those whose window ended up to REPORT_LAG before `since` are looked at; one written
    later still (a backfill of an old window) is left out."""
    table: Any = {"drift": DriftReport, "quality": QualityReport, "performance": PerformanceReport}[kind]
    every: dict[str, dict[str, Any]] = {
        "drift": {"drifted": DriftReport.drifted, "features": DriftReport.features, "rows": DriftReport.rows,
                  "drift_share": DriftReport.drift_share, "domain_auc": DriftReport.domain_auc},
        "quality": {"errors": QualityReport.errors, "warnings": QualityReport.warnings,
                    "quarantined": QualityReport.quarantined, "rows": QualityReport.rows},
        "performance": {"realised": PerformanceReport.realised, "estimated": PerformanceReport.estimated,
                        "training": PerformanceReport.training, "coverage": PerformanceReport.coverage,
                        "labelled": PerformanceReport.labelled},
    }
    figures = every[kind]
    reason = table.reason if kind != "quality" else literal("")
    stmt = (select(col(table.id), col(ModelVersion.version), col(table.status), col(table.window_start),
                   col(table.window_end), col(table.created_at), col(table.created_by), reason,
                   *[col(c) for c in figures.values()])
            .outerjoin(ModelVersion, col(ModelVersion.id) == col(table.version_id))
            .where(col(table.model_id) == model_id, col(table.window_end) >= since - REPORT_LAG,
                   col(table.created_at) >= since, col(table.created_at) < until)
            .order_by(col(table.created_at), col(table.id)))
    names = list(figures)
    return [ReportRow(kind, rid, version, status, start, end, created, actor, text or "",
                      dict(zip(names, rest, strict=True)))
            for rid, version, status, start, end, created, actor, text, *rest in _rows(session, stmt)]


def alerts(session: Session, model_id: int, since: datetime, until: datetime) -> list[AlertRow]:
    """The model's alerts that were open at some time in [since, until)."""
    stmt = (select(col(Alert.id), col(Alert.rule_name), col(Alert.kind), col(Alert.version), col(Alert.feature),
                   col(Alert.severity), col(Alert.state), col(Alert.reason), col(Alert.value),
                   col(Alert.started_at), col(Alert.fired_at), col(Alert.resolved_at), col(Alert.resolved_by),
                   col(Alert.annotations))
            .where(col(Alert.model_id) == model_id, col(Alert.started_at) < until,
                   or_(col(Alert.resolved_at).is_(None), col(Alert.resolved_at) >= since))
            .order_by(col(Alert.started_at), col(Alert.id)))
    return [AlertRow(*r) for r in _rows(session, stmt)]


def alert_events(session: Session, alert_ids: list[int], since: datetime,
                 until: datetime) -> list[AlertEventRow]:
    if not alert_ids:
        return []
    stmt = (select(col(AlertEvent.id), col(AlertEvent.alert_id), col(AlertEvent.at), col(AlertEvent.event),
                   col(AlertEvent.actor), col(AlertEvent.note), col(AlertEvent.details))
            .where(col(AlertEvent.alert_id).in_(alert_ids), col(AlertEvent.at) >= since,
                   col(AlertEvent.at) < until)
            .order_by(col(AlertEvent.at), col(AlertEvent.id)))
    return [AlertEventRow(*r) for r in _rows(session, stmt)]


def silences(session: Session, since: datetime, until: datetime) -> list[SilenceRow]:
    """Every silence in force at some time in [since, until) (the caller keeps those whose
    matchers name the model)."""
    stmt = (select(col(Silence.id), col(Silence.matchers), col(Silence.starts_at), col(Silence.ends_at),
                   col(Silence.created_at), col(Silence.created_by), col(Silence.comment),
                   col(Silence.ended_at), col(Silence.ended_by))
            .where(col(Silence.ends_at) >= since, col(Silence.created_at) < until)
            .order_by(col(Silence.created_at), col(Silence.id)))
    return [SilenceRow(*r) for r in _rows(session, stmt)]


def canary_watches(session: Session, model_id: int, since: datetime, until: datetime) -> list[CanaryRow]:
    stmt = (select(col(CanaryWatch.id), col(CanaryWatch.version), col(CanaryWatch.share),
                   col(CanaryWatch.started_at), col(CanaryWatch.ends_at), col(CanaryWatch.status),
                   col(CanaryWatch.alert_id), col(CanaryWatch.decided_at), col(CanaryWatch.job_run_id),
                   col(CanaryWatch.note))
            .where(col(CanaryWatch.model_id) == model_id, col(CanaryWatch.started_at) < until,
                   or_(col(CanaryWatch.decided_at).is_(None), col(CanaryWatch.decided_at) >= since))
            .order_by(col(CanaryWatch.started_at), col(CanaryWatch.id)))
    return [CanaryRow(*r) for r in _rows(session, stmt)]


def approval_requests(session: Session, model_id: int, since: datetime, until: datetime) -> list[ApprovalRow]:
    """Requests made, or decided, in the window."""
    stmt = (select(col(ApprovalRequest.id), col(ModelVersion.version), col(ApprovalRequest.status),
                   col(ApprovalRequest.requested_at), col(ApprovalRequest.decided_at),
                   col(ApprovalRequest.decided_by), col(ApprovalRequest.reason),
                   col(ApprovalRequest.training_run_id), col(ApprovalRequest.job_run_id))
            .join(ModelVersion, col(ModelVersion.id) == col(ApprovalRequest.version_id))
            .where(col(ApprovalRequest.model_id) == model_id, col(ApprovalRequest.requested_at) < until,
                   or_(col(ApprovalRequest.requested_at) >= since,
                       and_(col(ApprovalRequest.decided_at).is_not(None),
                            col(ApprovalRequest.decided_at) >= since)))
            .order_by(col(ApprovalRequest.requested_at), col(ApprovalRequest.id)))
    return [ApprovalRow(*r) for r in _rows(session, stmt)]


def _minute(session: Session, column: Any) -> Any:
    """`column` cut to its minute, read back as an aware UTC datetime."""
    if session.connection().dialect.name == "sqlite":
        return type_coerce(func.strftime("%Y-%m-%d %H:%M:00.000000", column), UTCDateTime())
    return type_coerce(func.date_trunc("minute", column), UTCDateTime())


def quarantine_groups(session: Session, model_id: int, since: datetime, until: datetime,
                      *, min_online: int) -> list[QuarantineGroup]:
    """The model's refused rows in the window, counted per batch run and field, and per
    minute and field for online traffic (minutes with fewer than `min_online` rows in all
    are left out by the database)."""
    window = (col(Quarantine.model_id) == model_id, col(Quarantine.at) >= since, col(Quarantine.at) < until)
    batch = (select(col(Quarantine.batch_run_id), col(Quarantine.field), func.count(),
                    func.min(col(Quarantine.at)), func.max(col(Quarantine.at)))
             .where(*window, col(Quarantine.batch_run_id).is_not(None))
             .group_by(col(Quarantine.batch_run_id), col(Quarantine.field)))
    out = [QuarantineGroup(run, None, field, int(n), as_utc(first), as_utc(last))
           for run, field, n, first, last in _rows(session, batch)]
    minute = _minute(session, col(Quarantine.at))
    busy = (select(minute.label("m")).where(*window, col(Quarantine.batch_run_id).is_(None))
            .group_by(minute).having(func.count() >= min_online).subquery())
    online = (select(minute, col(Quarantine.field), func.count(),
                     func.min(col(Quarantine.at)), func.max(col(Quarantine.at)))
              .where(*window, col(Quarantine.batch_run_id).is_(None), minute.in_(select(busy.c.m)))
              .group_by(minute, col(Quarantine.field)))
    out += [QuarantineGroup(None, m, field, int(n), as_utc(first), as_utc(last))
            for m, field, n, first, last in _rows(session, online)]
    return sorted(out, key=lambda g: (g.first, g.batch_run_id or "", g.field or ""))


def as_utc(value: Any) -> datetime:
    """An aggregate of a time column (min, max), which SQLite returns as text."""
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def rollup_minutes(session: Session, model_id: int, since: datetime, until: datetime) -> list[RollupMinute]:
    """Per version and minute in [since, until): rows answered and refused and the latency
    histogram, every route summed."""
    buckets = [func.sum(getattr(MetricRollup, b)) for b in BUCKET_COLUMNS]
    stmt = (select(col(ModelVersion.version), col(MetricRollup.minute), func.sum(col(MetricRollup.count)),
                   func.sum(col(MetricRollup.errors)), *buckets)
            .join(ModelVersion, col(ModelVersion.id) == col(MetricRollup.version_id))
            .where(col(MetricRollup.model_id) == model_id, col(MetricRollup.minute) >= since,
                   col(MetricRollup.minute) < until)
            .group_by(col(ModelVersion.version), col(MetricRollup.minute))
            .order_by(col(ModelVersion.version), col(MetricRollup.minute)))
    return [RollupMinute(version, as_utc(minute), int(answered or 0), int(errors or 0),
                         tuple(int(b or 0) for b in hist))
            for version, minute, answered, errors, *hist in _rows(session, stmt)]


def alert_with_events(session: Session, alert_id: int) -> tuple[AlertRow, str, list[AlertEventRow]] | None:
    """One alert (with its model's name) and its whole history, oldest first."""
    from store.tables import RegisteredModel

    stmt = (select(col(Alert.id), col(Alert.rule_name), col(Alert.kind), col(Alert.version), col(Alert.feature),
                   col(Alert.severity), col(Alert.state), col(Alert.reason), col(Alert.value),
                   col(Alert.started_at), col(Alert.fired_at), col(Alert.resolved_at), col(Alert.resolved_by),
                   col(Alert.annotations), col(RegisteredModel.name))
            .outerjoin(RegisteredModel, col(RegisteredModel.id) == col(Alert.model_id))
            .where(col(Alert.id) == alert_id))
    row = session.execute(stmt).first()
    if row is None:
        return None
    *alert, model = row
    events = (select(col(AlertEvent.id), col(AlertEvent.alert_id), col(AlertEvent.at), col(AlertEvent.event),
                     col(AlertEvent.actor), col(AlertEvent.note), col(AlertEvent.details))
              .where(col(AlertEvent.alert_id) == alert_id).order_by(col(AlertEvent.at), col(AlertEvent.id)))
    return AlertRow(*alert), model or "-", [AlertEventRow(*r) for r in _rows(session, events)]
