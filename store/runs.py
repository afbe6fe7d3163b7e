"""Training and reproduce runs: lookups, and lean column reads for lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from store.errors import Listing, NotFound, see
from store.rows import all_rows, pk
from store.tables import ModelVersion, RegisteredModel, TrainingRun
from store.vocabulary import RunStatus


def get_run(session: Session, run_id: int) -> TrainingRun:
    run = session.get(TrainingRun, run_id)
    if run is None:
        raise NotFound(f"training run {run_id} does not exist", see=see(Listing.MODEL))
    return run


def runs_of_model(session: Session, model_id: int, limit: int = 50) -> Sequence[TrainingRun]:
    return session.exec(
        select(TrainingRun)
        .where(TrainingRun.model_id == model_id)
        .order_by(col(TrainingRun.id).desc())
        .limit(limit)
    ).all()


def recent_runs(session: Session, limit: int = 500) -> Sequence[TrainingRun]:
    return session.exec(select(TrainingRun).order_by(col(TrainingRun.id).desc()).limit(limit)).all()


def running_runs(session: Session, model_id: int) -> Sequence[TrainingRun]:
    return session.exec(
        select(TrainingRun).where(TrainingRun.model_id == model_id,
                                  TrainingRun.status == RunStatus.RUNNING)
    ).all()


def runs_using_datasets(session: Session, dataset_ids: Sequence[int]) -> Sequence[TrainingRun]:
    if not dataset_ids:
        return []
    return session.exec(
        select(TrainingRun)
        .where(
            col(TrainingRun.train_dataset_id).in_(dataset_ids)
            | col(TrainingRun.eval_dataset_id).in_(dataset_ids)
        )
        .order_by(col(TrainingRun.id))
    ).all()


def failed_gate_counts(session: Session, since: datetime) -> dict[int, int]:
    rows = session.exec(
        select(TrainingRun.model_id, func.count())
        .where(TrainingRun.status == RunStatus.FAILED_GATE, TrainingRun.started_at >= since)
        .group_by(col(TrainingRun.model_id))
    ).all()
    return {model_id: int(count) for model_id, count in rows}


# --- lean column reads for lists and the console's Overview (bench/console_paint.py) ---

def last_run_summaries(session: Session) -> dict[int, tuple[int, str, str, datetime]]:
    """model id -> (id, status, reason, started_at) of its newest training run, without
    the run's JSON columns and log."""
    newest = select(func.max(TrainingRun.id)).group_by(col(TrainingRun.model_id))
    rows = all_rows(session, sa_select(
        col(TrainingRun.model_id), pk(TrainingRun.id), col(TrainingRun.status), col(TrainingRun.reason),
        col(TrainingRun.started_at))
        .where(col(TrainingRun.id).in_(newest)))
    return {model_id: (run_id, status, reason, started) for model_id, run_id, status, reason, started in rows}


def run_heads(session: Session, limit: int,
              model_id: int | None = None) -> Sequence[tuple[int, str, str, str, str, datetime, str, int | None]]:
    """(id, model name, kind, status, reason, started_at, created_by, version number or
    None) of the newest runs, without their JSON columns and logs."""
    query = (
        sa_select(pk(TrainingRun.id), col(RegisteredModel.name), col(TrainingRun.kind), col(TrainingRun.status),
                  col(TrainingRun.reason), col(TrainingRun.started_at), col(TrainingRun.created_by),
                  col(ModelVersion.version))
        .join(RegisteredModel, col(RegisteredModel.id) == col(TrainingRun.model_id))
        .outerjoin(ModelVersion, col(ModelVersion.run_id) == col(TrainingRun.id))
    )
    if model_id is not None:
        query = query.where(col(TrainingRun.model_id) == model_id)
    return all_rows(session, query.order_by(col(TrainingRun.id).desc()).limit(limit))
