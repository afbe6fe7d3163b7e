"""Panels of the monitoring screens, each drawn at its own width (again when it changes):
a feature's reference against current histogram, and a few sparkline series under a
title (console/report_charts.py draws both)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.widgets import Static

from console.report_charts import LABEL_WIDTH, LEGEND, histogram, scale, series_line


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]
    latest: str
    #: series drawn on one scale share a `group` (realised and estimated of one metric)
    group: str = ""
    #: False: the scale starts a little below the lowest value instead of at zero
    from_zero: bool = True


class HistogramPanel(Static):
    """The selected feature's histogram: reference shaded, current solid."""

    DEFAULT_CSS = """
    HistogramPanel { height: 8; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._title = ""
        self._bins: tuple[list[str], list[float], list[float]] = ([], [], [])
        self._empty = ""
        self._categories = False

    def show(self, title: str, labels: list[str], reference: list[float], current: list[float],
             empty: str, *, categories: bool = False) -> None:
        """`categories`: the labels name categories (each is shown, cut short if need be)."""
        self._title, self._bins, self._empty = title, (labels, reference, current), empty
        self._categories = categories
        self._draw()

    def on_resize(self, event: events.Resize) -> None:
        self._draw()

    def _draw(self) -> None:
        width = max((self.size.width or self.app.size.width) - 2, 20)
        height = max(self.size.height or 8, 4)
        head = Text(self._title[:width - len(LEGEND) - 2], style="bold")
        labels, reference, current = self._bins
        if not labels:
            head.append("\n" + self._empty[:width], style="dim")
            self.update(head)
            return
        head.append(" " * max(2, width - len(head) - len(LEGEND)) + LEGEND, style="dim")
        chart = histogram(labels, reference, current, width, height - 1, categories=self._categories)
        self.update(Text("\n").join([head, Text.from_ansi(chart)]))


class SeriesPanel(Static):
    """Sparkline series, one line each, under a title (none: no title line); series of one
    group share a scale."""

    DEFAULT_CSS = """
    SeriesPanel { height: auto; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._title = ""
        self._series: list[Series] = []
        self._empty = ""

    def show(self, title: str, series: Sequence[Series], empty: str = "") -> None:
        self._title, self._series, self._empty = title, list(series), empty
        self._draw()

    def on_resize(self, event: events.Resize) -> None:
        self._draw()

    def _draw(self) -> None:
        width = max((self.size.width or self.app.size.width) - 2, 20)
        lines = [Text(self._title[:width], style="bold")] if self._title else []
        if not self._series:
            lines.append(Text(self._empty[:width], style="dim"))
        groups: dict[str, list[float | None]] = {}
        for s in self._series:
            groups.setdefault(s.group or s.label, []).extend(s.values)
        for s in self._series:
            bottom, top = scale(groups[s.group or s.label], s.from_zero)
            line = series_line(s.label, s.values, s.latest, width, top=top, bottom=bottom)
            lines.append(Text.assemble((line[:LABEL_WIDTH], "bold"), line[LABEL_WIDTH:]))
        self.update(Text("\n").join(lines))
