"""Snapshot tests of the console (pytest-textual-snapshot): every screen at 80x24 and
120x40, read-only mode, each confirmation, the command bar and the filter bar.

The store is deterministic (tests/console_store.py), the clock is frozen, the header's
user and store path are fixed, and the time zone is UTC, so a snapshot only changes when
the console's output does. `snap_compare` does not wait for workers: `run_before` waits
until the screen has shown its data. Review the report (snapshot_report.html) before
running with --snapshot-update.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from console_store import ACTOR, DETAIL_PREDICTION, SNAPSHOT_NOW, build_console_store
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from console.app import WatchkeeperApp, make_app
from console.screens.base import WkScreen
from console.screens.help import HelpScreen
from console.widgets.confirm_modal import ConfirmModal
from store.handle import Store
from store.location import StoreLocation

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
#: The store path the header shows, whatever tmp folder the store is built in.
SHOWN_STORE = Path("/var/lib/watchkeeper")

SCREENS = {
    "overview": "overview",
    "models": "models",
    "versions": "versions credit-default",
    "version": "version credit-default 2",
    "lineage": "lineage credit-default 1",
    "compare": "compare credit-default 1 2",
    "datasets": "datasets",
    "dataset": "dataset credit-applications",
    "runs": "runs",
    "run": "run 6",
    "audit": "audit",
    "deployments": "deployments",
    "predictions": "predictions",
    "predictions-filtered": "predictions model=credit-default route=challenger",
    "prediction": f"prediction {DETAIL_PREDICTION}",
    "help": "help",
}

RunBefore = Callable[[Pilot[Any]], Awaitable[None]]


@pytest.fixture(scope="module", autouse=True)
def utc_time_zone() -> Iterator[None]:
    """Times in tables are local time: render them in UTC, then restore the zone."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def _build(root: Path) -> Store:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("WK_DATABASE_URL", raising=False)  # the fixture store is a SQLite file
        return build_console_store(root)


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One store for the tests that only look (no key changes anything)."""
    store = _build(tmp_path_factory.mktemp("console") / "store")
    yield store
    store.close()


@pytest.fixture
def own_store(tmp_path: Path) -> Iterator[Store]:
    """A store of the test's own, for the confirmations (a slip would change it)."""
    store = _build(tmp_path / "store")
    yield store
    store.close()


def console(store: Store, start: str, *, read_only: bool = False) -> WatchkeeperApp:
    """The app as `wk ui` makes it, with the clock frozen and the header's user and store
    path fixed (they would otherwise name this machine's account and tmp folder)."""
    shown = Store(
        location=StoreLocation(root=SHOWN_STORE, database_url=store.location.database_url,
                               is_sqlite_file=True),
        db=store.db,
        _artifacts=store.artifacts,
    )
    app = make_app(shown, read_only=read_only, clock=lambda: SNAPSHOT_NOW,
                   refresh_interval=3600, start=start)
    app.user = ACTOR
    return app


async def settle(pilot: Pilot[Any], until: Callable[[Any], bool] | None = None,
                 seconds: float = 20.0) -> None:
    """Wait for the workers and the screen: by default until the top screen is a data
    screen that has shown its first load (or the help screen)."""

    def ready(screen: Any) -> bool:
        if until is not None:
            return until(screen)
        return isinstance(screen, HelpScreen) or (
            isinstance(screen, WkScreen) and screen._loaded_once)

    deadline = time.monotonic() + seconds  # real time: a loaded machine runs workers late
    while True:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if ready(pilot.app.screen):
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"the console did not settle in {seconds:.0f} s; "
                                 f"top screen {pilot.app.screen!r}")
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False  # a blinking cursor would make the snapshot flicker
    await pilot.pause()
    await repaint_tables(pilot)


