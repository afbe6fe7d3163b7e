"""The prediction log, newest first and bounded (never more than PREDICTIONS_LIMIT rows
are read), filtered by model, version, route, source, time, request or id prefix; enter
opens one prediction with its inputs, outputs, label and latency; `e` there explains it
(console/screens/explanation.py)."""

from __future__ import annotations

import json
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from console.columns import Column
from console.screens.base import TableScreen, WkScreen
from console.screens.cells import cell, millis, output_text
from console.screens.time_format import local_seconds
from console.widgets.header import StatusHeader
from console.widgets.live_table import TableRow
from store.vocabulary import Route

PREDICTIONS_LIMIT = 500
#: `:predictions` filters -> list_predictions arguments (since/until are parsed times).
FILTERS = {"model": "model", "version": "version", "route": "route", "source": "source",
           "since": "since", "until": "until", "id": "id_prefix", "request": "request_id"}
ROUTES = tuple(Route)


def label_text(label: Any) -> str:
    return "-" if label is None else str(label)


class PredictionsScreen(TableScreen):
    VIEW = "predictions"
    #: UUIDv7 ids share their time prefix: the id column keeps the tail, which tells
    #: two predictions apart (the full id is in the detail line, and `c` copies it).
    COLUMNS: tuple[Column, ...] = (
        Column("time"), Column("model", 1, min_width=14), Column("ver", 1), Column("route", 1),
        Column("ms", 2), Column("output", 1, min_width=8), Column("label", 2), Column("source", 3),
        Column("prediction id", min_width=13, keep="tail"))

    def __init__(self, filters: dict[str, str] | None = None) -> None:
        super().__init__()
        self.filters = filters or {}
        if "model" in self.filters:  # one model: its name on every row would push columns off
            self.COLUMNS = tuple(c for c in self.COLUMNS if c.label != "model")

    def title_text(self) -> str:
        extra = " ".join(v if k == "model" else f"{k}={v}" for k, v in self.filters.items())
        return f"predictions {extra}".strip()

    def fetch(self) -> Any:
        from console.cli.common import parse_time
        from serving.log import reading as predictions

        args: dict[str, Any] = {FILTERS[k]: v for k, v in self.filters.items()}
        for key in ("since", "until"):
            if key in args:
                args[key] = parse_time(args[key], key, self.wk.clock())
        # outputs are shown, so the rows come with their data; the limit bounds the read
        return predictions.list_predictions(self.wk.store, limit=PREDICTIONS_LIMIT, with_data=True, **args)

    def rows_from(self, data: list[dict[str, Any]]) -> list[TableRow]:
        title = self.title_text()
        if len(data) >= PREDICTIONS_LIMIT:
            title += f" (newest {PREDICTIONS_LIMIT})"
        self.query_one(StatusHeader).view_title = title
        one_model = "model" in self.filters
        rows = []
        for p in data:
            p.pop("inputs", None)  # kept for the detail view only
            rows.append(TableRow(p["prediction_id"], (
                local_seconds(p["at"]), *(() if one_model else (p["model"],)), f"v{p['version']}",
                p["route"], millis(p["latency_ms"]), output_text(p["outputs"]), label_text(p["label"]),
                p["source"], p["prediction_id"],
            ), p))
        return rows

    def on_data_table_row_selected(self, event: Any) -> None:
        row = self.selected()
        if row is not None:
            self.wk.run_command(f"prediction {row.key}")


class PredictionDetail(VerticalScroll):
    pass


class PredictionScreen(WkScreen):
    """One prediction in full; refreshed, so a label that arrives later shows up."""

    VIEW = "prediction"

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref
        self.data: dict[str, Any] | None = None

    def title_text(self) -> str:
        short = f"{self.ref[:8]}...{self.ref[-4:]}" if len(self.ref) > 20 else self.ref
        return f"prediction {short}"

    def compose_body(self) -> ComposeResult:
        with PredictionDetail():
            yield Static("loading ...", id="detail")

    def fetch(self) -> Any:
        from serving.log import reading as predictions

        return predictions.show_prediction(self.wk.store, self.ref)

    def show(self, data: dict[str, Any]) -> None:
        self.data = data
        self.query_one("#detail", Static).update(render_prediction(data))

    def action_copy_id(self) -> None:
        if self.data is not None:
            self.app.copy_to_clipboard(self.data["prediction_id"])
            self.notify(f"copied {self.data['prediction_id']}", timeout=2)

    def action_show_raw(self) -> None:
        if self.data is not None:
            from console.screens.raw import RawScreen

            self.app.push_screen(RawScreen(json.dumps(self.data, indent=2, default=str)))

    def action_explain(self) -> None:
        """Replay the prediction and show its contributions (in a worker: it loads a model)."""
        self.notify("replaying the prediction through its version ...", timeout=2)
        self._explain(self.ref)

    @work(thread=True, exclusive=True, exit_on_error=False, group="explain")
    def _explain(self, ref: str) -> None:
        from console.errors import error_text
        from console.screens.explanation import ExplanationScreen
        from serving.explain.replay import explain_prediction

        try:
            result = explain_prediction(self.wk.store, ref)
        except Exception as exc:  # shown to the user: a refused replay changes nothing
            self.app.call_from_thread(self.notify, error_text(exc), title="explain failed",
                                      severity="error", timeout=10)
            return
        self.app.call_from_thread(self.app.push_screen, ExplanationScreen(result))


def _value(value: Any, exact: bool) -> str:
    """Inputs exactly as received (JSON); outputs with floats to 4 places."""
    if exact:
        return json.dumps(value) if not isinstance(value, str) else value
    if isinstance(value, dict):
        return "  ".join(f"{k}={cell(v)}" for k, v in value.items())
    return cell(value)


def _fields(values: Any, missing: str, *, exact: bool) -> Table | Text:
    """Inputs or outputs as a name/value table (a list of values by position)."""
    if values is None:
        return Text(missing, style="italic")
    if not isinstance(values, dict | list):
        return Text(_value(values, exact))
    items = values.items() if isinstance(values, dict) else enumerate(values)
    table = Table(box=None, padding=(0, 1), show_edge=False, show_header=False)
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in items:
        table.add_row(str(key), Text(_value(value, exact)))
    return table


def render_prediction(p: dict[str, Any]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    label = ("(none yet)" if p["label"] is None
             else f"{p['label']}  (at {local_seconds(p['label_at'], date=True)})")
    rows: list[tuple[str, str]] = [
        ("prediction id", p["prediction_id"]),
        ("time", local_seconds(p["at"], date=True)),
        ("model", f"{p['model']} v{p['version']}"),
        ("route", p["route"]),
        ("source", p["source"] + (f" (batch run {p['batch_run_id']})" if p["batch_run_id"] else "")),
        ("request id", p["request_id"] or "-"),
        ("row", str(p["row_index"])),
        ("latency", f"{p['latency_ms']:.3f} ms"),
        ("label", label),
    ]
    for key, value in rows:
        grid.add_row(key, Text(value))
    grid.add_row("", "")
    grid.add_row(Text("outputs", style="bold"),
                 _fields(p["outputs"], "(not kept: the deployment logs metadata only)", exact=False))
    grid.add_row("", "")
    grid.add_row(Text("inputs", style="bold"),
                 _fields(p["inputs"], "(not kept: metadata-only logging or input sampling)", exact=True))
    return grid
