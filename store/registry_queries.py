"""The registry's queries: models, versions, aliases, runs and datasets.

Every function takes an open Session; the caller owns the transaction, so a service
action composes several of these and its audit event into one commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from store.errors import NotFound
from store.tables import Alias, AliasChange, Dataset, ModelVersion, RegisteredModel, TrainingRun


def find_model(session: Session, name: str) -> RegisteredModel | None:
    return session.exec(select(RegisteredModel).where(RegisteredModel.name == name)).first()


def get_model(session: Session, name: str) -> RegisteredModel:
    model = find_model(session, name)
    if model is None:
        names = list(session.exec(select(RegisteredModel.name).order_by(RegisteredModel.name)).all())
        known = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "") if names else "none yet"
        raise NotFound(
            f"model {name!r} does not exist (models: {known}); see 'wk models list'"
        )
    return model


def list_models(session: Session) -> Sequence[RegisteredModel]:
    return session.exec(select(RegisteredModel).order_by(RegisteredModel.name)).all()


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
        latest = latest_version_number(session, model.id)  # type: ignore[arg-type]
        has = f"latest is {latest}" if latest else "it has no versions yet"
        raise NotFound(
            f"model {model.name!r} has no version {version} ({has}); "
            f"see 'wk models versions {model.name}'"
        )
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




def aliases_of_model(session: Session, model_id: int) -> Sequence[Alias]:
    return session.exec(select(Alias).where(Alias.model_id == model_id).order_by(Alias.name)).all()




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


def runs_of_model(session: Session, model_id: int, limit: int = 50) -> Sequence[TrainingRun]:
    return session.exec(
        select(TrainingRun)
        .where(TrainingRun.model_id == model_id)
        .order_by(col(TrainingRun.id).desc())
        .limit(limit)
    ).all()




def get_run(session: Session, run_id: int) -> TrainingRun:
    run = session.get(TrainingRun, run_id)
    if run is None:
        raise NotFound(f"training run {run_id} does not exist; see 'wk models show MODEL'")
    return run


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
    return session.exec(select(Dataset).order_by(Dataset.name, col(Dataset.id).desc())).all()


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


def versions_of_runs(session: Session, run_ids: Sequence[int]) -> Sequence[ModelVersion]:
    if not run_ids:
        return []
    return session.exec(select(ModelVersion).where(col(ModelVersion.run_id).in_(run_ids))).all()


def models_by_ids(session: Session, model_ids: Sequence[int]) -> dict[int, RegisteredModel]:
    if not model_ids:
        return {}
    rows = session.exec(select(RegisteredModel).where(col(RegisteredModel.id).in_(model_ids))).all()
    return {row.id: row for row in rows}  # type: ignore[misc]




def failed_gate_counts(session: Session, since: object) -> dict[int, int]:
    rows = session.exec(
        select(TrainingRun.model_id, func.count())
        .where(TrainingRun.status == "failed_gate", TrainingRun.started_at >= since)
        .group_by(TrainingRun.model_id)
    ).all()
    return {model_id: int(count) for model_id, count in rows}


def recent_runs(session: Session, limit: int = 500) -> Sequence[TrainingRun]:
    return session.exec(select(TrainingRun).order_by(col(TrainingRun.id).desc()).limit(limit)).all()


# --- lean column reads for the console's Overview (bench/console_paint.py) -----------

def model_heads(session: Session) -> Sequence[tuple[int, str, str]]:
    """(id, name, owner) of every model, by name: no JSON columns."""
    return session.exec(
        select(RegisteredModel.id, RegisteredModel.name, RegisteredModel.owner)
        .order_by(RegisteredModel.name)
    ).all()


def version_counts(session: Session) -> dict[int, int]:
    """model id -> number of versions (archived included), from the model_id index."""
    rows = session.exec(
        select(ModelVersion.model_id, func.count()).group_by(ModelVersion.model_id)
    ).all()
    return {model_id: int(count) for model_id, count in rows}


def alias_targets(session: Session, names: Sequence[str]) -> Sequence[tuple[int, str, int | None, object]]:
    """(model_id, alias, version number, version created_at) of every alias named one of
    `names`; the version columns are None for an alias whose version row is missing."""
    return session.exec(
        select(Alias.model_id, Alias.name, ModelVersion.version, ModelVersion.created_at)
        .select_from(Alias)
        .outerjoin(ModelVersion, col(ModelVersion.id) == col(Alias.version_id))
        .where(col(Alias.name).in_(list(names)))
    ).all()


def last_run_summaries(session: Session) -> dict[int, tuple[int, str, str, object]]:
    """model id -> (id, status, reason, started_at) of its newest training run, without
    the run's JSON columns and log."""
    newest = select(func.max(TrainingRun.id)).group_by(TrainingRun.model_id)
    rows = session.exec(
        select(TrainingRun.model_id, TrainingRun.id, TrainingRun.status, TrainingRun.reason,
               TrainingRun.started_at)
        .where(col(TrainingRun.id).in_(newest))
    ).all()
    return {model_id: (run_id, status, reason, started) for model_id, run_id, status, reason, started in rows}


def model_list_rows(session: Session) -> Sequence[tuple[int, str, str, str, object]]:
    """(id, name, owner, task, created_at) of every model, by name."""
    return session.exec(
        select(RegisteredModel.id, RegisteredModel.name, RegisteredModel.owner,
               RegisteredModel.task, RegisteredModel.created_at)
        .order_by(RegisteredModel.name)
    ).all()


def version_stats(session: Session) -> dict[int, tuple[int, int, object]]:
    """model id -> (versions, latest version number, newest created_at)."""
    rows = session.exec(
        select(ModelVersion.model_id, func.count(), func.max(ModelVersion.version),
               func.max(ModelVersion.created_at))
        .group_by(ModelVersion.model_id)
    ).all()
    return {mid: (int(count), int(latest), newest) for mid, count, latest, newest in rows}


def alias_numbers(session: Session) -> Sequence[tuple[int, str, int]]:
    """(model_id, alias, version number) of every alias."""
    return session.exec(
        select(Alias.model_id, Alias.name, ModelVersion.version)
        .join(ModelVersion, col(ModelVersion.id) == col(Alias.version_id))
    ).all()


def run_heads(session: Session, limit: int, model_id: int | None = None) -> Sequence[tuple[Any, ...]]:
    """(id, model name, kind, status, reason, started_at, created_by, version number or
    None) of the newest runs, without their JSON columns and logs."""
    query = (
        select(TrainingRun.id, RegisteredModel.name, TrainingRun.kind, TrainingRun.status,
               TrainingRun.reason, TrainingRun.started_at, TrainingRun.created_by,
               ModelVersion.version)
        .join(RegisteredModel, col(RegisteredModel.id) == col(TrainingRun.model_id))
        .outerjoin(ModelVersion, col(ModelVersion.run_id) == col(TrainingRun.id))
    )
    if model_id is not None:
        query = query.where(TrainingRun.model_id == model_id)
    return session.exec(query.order_by(col(TrainingRun.id).desc()).limit(limit)).all()


def running_runs(session: Session, model_id: int) -> Sequence[TrainingRun]:
    return session.exec(
        select(TrainingRun).where(TrainingRun.model_id == model_id, TrainingRun.status == "running")
    ).all()


def model_name(session: Session, model_id: int) -> str:
    model = session.get(RegisteredModel, model_id)
    return model.name if model else str(model_id)
