"""`?`: every key, generated from the action registry, and every `:` view, from the
view registry (console/navigation.py)."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from console.actions import GLOBAL_ACTIONS, SCREEN_ACTIONS, key_label
from console.navigation import VIEWS

MOVEMENT = [("j / k, arrows", "move down / up"), ("g / G", "top / bottom"),
            ("enter", "open the selected row")]


class HelpScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("question_mark", "app.pop_screen",
                                                                      "Back", show=False)]

    def compose(self) -> ComposeResult:
        read_only = getattr(self.app, "read_only", False)
        denial_of = getattr(self.app, "denial_of", lambda _action: None)
        keys = Table(title="keys", title_justify="left", box=None, padding=(0, 2))
        keys.add_column("key", no_wrap=True)
        keys.add_column("does")
        keys.add_column("where")
        for spec in GLOBAL_ACTIONS:
            keys.add_row(key_label(spec.key), spec.description, "everywhere")
        keys.add_row("ctrl+p", "Command palette: every view and action", "everywhere")
        for key, does in MOVEMENT:
            keys.add_row(key, does, "tables")
        for spec in SCREEN_ACTIONS:
            note = " (read-only: unavailable)" if read_only and spec.dangerous else ""
            if not note and denial_of(spec.id) is not None:
                note = " (not allowed for your role)"
            keys.add_row(key_label(spec.key), spec.description + note, ", ".join(spec.views))
        views = Table(title=": views", title_justify="left", box=None, padding=(0, 2))
        views.add_column("command", no_wrap=True)
        views.add_column("shows")
        for view in VIEWS:
            if view.listed:
                views.add_row(f":{view.command}", view.shows)
        with VerticalScroll():
            yield Static(keys)
            yield Static(views)
        yield Footer()
