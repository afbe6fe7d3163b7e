"""No traps around audited actions (issue 9, item 4), driven by keys on the console store:
a bad `:` target is one error and the screen stays; every confirmation has the same
first focus, Tab order and keys; an empty reason and a cancel are said; and the reason
the audit log keeps is the one the confirmation showed, even typed in a burst."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_store import build_console_store
from test_console_pilot import command, confirm, modal_opened, run, settle, until

from console.app import make_app
from console.screens.deployments import DeploymentsScreen
from console.screens.overview import OverviewScreen
from console.screens.versions import VersionsScreen
from console.widgets.confirm_modal import REASON_NEEDED, ConfirmModal
from registry.audit_log import audit_log
from registry.models import show_model
from store.handle import Store, open_store


@pytest.fixture
def store_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "store"
    build_console_store(root).close()
    yield root


def audit(root: Path) -> list[dict[str, Any]]:
    store: Store = open_store(root)
    try:
        return audit_log(store, limit=1000)
    finally:
        store.close()


def messages(app: Any) -> list[str]:
    return [n.message for n in app._notifications]


def shown(modal: ConfirmModal, part: str) -> str:
    return str(modal.query_one(f"#{part}").render())


def focused_id(modal: ConfirmModal) -> str | None:
    return modal.focused.id if modal.focused is not None else None


# --- a bad : target ---------------------------------------------------------------------

def test_a_bad_target_is_one_error_and_the_screen_stays(store_root: Path) -> None:
    async def scenario() -> None:
        app = make_app(store_root, refresh_interval=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            where = app.screen
            assert isinstance(where, OverviewScreen)
            before = len(app._notifications)
            await command(pilot, "versions credit-defualt")
            await until(pilot, lambda: len(app._notifications) > before, "the error")
            assert app.screen is where  # no empty screen was opened
            new = messages(app)[before:]
            assert len(new) == 1
            assert "model 'credit-defualt' does not exist" in new[0]
            assert "did you mean :versions credit-default?" in new[0]
            # two refreshes of the screen you are on later: still that one error
            for _ in range(2):
                started = where.reads_started
                await until(pilot, lambda started=started: where.reads_shown > started,
                            "the next refresh", seconds=10)
            assert app.screen is where and len(app._notifications) == before + 1
            # a mistyped view name names the nearest one too
            await command(pilot, "vresions credit-default")
            assert app.screen is where
            assert "did you mean :versions?" in messages(app)[-1]

    run(scenario())


def test_a_target_that_opens_still_opens(store_root: Path) -> None:
    async def scenario() -> None:
        app = make_app(store_root, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await command(pilot, "versions credit-default")
            assert isinstance(app.screen, VersionsScreen) and app.screen.reads_shown == 1
            assert not [m for m in messages(app) if "does not exist" in m]

    run(scenario())


# --- the same focus order and keys in every confirmation --------------------------------

#: every confirmation, by the screen and key that open it
DIALOGS = {
    "promote": ("versions credit-default", "P"),
    "archive": ("versions credit-default", "A"),
    "rollback": ("versions store-demand", "B"),
    "promote challenger": ("deployments", "P"),
    "deployment rollback": ("deployments", "B"),
    "set share": ("deployments", "S"),
}


@pytest.mark.parametrize("dialog", DIALOGS, ids=list(DIALOGS))
def test_every_confirmation_has_the_same_focus_order_and_keys(store_root: Path, dialog: str) -> None:
    before = audit(store_root)
    view, key = DIALOGS[dialog]

    async def scenario() -> None:
        app = make_app(store_root, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await command(pilot, view)
            under = app.screen
            await pilot.press(key)
            modal = await modal_opened(pilot)
            assert focused_id(modal) == "reason"  # the first focus
            order = []
            for _ in range(4 if modal.alias is not None else 3):
                await pilot.press("tab")
                order.append(focused_id(modal))
            field = ["alias"] if modal.alias is not None else []
            assert order == ["confirm", "cancel", *field, "reason"]
            assert "esc cancels" in shown(modal, "keys")
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is under
            assert any("cancelled: nothing changed" in m for m in messages(app))

    run(scenario())
    assert audit(store_root) == before


def test_tab_then_enter_on_promote_says_a_reason_is_needed_then_confirms(store_root: Path) -> None:
    async def scenario() -> None:
        app = make_app(store_root, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await command(pilot, "versions credit-default")
            await pilot.press("j", "j", "P")  # v1, to staging (v2 holds it)
            modal = await modal_opened(pilot)
            await pilot.press("tab", "enter")  # the old trap: this cancelled without a word
            await pilot.pause()
            assert app.screen is modal
            assert shown(modal, "error") == REASON_NEEDED
            assert focused_id(modal) == "reason"  # back where the reason is typed
            assert not any("cancelled" in m for m in messages(app))
            await pilot.press("shift+tab", "ctrl+u")  # the alias box: staging, not production
            for char in "staging":
                await pilot.press(char)
            await pilot.press("tab")
            for char in "retrain":
                await pilot.press(char)
            assert shown(modal, "error") == ""  # typing clears the message
            await pilot.press("tab")  # to Confirm
            assert focused_id(modal) == "confirm"
            await confirm(pilot, "enter")
            assert isinstance(app.screen, VersionsScreen)

    run(scenario())
    event = audit(store_root)[0]
    assert (event["action"], event["reason"], event["actor"]) == (
        "alias.promote", "retrain", getpass.getuser())
    assert event["target"].endswith("/staging")


def test_enter_on_cancel_cancels_and_says_so(store_root: Path) -> None:
    before = audit(store_root)

    async def scenario() -> None:
        app = make_app(store_root, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await command(pilot, "versions credit-default")
            await pilot.press("A")
            modal = await modal_opened(pilot)
            for char in "nope":
                await pilot.press(char)
            await pilot.press("tab", "tab")
            assert focused_id(modal) == "cancel"
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, VersionsScreen)
            assert messages(app)[-1] == "archive cancelled: nothing changed"

    run(scenario())
    assert audit(store_root) == before


def test_an_empty_reason_is_said_in_the_dialog(store_root: Path) -> None:
    async def scenario() -> None:
        app = make_app(store_root, refresh_interval=3600, start="deployments")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, DeploymentsScreen)
            await pilot.press("B")
            modal = await modal_opened(pilot)
            await pilot.press("space", "space", "enter")  # blanks are no reason
            await pilot.pause()
            assert app.screen is modal and shown(modal, "error") == REASON_NEEDED
            assert shown(modal, "recorded") == "recorded as: (no reason yet)"

    run(scenario())


# --- the reason, exactly as shown -------------------------------------------------------

#: a burst of keys: typing with slips and backspaces, sent without a pause between keys
BURST = (*"canary cleen", "backspace", "backspace", "backspace", *"ean; p95 fine", "backspace",
         *"e  ", "left", "left", *"!!", "end", "backspace", "backspace")
BURST_TEXT = "canary clean; p95 fine!!"


def test_a_key_burst_reaches_the_audit_log_exactly_as_previewed(store_root: Path) -> None:
    store = open_store(store_root)
    production_before = show_model(store, "store-demand")["aliases"]["production"]
    store.close()
    keys = ["space" if k == " " else k for k in BURST]
    previewed: list[str] = []

    async def scenario() -> None:
        app = make_app(store_root, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await command(pilot, "versions store-demand")
            await pilot.press("j")  # v1 (v2 is production)
            await pilot.press("P")
            modal = await modal_opened(pilot)
            await pilot.press(*keys)  # one burst, no pause between keys
            await pilot.pause()
            previewed.append(shown(modal, "recorded"))
            await confirm(pilot, "enter")

    run(scenario())
    assert previewed == [f'recorded as: "{BURST_TEXT}"']
    event = audit(store_root)[0]
    assert event["action"] == "alias.promote" and event["reason"] == BURST_TEXT
    assert event["before"] == {"version": production_before} and event["after"] == {"version": 1}
