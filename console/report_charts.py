"""Monitoring reports as text: a feature's reference against current histogram (plotext,
as `wk deploy show` draws its chart), and one-line sparkline series (drift share, the
domain classifier's AUC, a metric per version with its label coverage).

Pure: plain values in, strings out (the histogram with ANSI colours when asked, which
the console turns into styled text). No Textual; plotext only inside `histogram`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from console.charts import sparkline

#: Reference bars are shaded, current bars solid, so the two read apart without colour.
REFERENCE_MARK, CURRENT_MARK = "▒", "█"
LEGEND = f"{REFERENCE_MARK} reference  {CURRENT_MARK} current"
#: The most cells one point of a series takes (a series of a few reports is drawn wider).
MAX_CELLS = 3
#: The width of a series' label.
LABEL_WIDTH = 14


def short_number(value: float) -> str:
    """A bin edge in a few characters: 184000 -> 184k, 0.4 -> 0.4, 1.25e6 -> 1.2M."""
    size = abs(value)
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if size >= scale:
            text = f"{value / scale:.1f}".rstrip("0").rstrip(".")
            return text + unit
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def histogram_bins(histogram: dict[str, Any] | None) -> tuple[list[str], list[float], list[float]]:
    """(bin labels, reference shares, current shares) of a stored feature histogram: a
    numeric one labelled by each bin's lower edge, a categorical one by its categories.
    Empty when there is none or its lengths disagree."""
    if not histogram:
        return [], [], []
    reference = [float(v or 0.0) for v in histogram.get("reference") or []]
    current = [float(v or 0.0) for v in histogram.get("current") or []]
    if "categories" in histogram:
        labels = [str(c) for c in histogram["categories"]]
    else:
        labels = [short_number(float(e)) for e in (histogram.get("edges") or [])[:-1]]
    if not labels or len(labels) != len(reference) or len(labels) != len(current):
        return [], [], []
    return labels, reference, current


def histogram(labels: Sequence[str], reference: Sequence[float], current: Sequence[float], width: int,
              height: int, *, colour: bool = True, categories: bool = False) -> str:
    """Reference against current shares per bin, side by side, `width` x `height` cells,
    the y axis in percent of the rows. Labels that do not fit side by side: bins' edges
    every second, third... (the rest read between them), categories each one cut short
    (none may go unnamed)."""
    import plotext as plt

    top = max([*reference, *current, 0.01])
    step = 0.05 if top <= 0.3 else 0.1 if top <= 0.6 else 0.25
    ticks = [i * step for i in range(int(top / step) + 1)]
    fig = plt.figure
    fig.clear()
    plt.terminal.limit(False, False)
    fig.plot_size(width, height)
    fig.theme("simple")
    # bars at 1..n, labelled by the bins' names: plotext reads labels such as "0.2" as
    # numbers and would place the bars by value
    positions = list(range(1, len(labels) + 1))
    for offset, shares, mark in ((-0.2, reference, REFERENCE_MARK), (0.2, current, CURRENT_MARK)):
        fig.draw(fig.bar([p + offset for p in positions], list(shares), marker=mark, width=0.4))
    fig.legend(False)
    fig.ruler("x").lim(0.5, len(labels) + 0.5)
    # every bin's label where they fit side by side, else every second, third...
    room = max(width - 8, 10)
    step = max(1, math.ceil(sum(len(label) + 2 for label in labels) / room))
    if categories and step > 1:
        slot = max(3, room // len(labels) - 2)
        fig.ruler("x").ticks(positions, [label if len(label) <= slot else label[:slot - 1] + "…"
                                         for label in labels])
    else:
        fig.ruler("x").ticks(positions[::step], list(labels)[::step])
    fig.ruler("y").ticks(ticks, [f"{t:.0%}" for t in ticks])
    chart: str = fig.build().string(colorless=not colour).rstrip("\n")
    fig.clear()
    return chart


def series_line(label: str, values: Sequence[float | None], latest: str, width: int, *,
                label_width: int = LABEL_WIDTH, top: float | None = None, bottom: float = 0.0) -> str:
    """`label`, a sparkline of `values` (oldest first, from `bottom` to `top`, a missing
    value a space) and the latest value, in at most `width` cells; the oldest values are
    left out when the line is too narrow for them all."""
    room = max(1, width - label_width - len(latest) - 1)
    shown = [None if v is None else v - bottom for v in list(values)[-room:]]
    high = None if top is None else top - bottom
    cells = max(1, min(MAX_CELLS, room // max(len(shown), 1)))  # a few points: wider, to be seen
    line = "".join(ch * cells for ch in sparkline(shown, high))
    return f"{label[:label_width - 1].ljust(label_width)}{line} {latest}"[:width]


def scale(values: Sequence[float | None], from_zero: bool) -> tuple[float, float]:
    """(bottom, top) for series drawn together: from zero (a share), or from a little below
    the lowest value (a metric near 0.8, whose fall from 0.81 to 0.71 must show)."""
    known = [v for v in values if v is not None]
    if not known:
        return 0.0, 0.0
    high, low = max(known), min(known)
    if from_zero:
        return 0.0, high
    margin = (high - low) * 0.25 or abs(high) * 0.05 or 0.05
    return low - margin, high


def latest_text(values: Sequence[float | None], fmt: str) -> str:
    """The newest known value in `fmt`, or "-"."""
    known = [v for v in values if v is not None]
    return format(known[-1], fmt) if known else "-"
