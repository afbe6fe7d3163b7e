"""The `:` command line: jump to a view by name, with completion."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Input

from console.navigation import completion_words


def focus_body(screen: Screen[Any]) -> None:
    """Give the focus back to the screen's main widget (its table, tree or text)."""
    body = screen.query("#body > *")
    target = next((w for w in body if w.focusable), None)
    if target is not None:
        target.focus()
    else:
        screen.set_focus(None)


class CommandBar(Input):
    DEFAULT_CSS = """
    CommandBar { dock: bottom; display: none; height: 1; border: none; padding: 0 1; margin-bottom: 1; }
    CommandBar.-shown { display: block; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", show=False),
        Binding("tab", "cursor_right", "Complete", show=False),
    ]

    class Run(Message):
        def __init__(self, command: str) -> None:
            super().__init__()
            self.command = command

    def __init__(self, models: list[str] | None = None) -> None:
        super().__init__(placeholder=":models  :audit  :lineage MODEL VERSION  (tab completes)",
                         id="command-bar", compact=True)
        self.set_models(models or [])

    def set_models(self, models: list[str]) -> None:
        self.suggester = SuggestFromList(completion_words(models), case_sensitive=False)

    def open(self) -> None:
        self.value = ""
        self.add_class("-shown")
        self.focus()

    def action_close(self) -> None:
        self.value = ""
        self.remove_class("-shown")
        focus_body(self.screen)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        command = self.value.strip().lstrip(":")
        self.action_close()
        if command:
            self.post_message(self.Run(command))
