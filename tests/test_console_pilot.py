"""The console driven like a person: keys in, state, rows and audit events checked."""

from __future__ import annotations

import asyncio
import getpass
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from console.app import make_app
from console.screens.audit import AuditScreen
from console.screens.lineage import LineageScreen, LineageTree
from console.screens.models import ModelsScreen
from console.screens.overview import OverviewScreen
from console.screens.version import VersionScreen
from console.screens.versions import VersionsScreen
from console.widgets.confirm_modal import ConfirmModal
from console.widgets.live_table import LiveTable
from registry.aliases import promote
from registry.audit_log import audit_log
from registry.models import show_model
from store.handle import open_store


async def until(pilot: Any, done: Any, what: str, seconds: float = 20.0) -> None:
    """Let the app run until `done()` holds (a real-time bound, not a count of repaints:
    worker threads are scheduled by the OS, and a busy CI machine runs them late)."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {seconds:.0f} s for {what}")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.01)


async def reloaded(pilot: Any) -> None:
    """After screen.reload(): wait until the screen shows that read (or a newer one)."""
    screen = pilot.app.screen
    started = screen.reads_started
    await until(pilot, lambda: screen.reads_shown >= started, f"{screen} to show read {started}")


async def settle(pilot: Any) -> None:
    """Wait until the current screen has shown its data (workers, then a repaint)."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()  # a screen pushed by the last key is on top from here on
    await until(pilot, lambda: getattr(pilot.app.screen, "_loaded_once", True),
                "the top screen's first load")


