"""Registry actions and queries. Each mutating action runs in one write transaction
together with its audit event; each returns plain dicts (registry.views)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from registry import views
from store import aliases as alias_store
from store import audit
from store import datasets as dataset_store
from store import models as model_store
from store import runs as run_store
from store import versions as version_store
from store.errors import InvalidInput, NotFound, Refused, UsageError
from store.identity import current_actor
from store.tables import Alias, AliasChange, ModelVersion, RegisteredModel
from store.types import utcnow

if TYPE_CHECKING:
    import pandas as pd
    from sqlmodel import Session

    from store.artifacts import StoredArtifact
    from store.handle import Store

ALIAS_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
PROTECTED_ALIASES = frozenset({"production"})


def check_model_name(name: str) -> None:
    if not MODEL_NAME.fullmatch(name or ""):
        raise InvalidInput(
            f"model name {name!r} is not allowed; use 1-100 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )


def check_alias_name(alias: str) -> None:
    if not ALIAS_NAME.fullmatch(alias or ""):
        raise InvalidInput(
            f"alias {alias!r} is not allowed; use lower-case letters, digits, '_' or '-' "
            "(1-40 characters, starting with a letter), e.g. production or staging"
        )


def _target(model: str, version: int | None = None, alias: str | None = None) -> str:
    if alias:
        return f"model/{model}/alias/{alias}"
    return f"model/{model}/v{version}" if version is not None else f"model/{model}"


def resolve_version(session: Session, model: RegisteredModel, ref: str | int) -> ModelVersion:
    """A version by number ('3', 'v3') or by an alias that points at it ('production')."""
    text = str(ref).strip()
    number = text[1:] if text[:1] in "vV" and text[1:].isdigit() else text
    if number.isdigit():
        return version_store.get_version(session, model, int(number))
    alias = alias_store.find_alias(session, model.id, text)  # type: ignore[arg-type]
    if alias is None:
        names = [a.name for a in alias_store.aliases_of_model(session, model.id)]  # type: ignore[arg-type]
        raise NotFound(
            f"model {model.name!r} has no version or alias {text!r} (aliases: "
            f"{', '.join(names) or 'none'}); give a version number, see 'wk models versions {model.name}'"
        )
    return version_store.version_by_id(session, alias.version_id)


def _alias_names(session: Session, version_id: int) -> list[str]:
    return [a.name for a in alias_store.aliases_pointing_at(session, [version_id])]


# --- writes -------------------------------------------------------------------------

def ensure_model(
    session: Session,
    name: str,
    *,
    actor: str,
    owner: str = "",
    description: str = "",
    tags: list[str] | None = None,
    task: str = "",
) -> RegisteredModel:
    """The model row, created (and audited) on first use."""
    model = model_store.find_model(session, name)
    if model is not None:
        changed = False
        if task and not model.task:
            model.task, changed = task, True
        if changed:
            session.add(model)
        return model
    check_model_name(name)
    model = RegisteredModel(
        name=name, owner=owner or actor, description=description, tags=tags or [], task=task,
        created_by=actor,
    )
    session.add(model)
    session.flush()
    audit.record(session, actor=actor, action="model.create", target=_target(name),
                 after=views.model_view(model))
    return model


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
    number = version_store.latest_version_number(session, model.id) + 1  # type: ignore[arg-type]
    version = ModelVersion(
        model_id=model.id,  # type: ignore[arg-type]
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
        session, actor=actor, action="version.register", target=_target(model.name, number),
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
    source: str = "register",
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
    from registry.signature import infer_signature, input_example

    actor = actor or current_actor()
    check_model_name(name)
    if not hasattr(estimator, "predict"):
        raise InvalidInput(
            f"object of type {type(estimator).__name__} is not a fitted estimator (no predict)"
        )
    from registry.signature import check_policy

    if input_policy and (problem := check_policy(input_policy)):
        raise InvalidInput(problem)
    if training_data is not None:
        signature, example = infer_signature(training_data, input_policy), input_example(training_data)
    else:
        names = getattr(estimator, "feature_names_in_", None)
        signature = (
            {"columns": [{"name": str(n), "dtype": "unknown", "kind": "unknown"} for n in names]}
            if names is not None else None
        )
        example = None
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
        return views.version_view(version, model.name, [])


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

    actor = actor or current_actor()
    check_model_name(name)
    file_path = Path(path).expanduser().absolute()
    if trust:
        with store.db.write() as session:
            audit.record(
                session, actor=actor, action="artifact.trust", target=_target(name),
                after={"file": str(file_path)}, reason=reason or "imported with --trust",
            )
    estimator, how = read_model_file(file_path, trust=trust)
    return register_estimator(
        store, name, estimator, training_data=training_data, owner=owner,
        description=description, tags=tags, source="import-trusted" if how != "skops" else "register",
        source_file=None, reason=reason, actor=actor,
    )


def promote(store: Store, name: str, version: str | int, alias: str, *, reason: str = "",
            actor: str | None = None) -> dict[str, Any]:
    """Point `alias` at a version; the previous holder is remembered for rollback."""
    actor = actor or current_actor()
    check_alias_name(alias)
    if alias in PROTECTED_ALIASES and not reason.strip():
        raise UsageError(f"changing {alias} needs a reason: add --reason \"...\"")
    with store.db.write() as session:
        model = model_store.get_model(session, name)
        return promote_in(session, model, resolve_version(session, model, version), alias,
                          actor=actor, reason=reason)


def promote_in(session: Session, model: RegisteredModel, target: ModelVersion, alias: str, *,
               actor: str, reason: str) -> dict[str, Any]:
    """The promote itself, inside the caller's write transaction (deployments use it too)."""
    name = model.name
    if target.status == "archived":
        raise Refused(
            f"{name} v{target.version} is archived and cannot be promoted; register or "
            "train a new version"
        )
    current = alias_store.find_alias(session, model.id, alias)  # type: ignore[arg-type]
    old_version = version_store.version_by_id(session, current.version_id).version if current else None
    old_version_id = current.version_id if current else None
    if current is not None and current.version_id == target.id:
        return {"model": name, "alias": alias, "from_version": old_version,
                "to_version": target.version, "changed": False}
    if current is None:
        current = Alias(model_id=model.id, name=alias, version_id=target.id)  # type: ignore[arg-type]
    else:
        current.version_id, current.updated_at = target.id, utcnow()  # type: ignore[assignment]
    session.add(current)
    session.add(AliasChange(
        model_id=model.id, alias=alias, action="promote",  # type: ignore[arg-type]
        from_version_id=old_version_id,
        to_version_id=target.id, actor=actor, reason=reason,  # type: ignore[arg-type]
    ))
    audit.record(
        session, actor=actor, action="alias.promote", target=_target(name, alias=alias),
        before={"version": old_version}, after={"version": target.version}, reason=reason,
    )
    return {"model": name, "alias": alias, "from_version": old_version,
            "to_version": target.version, "changed": True}


