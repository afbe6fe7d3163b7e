"""Reading the stored monitoring reports (for the CLI and the console): a model's reports
of one kind, one report in full, every model's latest state for the Overview, and the
series the charts draw. Models and versions are resolved by name and number through the
store; every value returned is JSON-safe (times as ISO-8601 UTC strings, versions by
number, never database ids of models or versions).

Feature rows of a drift report come sorted by severity: drifted first, then the
features with too few rows (never shown as a pass), then the rest, each group by effect
size, largest first. A performance report carries its `metric`: the first of
PRIMARY_METRICS it has a realised, estimated or training value for, so a table and a
chart show one number per window; and `thin`, whether its labels are too few to trust."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from registry import views
from registry.versions import resolve_version
from store import models as model_store
from store import reports as report_store
from store import versions as version_store
from store.errors import Listing, NotFound, UsageError, see
from store.vocabulary import CheckStatus

if TYPE_CHECKING:
    from sqlmodel import Session

    from store.handle import Store

KINDS: tuple[str, ...] = tuple(report_store.REPORT_TABLES)
MAX_LIMIT = 1000
#: The metric a performance report is shown by, the first it has (classifiers, then
#: regressors): ranking quality first, since a threshold moves accuracy and F1.
PRIMARY_METRICS = ("roc_auc", "roc_auc_ovr", "accuracy", "f1", "f1_macro", "log_loss",
                   "mae", "rmse", "r2", "mape")
#: Reports read for a trend (the newest windows).
TREND_LIMIT = 60
#: The order of feature verdicts: what needs a look first.
SEVERITY = {CheckStatus.DRIFT: 0, CheckStatus.INSUFFICIENT: 1, CheckStatus.NOT_LOGGED: 1,
            CheckStatus.FAILED: 0, CheckStatus.OK: 2}
_TIMES = ("window_start", "window_end", "created_at")


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise UsageError(f"{kind!r} is not a kind of report; the kinds are {', '.join(KINDS)}",
                         field="kind", example="drift")
    return kind


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"a limit of {limit} reports is outside 1..{MAX_LIMIT}", field="limit",
                         example="50")


def primary_metric(report: dict[str, Any]) -> str | None:
    """The metric a performance report is shown by (module docstring), None if it has none."""
    for metric in PRIMARY_METRICS:
        for part in ("realised", "estimated", "training"):
            if isinstance((report.get(part) or {}).get(metric), int | float):
                return metric
    return None


def is_thin(report: dict[str, Any]) -> bool:
    """Too few labels to trust the realised metrics: the check said insufficient, or
    computed them but marked the window thin in its reason."""
    return report["status"] == CheckStatus.INSUFFICIENT or str(report.get("reason") or "").startswith("thin")


def feature_order(row: dict[str, Any]) -> tuple[int, float, str]:
    effect = row.get("effect_size")
    return (SEVERITY.get(row["status"], 1), -(effect if isinstance(effect, int | float) else -1.0),
            row["feature"])


def _view(kind: str, row: dict[str, Any], model: str, numbers: dict[int, int]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row["id"], "kind": kind, "model": model,
                           "version": numbers.get(row["version_id"]) if row["version_id"] else None}
    out.update((k, v) for k, v in row.items() if k not in ("id", "model_id", "version_id"))
    for key in _TIMES:
        if isinstance(out.get(key), datetime):
            out[key] = views.iso(out[key])
    if kind == "performance":
        out["metric"] = primary_metric(out)
        out["thin"] = is_thin(out)
    if "feature_rows" in out:
        out["feature_rows"] = sorted(out["feature_rows"], key=feature_order)
    return out


def _numbers(session: Session, model_id: int) -> dict[int, int]:
    """version id -> version number, for one model."""
    return {v.id: v.version for v in version_store.list_versions(session, model_id) if v.id is not None}


def reports(store: Store, model: str, kind: str, *, version: str | int | None = None,
            since: datetime | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """A model's reports of one kind, newest window first (drift without feature rows)."""
    check_kind(kind)
    _check_limit(limit)
    with store.db.read() as session:
        m = model_store.get_model(session, model)
        assert m.id is not None
        version_id = resolve_version(session, m, version).id if version is not None else None
        rows = report_store.list_reports(session, kind, m.id, version_id=version_id, since=since,
                                         limit=limit)
        numbers = _numbers(session, m.id)
    return [_view(kind, r, m.name, numbers) for r in rows]


def report(store: Store, kind: str, report_id: int, *, model: str | None = None) -> dict[str, Any]:
    """One report in full; a drift report with its feature rows, by severity. With
    `model`, a report of another model is not found."""
    check_kind(kind)
    with store.db.read() as session:
        row = report_store.get_report(session, kind, report_id)
        if row is None:
            raise NotFound(f"no {kind} report {report_id} in the store", see=see(Listing.REPORTS, model))
        name = model_store.model_name(session, row["model_id"])
        if model is not None and name != model:
            raise NotFound(f"{kind} report {report_id} is of model {name!r}, not {model!r}",
                           see=see(Listing.REPORTS, model))
        numbers = _numbers(session, row["model_id"])
    return _view(kind, row, name, numbers)


