"""Training as a job: spec -> data snapshot (fingerprinted) -> fit (the user's entry
point) -> evaluate on the holdout next to the production version -> gate -> register.

Bad input (spec, data, entry point) is found before anything is written, so a failed
check leaves the store unchanged. Once training starts, a TrainingRun records it, and
it ends as succeeded, failed_gate (with the reason) or failed (with the error).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import sys
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from registry import views
from registry.datasource import LoadedData, check_against_spec, load_source, row_label
from registry.gate import evaluate_gate
from registry.metrics import evaluate
from registry.models import check_model_name, ensure_model
from registry.registration import flavor_of, insert_version
from registry.spec import TrainingSpec, load_spec
from store import aliases as alias_store
from store import audit, run_life
from store import datasets as dataset_store
from store import models as model_store
from store import profiles as profile_store
from store import runs as run_store
from store import versions as version_store
from store.access import authorize
from store.errors import Failed, InvalidInput, WatchkeeperError
from store.handle import Store
from store.roles import Permission
from store.rows import id_of
from store.tables import Dataset, TrainingRun
from store.vocabulary import (
    AuditAction,
    ProfileSource,
    RunKind,
    RunStatus,
    VersionSource,
    VersionStatus,
)

if TYPE_CHECKING:
    from sqlmodel import Session

EntryPoint = Callable[[pd.DataFrame, pd.Series, dict[str, Any]], Any]


@dataclass
class Prepared:
    """A spec with its data loaded and checked, ready to fit."""

    spec: TrainingSpec
    data: LoadedData
    eval_data: LoadedData | None
    entry: EntryPoint
    entry_file: str | None


@dataclass
class Fitted:
    estimator: Any
    X_train: pd.DataFrame
    X_eval: pd.DataFrame
    y_eval: pd.Series
    metrics: dict[str, float]
    split: dict[str, Any]
    log: list[str] = field(default_factory=list)


def resolve_entry_point(ref: str, spec_path: str) -> tuple[EntryPoint, str | None]:
    """Import `package.module:function`, looking in the spec's folder and the current one too."""
    module_name, _, func_name = ref.partition(":")
    for folder in (str(Path(spec_path).parent), str(Path.cwd())):
        if folder not in sys.path:
            sys.path.append(folder)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidInput(
            f"spec {spec_path}: [train] entry_point module {module_name!r} cannot be imported "
            f"({exc}); check the name, or run from the folder that holds it"
        ) from exc
    func = getattr(module, func_name, None)
    if not callable(func):
        raise InvalidInput(
            f"spec {spec_path}: [train] entry_point {ref!r}: module {module_name} has no "
            f"function {func_name!r}"
        )
    return func, getattr(module, "__file__", None)


def check_data_expectations(spec: TrainingSpec, data: LoadedData) -> None:
    """The spec's [expectations] on its training data: ExpectationsFailed with the report
    when the data breaks one (pandera is imported only for a spec that has expectations)."""
    if not spec.expectations:
        return
    from registry.expectations import ExpectationsFailed, check_expectations

    report = check_expectations(data.frame, spec.expectations,
                                row_label=lambda i: row_label(spec.data, i))
    if not report.passed:
        raise ExpectationsFailed.of(spec.path, data.name, report)


def prepare(spec: TrainingSpec) -> Prepared:
    data = load_source(spec.data)
    check_against_spec(data, spec, spec.data)
    check_data_expectations(spec, data)
    eval_data = None
    if spec.eval_data is not None:
        eval_data = load_source(spec.eval_data)
        check_against_spec(eval_data, spec, spec.eval_data)
    entry, entry_file = resolve_entry_point(spec.entry_point, spec.path)
    return Prepared(spec, data, eval_data, entry, entry_file)