def alias_stack(changes: list[AliasChange]) -> list[int]:
    """Replay an alias's history: a promote pushes its version, a rollback pops one."""
    stack: list[int] = []
    for change in changes:
        if change.action == "rollback":
            if stack:
                stack.pop()
            if not stack or stack[-1] != change.to_version_id:
                stack.append(change.to_version_id)
        else:
            stack.append(change.to_version_id)
    return stack


def _rollback_plan(session: Session, name: str, alias: str) -> tuple[RegisteredModel, Alias, ModelVersion, ModelVersion]:
    """(model, alias row, current version, previous holder) for a rollback of `alias`."""
    model = model_store.get_model(session, name)
    current = alias_store.find_alias(session, model.id, alias)  # type: ignore[arg-type]
    if current is None:
        raise NotFound(f"model {name!r} has no alias {alias!r}; see 'wk models show {name}'")
    from_version = version_store.version_by_id(session, current.version_id)
    stack = alias_stack(list(alias_store.alias_changes(session, model.id, alias)))  # type: ignore[arg-type]
    if len(stack) < 2:
        raise Refused(
            f"{name} {alias} has no previous version to roll back to (it has only ever "
            f"pointed at v{from_version.version}); promote another version instead"
        )
    to_version = version_store.version_by_id(session, stack[-2])
    if to_version.status == "archived":
        raise Refused(
            f"{name} {alias} would roll back to v{to_version.version}, which is archived; "
            "promote an active version instead"
        )
    return model, current, from_version, to_version


