"""A DataTable updated in place by row key, so a refresh keeps the cursor, the scroll
position and the filter; with k9s-style movement keys.

Its columns fit the table's width (console/columns.py): the table chooses the columns
and their widths from the rows it shows, cuts a value with an ellipsis, and lays itself
out again when its width, its rows' widest values, wide mode or the sorted column change.
The full values stay in `TableRow.cells` (for the filter, sorting and the detail line).
The screen sorts the rows; the table marks the sorted column's header with the direction
(`set_sort`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from console.columns import Column, Layout, fit, fitted_cells, sorted_by


@dataclass(frozen=True)
class TableRow:
    key: str
    cells: tuple[str, ...]
    raw: Any = None  # the dict behind the row (for drill-down and raw JSON)


class LiveTable(DataTable[Text]):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]

    class LaidOut(Message):
        """The table chose its columns again (a resize, wide mode, new rows)."""

    def __init__(self, columns: Sequence[Column], **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.specs = tuple(columns)
        self.wide = False
        #: the column the rows are sorted by and whether descending (None: as read)
        self.sorted_on: tuple[int, bool] | None = None
        self._built_sort: tuple[int, bool] | None = None  # the sort the header marks
        self.fit_layout = Layout((), ())
        self._rows: list[TableRow] = []
        self._shown: list[str] = []
        self._cells: dict[str, tuple[str, ...]] = {}  # the cut cells on screen, by row key
        self._built = False
        self._repaints_left = 0

    def on_mount(self) -> None:
        self._rebuild(self._fit())

    @property
    def shown_keys(self) -> list[str]:
        return list(self._shown)

    @property
    def shown_rows(self) -> list[TableRow]:
        """The rows on screen, in order, with their full values."""
        return list(self._rows)

    def selected_key(self) -> str | None:
        if not self._shown or self.cursor_row < 0 or self.cursor_row >= len(self._shown):
            return None
        return self._shown[self.cursor_row]

    def selected_row(self) -> TableRow | None:
        key = self.selected_key()
        return next((r for r in self._rows if r.key == key), None)

    def set_wide(self, wide: bool) -> None:
        self.wide = wide
        self.set_class(wide, "-wide")
        self._relayout()

    def set_sort(self, column: int | None, descending: bool = False) -> None:
        """Mark the header of the column the rows are sorted by (the next show_rows
        shows it); the caller sorts the rows."""
        self.sorted_on = None if column is None else (column, descending)

    @property
    def headers(self) -> tuple[Column, ...]:
        """The columns as the header shows them: the sorted one marked (columns.sorted_by)."""
        return sorted_by(self.specs, self.sorted_on)

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()
        # the detail line below grows with a long value: keep the selected row in view
        if self._shown:
            self.call_after_refresh(self._scroll_cursor_into_view)

    def _relayout(self) -> None:
        layout = self._fit()
        if layout != self.fit_layout or self.sorted_on != self._built_sort:
            self._rebuild(layout)
            self.post_message(self.LaidOut())

    def _fit(self) -> Layout:
        return fit(self.headers, [r.cells for r in self._rows], self._room(), wide=self.wide)

    def _room(self) -> int:
        """The cells the columns may take: the width, less the scrollbar when the rows
        overflow the height (before the first layout, the screen's size)."""
        width = self.size.width or self.app.size.width
        height = self.size.height or self.app.size.height
        if len(self._rows) + 1 > height:  # +1: the header
            width -= self.styles.scrollbar_size_vertical
        return width

    def show_rows(self, rows: Sequence[TableRow]) -> None:
        """Make the table show exactly `rows`, in order, touching only what changed."""
        self._rows = list(rows)
        layout = self._fit()
        keys = [r.key for r in rows]
        if keys == self._shown and layout == self.fit_layout and self._built and self.sorted_on == self._built_sort:
            labels = [self.specs[i].label for i in layout.shown]
            for row in rows:
                new_cells = fitted_cells(self.specs, layout, row.cells)
                old_cells = self._cells[row.key]
                if old_cells != new_cells:
                    for label, old, new in zip(labels, old_cells, new_cells, strict=True):
                        if old != new:
                            self.update_cell(row.key, label, Text(new))
                    self._cells[row.key] = new_cells
            return
        changed = layout != self.fit_layout
        self._rebuild(layout)
        if changed:
            self.post_message(self.LaidOut())

    def _rebuild(self, layout: Layout) -> None:
        """Clear and fill the table with `layout`'s columns, keeping the cursor on its row
        and the scroll position."""
        selected = self.selected_key()
        cursor_row = self.cursor_row
        scroll_x, scroll_y = self.scroll_x, self.scroll_y
        self.clear(columns=True)
        self.fit_layout = layout
        self._built_sort = self.sorted_on
        headers = self.headers
        for i, width in zip(layout.shown, layout.widths, strict=True):
            # keyed by the plain label, so update_cell finds the column whatever its marker
            self.add_column(headers[i].label, width=width, key=self.specs[i].label)
        self._cells = {}
        for row in self._rows:
            cells = fitted_cells(self.specs, layout, row.cells)
            self.add_row(*(Text(c) for c in cells), key=row.key)
            self._cells[row.key] = cells
        keys = [r.key for r in self._rows]
        self._shown = keys
        self._built = True
        if selected in self._cells:
            target = keys.index(selected)
        else:
            target = min(max(cursor_row, 0), max(len(keys) - 1, 0))
        if keys:
            self.move_cursor(row=target, animate=False, scroll=False)
        self.scroll_to(scroll_x if layout.wide else 0, scroll_y, animate=False, immediate=True)
        self._repaints_left = 20
        self.call_after_refresh(self._repaint_when_sized)

    def _repaint_when_sized(self) -> None:
        """DataTable settles its dimensions in an idle pass; if the screen painted the
        new rows before that, their cells stay cached at the old width. Once the widths
        are settled, drop those cached cells and paint again."""
        if (self._require_update_dimensions or self._new_rows) and self._repaints_left > 0:
            self._repaints_left -= 1
            self.call_after_refresh(self._repaint_when_sized)
            return
        self._clear_caches()
        self.refresh()
