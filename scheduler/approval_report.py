"""The report a pending version is approved or rejected on: the candidate next to
production on the SAME holdout rows (the rows the candidate's training run held out,
rebuilt from its recorded spec and split), a per-class breakdown for classifiers or a
residual breakdown for regressors, the drift of the candidate's training data against
production's (both versions' reference profiles through monitoring.drift's per-feature
tests) and the gate. `write_report` renders it (scheduler.approval_render) as Markdown
and one self-contained HTML file under <store>/reports/approvals/<model>/.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from registry.datasource import load_source
from registry.metrics import evaluate, higher_is_better
from registry.spec import TrainingSpec
from registry.training import split_frame
from registry.views import iso
from store import aliases as alias_store
from store import datasets as dataset_store
from store import models as model_store
from store import profiles as profile_store
from store import runs as run_store
from store import versions as version_store
from store.errors import Failed
from store.modes import secure_dir
from store.names import join_inside
from store.rows import id_of
from store.types import utcnow

if TYPE_CHECKING:
    from store.handle import Store
    from store.tables import ModelVersion

RESIDUAL_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
TARGET_BINS = 10


@dataclass
class _Side:
    version: int
    estimator: Any
    columns: list[str]
    profile: dict[str, Any] | None
    created_at: str | None


def _side(store: Store, row: ModelVersion, features: list[str]) -> _Side:
    with store.db.read() as session:
        profile = profile_store.latest_profile(session, id_of(row))
    columns = [c["name"] for c in (row.signature or {}).get("columns", [])] or features
    return _Side(row.version, store.artifacts.load(row.artifact_sha256), columns,
                 profile["profile"] if profile else None, iso(row.created_at))


def holdout_of(spec: TrainingSpec, split: dict[str, Any] | None,
               fingerprint: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The rows a training run held out, rebuilt from its spec (the split is deterministic);
    notes say when today's data is not what the run read (`fingerprint`: its dataset's)."""
    notes: list[str] = []
    source = spec.eval_data if spec.eval_data is not None else spec.data
    data = load_source(source)
    if fingerprint and fingerprint != data.fingerprint:
        notes.append(f"the training data changed since the run ({source.name} now has "
                     f"fingerprint {data.fingerprint[:12]}, the run read {fingerprint[:12]}): "
                     "the holdout below is rebuilt from the data as it is now")
    if spec.eval_data is not None:
        return data.frame, notes
    _train, test, info = split_frame(spec, data.frame)
    recorded = (split or {}).get("holdout_fingerprint")
    if recorded and recorded != info["holdout_fingerprint"] and not notes:
        notes.append("the split now holds out other rows than the run did: the holdout below "
                     "is rebuilt from the data as it is now")
    return test, notes


def _metrics(spec: TrainingSpec, candidate: _Side, production: _Side | None,
             holdout: pd.DataFrame) -> dict[str, dict[str, Any]]:
    y = holdout[spec.target]
    cand = evaluate(candidate.estimator, holdout[candidate.columns], y, spec.metrics, spec.task)
    prod = (evaluate(production.estimator, holdout[production.columns], y, spec.metrics, spec.task)
            if production else {})
    out: dict[str, dict[str, Any]] = {}
    for name, value in cand.items():
        before = prod.get(name)
        delta = value - before if before is not None else None
        better = None if delta is None or delta == 0 else (delta > 0) == higher_is_better(name)
        out[name] = {"candidate": value, "production": before, "delta": delta, "better": better}
    return out


def _classes(y: pd.Series, predicted: list[np.ndarray]) -> list[str]:
    seen = set(y.astype(str))
    for p in predicted:
        seen |= set(pd.Series(p).astype(str))
    return sorted(seen)


