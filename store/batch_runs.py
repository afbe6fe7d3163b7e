"""Reads of batch runs (one row per run id, with its counts and status).

Functions take an open Session; the caller owns the transaction.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from store.tables import BatchRun


def get_batch_run(session: Session, run_id: str) -> BatchRun | None:
    return session.get(BatchRun, run_id)


def list_batch_runs(session: Session, model_id: int | None = None, limit: int = 50) -> list[BatchRun]:
    stmt = select(BatchRun)
    if model_id is not None:
        stmt = stmt.where(col(BatchRun.model_id) == model_id)
    stmt = stmt.order_by(col(BatchRun.started_at).desc()).limit(limit)
    return list(session.execute(stmt).scalars().all())
