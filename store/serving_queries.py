"""Serving's reads and small writes: what to serve, deployments, the prediction log and
quarantine for people (CLI, console), rollups for dashboards, labels, batch runs.

Functions take an open Session or Core Connection; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, literal, or_, select, update
from sqlmodel import Session

from store.prediction_log import BUCKET_COLUMNS
from store.tables import (
    Alias,
    BatchRun,
    Deployment,
    MetricRollup,
    ModelVersion,
    Prediction,
    Quarantine,
    RegisteredModel,
)

CHAMPION_ALIAS = "production"


# --- what to serve ----------------------------------------------------------------------

def serving_state(session: Session) -> list[tuple[Any, ...]]:
    """Per model with a production alias or a deployment: (model_id, name, champion
    version id or None, mode, challenger version id, share, log_mode, sample_rate)."""
    champion = (select(Alias.model_id, Alias.version_id)
                .where(Alias.name == CHAMPION_ALIAS).subquery())
    stmt = (
        select(RegisteredModel.id, RegisteredModel.name, champion.c.version_id,
               func.coalesce(Deployment.mode, "single"), Deployment.challenger_version_id,
               func.coalesce(Deployment.challenger_share, 0.0),
               func.coalesce(Deployment.log_mode, "full"),
               func.coalesce(Deployment.input_sample_rate, 1.0))
        .select_from(RegisteredModel)
        .outerjoin(champion, champion.c.model_id == RegisteredModel.id)
        .outerjoin(Deployment, Deployment.model_id == RegisteredModel.id)  # type: ignore[arg-type]
        .where(or_(champion.c.version_id.is_not(None), Deployment.id.is_not(None)))  # type: ignore[union-attr]
        .order_by(RegisteredModel.name)
    )
    return [tuple(r) for r in session.execute(stmt).all()]


def version_details(session: Session, version_ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """(model_id, model name, version_id, version, sha256, signature, input_example)."""
    if not version_ids:
        return []
    stmt = (select(ModelVersion.model_id, RegisteredModel.name, ModelVersion.id, ModelVersion.version,
                   ModelVersion.artifact_sha256, ModelVersion.signature, ModelVersion.input_example)
            .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)  # type: ignore[arg-type]
            .where(ModelVersion.id.in_(list(version_ids))))  # type: ignore[union-attr]
    return [tuple(r) for r in session.execute(stmt).all()]


def find_deployment(session: Session, model_id: int) -> Deployment | None:
    return session.execute(select(Deployment).where(Deployment.model_id == model_id)).scalars().first()


def champion_version(session: Session, model_id: int) -> ModelVersion | None:
    stmt = (select(ModelVersion).join(Alias, Alias.version_id == ModelVersion.id)  # type: ignore[arg-type]
            .where(Alias.model_id == model_id, Alias.name == CHAMPION_ALIAS))
    return session.execute(stmt).scalars().first()


# --- the prediction log for people ------------------------------------------------------

def _prediction_columns() -> list[Any]:
    return [Prediction.prediction_id, Prediction.at, RegisteredModel.name, ModelVersion.version,
            Prediction.route, Prediction.source, Prediction.request_id, Prediction.row_index,
            Prediction.batch_run_id, Prediction.latency_ms, Prediction.label, Prediction.label_at]


def _prediction_select(with_data: bool) -> Any:
    """Prediction rows with their model name and version number (and inputs/outputs)."""
    columns = _prediction_columns() + ([Prediction.inputs, Prediction.outputs] if with_data else [])
    return (select(*columns)
            .join(RegisteredModel, RegisteredModel.id == Prediction.model_id)  # type: ignore[arg-type]
            .join(ModelVersion, ModelVersion.id == Prediction.version_id))  # type: ignore[arg-type]


PREDICTION_LIST_KEYS = ("prediction_id", "at", "model", "version", "route", "source", "request_id",
                        "row_index", "batch_run_id", "latency_ms", "label", "label_at")


def list_predictions(session: Session, *, model_id: int | None = None, version_id: int | None = None,
                     route: str | None = None, source: str | None = None,
                     since: datetime | None = None, until: datetime | None = None,
                     id_prefix: str | None = None, request_id: str | None = None,
                     before_id: str | None = None, limit: int = 100,
                     with_data: bool = False) -> list[dict[str, Any]]:
    """Newest first; `before_id` pages back (keyset pagination on the time-ordered id)."""
    stmt = _prediction_select(with_data)
    if model_id is not None:
        stmt = stmt.where(Prediction.model_id == model_id)
    if version_id is not None:
        stmt = stmt.where(Prediction.version_id == version_id)
    if route:
        stmt = stmt.where(Prediction.route == route)
    if source:
        stmt = stmt.where(Prediction.source == source)
    if since is not None:
        stmt = stmt.where(Prediction.at >= since)
    if until is not None:
        stmt = stmt.where(Prediction.at < until)
    if id_prefix:
        stmt = stmt.where(Prediction.prediction_id.startswith(id_prefix))  # type: ignore[attr-defined]
    if request_id:
        stmt = stmt.where(Prediction.request_id == request_id)
    if before_id:
        stmt = stmt.where(Prediction.prediction_id < before_id)
    stmt = stmt.order_by(Prediction.prediction_id.desc()).limit(limit)  # type: ignore[attr-defined]
    keys = PREDICTION_LIST_KEYS + (("inputs", "outputs") if with_data else ())
    return [dict(zip(keys, row, strict=True)) for row in session.execute(stmt).all()]


def get_prediction(session: Session, prediction_id: str) -> dict[str, Any] | None:
    row = session.execute(_prediction_select(True).where(Prediction.prediction_id == prediction_id)).first()
    if row is None:
        return None
    return dict(zip(PREDICTION_LIST_KEYS + ("inputs", "outputs"), row, strict=True))


def predictions_by_prefix(session: Session, prefix: str, limit: int = 2) -> list[str]:
    stmt = (select(Prediction.prediction_id)
            .where(Prediction.prediction_id.startswith(prefix)).limit(limit))  # type: ignore[attr-defined]
    return list(session.execute(stmt).scalars().all())


def count_predictions(session: Session, model_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(Prediction)
    if model_id is not None:
        stmt = stmt.where(Prediction.model_id == model_id)
    return int(session.execute(stmt).scalar_one())


QUARANTINE_KEYS = ("id", "at", "model", "version", "route", "source", "request_id", "batch_run_id",
                   "row_index", "field", "reason", "payload")


def list_quarantine(session: Session, *, model_id: int | None = None, batch_run_id: str | None = None,
                    source: str | None = None, since: datetime | None = None,
                    before_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    stmt = (select(Quarantine.id, Quarantine.at, RegisteredModel.name, ModelVersion.version,
                   Quarantine.route, Quarantine.source, Quarantine.request_id,
                   Quarantine.batch_run_id, Quarantine.row_index, Quarantine.field,
                   Quarantine.reason, Quarantine.payload)
            .join(RegisteredModel, RegisteredModel.id == Quarantine.model_id)  # type: ignore[arg-type]
            .outerjoin(ModelVersion, ModelVersion.id == Quarantine.version_id))  # type: ignore[arg-type]
    if model_id is not None:
        stmt = stmt.where(Quarantine.model_id == model_id)
    if batch_run_id is not None:
        stmt = stmt.where(Quarantine.batch_run_id == batch_run_id)
    if source:
        stmt = stmt.where(Quarantine.source == source)
    if since is not None:
        stmt = stmt.where(Quarantine.at >= since)
    if before_id is not None:
        stmt = stmt.where(Quarantine.id < before_id)  # type: ignore[operator]
    stmt = stmt.order_by(Quarantine.id.desc()).limit(limit)  # type: ignore[union-attr]
    return [dict(zip(QUARANTINE_KEYS, row, strict=True)) for row in session.execute(stmt).all()]


# --- labels -------------------------------------------------------------------------------

def label_by_prediction_id(session: Session, prediction_id: str, label: str, at: datetime) -> int:
    stmt = (update(Prediction).where(Prediction.prediction_id == prediction_id)  # type: ignore[arg-type]
            .values(label=label, label_at=at))
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def label_by_request_id(session: Session, model_id: int | None, request_id: str, row_index: int | None,
                        label: str, at: datetime) -> tuple[int, int]:
    """(rows labelled, rows the request has). With several rows and no row index nothing
    is labelled (the caller reports it)."""
    where = [Prediction.request_id == request_id, Prediction.route != "shadow"]
    if model_id is not None:
        where.append(Prediction.model_id == model_id)
    count = int(session.execute(select(func.count()).select_from(Prediction).where(*where)).scalar_one())
    if row_index is not None:
        where.append(Prediction.row_index == row_index)
    elif count > 1:
        return 0, count
    stmt = update(Prediction).where(*where).values(label=label, label_at=at)  # type: ignore[arg-type]
    return int(session.execute(stmt).rowcount or 0), count  # type: ignore[attr-defined]


# --- rollups for dashboards ---------------------------------------------------------------

def rollup_totals(session: Session, since: datetime, model_id: int | None = None) -> list[tuple[Any, ...]]:
    """Per (model, version, route) since a time: (model_id, model, version, route, count,
    errors, latency_sum_ms, latency_max_ms, out_count, out_sum, *bucket counts)."""
    buckets = [func.sum(getattr(MetricRollup, b)) for b in BUCKET_COLUMNS]
    stmt = (select(MetricRollup.model_id, RegisteredModel.name, ModelVersion.version, MetricRollup.route,
                   func.sum(MetricRollup.count), func.sum(MetricRollup.errors),
                   func.sum(MetricRollup.latency_sum_ms), func.max(MetricRollup.latency_max_ms),
                   func.sum(MetricRollup.out_count), func.sum(MetricRollup.out_sum), *buckets)
            .join(RegisteredModel, RegisteredModel.id == MetricRollup.model_id)  # type: ignore[arg-type]
            .join(ModelVersion, ModelVersion.id == MetricRollup.version_id)  # type: ignore[arg-type]
            .where(MetricRollup.minute >= since)
            .group_by(MetricRollup.model_id, RegisteredModel.name, ModelVersion.version, MetricRollup.route))
    if model_id is not None:
        stmt = stmt.where(MetricRollup.model_id == model_id)
    return [tuple(r) for r in session.execute(stmt).all()]


def rollup_vs_rows(session: Session) -> list[tuple[Any, ...]]:
    """Rollup keys whose counts differ from the rows they summarise (should be none):
    (version_id, route, minute, rollup count, row count, rollup errors, quarantined)."""
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    minute = (func.strftime("%Y-%m-%d %H:%M:00.000000", Prediction.at) if sqlite
              else func.date_trunc("minute", Prediction.at))
    qminute = (func.strftime("%Y-%m-%d %H:%M:00.000000", Quarantine.at) if sqlite
               else func.date_trunc("minute", Quarantine.at))
    online = ("api", "cli")
    preds = (select(Prediction.version_id.label("v"), Prediction.route.label("r"), minute.label("m"),
                    func.count().label("n"), literal(0).label("e"))
             .where(Prediction.source.in_(online))  # type: ignore[attr-defined]
             .group_by(Prediction.version_id, Prediction.route, minute))
    quar = (select(Quarantine.version_id.label("v"), Quarantine.route.label("r"), qminute.label("m"),
                   literal(0).label("n"), func.count().label("e"))
            .where(Quarantine.source.in_(online), Quarantine.version_id.is_not(None))  # type: ignore[attr-defined, union-attr]
            .group_by(Quarantine.version_id, Quarantine.route, qminute))
    both = preds.union_all(quar).subquery()
    actual = (select(both.c.v, both.c.r, both.c.m, func.sum(both.c.n).label("n"), func.sum(both.c.e).label("e"))
              .group_by(both.c.v, both.c.r, both.c.m).subquery())
    rminute = (func.strftime("%Y-%m-%d %H:%M:00.000000", MetricRollup.minute) if sqlite
               else MetricRollup.minute)
    rolled = select(MetricRollup.version_id.label("v"), MetricRollup.route.label("r"), rminute.label("m"),
                    MetricRollup.count.label("n"), MetricRollup.errors.label("e")).subquery()
    left = (select(rolled.c.v, rolled.c.r, rolled.c.m, rolled.c.n, func.coalesce(actual.c.n, 0),
                   rolled.c.e, func.coalesce(actual.c.e, 0))
            .outerjoin(actual, and_(actual.c.v == rolled.c.v, actual.c.r == rolled.c.r, actual.c.m == rolled.c.m))
            .where(or_(rolled.c.n != func.coalesce(actual.c.n, 0), rolled.c.e != func.coalesce(actual.c.e, 0))))
    right = (select(actual.c.v, actual.c.r, actual.c.m, literal(0), actual.c.n, literal(0), actual.c.e)
             .outerjoin(rolled, and_(actual.c.v == rolled.c.v, actual.c.r == rolled.c.r, actual.c.m == rolled.c.m))
             .where(rolled.c.v.is_(None)))
    return [tuple(r) for r in session.execute(left).all()] + [tuple(r) for r in session.execute(right).all()]


# --- batch runs ---------------------------------------------------------------------------

def get_batch_run(session: Session, run_id: str) -> BatchRun | None:
    return session.get(BatchRun, run_id)


def list_batch_runs(session: Session, model_id: int | None = None, limit: int = 50) -> list[BatchRun]:
    stmt = select(BatchRun)
    if model_id is not None:
        stmt = stmt.where(BatchRun.model_id == model_id)
    stmt = stmt.order_by(BatchRun.started_at.desc()).limit(limit)  # type: ignore[attr-defined]
    return list(session.execute(stmt).scalars().all())
