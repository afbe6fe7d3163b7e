"""Reads of quarantine: the rows serving and batch scoring refused, with the reason.

Functions take an open Session; the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from store.tables import ModelVersion, Quarantine, RegisteredModel

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