def split_frame(spec: TrainingSpec, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    info: dict[str, Any] = {"method": spec.split_method, "test_fraction": spec.test_fraction,
                            "seed": spec.seed, "time_column": spec.time_column}
    if spec.split_method == "time":
        times = pd.to_datetime(frame[spec.time_column], utc=True, errors="coerce")
        if times.isna().any():
            bad = frame.index[times.isna()][0]
            raise InvalidInput(
                f"[split] time_column {spec.time_column!r} holds a value that is not a time "
                f"(row {int(bad)}: {frame[spec.time_column].iloc[int(bad)]!r})"
            )
        order = times.sort_values(kind="stable").index
        cut = int(round(len(order) * (1 - spec.test_fraction)))
        train, test = frame.loc[order[:cut]], frame.loc[order[cut:]]
        info["cutoff"] = views.iso(times.loc[order[cut]].to_pydatetime()) if cut < len(order) else None
    else:
        from sklearn.model_selection import train_test_split

        stratify = frame[spec.target] if spec.task == "classification" else None
        try:
            train, test = train_test_split(frame, test_size=spec.test_fraction,
                                           random_state=spec.seed, stratify=stratify)
        except ValueError:
            train, test = train_test_split(frame, test_size=spec.test_fraction, random_state=spec.seed)
    if len(train) == 0 or len(test) == 0:
        raise InvalidInput(
            f"the split leaves {len(train)} training and {len(test)} holdout rows; "
            "use more data or another [split] test_fraction"
        )
    info["train_rows"], info["eval_rows"] = len(train), len(test)
    info["holdout_fingerprint"] = hashlib.sha256(
        ",".join(map(str, test.index.tolist())).encode()).hexdigest()
    return train, test, info


def fit(prepared: Prepared) -> Fitted:
    """Split, call the entry point, evaluate. Raises Failed with the log on user-code errors."""
    spec = prepared.spec
    if prepared.eval_data is not None:
        train, test = prepared.data.frame, prepared.eval_data.frame
        split = {"method": "separate", "train_rows": len(train), "eval_rows": len(test)}
    else:
        train, test, split = split_frame(spec, prepared.data.frame)
    X_train, y_train = train[spec.features], train[spec.target]
    X_eval, y_eval = test[spec.features], test[spec.target]
    log = [f"train rows {len(X_train)}, holdout rows {len(X_eval)}, split {split['method']}"]
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                estimator = prepared.entry(X_train.copy(), y_train.copy(), dict(spec.params))
        except Exception as exc:
            log += _captured(out, err, caught)
            log.append(traceback.format_exc())
            raise TrainingFailed(
                f"the entry point {spec.entry_point} raised {type(exc).__name__}: {exc}", log
            ) from exc
    log += _captured(out, err, caught)
    if estimator is None or not hasattr(estimator, "predict"):
        raise TrainingFailed(
            f"the entry point {spec.entry_point} returned {type(estimator).__name__}, "
            "not a fitted estimator (return the fitted model)", log)
    try:
        metrics = evaluate(estimator, X_eval, y_eval, spec.metrics, spec.task)
    except WatchkeeperError:
        raise
    except Exception as exc:
        raise TrainingFailed(f"evaluating the model failed: {type(exc).__name__}: {exc}", log) from exc
    log.append("metrics " + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items()))
    return Fitted(estimator, X_train, X_eval, y_eval, metrics, split, log)


class TrainingFailed(Failed):
    def __init__(self, message: str, log: list[str]) -> None:
        super().__init__(message)
        self.log = log


def _captured(out: io.StringIO, err: io.StringIO, caught: list[warnings.WarningMessage]) -> list[str]:
    lines = []
    if out.getvalue().strip():
        lines.append("stdout:\n" + out.getvalue().rstrip())
    if err.getvalue().strip():
        lines.append("stderr:\n" + err.getvalue().rstrip())
    lines += [f"warning: {w.category.__name__}: {w.message}" for w in caught]
    return lines


def _dataset_row(session: Session, data: LoadedData) -> Dataset:
    row = dataset_store.find_dataset(session, data.name, data.fingerprint)
    if row is None:
        row = Dataset(name=data.name, uri=data.uri, fingerprint=data.fingerprint,
                      rows=data.rows, columns=data.columns)
        session.add(row)
        session.flush()
    return row


