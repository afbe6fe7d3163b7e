"""Overview: per model, what is in production and how old it is, its traffic in the last
5 minutes (requests per minute, with its rows where a request has several, p95 latency,
error rate, from the rollup), its requests per minute over the last 3 hours as a
sparkline, staging, the last training run and its result, and gate failures. Under the
table, the selected model's last 3 hours: requests per minute, p95 and error rate as
sparklines. From the stored monitoring reports: the newest drift state (how many
features drifted; too few rows and inputs not logged said as such, never ok) and the
newest performance of each version (its main metric, with label coverage; thin windows
marked). Over the table, the scheduler's heartbeat (up, down since, stopped, never) and
the job runs that failed in the last 24 hours. Beside production, the model's open alerts
(how many, and the worst severity among them); the header counts them for every model."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Static

from console.charts import span_text, trend_cell
from console.columns import Column
from console.screens.base import ModelRowsScreen
from console.screens.cells import error_rate, millis, per_minute, percent
from console.screens.scheduler_cells import overview_lines
from console.screens.time_format import age
from console.widgets.live_table import LiveTable, TableRow
from console.widgets.row_detail import RowDetail
from console.widgets.trend_panel import Columns, TrendPanel
from serving.traffic.dashboard import TREND_MINUTES
from store.rollups import TrafficPoint
from store.vocabulary import CheckStatus

#: The traffic window, in minutes (the same as the deployments view).
TRAFFIC_MINUTES = 5
#: The charts' most points over their window (dashboard.TREND_MINUTES, 3 h): 45 is 4
#: minutes a point, one cell each at 80 columns, two at 120
TREND_POINTS = 45


def drift_cell(drift: dict[str, Any] | None) -> str:
    """The newest drift report's state: "drift 2/5", "ok", "insufficient", "not logged"."""
    if drift is None:
        return "-"
    if drift["status"] == CheckStatus.DRIFT:
        return f"drift {drift['drifted']}/{drift['features']}"
    return {CheckStatus.INSUFFICIENT: "insufficient", CheckStatus.NOT_LOGGED: "not logged"}.get(
        drift["status"], drift["status"])


def performance_cell(performance: list[dict[str, Any]], production: int | None) -> str:
    """The newest performance of the production version (else the newest of any version,
    named): its main metric, label coverage, and "thin" when too few labels, e.g.
    "roc_auc 0.705 0.2% thin"; an estimate where no label came yet, e.g. "roc_auc ~0.801"."""
    if not performance:
        return "-"
    p = next((p for p in performance if p["version"] == production), performance[0])
    if p["realised"] is not None:
        value = f"{p['realised']:.3f}"
    else:
        value = "-" if p["estimated"] is None else f"~{p['estimated']:.3f}"
    other = "" if p["version"] == production else f" v{p['version']}"
    thin = " thin" if p["thin"] else ""
    return f"{p['metric'] or '-'} {value} {percent(p['coverage'])}{thin}{other}"


SEVERITY_ORDER = ("critical", "warning", "info")


def alerts_cell(by_severity: dict[str, int] | None) -> str:
    """A model's open alerts: "2 crit" (two open, the worst critical), "1 warn", "-"."""
    if not by_severity:
        return "-"
    worst = next((s for s in SEVERITY_ORDER if by_severity.get(s)), next(iter(by_severity)))
    return f"{sum(by_severity.values())} {worst[:4]}"


class OverviewScreen(ModelRowsScreen):
    VIEW = "overview"
    #: What matters at 3am first: the model, what serves it and how that goes; at 80
    #: columns the rest is in the detail line, the last hours in the panel under the table.
    COLUMNS = (Column("model", min_width=14), Column("prod"), Column("alerts"), Column("age", 2),
               Column("req/min", 1),
               Column("p95 ms", 1), Column("err %", 1),
               Column("drift", 1), Column("perf", 2),
               Column("staging", 1), Column("last run", 1), Column("rows/min", 2),
               Column(f"{span_text(TREND_MINUTES)} req/min", 3, in_detail=False),
               Column("ran", 2), Column("gate fails", 2), Column("versions", 3))

    def __init__(self) -> None:
        super().__init__()
        self.trends: dict[str, list[TrafficPoint]] = {}
        self.trend_step = 1

    def compose_body(self) -> ComposeResult:
        yield Static("", id="scheduler-line")
        yield LiveTable(self.COLUMNS, id="table")
        yield TrendPanel(id="trend")
        yield RowDetail(id="detail-line")

    def fetch(self) -> Any:
        from monitoring.alerts_view import open_alert_counts
        from monitoring.reading import latest_states
        from registry.models import overview
        from scheduler.health import scheduler_health
        from serving.traffic import dashboard

        now = self.wk.clock()
        step, series = dashboard.trends(self.wk.store, minutes=TREND_MINUTES, now=now, max_points=TREND_POINTS)
        return {"models": overview(self.wk.store, now=now),
                "traffic": dashboard.traffic_by_model(self.wk.store, minutes=TRAFFIC_MINUTES, now=now),
                "trend_step": step, "trends": {s.model: s.points for s in series},
                "monitoring": latest_states(self.wk.store),
                "alerts": open_alert_counts(self.wk.store)["models"],
                "scheduler": scheduler_health(self.wk.store, now=now)}

    def show(self, data: dict[str, Any]) -> None:
        health = data["scheduler"]
        now = self.wk.clock()
        lines = overview_lines(health, now)
        lines.no_wrap, lines.overflow = True, "ellipsis"
        self.query_one("#scheduler-line", Static).update(lines)
        self.wk.show_scheduler(health["scheduler"])
        super().show(data)

    def rows_from(self, data: dict[str, Any]) -> list[TableRow]:
        now = self.wk.clock()
        models = data["models"]
        self.trends, self.trend_step = data["trends"], data["trend_step"]
        self.wk.set_model_names([m["name"] for m in models])
        rows = []
        for m in models:
            run = m["last_run"]
            t = data["traffic"].get(m["name"])
            served = t is not None or m["production"] is not None
            points = self.trends.get(m["name"])
            state = data["monitoring"].get(m["name"]) or {}
            rows.append(TableRow(m["name"], (
                m["name"],
                f"v{m['production']}" if m["production"] else "-",
                alerts_cell(data["alerts"].get(m["name"])),
                age(m["production_since"], now),
                per_minute(t["per_minute"] if t else 0.0) if served else "-",
                millis(t["p95_ms"]) if t else "-",
                error_rate(t["error_rate"], t["rows"]) if t else "-",
                drift_cell(state.get("drift")),
                performance_cell(state.get("performance") or [], m["production"]),
                f"v{m['staging']}" if m["staging"] else "-",
                f"#{run['id']} {run['status']}" if run else "-",
                per_minute(t["rows_per_minute"] if t else 0.0) if served else "-",
                trend_cell(points) if points else "-",
                age(run["started_at"], now) if run else "-",
                str(m["gate_failures_30d"]),
                str(m["versions"]),
            ), {**m, "traffic": t, "monitoring": state}))
        return rows

    def trend_of(self, row: TableRow) -> tuple[str, Columns]:
        title = (f"{row.key}: last {span_text(TREND_MINUTES)}, champion and challenger "
                 f"({self.trend_step} min a point)")
        points = self.trends.get(row.key)
        return title, [("", points)] if points else []