def latest(store: Store, model: str, kind: str) -> dict[str, Any] | None:
    """A model's newest report of one kind in full (None: no report yet)."""
    newest = reports(store, model, kind, limit=1)
    return report(store, kind, newest[0]["id"]) if newest else None


def latest_states(store: Store, *, per_model: int = 20) -> dict[str, dict[str, Any]]:
    """Per model name: its newest drift and quality report (short form, None without one)
    and the newest performance report of each version among its last `per_model`
    performance reports, newest first."""
    with store.db.read() as session:
        names = {mid: name for mid, name, _owner in model_store.model_heads(session)}
        newest = {kind: report_store.latest_reports(session, kind) for kind in KINDS}
        performance: dict[int, list[dict[str, Any]]] = {}
        numbers: dict[int, dict[int, int]] = {}
        for model_id in newest["performance"]:
            by_version: dict[int, dict[str, Any]] = {}
            for r in report_store.list_reports(session, "performance", model_id, limit=per_model):
                by_version.setdefault(r["version_id"], r)  # newest window first: the first is the latest
            performance[model_id] = list(by_version.values())
        for model_id in {mid for kind in KINDS for mid in newest[kind]}:
            numbers[model_id] = _numbers(session, model_id)
    out: dict[str, dict[str, Any]] = {}
    for model_id, name in names.items():
        nums = numbers.get(model_id, {})
        drift = newest["drift"].get(model_id)
        quality = newest["quality"].get(model_id)
        out[name] = {
            "drift": _drift_state(_view("drift", drift, name, nums)) if drift else None,
            "quality": _quality_state(_view("quality", quality, name, nums)) if quality else None,
            "performance": [_performance_state(_view("performance", r, name, nums))
                            for r in performance.get(model_id, [])],
        }
    return out


def _drift_state(r: dict[str, Any]) -> dict[str, Any]:
    return {k: r[k] for k in ("id", "status", "drifted", "features", "drift_share", "domain_auc", "rows",
                              "reason", "version", "window_end", "created_at")}


def _quality_state(r: dict[str, Any]) -> dict[str, Any]:
    return {k: r[k] for k in ("id", "status", "errors", "warnings", "quarantined", "rows", "version",
                              "window_end", "created_at")}


def _performance_state(r: dict[str, Any]) -> dict[str, Any]:
    metric = r["metric"]
    return {"id": r["id"], "version": r["version"], "status": r["status"], "metric": metric,
            "realised": (r["realised"] or {}).get(metric) if metric else None,
            "estimated": (r["estimated"] or {}).get(metric) if metric else None,
            "training": (r["training"] or {}).get(metric) if metric else None,
            "coverage": r["coverage"], "labelled": r["labelled"], "predictions": r["predictions"],
            "thin": r["thin"], "window_end": r["window_end"]}


def drift_trend(store: Store, model: str, *, limit: int = TREND_LIMIT) -> list[dict[str, Any]]:
    """The drift share and the domain classifier's AUC of a model's last `limit` drift
    reports, oldest first (a report without a value, e.g. insufficient data, has None)."""
    rows = reports(store, model, "drift", limit=limit)
    return [{k: r[k] for k in ("id", "window_end", "status", "drift_share", "domain_auc", "drifted",
                               "features")} for r in reversed(rows)]


def performance_trend(store: Store, model: str, *, limit: int = TREND_LIMIT) -> dict[str, Any]:
    """A model's last `limit` performance reports as one series per version, oldest first:
    the primary metric realised and estimated, with label coverage and thin windows.
    `metric` is the one most of the reports have (None without reports)."""
    rows = reports(store, model, "performance", limit=limit)
    counts: dict[str, int] = {}
    for r in rows:
        if r["metric"]:
            counts[r["metric"]] = counts.get(r["metric"], 0) + 1
    metric = max(counts, key=lambda m: (counts[m], -PRIMARY_METRICS.index(m))) if counts else None
    series: dict[int, list[dict[str, Any]]] = {}
    for r in reversed(rows):
        series.setdefault(r["version"], []).append({
            "id": r["id"], "window_end": r["window_end"], "status": r["status"], "thin": r["thin"],
            "realised": (r["realised"] or {}).get(metric) if metric else None,
            "estimated": (r["estimated"] or {}).get(metric) if metric else None,
            "training": (r["training"] or {}).get(metric) if metric else None,
            "coverage": r["coverage"]})
    return {"metric": metric,
            "versions": [{"version": v, "points": pts} for v, pts in sorted(series.items(), reverse=True)]}
