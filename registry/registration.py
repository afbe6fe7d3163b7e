"""Registering a model: a fitted estimator or a model file becomes the next version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from registry import views
from registry.models import check_model_name, ensure_model
from store import audit
from store import profiles as profile_store
from store import versions as version_store
from store.access import authorize
from store.errors import InvalidInput
from store.roles import Permission
from store.rows import id_of
from store.tables import ModelVersion, RegisteredModel
from store.vocabulary import AuditAction, ProfileSource, VersionSource

if TYPE_CHECKING:
    import pandas as pd
    from sqlmodel import Session

    from store.artifacts import StoredArtifact
    from store.handle import Store

def insert_version(
    session: Session,
    model: RegisteredModel,
    artifact: StoredArtifact,
    *,
    actor: str,
    flavor: str,
    signature: dict[str, Any] | None,
    example: list[dict[str, Any]] | None,
    metrics: dict[str, Any] | None,
    params: dict[str, Any] | None,
    run_id: int | None,
    source: str,
    code_version: dict[str, Any] | None,
    environment: dict[str, Any] | None,
    description: str = "",
    tags: list[str] | None = None,
    reason: str = "",
) -> ModelVersion:
    """Add the next version number of `model`; the caller's transaction is IMMEDIATE, so
    two registrations cannot take the same number."""
    model_id = id_of(model)
    number = version_store.latest_version_number(session, model_id) + 1
    version = ModelVersion(
        model_id=model_id,
        version=number,
        artifact_sha256=artifact.sha256,
        artifact_format=artifact.format,
        artifact_size=artifact.size,
        flavor=flavor,
        signature=signature,
        input_example=example,
        metrics=metrics or {},
        params=params or {},
        run_id=run_id,
        source=source,
        code_version=code_version,
        environment=environment,
        description=description,
        tags=tags or [],
        created_by=actor,
    )
    session.add(version)
    session.flush()
    audit.record(
        session, actor=actor, action=AuditAction.VERSION_REGISTER, target=audit.target(model.name, number),
        after={"version": number, "sha256": artifact.sha256, "source": source, "run_id": run_id,
               "metrics": metrics or {}},
        reason=reason,
    )
    return version

def flavor_of(estimator: Any) -> str:
    cls = type(estimator)
    return f"{cls.__module__}.{cls.__qualname__}"

def estimator_params(estimator: Any) -> dict[str, Any]:
    """The estimator's own parameters that are plain JSON values."""
    try:
        raw = estimator.get_params(deep=False)
    except Exception:
        return {}
    return {k: v for k, v in raw.items() if isinstance(v, str | int | float | bool | type(None))}

def _signature_without_data(estimator: Any) -> dict[str, Any] | None:
    """The signature of an estimator registered without its training data: the fitted
    feature names only."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        return None
    return {"columns": [{"name": str(n), "dtype": "unknown", "kind": "unknown"} for n in names]}

def register_estimator(
    store: Store,
    name: str,
    estimator: Any,
    *,
    training_data: pd.DataFrame | None = None,
    owner: str = "",
    description: str = "",
    tags: list[str] | None = None,
    metrics: dict[str, float] | None = None,
    params: dict[str, Any] | None = None,
    source: str = VersionSource.REGISTER,
    source_file: str | None = None,
    reason: str = "",
    actor: str | None = None,
    input_policy: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Register a fitted scikit-learn estimator or pipeline as the next version of `name`.

    `training_data` (the feature columns the model was fitted on) gives the signature and
    input example; without it the signature holds only the fitted feature names.
    """
    from registry.environment import code_version, environment
    from registry.signature import check_policy, infer_signature, input_example

    actor = authorize(store, actor, Permission.REGISTER, model=name)
    check_model_name(name)
    if not hasattr(estimator, "predict"):
        raise InvalidInput(
            f"object of type {type(estimator).__name__} is not a fitted estimator (no predict)"
        )
    if input_policy and (problem := check_policy(input_policy)):
        raise InvalidInput(problem)
    signature: dict[str, Any] | None
    if training_data is not None:
        signature, example = infer_signature(training_data, input_policy), input_example(training_data)
    else:
        signature, example = _signature_without_data(estimator), None
    reference = _reference_of(estimator, training_data, signature) if training_data is not None else None
    artifact = store.artifacts.put_estimator(estimator)  # published before the row commits
    task = "classification" if hasattr(estimator, "predict_proba") else "regression"
    with store.db.write() as session:
        model = ensure_model(session, name, actor=actor, owner=owner, description=description,
                             tags=tags, task=task)
        version = insert_version(
            session, model, artifact, actor=actor, flavor=flavor_of(estimator),
            signature=signature, example=example, metrics=metrics,
            params=params if params is not None else estimator_params(estimator),
            run_id=None, source=source, code_version=code_version(source_file),
            environment=environment(), description=description, tags=tags, reason=reason,
        )
        if reference is not None:
            profile, seconds = reference
            profile_store.add_profile(session, model_id=id_of(model), version_id=id_of(version),
                                      source=ProfileSource.TRAINING, detail={"registered_with": "data"},
                                      rows=int(profile.get("rows", 0)), profile=profile, seconds=seconds,
                                      actor=actor)
        return views.version_view(version, model.name, [])


def _reference_of(estimator: Any, data: pd.DataFrame, signature: dict[str, Any] | None
                  ) -> tuple[dict[str, Any], float] | None:
    """The reference profile of a version registered with its training data: the inputs,
    and the model's answers on them as the prediction's reference (no labels here, so no
    label-free estimate until a reference with labels is pinned: wk monitor reference)."""
    import time

    from registry.reference_data import build_reference, model_outputs

    if not signature or not signature.get("columns"):
        return None
    started = time.perf_counter()
    try:
        predictions, _scores, _positive = model_outputs(estimator, data)
    except Exception:  # a model that cannot score its own data still gets an input profile
        predictions = None
    profile = build_reference(data, list(signature["columns"]), config={}, predictions=predictions)
    return profile, round(time.perf_counter() - started, 3)

def register_file(
    store: Store,
    name: str,
    path: str,
    *,
    trust: bool = False,
    training_data: pd.DataFrame | None = None,
    owner: str = "",
    description: str = "",
    tags: list[str] | None = None,
    reason: str = "",
    actor: str | None = None,
) -> dict[str, Any]:
    """Register a model file: skops files load safely; a pickle/joblib file only with
    `trust`, which is written to the audit log before the file is opened."""
    from pathlib import Path

    from store.artifacts import read_model_file

    actor = authorize(store, actor, Permission.REGISTER, model=name)
    check_model_name(name)
    file_path = Path(path).expanduser().absolute()
    if trust:
        with store.db.write() as session:
            audit.record(
                session, actor=actor, action=AuditAction.ARTIFACT_TRUST, target=audit.target(name),
                after={"file": str(file_path)}, reason=reason or "imported as a trusted file",
            )
    estimator, how = read_model_file(file_path, trust=trust)
    source = VersionSource.IMPORT_TRUSTED if how != "skops" else VersionSource.REGISTER
    return register_estimator(
        store, name, estimator, training_data=training_data, owner=owner,
        description=description, tags=tags, source=source,
        source_file=None, reason=reason, actor=actor,
    )