def _champion_metrics(store: Store, spec: TrainingSpec, fitted: Fitted, log: list[str]) -> tuple[dict[str, float] | None, str | None]:
    """The metrics of the version to beat on the same holdout rows: production, else the
    latest active version (None when the model has neither). Returns (metrics, label)."""
    with store.db.read() as session:
        model = model_store.find_model(session, spec.model_name)
        alias = alias_store.find_alias(session, id_of(model), "production") if model else None
        if alias is not None:
            version = version_store.version_by_id(session, alias.version_id)
            label = f"production v{version.version}"
        else:
            active = [v for v in version_store.list_versions(session, id_of(model))
                      if v.status == VersionStatus.ACTIVE] if model else []
            if not active:
                log.append("no production or earlier version: the gate checks thresholds only")
                return None, None
            version = active[0]
            label = f"latest v{version.version} (no production alias yet)"
        sha, signature = version.artifact_sha256, version.signature
    columns = [c["name"] for c in (signature or {}).get("columns", [])] or spec.features
    missing = [c for c in columns if c not in fitted.X_eval.columns]
    if missing:
        log.append(f"{label} needs columns {missing} the holdout lacks; not compared")
        return None, label
    estimator = store.artifacts.load(sha)
    metrics = evaluate(estimator, fitted.X_eval[columns], fitted.y_eval, spec.metrics, spec.task)
    log.append(f"{label} on the same rows: "
               + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items()))
    return metrics, label


#: A step callback: (steps done, steps in all, the step now under way).
Steps = Callable[[int, int, str], None]
TRAIN_STEPS = ("reading the data", "fitting", "evaluating against production", "registering")


def no_steps(done: int, total: int, note: str) -> None:
    return None


