"""Aliases (a name pointing at a version of a model) and their history of changes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import Session, col, select

from store.tables import Alias, AliasChange, ModelVersion


def aliases_of_model(session: Session, model_id: int) -> Sequence[Alias]:
    return session.exec(select(Alias).where(Alias.model_id == model_id).order_by(col(Alias.name))).all()


def find_alias(session: Session, model_id: int, name: str) -> Alias | None:
    return session.exec(
        select(Alias).where(Alias.model_id == model_id, Alias.name == name)
    ).first()


def alias_changes(session: Session, model_id: int, alias: str) -> Sequence[AliasChange]:
    return session.exec(
        select(AliasChange)
        .where(AliasChange.model_id == model_id, AliasChange.alias == alias)
        .order_by(col(AliasChange.id))
    ).all()


def aliases_pointing_at(session: Session, version_ids: Sequence[int]) -> Sequence[Alias]:
    if not version_ids:
        return []
    return session.exec(select(Alias).where(col(Alias.version_id).in_(version_ids))).all()


def alias_targets(session: Session, names: Sequence[str]) -> Sequence[tuple[int, str, int | None, object]]:
    """(model_id, alias, version number, version created_at) of every alias named one of
    `names`; the version columns are None for an alias whose version row is missing."""
    return session.exec(
        select(Alias.model_id, Alias.name, ModelVersion.version, ModelVersion.created_at)
        .select_from(Alias)
        .outerjoin(ModelVersion, col(ModelVersion.id) == col(Alias.version_id))
        .where(col(Alias.name).in_(list(names)))
    ).all()


def alias_numbers(session: Session) -> Sequence[tuple[int, str, int]]:
    """(model_id, alias, version number) of every alias."""
    return session.exec(
        select(Alias.model_id, Alias.name, ModelVersion.version)
        .join(ModelVersion, col(ModelVersion.id) == col(Alias.version_id))
    ).all()


def alias_names(session: Session, version_id: int) -> list[str]:
    """The names of the aliases pointing at one version."""
    return [a.name for a in aliases_pointing_at(session, [version_id])]


def names_by_version(aliases: Iterable[Alias]) -> dict[int, list[str]]:
    """version id -> the names of the aliases pointing at it."""
    held: dict[int, list[str]] = {}
    for a in aliases:
        held.setdefault(a.version_id, []).append(a.name)
    return held
