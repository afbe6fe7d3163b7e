"""The `/` filter line: hidden until asked for, filters the table as you type.

Kept with enter, it stays on screen (the table has the focus); esc then clears it first,
and only the next esc goes back (`WkScreen.clear_applied_filter`, from the app's back)."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input


class FilterBar(Input):
    DEFAULT_CSS = """
    FilterBar { dock: bottom; display: none; height: 1; border: none; padding: 0 1; margin-bottom: 1; }
    FilterBar.-shown { display: block; }
    """
    BINDINGS = [Binding("escape", "clear_filter", "Clear filter", show=False)]

    def __init__(self) -> None:
        super().__init__(placeholder="filter: type to narrow the rows, enter to keep, esc to clear",
                         id="filter", compact=True)

    @property
    def applied(self) -> bool:
        """A filter is narrowing the rows, or the line is still on screen."""
        return bool(self.value) or self.has_class("-shown")

    def open(self) -> None:
        self.add_class("-shown")
        self.focus()

    def action_clear_filter(self) -> None:
        self.value = ""
        self.remove_class("-shown")
        from console.widgets.command_bar import focus_body

        focus_body(self.screen)
