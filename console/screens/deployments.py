"""Deployments: how each model is served, one row per route (champion, challenger or
shadow) with its version, share of requests and the last 5 minutes of traffic from the
rollup (requests per minute, p50/p95 latency, error rate, rows per minute: a request may
have several). A version that still had
traffic in the window but no longer has a route (the champion before a promotion) keeps
a row with share "-" until its traffic ages out, so a change shows as it happens.

P promotes the challenger, B rolls the deployment back, S sets the challenger's share;
enter opens the model's predictions. Under the table, the selected model's routes over the
last 3 hours side by side (champion against challenger: requests per minute, p95 and
error rate as sparklines on one scale per line)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult

from console.action_results import DEPLOYMENT_ACTIONS
from console.charts import span_text
from console.columns import Column
from console.screens.base import TableScreen
from console.screens.cells import error_rate, millis, owner_text, per_minute, percent
from console.screens.deployment_actions import (
    start_challenger_promote,
    start_deployment_rollback,
    start_set_share,
)
from console.screens.overview import TREND_POINTS
from console.screens.time_format import age
from console.widgets.live_table import LiveTable, TableRow
from console.widgets.row_detail import RowDetail
from console.widgets.trend_panel import Columns, TrendPanel
from serving.traffic.dashboard import TREND_MINUTES
from serving.traffic.router import routes_of
from store.rollups import TrafficPoint

#: The traffic window, in minutes (the same as `wk deploy show`).
WINDOW_MINUTES = 5


def _share_text(share: float | None) -> str:
    return "copy" if share is None else percent(share)  # a shadow copies every request


class DeploymentsScreen(TableScreen):
    VIEW = "deployments"
    ACTION_RESULTS = DEPLOYMENT_ACTIONS
    COLUMNS = (Column("model", min_width=14), Column("mode", 1), Column("route"), Column("ver"),
               Column("share"), Column("req/min", 1), Column("p50 ms", 2), Column("p95 ms", 1),
               Column("err %", 1), Column("rows/min", 2), Column("changed", 2), Column("owner", 3))

    def __init__(self) -> None:
        super().__init__()
        #: (model, route, version) -> the last hours' points
        self.trends: dict[tuple[str, str, int], list[TrafficPoint]] = {}
        self.trend_step = 1

    def title_text(self) -> str:
        return f"deployments (traffic: last {WINDOW_MINUTES} min)"

    def compose_body(self) -> ComposeResult:
        yield LiveTable(self.COLUMNS, id="table")
        yield TrendPanel(id="trend")
        yield RowDetail(id="detail-line")

    def fetch(self) -> Any:
        from serving.traffic import dashboard, deployments

        now = self.wk.clock()
        step, series = dashboard.trends(self.wk.store, minutes=TREND_MINUTES, now=now, by_route=True,
                                        max_points=TREND_POINTS)
        from registry.models import model_owners

        return {"owners": model_owners(self.wk.store),  # with the rows: never a late column
                "deployments": deployments.list_deployments(self.wk.store),
                "traffic": deployments.traffic(self.wk.store, minutes=WINDOW_MINUTES, now=now),
                "trend_step": step,
                "trends": {(s.model, s.route or "", s.version or 0): s.points for s in series}}

    def rows_from(self, data: dict[str, Any]) -> list[TableRow]:
        now = self.wk.clock()
        owners = data.get("owners", {})
        self.trends, self.trend_step = data["trends"], data["trend_step"]
        traffic: dict[tuple[str, str, int], dict[str, Any]] = {
            (t["model"], t["route"], t["version"]): t for t in data["traffic"]}
        deps = {d["model"]: d for d in data["deployments"]}
        rows = []
        for model in sorted(deps.keys() | {m for m, _r, _v in traffic}):
            dep = deps.get(model) or {"model": model, "mode": "-", "champion": None, "challenger": None,
                                      "challenger_share": 0.0, "updated_at": None}
            routes: list[tuple[str, int | None, str]] = [
                (route, version, _share_text(share)) for route, version, share in routes_of(dep)] if model in deps else []
            current = {(route, version) for route, version, _share in routes}
            routes += sorted((route, version, "-") for m, route, version in traffic
                             if m == model and (route, version) not in current)
            for route, version, share in routes:
                t = traffic.get((model, route, version or 0))
                rows.append(TableRow(f"{model}/{route}/v{version}", (
                    model, dep["mode"], route, f"v{version}" if version else "-", share,
                    per_minute(t["per_minute"] if t else 0.0),
                    millis(t["p50_ms"]) if t else "-", millis(t["p95_ms"]) if t else "-",
                    error_rate(t["error_rate"], t["rows"]) if t else "-",
                    per_minute(t["rows_per_minute"] if t else 0.0),
                    age(dep["updated_at"], now), owner_text(owners.get(model)),
                ), {"deployment": dep, "route": route, "version": version, "share": share, "traffic": t}))
        return rows

    def trend_of(self, row: TableRow) -> tuple[str, Columns]:
        model = row.raw["deployment"]["model"]
        # this model's routes in the table's order: champion, challenger (or shadow), then
        # versions that lost their route but still had traffic
        routes = [(r.raw["route"], r.raw["version"]) for r in self.rows if r.raw["deployment"]["model"] == model]
        columns = [(f"{route} v{version}", self.trends.get((model, route, version or 0), []))
                   for route, version in routes if version]
        against = " against ".join(name for name, _points in columns[:2])
        return (f"{model}: {against or 'no route'}, last {span_text(TREND_MINUTES)} "
                f"({self.trend_step} min a point)", columns)

    def _deployment(self) -> dict[str, Any] | None:
        row = self.selected()
        return row.raw["deployment"] if row is not None else None

    def on_data_table_row_selected(self, event: Any) -> None:
        if (dep := self._deployment()) is not None:
            self.wk.run_command(f"predictions model={dep['model']}")

    def action_copy_id(self) -> None:
        if (dep := self._deployment()) is not None:
            self.app.copy_to_clipboard(dep["model"])
            self.notify(f"copied {dep['model']}", timeout=2)

    def action_promote_challenger(self) -> None:
        if (dep := self._deployment()) is not None:
            start_challenger_promote(self, dep)

    def action_rollback_deployment(self) -> None:
        if (dep := self._deployment()) is not None:
            start_deployment_rollback(self, dep["model"])

    def action_set_share(self) -> None:
        if (dep := self._deployment()) is not None:
            start_set_share(self, dep)
