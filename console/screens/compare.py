"""Two versions side by side: metrics, metadata, parameters and signature changes.

The order is the one asked for (`:compare M A B`, or `d` on A then B) and is named on
screen: every change reads from A to B, so each delta is B - A (a positive delta means B
is the higher) and a signature change says what B changed from A, as `wk models
compare` prints them."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from console.screens.base import WkScreen
from console.screens.cells import cell
from console.widgets.header import StatusHeader


class CompareScreen(WkScreen):
    VIEW = "compare"

    def __init__(self, model: str, a: str, b: str) -> None:
        super().__init__()
        self.model, self.a, self.b = model, a, b

    def title_text(self) -> str:
        # before the read: as typed (an alias, maybe); then the versions they resolved to
        return f"compare {self.model} {self.a} -> {self.b}"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("loading ...", id="compare")

    def fetch(self) -> Any:
        from registry.versions import compare

        return compare(self.wk.store, self.model, self.a, self.b)

    def show(self, c: dict[str, Any]) -> None:
        from registry.versions import delta_order, signed_delta

        a, b = f"v{c['a']}", f"v{c['b']}"
        self.query_one(StatusHeader).view_title = f"compare {c['model']} {a} -> {b}"
        outer = Table.grid(padding=(0, 0))
        outer.add_column()
        metrics = Table(title=f"metrics (delta = {delta_order(a, b)}: above 0, {b} is higher)",
                        title_justify="left", box=None, padding=(0, 2))
        for header in ("metric", a, b, f"delta {delta_order(a, b)}"):
            metrics.add_column(header)
        for name, m in c["metrics"].items():
            metrics.add_row(name, cell(m["a"]), cell(m["b"]), signed_delta(m["delta"]))
        outer.add_row(metrics)
        for title, section in (("metadata that differs", c["metadata"]),
                               ("parameters that differ", c["params"])):
            table = Table(title=title, title_justify="left", box=None, padding=(0, 2))
            for header in ("field", a, b):
                table.add_column(header, overflow="fold")
            for key, pair in section.items():
                table.add_row(key, cell(pair["a"]), cell(pair["b"]))
            if not section:
                table.add_row("(identical)", "", "")
            outer.add_row(table)
        sig = Table(title=f"signature changes {a} -> {b}", title_justify="left", box=None, padding=(0, 2))
        for header in ("column", "change", "detail"):
            sig.add_column(header, overflow="fold")
        for s in c["signature"]:
            detail = ", ".join(f"{k}={v}" for k, v in s.items() if k not in ("column", "change"))
            sig.add_row(s["column"], s["change"], detail)
        if not c["signature"]:
            sig.add_row("(identical)", "", "")
        outer.add_row(sig)
        self.query_one("#compare", Static).update(outer)
