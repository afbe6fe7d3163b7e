"""SQLModel tables: the data model of DESIGN.md, as far as the built features need it.

JSON columns hold structured metadata (signature, metrics, environment) that is read
whole and never queried inside. Every table change comes with an Alembic migration in
``store/migrations/versions``; a test checks the two agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.fields import json_field as _json
from store.fields import time_field as _time
from store.vocabulary import LogMode, Mode, RunKind, RunStatus, VersionSource, VersionStatus


class RegisteredModel(SQLModel, table=True):
    __tablename__ = "registered_model"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    owner: str = ""
    team: str = ""
    description: str = ""
    tags: list[str] | None = _json()
    criticality: str = "internal"  # vocabulary.Criticality: sets the default promotion policy
    promotion_policy: str | None = None  # vocabulary.PromotionPolicy; None: by criticality
    max_age_days: int | None = None
    canary_share: float | None = None  # policy auto: the challenger's share; None: the default
    canary_period_s: int | None = None  # policy auto: how long the canary runs; None: default
    approval_by: str = ""  # vocabulary.ApprovalBy: who must approve production changes ("": no one)
    store_explanations: bool = False  # the owner asked for explanations to be kept
    rate_per_s: float | None = None  # the model's request rate limit on the server (None: none)
    burst: int | None = None
    task: str = ""
    created_at: datetime = _time()
    created_by: str = ""


class Dataset(SQLModel, table=True):
    __tablename__ = "dataset"
    __table_args__ = (UniqueConstraint("name", "fingerprint", name="uq_dataset_name_fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    uri: str
    fingerprint: str = Field(index=True)
    rows: int
    columns: list[dict[str, Any]] | None = _json()
    created_at: datetime = _time()


class TrainingRun(SQLModel, table=True):
    __tablename__ = "training_run"

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id", index=True)
    kind: str = RunKind.TRAIN
    status: str = RunStatus.RUNNING  # running | succeeded | failed_gate | failed
    spec: dict[str, Any] | None = _json()
    spec_path: str = ""
    params: dict[str, Any] | None = _json()
    code_version: dict[str, Any] | None = _json()
    environment: dict[str, Any] | None = _json()
    train_dataset_id: int | None = Field(default=None, foreign_key="dataset.id", index=True)
    eval_dataset_id: int | None = Field(default=None, foreign_key="dataset.id", index=True)
    split: dict[str, Any] | None = _json()
    metrics: dict[str, Any] | None = _json()
    champion_metrics: dict[str, Any] | None = _json()
    gate: dict[str, Any] | None = _json()
    reason: str = ""
    log: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    reproduces_version_id: int | None = None  # the version a reproduce run re-trained
    host: str | None = None  # where the training process ran, and its pid: a run left
    pid: int | None = None  # `running` by a dead process is found and closed by these
    started_at: datetime = _time(index=True)
    heartbeat_at: datetime | None = _time(nullable=True)  # store/run_life.py
    ended_at: datetime | None = _time(nullable=True)
    created_by: str = ""


class ModelVersion(SQLModel, table=True):
    __tablename__ = "model_version"
    __table_args__ = (UniqueConstraint("model_id", "version", name="uq_model_version"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id", index=True)
    version: int
    status: str = VersionStatus.ACTIVE
    approval_status: str = "none"  # none | pending | approved | rejected
    artifact_sha256: str = Field(index=True)
    artifact_format: str = "skops"
    artifact_size: int = 0
    flavor: str = ""
    signature: dict[str, Any] | None = _json()
    input_example: list[dict[str, Any]] | None = _json()
    metrics: dict[str, Any] | None = _json()
    params: dict[str, Any] | None = _json()
    run_id: int | None = Field(default=None, foreign_key="training_run.id", index=True)
    description: str = ""
    tags: list[str] | None = _json()
    source: str = VersionSource.TRAIN
    code_version: dict[str, Any] | None = _json()
    environment: dict[str, Any] | None = _json()
    created_at: datetime = _time()
    created_by: str = ""
    archived_at: datetime | None = _time(nullable=True)


class Alias(SQLModel, table=True):
    __tablename__ = "alias"
    __table_args__ = (UniqueConstraint("model_id", "name", name="uq_alias_model_name"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id", index=True)
    name: str
    version_id: int = Field(foreign_key="model_version.id", index=True)
    updated_at: datetime = _time()


class AliasChange(SQLModel, table=True):
    """Every move of an alias, so rollback can return it to its previous holder."""

    __tablename__ = "alias_change"
    __table_args__ = (Index("ix_alias_change_model_alias", "model_id", "alias", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id")
    alias: str
    action: str  # promote | rollback
    from_version_id: int | None = Field(default=None, foreign_key="model_version.id")
    to_version_id: int = Field(foreign_key="model_version.id")
    at: datetime = _time()
    actor: str = ""
    reason: str = ""


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_target", "target"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _time(index=True)
    actor: str = Field(index=True)
    action: str = Field(index=True)
    target: str
    before: dict[str, Any] | None = _json()
    after: dict[str, Any] | None = _json()
    reason: str = ""


# --- serving: deployments, the prediction log, its rollup, quarantine, batch runs ----------

class Deployment(SQLModel, table=True):
    """How a model is served. The champion is the model's `production` alias (so a
    promote or rollback of the alias is what serving follows); the optional challenger
    is a version that gets shadow, canary or A/B traffic."""

    __tablename__ = "deployment"

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id", unique=True)
    mode: str = Mode.SINGLE
    challenger_version_id: int | None = Field(default=None, foreign_key="model_version.id")
    challenger_share: float = 0.0  # canary and ab: the challenger's share of requests, 0..1
    log_mode: str = LogMode.FULL  # full (inputs and outputs) | metadata (outputs only)
    input_sample_rate: float = 1.0  # full mode: the share of rows whose inputs are kept
    guardrails: dict[str, Any] | None = _json()  # what a sane answer is, and what to do if not
    updated_at: datetime = _time()
    updated_by: str = ""
    reason: str = ""


class Prediction(SQLModel, table=True):
    """One answered row. Written by serving/logger (group commit) and the batch scorer
    with SQLAlchemy Core, never as ORM objects (the hot path). `inputs`, `outputs` and
    `label` hold JSON text."""

    __tablename__ = "prediction"
    __table_args__ = (
        Index("ix_prediction_model_at", "model_id", "at"),
        Index("uq_prediction_request", "model_id", "request_id", "route", "row_index", unique=True),
        Index("uq_prediction_batch_row", "batch_run_id", "row_index", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    prediction_id: str = Field(unique=True)  # UUIDv7: time-ordered, so the index appends
    at: datetime = _time()
    model_id: int = Field(foreign_key="registered_model.id")
    version_id: int = Field(foreign_key="model_version.id")
    route: str  # champion | challenger | shadow
    source: str  # api | cli | batch
    request_id: str | None = None
    row_index: int = 0
    batch_run_id: str | None = Field(default=None, foreign_key="batch_run.id")
    inputs: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    outputs: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    latency_ms: float = 0.0
    label: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    label_at: datetime | None = _time(nullable=True)
    guardrail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # why flagged


#: Upper bounds (ms) of the latency histogram buckets of MetricRollup; one more bucket
#: (lat_b18) counts everything slower than the last bound.
LATENCY_BUCKETS_MS: tuple[float, ...] = (0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


class MetricRollup(SQLModel, table=True):
    """Per model version, route and minute: the online predictions (source api and cli)
    and rejected rows, a latency histogram and the moments of the main output (the
    positive-class probability, the top probability, or the predicted value). Updated in
    the same transaction as the rows it counts; dashboards read this, never the log."""

    __tablename__ = "metric_rollup"
    __table_args__ = (
        UniqueConstraint("version_id", "route", "minute", name="uq_rollup_version_route_minute"),
        Index("ix_rollup_model_minute", "model_id", "minute"),
    )

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id")
    version_id: int = Field(foreign_key="model_version.id")
    route: str
    minute: datetime = _time()
    count: int = 0  # answered rows
    errors: int = 0  # refused rows
    #: requests (answered or refused) with rows in this minute: a request of n rows is one
    requests: int = 0
    latency_sum_ms: float = 0.0
    latency_max_ms: float = 0.0
    out_count: int = 0
    out_sum: float = 0.0
    out_sumsq: float = 0.0
    out_min: float | None = None
    out_max: float | None = None
    lat_b00: int = 0
    lat_b01: int = 0
    lat_b02: int = 0
    lat_b03: int = 0
    lat_b04: int = 0
    lat_b05: int = 0
    lat_b06: int = 0
    lat_b07: int = 0
    lat_b08: int = 0
    lat_b09: int = 0
    lat_b10: int = 0
    lat_b11: int = 0
    lat_b12: int = 0
    lat_b13: int = 0
    lat_b14: int = 0
    lat_b15: int = 0
    lat_b16: int = 0
    lat_b17: int = 0
    lat_b18: int = 0


class Quarantine(SQLModel, table=True):
    """A rejected input row with its reason: never silently dropped."""

    __tablename__ = "quarantine"
    __table_args__ = (
        Index("ix_quarantine_model_at", "model_id", "at"),
        Index("ix_quarantine_batch_row", "batch_run_id", "row_index"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _time()
    model_id: int = Field(foreign_key="registered_model.id")
    version_id: int | None = Field(default=None, foreign_key="model_version.id")
    route: str | None = None
    source: str  # api | cli | batch
    request_id: str | None = None
    batch_run_id: str | None = Field(default=None, foreign_key="batch_run.id")
    row_index: int = 0
    field: str | None = None  # the input field at fault, when there is one
    reason: str
    payload: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class BatchRun(SQLModel, table=True):
    """A batch scoring run; re-running the same id replaces its rows."""

    __tablename__ = "batch_run"

    id: str = Field(primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id", index=True)
    version_id: int = Field(foreign_key="model_version.id")
    source: str
    sink: str
    status: str = RunStatus.RUNNING  # running | succeeded | failed
    attempt: int = 1
    rows_read: int = 0
    rows_scored: int = 0
    rows_quarantined: int = 0
    chunks: int = 0
    error: str = ""
    host: str | None = None
    pid: int | None = None
    started_at: datetime = _time(index=True)
    heartbeat_at: datetime | None = _time(nullable=True)  # store/run_life.py
    ended_at: datetime | None = _time(nullable=True)
    created_by: str = ""


from store.access_tables import (  # noqa: E402,F401
    ApiToken,
    PredictionExplanation,
    TokenUsage,
    User,
)
from store.alert_tables import (  # noqa: E402,F401
    Alert,
    AlertEvent,
    AlertRule,
    AlertRuleState,
    CanaryWatch,
    Channel,
    Notification,
    NotificationAttempt,
    Silence,
)

# The monitoring tables live in their own module (this one would pass 400 lines); importing
# them here registers them on the same metadata for everything that imports store.tables.
from store.job_tables import (  # noqa: E402,F401
    ApprovalRequest,
    Job,
    JobRun,
    ProbeResult,
    SchedulerDaemon,
    ServedModelMemory,
)
from store.report_tables import (  # noqa: E402,F401
    DriftFeature,
    DriftReport,
    LabelTask,
    PerformanceReport,
    QualityReport,
    ReferenceProfile,
)
