"""The performance check: for each version that answered in a window, the realised
metrics from the labels that have arrived (with label coverage), the label-free
estimate from the version's own probabilities (CBPE, calibrated on its reference), and
its training metrics -> one stored PerformanceReport per version. Rows without labels
stay in the log and in every other check; here they count towards coverage."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from monitoring.subject import resolve_subject
from monitoring.windows import Window
from registry.metrics import higher_is_better
from store import profiles as profile_store
from store import reports as report_store
from store import versions as version_store
from store.access import authorize
from store.identity import current_actor
from store.logged_window import LoggedWindow, read_window
from store.markers import self_recording
from store.roles import Permission
from store.vocabulary import CheckStatus

if TYPE_CHECKING:
    from store.handle import Store

log = logging.getLogger(__name__)

#: Worse than the training metric by more than this share of it: the check fails.
DEFAULT_MARGIN = 0.05
PRIMARY = {"classification": ("roc_auc", "accuracy", "f1"), "regression": ("rmse", "mae", "r2")}


def primary_metric(task: str, realised: dict[str, Any], training: dict[str, Any]) -> str | None:
    for name in PRIMARY.get(task, ()):
        if realised.get(name) is not None and training.get(name) is not None:
            return name
    return None


def worse_by(metric: str, realised: float, training: float) -> float:
    """How much worse the realised value is, as a share of the training value (> 0: worse)."""
    scale = abs(training) or 1.0
    diff = (training - realised) if higher_is_better(metric) else (realised - training)
    return diff / scale


def _version_rows(logged: LoggedWindow, version_id: int) -> tuple[np.ndarray, list[Any], Any]:
    """Positions (among the window's rows with outputs) of one version's rows, their
    labels (decoded JSON, None where missing) and their outputs."""
    versions = logged.version_ids[logged.output_rows]
    mine = np.flatnonzero(versions == version_id)
    rows = logged.output_rows[mine]
    labels = [orjson.loads(logged.labels[r]) if logged.labels[r] is not None else None for r in rows]
    return mine, labels, logged.outputs.iloc[mine].reset_index(drop=True)


def _check_version(task: str, version: Any, profile: dict[str, Any] | None, labels: list[Any],
                   outputs: Any, config: dict[str, Any]) -> dict[str, Any]:
    from monitoring.performance import window_performance

    known = [i for i, lab in enumerate(labels) if lab is not None]
    classes = sorted(c[len("proba:"):] for c in outputs.columns if c.startswith("proba:"))
    if task == "classification":
        predicted = outputs["class"].astype(str).tolist() if "class" in outputs else []
        probabilities = outputs[[f"proba:{c}" for c in classes]].to_numpy(float) if classes else None
    else:
        predicted = outputs["value"].astype(float).tolist() if "value" in outputs else []
        probabilities = None
    perf = window_performance(
        task, [labels[i] for i in known], [predicted[i] for i in known], n_predictions=len(labels),
        probabilities=probabilities[known] if probabilities is not None else None,
        classes=classes or None)
    estimated: dict[str, Any] | None = None
    reference = (profile or {}).get("labelled")
    if task == "classification" and probabilities is not None and len(classes) == 2 and reference:
        from monitoring.cbpe import estimate, fit_cbpe

        calibrator = fit_cbpe(np.asarray(reference["scores"], float), np.asarray(reference["labels"], int))
        estimated = dict(estimate(calibrator, probabilities[:, 1]))
    training: dict[str, Any] = dict(version.metrics or {})
    realised: dict[str, Any] = dict(perf.get("metrics") or {})
    margin = float(config.get("performance_margin", DEFAULT_MARGIN))
    metric = primary_metric(task, realised, training)
    status, reason = CheckStatus.OK, perf.get("reason") or ""
    if perf.get("thin") or metric is None:
        status = CheckStatus.INSUFFICIENT
        reason = reason or f"{perf.get('labelled', 0):,} labelled of {len(labels):,} predictions"
    else:
        worse = worse_by(metric, float(realised[metric]), float(training[metric]))
        verdict = f"worse than training by {worse:.1%}" if worse > 0 else "not worse than training"
        reason = (f"{metric} {realised[metric]:.3f} vs {training[metric]:.3f} in training: {verdict} "
                  f"(fails past {margin:.0%}); {perf.get('labelled', 0):,} labelled of {len(labels):,} "
                  f"({perf.get('coverage', 0):.0%})")
        if worse > margin:
            status = CheckStatus.FAILED
    return {"status": status, "task": task, "predictions": len(labels),
            "labelled": int(perf.get("labelled", len(known))), "coverage": float(perf.get("coverage", 0.0)),
            "realised": realised or None, "estimated": estimated, "training": training, "reason": reason}


@self_recording("a performance report is its own record, with who ran it (created_by) and when")
def run_performance(store: Store, model: str, window: Window, *, version: str | int | None = None,
                    actor: str | None = None, store_report: bool = True) -> list[dict[str, Any]]:
    """One report per version that answered in the window (or the version given)."""
    if store_report:
        actor = authorize(store, actor, Permission.CHECK, model=model)
    subject = resolve_subject(store, model, version)
    with store.db.read_core() as conn:
        logged = read_window(conn, subject.model_id, window.start, window.end,
                             version_id=subject.filter_version_id, with_inputs=False)
    version_ids = sorted(set(logged.version_ids[logged.output_rows].tolist())) or [subject.version_id]
    reports = []
    with store.db.read() as session:
        versions = {vid: version_store.version_by_id(session, vid) for vid in version_ids}
        profiles = {vid: profile_store.latest_profile(session, vid) for vid in version_ids}
    for vid in version_ids:
        profile = (profiles[vid] or {}).get("profile")
        config = dict((profile or {}).get("config") or {})
        _, labels, outputs = _version_rows(logged, vid)
        body = _check_version(subject.task, versions[vid], profile, labels, outputs, config)
        report = {"model_id": subject.model_id, "version_id": vid, "window_start": window.start,
                  "window_end": window.end, "created_by": actor or current_actor(), **body}
        if store_report:
            with store.db.write() as session:
                report["id"] = report_store.add_performance_report(session, report)
        reports.append({**report, "model": subject.model, "version": versions[vid].version})
        log.info("performance of %s v%s: %s", model, versions[vid].version, report["status"])
    return reports
