"""Stored monitoring reports for the console store (tests/console_store.py), written
through store/reports.py as the checks write them, with fixed times and values, so the
screens over them render the same on every run.

What it holds (windows of a day, ending at the snapshot clock, 2026-11-21 09:00 UTC):

- credit-default, drift: seven daily reports against v1's reference. The oldest has too
  few rows ("insufficient data: 37 rows, need 100"); then four without drift; the newest
  (DRIFT_REPORT_NEWEST) flags income (KS, the mean up by a third) and purpose (a new
  category "crypto", 41 rows), with the domain classifier's AUC above its threshold;
  age, debt_ratio and the prediction pass.
- credit-default, quality: the newest failed (debt_ratio all null: a broken feed) with
  warnings for income's missing share and age's range, and one quarantined row.
- credit-default, performance: v1 over six windows, ROC AUC falling from 0.81 to 0.71
  once labels arrive while the label-free estimate stays near 0.80 (concept drift, as
  CBPE's no-concept-drift assumption predicts); its newest window is thin (12 labels).
  v2 (the canary's challenger) over its last two windows.
- store-demand: drift with too few rows in its newest window (insufficient, never ok),
  a quality report without findings, MAE for v2 over three windows (no estimate: the
  label-free estimate is for classifiers).
- churn-risk: a drift report of a deployment that logs metadata only (not_logged).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from store import reports as report_store
from store.handle import Store
from store.tables import ModelVersion, RegisteredModel

#: The snapshot clock of tests/console_store.py (the newest windows end there).
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
CBPE_ASSUMPTIONS = ("assumes no concept drift: calibrated on v1's reference, the estimate "
                    "sees the inputs, not the labels")
INCOME_REASON = ("drift: ks chosen for a numeric column with 25000 reference rows, n 25000/4812, "
                 "statistic 0.1810 > 0.1000 (p < 0.0001), effect 0.4120 (normalised wasserstein)")
PURPOSE_REASON = ("drift: chi-squared chosen for a categorical column with 3 categories, n 25000/4812, "
                  "p 0.0000 < 0.05, effect 0.0930 (jensen-shannon); new category crypto (41 rows)")
DOMAIN_THRESHOLD = 0.75


def _summary(mean: float, median: float, iqr: float, std: float, missing: float = 0.0,
             out_of_range: float = 0.0, outliers: float = 0.0) -> dict[str, float]:
    return {"mean": mean, "median": median, "iqr": iqr, "std": std, "missing_share": missing,
            "out_of_range_share": out_of_range, "outlier_share": outliers}


def _numeric(feature: str, status: str, statistic: float, effect: float, reason: str, edges: list[float],
             reference: list[float], current: list[float], summaries: tuple[dict[str, float], dict[str, float]],
             *, p_value: float | None = None, kind: str = "numeric", n_current: int = 4812) -> dict[str, Any]:
    return {"feature": feature, "kind": kind, "status": status, "test": "ks", "statistic": statistic,
            "threshold": 0.1, "p_value": p_value, "effect_size": effect, "n_reference": 25000,
            "n_current": n_current, "reason": reason,
            "detail": {"summary": {"reference": summaries[0], "current": summaries[1]},
                       "histogram": {"edges": edges, "reference": reference, "current": current},
                       "new_categories": {}}}


def credit_features(drifted: bool) -> list[dict[str, Any]]:
    """The per-feature rows of a credit-default drift report (the newest one drifted)."""
    edges = [8000.0, 30000.0, 52000.0, 74000.0, 96000.0, 118000.0, 140000.0, 162000.0, 184000.0]
    income_ref = [0.08, 0.17, 0.21, 0.19, 0.14, 0.10, 0.07, 0.04]
    income_cur = [0.03, 0.08, 0.13, 0.17, 0.19, 0.18, 0.13, 0.09] if drifted else income_ref
    stat = 0.181 if drifted else 0.021
    income = _numeric(
        "income", "drift" if drifted else "ok", stat, 0.412 if drifted else 0.034,
        INCOME_REASON if drifted else ("ok: ks chosen for a numeric column with 25000 reference rows, "
                                       "n 25000/4812, statistic 0.0210 <= 0.1000, effect 0.0340"),
        edges, income_ref, income_cur,
        (_summary(74210.0, 68400.0, 48200.0, 35100.0),
         _summary(98830.0 if drifted else 74950.0, 96100.0 if drifted else 69000.0, 51800.0, 36900.0,
                  missing=0.012, out_of_range=0.031 if drifted else 0.0, outliers=0.018 if drifted else 0.004)),
        p_value=0.00001 if drifted else 0.41)
    age = _numeric("age", "ok", 0.018, 0.022,
                   "ok: ks chosen for a numeric column with 25000 reference rows, n 25000/4812, "
                   "statistic 0.0180 <= 0.1000, effect 0.0220",
                   [18.0, 28.0, 38.0, 48.0, 58.0, 68.0, 79.0], [0.18, 0.26, 0.24, 0.17, 0.10, 0.05],
                   [0.17, 0.27, 0.24, 0.17, 0.10, 0.05],
                   (_summary(41.2, 39.0, 19.0, 12.4), _summary(41.5, 39.0, 19.0, 12.6, out_of_range=0.0002)),
                   p_value=0.52)
    debt = _numeric("debt_ratio", "ok", 0.026, 0.031,
                    "ok: ks chosen for a numeric column with 25000 reference rows, n 25000/4812, "
                    "statistic 0.0260 <= 0.1000, effect 0.0310",
                    [0.0, 0.4, 0.8, 1.2, 1.6, 3.2], [0.31, 0.34, 0.21, 0.10, 0.04],
                    [0.30, 0.34, 0.22, 0.10, 0.04],
                    (_summary(0.62, 0.55, 0.5, 0.38), _summary(0.63, 0.56, 0.5, 0.39)), p_value=0.33)
    prediction = _numeric("prediction", "ok", 0.043, 0.051,
                          "ok: ks chosen for the model's score, n 25000/4812, statistic 0.0430 <= 0.1000, "
                          "effect 0.0510",
                          [0.0, 0.2, 0.4, 0.6, 0.8, 1.0], [0.42, 0.31, 0.15, 0.08, 0.04],
                          [0.38, 0.32, 0.17, 0.09, 0.04],
                          (_summary(0.26, 0.22, 0.2, 0.18), _summary(0.28, 0.24, 0.21, 0.19)),
                          p_value=0.08, kind="prediction")
    purpose = {"feature": "purpose", "kind": "categorical", "status": "drift" if drifted else "ok",
               "test": "chi2", "statistic": 312.4 if drifted else 2.1, "threshold": 0.05,
               "p_value": 0.0 if drifted else 0.35, "effect_size": 0.093 if drifted else 0.004,
               "n_reference": 25000, "n_current": 4812,
               "reason": PURPOSE_REASON if drifted else (
                   "ok: chi-squared chosen for a categorical column with 3 categories, n 25000/4812, "
                   "p 0.3500 >= 0.05, effect 0.0040"),
               "detail": {"summary": {"reference": {"missing_share": 0.0}, "current": {"missing_share": 0.0}},
                          "histogram": {"categories": ["car", "education", "home", "crypto"],
                                        "reference": [0.46, 0.21, 0.33, 0.0],
                                        "current": [0.39, 0.20, 0.32, 0.09] if drifted else [0.45, 0.22, 0.33, 0.0]},
                          "new_categories": {"crypto": 41} if drifted else {}}}
    return [income, age, purpose, debt, prediction]


def _ids(store: Store) -> dict[tuple[str, int | None], tuple[int, int | None]]:
    with store.db.read() as session:
        rows = session.exec(select(RegisteredModel.name, RegisteredModel.id, ModelVersion.version, ModelVersion.id)
                            .join(ModelVersion, ModelVersion.model_id == RegisteredModel.id)).all()
    out: dict[tuple[str, int | None], tuple[int, int | None]] = {}
    for name, model_id, number, version_id in rows:
        out[(name, number)] = (model_id, version_id)  # type: ignore[assignment]
        out[(name, None)] = (model_id, None)  # type: ignore[assignment]
    return out


def _window(days_back: int) -> dict[str, datetime]:
    end = NOW - days_back * DAY
    return {"window_start": end - DAY, "window_end": end, "created_at": end + timedelta(minutes=2)}


def _drift(model_id: int, version_id: int | None, days_back: int, **values: Any) -> dict[str, Any]:
    return {"model_id": model_id, "version_id": version_id, **_window(days_back), "seconds": 1.8,
            "created_by": "oncall", **values}


#: credit-default's daily drift: (days back, rows, drift share, domain AUC) oldest first
CREDIT_DRIFT = ((6, 37, None, None), (5, 4410, 0.0, 0.52), (4, 4630, 0.0, 0.54), (3, 4590, 0.2, 0.58),
                (2, 4720, 0.0, 0.61), (1, 4690, 0.2, 0.66), (0, 4812, 0.4, 0.81))


def add_monitoring_reports(store: Store) -> dict[str, int]:
    """Write the reports of the module docstring; returns the ids the tests name."""
    ids = _ids(store)
    credit, _ = ids[("credit-default", None)]
    _, credit_v1 = ids[("credit-default", 1)]
    _, credit_v2 = ids[("credit-default", 2)]
    demand, _ = ids[("store-demand", None)]
    _, demand_v2 = ids[("store-demand", 2)]
    churn, _ = ids[("churn-risk", None)]
    named: dict[str, int] = {}
    with store.db.write() as session:
        for days_back, rows, share, auc in CREDIT_DRIFT:
            if share is None:
                named["credit_insufficient"] = report_store.add_drift_report(session, _drift(
                    credit, credit_v1, days_back, status="insufficient", rows=rows, features=5,
                    reason="insufficient data: 37 rows, need 100"), [])
                continue
            drifted = round(share * 5)
            newest = days_back == 0
            domain = {"auc": auc, "drifted": auc > DOMAIN_THRESHOLD, "threshold": DOMAIN_THRESHOLD,
                      "importances": {"income": 0.61, "purpose": 0.22, "age": 0.09, "debt_ratio": 0.08}
                      if newest else {"income": 0.3, "age": 0.3, "purpose": 0.2, "debt_ratio": 0.2},
                      "rows_used": 4000, "seconds": 1.1, "reason": ""}
            reason = ("drift: 2 of 5 features drifted (40%): income, purpose; domain classifier AUC "
                      "0.81 > 0.75" if newest else
                      f"{'drift' if drifted else 'ok'}: {drifted} of 5 features drifted; domain AUC {auc:.2f}")
            features = credit_features(True) if newest else credit_features(False)
            if not newest and drifted:
                features[3] = {**features[3], "status": "drift", "effect_size": 0.12,
                               "reason": "drift: ks, n 25000/4590, statistic 0.1040 > 0.1000"}
            rid = report_store.add_drift_report(session, _drift(
                credit, credit_v1, days_back, status="drift" if drifted else "ok", rows=rows, features=5,
                drifted=drifted, drift_share=share, domain_auc=auc, domain=domain, reason=reason), features)
            if newest:
                named["credit_drift"] = rid
        named["demand_drift"] = report_store.add_drift_report(session, _drift(
            demand, demand_v2, 0, status="insufficient", rows=37, features=3,
            reason="insufficient data: 37 rows, need 100"), [])
        named["churn_drift"] = report_store.add_drift_report(session, _drift(
            churn, None, 0, status="not_logged", rows=0, features=0,
            reason="inputs not logged: the deployment logs metadata only"), [])
        named["credit_quality"] = report_store.add_quality_report(session, {
            "model_id": credit, "version_id": credit_v1, **_window(0), "status": "failed", "rows": 4812,
            "errors": 1, "warnings": 2, "quarantined": 1, "seconds": 0.4, "created_by": "oncall",
            "findings": [
                {"check": "missing_share", "column": "income", "severity": "warning", "count": 58,
                 "share": 0.012, "reason": "income missing in 1.2% of rows (training: 0.0%)"},
                {"check": "all_null", "column": "debt_ratio", "severity": "error", "count": 4812, "share": 1.0,
                 "reason": "debt_ratio is null in every row since 2026-11-20 11:00: a broken upstream feed?"},
                {"check": "range", "column": "age", "severity": "warning", "count": 1, "share": 0.0002,
                 "reason": "age 131 above the training maximum 79 in 1 row"}],
            "detail": {"columns": {"income": {"missing_share": 0.012, "type_violations": 0, "range_violations": 0},
                                   "debt_ratio": {"missing_share": 1.0, "type_violations": 0, "range_violations": 0},
                                   "age": {"missing_share": 0.0, "type_violations": 0, "range_violations": 1}},
                       "quarantine": {"age: 131 is above the training maximum 79": 1}}})
        report_store.add_quality_report(session, {
            "model_id": demand, "version_id": demand_v2, **_window(0), "status": "ok", "rows": 1440,
            "seconds": 0.2, "findings": [], "detail": {"columns": {}, "quarantine": {}}})
        # credit-default v1: realised ROC AUC falls, the estimate does not (concept drift)
        training = {"roc_auc": 0.8134, "accuracy": 0.801, "f1": 0.5322}
        for days_back, realised, estimate, labelled, predictions in (
                (5, 0.8102, 0.8051, 1620, 4410), (4, 0.7988, 0.8032, 1510, 4630), (3, 0.7710, 0.8040, 1398, 4590),
                (2, 0.7402, 0.8019, 1204, 4720), (1, 0.7135, 0.8027, 640, 4690), (0, 0.7050, 0.8011, 12, 4812)):
            thin = labelled < 30
            named["credit_perf_thin" if thin else "credit_perf"] = report_store.add_performance_report(session, {
                "model_id": credit, "version_id": credit_v1, **_window(days_back),
                "status": "insufficient" if thin else "failed" if realised < 0.7634 else "ok",
                "task": "classification", "predictions": predictions, "labelled": labelled,
                "coverage": labelled / predictions,
                "realised": {"roc_auc": realised, "accuracy": round(realised - 0.01, 4)},
                "estimated": {"roc_auc": estimate, "accuracy": 0.7990, "assumptions": CBPE_ASSUMPTIONS},
                "training": training, "created_by": "oncall",
                "reason": (f"thin: {labelled} labelled rows of {predictions}, need 30" if thin else
                           f"{labelled} labelled rows of {predictions} predictions "
                           f"(coverage {labelled / predictions:.1%})")})
        for days_back, realised, labelled, predictions in ((1, 0.8240, 160, 520), (0, 0.8198, 131, 505)):
            report_store.add_performance_report(session, {
                "model_id": credit, "version_id": credit_v2, **_window(days_back), "status": "ok",
                "task": "classification", "predictions": predictions, "labelled": labelled,
                "coverage": labelled / predictions, "realised": {"roc_auc": realised},
                "estimated": {"roc_auc": 0.8230, "assumptions": CBPE_ASSUMPTIONS},
                "training": {"roc_auc": 0.8291}, "reason": f"{labelled} labelled rows of {predictions}"})
        for days_back, mae, labelled in ((2, 3.21, 1380), (1, 3.35, 1402), (0, 4.02, 1377)):
            report_store.add_performance_report(session, {
                "model_id": demand, "version_id": demand_v2, **_window(days_back), "status": "ok",
                "task": "regression", "predictions": 1440, "labelled": labelled, "coverage": labelled / 1440,
                "realised": {"mae": mae, "rmse": round(mae * 1.5, 2)}, "estimated": None,
                "training": {"mae": 3.118, "rmse": 4.902}, "reason": f"{labelled} labelled rows of 1440"})
    return named
