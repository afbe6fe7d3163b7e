"""The Textual console: an on-call view of the registry, keyboard first, k9s-like.

`make_app` is the one factory used by `wk ui`, `wk demo` and the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.screen import Screen

from console.actions import GLOBAL_ACTIONS, SCREEN_ACTIONS, global_bindings
from console.navigation import QUIT, VIEWS, open_view, split_command
from console.permissions import Capabilities, denial
from store.handle import Store
from store.identity import current_actor

if TYPE_CHECKING:
    from console.screens.base import WkScreen

Clock = Callable[[], datetime]

class WatchkeeperApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Watchkeeper"
    BINDINGS: ClassVar[list[BindingType]] = global_bindings()

    def __init__(self, store: Store, *, read_only: bool = False, clock: Clock | None = None,
                 refresh_interval: float = 2.0, start: str = "overview") -> None:
        super().__init__()
        self.store = store
        self.read_only = read_only
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self.refresh_interval = refresh_interval
        self.paused = False
        self.user = current_actor()
        #: the user's role in the header ("" until the first tick has read it)
        self.role = ""
        #: per permission None or why not (store.access.capabilities), re-read every tick
        #: (an admin's set-role shows within one); None until read: the actions are
        #: offered, and the services check anyway
        self.capabilities: Capabilities | None = None
        #: every model's owner and team by name (registry.models.model_owners), as last read
        self.owners: dict[str, dict[str, str]] = {}
        self.model_names: list[str] = []
        self.start_command = start
        self.opens_started = 0  # `:` commands that read before they open (the last one wins)
        #: the scheduler daemon's state (scheduler.jobs_view.daemon_state) as last read: the
        #: header of every screen marks a daemon that is down
        self.scheduler: dict[str, Any] | None = None
        self._reading_scheduler = False
        #: the open alerts (monitoring.alerts_view.open_alert_counts) as last read
        self.alert_counts: dict[str, Any] | None = None

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
        self.run_command(self.start_command, first=True)
        self._tick_scheduler()
        self.set_interval(self.refresh_interval, self._tick_scheduler)

    # --- who is using the console, and what they may do ----------------------------------
    def show_access(self, role: str, caps: Capabilities) -> None:
        """The role in every header; actions the user may not take shown disabled (read
        with the scheduler's state each tick; a failed read leaves the actions offered:
        the services check anyway)."""
        from console.widgets.header import StatusHeader

        label = role_label(role, self.read_only)
        if label == self.role and caps == self.capabilities:
            return
        self.role = label
        self.capabilities = caps
        for screen in self.screen_stack:
            for header in screen.query(StatusHeader):
                header.role = self.role
            screen.refresh_bindings()

    def denial_of(self, action: str) -> str | None:
        """Why the user may not take `action` (console/permissions.py), or None."""
        return denial(action, self.capabilities)

    # --- the scheduler's heartbeat, for every screen's header ----------------------------
    def _tick_scheduler(self) -> None:
        # one read at a time: a tick that comes while the last read still runs (a slow disk,
        # a busy machine) is skipped, never cancelling the read under way
        if not self.paused and not self._reading_scheduler:
            self._reading_scheduler = True  # cleared by the read when it ends
            self.read_scheduler()

    @work(thread=True, exit_on_error=False, group="scheduler")
    def read_scheduler(self) -> None:
        """One small read (the daemon's row); a failure is left to the screens, whose own
        reads fail the same way and say so."""
        try:
            self._read_scheduler()
        finally:
            self._reading_scheduler = False

    def _read_scheduler(self) -> None:
        from monitoring.alerts_view import open_alert_counts
        from registry.models import model_owners
        from scheduler.jobs_view import scheduler_state
        from store.access import access_of

        principal, caps = access_of(self.store)  # the user's role and what it may do, now
        self.call_from_thread(self.show_access, str(principal.role or ""), caps)
        state = scheduler_state(self.store, now=self.clock())
        counts = open_alert_counts(self.store)  # one grouped query over the open alerts
        owners = model_owners(self.store)  # one lean read: a transfer shows within a tick
        self.call_from_thread(self.show_owners, owners)
        self.call_from_thread(self.show_alert_counts, counts)
        self.call_from_thread(self.show_scheduler, state)

    def show_owners(self, owners: dict[str, dict[str, str]]) -> None:
        """Every model screen's header names the model's owner and team."""
        if owners == self.owners:
            return
        self.owners = owners
        from console.screens.base import WkScreen

        for screen in self.screen_stack:
            if isinstance(screen, WkScreen):
                screen.show_owner()

    def show_alert_counts(self, counts: dict[str, Any]) -> None:
        """Mark every screen's header with the open alerts (firing / open)."""
        from console.widgets.header import StatusHeader

        self.alert_counts = counts
        for screen in self.screen_stack:
            for header in screen.query(StatusHeader):
                header.set_alerts(counts["firing"], counts["total"])

    def show_scheduler(self, state: dict[str, Any]) -> None:
        """Mark every screen's header with the daemon's state (on the UI thread; the Jobs and
        Overview screens call it with the state they read too)."""
        self.scheduler = state
        from console.widgets.header import StatusHeader

        mark = self.scheduler_mark()
        for screen in self.screen_stack:
            for header in screen.query(StatusHeader):
                header.set_scheduler(*mark)

    def scheduler_mark(self) -> tuple[str, str]:
        from console.screens.scheduler_cells import daemon_mark

        return daemon_mark(self.scheduler, self.clock())

    # --- navigation -------------------------------------------------------------------
    def run_command(self, command: str, *, first: bool = False) -> None:
        """`:` commands: a view name and its arguments (see console/navigation.py).

        A data screen opens only once its first read has succeeded: a bad target
        (`:versions credit-defualt`, `:run 999`) is one error naming it, and the screen
        you were on stays, instead of an empty screen that fails again at every refresh.
        The `first` view (`--view`) opens at once, so keys work from the first frame;
        if its read fails it says so once (WkScreen.on_worker_state_changed).
        """
        try:
            screen = self.screen_for(command)
        except ValueError as exc:
            self.notify(str(exc), title=f":{command}", severity="error", timeout=6)
            if first and self.start_command != "overview":  # a bad --view: the overview instead
                self.run_command("overview", first=True)
            return
        if screen is None:
            return
        from console.screens.base import WkScreen

        if isinstance(screen, WkScreen) and not first:
            self.opens_started += 1
            screen.opened_by = self
            self._open_after_first_read(command, screen, self.opens_started)
        else:
            self.push_screen(screen)

    def open_screen(self, screen: WkScreen, label: str) -> None:
        """Open a screen built by another (an alert's subject: the Drift screen with the
        feature selected) as a `:` command opens one: after its first read succeeds."""
        self.opens_started += 1
        screen.opened_by = self
        self._open_after_first_read(label, screen, self.opens_started)

    @work(thread=True, exit_on_error=False, group="open")
    def _open_after_first_read(self, command: str, screen: WkScreen, opening: int) -> None:
        try:
            data = screen.fetch()
        except Exception as exc:  # said once; nothing was pushed, so nothing retries it
            self.call_from_thread(self._refuse_open, command, exc)
            return
        self.call_from_thread(self._push_read, screen, data, opening)

    def _push_read(self, screen: WkScreen, data: Any, opening: int) -> None:
        if opening != self.opens_started:  # a later `:` command wins over a slower read
            return
        screen.first_read = (data,)
        self.push_screen(screen)

    def _refuse_open(self, command: str, exc: BaseException) -> None:
        from console.errors import error_text
        from console.navigation import nearest_command

        message = error_text(exc)
        if (nearer := nearest_command(command, self.model_names)) is not None:
            message += f"; did you mean :{nearer}?"
        self.notify(message, title=f":{command}", severity="error", timeout=8)

    def screen_for(self, command: str) -> Screen[Any] | None:
        words = split_command(command)
        if not words:
            return None
        name, args = words[0].lower(), words[1:]
        if name in QUIT:
            self.exit()
            return None
        return open_view(name, args)

    def action_command_bar(self) -> None:
        screen = self.screen
        if hasattr(screen, "open_command_bar"):
            screen.open_command_bar()

    def action_help(self) -> None:
        from console.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_back(self) -> None:  # async, as App.action_back is
        clear_filter = getattr(self.screen, "clear_applied_filter", None)
        if clear_filter is not None and clear_filter():
            return  # the first esc on a filtered view clears the filter
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
        for spec_of_view in VIEWS:
            if spec_of_view.listed and spec_of_view.opens_bare:
                yield SystemCommand(f"Go to {spec_of_view.name}", spec_of_view.shows,
                                    lambda name=spec_of_view.name: self.run_command(name))
        view = getattr(screen, "VIEW", "")
        for spec in SCREEN_ACTIONS:
            if view in spec.views and not (self.read_only and spec.dangerous):
                why = self.denial_of(spec.id)
                help_text = f"key {spec.key}" + (" (not allowed: choose to see why)" if why else "")
                yield SystemCommand(spec.description, help_text,
                                    lambda spec=spec: self.run_screen_action(screen, spec.id))
        for spec in GLOBAL_ACTIONS:
            if spec.id not in {"back", "quit"}:
                yield SystemCommand(spec.description, f"key {spec.key}",
                                    lambda spec=spec: self.run_action(spec.id))


    async def run_screen_action(self, screen: Screen[Any], action: str) -> None:
        """Run a screen's action from the command palette; one the user may not take says
        why instead (as its key does)."""
        if (why := self.denial_of(action)) is not None:
            self.notify_denied(why)
            return
        await screen.run_action(action)

    def notify_denied(self, why: str) -> None:
        self.notify(why, title="not allowed", severity="warning", timeout=8)


def role_label(role: str, read_only: bool) -> str:
    """The header's role: "admin", "viewer, read-only", "not a user" (reads only)."""
    shown = role or "not a user"
    return f"{shown}, read-only" if read_only else shown


def make_app(store: Store | str | Path | None, *, read_only: bool = False, clock: Clock | None = None,
             refresh_interval: float = 2.0, start: str = "overview") -> WatchkeeperApp:
    """The console on a store (a Store, or a path resolved like --store)."""
    from store.handle import open_store

    if not isinstance(store, Store):
        store = open_store(store)
    return WatchkeeperApp(store, read_only=read_only, clock=clock,
                          refresh_interval=refresh_interval, start=start)
