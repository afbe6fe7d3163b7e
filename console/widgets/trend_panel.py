"""A small panel of sparklines under a table: the selected row's traffic over the last
hours (requests per minute, p95 latency, error rate), one column per series; drawn by
console/charts.py at the panel's width, again when the width changes."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.widgets import Static

from console.charts import trend_panel
from store.rollups import TrafficPoint

Columns = Sequence[tuple[str, Sequence[TrafficPoint]]]


class TrendPanel(Static):
    DEFAULT_CSS = """
    TrendPanel { height: auto; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._title = ""
        self._columns: Columns = ()
        self._empty = ""

    def show(self, title: str, columns: Columns, empty: str = "no requests in these hours") -> None:
        """`columns`: (name, points) each; none: the `empty` line under the title."""
        self._title, self._columns, self._empty = title, list(columns), empty
        self._draw()

    def on_resize(self, event: events.Resize) -> None:
        self._draw()

    def _draw(self) -> None:
        width = max((self.size.width or self.app.size.width) - 2, 20)  # less the padding
        text = Text(self._title[:width], style="bold")
        if not self._columns:
            text.append("\n" + self._empty[:width], style="dim")
        else:
            lines = trend_panel(self._columns, width)
            heading, rest = lines[0], lines[1:]
            if heading.strip():
                text.append("\n" + heading, style="dim")
            for line in rest:
                label, chart = line[:8], line[8:]
                text.append("\n")
                text.append(label, style="bold")
                text.append(chart)
        self.update(text)
