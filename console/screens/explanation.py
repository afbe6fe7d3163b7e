"""`e` on a prediction: its replay through the version that answered (hash-checked) and
what each input feature contributed, largest first (serving/explain/replay.py)."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from console.screens.cells import cell

BAR = 20  # characters of the largest contribution's bar


def render_explanation(e: dict[str, Any]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    replay = (f"same {e['compared']} as logged ({e['replayed_as']})" if e["reproduced"]
              else f"DIFFERENT {e['compared']} from the logged output")
    rows = [("prediction", e["prediction_id"]), ("model", f"{e['model']} v{e['version']}"),
            ("artifact", f"sha256 {e['artifact_sha256'][:16]}... checked"), ("replay", replay),
            ("method", f"{e['method']}, explains the {e['space']}"),
            ("output", f"{e['output']:.6g}" + (f"  (probability {e['probability']:.4f})"
                                               if e["probability"] is not None else "")),
            ("baseline", f"{e['baseline']:.6g}: the mean over {e['reference']['rows']} rows of "
                         f"{e['reference']['what']}"),
            ("sum", f"{e['sum']:.6g} = output - baseline")]
    if e.get("stored"):
        rows.append(("kept", "stored with the prediction"))
    for key, value in rows:
        grid.add_row(key, Text(value, style="bold red" if key == "replay" and not e["reproduced"] else ""))
    grid.add_row("", "")
    table = Table(box=None, padding=(0, 1), show_edge=False)
    table.add_column("feature", style="bold", no_wrap=True)
    table.add_column("input", overflow="fold")
    table.add_column("contribution", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    largest = max((abs(c["contribution"]) for c in e["contributions"]), default=0.0) or 1.0
    for c in e["contributions"]:
        width = round(BAR * abs(c["contribution"]) / largest)
        bar = Text("+" * width, style="green") if c["contribution"] >= 0 else Text("-" * width, style="red")
        table.add_row(c["feature"], cell(c["input"]), f"{c['contribution']:+.4g}", bar)
    grid.add_row(Text("features", style="bold"), table)
    return grid


class ExplanationScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, explanation: dict[str, Any]) -> None:
        super().__init__()
        self.explanation = explanation

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(render_explanation(self.explanation), id="explanation")
        yield Footer()
