"""Datasets: the fingerprinted data snapshots training runs used."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from store.tables import Dataset


def find_dataset(session: Session, name: str, fingerprint: str) -> Dataset | None:
    return session.exec(
        select(Dataset).where(Dataset.name == name, Dataset.fingerprint == fingerprint)
    ).first()


def datasets_named(session: Session, name: str) -> Sequence[Dataset]:
    return session.exec(
        select(Dataset).where(Dataset.name == name).order_by(col(Dataset.id).desc())
    ).all()


def dataset_by_id(session: Session, dataset_id: int) -> Dataset | None:
    return session.get(Dataset, dataset_id)


def datasets_by_fingerprint_prefix(session: Session, prefix: str) -> Sequence[Dataset]:
    return session.exec(
        select(Dataset).where(col(Dataset.fingerprint).startswith(prefix)).limit(20)
    ).all()


def list_datasets(session: Session) -> Sequence[Dataset]:
    return session.exec(select(Dataset).order_by(col(Dataset.name), col(Dataset.id).desc())).all()