async def repaint_tables(pilot: Pilot[Any]) -> None:
    """Wait until every table has settled its column widths and repainted (LiveTable
    repaints itself after DataTable's idle pass; see LiveTable._repaint_when_sized)."""
    tables = list(pilot.app.screen.query(DataTable))
    for _ in range(30):
        if not any(t._require_update_dimensions or t._new_rows for t in tables):
            break
        await pilot.pause()
    await pilot.pause()
    await pilot.pause()


async def loaded(pilot: Pilot[Any]) -> None:
    await settle(pilot)


def after_keys(*keys: str, until: Callable[[Any], bool] | None = None) -> RunBefore:
    """Wait for the first load, press `keys`, and wait again (for `until` if given)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for widget in pilot.app.screen.query(Input):
            widget.cursor_blink = False
        await pilot.press(*keys)
        await settle(pilot, until)

    return run_before


def modal(screen: Any) -> bool:
    return isinstance(screen, ConfirmModal)


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
@pytest.mark.parametrize("view", SCREENS, ids=list(SCREENS))
def test_screen(snap_compare: Any, shared_store: Store, view: str, size: str) -> None:
    app = console(shared_store, SCREENS[view])
    assert snap_compare(app, terminal_size=SIZES[size], run_before=loaded)


@pytest.mark.parametrize("view", ["overview", "versions", "deployments"])
def test_read_only(snap_compare: Any, shared_store: Store, view: str) -> None:
    """The footer leaves out promote, rollback and archive."""
    app = console(shared_store, SCREENS[view], read_only=True)
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=loaded)


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_promote_confirmation(snap_compare: Any, own_store: Store, size: str) -> None:
    """P on credit-default v2: production v1 -> v2, with a reason typed."""
    app = console(own_store, "version credit-default 2")
    run_before = after_keys("P", *"v2 beat v1 on the holdout", until=modal)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_archive_confirmation(snap_compare: Any, own_store: Store, size: str) -> None:
    """A on store-demand v1 (active, no alias on it)."""
    app = console(own_store, "version store-demand 1")
    assert snap_compare(app, terminal_size=SIZES[size], run_before=after_keys("A", until=modal))


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_rollback_confirmation(snap_compare: Any, own_store: Store, size: str) -> None:
    """B on store-demand v2 (production): the preview worker finds v1, then the modal."""
    app = console(own_store, "version store-demand 2")
    assert snap_compare(app, terminal_size=SIZES[size], run_before=after_keys("B", until=modal))


#: The deployments view's confirmations, on its first row (credit-default, a canary of v2).
DEPLOYMENT_KEYS = {
    "promote": ("P", *"v2 held 10% for a day"),
    "rollback": ("B",),
    "share": ("S", *"25%", "enter", *"widen the canary"),
}


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
@pytest.mark.parametrize("action", DEPLOYMENT_KEYS, ids=list(DEPLOYMENT_KEYS))
def test_deployment_confirmation(snap_compare: Any, own_store: Store, action: str, size: str) -> None:
    """P: production v1 -> v2 (challenger promoted); B: the challenger out (from the store's
    preview); S: the share typed, the change shown as typed, and a reason."""
    app = console(own_store, "deployments")
    run_before = after_keys(*DEPLOYMENT_KEYS[action], until=modal)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


def test_command_bar(snap_compare: Any, shared_store: Store) -> None:
    """`:` then "versions cr": the completion offers credit-default."""
    app = console(shared_store, "overview")
    run_before = after_keys(":", *"versions cr",
                            until=lambda s: isinstance(s, WkScreen) and s.focused is not None
                            and s.focused.id == "command-bar")
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=run_before)


def test_filter_bar(snap_compare: Any, shared_store: Store) -> None:
    """`/` on the runs, "failed", enter: the two failed runs stay, the bar stays open."""
    app = console(shared_store, "runs")
    run_before = after_keys("slash", *"failed", "enter",
                            until=lambda s: isinstance(s, WkScreen) and s.sub_title == "2 of 7")
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=run_before)
