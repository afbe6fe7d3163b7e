"""The drift check: a window of logged inputs and outputs against a version's reference
profile -> a verdict per feature (the prediction included), the share drifted and a
domain classifier for the whole input -> one stored DriftReport with its feature rows.
The statistics are pure (monitoring.drift, monitoring.domain_classifier); this module
reads, calls and writes."""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pandas as pd

from monitoring.subject import Subject, resolve_subject
from monitoring.windows import Window
from store import reports as report_store
from store.access import authorize
from store.identity import current_actor
from store.logged_window import parse_json_rows, quarantined_payloads, read_window
from store.markers import self_recording
from store.roles import Permission
from store.vocabulary import CheckStatus

if TYPE_CHECKING:
    from store.handle import Store

log = logging.getLogger(__name__)

DEFAULT_MIN_ROWS = 100
#: Rows a side for the domain classifier: 2,500 + 2,500 give its cross-validated ROC AUC a
#: standard error near 0.01, at under half the cost of 5,000 a side; its permutation
#: importances come from one fold (one predict per feature: most of the rest of its cost).
DOMAIN_ROWS = 2500
DOMAIN_IMPORTANCE_FOLDS = 1
#: The prediction's own reference lives in profile["prediction"]; its verdicts are
#: feature rows of kind "prediction".
PREDICTION_KIND = "prediction"
#: Refused rows whose only fault is a category the version never saw are still traffic:
#: the drift check counts them (the serving validator's words for that refusal).
UNSEEN_CATEGORY_REASON = "is not a category seen in training"


def _config(profile: dict[str, Any]) -> dict[str, Any]:
    return dict(profile.get("config") or {})


def prediction_frame(out: pd.DataFrame) -> pd.DataFrame:
    """Logged outputs as features: the class (or value) as `prediction`, and for a binary
    classifier the positive class's probability as `score`."""
    frame = pd.DataFrame(index=range(len(out)))
    if "value" in out:
        frame["prediction"] = pd.to_numeric(out["value"], errors="coerce")
    elif "class" in out:
        frame["prediction"] = out["class"].astype("string").astype(object)
        probas = sorted(c for c in out.columns if c.startswith("proba:"))
        if len(probas) == 2:
            frame["score"] = pd.to_numeric(out[probas[1]], errors="coerce")
    return frame


def _refused_unseen(store: Store, subject: Subject, window: Window) -> pd.DataFrame:
    with store.db.read_core() as conn:
        payloads = quarantined_payloads(conn, subject.model_id, window.start, window.end,
                                        reason_contains=UNSEEN_CATEGORY_REASON)
    return parse_json_rows(payloads, subject.input_types) if payloads else pd.DataFrame()


