"""Registered models: lookups by name and id, and lean column reads for lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from store.errors import Listing, NotFound, see
from store.rows import all_rows, pk
from store.tables import RegisteredModel


def find_model(session: Session, name: str) -> RegisteredModel | None:
    return session.exec(select(RegisteredModel).where(RegisteredModel.name == name)).first()


def get_model(session: Session, name: str) -> RegisteredModel:
    model = find_model(session, name)
    if model is None:
        names = list(session.exec(select(RegisteredModel.name).order_by(col(RegisteredModel.name))).all())
        known = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "") if names else "none yet"
        raise NotFound(f"model {name!r} does not exist (models: {known})", see=see(Listing.MODELS))
    return model


def list_models(session: Session) -> Sequence[RegisteredModel]:
    return session.exec(select(RegisteredModel).order_by(col(RegisteredModel.name))).all()


def models_by_ids(session: Session, model_ids: Sequence[int]) -> dict[int, RegisteredModel]:
    if not model_ids:
        return {}
    rows = session.exec(select(RegisteredModel).where(col(RegisteredModel.id).in_(model_ids))).all()
    return {row.id: row for row in rows if row.id is not None}


def model_name(session: Session, model_id: int) -> str:
    model = session.get(RegisteredModel, model_id)
    return model.name if model else str(model_id)


# --- lean column reads for lists and the console's Overview (bench/console_paint.py) ---

def model_heads(session: Session) -> Sequence[tuple[int, str, str]]:
    """(id, name, owner) of every model, by name: no JSON columns."""
    return session.exec(
        select(pk(RegisteredModel.id), col(RegisteredModel.name), col(RegisteredModel.owner))
        .order_by(col(RegisteredModel.name))
    ).all()


def model_list_rows(session: Session) -> Sequence[tuple[int, str, str, str, datetime, str]]:
    """(id, name, owner, task, created_at, team) of every model, by name."""
    return all_rows(session, sa_select(
        pk(RegisteredModel.id), col(RegisteredModel.name), col(RegisteredModel.owner),
        col(RegisteredModel.task), col(RegisteredModel.created_at), col(RegisteredModel.team))
        .order_by(col(RegisteredModel.name)))
