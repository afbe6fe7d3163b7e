"""Explanations kept with predictions (prediction_explanation) and the lookups an
explanation's replay needs. Functions take an open Session; the caller owns the
transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from store.access_tables import PredictionExplanation
from store.tables import Prediction

EXPLANATION_KEYS = ("prediction_id", "version_id", "artifact_sha256", "method", "baseline", "output",
                    "contributions", "reproduced", "created_at", "created_by")


def prediction_version_id(session: Session, prediction_id: str) -> int | None:
    """The version that answered a logged prediction (None: no such prediction)."""
    stmt = select(col(Prediction.version_id)).where(col(Prediction.prediction_id) == prediction_id)
    return session.execute(stmt).scalars().first()


def get_explanation(session: Session, prediction_id: str) -> dict[str, Any] | None:
    row = session.execute(select(PredictionExplanation).where(
        col(PredictionExplanation.prediction_id) == prediction_id)).scalars().first()
    return None if row is None else {k: getattr(row, k) for k in EXPLANATION_KEYS}


def put_explanation(session: Session, *, prediction_id: str, version_id: int, artifact_sha256: str,
                    method: str, baseline: float | None, output: float | None,
                    contributions: dict[str, Any], reproduced: bool,
                    actor: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Keep (or replace) a prediction's explanation; returns (the one before, the new one)."""
    row = session.execute(select(PredictionExplanation).where(
        col(PredictionExplanation.prediction_id) == prediction_id)).scalars().first()
    before = None if row is None else {k: getattr(row, k) for k in EXPLANATION_KEYS}
    if row is None:
        row = PredictionExplanation(prediction_id=prediction_id, version_id=version_id,
                                    artifact_sha256=artifact_sha256, method=method)
    row.version_id, row.artifact_sha256, row.method = version_id, artifact_sha256, method
    row.baseline, row.output, row.contributions = baseline, output, contributions
    row.reproduced, row.created_by = reproduced, actor
    if before is not None:
        from store.types import utcnow

        row.created_at = utcnow()
    session.add(row)
    session.flush()
    return before, {k: getattr(row, k) for k in EXPLANATION_KEYS}


def request_inputs(session: Session, prediction_id: str, limit: int) -> list[tuple[str, int, str | None]]:
    """The rows answered together with a prediction (same model, version, route, source,
    request, batch run and time: one scored request), in row order, as (prediction id,
    row index, inputs JSON); empty when there are more than `limit`."""
    p = session.execute(select(Prediction).where(col(Prediction.prediction_id) == prediction_id)).scalars().first()
    if p is None:
        return []
    same = [col(Prediction.model_id) == p.model_id, col(Prediction.version_id) == p.version_id,
            col(Prediction.route) == p.route, col(Prediction.source) == p.source, col(Prediction.at) == p.at]
    for column, value in ((Prediction.request_id, p.request_id), (Prediction.batch_run_id, p.batch_run_id)):
        same.append(col(column).is_(None) if value is None else col(column) == value)
    stmt = (select(col(Prediction.prediction_id), col(Prediction.row_index), col(Prediction.inputs))
            .where(*same).order_by(col(Prediction.row_index)).limit(limit + 1))
    rows = [(str(a), int(b), c) for a, b, c in session.execute(stmt).all()]
    return rows if len(rows) <= limit else []
