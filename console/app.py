"""The Textual console: an on-call view of the registry, keyboard first, k9s-like.

`make_app` is the one factory used by `wk ui`, `wk demo` and the tests.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.screen import Screen

from console.actions import GLOBAL_ACTIONS, SCREEN_ACTIONS, global_bindings
from store.handle import Store
from store.identity import current_actor

Clock = Callable[[], datetime]

VIEW_HELP = {
    "overview": "every model: production, traffic and latency, staging, last run, gate failures",
    "models": "registered models",
    "versions MODEL": "versions of a model",
    "version MODEL VERSION": "one version in full",
    "lineage MODEL VERSION": "dataset -> run -> version -> aliases",
    "compare MODEL A B": "two versions side by side",
    "datasets": "datasets and what was trained on them",
    "dataset NAME": "what was trained on one dataset",
    "runs [MODEL]": "training runs with their results",
    "run ID": "one run with its log",
    "audit [actor=U] [action=A] [model=M] [since=7d]": "the audit log",
    "deployments": "how each model is served: mode, versions, shares; requests per minute, "
                   "p50/p95 latency and error rate per route",
    "predictions [model=M] [version=V] [route=R] [since=1h] [id=PREFIX]": "the prediction log, newest first",
    "prediction ID": "one prediction: inputs, outputs, label, latency, route",
}


class WatchkeeperApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Watchkeeper"
    BINDINGS = global_bindings()

    def __init__(self, store: Store, *, read_only: bool = False, clock: Clock | None = None,
                 refresh_interval: float = 2.0, start: str = "overview") -> None:
        super().__init__()
        self.store = store
        self.read_only = read_only
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self.refresh_interval = refresh_interval
        self.paused = False
        self.user = current_actor()
        self.role = "viewer" if read_only else "operator"
        self.model_names: list[str] = []
        self.start_command = start

    @property
    def store_label(self) -> str:
        return self.store.location.describe()

    def set_model_names(self, names: list[str]) -> None:
        """Model names for the command bar's completion (from the last overview/models load)."""
        if names != self.model_names:
            self.model_names = names
            from console.widgets.command_bar import CommandBar

            for bar in self.screen.query(CommandBar):
                bar.set_models(names)

    def now_label(self) -> str:
        return self.clock().astimezone().strftime("%H:%M:%S")

    def on_mount(self) -> None:
        self.run_command(self.start_command)

    # --- navigation -------------------------------------------------------------------
    def run_command(self, command: str) -> None:
        """`:` commands: a view name and its arguments (see VIEW_HELP)."""
        try:
            screen = self.screen_for(command)
        except ValueError as exc:
            self.notify(str(exc), title=f":{command}", severity="error", timeout=6)
            return
        if screen is not None:
            self.push_screen(screen)

    def screen_for(self, command: str) -> Screen[Any] | None:
        from console.screens import views

        try:
            words = shlex.split(command)
        except ValueError as exc:
            raise ValueError(f"cannot read {command!r}: {exc}") from exc
        if not words:
            return None
        name, args = words[0].lower(), words[1:]
        if name in {"q", "quit"}:
            self.exit()
            return None
        if name == "help":
            return views.HelpScreen()
        return views.make_view(name, args)

    def action_command_bar(self) -> None:
        screen = self.screen
        if hasattr(screen, "open_command_bar"):
            screen.open_command_bar()

    def action_help(self) -> None:
        from console.screens.views import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_back(self) -> None:
        if len(self.screen_stack) > 2:
            self.pop_screen()
        else:
            self.notify("this is the first view; q quits", timeout=2)

    def action_refresh_now(self) -> None:
        reload = getattr(self.screen, "reload", None)
        if reload is not None:
            reload()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        for screen in self.screen_stack:
            if hasattr(screen, "set_paused"):
                screen.set_paused(self.paused)
        self.notify("refresh paused (p resumes)" if self.paused else "refresh resumed", timeout=2)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for view, description in VIEW_HELP.items():
            name = view.split(" ")[0]
            if " " not in view or name in {"runs", "audit", "predictions"}:
                yield SystemCommand(f"Go to {name}", description,
                                    lambda name=name: self.run_command(name))
        view = getattr(screen, "VIEW", "")
        for spec in SCREEN_ACTIONS:
            if view in spec.views and not (self.read_only and spec.dangerous):
                yield SystemCommand(spec.description, f"key {spec.key}",
                                    lambda spec=spec: screen.run_action(spec.id))
        for spec in GLOBAL_ACTIONS:
            if spec.id not in {"back", "quit"}:
                yield SystemCommand(spec.description, f"key {spec.key}",
                                    lambda spec=spec: self.run_action(spec.id))


def make_app(store: Store | str | Path | None, *, read_only: bool = False, clock: Clock | None = None,
             refresh_interval: float = 2.0, start: str = "overview") -> WatchkeeperApp:
    """The console on a store (a Store, or a path resolved like --store)."""
    from store.handle import open_store

    if not isinstance(store, Store):
        store = open_store(store)
    return WatchkeeperApp(store, read_only=read_only, clock=clock,
                          refresh_interval=refresh_interval, start=start)
