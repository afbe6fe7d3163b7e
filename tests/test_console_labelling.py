"""The console's Labelling view: snapshots at 80x24 and 120x40 on the deterministic console
store (tests/console_store.py) with a seeded queue, and the view driven like a person: enter
asks for a label (the ask modal), an invalid one is asked again with the classes, a valid
one is stored through the feedback path; x skips; read-only refuses."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from console_store import SNAPSHOT_NOW
from logged_store import START, build_logged_store
from test_console_pilot import cells, settle, type_text, until
from test_console_snapshots import SIZES, _build, console, loaded, utc_time_zone  # noqa: F401

from console.app import make_app
from console.screens.labelling import LabellingScreen
from console.widgets.ask_modal import AskModal
from registry.audit_log import audit_log
from serving.log import labelling
from serving.log.reading import show_prediction
from store.handle import Store


@pytest.fixture(scope="module")
def queued_console_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The console store with credit-default's last day queued (3 of its 24-hour window)."""
    store = _build(tmp_path_factory.mktemp("labelling") / "store")
    added = labelling.fill_queue(store, "credit-default", SNAPSHOT_NOW - timedelta(days=1), SNAPSHOT_NOW,
                                 per_window=6, seed=0, actor="oncall")
    assert added == 6
    yield store
    store.close()


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_labelling_screen(snap_compare: Any, queued_console_store: Store, size: str) -> None:
    app = console(queued_console_store, "labelling credit-default")
    assert snap_compare(app, terminal_size=SIZES[size], run_before=loaded)


@pytest.fixture
def queued(tmp_path: Path) -> Iterator[tuple[Store, list[dict[str, Any]]]]:
    store, _ = build_logged_store(tmp_path / "store", rows=120, days=1)
    labelling.fill_queue(store, "tiny", START, START + timedelta(days=1), per_window=3, seed=0)
    yield store, labelling.next_tasks(store, "tiny")
    store.close()


def test_label_one_task_from_the_console(queued: tuple[Store, list[dict[str, Any]]]) -> None:
    store, tasks = queued
    first = tasks[0]["prediction_id"]

    async def scenario() -> None:
        app = make_app(store, refresh_interval=3600, start="labelling tiny")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, LabellingScreen)
            assert [row[-1] for row in cells(screen)] == [t["prediction_id"] for t in tasks]
            await pilot.press("enter")  # the cursor is on the first task
            await until(pilot, lambda: isinstance(app.screen, AskModal), "the label question")
            await type_text(pilot, "blue")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, AskModal)
                        and "not one of the model's classes: 0, 1" in str(app.screen.question),
                        "the question again, with the classes")
            assert show_prediction(store, first)["label"] is None  # nothing was sent
            await type_text(pilot, "1")
            await pilot.press("enter")
            await until(pilot, lambda: app.screen is screen and len(cells(screen)) == len(tasks) - 1,
                        "the labelled task to leave the table")
            assert first not in [row[-1] for row in cells(screen)]

    asyncio.run(scenario())
    assert show_prediction(store, first)["label"] == 1
    events = audit_log(store, action="label.set")
    assert [e["target"] for e in events] == [f"model/tiny/prediction/{first}"]


def test_skip_from_the_console_and_read_only_refuses(queued: tuple[Store, list[dict[str, Any]]]) -> None:
    store, tasks = queued

    async def scenario(read_only: bool) -> list[tuple[str, ...]]:
        app = make_app(store, refresh_interval=3600, start="labelling tiny", read_only=read_only)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            screen = app.screen
            before = len(cells(screen))
            await pilot.press("x")
            if read_only:
                await pilot.pause()
                assert not isinstance(app.screen, AskModal)
                return cells(screen)
            await until(pilot, lambda: len(cells(screen)) == before - 1, "the skipped task to leave")
            return cells(screen)

    assert len(asyncio.run(scenario(read_only=True))) == len(tasks)
    assert audit_log(store, action="label.skip") == []
    left = asyncio.run(scenario(read_only=False))
    assert tasks[0]["prediction_id"] not in [row[-1] for row in left]
    assert [e["after"] for e in audit_log(store, action="label.skip")] == [{"status": "skipped"}]


def test_f_queues_a_sample_of_the_last_days(tmp_path: Path) -> None:
    store, _ = build_logged_store(tmp_path / "store", rows=120, days=1)
    try:
        async def scenario() -> int:
            app = make_app(store, refresh_interval=3600, start="labelling tiny",
                           clock=lambda: START + timedelta(days=1))
            async with app.run_test(size=(80, 24)) as pilot:
                await settle(pilot)
                screen = app.screen
                assert cells(screen) == []
                await pilot.press("F")
                await until(pilot, lambda: len(cells(screen)) > 0, "the queued sample")
                return len(cells(screen))

        shown = asyncio.run(scenario())
        assert shown == labelling.DEFAULT_PER_WINDOW  # one day of rows: one window's sample
        assert [e["after"]["added"] for e in audit_log(store, action="label.queue")] == [shown]
    finally:
        store.close()
