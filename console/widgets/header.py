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
        """What matters at 3am first: the view and how fresh it is; the store path only
        where it fits."""
        state = "PAUSED" if self.paused else f"refreshed {self.refreshed}"
        text = f"{self.view_title} | {state} | {self.user} ({self.role})"
        room = self.size.width - 2
        for extra in (f"Watchkeeper | {text} | {self.store_label}", f"Watchkeeper | {text}"):
            if len(extra) <= room:
                return extra
        return text