@self_recording("a drift report is its own record, with who ran it (created_by) and when")
def run_drift(store: Store, model: str, window: Window, *, version: str | int | None = None,
              actor: str | None = None, store_report: bool = True) -> dict[str, Any]:
    """Run the drift check and store its report; returns the report with its features."""
    if store_report:
        actor = authorize(store, actor, Permission.CHECK, model=model)
    from monitoring.domain_classifier import domain_drift
    from monitoring.drift import check_features, drift_share

    started = time.perf_counter()
    subject = resolve_subject(store, model, version)
    profile = subject.need_profile()
    config = _config(profile)
    min_rows = int(config.get("min_rows", DEFAULT_MIN_ROWS))
    with store.db.read_core() as conn:
        logged = read_window(conn, subject.model_id, window.start, window.end,
                             version_id=subject.filter_version_id, input_types=subject.input_types,
                             with_meta=False)
    report: dict[str, Any] = {
        "model_id": subject.model_id, "version_id": subject.version_id, "profile_id": subject.profile_id,
        "window_start": window.start, "window_end": window.end, "rows": logged.rows,
        "created_by": actor or current_actor(),
    }
    features: list[dict[str, Any]] = []
    with_inputs = len(logged.input_rows)
    if logged.rows and not with_inputs or (not logged.rows and not subject.logs_inputs):
        report.update(status=CheckStatus.NOT_LOGGED, reason=(
            f"inputs not logged: {logged.rows:,} predictions in the window, none with inputs (the "
            "deployment logs metadata only; wk deploy set --log full keeps them)"))
    else:
        names = [c["name"] for c in subject.columns if c["name"] in profile.get("features", {})]
        current = logged.inputs[names]
        refused = _refused_unseen(store, subject, window)
        if len(refused):
            current = pd.concat([current, refused[names]], ignore_index=True)
        # The domain classifier (one OpenMP thread, mostly outside the GIL) runs beside the
        # per-feature tests (numpy sorts, also mostly outside it): on two cores, the check
        # takes about the longer of the two instead of their sum.
        with ThreadPoolExecutor(1, thread_name_prefix="wk-domain") as pool:
            domain_job: Future[Any] | None = None
            if len(current) >= min_rows and profile.get("sample", {}).get("rows"):
                sample = profile["sample"]
                reference = pd.DataFrame(sample["rows"], columns=sample["columns"])[names]
                domain_job = pool.submit(domain_drift, reference, current, max_rows=DOMAIN_ROWS,
                                         importance_folds=DOMAIN_IMPORTANCE_FOLDS,
                                         threshold=float(config.get("domain_threshold", 0.75)))
            verdicts = check_features(profile, current, overrides=config.get("features"),
                                      min_rows=min_rows)
            if profile.get("prediction") and len(logged.outputs):
                verdicts += check_features(profile["prediction"], prediction_frame(logged.outputs),
                                           overrides=config.get("features"), min_rows=min_rows)
            domain = domain_job.result() if domain_job is not None else None
        features = [_feature_row(v.to_dict(), profile) for v in verdicts]
        input_verdicts = [v for v in verdicts if v.feature in names]
        share = drift_share(input_verdicts)
        drifted = [f["feature"] for f in features if f["status"] == CheckStatus.DRIFT]
        insufficient = all(f["status"] == CheckStatus.INSUFFICIENT for f in features) if features else True
        domain_drifted = bool(domain is not None and domain.to_dict().get("drifted"))
        status = (CheckStatus.INSUFFICIENT if insufficient
                  else CheckStatus.DRIFT if drifted or domain_drifted else CheckStatus.OK)
        report.update(status=status, features=len(input_verdicts), drift_share=share,
                      drifted=sum(1 for v in input_verdicts if v.status == CheckStatus.DRIFT),
                      domain=domain.to_dict() if domain is not None else None,
                      domain_auc=domain.to_dict().get("auc") if domain is not None else None,
                      reason=_summary_line(status, logged.rows, len(refused), drifted, features, domain,
                                           min_rows))
    report["seconds"] = round(time.perf_counter() - started, 3)
    if store_report:
        with store.db.write() as session:
            report["id"] = report_store.add_drift_report(session, report, features)
    log.info("drift check of %s: %s in %.2f s", model, report["status"], report["seconds"])
    return {**report, "model": subject.model, "version": subject.version, "feature_rows": features}


def _feature_row(verdict: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    """A verdict as a DriftFeature row: the numbers in columns, the rest in detail."""
    kind = verdict.get("kind", "")
    if verdict["feature"] not in profile.get("features", {}):
        kind = PREDICTION_KIND
    columns = ("feature", "status", "test", "statistic", "threshold", "p_value", "effect_size",
               "n_reference", "n_current", "reason")
    row = {k: verdict.get(k) for k in columns}
    row["kind"] = kind
    row["test"] = row["test"] or ""
    row["reason"] = row["reason"] or ""
    row["n_reference"] = int(row["n_reference"] or 0)
    row["n_current"] = int(row["n_current"] or 0)
    row["detail"] = {k: v for k, v in verdict.items() if k not in columns and k != "kind"}
    return row


def _summary_line(status: str, rows: int, refused: int, drifted: list[str], features: list[dict[str, Any]],
                  domain: Any, min_rows: int) -> str:
    refused_note = f" (+{refused:,} refused for an unseen category)" if refused else ""
    if status == CheckStatus.INSUFFICIENT:
        return f"insufficient data: {rows:,} rows{refused_note}, need {min_rows:,}"
    parts = [f"{len(drifted)} of {len(features)} drifted" + (f": {', '.join(drifted)}" if drifted else "")]
    if domain is not None:
        d = domain.to_dict()
        if d.get("auc") is not None:
            parts.append(f"domain classifier AUC {d['auc']:.2f} (threshold {d.get('threshold', 0):.2f})")
    return f"{rows:,} rows{refused_note}; " + "; ".join(parts)
