"""Reads of the prediction log (rows with their model, version, inputs, outputs and
labels) and the labels written to it later.

Functions take an open Session; the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlmodel import Session, col

from store.tables import ModelVersion, Prediction, RegisteredModel
from store.vocabulary import Route


def _prediction_columns() -> list[Any]:
    return [Prediction.prediction_id, Prediction.at, RegisteredModel.name, ModelVersion.version,
            Prediction.route, Prediction.source, Prediction.request_id, Prediction.row_index,
            Prediction.batch_run_id, Prediction.latency_ms, Prediction.label, Prediction.label_at]


def _prediction_select(with_data: bool) -> Select[*tuple[Any, ...]]:
    """Prediction rows with their model name and version number (and inputs/outputs)."""
    columns = _prediction_columns() + ([Prediction.inputs, Prediction.outputs] if with_data else [])
    return (select(*columns)
            .join(RegisteredModel, col(RegisteredModel.id) == col(Prediction.model_id))
            .join(ModelVersion, col(ModelVersion.id) == col(Prediction.version_id)))


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
        stmt = stmt.where(col(Prediction.model_id) == model_id)
    if version_id is not None:
        stmt = stmt.where(col(Prediction.version_id) == version_id)
    if route:
        stmt = stmt.where(col(Prediction.route) == route)
    if source:
        stmt = stmt.where(col(Prediction.source) == source)
    if since is not None:
        stmt = stmt.where(col(Prediction.at) >= since)
    if until is not None:
        stmt = stmt.where(col(Prediction.at) < until)
    if id_prefix:
        stmt = stmt.where(col(Prediction.prediction_id).startswith(id_prefix))
    if request_id:
        stmt = stmt.where(col(Prediction.request_id) == request_id)
    if before_id:
        stmt = stmt.where(col(Prediction.prediction_id) < before_id)
    stmt = stmt.order_by(col(Prediction.prediction_id).desc()).limit(limit)
    keys = PREDICTION_LIST_KEYS + (("inputs", "outputs") if with_data else ())
    return [dict(zip(keys, row, strict=True)) for row in session.execute(stmt).all()]


def get_prediction(session: Session, prediction_id: str) -> dict[str, Any] | None:
    row = session.execute(_prediction_select(True).where(col(Prediction.prediction_id) == prediction_id)).first()
    if row is None:
        return None
    return dict(zip(PREDICTION_LIST_KEYS + ("inputs", "outputs"), row, strict=True))


def predictions_by_prefix(session: Session, prefix: str, limit: int = 2) -> list[str]:
    stmt = (select(col(Prediction.prediction_id))
            .where(col(Prediction.prediction_id).startswith(prefix)).limit(limit))
    return list(session.execute(stmt).scalars().all())


def count_predictions(session: Session, model_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(Prediction)
    if model_id is not None:
        stmt = stmt.where(col(Prediction.model_id) == model_id)
    return int(session.execute(stmt).scalar_one())


def prediction_window(session: Session, model_id: int, since: datetime, until: datetime | None = None, *,
                      version_id: int | None = None) -> list[dict[str, Any]]:
    """The prediction rows of a model (optionally one version) made in [since, until),
    oldest first, with their inputs, outputs and labels (what a drift or quality job reads).
    Inputs and outputs are None where the log kept metadata only."""
    stmt = _prediction_select(True).where(col(Prediction.model_id) == model_id, col(Prediction.at) >= since)
    if until is not None:
        stmt = stmt.where(col(Prediction.at) < until)
    if version_id is not None:
        stmt = stmt.where(col(Prediction.version_id) == version_id)
    stmt = stmt.order_by(col(Prediction.prediction_id))
    keys = PREDICTION_LIST_KEYS + ("inputs", "outputs")
    return [dict(zip(keys, row, strict=True)) for row in session.execute(stmt).all()]


# --- labels -------------------------------------------------------------------------------

def label_by_prediction_id(session: Session, prediction_id: str, label: str, at: datetime) -> int:
    stmt = (update(Prediction).where(col(Prediction.prediction_id) == prediction_id)
            .values(label=label, label_at=at))
    return int(session.exec(stmt).rowcount or 0)


def label_by_request_id(session: Session, model_id: int | None, request_id: str, row_index: int | None,
                        label: str, at: datetime) -> tuple[int, int]:
    """(rows labelled, rows the request has). With several rows and no row index nothing
    is labelled (the caller reports it)."""
    where = [col(Prediction.request_id) == request_id, col(Prediction.route) != Route.SHADOW]
    if model_id is not None:
        where.append(col(Prediction.model_id) == model_id)
    count = int(session.execute(select(func.count()).select_from(Prediction).where(*where)).scalar_one())
    if row_index is not None:
        where.append(col(Prediction.row_index) == row_index)
    elif count > 1:
        return 0, count
    stmt = update(Prediction).where(*where).values(label=label, label_at=at)
    return int(session.exec(stmt).rowcount or 0), count
