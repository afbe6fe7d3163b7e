"""The detail line under a table: the selected row's values that the table cuts or hides,
in full, so nothing needed to decide is off screen at 80 columns. Hidden while every
value of every row fits; in wide mode, it says how to scroll."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from console.columns import ELLIPSIS, detail
from console.widgets.live_table import LiveTable

FIT_HINT = "w: all columns"
#: The detail line's most lines (a long audit change): past it, the text ends in an ellipsis.
MAX_LINES = 5
WIDE_HINT = "wide: every column at full width; scroll sideways with ← → (w: fit the screen)"


class RowDetail(Static):
    DEFAULT_CSS = """
    RowDetail { height: auto; padding: 0 1; background: $boost; display: none; }
    RowDetail.-shown { display: block; }
    """

    def show_for(self, table: LiveTable) -> None:
        """Show what `table`'s selected row does not show in full."""
        layout, specs = table.fit_layout, table.specs
        rows = table.shown_rows
        hidden = layout.hidden(len(specs))
        anything = layout.wide or bool(hidden) or any(layout.not_in_full(r.cells) for r in rows)
        self.set_class(anything, "-shown")
        if not anything:
            self.update("")
            return
        if layout.wide:
            self.update(Text(WIDE_HINT, style="dim"))
            return
        text = Text()
        row = table.selected_row()
        values = detail(specs, layout, row.cells) if row is not None else []
        for label, value in values:
            if text:
                text.append("  ")
            text.append(label, style="bold")
            text.append(f" {value}")
        if not values:
            text.append("this row shows in full", style="dim")
        if hidden:
            text.append(f"  ({FIT_HINT})", style="dim")
        self.update(self._bounded(text))

    def _bounded(self, text: Text) -> Text:
        """`text` in at most MAX_LINES lines of this width, the last ending in an ellipsis
        where it is cut (`y` shows the row in full)."""
        width = max((self.size.width or self.app.size.width) - 2, 10)  # less the padding
        lines = text.wrap(self.app.console, width)
        if len(lines) <= MAX_LINES:
            return text
        kept = Text("\n").join(lines[:MAX_LINES])
        kept.rstrip()
        if kept.cell_len and len(lines[MAX_LINES - 1]) >= width:
            kept.right_crop(1)
        kept.append(ELLIPSIS)
        return kept
