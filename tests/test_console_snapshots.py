"""Snapshot tests of the console (pytest-textual-snapshot): every screen at 80x24 and
120x40, read-only mode, each confirmation, the command bar and the filter bar.

The store is deterministic (tests/console_store.py), the clock is frozen, the header's
user and store path are fixed, and the time zone is UTC, so a snapshot only changes when
the console's output does. `snap_compare` does not wait for workers: `run_before` waits
until the screen has shown its data. Review the report (snapshot_report.html) before
running with --snapshot-update.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import console_store
import pytest
from console_store import (
    ACTOR,
    DETAIL_PREDICTION,
    FAILED_GATE_REASON,
    SNAPSHOT_NOW,
    build_console_store,
)
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from console.app import WatchkeeperApp, make_app
from console.screens.base import WkScreen
from console.screens.help import HelpScreen
from console.widgets.confirm_modal import ConfirmModal
from console.widgets.live_table import LiveTable
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
    # monitoring: the stored reports of tests/monitoring_reports.py
    "drift": "drift credit-default",
    "quality": "quality credit-default",
    "performance": "performance credit-default",
}

RunBefore = Callable[[Pilot[Any]], Awaitable[None]]


utc_time_zone = pytest.fixture(scope="module", autouse=True)(console_store.utc_time_zone)


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


#: The drift view's states that are not a verdict, and a categorical feature selected.
DRIFT_STATES = {
    "insufficient": ("drift store-demand", ()),
    "not-logged": ("drift churn-risk", ()),
    "categorical": ("drift credit-default", ("j",)),
}


@pytest.mark.parametrize("state", DRIFT_STATES, ids=list(DRIFT_STATES))
def test_drift_states_80x24(snap_compare: Any, shared_store: Store, state: str) -> None:
    """Too few rows and inputs not logged, said as states; purpose selected: its reason,
    the new category and its histogram by category."""
    view, keys = DRIFT_STATES[state]
    app = console(shared_store, view)
    run_before = after_keys(*keys) if keys else loaded
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=run_before)


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
    "share": ("S", "shift+tab", *"25%", "tab", *"widen the canary"),
}


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
@pytest.mark.parametrize("action", DEPLOYMENT_KEYS, ids=list(DEPLOYMENT_KEYS))
def test_deployment_confirmation(snap_compare: Any, own_store: Store, action: str, size: str) -> None:
    """P: production v1 -> v2 (challenger promoted); B: the challenger out (from the store's
    preview); S: the share typed over the current one (shift+tab up from the reason, where
    every confirmation starts), the change shown as typed, and a reason."""
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


def test_sorted_80x24(snap_compare: Any, shared_store: Store) -> None:
    """`s` five times on the runs: sorted by kind, ascending, a column 80 columns hide until
    it is sorted by; its header ends with the marker."""
    app = console(shared_store, "runs")
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=after_keys(*"sssss"))


def test_filter_bar(snap_compare: Any, shared_store: Store) -> None:
    """`/` on the runs, "failed", enter: the two failed runs stay, the bar stays open."""
    app = console(shared_store, "runs")
    run_before = after_keys("slash", *"failed", "enter",
                            until=lambda s: isinstance(s, WkScreen) and s.sub_title == "2 of 7")
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=run_before)


# --- 80x24 shows what matters: read off the screen as text -----------------------------

def screen_text(app: WatchkeeperApp) -> str:
    """The screen as a person sees it: one string per line, joined by newlines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def words(text: str) -> str:
    """Text with every run of spaces and line breaks made one space (the detail line wraps)."""
    return " ".join(text.split())


async def select_row(pilot: Pilot[Any], key: str) -> None:
    """Move the table's cursor to the row `key` with j, as a person would."""
    table = pilot.app.screen.query_one(LiveTable)
    for _ in range(table.shown_keys.index(key)):
        await pilot.press("j")
    assert table.selected_key() == key
    await settle(pilot)


def run_80x24(store: Store, start: str, scenario: Callable[[Pilot[Any]], Awaitable[None]]) -> None:
    async def main() -> None:
        app = console(store, start)
        async with app.run_test(size=SIZES["80x24"]) as pilot:
            await settle(pilot)
            await scenario(pilot)

    asyncio.run(main())


