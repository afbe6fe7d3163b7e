"""Overview: per model, what is in production and staging, how old, the last training
run and its result, and gate failures. Later issues add traffic, drift and alerts."""

from __future__ import annotations

from typing import Any

from console.screens.base import ModelRowsScreen
from console.screens.time_format import age
from console.widgets.live_table import TableRow


class OverviewScreen(ModelRowsScreen):
    VIEW = "overview"
    COLUMNS = ("model", "prod", "age", "staging", "versions", "last run", "ran", "gate fails")

    def fetch(self) -> Any:
        from registry import service

        return service.overview(self.wk.store, now=self.wk.clock())

    def rows_from(self, data: list[dict[str, Any]]) -> list[TableRow]:
        now = self.wk.clock()
        self.wk.set_model_names([m["name"] for m in data])
        rows = []
        for m in data:
            run = m["last_run"]
            rows.append(TableRow(m["name"], (
                m["name"],
                f"v{m['production']}" if m["production"] else "-",
                age(m["production_since"], now),
                f"v{m['staging']}" if m["staging"] else "-",
                str(m["versions"]),
                f"#{run['id']} {run['status']}" if run else "-",
                age(run["started_at"], now) if run else "-",
                str(m["gate_failures_30d"]),
            ), m))
        return rows
