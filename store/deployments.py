"""What is served: each model's production alias (the champion) and deployment row
(mode, challenger, share, log settings), and the versions' details a server loads.

Functions take an open Session; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from store.rows import all_rows, pk
from store.tables import Alias, Deployment, ModelVersion, RegisteredModel
from store.vocabulary import LogMode, Mode

CHAMPION_ALIAS = "production"


class ServingRow(NamedTuple):
    """A model with a production alias or a deployment row, and how it is served (the
    defaults where it has no deployment row)."""

    model_id: int
    name: str
    champion_id: int | None  # the production alias's version, if it has one
    mode: str
    challenger_id: int | None
    share: float
    log_mode: str
    sample_rate: float
    guardrails: dict[str, Any] | None = None  # what a sane answer is (serving.traffic.guardrails)


def serving_state(session: Session) -> list[ServingRow]:
    """Per model with a production alias or a deployment, by name."""
    champion = (select(col(Alias.model_id), col(Alias.version_id))
                .where(col(Alias.name) == CHAMPION_ALIAS).subquery())
    stmt = (
        select(pk(RegisteredModel.id), col(RegisteredModel.name), champion.c.version_id,
               func.coalesce(Deployment.mode, Mode.SINGLE), col(Deployment.challenger_version_id),
               func.coalesce(Deployment.challenger_share, 0.0),
               func.coalesce(Deployment.log_mode, LogMode.FULL),
               func.coalesce(Deployment.input_sample_rate, 1.0), col(Deployment.guardrails))
        .select_from(RegisteredModel)
        .outerjoin(champion, champion.c.model_id == col(RegisteredModel.id))
        .outerjoin(Deployment, col(Deployment.model_id) == col(RegisteredModel.id))
        .where(or_(champion.c.version_id.is_not(None), col(Deployment.id).is_not(None)))
        .order_by(col(RegisteredModel.name))
    )
    return [ServingRow(*r) for r in all_rows(session, stmt)]


def version_details(session: Session, version_ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """(model_id, model name, version_id, version, sha256, signature, input_example)."""
    if not version_ids:
        return []
    stmt = (select(col(ModelVersion.model_id), col(RegisteredModel.name), col(ModelVersion.id),
                   col(ModelVersion.version), col(ModelVersion.artifact_sha256), col(ModelVersion.signature),
                   col(ModelVersion.input_example))
            .join(RegisteredModel, col(RegisteredModel.id) == col(ModelVersion.model_id))
            .where(col(ModelVersion.id).in_(list(version_ids))))
    return [tuple(r) for r in session.execute(stmt).all()]


def find_deployment(session: Session, model_id: int) -> Deployment | None:
    return session.execute(select(Deployment).where(col(Deployment.model_id) == model_id)).scalars().first()


def champion_version(session: Session, model_id: int) -> ModelVersion | None:
    stmt = (select(ModelVersion).join(Alias, col(Alias.version_id) == col(ModelVersion.id))
            .where(col(Alias.model_id) == model_id, col(Alias.name) == CHAMPION_ALIAS))
    return session.execute(stmt).scalars().first()
