"""Reproduce a trained version from its recorded lineage: the same spec, parameters and
data (checked by fingerprint), retrained, compared on metrics and predictions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from registry import views
from registry.datasource import check_against_spec, load_source
from registry.spec import TrainingSpec
from registry.training import Prepared, Steps, fit, no_steps, resolve_entry_point
from registry.versions import resolve_version
from store import audit
from store import datasets as dataset_store
from store import models as model_store
from store import runs as run_store
from store.access import authorize
from store.errors import Failed
from store.handle import Store
from store.roles import Permission
from store.rows import id_of
from store.tables import TrainingRun
from store.types import utcnow
from store.vocabulary import AuditAction, RunKind, RunStatus

REL_TOL = 1e-9


def _metrics_match(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        math.isclose(a[k], b[k], rel_tol=REL_TOL, abs_tol=1e-12) for k in a
    )


def _outputs(estimator: Any, X: Any) -> np.ndarray:
    if hasattr(estimator, "predict_proba"):
        return np.asarray(estimator.predict_proba(X), dtype=float)
    return np.asarray(estimator.predict(X), dtype=float)


REPRODUCE_STEPS = ("reading the data", "fitting", "comparing predictions", "recording")


def reproduce(store: Store, name: str, version: str | int, actor: str | None = None,
              progress: Steps | None = None) -> dict[str, Any]:
    """Retrain a version from its recorded run and compare; `progress` is told each step
    of REPRODUCE_STEPS as it starts, and (n, n, "") at the end."""
    actor = authorize(store, actor, Permission.TRAIN, model=name)
    step = progress or no_steps
    n = len(REPRODUCE_STEPS)
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        row = resolve_version(session, model, version)
        if row.run_id is None:
            raise Failed(
                f"{name} v{row.version} was registered from a file, not trained by Watchkeeper; "
                "there is no recorded run to reproduce"
            )
        run = run_store.get_run(session, row.run_id)
        recorded_ds = dataset_store.dataset_by_id(session, run.train_dataset_id) if run.train_dataset_id else None
        recorded_eval = dataset_store.dataset_by_id(session, run.eval_dataset_id) if run.eval_dataset_id else None
        spec = TrainingSpec.from_dict(run.spec or {})
        recorded_metrics, sha, number = dict(run.metrics or {}), row.artifact_sha256, row.version
        version_id, model_id = id_of(row), id_of(model)

    step(0, n, REPRODUCE_STEPS[0])
    data = load_source(spec.data)
    if recorded_ds is not None and data.fingerprint != recorded_ds.fingerprint:
        raise Failed(
            f"the training data of {name} v{number} changed: {data.uri} has fingerprint "
            f"{data.fingerprint[:16]}..., the run recorded {recorded_ds.fingerprint[:16]}...; "
            "restore that data to reproduce"
        )
    check_against_spec(data, spec, spec.data)
    eval_data = None
    if spec.eval_data is not None:
        eval_data = load_source(spec.eval_data)
        if recorded_eval is not None and eval_data.fingerprint != recorded_eval.fingerprint:
            raise Failed(f"the evaluation data of {name} v{number} changed since the run")
    entry, _ = resolve_entry_point(spec.entry_point, spec.path)
    step(1, n, REPRODUCE_STEPS[1])
    fitted = fit(Prepared(spec, data, eval_data, entry, None))
    step(2, n, REPRODUCE_STEPS[2])

    registered = store.artifacts.load(sha)
    original = _outputs(registered, fitted.X_eval)
    again = _outputs(fitted.estimator, fitted.X_eval)
    max_diff = float(np.max(np.abs(original - again))) if original.size else 0.0
    metrics_ok = _metrics_match(recorded_metrics, fitted.metrics)
    predictions_ok = original.shape == again.shape and max_diff == 0.0
    from store.artifacts import dumps_estimator, sha256_bytes

    rebuilt_sha = sha256_bytes(dumps_estimator(fitted.estimator))
    matched = metrics_ok and predictions_ok
    reason = "metrics and predictions match" if matched else (
        ("metrics differ" if not metrics_ok else "") +
        ("; " if not metrics_ok and not predictions_ok else "") +
        (f"predictions differ (max abs diff {max_diff:.3g})" if not predictions_ok else "")
    )
    step(3, n, REPRODUCE_STEPS[3])
    with store.db.write() as session:
        rec = TrainingRun(
            model_id=model_id, kind=RunKind.REPRODUCE,
            status=RunStatus.SUCCEEDED if matched else RunStatus.FAILED,
            spec=spec.to_dict(), spec_path=spec.path, params=spec.params,
            code_version=None, environment=None, train_dataset_id=run.train_dataset_id,
            eval_dataset_id=run.eval_dataset_id, split=fitted.split, metrics=fitted.metrics,
            reason=reason, log="\n".join(fitted.log), reproduces_version_id=version_id,
            ended_at=utcnow(), created_by=actor,
        )
        session.add(rec)
        session.flush()
        audit.record(session, actor=actor, action=AuditAction.RUN_REPRODUCE,
                     target=audit.target(name, number),
                     after={"run_id": rec.id, "matched": matched, "reason": reason})
        rec_id = rec.id
    step(n, n, "")
    return {
        "model": name,
        "version": number,
        "run_id": rec_id,
        "matched": matched,
        "metrics_match": metrics_ok,
        "predictions_match": predictions_ok,
        "max_abs_prediction_diff": max_diff,
        "artifact_identical": rebuilt_sha == sha,
        "recorded_metrics": recorded_metrics,
        "reproduced_metrics": fitted.metrics,
        "dataset_fingerprint": data.fingerprint,
        "reason": reason,
        "checked_at": views.iso(utcnow()),
    }
