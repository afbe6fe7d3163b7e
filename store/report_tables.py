"""Monitoring tables: reference profiles and the stored drift, quality and performance
reports, and the labelling queue (issue 10). Imported by store.tables, so every table is
registered on one metadata; a migration (0006) creates them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from store.tables import _json, _time
from store.vocabulary import LabelTaskStatus


class ReferenceProfile(SQLModel, table=True):
    """What a version's reference data looked like, fitted once: per-feature statistics
    (bins, quantiles, frequencies), a bounded sample of rows, the reference predictions'
    distribution and the label-free estimator's calibration. Checks use the newest
    profile of the version."""

    __tablename__ = "reference_profile"
    __table_args__ = (Index("ix_reference_profile_version", "version_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id")
    version_id: int = Field(foreign_key="model_version.id")
    source: str  # ProfileSource
    detail: dict[str, Any] | None = _json()  # dataset fingerprint, window bounds or file path
    rows: int = 0
    profile: dict[str, Any] | None = _json()
    seconds: float = 0.0
    created_at: datetime = _time()
    created_by: str = ""


class DriftReport(SQLModel, table=True):
    """One drift check of a model's window against a version's reference profile."""

    __tablename__ = "drift_report"
    __table_args__ = (Index("ix_drift_report_model_end", "model_id", "window_end"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id")
    version_id: int | None = Field(default=None, foreign_key="model_version.id")  # the window's filter
    profile_id: int | None = Field(default=None, foreign_key="reference_profile.id")
    window_start: datetime = _time()
    window_end: datetime = _time()
    status: str  # CheckStatus
    rows: int = 0
    features: int = 0
    drifted: int = 0
    drift_share: float | None = None
    domain_auc: float | None = None
    domain: dict[str, Any] | None = _json()  # the domain classifier: importances, rows, seconds
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    seconds: float = 0.0
    created_at: datetime = _time()
    created_by: str = ""


class DriftFeature(SQLModel, table=True):
    """One feature's verdict in a drift report (the prediction is a feature of its own)."""

    __tablename__ = "drift_feature"
    __table_args__ = (Index("ix_drift_feature_report", "report_id"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="drift_report.id")
    feature: str
    kind: str
    status: str  # CheckStatus: drift | ok | insufficient
    test: str = ""
    statistic: float | None = None
    threshold: float | None = None
    p_value: float | None = None
    effect_size: float | None = None
    n_reference: int = 0
    n_current: int = 0
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    detail: dict[str, Any] | None = _json()  # summary statistics, histogram, new categories


class QualityReport(SQLModel, table=True):
    """Data-quality findings for a window of logged or batch inputs."""

    __tablename__ = "quality_report"
    __table_args__ = (Index("ix_quality_report_model_end", "model_id", "window_end"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id")
    version_id: int | None = Field(default=None, foreign_key="model_version.id")
    window_start: datetime = _time()
    window_end: datetime = _time()
    status: str  # CheckStatus: ok | failed | insufficient | not_logged
    rows: int = 0
    errors: int = 0
    warnings: int = 0
    quarantined: int = 0
    findings: list[dict[str, Any]] | None = _json()
    detail: dict[str, Any] | None = _json()  # per-column statistics, quarantine reasons
    seconds: float = 0.0
    created_at: datetime = _time()
    created_by: str = ""


class PerformanceReport(SQLModel, table=True):
    """Realised metrics of one version over a window (from late labels) beside the
    label-free estimate and the version's training metrics."""

    __tablename__ = "performance_report"
    __table_args__ = (Index("ix_performance_report_model_end", "model_id", "window_end"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id")
    version_id: int = Field(foreign_key="model_version.id")
    window_start: datetime = _time()
    window_end: datetime = _time()
    status: str  # CheckStatus: ok | failed | insufficient
    task: str = ""
    predictions: int = 0
    labelled: int = 0
    coverage: float = 0.0
    realised: dict[str, Any] | None = _json()
    estimated: dict[str, Any] | None = _json()
    training: dict[str, Any] | None = _json()
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = _time()
    created_by: str = ""


class LabelTask(SQLModel, table=True):
    """A prediction offered to a person for labelling (wk label, the console's queue)."""

    __tablename__ = "label_task"
    __table_args__ = (Index("ix_label_task_model_status", "model_id", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id")
    prediction_id: str = Field(unique=True)
    window_start: datetime = _time()
    window_end: datetime = _time()
    status: str = LabelTaskStatus.OPEN
    created_at: datetime = _time()
    done_by: str = ""
    done_at: datetime | None = _time(nullable=True)
