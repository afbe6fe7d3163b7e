"""Table columns declared once per view, and how they fit a width (as k9s does).

Each view lists its columns with a priority and the width a value may be cut down to.
`fit` chooses which columns a width holds and how wide each is: a column with no
`min_width` is never cut (it is hidden when there is no room), one with a `min_width` is
cut to no less than that, ending in an ellipsis, and columns go highest priority number
first (the rightmost of equals) until the rest fit. Room left over widens the cut columns
first, then takes back a dropped column that fits. What is cut or hidden on the selected
row is shown in full by the row's detail line (`detail`). Wide mode shows every column at
its full width and the table scrolls sideways instead.

A header is never cut: each column is at least as wide as its label. The column the rows
are sorted by has its direction appended to its label (`sorted_by`, ▲ ascending, ▼
descending, as k9s marks it), so the marker is counted in the width like the label, and
that column is always shown while sorted.

Pure functions over plain strings: no Textual, so a test can call them directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

ELLIPSIS = "…"
#: DataTable's cell padding: one cell on each side of every column.
GAP = 2
#: Appended to the sorted column's header: ascending, descending.
ASCENDING, DESCENDING = "▲", "▼"


@dataclass(frozen=True)
class Column:
    label: str
    #: 0: always shown; when the width runs out, the highest number goes first
    priority: int = 0
    #: None: never cut (hidden instead); else the width a value may be cut down to
    min_width: int | None = None
    #: the end of a cut value that stays: most values keep their head, ids their tail
    #: (UUIDv7 prediction ids share their time prefix and differ at the end)
    keep: Literal["head", "tail"] = "head"
    #: False: left out of the detail line when hidden or cut (a sparkline that a panel
    #: under the table already draws larger)
    in_detail: bool = True

    def floor(self, natural: int) -> int:
        """The narrowest this column may be, given its widest value."""
        if self.min_width is None:
            return natural
        return min(natural, max(self.min_width, len(self.label)))


def sorted_by(columns: Sequence[Column], sort: tuple[int, bool] | None) -> tuple[Column, ...]:
    """The columns as the header shows them with the rows sorted by `sort` (column index,
    descending?): that column's label ends with its direction, and it is always shown.
    `fit` them, so the marker takes width as the label does and is never cut off."""
    if sort is None:
        return tuple(columns)
    index, descending = sort
    marked = replace(columns[index], label=columns[index].label + (DESCENDING if descending else ASCENDING),
                     priority=0)
    return (*columns[:index], marked, *columns[index + 1:])


@dataclass(frozen=True)
class Layout:
    shown: tuple[int, ...]  # indices of the shown columns, in table order
    widths: tuple[int, ...]  # the content width of each shown column
    wide: bool = False

    def width_of(self, index: int) -> int | None:
        """The width of column `index`, None when it is hidden."""
        return self.widths[self.shown.index(index)] if index in self.shown else None

    def hidden(self, count: int) -> tuple[int, ...]:
        return tuple(i for i in range(count) if i not in self.shown)

    def not_in_full(self, cells: Sequence[str]) -> list[int]:
        """The columns whose value on this row does not show in full (hidden or cut)."""
        out = []
        for i, value in enumerate(cells):
            width = self.width_of(i)
            if width is None or len(value) > width:
                out.append(i)
        return out


def natural_widths(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> list[int]:
    """Each column's widest value (or its label)."""
    widths = [len(c.label) for c in columns]
    for cells in rows:
        for i, value in enumerate(cells):
            widths[i] = max(widths[i], len(value))
    return widths


def fit(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int, *,
        wide: bool = False, gap: int = GAP) -> Layout:
    """The columns `width` cells hold, and the width of each (see the module docstring)."""
    natural = natural_widths(columns, rows)
    if wide:
        return Layout(tuple(range(len(columns))), tuple(natural), wide=True)
    floors = [c.floor(n) for c, n in zip(columns, natural, strict=True)]

    def need(shown: set[int]) -> int:
        return sum(floors[i] + gap for i in shown)

    shown = set(range(len(columns)))
    dropped: list[int] = []
    while need(shown) > width:
        droppable = [i for i in shown if columns[i].priority > 0]
        if not droppable:
            break  # the columns that are always shown do not fit: the table scrolls sideways
        drop = max(droppable, key=lambda i: (columns[i].priority, i))
        shown.remove(drop)
        dropped.append(drop)
    widths = {i: floors[i] for i in shown}
    room = width - need(shown)
    # the room left goes first to the cut columns, evenly, up to their full width ...
    growing = sorted(i for i in shown if widths[i] < natural[i])
    while room > 0 and growing:
        share = max(1, room // len(growing))
        for i in list(growing):
            more = min(share, natural[i] - widths[i], room)
            widths[i] += more
            room -= more
            if widths[i] >= natural[i]:
                growing.remove(i)
            if room == 0:
                break
    # ... then to a dropped column that fits again (dropped early, before a wider one went)
    for i in sorted(dropped, key=lambda i: (columns[i].priority, i)):
        if floors[i] + gap <= room:
            shown.add(i)
            widths[i] = floors[i]
            room -= floors[i] + gap
    order = tuple(sorted(shown))
    return Layout(order, tuple(widths[i] for i in order))


def cut(value: str, width: int, keep: Literal["head", "tail"] = "head") -> str:
    """`value` in `width` cells, ending (or, keeping the tail, starting) with an ellipsis
    where it is cut."""
    if len(value) <= width:
        return value
    if width <= 1:
        return ELLIPSIS[:width]
    if keep == "tail":
        return ELLIPSIS + value[len(value) - width + 1:]
    return value[:width - 1] + ELLIPSIS


def fitted_cells(columns: Sequence[Column], layout: Layout, cells: Sequence[str]) -> tuple[str, ...]:
    """A row's shown cells, each cut to its column's width."""
    return tuple(cut(cells[i], w, columns[i].keep) for i, w in zip(layout.shown, layout.widths, strict=True))


def detail(columns: Sequence[Column], layout: Layout, cells: Sequence[str]) -> list[tuple[str, str]]:
    """(label, full value) of every column the row does not show in full, hidden ones
    after cut ones, for the detail line under the table."""
    missing = [i for i in layout.not_in_full(cells) if columns[i].in_detail]
    cut_first = sorted(missing, key=lambda i: (i not in layout.shown, columns[i].priority, i))
    return [(columns[i].label, cells[i]) for i in cut_first]