def train(store: Store, spec_path: str, overrides: list[str] | None = None,
          actor: str | None = None, progress: Steps | None = None) -> dict[str, Any]:
    """Run a training spec. Returns {"run", "version", "gate", "registered"}. `progress`
    is told each step of TRAIN_STEPS as it starts, and (n, n, "") at the end."""
    from registry.environment import code_version, environment
    from registry.signature import infer_signature, input_example

    step = progress or no_steps
    n = len(TRAIN_STEPS)
    spec = load_spec(spec_path, overrides)
    check_model_name(spec.model_name)
    actor = authorize(store, actor, Permission.TRAIN, model=spec.model_name)
    step(0, n, TRAIN_STEPS[0])
    prepared = prepare(spec)  # all input checks happen here, before any write
    code = code_version(prepared.entry_file)
    env = environment()

    with store.db.write() as session:
        model = ensure_model(session, spec.model_name, actor=actor, owner=spec.owner,
                             description=spec.description, tags=spec.tags, task=spec.task)
        run_life.reap_training_runs(session, id_of(model), actor)
        train_ds = _dataset_row(session, prepared.data)
        eval_ds = _dataset_row(session, prepared.eval_data) if prepared.eval_data else train_ds
        run = run_life.start(TrainingRun(
            model_id=id_of(model), kind=RunKind.TRAIN, spec=spec.to_dict(),
            spec_path=spec.path, params=spec.params, code_version=code, environment=env,
            train_dataset_id=train_ds.id, eval_dataset_id=eval_ds.id, created_by=actor,
        ))
        session.add(run)
        session.flush()
        run_id = id_of(run)
        audit.record(session, actor=actor, action=AuditAction.RUN_START,
                     target=audit.target(spec.model_name, run=run_id),
                     after={"run_id": run_id, "spec": spec.path, "params": spec.params,
                            "dataset": train_ds.fingerprint})

    try:
        step(1, n, TRAIN_STEPS[1])
        fitted = fit(prepared)
        log = fitted.log
        step(2, n, TRAIN_STEPS[2])
        champion, champion_label = _champion_metrics(store, spec, fitted, log)
        gate = evaluate_gate(spec.gate, fitted.metrics, champion,
                             champion_label=champion_label or "production")
        artifact = store.artifacts.put_estimator(fitted.estimator) if gate.passed else None
        reference = training_reference(spec, fitted) if gate.passed else None
    except WatchkeeperError as exc:
        log = getattr(exc, "log", [])
        _finish(store, run_id, actor, spec.model_name, status=RunStatus.FAILED, reason=exc.message,
                log=log)
        raise
    except Exception as exc:  # a bug or resource error: record it, then let it surface
        _finish(store, run_id, actor, spec.model_name, status=RunStatus.FAILED,
                reason=f"{type(exc).__name__}: {exc}", log=[traceback.format_exc()])
        raise

    log.append("gate passed" if gate.passed else "gate failed: " + "; ".join(gate.reasons))
    step(3, n, TRAIN_STEPS[3] if gate.passed else "recording the failed gate")
    with store.db.write() as session:
        run = run_store.get_run(session, run_id)
        run.metrics, run.champion_metrics, run.gate = fitted.metrics, champion, gate.to_dict()
        run.split = fitted.split
        version_out = None
        if gate.passed and artifact is not None:
            model = model_store.get_model(session, spec.model_name)
            version = insert_version(
                session, model, artifact, actor=actor, flavor=flavor_of(fitted.estimator),
                signature=infer_signature(fitted.X_train, spec.input_policy),
                example=input_example(fitted.X_train),
                metrics=fitted.metrics, params=spec.params, run_id=run_id, source=VersionSource.TRAIN,
                code_version=code, environment=env, description=spec.description, tags=spec.tags,
            )
            version_out = views.version_view(version, spec.model_name, [])
            if reference is not None:
                profile, seconds = reference
                profile_store.add_profile(
                    session, model_id=id_of(model), version_id=id_of(version), source=ProfileSource.TRAINING,
                    detail={"dataset": prepared.data.fingerprint, "split": fitted.split.get("method")},
                    rows=int(profile.get("rows", 0)), profile=profile, seconds=seconds, actor=actor)
            run_life.finish(run, RunStatus.SUCCEEDED)
            run.reason = f"registered v{version.version}"
        else:
            run_life.finish(run, RunStatus.FAILED_GATE)
            run.reason = "; ".join(gate.reasons)
        run.log = "\n".join(log)
        session.add(run)
        audit.record(session, actor=actor, action=AuditAction.RUN_FINISH,
                     target=audit.target(spec.model_name, run=run_id),
                     after={"run_id": run_id, "status": run.status, "reason": run.reason,
                            "version": version_out["version"] if version_out else None})
        run_out = views.run_view(run, spec.model_name, version_out["version"] if version_out else None)
    step(n, n, "")
    return {"run": run_out, "version": version_out, "gate": gate.to_dict(), "registered": version_out is not None}


def training_reference(spec: TrainingSpec, fitted: Fitted) -> tuple[dict[str, Any], float]:
    """The new version's reference profile: its inputs from the training and holdout rows,
    its predictions and (score, label) pairs from the holdout (rows it was not fitted on).
    Returns the profile and the seconds it took."""
    import time

    from registry.reference_data import build_reference, model_outputs
    from registry.signature import infer_signature

    started = time.perf_counter()
    inputs = pd.concat([fitted.X_train, fitted.X_eval], ignore_index=True)
    predictions, scores, positive = model_outputs(fitted.estimator, fitted.X_eval)
    profile = build_reference(inputs, infer_signature(inputs)["columns"], config=spec.monitoring,
                              predictions=predictions, scores=scores,
                              labels=fitted.y_eval.astype(str), positive=positive, seed=spec.seed)
    return profile, round(time.perf_counter() - started, 3)


def _finish(store: Store, run_id: int, actor: str, model: str, *, status: RunStatus,
            reason: str, log: list[str]) -> None:
    with store.db.write() as session:
        run = run_life.finish(run_store.get_run(session, run_id), status)
        run.reason, run.log = reason, "\n".join(log)
        session.add(run)
        audit.record(session, actor=actor, action=AuditAction.RUN_FINISH,
                     target=audit.target(model, run=run_id),
                     after={"run_id": run_id, "status": status, "reason": reason})