def test_80x24_a_failed_runs_gate_reason_is_readable(shared_store: Store) -> None:
    """The reason column is cut with an ellipsis; the detail line gives it in full."""

    async def scenario(pilot: Pilot[Any]) -> None:
        await select_row(pilot, "6")
        text = screen_text(pilot.app)
        row = next(line for line in text.splitlines() if line.lstrip().startswith("#6 "))
        assert "failed_gate" in row and "roc_auc 0.7012 is" in row and "…" in row  # cut, with an ellipsis
        assert FAILED_GATE_REASON in words(text)

    run_80x24(shared_store, "runs", scenario)


def hold_two_aliases(store: Store) -> None:
    """credit-default v1 holds production (the fixture) and staging (moved here from v2)."""
    from registry.aliases import promote

    promote(store, "credit-default", 1, "staging", reason="v1 is the candidate again", actor=ACTOR)


def version_lines(text: str) -> dict[str, str]:
    """The Versions table's lines on screen, by their first word (v1, v2...)."""
    return {line.split()[0]: line for line in text.splitlines()
            if line.split() and line.split()[0][:1] == "v" and line.split()[0][1:].isdigit()}


def test_80x24_both_aliases_of_a_version_holding_two(own_store: Store) -> None:
    """Promoted while the view is open (the refresh once kept the old, narrower cell:
    one alias, no ellipsis) and on a fresh view: both aliases in the row."""

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = pilot.app.screen
        hold_two_aliases(own_store)
        started = screen.reads_started + 1
        screen.reload()
        await settle(pilot, until=lambda s: s.reads_shown >= started)
        rows = version_lines(screen_text(pilot.app))
        assert "production staging" in rows["v1"] and "staging" not in rows["v2"]

    run_80x24(own_store, "versions credit-default", scenario)

    async def fresh(pilot: Pilot[Any]) -> None:
        assert "production staging" in version_lines(screen_text(pilot.app))["v1"]
        assert "? help" in screen_text(pilot.app).splitlines()[-1]  # the footer keeps help

    run_80x24(own_store, "versions credit-default", fresh)


def test_80x24_an_audit_events_reason_and_change_are_readable(shared_store: Store) -> None:
    reason = "approval rate moved after release; back to v1"

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = pilot.app.screen
        event = next(r for r in screen.rows if r.raw["action"] == "alias.rollback")
        await select_row(pilot, event.key)
        lines = screen_text(pilot.app).splitlines()
        # the selected row stays in view above the detail line, which grew to three lines
        assert any("alias.rollback" in line and "approval rate" in line for line in lines[1:-4])
        text = words("\n".join(lines))
        assert reason in text
        assert "change version 2 -> 1" in text  # the change, hidden at 80, in the detail

    run_80x24(shared_store, "audit", scenario)


def test_80x24_prediction_ids_on_screen_differ(shared_store: Store) -> None:
    """UUIDv7 ids share their time prefix: the id column keeps the tail."""

    async def scenario(pilot: Pilot[Any]) -> None:
        table = pilot.app.screen.query_one(LiveTable)
        first, second = table.shown_keys[:2]
        assert first[:8] == second[:8]  # the same time prefix
        lines = screen_text(pilot.app).splitlines()
        shown = [line.split()[-1] for line in lines[2:4]]
        assert shown[0] != shown[1]
        assert shown[0].startswith("…") and first.endswith(shown[0][1:])
        assert second.endswith(shown[1][1:])
        assert first in words("\n".join(lines))  # the selected row's full id, in the detail

    run_80x24(shared_store, "predictions", scenario)


def test_80x24_w_toggles_every_column_at_full_width(shared_store: Store) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        table = pilot.app.screen.query_one(LiveTable)
        assert len(table.fit_layout.shown) < len(table.specs)
        await pilot.press("w")
        await settle(pilot)
        assert table.fit_layout.wide and len(table.fit_layout.shown) == len(table.specs)
        assert "scroll sideways" in words(screen_text(pilot.app))
        await pilot.press("w")
        await settle(pilot)
        assert not table.fit_layout.wide and len(table.fit_layout.shown) < len(table.specs)

    run_80x24(shared_store, "audit", scenario)


