"""The console's Timeline screen on the console store (tests/console_store.py) with the
3am story added for credit-default (tests/timeline_story.py): `t` from the model's
versions opens it on the newest entry, Enter on the drift report opens that report,
Enter on an alert step shows the alert's history, `f` keeps only some kinds; a snapshot
at 80x24."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import console_store
import pytest
from console_store import SNAPSHOT_NOW
from test_console_pilot import until
from test_console_snapshots import console, settle
from timeline_story import Story, add_story

from console.screens.alerts import AlertsScreen
from console.screens.drift import DriftScreen
from console.screens.timeline import TimelineScreen
from console.widgets.ask_modal import AskModal
from store.handle import Store

utc_time_zone = pytest.fixture(scope="module", autouse=True)(console_store.utc_time_zone)
#: the story starts six hours before the snapshot clock
DRIFT_AT = SNAPSHOT_NOW - timedelta(hours=6)


@pytest.fixture(scope="module")
def story_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Story]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("WK_DATABASE_URL", raising=False)
        store = console_store.build_console_store(tmp_path_factory.mktemp("timeline") / "store")
    story = add_story(store, "credit-default", DRIFT_AT)
    yield store, story
    store.close()


def _row_of(screen: TimelineScreen, kind: str, **ids: Any) -> int:
    rows = screen.table.shown_rows
    return next(i for i, r in enumerate(rows) if r.raw["kind"] == kind
                and all(r.raw["ids"].get(k) == v for k, v in ids.items()))


def test_t_opens_the_timeline_and_enter_opens_what_an_entry_is_about(
        story_console: tuple[Store, Story]) -> None:
    store, story = story_console

    async def run() -> None:
        app = console(store, "versions credit-default")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("t")
            await settle(pilot, lambda s: isinstance(s, TimelineScreen) and s._loaded_once)
            screen = app.screen
            assert isinstance(screen, TimelineScreen) and screen.model == "credit-default"
            kinds = [r.raw["kind"] for r in screen.table.shown_rows]
            # the last 7 days: the daily drift and performance reports (the newest were written
            # after the clock), the slow spell's spike, the story
            assert {"drift", "performance", "spike", "alert", "alias"} <= set(kinds)
            story_rows = [(r.raw["kind"], r.raw["title"]) for r in screen.table.shown_rows
                          if r.raw["ids"].get("alert") == story.alert_id
                          or r.raw["ids"].get("alias_change") == story.rollback_id]
            assert [k for k, _ in story_rows] == ["alert"] * 4 + ["alias", "alert", "alert"]
            assert screen.table.cursor_row == len(kinds) - 1  # on the newest entry
            # enter on the story's drift report: the Drift screen with that report
            screen.table.move_cursor(row=_row_of(screen, "drift", report=story.report_id))
            await pilot.press("enter")
            await settle(pilot, lambda s: isinstance(s, DriftScreen) and s._loaded_once)
            assert isinstance(app.screen, DriftScreen) and app.screen.report_id == story.report_id
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is screen, "back on the timeline")
            # enter on the acknowledgement: the Alerts screen, on that alert
            screen.table.move_cursor(row=_row_of(screen, "alert", alert=story.alert_id, event=4))
            await pilot.press("enter")
            await settle(pilot, lambda s: isinstance(s, AlertsScreen) and s._loaded_once)
            assert app.screen.selected().key == str(story.alert_id)  # type: ignore[attr-defined]
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is screen, "back on the timeline")
            # f: only the alerts
            await pilot.press("f")
            await until(pilot, lambda: isinstance(app.screen, AskModal), "the kinds question")
            await pilot.press(*"alert", "enter")
            await until(pilot, lambda: app.screen is screen and screen.reads_shown >= 2
                        and {r.raw["kind"] for r in screen.table.shown_rows} == {"alert"},
                        "only the alerts")
            assert screen.title_text().endswith("kind=alert")

    asyncio.run(run())


def test_bad_arguments_are_named() -> None:
    from console.navigation import open_view

    with pytest.raises(ValueError, match="usage: :timeline MODEL"):
        open_view("timeline", [])
    with pytest.raises(ValueError, match="unknown timeline kind 'alerts'"):
        open_view("timeline", ["credit-default", "kind=alerts"])
    with pytest.raises(ValueError, match="since= '7x' is not a length of time"):
        open_view("timeline", ["credit-default", "since=7x"])


def test_snapshot_80x24(snap_compare: Any, story_console: tuple[Store, Story]) -> None:
    store, _ = story_console

    async def run_before(pilot: Any) -> None:
        await settle(pilot)

    app = console(store, "timeline credit-default since=1d")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_snapshot_alert_detail_80x24(snap_compare: Any, story_console: tuple[Store, Story]) -> None:
    store, story = story_console

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        screen.table.move_cursor(row=_row_of(screen, "alert", alert=story.alert_id, event=4))
        await pilot.press("enter")  # the Alerts screen, on that alert
        await settle(pilot, lambda s: isinstance(s, AlertsScreen) and s._loaded_once)
        await pilot.pause()

    app = console(store, "timeline credit-default since=1d kind=alert,alias")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_help_lists_the_key_and_the_view() -> None:
    from console.actions import SCREEN_ACTIONS
    from console.navigation import view_named

    spec = next(a for a in SCREEN_ACTIONS if a.id == "timeline")
    assert spec.key == "t" and {"overview", "models", "versions", "version", "drift"} <= set(spec.views)
    assert [a.id for a in SCREEN_ACTIONS if a.key == "t"] == ["timeline"]
    assert view_named("tl") is view_named("timeline") is not None