def rollback(store: Store, name: str, alias: str, *, reason: str = "",
             actor: str | None = None) -> dict[str, Any]:
    """Return `alias` to the version that held it before the current one."""
    actor = actor or current_actor()
    if alias in PROTECTED_ALIASES and not reason.strip():
        raise UsageError(f"rolling back {alias} needs a reason: add --reason \"...\"")
    with store.db.write() as session:
        model, current, from_version, to_version = _rollback_plan(session, name, alias)
        current.version_id, current.updated_at = to_version.id, utcnow()  # type: ignore[assignment]
        session.add(current)
        session.add(AliasChange(
            model_id=model.id, alias=alias, action="rollback", from_version_id=from_version.id,  # type: ignore[arg-type]
            to_version_id=to_version.id, actor=actor, reason=reason,  # type: ignore[arg-type]
        ))
        audit.record(
            session, actor=actor, action="alias.rollback", target=_target(name, alias=alias),
            before={"version": from_version.version}, after={"version": to_version.version},
            reason=reason,
        )
        return {"model": name, "alias": alias, "from_version": from_version.version,
                "to_version": to_version.version, "changed": True}


def archive(store: Store, name: str, version: str | int, *, reason: str = "",
            actor: str | None = None) -> dict[str, Any]:
    actor = actor or current_actor()
    with store.db.write() as session:
        model = model_store.get_model(session, name)
        row = resolve_version(session, model, version)
        holders = _alias_names(session, row.id)  # type: ignore[arg-type]
        if holders:
            raise Refused(
                f"{name} v{row.version} is held by alias {', '.join(holders)}; promote another "
                "version to it (or roll it back) before archiving"
            )
        if row.status == "archived":
            return {"model": name, "version": row.version, "status": "archived", "changed": False}
        row.status, row.archived_at = "archived", utcnow()
        session.add(row)
        audit.record(session, actor=actor, action="version.archive",
                     target=_target(name, row.version), before={"status": "active"},
                     after={"status": "archived"}, reason=reason)
        return {"model": name, "version": row.version, "status": "archived", "changed": True}


# --- reads --------------------------------------------------------------------------

def list_models(store: Store) -> list[dict[str, Any]]:
    """Every model with its version count, latest version, aliases and last run; reads
    summary columns only (no version metadata), so it stays fast with many versions."""
    with store.db.read() as session:
        stats = version_store.version_stats(session)
        aliases: dict[int, dict[str, int]] = {}
        for mid, alias, number in alias_store.alias_numbers(session):
            aliases.setdefault(mid, {})[alias] = number
        runs = run_store.last_run_summaries(session)
        out = []
        for mid, name, owner, task, created_at in model_store.model_list_rows(session):
            count, latest, newest = stats.get(mid, (0, None, None))
            run = runs.get(mid)
            out.append({
                "name": name,
                "owner": owner,
                "task": task,
                "versions": count,
                "latest_version": latest,
                "aliases": dict(sorted(aliases.get(mid, {}).items())),
                "last_run": {"id": run[0], "status": run[1], "reason": run[2],
                             "started_at": views.iso(run[3])} if run else None,
                "updated_at": views.iso(newest or created_at),
            })
        return out


def list_versions(store: Store, name: str) -> list[dict[str, Any]]:
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        rows = version_store.list_versions(session, model.id)  # type: ignore[arg-type]
        held: dict[int, list[str]] = {}
        for a in alias_store.aliases_of_model(session, model.id):  # type: ignore[arg-type]
            held.setdefault(a.version_id, []).append(a.name)
        return [views.version_row(v, name, held.get(v.id, [])) for v in rows]  # type: ignore[arg-type]


