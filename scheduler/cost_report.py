"""The cost figures the CLI (`wk store usage`, `wk jobs cost`) and the console's Usage
screen show: `usage_report` (disk per model, served memory, totals) and `cost_report`
(the runs' resources per model and per job over a window, and money per month).

Stable keys, documented on each function; sizes in bytes, times in seconds, money in the
configured currency (None when no price is set)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scheduler.cost import (
    MONTH_DAYS,
    gigabytes,
    money,
    monthly,
    prices_summary,
    run_figures,
    sum_runs,
)
from store.artifacts import SKOPS_SUFFIX
from store.config import cost_prices
from store.errors import InvalidInput
from store.rows import table_of
from store.usage import (
    LOG_TABLES,
    REPORT_TABLES,
    artifacts_per_model,
    model_names,
    rows_per_model,
    run_totals,
    served_memory,
    table_bytes,
)

if TYPE_CHECKING:
    from store.handle import Store

#: how a server measures a loaded version (serving/scoring/load_memory.py)
SERVED_MEMORY_METHOD = ("the larger of malloc's growth over the load and the size of the "
                        "objects reachable from the estimator")
_REPORT_NAMES = [table_of(t).name for t in REPORT_TABLES] + ["drift_feature"]


def usage_report(store: Store) -> dict[str, Any]:
    """Disk per model and in total, and the memory servers measured.

    keys: models: [{model, artifacts_bytes, artifact_files, predictions_rows,
    predictions_bytes, quarantine_rows, quarantine_bytes, reports_rows, reports_bytes,
    total_bytes, disk_cost_month, served_memory: [{version, bytes, host, pid,
    measured_at}]}]; totals: {database_bytes, wal_bytes, artifacts_bytes, artifact_files,
    predictions_bytes, quarantine_bytes, reports_bytes, store_bytes, disk_cost_month};
    method: {table_bytes: dbstat | pg_total_relation_size | estimate, served_memory};
    prices: {cpu_hour, gb_month, currency, configured, source}."""
    prices = cost_prices(store.location.root)
    with store.db.read_core() as conn:
        names = model_names(conn)
        counts = rows_per_model(conn)
        sizes, method = table_bytes(conn, list(counts))
        versions = artifacts_per_model(conn)
        memory = served_memory(conn)
    files = _artifact_sizes(store.location.artifacts_dir, {sha for _m, _v, sha in versions})
    models = []
    for model_id, name in sorted(names.items(), key=lambda kv: kv[1]):
        own = {sha for m, _v, sha in versions if m == model_id}
        item: dict[str, Any] = {"model": name, "artifacts_bytes": sum(files[s] for s in own),
                                "artifact_files": sum(1 for s in own if files[s])}
        for key, table in LOG_TABLES.items():
            item[f"{key}_rows"], item[f"{key}_bytes"] = _share(counts, sizes, table_of(table).name,
                                                               model_id)
        shares = [_share(counts, sizes, t, model_id) for t in _REPORT_NAMES]
        item["reports_rows"] = sum(r for r, _b in shares)
        item["reports_bytes"] = sum(b for _r, b in shares)
        item["total_bytes"] = (item["artifacts_bytes"] + item["predictions_bytes"]
                               + item["quarantine_bytes"] + item["reports_bytes"])
        item["disk_cost_month"] = money(gigabytes(item["total_bytes"]), prices.gb_month)
        item["served_memory"] = [{k: v for k, v in m.items() if k != "model_id"}
                                 for m in memory if m["model_id"] == model_id]
        models.append(item)
    totals = _totals(store, files, sizes)
    totals["disk_cost_month"] = money(gigabytes(totals["store_bytes"]), prices.gb_month)
    return {"models": models, "totals": totals,
            "method": {"table_bytes": method, "served_memory": SERVED_MEMORY_METHOD},
            "prices": prices_summary(prices)}


def cost_report(store: Store, days: int, model: str | None = None,
                now: datetime | None = None) -> dict[str, Any]:
    """The job runs' resources over the last `days` days, per model and per job, and money.

    keys: days, since, prices; models: [{model (None: store-wide jobs such as backup),
    runs, measured, cpu_s, cpu_hours, wall_s, peak_memory_mb, rows, cpu_cost, disk_bytes,
    monthly: {cpu_hours_30d, disk_gb, cpu, disk, total}}]; jobs: [{job, kind, model, runs,
    measured, cpu_s, cpu_hours, wall_s, peak_memory_mb, rows, cpu_cost, monthly_cpu}];
    totals: {runs, measured, cpu_s, cpu_hours, wall_s, peak_memory_mb, rows, cpu_cost,
    monthly_total}. `measured` counts the runs whose resources were recorded. The windows
    end at `now` (default the clock; the console passes its own)."""
    if days < 1:
        raise InvalidInput(f"days must be 1 or more, not {days}", field="days", example="30")
    from store.types import utcnow

    prices = cost_prices(store.location.root)
    now = now or utcnow()
    since, since_month = now - timedelta(days=days), now - timedelta(days=MONTH_DAYS)
    with store.db.read_core() as conn:
        names = model_names(conn)
        per_model = run_totals(conn, since, "model")
        per_job = run_totals(conn, since, "job")
        month_model = {r["key"]: r["cpu_s"] for r in run_totals(conn, since_month, "model")}
        month_job = {r["key"]: r["cpu_s"] for r in run_totals(conn, since_month, "job")}
    model_id = _model_id(names, model)
    disk = {m["model"]: m["total_bytes"] for m in usage_report(store)["models"]}
    window = {r["key"]: r for r in per_model}
    keys = [k for k in sorted(names, key=lambda k: names[k])]
    if None in window or None in month_model:
        keys.append(None)  # type: ignore[arg-type]
    models = []
    for key in keys:
        if model_id is not None and key != model_id:
            continue
        name = names.get(key) if key is not None else None
        item = run_figures({k: v for k, v in _empty(window.get(key)).items() if k != "key"}, prices)
        item = {"model": name, **item, "disk_bytes": disk.get(name, 0) if name else 0}
        item["monthly"] = monthly(month_model.get(key, 0.0), item["disk_bytes"], prices)
        models.append(item)
    jobs = []
    for row in sorted(per_job, key=lambda r: str(r["key"])):
        if model_id is not None and row["model_id"] != model_id:
            continue
        item = run_figures({k: v for k, v in row.items() if k not in ("key", "model_id")}, prices)
        jobs.append({"job": row["key"], "model": names.get(row["model_id"]), **item,
                     "monthly_cpu": money(month_job.get(row["key"], 0.0) / 3600, prices.cpu_hour)})
    totals = run_figures(sum_runs(models), prices)
    monthly_totals = [m["monthly"]["total"] for m in models if m["monthly"]["total"] is not None]
    totals["monthly_total"] = round(sum(monthly_totals), 4) if monthly_totals else None
    return {"days": days, "since": since.isoformat(), "model": model,
            "prices": prices_summary(prices), "models": models, "jobs": jobs, "totals": totals}


def _model_id(names: dict[int, str], model: str | None) -> int | None:
    if model is None:
        return None
    for key, name in names.items():
        if name == model:
            return key
    from store.errors import Listing, NotFound, see

    raise NotFound(f"no model {model!r}", field="model", see=see(Listing.MODELS))


def _empty(item: dict[str, Any] | None) -> dict[str, Any]:
    return item or {"runs": 0, "measured": 0, "cpu_s": 0.0, "wall_s": 0.0,
                    "peak_memory_mb": None, "rows": 0}


def _share(counts: dict[str, dict[int, int]], sizes: dict[str, int], table: str,
           model_id: int) -> tuple[int, int]:
    """A model's rows of a table and its share of the table's bytes."""
    rows = counts.get(table, {}).get(model_id, 0)
    total = sum(counts.get(table, {}).values())
    return rows, int(sizes.get(table, 0) * rows / total) if total else 0


def _artifact_sizes(folder: Path, shas: set[str]) -> dict[str, int]:
    sizes = {}
    for sha in shas:
        try:
            sizes[sha] = (folder / f"{sha}{SKOPS_SUFFIX}").stat().st_size
        except FileNotFoundError:
            sizes[sha] = 0
    return sizes


def _totals(store: Store, files: dict[str, int], sizes: dict[str, int]) -> dict[str, Any]:
    from store.wal import file_bytes, wal_path

    sqlite = store.db.is_sqlite
    database = file_bytes(store.location.db_path) if sqlite else None
    wal = file_bytes(wal_path(store)) if sqlite else None
    artifacts = sum(files.values())
    return {"database_bytes": database, "wal_bytes": wal, "artifacts_bytes": artifacts,
            "artifact_files": sum(1 for v in files.values() if v),
            "predictions_bytes": sizes.get("prediction", 0),
            "quarantine_bytes": sizes.get("quarantine", 0),
            "reports_bytes": sum(sizes.get(t, 0) for t in _REPORT_NAMES),
            "store_bytes": (database or 0) + (wal or 0) + artifacts}
