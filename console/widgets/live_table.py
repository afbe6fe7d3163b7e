"""A DataTable updated in place by row key, so a refresh keeps the cursor, the scroll
position and the filter; with k9s-style movement keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable


@dataclass(frozen=True)
class TableRow:
    key: str
    cells: tuple[str, ...]
    raw: Any = None  # the dict behind the row (for drill-down and raw JSON)


class LiveTable(DataTable[str]):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]

    def __init__(self, columns: Sequence[str], **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._column_labels = list(columns)
        self._shown: list[str] = []
        self._cells: dict[str, tuple[str, ...]] = {}
        self._repaints_left = 0

    def on_mount(self) -> None:
        for label in self._column_labels:
            self.add_column(label, key=label)

    @property
    def shown_keys(self) -> list[str]:
        return list(self._shown)

    def selected_key(self) -> str | None:
        if not self._shown or self.cursor_row < 0 or self.cursor_row >= len(self._shown):
            return None
        return self._shown[self.cursor_row]

    def show_rows(self, rows: Sequence[TableRow]) -> None:
        """Make the table show exactly `rows`, in order, touching only what changed."""
        keys = [r.key for r in rows]
        if keys == self._shown:
            for row in rows:
                if self._cells.get(row.key) != row.cells:
                    for label, old, new in zip(self._column_labels, self._cells[row.key], row.cells,
                                               strict=True):
                        if old != new:
                            self.update_cell(row.key, label, new)
                    self._cells[row.key] = row.cells
            return
        selected = self.selected_key()
        cursor_row = self.cursor_row
        scroll_x, scroll_y = self.scroll_x, self.scroll_y
        self.clear()
        for row in rows:
            self.add_row(*row.cells, key=row.key)
        self._shown = keys
        self._cells = {r.key: r.cells for r in rows}
        if selected in self._cells:
            target = keys.index(selected)
        else:
            target = min(max(cursor_row, 0), max(len(keys) - 1, 0))
        if keys:
            self.move_cursor(row=target, animate=False, scroll=False)
        self.scroll_to(scroll_x, scroll_y, animate=False, immediate=True)
        self._repaints_left = 20
        self.call_after_refresh(self._repaint_when_sized)

    def _repaint_when_sized(self) -> None:
        """DataTable widens auto-width columns in an idle pass; if the screen painted the
        new rows before that, their cells stay cached at the narrow width. Once the widths
        are settled, drop those cached cells and paint again."""
        if (self._require_update_dimensions or self._new_rows) and self._repaints_left > 0:
            self._repaints_left -= 1
            self.call_after_refresh(self._repaint_when_sized)
            return
        self._clear_caches()
        self.refresh()
