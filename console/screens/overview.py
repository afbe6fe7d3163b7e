"""Overview: per model, what is in production and how old it is, its traffic in the last
5 minutes (requests per minute, p95 latency, error rate, from the rollup), staging, the
last training run and its result, and gate failures. Later issues add drift and alerts."""

from __future__ import annotations

from typing import Any

from console.columns import Column
from console.screens.base import ModelRowsScreen
from console.screens.cells import error_rate, millis, per_minute
from console.screens.time_format import age
from console.widgets.live_table import TableRow

#: The traffic window, in minutes (the same as the deployments view).
TRAFFIC_MINUTES = 5


class OverviewScreen(ModelRowsScreen):
    VIEW = "overview"
    #: What matters at 3am first: the model, what serves it and how that goes; at 80
    #: columns the rest is in the detail line.
    COLUMNS = (Column("model", min_width=14), Column("prod"), Column("age", 2), Column("req/min", 1),
               Column("p95 ms", 1), Column("err %", 1), Column("staging", 1),
               Column("last run", 1), Column("ran", 2), Column("gate fails", 2),
               Column("versions", 3))

    def fetch(self) -> Any:
        from registry.models import overview
        from serving.traffic import dashboard

        now = self.wk.clock()
        return {"models": overview(self.wk.store, now=now),
                "traffic": dashboard.traffic_by_model(self.wk.store, minutes=TRAFFIC_MINUTES, now=now)}

    def rows_from(self, data: dict[str, Any]) -> list[TableRow]:
        now = self.wk.clock()
        models = data["models"]
        self.wk.set_model_names([m["name"] for m in models])
        rows = []
        for m in models:
            run = m["last_run"]
            t = data["traffic"].get(m["name"])
            requests = t["requests"] + t["errors"] if t else 0
            served = t is not None or m["production"] is not None
            rows.append(TableRow(m["name"], (
                m["name"],
                f"v{m['production']}" if m["production"] else "-",
                age(m["production_since"], now),
                per_minute(t["per_minute"] if t else 0.0) if served else "-",
                millis(t["p95_ms"]) if t else "-",
                error_rate(t["error_rate"], requests) if t else "-",
                f"v{m['staging']}" if m["staging"] else "-",
                f"#{run['id']} {run['status']}" if run else "-",
                age(run["started_at"], now) if run else "-",
                str(m["gate_failures_30d"]),
                str(m["versions"]),
            ), {**m, "traffic": t}))
        return rows
