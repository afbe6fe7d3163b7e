"""Rough edges of the console (issue 9, item 10), driven by keys at 80x24 on the console
store: the Compare view names its order and every delta is that subtraction (as `wk
models compare` prints it); `s` marks the sorted column and its direction on the header,
through refreshes and at any column; and esc after a kept `/` filter clears the filter
before it goes back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from console_store import build_console_store
from test_console_pilot import cells, command, reloaded, run, settle, type_text, until

from console.app import make_app
from console.columns import ASCENDING, DESCENDING
from console.screens.base import TableScreen
from console.screens.compare import CompareScreen
from console.screens.overview import OverviewScreen
from console.screens.runs import RunsScreen
from console.widgets.filter_bar import FilterBar
from console.widgets.live_table import LiveTable

SIZE = (80, 24)
MARKS = (ASCENDING, DESCENDING)


@pytest.fixture
def store_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.delenv("WK_DATABASE_URL", raising=False)  # the fixture store is a SQLite file
    root = tmp_path / "store"
    build_console_store(root).close()
    yield root


def screen_text(app: Any) -> str:
    """The screen as a person sees it, one line per row of cells."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def messages(app: Any) -> list[str]:
    return [n.message for n in app._notifications]


# --- Compare: the order named, every delta that subtraction ---------------------------

def metric_deltas(text: str) -> tuple[str, dict[str, tuple[float, float, str]]]:
    """The metrics table on screen: its delta column's header, and per metric the values
    of the first and second version columns and the delta as shown."""
    lines = text.splitlines()
    head = next(line for line in lines if line.split()[:1] == ["metric"])
    words = head.split()  # metric vA vB delta vB - vA
    rows = {}
    for line in lines[lines.index(head) + 1:]:
        parts = line.split()
        if len(parts) != 4:
            break
        rows[parts[0]] = (float(parts[1]), float(parts[2]), parts[3])
    return " ".join(words[3:]), rows


def compare_view(store_root: Path, *keys: str, start: str = "overview",
                 target: str | None = None) -> str:
    """The Compare view's text, opened by `:compare target` or by `keys` on `start`."""
    out: list[str] = []

    async def scenario() -> None:
        app = make_app(store_root, refresh_interval=3600, start=start)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            if target is not None:
                await command(pilot, f"compare {target}")
            for key in keys:
                await pilot.press(key)
            await until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen._loaded_once,
                        "the compare view")
            await pilot.pause()
            out.append(screen_text(app))

    run(scenario())
    return out[0]


def test_compare_names_its_order_and_the_delta_is_the_later_named_minus_the_earlier(
        store_root: Path) -> None:
    """credit-default v2 has the higher roc_auc (0.8291 against 0.8134): from v1 to v2 the
    delta is +0.0157, from v2 to v1 it is -0.0157, each under a header naming it."""
    forward = compare_view(store_root, target="credit-default 1 2")
    assert forward.splitlines()[0].strip().startswith("compare credit-default v1 -> v2, owner risk-ml |")
    header, rows = metric_deltas(forward)
    assert header == "delta v2 - v1"
    assert rows["roc_auc"] == (0.8134, 0.8291, "+0.0157")
    for first, second, delta in rows.values():  # every delta is the second minus the first
        assert float(delta) == pytest.approx(second - first, abs=1e-4)
    assert "signature changes v1 -> v2" in forward

    # d on v2, then 1 (the "2 vs 1" that read either way): the order as asked, named
    backward = compare_view(store_root, "d", "1", "enter", start="version credit-default 2")
    assert backward.splitlines()[0].strip().startswith("compare credit-default v2 -> v1, owner risk-ml |")
    header, rows = metric_deltas(backward)
    assert header == "delta v1 - v2"
    assert rows["roc_auc"] == (0.8291, 0.8134, "-0.0157")
    for first, second, delta in rows.values():
        assert float(delta) == pytest.approx(second - first, abs=1e-4)
    assert "signature changes v2 -> v1" in backward


def test_compare_by_alias_names_the_versions_and_the_sign_is_the_subtraction_not_better(
        store_root: Path) -> None:
    """Aliases resolve to the versions they hold in the header (production is v1 after the
    fixture's rollback, staging v2). store-demand v2 has the lower (better) mae: the delta
    v2 - v1 is negative, the subtraction named, not an improvement score."""
    by_alias = compare_view(store_root, target="credit-default production staging")
    assert by_alias.splitlines()[0].strip().startswith("compare credit-default v1 -> v2, owner risk-ml |")
    assert metric_deltas(by_alias)[1]["roc_auc"][2] == "+0.0157"
    header, rows = metric_deltas(compare_view(store_root, target="store-demand 1 2"))
    assert header == "delta v2 - v1"
    assert rows["mae"] == (3.412, 3.118, "-0.2940")


def test_the_cli_compare_names_the_same_order_with_the_same_sign(wk: Callable[..., Any],
                                                                  store_dir: Path) -> None:
    build_console_store(store_dir).close()
    out = wk("models", "compare", "credit-default", "2", "1").out
    lines = out.splitlines()
    assert "metrics (delta = v1 - v2: above 0, v1 is higher)" in lines
    assert lines[lines.index("metrics (delta = v1 - v2: above 0, v1 is higher)") + 1].split() == [
        "METRIC", "V2", "V1", "DELTA", "V1", "-", "V2"]
    roc = next(line for line in lines if line.startswith("roc_auc")).split()
    assert roc == ["roc_auc", "0.8291", "0.8134", "-0.0157"]
    assert "signature changes v2 -> v1" in lines
    forward = next(line for line in wk("models", "compare", "credit-default", "1", "2").out.splitlines()
                   if line.startswith("roc_auc"))
    assert forward.split()[-1] == "+0.0157"