def _datasets_of_run(session: Session, run_id: int | None) -> dict[str, Any]:
    if run_id is None:
        return {}
    run = run_store.get_run(session, run_id)
    out: dict[str, Any] = {}
    for role, ds_id in (("train", run.train_dataset_id), ("eval", run.eval_dataset_id)):
        if ds_id is not None and (ds := dataset_store.dataset_by_id(session, ds_id)) is not None:
            out[role] = views.dataset_view(ds)
    return out


def show_version(store: Store, name: str, version: str | int) -> dict[str, Any]:
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        row = resolve_version(session, model, version)
        out = views.version_view(row, name, _alias_names(session, row.id))  # type: ignore[arg-type]
        out["datasets"] = _datasets_of_run(session, row.run_id)
        return out


def show_model(store: Store, name: str) -> dict[str, Any]:
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        rows = list(version_store.list_versions(session, model.id))  # type: ignore[arg-type]
        by_id = {v.id: v for v in rows}
        alias_rows = alias_store.aliases_of_model(session, model.id)  # type: ignore[arg-type]
        held: dict[int, list[str]] = {}
        for a in alias_rows:
            held.setdefault(a.version_id, []).append(a.name)
        runs = run_store.runs_of_model(session, model.id, limit=10)  # type: ignore[arg-type]
        version_of_run = {v.run_id: v.version for v in rows if v.run_id}
        latest = rows[0] if rows else None
        detail = None
        if latest is not None:
            detail = views.version_view(latest, name, held.get(latest.id, []))  # type: ignore[arg-type]
            detail["datasets"] = _datasets_of_run(session, latest.run_id)
        return {
            **views.model_view(model),
            "aliases": {a.name: by_id[a.version_id].version for a in alias_rows},
            "versions": [views.version_row(v, name, held.get(v.id, [])) for v in rows],  # type: ignore[arg-type]
            "latest_version": detail,
            "runs": [views.run_view(r, name, version_of_run.get(r.id)) for r in runs],
        }


def list_runs(store: Store, name: str, limit: int = 50) -> list[dict[str, Any]]:
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        runs = run_store.runs_of_model(session, model.id, limit=limit)  # type: ignore[arg-type]
        versions = version_store.versions_of_runs(session, [r.id for r in runs])  # type: ignore[misc]
        version_of_run = {v.run_id: v.version for v in versions}
        return [views.run_view(r, name, version_of_run.get(r.id)) for r in runs]


def show_run(store: Store, run_id: int) -> dict[str, Any]:
    with store.db.read() as session:
        run = run_store.get_run(session, run_id)
        model = model_store.models_by_ids(session, [run.model_id])[run.model_id]
        versions = version_store.versions_of_runs(session, [run_id])
        out = views.run_view(run, model.name, versions[0].version if versions else None, with_log=True)
        out["datasets"] = _datasets_of_run(session, run_id)
        return out


