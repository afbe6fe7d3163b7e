"""The labelling queue's rows (LabelTask): predictions offered to a person for a label, at
most once each (the prediction id is unique in the table)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from store.report_tables import LabelTask
from store.tables import ModelVersion, Prediction
from store.vocabulary import LabelTaskStatus, Route


def candidates(session: Session, model_id: int, start: datetime, end: datetime) -> list[str]:
    """Prediction ids of a window that may be queued: not shadow, inputs logged, no label
    yet, never queued before; oldest first (a seeded sample of them is then stable)."""
    queued = select(LabelTask.prediction_id).where(LabelTask.model_id == model_id)
    query = (select(Prediction.prediction_id)
             .where(Prediction.model_id == model_id, col(Prediction.at) >= start, col(Prediction.at) < end,
                    col(Prediction.route) != Route.SHADOW, col(Prediction.inputs).is_not(None),
                    col(Prediction.label).is_(None), col(Prediction.prediction_id).not_in(queued))
             .order_by(col(Prediction.at), col(Prediction.id)))
    return [str(pid) for pid in session.exec(query).all()]


def queued_in_window(session: Session, model_id: int, window_start: datetime) -> int:
    """Tasks of any state already drawn from the window starting at `window_start`."""
    query = select(func.count()).select_from(LabelTask).where(
        LabelTask.model_id == model_id, LabelTask.window_start == window_start)
    return int(session.exec(query).one())


def add_tasks(session: Session, tasks: Sequence[LabelTask]) -> None:
    session.add_all(list(tasks))
    session.flush()


def open_tasks(session: Session, model_id: int, limit: int) -> list[tuple[LabelTask, Prediction, int]]:
    """Open tasks whose prediction is still unlabelled (a label that came through feedback
    meanwhile closes it), oldest window first, with the prediction and its version number."""
    query = (select(LabelTask, Prediction, ModelVersion.version)
             .join(Prediction, col(Prediction.prediction_id) == LabelTask.prediction_id)
             .join(ModelVersion, col(ModelVersion.id) == Prediction.version_id)
             .where(LabelTask.model_id == model_id, LabelTask.status == LabelTaskStatus.OPEN,
                    col(Prediction.label).is_(None))
             .order_by(col(LabelTask.window_start), col(LabelTask.id)).limit(limit))
    return [(task, prediction, int(version)) for task, prediction, version in session.exec(query).all()]


def count_open(session: Session, model_id: int) -> int:
    query = (select(func.count()).select_from(LabelTask)
             .join(Prediction, col(Prediction.prediction_id) == LabelTask.prediction_id)
             .where(LabelTask.model_id == model_id, LabelTask.status == LabelTaskStatus.OPEN,
                    col(Prediction.label).is_(None)))
    return int(session.exec(query).one())


def tasks_by_ref(session: Session, ref: str, limit: int = 2) -> list[LabelTask]:
    """The task of a prediction id, else the tasks whose prediction id starts with `ref`."""
    exact = session.exec(select(LabelTask).where(LabelTask.prediction_id == ref)).first()
    if exact is not None:
        return [exact]
    query = (select(LabelTask).where(col(LabelTask.prediction_id).startswith(ref))
             .order_by(col(LabelTask.id)).limit(limit))
    return list(session.exec(query).all())


def prediction_of(session: Session, prediction_id: str) -> Prediction | None:
    return session.exec(select(Prediction).where(Prediction.prediction_id == prediction_id)).first()
