"""Usage: per model, what its job runs took over the last 7 and 30 days (CPU seconds,
wall time, the highest peak memory), the disk it holds (artifacts, prediction log,
reports), the memory a server measured for its loaded versions, and the money a month
that comes to when prices are set ([cost] in the store's watchkeeper.toml). Over the
table: the store's size and the prices. From scheduler.cost_report, as `wk store usage`
and `wk jobs cost` print it. The figures move slowly and their read walks the database's
pages, so this view refreshes every 30 s at most."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from console.columns import Column
from console.screens.base import TableScreen
from console.screens.scheduler_cells import megabytes, seconds
from console.widgets.live_table import LiveTable, TableRow
from console.widgets.row_detail import RowDetail

#: the slowest this view refreshes (its read sums every table's pages)
MIN_REFRESH_S = 30.0
#: the row of the jobs that name no model (backup, prune of the whole store)
STORE_JOBS = "(store jobs)"
MB = 2**20


def size(nbytes: int | None) -> str:
    """Bytes in a unit that reads: 512 B, 12 KB, 3.4 MB, 1.2 GB (binary units)."""
    if nbytes is None:
        return "-"
    for unit, scale in (("GB", 2**30), ("MB", MB), ("KB", 2**10)):
        if nbytes >= scale:
            value = nbytes / scale
            return f"{value:.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    return f"{nbytes} B"


def money(value: float | None, currency: str) -> str:
    return "-" if value is None else f"{value:,.2f}" + (f" {currency}" if currency else "")


def in_mb(figures: dict[str, Any], key: str) -> str:
    return megabytes(figures[key] / MB) if key in figures else "-"


def usage_rows(usage: dict[str, Any], week: dict[str, Any], month: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per model (and one for the store-wide jobs, if any ran): the usage report's
    disk and memory beside the two cost windows' run figures."""
    by_week = {m["model"]: m for m in week["models"]}
    by_month = {m["model"]: m for m in month["models"]}
    disk = {m["model"]: m for m in usage["models"]}
    names: list[str | None] = [m["model"] for m in usage["models"]]
    if None in by_month:
        names.append(None)
    return [{"model": name, "week": by_week.get(name) or {}, "month": by_month.get(name) or {},
             "disk": disk.get(name) or {}} for name in names]


class UsageScreen(TableScreen):
    VIEW = "usage"
    #: At 80 columns: CPU over both windows, peak memory, disk, served memory and money;
    #: wall time and the disk's parts in the detail line.
    COLUMNS = (Column("model", min_width=12), Column("cpu s 7d"), Column("cpu s 30d"),
               Column("peak MB", 1), Column("disk MB"), Column("served MB", 1),
               Column("/month", 1), Column("wall s 7d", 2), Column("wall s 30d", 2),
               Column("artifacts MB", 3), Column("log MB", 3), Column("reports MB", 3))

    def __init__(self) -> None:
        super().__init__()
        self.currency = ""

    def title_text(self) -> str:
        return "usage"

    def compose_body(self) -> ComposeResult:
        yield Static("", id="usage-totals")
        yield LiveTable(self.COLUMNS, id="table")
        yield RowDetail(id="detail-line")

    def fetch(self) -> Any:
        from scheduler.cost_report import cost_report, usage_report

        store, now = self.wk.store, self.wk.clock()
        return {"usage": usage_report(store), "week": cost_report(store, 7, now=now),
                "month": cost_report(store, 30, now=now)}

    def show(self, data: dict[str, Any]) -> None:
        self.query_one("#usage-totals", Static).update(totals_text(data))
        super().show(data)

    def rows_from(self, data: dict[str, Any]) -> list[TableRow]:
        currency = data["usage"]["prices"]["currency"]
        out = []
        for row in usage_rows(data["usage"], data["week"], data["month"]):
            week, month, disk = row["week"], row["month"], row["disk"]
            served = sum(m["bytes"] for m in disk.get("served_memory", []))
            out.append(TableRow(row["model"] or STORE_JOBS, (
                row["model"] or STORE_JOBS, seconds(week.get("cpu_s")), seconds(month.get("cpu_s")),
                megabytes(month.get("peak_memory_mb")), in_mb(disk, "total_bytes"),
                megabytes(served / MB) if served else "-",
                money((month.get("monthly") or {}).get("total"), currency),
                seconds(week.get("wall_s")), seconds(month.get("wall_s")),
                in_mb(disk, "artifacts_bytes"), in_mb(disk, "predictions_bytes"),
                in_mb(disk, "reports_bytes"),
            ), row))
        return out

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(max(self.wk.refresh_interval, MIN_REFRESH_S), self._tick)


def totals_text(data: dict[str, Any]) -> Text:
    """"store 12.3 MB: database 10.1 MB, WAL 0.2 MB, artifacts 2.0 MB" and the prices
    (or how to set them), with the month's total when they are set."""
    totals, prices = data["usage"]["totals"], data["usage"]["prices"]
    text = Text(f"store {size(totals['store_bytes'])}", style="bold")
    text.append(f": database {size(totals['database_bytes'])}, WAL {size(totals['wal_bytes'])}, "
                f"artifacts {size(totals['artifacts_bytes'])}\n")
    if not prices["configured"]:
        text.append("prices not set: add [cost] cpu_hour = ... and gb_month = ... to "
                    "watchkeeper.toml in the store folder", style="dim")
        return text
    currency = prices["currency"]
    parts = [f"{money(prices[key], currency)} a {label}" for key, label in
             (("cpu_hour", "CPU-hour"), ("gb_month", "GB-month")) if prices[key] is not None]
    text.append("prices " + ", ".join(parts))
    monthly = data["month"]["totals"].get("monthly_total")
    if monthly is not None:
        text.append(" · all models ")
        text.append(money(monthly, currency), style="bold")
        text.append(" a month")
    return text
