"""What resources cost: CPU-hours and GB-months from the run ledger's and the store's
figures, and money from the store's prices ([cost] in watchkeeper.toml). Pure sums, no
I/O: scheduler/cost_report.py reads the figures and calls these.

Money per model per month: CPU is the last 30 days' CPU-hours x the price of a CPU-hour
(the ledger's last 30 days stand for a month); disk is the model's bytes now, in GB
(10^9 bytes, as disks and cloud prices count them), x the price of a GB-month."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from store.config import Prices

GB = 10**9
MONTH_DAYS = 30


def cpu_hours(cpu_s: float) -> float:
    return cpu_s / 3600.0


def gigabytes(nbytes: int) -> float:
    return nbytes / GB


def money(quantity: float, price: float | None) -> float | None:
    """quantity x price, rounded to a hundredth of a cent; None when no price is set."""
    return None if price is None else round(quantity * price, 4)


def sum_runs(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Totals of run_totals rows: runs, measured runs, CPU and wall seconds, the highest
    peak memory, rows."""
    totals: dict[str, Any] = {"runs": 0, "measured": 0, "cpu_s": 0.0, "wall_s": 0.0,
                              "peak_memory_mb": None, "rows": 0}
    for item in items:
        for key in ("runs", "measured", "cpu_s", "wall_s", "rows"):
            totals[key] += item.get(key) or 0
        peak = item.get("peak_memory_mb")
        if peak is not None and (totals["peak_memory_mb"] is None or peak > totals["peak_memory_mb"]):
            totals["peak_memory_mb"] = peak
    totals["cpu_s"], totals["wall_s"] = round(totals["cpu_s"], 3), round(totals["wall_s"], 3)
    return totals


def run_figures(item: dict[str, Any], prices: Prices) -> dict[str, Any]:
    """A run total with its CPU-hours and what they cost at the CPU-hour price."""
    hours = cpu_hours(item["cpu_s"])
    return {**item, "cpu_hours": round(hours, 6), "cpu_cost": money(hours, prices.cpu_hour)}


def monthly(cpu_s_30d: float, disk_bytes: int, prices: Prices) -> dict[str, Any]:
    """A month's money: the last 30 days' CPU and the disk held now."""
    hours, gb = cpu_hours(cpu_s_30d), gigabytes(disk_bytes)
    cpu, disk = money(hours, prices.cpu_hour), money(gb, prices.gb_month)
    total = None if cpu is None and disk is None else round((cpu or 0.0) + (disk or 0.0), 4)
    return {"cpu_hours_30d": round(hours, 6), "disk_gb": round(gb, 6), "cpu": cpu, "disk": disk,
            "total": total}


def prices_summary(prices: Prices) -> dict[str, Any]:
    return {"cpu_hour": prices.cpu_hour, "gb_month": prices.gb_month,
            "currency": prices.currency, "configured": prices.configured,
            "source": prices.source}
