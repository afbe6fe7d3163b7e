"""What is served: each model's production alias (the champion) and deployment row
(mode, challenger, share, log settings), and the versions' details a server loads.

Functions take an open Session; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session

from store.tables import Alias, Deployment, ModelVersion, RegisteredModel
from store.vocabulary import LogMode, Mode

CHAMPION_ALIAS = "production"


def serving_state(session: Session) -> list[tuple[Any, ...]]:
    """Per model with a production alias or a deployment: (model_id, name, champion
    version id or None, mode, challenger version id, share, log_mode, sample_rate)."""
    champion = (select(Alias.model_id, Alias.version_id)
                .where(Alias.name == CHAMPION_ALIAS).subquery())
    stmt = (
        select(RegisteredModel.id, RegisteredModel.name, champion.c.version_id,
               func.coalesce(Deployment.mode, Mode.SINGLE), Deployment.challenger_version_id,
               func.coalesce(Deployment.challenger_share, 0.0),
               func.coalesce(Deployment.log_mode, LogMode.FULL),
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
