"""A page of text over the screen (an alert's history, an entry's detail): esc or enter
closes it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class TextModal(ModalScreen[None]):
    DEFAULT_CSS = """
    TextModal { align: center middle; }
    TextModal > VerticalScroll { width: 90%; max-width: 110; height: auto; max-height: 90%;
                                 border: thick $accent; background: $surface; padding: 0 1; }
    TextModal Label { text-style: bold; }
    """
    BINDINGS = [Binding("escape", "close", "Close"), Binding("enter", "close", "Close", show=False)]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text, self.text = title, text

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(self.title_text)
            yield Static(self.text, markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