# --- s: the sorted column and its direction on the header ------------------------------

def header_line(app: Any) -> str:
    """The table's header row on screen (the line under the status header)."""
    table = app.screen.query_one(LiveTable)
    return screen_text(app).splitlines()[table.region.y]


def marks_on_screen(app: Any) -> list[str]:
    """Every sort marker on screen, with the header word it ends."""
    return [word for word in screen_text(app).split() if word[-1:] in MARKS]


def test_s_marks_the_sorted_column_flips_its_direction_and_keeps_it_through_a_refresh(
        store_root: Path) -> None:
    async def scenario() -> None:
        app = make_app(store_root, refresh_interval=3600, start="runs")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, RunsScreen)
            assert marks_on_screen(app) == []  # as read: nothing marked
            await pilot.press("s")
            await settle(pilot)
            assert marks_on_screen(app) == [f"run{ASCENDING}"]
            assert header_line(app).split()[0] == f"run{ASCENDING}"
            ids = [int(c[0].lstrip("#")) for c in cells(screen)]
            assert ids == sorted(ids)
            await pilot.press("s")  # the same column, the other way
            await settle(pilot)
            assert marks_on_screen(app) == [f"run{DESCENDING}"]
            assert [int(c[0].lstrip("#")) for c in cells(screen)] == sorted(ids, reverse=True)
            # a refresh reads the rows again: the order and the marker stay
            screen.reload()
            await reloaded(pilot)
            await settle(pilot)
            assert marks_on_screen(app) == [f"run{DESCENDING}"]
            assert [int(c[0].lstrip("#")) for c in cells(screen)] == sorted(ids, reverse=True)
            await pilot.press("s")  # then the next column, ascending
            await settle(pilot)
            assert marks_on_screen(app) == [f"model{ASCENDING}"]
            models = [c[1] for c in cells(screen)]
            assert models == sorted(models)

    run(scenario())


@pytest.mark.parametrize("view", ["runs", "audit", "models", "versions credit-default"])
def test_the_marker_shows_at_80_columns_on_every_column_even_one_fitting_hides(
        store_root: Path, view: str) -> None:
    """Every column in turn, both ways: the marker ends that column's header on screen,
    also for a column that 80 columns hide or cut until it is sorted by."""

    async def scenario() -> None:
        app = make_app(store_root, refresh_interval=3600, start=view)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, TableScreen)
            table = screen.query_one(LiveTable)
            hidden_before = table.fit_layout.hidden(len(table.specs))
            assert hidden_before, f"{view} hides a column at 80 columns"  # the case this is for
            for column in screen.COLUMNS:
                for mark in MARKS:
                    await pilot.press("s")
                    await settle(pilot)
                    assert marks_on_screen(app) == [column.label.split()[-1] + mark], (
                        column.label, header_line(app))
                    assert column.label + mark in header_line(app)

    run(scenario())


# --- esc after a kept filter: clear it first, then back --------------------------------

def test_esc_after_a_kept_filter_clears_it_and_stays_then_goes_back(store_root: Path) -> None:
    async def scenario() -> None:
        app = make_app(store_root, refresh_interval=3600)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, OverviewScreen)
            await command(pilot, "runs")
            runs = app.screen
            assert isinstance(runs, RunsScreen)
            every = list(runs.query_one(LiveTable).shown_keys)
            await pilot.press("slash")
            await type_text(pilot, "failed")
            await pilot.press("enter")
            await pilot.pause()
            bar = runs.query_one(FilterBar)
            table = runs.query_one(LiveTable)
            assert table.has_focus and bar.value == "failed" and runs.sub_title == f"2 of {len(every)}"
            await pilot.press("escape")  # the first esc: the filter goes, the view stays
            await pilot.pause()
            assert app.screen is runs
            assert bar.value == "" and not bar.display
            assert table.shown_keys == every and runs.sub_title == str(len(every))
            assert messages(app)[-1] == 'filter "failed" cleared'
            assert table.has_focus
            await pilot.press("escape")  # the second: what esc does without a filter
            await pilot.pause()
            assert isinstance(app.screen, OverviewScreen)

    run(scenario())


def test_esc_while_typing_a_filter_clears_it_and_the_next_esc_goes_back(store_root: Path) -> None:
    async def scenario() -> None:
        app = make_app(store_root, refresh_interval=3600)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await command(pilot, "runs")
            runs = app.screen
            await pilot.press("slash")
            await type_text(pilot, "failed")
            await pilot.pause()
            assert runs.sub_title.startswith("2 of ")
            await pilot.press("escape")  # in the filter line: it clears and closes
            await pilot.pause()
            assert app.screen is runs and runs.query_one(FilterBar).value == ""
            assert not runs.sub_title.startswith("2 of ")
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, OverviewScreen)

    run(scenario())


def test_esc_without_a_filter_goes_back_at_once(store_root: Path) -> None:
    async def scenario() -> None:
        app = make_app(store_root, refresh_interval=3600)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await command(pilot, "runs")
            assert isinstance(app.screen, RunsScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, OverviewScreen)
            assert not any("cleared" in m for m in messages(app))

    run(scenario())


def test_sort_key_orders_percentages_and_numbers_by_value() -> None:
    from console.screens.base import _sort_key

    shares = ["10%", "9%", "100%", "-", "0.5%"]
    assert sorted(shares, key=_sort_key) == ["0.5%", "9%", "10%", "100%", "-"]
    assert sorted(["v10", "v9", "v1"], key=_sort_key) == ["v1", "v9", "v10"]
    assert sorted(["12 ms", "9 ms"], key=_sort_key) == ["9 ms", "12 ms"]
