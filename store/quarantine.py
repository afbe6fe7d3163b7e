"""Reads of quarantine: the rows serving and batch scoring refused, with the reason.

Functions take an open Session; the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from store.tables import ModelVersion, Quarantine, RegisteredModel

QUARANTINE_KEYS = ("id", "at", "model", "version", "route", "source", "request_id", "batch_run_id",
                   "row_index", "field", "reason", "payload")


def list_quarantine(session: Session, *, model_id: int | None = None, batch_run_id: str | None = None,
                    source: str | None = None, since: datetime | None = None,
                    before_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    stmt = (select(col(Quarantine.id), col(Quarantine.at), col(RegisteredModel.name), col(ModelVersion.version),
                   col(Quarantine.route), col(Quarantine.source), col(Quarantine.request_id),
                   col(Quarantine.batch_run_id), col(Quarantine.row_index), col(Quarantine.field),
                   col(Quarantine.reason), col(Quarantine.payload))
            .join(RegisteredModel, col(RegisteredModel.id) == col(Quarantine.model_id))
            .outerjoin(ModelVersion, col(ModelVersion.id) == col(Quarantine.version_id)))
    if model_id is not None:
        stmt = stmt.where(col(Quarantine.model_id) == model_id)
    if batch_run_id is not None:
        stmt = stmt.where(col(Quarantine.batch_run_id) == batch_run_id)
    if source:
        stmt = stmt.where(col(Quarantine.source) == source)
    if since is not None:
        stmt = stmt.where(col(Quarantine.at) >= since)
    if before_id is not None:
        stmt = stmt.where(col(Quarantine.id) < before_id)
    stmt = stmt.order_by(col(Quarantine.id).desc()).limit(limit)
    return [dict(zip(QUARANTINE_KEYS, row, strict=True)) for row in session.execute(stmt).all()]