async def drain(pilot: Any, rounds: int) -> None:
    """Let workers finish and the screen repaint `rounds` times (for a notification or a
    screen that a worker opens, which settle() does not wait for)."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def type_text(pilot: Any, text: str) -> None:
    for char in text:
        await pilot.press("space" if char == " " else char)


async def command(pilot: Any, text: str) -> None:
    await pilot.press("colon")
    await type_text(pilot, text)
    await pilot.press("enter")
    await settle(pilot)


def cells(screen: Any) -> list[tuple[str, ...]]:
    """The full values of the rows on screen, every column (the table may cut or hide
    some at this width: see screen_text for what is on screen)."""
    return [row.cells for row in screen.query_one(LiveTable).shown_rows]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture
def two_versions(wk, trained: Path, store_dir: Path) -> Path:
    assert wk("train", trained, "--param", "C=0.5").code == 0
    assert wk("models", "promote", "tiny", "1", "production", "--reason", "first").code == 0
    return store_dir


def test_overview_then_drill_to_lineage_by_keys(two_versions: Path) -> None:
    async def scenario() -> None:
        app = make_app(two_versions, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, OverviewScreen)
            assert cells(app.screen)[0][:2] == ("tiny", "v1")
            await command(pilot, "models")
            assert isinstance(app.screen, ModelsScreen)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, VersionsScreen) and app.screen.model == "tiny"
            assert [row[0] for row in cells(app.screen)] == ["v2", "v1"]
            await pilot.press("j", "enter")  # the second row: v1
            await settle(pilot)
            assert isinstance(app.screen, VersionScreen) and app.screen.data["version"]["version"] == 1
            await pilot.press("l")
            await settle(pilot)
            assert isinstance(app.screen, LineageScreen)
            labels = [str(node.label) for node in _walk(app.screen.query_one(LineageTree).root)]
            assert any(label.startswith("dataset tiny-data") for label in labels)
            assert any(label.startswith("run #1 succeeded") for label in labels)
            assert "alias production" in labels
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, VersionScreen)

    run(scenario())


def _walk(node: Any) -> list[Any]:
    out = [node]
    for child in node.children:
        out += _walk(child)
    return out


def test_promote_with_reason_writes_the_audit_row(two_versions: Path) -> None:
    async def scenario() -> None:
        app = make_app(two_versions, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await command(pilot, "versions tiny")
            await pilot.press("P")  # cursor on v2
            await pilot.pause()
            modal = app.screen
            assert isinstance(modal, ConfirmModal)
            assert "tiny production: v1 -> v2" in str(modal.query_one("#change").render())
            await pilot.press("enter")  # no reason yet: refused in the modal
            await pilot.pause()
            assert app.screen is modal and "a reason is needed" in str(modal.query_one("#error").render())
            await type_text(pilot, "canary clean")
            await confirm(pilot)
            await command(pilot, "audit")
            assert isinstance(app.screen, AuditScreen)
            top = cells(app.screen)[0]
            assert top[1:5] == (getpass.getuser(), "alias.promote", "tiny/production", "canary clean")

    run(scenario())
    store = open_store(two_versions)
    assert show_model(store, "tiny")["aliases"] == {"production": 2}
    event = audit_log(store, action="alias.promote", limit=1)[0]
    assert event["reason"] == "canary clean" and event["actor"] == getpass.getuser()


def test_rollback_from_the_console(two_versions: Path) -> None:
    store = open_store(two_versions)
    promote(store, "tiny", 2, "production", reason="go")

    async def scenario() -> None:
        app = make_app(two_versions, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("B")
            await modal_opened(pilot)
            assert "tiny production: v2 -> v1" in str(app.screen.query_one("#change").render())
            await type_text(pilot, "bad")
            await confirm(pilot)

    run(scenario())
    assert show_model(store, "tiny")["aliases"] == {"production": 1}


def test_cancelled_confirmation_changes_nothing(two_versions: Path) -> None:
    store = open_store(two_versions)
    before = audit_log(store, limit=1000)

    async def scenario() -> None:
        app = make_app(two_versions, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await command(pilot, "versions tiny")
            await pilot.press("A")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmModal)
            await type_text(pilot, "nope")
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, VersionsScreen)

    run(scenario())
    assert audit_log(store, limit=1000) == before


def test_read_only_offers_no_action_and_says_why(two_versions: Path) -> None:
    store = open_store(two_versions)
    before = audit_log(store, limit=1000)

    async def scenario() -> None:
        app = make_app(two_versions, read_only=True, refresh_interval=3600)
        async with app.run_test(size=(120, 40)) as pilot:
            await command(pilot, "versions tiny")
            shown = {b.binding.action for b in app.screen.active_bindings.values() if b.binding.show}
            assert shown.isdisjoint({"promote", "rollback", "archive"})
            assert "filter" in {b.binding.action for b in app.screen.active_bindings.values()}
            await pilot.press("P")
            await pilot.pause()
            assert isinstance(app.screen, VersionsScreen)  # no confirmation opened
            messages = [n.message for n in app._notifications]
            assert any("read-only" in m and "promote is unavailable" in m for m in messages)
            assert app.role == "admin, read-only"  # the real role (the store's creator), and the mode

    run(scenario())
    assert audit_log(store, limit=1000) == before


def test_filter_and_cursor_survive_a_refresh(wk, trained: Path, store_dir: Path) -> None:
    for c in ("0.5", "0.6", "0.7"):
        assert wk("train", trained, "--param", f"C={c}").code == 0

    async def scenario() -> None:
        app = make_app(store_dir, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await command(pilot, "versions tiny")
            table = app.screen.query_one(LiveTable)
            await pilot.press("j", "j")
            assert table.selected_key() == "2"
            # another process registers v5: a new row arrives, the cursor stays on v2
            assert wk("train", trained, "--param", "C=0.8").code == 0
            app.screen.reload()
            await reloaded(pilot)
            assert table.shown_keys[0] == "5" and table.selected_key() == "2"
            await pilot.press("slash")
            await type_text(pilot, "v3")
            await pilot.press("enter")
            await pilot.pause()
            assert table.shown_keys == ["3"]
            app.screen.reload()
            await reloaded(pilot)
            assert table.shown_keys == ["3"]

    run(scenario())


def test_an_older_read_that_finishes_late_is_dropped(wk, trained: Path, two_versions: Path) -> None:
    from console.screens.base import Loaded

    async def scenario() -> None:
        app = make_app(two_versions, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await command(pilot, "versions tiny")
            screen = app.screen
            old = screen.fetch()  # read before v3 exists, as a slow worker would have
            assert wk("train", trained, "--param", "C=0.8").code == 0
            screen.reload()
            await reloaded(pilot)
            assert [r[0] for r in cells(screen)] == ["v3", "v2", "v1"]
            screen.post_message(Loaded(old, screen.reads_shown - 1))  # it finishes late
            await drain(pilot, 3)
            assert [r[0] for r in cells(screen)] == ["v3", "v2", "v1"]
            screen.post_message(Loaded(old, screen.reads_started))  # a current read is shown
            await drain(pilot, 3)
            assert [r[0] for r in cells(screen)] == ["v2", "v1"]

    run(scenario())


def test_change_from_another_process_appears_without_a_key(two_versions: Path) -> None:
    async def scenario() -> None:
        app = make_app(two_versions, refresh_interval=0.5)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert cells(app.screen)[0][1] == "v1"
            env = {**os.environ, "WK_STORE": str(two_versions)}
            wk_exe = str(Path(sys.executable).parent / "wk")
            proc = await asyncio.create_subprocess_exec(
                wk_exe, "models", "promote", "tiny", "2", "production", "--reason", "cli",
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            assert await proc.wait() == 0
            done = time.monotonic()
            while time.monotonic() - done < 3.0:
                await pilot.pause(0.1)
                if cells(app.screen)[0][1] == "v2":
                    break
            assert cells(app.screen)[0][1] == "v2", "the promotion did not show within 3 s"

    run(scenario())


def test_unknown_view_and_help(two_versions: Path) -> None:
    async def scenario() -> None:
        app = make_app(two_versions, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await command(pilot, "bogus")
            assert isinstance(app.screen, OverviewScreen)
            assert any("unknown view 'bogus'" in n.message for n in app._notifications)
            await command(pilot, "lineage tiny")
            assert any("usage: :lineage MODEL VERSION" in n.message for n in app._notifications)
            await pilot.press("question_mark")
            await pilot.pause()
            from console.screens.help import HelpScreen

            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, OverviewScreen)

    run(scenario())


def test_missing_version_is_reported_not_crashed(two_versions: Path) -> None:
    async def scenario() -> None:
        app = make_app(two_versions, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("colon")  # not command(): the screen it opens never loads
            await type_text(pilot, "version tiny 9")
            await pilot.press("enter")
            await until(pilot, lambda: any("has no version 9" in n.message for n in app._notifications),
                        "the missing-version notice")
            assert app.is_running

    run(scenario())


def test_wk_ui_needs_a_terminal(wk, trained: Path) -> None:
    result = wk("ui")
    assert result.code == 2 and "needs a terminal" in result.err


def test_command_palette_lists_every_action_of_the_view(two_versions: Path) -> None:
    from console.actions import actions_for

    async def scenario(read_only: bool) -> set[str]:
        app = make_app(two_versions, read_only=read_only, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await command(pilot, "versions tiny")
            return {c.title for c in app.get_system_commands(app.screen)}

    titles = run(scenario(False))
    for spec in actions_for("versions"):
        assert spec.description in titles
    assert {"Go to models", "Go to audit", "Go to overview"} <= titles
    read_only_titles = run(scenario(True))
    assert "Promote the version to an alias" not in read_only_titles
    assert "Filter rows" in read_only_titles


def test_copy_id_and_raw_json(two_versions: Path) -> None:
    from console.screens.raw import RawScreen

    async def scenario() -> None:
        app = make_app(two_versions, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await command(pilot, "versions tiny")
            await pilot.press("c")
            await pilot.pause()
            assert app.clipboard == "2"
            await pilot.press("y")
            await pilot.pause()
            assert isinstance(app.screen, RawScreen) and '"version": 2' in app.screen.text

    run(scenario())


# --- deployments and predictions ------------------------------------------------------

@pytest.fixture
def canary(store_dir: Path) -> Path:
    """tiny v1 in production with v2 as a canary at 25%; a request of three rows answered
    by the champion and one of one row by the challenger, logged as `wk predict` logs them."""
    from serving_store import TINY_ROW, build_store

    from serving.scoring import local as scoring
    from serving.traffic import deployments

    build_store(store_dir, versions=2, numeric=False)
    store = open_store(store_dir)
    deployments.set_deployment(store, "tiny", challenger=2, mode="canary", share=0.25, reason="try v2")
    scoring.predict_rows(store, "tiny", [TINY_ROW] * 3, request_id="req-1")
    scoring.predict_rows(store, "tiny", [TINY_ROW], version=2)
    store.close()
    return store_dir


async def modal_opened(pilot: Any) -> ConfirmModal:
    """Wait for a confirmation (some open after a preview read in a worker)."""
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal), "a confirmation")
    return pilot.app.screen


async def confirm(pilot: Any, *keys: str) -> None:
    """Press `keys` (default enter) on an open confirmation, then wait for the action's
    worker to report and for the screen beneath to show a read started after the write."""
    app = pilot.app
    assert isinstance(app.screen, ConfirmModal), f"no confirmation open; top screen {app.screen!r}"
    under = app.screen_stack[-2]
    notes = len(app._notifications)

    def done() -> bool:
        acting = any(w.group == "action" and not w.is_finished for w in app.workers)
        # the action notifies, then calls reload() on the UI thread before its worker ends
        return (app.screen is under and not acting and len(app._notifications) > notes
                and under.reads_shown == under.reads_started)

    await pilot.press(*(keys or ("enter",)))
    await until(pilot, done, "the confirmed action and the reload after it")


def change_text(modal: ConfirmModal) -> str:
    return str(modal.query_one("#change").render())


def error_text(modal: ConfirmModal) -> str:
    return str(modal.query_one("#error").render())


def test_deployments_view_shows_the_canary_with_its_share_and_traffic(canary: Path) -> None:
    from console.screens.deployments import DeploymentsScreen
    from console.screens.predictions import PredictionScreen, PredictionsScreen, render_prediction

    async def scenario() -> None:
        app = make_app(canary, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            # the Overview: 2 requests (one of 3 rows) in the 5-minute window, none failed
            row = cells(app.screen)[0]
            model, prod, alerts, _age, per_minute, p95, errors = row[:7]
            # 2 requests, 4 rows, over 5 whole minutes plus the part of this one gone by,
            # shown to one decimal (so 2/6 reads 0.3): within half a step of the range
            assert (model, prod, alerts, errors) == ("tiny", "v1", "-", "0.0%") and p95 != "-"
            assert 2 / 6 - 0.05 <= float(per_minute) <= 2 / 5 + 0.05
            rows_per_minute = [c.label for c in app.screen.COLUMNS].index("rows/min")
            assert 4 / 6 - 0.05 <= float(row[rows_per_minute]) <= 4 / 5 + 0.05
            await command(pilot, "dep")
            assert isinstance(app.screen, DeploymentsScreen)
            rows = cells(app.screen)
            assert [r[:5] for r in rows] == [("tiny", "canary", "champion", "v1", "75%"),
                                             ("tiny", "canary", "challenger", "v2", "25%")]
            # the champion answered one request of 3 rows, the challenger one of 1
            assert all(1 / 6 - 0.05 <= float(r[5]) <= 1 / 5 + 0.05 for r in rows[:2])
            assert 3 / 6 - 0.05 <= float(rows[0][9]) <= 3 / 5 + 0.05  # rows/min
            assert all(r[6] != "-" and r[7] != "-" and r[8] == "0.0%" for r in rows)  # p50, p95, errors
            await pilot.press("enter")  # the model's predictions, newest first
            await settle(pilot)
            assert isinstance(app.screen, PredictionsScreen) and app.screen.filters == {"model": "tiny"}
            listed = cells(app.screen)
            assert [(r[1], r[2]) for r in listed] == [("v2", "challenger")] + [("v1", "champion")] * 3
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, PredictionScreen)
            shown = app.screen.data
            assert shown["prediction_id"] == listed[0][-1] and shown["route"] == "challenger"
            assert shown["inputs"] == {"x1": 0.5, "x2": -0.25, "colour": "red"}
            assert set(shown["outputs"]) == {"class", "probabilities"} and shown["label"] is None
            assert "(none yet)" in rendered(render_prediction(shown))
            # a label arrives (as /v1/feedback writes it): the next refresh shows it
            from serving.log.feedback import apply_labels

            assert apply_labels(app.store, [{"prediction_id": shown["prediction_id"], "label": 1}])["matched"] == 1
            app.screen.reload()
            await settle(pilot)
            await app.workers.wait_for_complete()
            await pilot.pause()
            text = rendered(render_prediction(app.screen.data))
            assert "label" in text and "1  (at " in text and "x1" in text and "0.5" in text
            assert "probabilities" in text and "challenger" in text

    run(scenario())


def rendered(renderable: Any) -> str:
    from rich.console import Console

    console = Console(width=120, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def test_promote_challenger_with_a_reason_moves_production(canary: Path) -> None:
    async def scenario() -> None:
        app = make_app(canary, refresh_interval=3600, start="deployments")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("P")
            modal = await modal_opened(pilot)
            assert change_text(modal) == "tiny production: v1 -> v2 (challenger promoted)"
            await pilot.press("enter")  # no reason: refused in the modal
            await pilot.pause()
            assert app.screen is modal and "a reason is needed" in str(modal.query_one("#error").render())
            await type_text(pilot, "canary clean for a day")
            await confirm(pilot)
            # v2 serves everything now; v1's traffic in the window stays on a row of its own
            assert [r[:5] for r in cells(app.screen)] == [
                ("tiny", "single", "champion", "v2", "100%"),
                ("tiny", "single", "challenger", "v2", "-"),
                ("tiny", "single", "champion", "v1", "-")]
            assert any("tiny production: v1 -> v2" in n.message for n in app._notifications)
            # no challenger any more: P and S say why instead of opening a confirmation
            await pilot.press("P")
            await pilot.press("S")
            await pilot.pause()
            assert not isinstance(app.screen, ConfirmModal)
            messages = [n.message for n in app._notifications]
            assert any("no challenger to promote" in m for m in messages)
            assert any("single mode" in m for m in messages)

    run(scenario())
    store = open_store(canary)
    from serving.traffic import deployments

    assert show_model(store, "tiny")["aliases"]["production"] == 2
    assert deployments.show(store, "tiny")["mode"] == "single"
    event = audit_log(store, action="deployment.promote", limit=1)[0]
    assert event["reason"] == "canary clean for a day" and event["actor"] == getpass.getuser()
    assert event["before"]["challenger"] == 2 and event["after"]["champion"] == 2


def test_rollback_takes_the_challenger_out(canary: Path) -> None:
    async def scenario() -> None:
        app = make_app(canary, refresh_interval=3600, start="deployments")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("j", "B")  # from the challenger's row: the same deployment
            modal = await modal_opened(pilot)
            assert change_text(modal) == "tiny: canary v1+v2 -> single v1 (challenger out)"
            await type_text(pilot, "errors up")
            await confirm(pilot)
            assert cells(app.screen)[0][:5] == ("tiny", "single", "champion", "v1", "100%")

    run(scenario())
    store = open_store(canary)
    from serving.traffic import deployments

    dep = deployments.show(store, "tiny")
    assert (dep["mode"], dep["champion"], dep["challenger"]) == ("single", 1, None)
    event = audit_log(store, action="deployment.rollback", limit=1)[0]
    assert event["reason"] == "errors up" and event["before"]["mode"] == "canary"


def test_set_share_checks_the_value_then_writes_it(canary: Path) -> None:
    async def scenario() -> None:
        app = make_app(canary, refresh_interval=3600, start="deployments")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("S")
            modal = await modal_opened(pilot)
            # as every confirmation: the cursor in the reason, the share above it as it is
            assert modal.focused is not None and modal.focused.id == "reason"
            assert change_text(modal) == "tiny challenger v2: 25% -> 25% (champion v1: 75%)"
            await type_text(pilot, "wider")
            await pilot.press("enter")  # the share unchanged: said, and the cursor goes there
            await pilot.pause()
            assert app.screen is modal and "25% already" in error_text(modal)
            assert modal.focused is not None and modal.focused.id == "alias"
            await type_text(pilot, "150%")  # replaces the selected 25%
            assert "25% -> ?" in change_text(modal)
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is modal and "outside 0..1" in error_text(modal)
            await type_text(pilot, "40%")
            assert change_text(modal) == "tiny challenger v2: 25% -> 40% (champion v1: 60%)"
            await confirm(pilot, "enter")
            assert [r[4] for r in cells(app.screen)] == ["60%", "40%"]

    run(scenario())
    store = open_store(canary)
    from serving.traffic import deployments

    assert deployments.show(store, "tiny")["challenger_share"] == pytest.approx(0.4)
    event = audit_log(store, action="deployment.set", limit=1)[0]
    assert event["reason"] == "wider"
    assert (event["before"]["challenger_share"], event["after"]["challenger_share"]) == (0.25, 0.4)


def test_read_only_hides_the_deployment_actions(canary: Path) -> None:
    store = open_store(canary)
    before = audit_log(store, limit=1000)

    async def scenario() -> set[str]:
        app = make_app(canary, read_only=True, refresh_interval=3600, start="deployments")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            shown = {b.binding.action for b in app.screen.active_bindings.values() if b.binding.show}
            assert shown.isdisjoint({"promote_challenger", "rollback_deployment", "set_share"})
            assert "filter" in shown
            await pilot.press("P", "B", "S")
            await drain(pilot, 3)
            assert not isinstance(app.screen, ConfirmModal)
            messages = [n.message for n in app._notifications if "read-only" in n.message]
            assert len(messages) == 3 and any("set share is unavailable" in m for m in messages)
            return {c.title for c in app.get_system_commands(app.screen)}

    titles = run(scenario())
    assert "Promote the challenger to production" not in titles and "Filter rows" in titles
    assert audit_log(store, limit=1000) == before


def test_predictions_filters_by_route_and_id_and_names_bad_ones(canary: Path) -> None:
    from console.screens.predictions import PredictionsScreen

    async def scenario() -> None:
        app = make_app(canary, refresh_interval=3600)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await command(pilot, "pred")
            everything = cells(app.screen)
            assert len(everything) == 4 and everything[0][1] == "tiny"  # the model column is there
            await command(pilot, "predictions tiny route=challenger since=1h")
            assert isinstance(app.screen, PredictionsScreen)
            assert [r[2] for r in cells(app.screen)] == ["challenger"]
            newest = everything[-1][-1]
            await command(pilot, f"predictions model=tiny id={newest[:30]}")
            assert [r[-1] for r in cells(app.screen)] == [newest]
            await command(pilot, "predictions version=2")
            await command(pilot, "predictions route=sideways")
            messages = [n.message for n in app._notifications]
            assert any("version= needs model=" in m for m in messages)
            assert any("route=sideways is not one of champion, challenger, shadow" in m for m in messages)
            await pilot.press("colon")  # not command(): the screen it opens never loads
            await type_text(pilot, "prediction 0123456789abcdef")
            await pilot.press("enter")
            await until(pilot, lambda: any("no prediction" in n.message for n in app._notifications),
                        "the no-prediction notice")
            assert app.is_running

    run(scenario())
