"""Model versions: lookups by number and id, and summary counts per model."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from store.errors import Listing, NotFound, see
from store.rows import id_of
from store.tables import ModelVersion, RegisteredModel


def latest_version_number(session: Session, model_id: int) -> int:
    value = session.exec(
        select(func.max(ModelVersion.version)).where(ModelVersion.model_id == model_id)
    ).one()
    return int(value or 0)


def get_version(session: Session, model: RegisteredModel, version: int) -> ModelVersion:
    row = session.exec(
        select(ModelVersion).where(
            ModelVersion.model_id == model.id, ModelVersion.version == version
        )
    ).first()
    if row is None:
        latest = latest_version_number(session, id_of(model))
        has = f"latest is {latest}" if latest else "it has no versions yet"
        raise NotFound(f"model {model.name!r} has no version {version} ({has})",
                       see=see(Listing.VERSIONS, model.name))
    return row


def version_by_id(session: Session, version_id: int) -> ModelVersion:
    row = session.get(ModelVersion, version_id)
    if row is None:
        raise NotFound(f"model version id {version_id} does not exist")
    return row


def list_versions(session: Session, model_id: int) -> Sequence[ModelVersion]:
    return session.exec(
        select(ModelVersion)
        .where(ModelVersion.model_id == model_id)
        .order_by(col(ModelVersion.version).desc())
    ).all()


def versions_of_runs(session: Session, run_ids: Sequence[int]) -> Sequence[ModelVersion]:
    if not run_ids:
        return []
    return session.exec(select(ModelVersion).where(col(ModelVersion.run_id).in_(run_ids))).all()


def version_counts(session: Session) -> dict[int, int]:
    """model id -> number of versions (archived included), from the model_id index."""
    rows = session.exec(
        select(ModelVersion.model_id, func.count()).group_by(col(ModelVersion.model_id))
    ).all()
    return {model_id: int(count) for model_id, count in rows}


def version_stats(session: Session) -> dict[int, tuple[int, int, datetime]]:
    """model id -> (versions, latest version number, newest created_at)."""
    rows = session.exec(
        select(ModelVersion.model_id, func.count(), func.max(ModelVersion.version),
               func.max(ModelVersion.created_at))
        .group_by(col(ModelVersion.model_id))
    ).all()
    return {mid: (int(count), int(latest), newest) for mid, count, latest, newest in rows}
