"""Stored monitoring reports: drift (with a row per feature), quality and performance.
A report and its feature rows are written in the caller's one transaction, so a check
that fails half-way leaves nothing behind. Functions take an open Session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, SQLModel, col

from store.report_tables import DriftFeature, DriftReport, PerformanceReport, QualityReport

REPORT_TABLES: dict[str, type[SQLModel]] = {
    "drift": DriftReport, "quality": QualityReport, "performance": PerformanceReport,
}
DRIFT_KEYS = ("id", "model_id", "version_id", "profile_id", "window_start", "window_end", "status", "rows",
              "features", "drifted", "drift_share", "domain_auc", "domain", "reason", "seconds",
              "created_at", "created_by")
FEATURE_KEYS = ("feature", "kind", "status", "test", "statistic", "threshold", "p_value", "effect_size",
                "n_reference", "n_current", "reason", "detail")
QUALITY_KEYS = ("id", "model_id", "version_id", "window_start", "window_end", "status", "rows", "errors",
                "warnings", "quarantined", "findings", "detail", "seconds", "created_at", "created_by")
PERFORMANCE_KEYS = ("id", "model_id", "version_id", "window_start", "window_end", "status", "task",
                    "predictions", "labelled", "coverage", "realised", "estimated", "training", "reason",
                    "created_at", "created_by")
REPORT_KEYS = {"drift": DRIFT_KEYS, "quality": QUALITY_KEYS, "performance": PERFORMANCE_KEYS}


def _insert(session: Session, row: SQLModel) -> int:
    session.add(row)
    session.flush()
    row_id = getattr(row, "id", None)
    assert row_id is not None
    return int(row_id)


def add_drift_report(session: Session, report: dict[str, Any], features: list[dict[str, Any]]) -> int:
    report_id = _insert(session, DriftReport(**report))
    session.add_all([DriftFeature(report_id=report_id, **f) for f in features])
    session.flush()
    return report_id


def add_quality_report(session: Session, report: dict[str, Any]) -> int:
    return _insert(session, QualityReport(**report))


def add_performance_report(session: Session, report: dict[str, Any]) -> int:
    return _insert(session, PerformanceReport(**report))


def _select(kind: str) -> Any:
    table: Any = REPORT_TABLES[kind]
    return select(*[getattr(table, k) for k in REPORT_KEYS[kind]])


def list_reports(session: Session, kind: str, model_id: int, *, version_id: int | None = None,
                 since: datetime | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """A model's reports of one kind, newest window first."""
    table: Any = REPORT_TABLES[kind]
    stmt = _select(kind).where(col(table.model_id) == model_id)
    if version_id is not None:
        stmt = stmt.where(col(table.version_id) == version_id)
    if since is not None:
        stmt = stmt.where(col(table.window_end) >= since)
    stmt = stmt.order_by(col(table.window_end).desc(), col(table.id).desc()).limit(limit)
    return [dict(zip(REPORT_KEYS[kind], r, strict=True)) for r in session.execute(stmt).all()]


def get_report(session: Session, kind: str, report_id: int) -> dict[str, Any] | None:
    table: Any = REPORT_TABLES[kind]
    row = session.execute(_select(kind).where(col(table.id) == report_id)).first()
    if row is None:
        return None
    out = dict(zip(REPORT_KEYS[kind], row, strict=True))
    if kind == "drift":
        out["feature_rows"] = drift_features(session, report_id)
    return out


def drift_features(session: Session, report_id: int) -> list[dict[str, Any]]:
    stmt = (select(*[getattr(DriftFeature, k) for k in FEATURE_KEYS])
            .where(col(DriftFeature.report_id) == report_id).order_by(col(DriftFeature.id)))
    return [dict(zip(FEATURE_KEYS, r, strict=True)) for r in session.execute(stmt).all()]


def latest_reports(session: Session, kind: str) -> dict[int, dict[str, Any]]:
    """The newest report of each model (for the Overview), by model id."""
    table: Any = REPORT_TABLES[kind]
    newest = (select(func.max(col(table.id)))
              .group_by(col(table.model_id)).scalar_subquery())
    stmt = _select(kind).where(col(table.id).in_(newest))
    rows = [dict(zip(REPORT_KEYS[kind], r, strict=True)) for r in session.execute(stmt).all()]
    return {r["model_id"]: r for r in rows}