def class_breakdown(y: pd.Series, predicted: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """Precision, recall, f1 and support per class and the confusion matrix (rows: the
    true class, columns: the predicted one)."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    truth, guess = y.astype(str).to_numpy(), pd.Series(predicted).astype(str).to_numpy()
    p, r, f, s = precision_recall_fscore_support(truth, guess, labels=classes, zero_division=0)
    per_class = [{"class": c, "precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                  "support": int(s[i])} for i, c in enumerate(classes)]
    matrix = confusion_matrix(truth, guess, labels=classes).tolist()
    return {"classes": classes, "per_class": per_class, "confusion": matrix}


def _interval(value: Any) -> str:
    return f"{value.left:.4g} .. {value.right:.4g}"


def residual_breakdown(y: pd.Series, predicted: np.ndarray) -> dict[str, Any]:
    """Residual (truth - prediction) quantiles and the MAE per decile of the target."""
    truth = y.astype(float).to_numpy()
    residual = truth - np.asarray(predicted, dtype=float)
    quantiles = {f"q{round(q * 100):02d}": float(np.quantile(residual, q))
                 for q in RESIDUAL_QUANTILES}
    bins = pd.qcut(pd.Series(truth), TARGET_BINS, duplicates="drop")
    frame = pd.DataFrame({"bin": bins, "abs": np.abs(residual)})
    deciles = [{"target": _interval(iv), "rows": int(len(g)), "mae": float(g["abs"].mean())}
               for iv, g in frame.groupby("bin", observed=True)]
    return {"quantiles": quantiles, "mean": float(residual.mean()), "by_target_decile": deciles}


def _breakdown(spec: TrainingSpec, candidate: _Side, production: _Side | None,
               holdout: pd.DataFrame) -> dict[str, Any]:
    y = holdout[spec.target]
    sides = [("candidate", candidate)] + ([("production", production)] if production else [])
    predicted = {label: np.asarray(side.estimator.predict(holdout[side.columns]))
                 for label, side in sides}
    if spec.task == "classification":
        classes = _classes(y, list(predicted.values()))
        return {"kind": "classes", **{label: class_breakdown(y, p, classes)
                                      for label, p in predicted.items()}}
    return {"kind": "residuals", **{label: residual_breakdown(y, p)
                                    for label, p in predicted.items()}}


def _sample_frame(profile: dict[str, Any]) -> pd.DataFrame:
    sample = profile.get("sample") or {}
    return pd.DataFrame(sample.get("rows", []), columns=sample.get("columns", []))


def training_drift(candidate: _Side, production: _Side | None) -> dict[str, Any]:
    """Production's training profile as the reference, the candidate's training sample as
    the current window, through monitoring.drift.check_features."""
    from monitoring.drift import check_features, drift_share

    if production is None:
        return {"status": "no production version", "features": []}
    if candidate.profile is None or production.profile is None:
        which = "the candidate" if candidate.profile is None else f"production v{production.version}"
        return {"status": f"not compared: {which} has no reference profile", "features": []}
    verdicts = check_features(production.profile, _sample_frame(candidate.profile))
    features = [{"feature": v.feature, "status": v.status, "test": v.test,
                 "statistic": v.statistic, "p_value": v.p_value, "effect_size": v.effect_size,
                 "effect_name": v.effect_name, "reason": v.reason} for v in verdicts]
    return {"status": "compared", "share": drift_share(verdicts), "features": features,
            "moved": [f["feature"] for f in features if f["status"] == "drift"]}


def build_report(store: Store, name: str, version: int) -> dict[str, Any]:
    """Every figure of the report of `name` v`version` against today's production."""
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        row = version_store.get_version(session, model, version)
        if row.run_id is None:
            raise Failed(f"{name} v{version} was not trained by Watchkeeper (it was registered "
                         "from a file): there is no holdout to compare on")
        run = run_store.get_run(session, row.run_id)
        alias = alias_store.find_alias(session, id_of(model), "production")
        prod_row = (version_store.version_by_id(session, alias.version_id)
                    if alias is not None and alias.version_id != row.id else None)
        run_id, gate = run.id, run.gate or {}
        split: dict[str, Any] = run.split or {}
        code: dict[str, Any] = run.code_version or {}
        # the holdout's source: the eval data's, which is the training data's without one
        dataset = (dataset_store.dataset_by_id(session, run.eval_dataset_id)
                   if run.eval_dataset_id else None)
        spec = TrainingSpec.from_dict(run.spec or {})
    holdout, notes = holdout_of(spec, split, dataset.fingerprint if dataset else None)
    candidate = _side(store, row, spec.features)
    production = _side(store, prod_row, spec.features) if prod_row is not None else None
    if production is not None:
        missing = [c for c in production.columns if c not in holdout.columns]
        if missing:
            notes.append(f"production v{production.version} needs columns {missing} the "
                         "holdout lacks: the candidate is shown alone")
            production = None
    return {
        "model": name, "task": spec.task, "candidate": version,
        "production": production.version if production else None,
        "candidate_created_at": candidate.created_at,
        "production_created_at": production.created_at if production else None,
        "holdout": {"rows": len(holdout), "split": split.get("method"),
                    "fingerprint": split.get("holdout_fingerprint")},
        "run_id": run_id, "code_version": code,
        "metrics": _metrics(spec, candidate, production, holdout),
        "breakdown": _breakdown(spec, candidate, production, holdout),
        "drift": training_drift(candidate, production), "gate": gate,
        "notes": notes, "written_at": iso(utcnow().replace(microsecond=0)),
    }


def summary_of(report: dict[str, Any]) -> dict[str, Any]:
    """The figures screens and --json show without opening the report."""
    drift = report["drift"]
    return {"candidate": report["candidate"], "production": report["production"],
            "holdout_rows": report["holdout"]["rows"], "metrics": report["metrics"],
            "gate_passed": report["gate"].get("passed"),
            "drifted": drift.get("moved", []), "drift_status": drift["status"]}


def report_folder(store: Store, name: str) -> Path:
    return join_inside(store.location.root / "reports" / "approvals", name)


def write_report(store: Store, name: str, version: int) -> tuple[Path, Path, dict[str, Any]]:
    """Build the report and write v<N>.md and v<N>.html (owner-only, like the store).
    Returns the two paths and the summary."""
    from scheduler.approval_render import render_html, render_markdown

    report = build_report(store, name, version)
    folder = report_folder(store, name)
    old_umask = os.umask(store.modes.umask)
    try:
        secure_dir(folder, store.modes)
        md, page = folder / f"v{version}.md", folder / f"v{version}.html"
        md.write_text(render_markdown(report), encoding="utf-8")
        page.write_text(render_html(report), encoding="utf-8")
    finally:
        os.umask(old_umask)
    return md, page, summary_of(report)