def compare(store: Store, name: str, a: str | int, b: str | int) -> dict[str, Any]:
    from registry.signature import compare_signatures

    with store.db.read() as session:
        model = model_store.get_model(session, name)
        va, vb = resolve_version(session, model, a), resolve_version(session, model, b)
        metric_names = sorted(set(va.metrics or {}) | set(vb.metrics or {}))
        metrics = {
            m: {"a": (va.metrics or {}).get(m), "b": (vb.metrics or {}).get(m),
                "delta": ((vb.metrics or {}).get(m) - (va.metrics or {}).get(m))
                if isinstance((va.metrics or {}).get(m), int | float)
                and isinstance((vb.metrics or {}).get(m), int | float) else None}
            for m in metric_names
        }
        param_names = sorted(set(va.params or {}) | set(vb.params or {}))
        params = {p: {"a": (va.params or {}).get(p), "b": (vb.params or {}).get(p)}
                  for p in param_names if (va.params or {}).get(p) != (vb.params or {}).get(p)}
        fields = ("artifact_sha256", "flavor", "status", "source", "created_by", "run_id")
        metadata = {f: {"a": getattr(va, f), "b": getattr(vb, f)}
                    for f in fields if getattr(va, f) != getattr(vb, f)}
        for key in ("git_commit", "dirty"):
            ca, cb = (va.code_version or {}).get(key), (vb.code_version or {}).get(key)
            if ca != cb:
                metadata[f"code.{key}"] = {"a": ca, "b": cb}
        da, db_ = _datasets_of_run(session, va.run_id), _datasets_of_run(session, vb.run_id)
        for role in ("train", "eval"):
            fa = da.get(role, {}).get("fingerprint")
            fb = db_.get(role, {}).get("fingerprint")
            if fa != fb:
                metadata[f"dataset.{role}"] = {"a": fa, "b": fb}
        return {
            "model": name,
            "a": va.version,
            "b": vb.version,
            "metadata": metadata,
            "metrics": metrics,
            "params": params,
            "signature": compare_signatures(va.signature, vb.signature),
        }


def lineage(store: Store, name: str, version: str | int) -> dict[str, Any]:
    """Where a version came from: datasets -> run -> version -> aliases."""
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        row = resolve_version(session, model, version)
        run = run_store.get_run(session, row.run_id) if row.run_id else None
        return {
            "model": name,
            "version": row.version,
            "datasets": _datasets_of_run(session, row.run_id),
            "run": views.run_view(run, name, row.version) if run else None,
            "artifact": {"sha256": row.artifact_sha256, "source": row.source},
            "aliases": sorted(_alias_names(session, row.id)),  # type: ignore[arg-type]
            "code_version": row.code_version,
        }


def _find_datasets(session: Session, ref: str) -> list[Any]:
    rows = list(dataset_store.datasets_named(session, ref))
    if not rows and re.fullmatch(r"[0-9a-f]{6,64}", ref):
        rows = list(dataset_store.datasets_by_fingerprint_prefix(session, ref))
    if not rows and ref.isdigit() and (ds := dataset_store.dataset_by_id(session, int(ref))):
        rows = [ds]
    if not rows:
        known = sorted({d.name for d in dataset_store.list_datasets(session)})
        raise NotFound(
            f"dataset {ref!r} does not exist (datasets: {', '.join(known[:10]) or 'none yet'}); "
            "give a name, a fingerprint prefix or an id from 'wk data list'"
        )
    return rows


def list_datasets(store: Store) -> list[dict[str, Any]]:
    with store.db.read() as session:
        rows = list(dataset_store.list_datasets(session))
        runs = run_store.runs_using_datasets(session, [d.id for d in rows])  # type: ignore[misc]
        versions = version_store.versions_of_runs(session, [r.id for r in runs])  # type: ignore[misc]
        run_ds = {r.id: {r.train_dataset_id, r.eval_dataset_id} for r in runs}
        count: dict[int, int] = {}
        for v in versions:
            for ds in run_ds.get(v.run_id, set()):  # type: ignore[arg-type]
                if ds is not None:
                    count[ds] = count.get(ds, 0) + 1
        return [{**views.dataset_view(d), "versions_trained": count.get(d.id, 0)} for d in rows]  # type: ignore[arg-type]