def test_80x24_overview_shows_requests_rows_and_the_last_hours(shared_store: Store) -> None:
    """store-demand's planner sends one request of 20 rows a minute beside 60 one-row
    requests: req/min counts requests (61), rows/min rows (80, in the detail line at 80
    columns), and the panel draws the last 3 hours as sparklines."""

    async def scenario(pilot: Pilot[Any]) -> None:
        await select_row(pilot, "store-demand")
        lines = screen_text(pilot.app).splitlines()
        row = next(line for line in lines if line.startswith(" store-demand"))
        assert row.split()[:4] == ["store-demand", "v2", "-", "61"]  # no open alert
        text = words("\n".join(lines))
        assert "rows/min 80" in text
        panel = {line.split()[0]: line for line in lines
                 if line.split() and line.split()[0] in ("req/min", "p95", "err")}
        assert "store-demand: last 3 h" in text
        assert panel["req/min"].rstrip().endswith("61 (80 rows)")
        assert panel["p95"].rstrip().endswith(" 14") and panel["err"].rstrip().endswith("0.0%")
        spark = panel["req/min"].split()[1]
        assert len(spark) == 45 and set(spark) <= set("▁▂▃▄▅▆▇█") and spark[-1] == "█"
        assert all(len(line) <= 80 for line in lines)
        # the columns that matter still show at 80 beside the panel (under the scheduler's line)
        header = next(line for line in lines if line.split()[:1] == ["model"])
        assert header.split()[:8] == ["model", "prod", "alerts", "req/min", "p95", "ms", "err", "%"]

    run_80x24(shared_store, "overview", scenario)


def test_80x24_deployments_plot_champion_against_challenger(shared_store: Store) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        lines = screen_text(pilot.app).splitlines()
        text = words("\n".join(lines))
        assert "credit-default: champion v1 against challenger v2, last 3 h (4 min a point)" in text
        heading = next(line for line in lines if "champion v1" in line and "challenger v2" in line
                       and "against" not in line)
        assert heading.index("champion v1") < heading.index("challenger v2")
        req = next(line for line in lines if line.split()[:1] == ["req/min"])
        champion, challenger = req.split()[1:3], req.split()[3:5]
        assert champion[1] == "45" and challenger[1] == "5.2"
        # one scale: the challenger's 5 a minute sits at the bottom beside the champion's 45
        assert set(challenger[0]) == {"▁"} and champion[0][-1] == "█"
        err = next(line for line in lines if line.split()[:1] == ["err"])
        assert err.rstrip().endswith("4.8%")  # the refused request, in the challenger's last point
        await select_row(pilot, "store-demand/champion/v2")
        assert "61 (80 rows)" in screen_text(pilot.app)

    run_80x24(shared_store, "deployments", scenario)


#: What the tests above read, kept as pictures: the row with the cut value selected.
DETAIL_SNAPSHOTS = {"runs-failed-gate": ("runs", "6"), "audit-rollback-reason": ("audit", "alias.rollback"),
                    "overview-requests-and-trends": ("overview", "store-demand")}


@pytest.mark.parametrize("case", DETAIL_SNAPSHOTS, ids=list(DETAIL_SNAPSHOTS))
def test_detail_line_80x24(snap_compare: Any, shared_store: Store, case: str) -> None:
    start, pick = DETAIL_SNAPSHOTS[case]

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        rows = pilot.app.screen.rows
        key = next(r.key for r in rows if r.key == pick or (r.raw or {}).get("action") == pick)
        await select_row(pilot, key)

    assert snap_compare(console(shared_store, start), terminal_size=SIZES["80x24"], run_before=run_before)


def test_two_aliases_80x24(snap_compare: Any, own_store: Store) -> None:
    hold_two_aliases(own_store)
    app = console(own_store, "versions credit-default")
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=loaded)


def test_a_resize_lays_the_table_out_again(shared_store: Store) -> None:
    """120x40 -> 80x24 (a tmux pane split): fewer columns, the cut reason in the detail line."""

    async def main() -> None:
        app = console(shared_store, "runs")
        async with app.run_test(size=SIZES["120x40"]) as pilot:
            await settle(pilot)
            table = app.screen.query_one(LiveTable)
            wide_columns = len(table.fit_layout.shown)
            await select_row(pilot, "6")
            await pilot.resize_terminal(*SIZES["80x24"])
            await settle(pilot)
            assert len(table.fit_layout.shown) < wide_columns
            lines = screen_text(app).splitlines()
            row = next(line for line in lines if line.lstrip().startswith("#6 "))
            assert "…" in row  # the reason, cut to the narrower column
            assert FAILED_GATE_REASON in words("\n".join(lines))

    asyncio.run(main())
