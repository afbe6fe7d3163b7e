"""The top line: where we are, who we are, and when the data was last read."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static


class StatusHeader(Static):
    DEFAULT_CSS = """
    StatusHeader { dock: top; height: 1; background: $primary; color: $text; padding: 0 1; }
    """

    view_title: reactive[str] = reactive("")
    refreshed: reactive[str] = reactive("never")
    paused: reactive[bool] = reactive(False)

    def __init__(self, store: str, user: str, role: str, title: str = "") -> None:
        super().__init__()
        self.store_label, self.user, self.role = store, user, role
        self.view_title = title

    def render(self) -> str:
        state = "PAUSED" if self.paused else f"refreshed {self.refreshed}"
        return (f"Watchkeeper | {self.view_title} | {self.user} ({self.role}) | {state} | "
                f"{self.store_label}")
