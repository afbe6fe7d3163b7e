"""Training runs of every model (or one), with results; Enter opens the run's log."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from console.columns import Column
from console.screens.base import TableScreen, WkScreen
from console.screens.time_format import local
from console.widgets.live_table import TableRow


class RunsScreen(TableScreen):
    VIEW = "runs"
    #: At 80 columns: the run, its model, status, version and as much of the reason as
    #: fits (the rest of it in the detail line).
    COLUMNS = (Column("run"), Column("model", 1, min_width=14), Column("kind", 3), Column("status"),
               Column("version", 1), Column("reason", min_width=20), Column("started", 2),
               Column("by", 3))

    def __init__(self, model: str | None = None) -> None:
        super().__init__()
        self.model = model

    def title_text(self) -> str:
        return f"runs of {self.model}" if self.model else "training runs"

    def fetch(self) -> Any:
        from registry.runs import list_runs, recent_runs

        if self.model:
            return list_runs(self.wk.store, self.model, limit=500)
        return recent_runs(self.wk.store, limit=500)

    def rows_from(self, data: list[dict[str, Any]]) -> list[TableRow]:
        return [TableRow(str(r["id"]), (
            f"#{r['id']}", r["model"], r["kind"], r["status"],
            f"v{r['version']}" if r["version"] else "-", r["reason"], local(r["started_at"]),
            r["created_by"],
        ), r) for r in data]

    def on_data_table_row_selected(self, event: Any) -> None:
        row = self.selected()
        if row is not None:
            self.wk.run_command(f"run {row.key}")


class RunLog(VerticalScroll):
    pass


class RunScreen(WkScreen):
    VIEW = "run"

    def __init__(self, run_id: int) -> None:
        super().__init__()
        self.run_id = run_id

    def title_text(self) -> str:
        return f"run #{self.run_id}"

    def compose_body(self) -> ComposeResult:
        with RunLog():
            yield Static("loading ...", id="run")

    def fetch(self) -> Any:
        from registry.runs import show_run

        return show_run(self.wk.store, self.run_id)

    def show(self, run: dict[str, Any]) -> None:
        text = Text()
        for key in ("model", "kind", "status", "reason", "version", "params", "metrics",
                    "champion_metrics", "started_at", "ended_at", "created_by"):
            value = run.get(key)
            if key in ("started_at", "ended_at"):
                value = local(value)
            if isinstance(value, dict):
                metric = key in ("metrics", "champion_metrics")
                value = "  ".join(f"{k}={v:.4f}" if metric and isinstance(v, float) else f"{k}={v}"
                                  for k, v in value.items()) or "-"
            text.append(f"{key:17}", style="bold")
            text.append(f"{value if value not in (None, '') else '-'}\n")
        text.append("\nlog\n", style="bold")
        text.append(run.get("log") or "(empty)")
        self.query_one("#run", Static).update(text)
