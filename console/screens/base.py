"""What every console screen shares: the header, the footer, the filter and command
lines, the refresh loop, and the read-only guard.

Database work runs in thread workers and comes back as a message; only the message
handler touches widgets. The next refresh is scheduled when the last one finished, and
skipped while paused, while a modal is open or while the screen is hidden.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from textual import events, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input
from textual.worker import Worker, WorkerState

from console.action_results import ALIAS_ACTIONS, Describe, describe
from console.actions import bindings_for
from console.charts import span_text
from console.columns import Column
from console.errors import error_text
from console.widgets.command_bar import CommandBar
from console.widgets.filter_bar import FilterBar
from console.widgets.header import StatusHeader
from console.widgets.live_table import LiveTable, TableRow
from console.widgets.row_detail import RowDetail
from console.widgets.trend_panel import Columns, TrendPanel
from serving.traffic.dashboard import TREND_MINUTES
from store.errors import PermissionDenied

if TYPE_CHECKING:
    from console.app import WatchkeeperApp


class Loaded(Message):
    """Data a worker read, posted back to the screen that asked for it; `read` numbers
    the reads a screen started, so an older read that finishes late is dropped."""

    def __init__(self, data: Any, read: int) -> None:
        super().__init__()
        self.data = data
        self.read = read


class WkScreen(Screen[None]):
    VIEW = ""
    #: how this screen's actions ("promote", "archive"...) describe their results
    ACTION_RESULTS: Mapping[str, Describe] = ALIAS_ACTIONS

    def __init__(self) -> None:
        super().__init__()
        self._timer: Timer | None = None
        self._loaded_once = False
        self.reads_started = 0  # reads this screen asked for (on the UI thread)
        self.reads_shown = 0  # the number of the newest read on screen
        #: the read done before the screen opened (app.run_command), shown on mount
        self.first_read: tuple[Any] | None = None
        self.opened_by: WatchkeeperApp | None = None
        self._load_error = ""  # the load error last said (a failing refresh says it once)

    @property
    def wk(self) -> WatchkeeperApp:
        # `opened_by` lets fetch() run before the screen is mounted (the app's first read
        # of a `:` target), where Textual has no active app in the worker thread yet
        return self.opened_by or cast("WatchkeeperApp", self.app)

    def title_text(self) -> str:
        return self.VIEW

    def compose(self) -> ComposeResult:
        app = self.wk
        header = StatusHeader(app.store_label, app.user, app.role, self.title_text())
        header.set_owner(*self.owner_of_model())
        header.set_scheduler(*app.scheduler_mark())
        if app.alert_counts is not None:
            header.set_alerts(app.alert_counts["firing"], app.alert_counts["total"])
        yield header
        with Vertical(id="body"):
            yield from self.compose_body()
        yield FilterBar()
        yield CommandBar(app.model_names)
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    # --- whose model, and what this user may do -----------------------------------------
    def model_shown(self) -> str | None:
        """The model this screen is about, if it is about one (its `model`)."""
        model = getattr(self, "model", None)
        return model if isinstance(model, str) and model else None

    def owner_of_model(self) -> tuple[str | None, str | None]:
        """(owner, team) of the model shown, as the app last read them; (None, None) if
        the screen is not about one model or the owners are not read yet."""
        model = self.model_shown()
        found = self.wk.owners.get(model) if model else None
        return (found["owner"], found["team"]) if found else (None, None)

    def show_owner(self) -> None:
        for header in self.query(StatusHeader):
            header.set_owner(*self.owner_of_model())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """An action the user's role does not allow: shown, dimmed (None); its key says why
        (on_key), as Textual runs no action it reports disabled."""
        return None if self.wk.denial_of(action) is not None else True

    def on_key(self, event: events.Key) -> None:
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if (why := self.wk.denial_of(binding.action)) is not None:
                event.stop()
                event.prevent_default()
                self.wk.notify_denied(why)
                return

    # --- data loading -----------------------------------------------------------------
    def fetch(self) -> Any:
        """Read this screen's data (runs in a worker thread)."""
        raise NotImplementedError

    def show(self, data: Any) -> None:
        """Put loaded data on screen (runs on the UI thread)."""
        raise NotImplementedError

    def on_mount(self) -> None:
        for binding in bindings_for(self.VIEW, self.wk.read_only):
            self._bindings.bind(binding.key, binding.action, binding.description, show=binding.show)
        self.refresh_bindings()
        if self.first_read is not None:
            (data,), self.first_read = self.first_read, None
            self.reads_started += 1
            self.post_message(Loaded(data, self.reads_started))
        else:
            self.reload()

    def reload(self) -> None:
        """Read this screen's data again. Call it on the UI thread (from a worker, through
        `app.call_from_thread`)."""
        self.reads_started += 1
        self._read(self.reads_started)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def _read(self, read: int) -> None:
        # `exclusive` cancels an older read, but a thread cannot be stopped mid-query: it
        # may still post its (older) data after a newer read did, and on_loaded drops it
        self.post_message(Loaded(self.fetch(), read))

    def on_loaded(self, message: Loaded) -> None:
        if message.read < self.reads_shown:
            return
        self.reads_shown = message.read
        self._load_error = ""
        self.show(message.data)
        self._loaded_once = True
        self.query_one(StatusHeader).refreshed = self.wk.now_label()
        self._schedule()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "load":
            # a screen whose data went away (a model deleted elsewhere) fails at every
            # refresh: say it once, and again only if the error changes or it recovers first
            text = error_text(event.worker.error)
            if text != self._load_error:
                self._load_error = text
                self.notify(text, title="could not load", severity="error", timeout=6)
            self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self.wk.refresh_interval, self._tick)

    def _tick(self) -> None:
        if self.wk.paused or not self.is_current:
            self._schedule()
            return
        self.reload()

    def on_screen_resume(self) -> None:
        if self._loaded_once:
            self.reload()

    def set_paused(self, paused: bool) -> None:
        self.query_one(StatusHeader).paused = paused

    # --- shared actions ---------------------------------------------------------------
    def allowed(self, what: str, action: str) -> bool:
        """The read-only guard and the role's: say why a dangerous action is unavailable.
        `action` is its id (console/permissions.py), for actions reached other than by
        their key (enter on a row, an alert's subject)."""
        if self.wk.read_only:
            self.notify(f"{what} is unavailable: this console is read-only (opened with "
                        "--read-only); use a console without it, or the wk CLI",
                        title="read-only", severity="warning", timeout=6)
            return False
        if (why := self.wk.denial_of(action)) is not None:
            self.wk.notify_denied(why)
            return False
        return True

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def clear_applied_filter(self) -> bool:
        """esc with a filter kept (`/`, text, enter): clear it and stay on this view, saying
        so; True if there was one. The app's back asks this first, so the next esc goes back."""
        bar = self.query_one(FilterBar)
        if not bar.applied:
            return False
        what = bar.value.strip()
        bar.action_clear_filter()
        self.notify(f'filter "{what}" cleared' if what else "filter closed", timeout=3)
        return True

    def open_command_bar(self) -> None:
        self.query_one(CommandBar).open()

    def on_command_bar_run(self, message: CommandBar.Run) -> None:
        self.wk.run_command(message.command)

    def run_service_action(self, what: str, func: Any, *args: Any, **kwargs: Any) -> None:
        """Run a service action in a worker; report the outcome, then reload."""
        self._run_action(what, func, args, kwargs)

    @work(thread=True, exit_on_error=False, group="action")
    def _run_action(self, what: str, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            result = func(self.wk.store, *args, **kwargs)
        except PermissionDenied as exc:  # the service's own check: the role does not allow it
            self.app.call_from_thread(self.wk.notify_denied, error_text(exc))
            return
        except Exception as exc:  # shown to the user; the store is unchanged by a failed action
            self.app.call_from_thread(self.notify, error_text(exc), title=f"{what} failed",
                                      severity="error", timeout=8)
            return
        self.app.call_from_thread(self.notify, self.describe_result(what, result), title=what)
        self.app.call_from_thread(self.reload)

    def describe_result(self, what: str, result: Any) -> str:
        """The notice for a successful action, read as the kind of result `what` returns."""
        return describe(self.ACTION_RESULTS, what, result)


class TableScreen(WkScreen):
    """A screen whose body is one live table, with filter and sort, and the selected
    row's detail line under it; its columns fit the width (console/columns.py)."""

    COLUMNS: tuple[Column, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[TableRow] = []
        self.sort_column: int | None = None
        self.sort_reverse = False

    def compose_body(self) -> ComposeResult:
        yield LiveTable(self.COLUMNS, id="table")
        yield RowDetail(id="detail-line")

    @property
    def table(self) -> LiveTable:
        return self.query_one(LiveTable)

    def rows_from(self, data: Any) -> list[TableRow]:
        raise NotImplementedError

    def show(self, data: Any) -> None:
        self.rows = self.rows_from(data)
        self.apply_view()

    def apply_view(self) -> None:
        needle = self.query_one(FilterBar).value.strip().lower()
        rows = [r for r in self.rows if not needle or any(needle in c.lower() for c in r.cells)]
        if self.sort_column is not None:
            index = self.sort_column
            rows.sort(key=lambda r: _sort_key(r.cells[index]), reverse=self.sort_reverse)
        self.table.set_sort(self.sort_column, self.sort_reverse)  # ▲ or ▼ on its header
        self.table.show_rows(rows)
        self.sub_title = f"{len(rows)} of {len(self.rows)}" if needle else str(len(rows))
        self.show_detail()

    def show_detail(self) -> None:
        self.query_one(RowDetail).show_for(self.table)
        panels = self.query(TrendPanel)
        if panels:
            row = self.selected()
            trend = self.trend_of(row) if row is not None else None
            panels.first().show(*(trend or ("", [])), f"no requests in the last {span_text(TREND_MINUTES)}")

    def trend_of(self, row: TableRow) -> tuple[str, Columns] | None:
        """A screen with a TrendPanel: its title and (name, points) columns for the row."""
        return None

    def on_data_table_row_highlighted(self, event: Any) -> None:
        self.show_detail()

    def on_live_table_laid_out(self, event: LiveTable.LaidOut) -> None:
        self.show_detail()

    def action_toggle_wide(self) -> None:
        self.table.set_wide(not self.table.wide)
        self.show_detail()

    def on_input_changed(self, event: Input.Changed) -> None:
        if isinstance(event.input, FilterBar):
            self.apply_view()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if isinstance(event.input, FilterBar):
            if not event.input.value.strip():
                event.input.remove_class("-shown")
            self.table.focus()

    def action_sort(self) -> None:
        """The first column ascending, then descending, then the next column. The header
        says which (▲/▼ on the sorted column), so no notice: a toast per press piled up
        over the table when you pressed through the columns."""
        count = len(self.COLUMNS)
        if self.sort_column is None:
            self.sort_column, self.sort_reverse = 0, False
        elif not self.sort_reverse:
            self.sort_reverse = True
        else:
            self.sort_column = (self.sort_column + 1) % count
            self.sort_reverse = False
        self.apply_view()

    def selected(self) -> TableRow | None:
        return self.table.selected_row()

    def action_copy_id(self) -> None:
        row = self.selected()
        if row is not None:
            self.app.copy_to_clipboard(row.key)
            self.notify(f"copied {row.key}", timeout=2)

    def action_show_raw(self) -> None:
        row = self.selected()
        if row is not None:
            from console.screens.raw import RawScreen

            self.app.push_screen(RawScreen(json.dumps(row.raw, indent=2, default=str)))


def _sort_key(text: str) -> tuple[int, float, str]:
    """Numbers sort as numbers: "v10", "#3", "12 ms" and "9%" by their value."""
    cleaned = text.lstrip("v#").split(" ")[0].rstrip("%")
    try:
        return (0, float(cleaned), text)
    except ValueError:
        return (1, 0.0, text.lower())


class ModelRowsScreen(TableScreen):
    """A table with one row per model (keyed by name): enter opens its versions, B rolls
    its production alias back."""

    def on_data_table_row_selected(self, event: Any) -> None:
        row = self.selected()
        if row is not None:
            self.wk.run_command(f"versions {row.key}")

    def action_rollback(self) -> None:
        row = self.selected()
        if row is not None:
            from console.screens.alias_actions import start_rollback

            start_rollback(self, row.key, "production")

    # i, u, m: the selected model's monitoring views
    def _open_for_model(self, view: str) -> None:
        if (row := self.selected()) is not None:
            self.wk.run_command(f"{view} {row.key}")

    def action_drift(self) -> None:
        self._open_for_model("drift")

    def action_quality(self) -> None:
        self._open_for_model("quality")

    def action_performance(self) -> None:
        self._open_for_model("performance")

    def action_timeline(self) -> None:
        self._open_for_model("timeline")