def dataset_usage(store: Store, ref: str) -> dict[str, Any]:
    """What was built on a dataset: runs, the versions they registered, and the aliases
    pointing at those versions (the question asked when data must be deleted)."""
    with store.db.read() as session:
        datasets = _find_datasets(session, ref)
        ids = [d.id for d in datasets]
        runs = list(run_store.runs_using_datasets(session, ids))
        versions = list(version_store.versions_of_runs(session, [r.id for r in runs]))  # type: ignore[misc]
        models = model_store.models_by_ids(session, list({r.model_id for r in runs}))
        aliases = alias_store.aliases_pointing_at(session, [v.id for v in versions])  # type: ignore[misc]
        alias_of: dict[int, list[str]] = {}
        for a in aliases:
            alias_of.setdefault(a.version_id, []).append(a.name)
        version_of_run = {v.run_id: v for v in versions}
        trained = []
        for r in runs:
            v = version_of_run.get(r.id)
            role = "train" if r.train_dataset_id in ids else "eval"
            trained.append({
                "model": models[r.model_id].name,
                "run_id": r.id,
                "run_status": r.status,
                "role": role,
                "dataset_id": r.train_dataset_id if role == "train" else r.eval_dataset_id,
                "version": v.version if v else None,
                "version_status": v.status if v else None,
                "aliases": sorted(alias_of.get(v.id, [])) if v else [],  # type: ignore[arg-type]
            })
        return {
            "datasets": [views.dataset_view(d) for d in datasets],
            "used_by": trained,
            "versions": [t for t in trained if t["version"] is not None],
        }


def audit_log(store: Store, *, actor: str | None = None, action: str | None = None,
              model: str | None = None, since: Any = None, until: Any = None,
              limit: int = 100) -> list[dict[str, Any]]:
    with store.db.read() as session:
        events = audit.list_events(
            session, actor=actor, action=action,
            target_prefix=f"model/{model}" if model else None,
            since=since, until=until, limit=limit,
        )
        return [views.audit_view(e) for e in events]


def load_model(store: Store, name: str, version: str | int) -> Any:
    """The fitted estimator of a version, after its hash check."""
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        row = resolve_version(session, model, version)
        sha = row.artifact_sha256
    return store.artifacts.load(sha)


def overview(store: Store, now: Any = None) -> list[dict[str, Any]]:
    """Per model: production and staging versions, their age, the last training run and
    its result, and gate failures in the last 30 days. Reads only summary columns."""
    from datetime import timedelta

    now = now or utcnow()
    with store.db.read() as session:
        # Column reads only: no ORM rows, JSON columns or run logs. On 200 models with
        # 2,000 versions this took the refresh from about 50 ms to about 12 ms
        # (bench/console_paint.py, bench/RESULTS.md).
        models = model_store.model_heads(session)
        counts = version_store.version_counts(session)
        held: dict[int, dict[str, tuple[int, Any] | None]] = {}
        for mid, alias, number, created in alias_store.alias_targets(session, ("production", "staging")):
            held.setdefault(mid, {})[alias] = (number, created) if number is not None else None
        runs = run_store.last_run_summaries(session)
        failures = run_store.failed_gate_counts(session, now - timedelta(days=30))
        out = []
        for mid, name, owner in models:
            prod = held.get(mid, {}).get("production")
            staging = held.get(mid, {}).get("staging")
            run = runs.get(mid)
            out.append({
                "name": name,
                "owner": owner,
                "versions": counts.get(mid, 0),
                "production": prod[0] if prod else None,
                "production_since": views.iso(prod[1]) if prod else None,
                "staging": staging[0] if staging else None,
                "last_run": {"id": run[0], "status": run[1], "reason": run[2],
                             "started_at": views.iso(run[3])} if run else None,
                "gate_failures_30d": failures.get(mid, 0),
            })
        return out


def recent_runs(store: Store, limit: int = 500) -> list[dict[str, Any]]:
    """Training runs of every model, newest first, in short form (no logs or metadata)."""
    with store.db.read() as session:
        rows = run_store.run_heads(session, limit)
    return [
        {"id": rid, "model": model, "kind": kind, "status": status, "reason": reason,
         "started_at": views.iso(started), "created_by": by, "version": version}
        for rid, model, kind, status, reason, started, by, version in rows
    ]


def rollback_preview(store: Store, name: str, alias: str) -> dict[str, Any]:
    """What `rollback` would do, without doing it: {"from_version", "to_version"}."""
    with store.db.read() as session:
        _model, _alias, from_version, to_version = _rollback_plan(session, name, alias)
        return {"model": name, "alias": alias, "from_version": from_version.version,
                "to_version": to_version.version}
