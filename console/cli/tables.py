"""How a CLI table fits a width: which columns give up room, and how a cut cell reads.

Each table command declares its columns once (`Column`): how far a value may be cut
(`min_width`; None: never cut), which end of a cut value stays (`keep`: most values keep
their head, UUIDv7 prediction ids their tail, since they share their time prefix), the
order in which columns give up room (`shrink`: the highest first, so free text such as a
reason goes before names and ids), the few widths a value reads well cut to (`stops`: a
time to the second or the minute), and which columns may be left out when even the cut
widths do not fit (`drop`: the highest first; 0 never).

`layout` is pure: natural widths when the table fits (or no width is given), else the
columns cut in `shrink` order, the widest of equals first, each to no less than its
floor; when that is not enough, columns are left out in `drop` order and the rest laid
out again from their natural widths. `render` gives the lines, every cut cell ending (or,
keeping the tail, starting) with an ellipsis; a table that still does not fit (a very
narrow terminal) has each line cut at the width, so no line is ever wider than asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ELLIPSIS = "…"
#: spaces between two columns
GAP = 2

Keep = Literal["head", "tail"]


@dataclass(frozen=True)
class Column:
    header: str
    #: the width a value may be cut to (never below the header's); None: never cut
    min_width: int | None = None
    #: the end of a cut value that stays
    keep: Keep = "head"
    #: the order columns give up room in: the highest first (free text), 0 last
    shrink: int = 0
    #: the order columns are left out in when the cut widths do not fit: the highest
    #: first; 0: always shown
    drop: int = 0
    #: the only widths a cut value may have, when it reads well cut at a few places
    #: only (a time: to the second or the minute); empty: any width down to min_width
    stops: tuple[int, ...] = ()

    def floor(self, natural: int) -> int:
        """The narrowest this column may be, given its widest value."""
        if self.min_width is None:
            return natural
        return min(natural, max(self.min_width, len(self.header)))


def as_column(spec: str | Column) -> Column:
    """A plain header is a column that is cut to 8 characters, with the names and ids."""
    return spec if isinstance(spec, Column) else Column(spec, min_width=8)


@dataclass(frozen=True)
class Layout:
    shown: tuple[int, ...]  # indices of the columns shown, in table order
    widths: tuple[int, ...]  # the width of each shown column

    def total(self) -> int:
        return sum(self.widths) + GAP * max(len(self.widths) - 1, 0)


def natural_widths(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> list[int]:
    widths = [len(c.header) for c in columns]
    for cells in rows:
        for i, value in enumerate(cells):
            widths[i] = max(widths[i], len(value))
    return widths


def _shrink(columns: Sequence[Column], natural: Sequence[int], shown: Sequence[int],
            width: int) -> dict[int, int]:
    """Widths for the `shown` columns, cut in `shrink` order toward `width` (possibly not
    reaching it when every shown column is at its floor)."""
    widths = {i: natural[i] for i in shown}
    excess = sum(widths.values()) + GAP * max(len(shown) - 1, 0) - width
    for rank in sorted({columns[i].shrink for i in shown}, reverse=True):
        group = [i for i in shown if columns[i].shrink == rank]
        floors = {i: columns[i].floor(natural[i]) for i in group}
        while excess > 0:
            cuttable = [i for i in group if widths[i] > floors[i]]
            if not cuttable:
                break
            # the widest gives first (the rightmost of equals), down to the next widest,
            # so equals end up sharing the room
            widest = max(cuttable, key=lambda i: (widths[i], i))
            runner_up = max((widths[i] for i in cuttable if i != widest), default=0)
            target = max(floors[widest], runner_up, widths[widest] - excess)
            if target == widths[widest]:
                target -= 1
            stops = [w for w in columns[widest].stops if w <= target]
            if columns[widest].stops:
                target = max(stops, default=floors[widest])
            excess -= widths[widest] - target
            widths[widest] = target
        if excess <= 0:
            break
    return widths


def layout(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int | None) -> Layout:
    """The columns shown in `width` characters and the width of each (module docstring)."""
    natural = natural_widths(columns, rows)
    shown = list(range(len(columns)))
    if width is None:
        return Layout(tuple(shown), tuple(natural))
    while True:
        widths = _shrink(columns, natural, shown, width)
        fitted = Layout(tuple(shown), tuple(widths[i] for i in shown))
        droppable = [i for i in shown if columns[i].drop > 0]
        if fitted.total() <= width or not droppable:
            return fitted
        shown.remove(max(droppable, key=lambda i: (columns[i].drop, i)))


def cut(value: str, width: int, keep: Keep = "head", ellipsis: str = ELLIPSIS) -> str:
    """`value` in `width` characters, the cut marked by `ellipsis` at the end (or at the
    start, keeping the tail)."""
    if len(value) <= width:
        return value
    if width <= len(ellipsis):
        return ellipsis[:width]
    kept = width - len(ellipsis)
    return ellipsis + value[len(value) - kept:] if keep == "tail" else value[:kept] + ellipsis


def one_line(value: str) -> str:
    """A cell on one line: line breaks and tabs read as spaces."""
    return value.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")


def render(specs: Sequence[str | Column], rows: Sequence[Sequence[str]], width: int | None,
           ellipsis: str = ELLIPSIS) -> list[str]:
    """The table's lines: an upper-case header line, then one line a row, trailing spaces
    removed; cut to `width` (None: every value in full)."""
    columns = [as_column(s) for s in specs]
    cells = [[one_line(c) for c in row] for row in rows]
    plan = layout(columns, cells, width)
    lines = [_line(columns, plan, [c.header.upper() for c in columns], ellipsis, header=True)]
    lines.extend(_line(columns, plan, row, ellipsis, header=False) for row in cells)
    if width is not None and plan.total() > width:
        lines = [cut(line, width, "head", ellipsis) for line in lines]
    return lines


def _line(columns: Sequence[Column], plan: Layout, row: Sequence[str], ellipsis: str,
          header: bool) -> str:
    parts = []
    for i, w in zip(plan.shown, plan.widths, strict=True):
        keep: Keep = "head" if header else columns[i].keep
        parts.append(cut(row[i], w, keep, ellipsis).ljust(w))
    return (" " * GAP).join(parts).rstrip()


# The kinds of column the commands declare their tables with. Times give up room first
# (their fractions of a second, then their seconds), then payloads, then free text a
# person wrote or reads to decide (a reason), then names and ids (down to a length that
# still tells them apart); numbers, statuses and short codes are never cut.

def payload(header: str, min_width: int = 16, *, drop: int = 0) -> Column:
    """Data shown for a glance (a change, metrics, an output): cut before the text."""
    return Column(header, min_width=min_width, shrink=3, drop=drop)


def text(header: str, min_width: int = 16, *, keep: Keep = "head", drop: int = 0) -> Column:
    """Free text (a reason, a gate's reason, a path): cut before names and ids."""
    return Column(header, min_width=min_width, keep=keep, shrink=2, drop=drop)


def time(header: str, *, drop: int = 0) -> Column:
    """An ISO time (`2026-12-01T09:24:39.884744Z`): the first to give room, cut to the
    second (`2026-12-01T09:24:39…`) or the minute (`2026-12-01T09:24…`), nowhere else."""
    return Column(header, min_width=17, shrink=4, drop=drop, stops=(20, 17))


def name(header: str, min_width: int = 12, *, keep: Keep = "head", drop: int = 0) -> Column:
    """A name or a path-like id: cut last, and no shorter than `min_width`."""
    return Column(header, min_width=min_width, keep=keep, drop=drop)


def prediction_id(header: str = "prediction id", *, drop: int = 0) -> Column:
    """A UUIDv7: ids made close together share their time prefix, so a cut one keeps its
    random tail (`…555ce0e1cf37`), the part that tells them apart."""
    return Column(header, min_width=13, keep="tail", drop=drop)


def fixed(header: str, *, drop: int = 0) -> Column:
    """Never cut: numbers, statuses, short codes, hashes already shortened."""
    return Column(header, drop=drop)
