"""Traffic over time as text: a one-line sparkline per series, a small panel of them
(requests per minute, p95 latency, error rate; one column per model or per route, the
columns sharing each line's scale so champion and challenger compare at a glance), and a
plotext chart for a terminal (`wk deploy show`).

Pure: series of store.rollups.TrafficPoint in, strings out. No Textual, so the CLI
imports it as well as the console; plotext (about 0.3 s) only inside `plot_routes`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from store.rollups import TrafficPoint, merge_points

#: Eight heights; a point with no value (p95 of a minute without answers) is a space.
BLOCKS = "▁▂▃▄▅▆▇█"
NO_VALUE = " "


def sparkline(values: Sequence[float | None], top: float | None = None) -> str:
    """One character per value, scaled from zero to `top` (the largest value when None),
    so a flat line reads as its level and not as noise; zero is the lowest block, a
    missing value a space."""
    known = [v for v in values if v is not None and math.isfinite(v)]
    high = top if top is not None else max(known, default=0.0)
    out = []
    for v in values:
        if v is None or not math.isfinite(v):
            out.append(NO_VALUE)
        elif high <= 0 or v <= 0:
            out.append(BLOCKS[0])
        else:
            out.append(BLOCKS[min(len(BLOCKS) - 1, max(0, math.ceil(v / high * len(BLOCKS)) - 1))])
    return "".join(out)


def span_text(minutes: int) -> str:
    """180 -> "3 h", 90 -> "90 min"."""
    return f"{minutes // 60} h" if minutes >= 60 and minutes % 60 == 0 else f"{minutes} min"


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if round(value, 1) < 10 else f"{value:.0f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def requests_text(points: Sequence[TrafficPoint]) -> str:
    """The latest point's requests per minute, with its rows where they differ."""
    if not points:
        return "-"
    last = points[-1]
    text = _number(last.per_minute)
    return text if last.rows == last.requests else f"{text} ({_number(last.rows_per_minute)} rows)"


@dataclass(frozen=True)
class Metric:
    label: str
    value: Callable[[TrafficPoint], float | None]
    latest: Callable[[Sequence[TrafficPoint]], str]


METRICS = (
    Metric("req/min", lambda p: p.per_minute, requests_text),
    Metric("p95 ms", lambda p: p.p95_ms, lambda ps: _ms(ps[-1].p95_ms) if ps else "-"),
    Metric("err %", lambda p: p.error_rate, lambda ps: _rate(ps[-1].error_rate) if ps else "-"),
)
LABEL_WIDTH = 8


def trend_panel(columns: Sequence[tuple[str, Sequence[TrafficPoint]]], width: int) -> list[str]:
    """Lines of a panel at most `width` cells wide: a heading line with each column's
    name, then one line per metric with, in each column, a sparkline of the points and
    the latest value. Points are merged to fit a narrow column and drawn two or more
    cells each in a wide one; a metric's sparklines share one scale across the columns."""
    if not columns:
        return []
    cell = max(8, (width - LABEL_WIDTH) // len(columns))
    lines = [" " * LABEL_WIDTH + "".join(_fit(name, cell - 1) + " " for name, _points in columns).rstrip()]
    for metric in METRICS:
        latest = [metric.latest(points) for _name, points in columns]
        room = max(1, cell - 1 - max(len(t) for t in latest) - 1)
        merged = [merge_points(points, room) for _name, points in columns]
        values = [[metric.value(p) for p in pts] for pts in merged]
        top = max((v for vs in values for v in vs if v is not None), default=0.0)
        parts = []
        for vs, text in zip(values, latest, strict=True):
            wide = max(1, room // len(vs)) if vs else 1
            line = "".join(ch * wide for ch in sparkline(vs, top))
            parts.append(_fit(f"{line} {text}", cell - 1) + " ")
        lines.append(metric.label.ljust(LABEL_WIDTH) + "".join(parts).rstrip())
    return lines


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[:width - 1] + "…"


def trend_cell(points: Sequence[TrafficPoint], width: int = 12) -> str:
    """A table cell: the requests per minute of the points as a sparkline `width` wide."""
    merged = merge_points(points, width)
    return sparkline([p.per_minute for p in merged]) if merged else "-"


#: plotext's first two signal colours (bright blue, bright green), for the legend line
LEGEND_COLOURS = ("\033[94m", "\033[92m", "\033[91m", "\033[96m")
RESET = "\033[0m"


def plot_routes(series: Sequence[tuple[str, Sequence[TrafficPoint]]], width: int, height: int = 12,
                *, colour: bool = True) -> str:
    """A plotext chart `width` x `height`: requests per minute (left) and p95 latency
    (right) of each series over the minutes before now, with a legend line under it
    naming each series in its colour (plotext's own legend covers the lines in a chart
    this small). Frame and labels take the terminal's colours (plotext's "simple" theme:
    its default one paints a white canvas)."""
    import plotext as plt

    span = max((sum(p.minutes for p in points) for _name, points in series), default=0)
    ticks = _minute_ticks(span)
    fig = plt.figure
    fig.clear()
    plt.terminal.limit(False, False)
    fig.plot_size(width, height)
    fig.subplots(1, 2)
    for col, (title, value) in enumerate((("requests/min", _per_minute), ("p95 ms", _p95)), start=1):
        panel = fig.subplot(1, col)
        panel.theme("simple")
        for _name, points in series:
            xs, ys = [], []
            end = points[-1].start.timestamp() + points[-1].minutes * 60 if points else 0.0
            for p in points:
                y = value(p)
                if y is not None:  # p95 of a point without answers: no dot, not a zero
                    xs.append((p.start.timestamp() + p.minutes * 60 - end) / 60)
                    ys.append(y)
            panel.draw(panel.signal(xs, ys))
        panel.title(title)
        panel.legend(False)
        panel.ruler("x").lim(-span, 0)
        panel.ruler("x").ticks([-t for t in ticks], [str(-t) if t else "now" for t in ticks])
    chart = fig.build().string(colorless=not colour).rstrip("\n")
    fig.clear()
    return chart + "\n" + "\n".join(_legend([name for name, _points in series], width, colour))


def _legend(names: Sequence[str], width: int, colour: bool) -> list[str]:
    """The series' names, each after a mark in its line's colour, as few lines of at most
    `width` cells as they fit in."""
    lines: list[str] = []
    shown, length = "", 0
    for i, name in enumerate(names):
        mark = _fit(f"▚ {name}", width).rstrip()
        text = f"{LEGEND_COLOURS[i % len(LEGEND_COLOURS)]}{mark}{RESET}" if colour else mark
        if length and length + 2 + len(mark) > width:
            lines.append(shown)
            shown, length = "", 0
        shown += ("  " if length else "") + text
        length += (2 if length else 0) + len(mark)
    if shown:
        lines.append(shown)
    return lines


def _per_minute(p: TrafficPoint) -> float | None:
    return p.per_minute


def _p95(p: TrafficPoint) -> float | None:
    return p.p95_ms


def _minute_ticks(span: int) -> list[int]:
    """Round minutes back from now for the x axis: about four ticks."""
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440):
        if span / step <= 4:
            return list(range(span - span % step, -1, -step))
    return [span, 0]

