"""The console's permission table (console/permissions.py) and what it does on screen, in
process: the user's role read once at start, disabled actions dimmed and their keys saying
why, and a refusal from the service said as a notice (tests/test_console_access.py drives
the same as real OS accounts in tmux)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.actions import SCREEN_ACTIONS
from console.app import make_app, role_label
from console.permissions import NEEDS, denial
from console.screens.versions import VersionsScreen
from console.widgets.header import StatusHeader
from store.errors import PermissionDenied
from store.roles import Permission
from store.roles import denial as store_denial
from store.vocabulary import Role

VIEWER = "nobody"  # an OS account every Linux host has: add_user checks it exists
MODEL = "credit-default"


def test_every_dangerous_action_names_its_permissions() -> None:
    dangerous = {a.id for a in SCREEN_ACTIONS if a.dangerous}
    assert dangerous == set(NEEDS), dangerous ^ set(NEEDS)
    reading = {a.id for a in SCREEN_ACTIONS if not a.dangerous}
    assert not reading & set(NEEDS)


def test_denial_is_the_first_missing_permissions_words() -> None:
    caps: dict[Permission, str | None] = {p: None for p in Permission}
    assert denial("alert_rollback", caps) is None
    caps[Permission.ROLLBACK] = store_denial("ana", Role.VIEWER, Permission.ROLLBACK)
    assert denial("alert_rollback", caps) == caps[Permission.ROLLBACK]
    assert denial("rollback", caps) == caps[Permission.ROLLBACK]
    assert denial("promote", caps) is None
    assert denial("filter", caps) is None  # reads: never refused
    assert denial("rollback", None) is None  # not read yet: the service decides


def test_role_label() -> None:
    assert role_label("operator", False) == "operator"
    assert role_label("admin", True) == "admin, read-only"
    assert role_label("", False) == "not a user"


@pytest.fixture
def viewer_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The console store (credit-default: v1 production, v2 staging; owner risk-ml, here
    of team risk), whose console user is a viewer."""
    from console_store import build_console_store
    from sqlmodel import select

    from store.tables import RegisteredModel
    from store.users import add_user

    monkeypatch.delenv("WK_DATABASE_URL", raising=False)
    root = tmp_path / "store"
    store = build_console_store(root)
    try:
        with store.db.write() as session:
            model = session.exec(select(RegisteredModel).where(
                RegisteredModel.name == MODEL)).one()
            model.team = "risk"
        add_user(store, VIEWER, "viewer")
    finally:
        store.close()
    monkeypatch.setattr("store.access.current_actor", lambda: VIEWER)
    yield root


async def _until(pilot: Any, done: Any, what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        await pilot.pause(0.05)


def test_a_viewer_sees_promote_disabled_and_its_key_says_why(viewer_store: Path) -> None:
    from registry.models import show_model
    from store.handle import open_store

    async def scenario() -> None:
        app = make_app(viewer_store, refresh_interval=3600, start=f"versions {MODEL}")
        async with app.run_test(size=(80, 24)) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, VersionsScreen)
                         and app.screen._loaded_once and app.capabilities is not None, "the load")
            screen = app.screen
            assert app.role == "viewer"
            assert screen.query_one(StatusHeader).role == "viewer"
            await _until(pilot, lambda: screen.query_one(StatusHeader).owner == "owner risk-ml/risk",
                         "the owner in the header")
            assert screen.check_action("promote", ()) is None  # shown, dimmed
            assert screen.check_action("filter", ()) is True
            await pilot.press("P")
            await pilot.pause()
            assert isinstance(app.screen, VersionsScreen)  # no confirmation opened
            messages = [n.message for n in app._notifications]
            assert any("to promote a version to production (promote) needs the role operator"
                       in m and f"{VIEWER} is a viewer" in m for m in messages), messages

    asyncio.run(scenario())
    store = open_store(viewer_store)
    try:
        assert show_model(store, MODEL)["aliases"]["production"] == 1
    finally:
        store.close()


def test_a_refusal_from_the_service_is_a_notice(viewer_store: Path) -> None:
    """The service's own check (store.access.authorize) said as the console's denial."""
    def refused(_store: Any, *args: Any, **kwargs: Any) -> None:
        raise PermissionDenied(store_denial(VIEWER, Role.VIEWER, Permission.PROMOTE),
                               permission="promote", needs=("operator", "admin"), role="viewer")

    async def scenario() -> None:
        app = make_app(viewer_store, refresh_interval=3600, start=f"versions {MODEL}")
        async with app.run_test(size=(80, 24)) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, VersionsScreen)
                         and app.screen._loaded_once, "the load")
            app.screen.run_service_action("promote", refused, MODEL, 2, "production")
            await _until(pilot, lambda: any("needs the role operator" in n.message
                                            for n in app._notifications), "the notice")
            titles = [n.title for n in app._notifications]
            assert "not allowed" in titles
            assert app.is_running

    asyncio.run(scenario())


def test_a_role_changed_while_the_console_is_open_shows_within_a_tick(viewer_store: Path) -> None:
    """An admin's `wk users set-role` reaches an open console at its next tick: the
    header's role and the footer's actions follow, without a restart."""
    from sqlmodel import select

    from store.access_tables import User
    from store.handle import open_store

    async def scenario() -> None:
        app = make_app(viewer_store, refresh_interval=0.5, start=f"versions {MODEL}")
        async with app.run_test(size=(80, 24)) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, VersionsScreen)
                         and app.screen._loaded_once and app.role == "viewer", "the load")
            screen = app.screen
            assert screen.check_action("promote", ()) is None  # dimmed
            # the admin's `wk users set-role` in another process (this one is the viewer,
            # by the fixture's patch): the row it writes
            store = open_store(viewer_store)
            try:
                with store.db.write() as session:
                    user = session.exec(select(User).where(User.name == VIEWER)).one()
                    user.role = "operator"
                    session.add(user)
            finally:
                store.close()
            await _until(pilot, lambda: app.role == "operator", "the new role", seconds=10)
            assert screen.query_one(StatusHeader).role == "operator"
            assert screen.check_action("promote", ()) is True

    asyncio.run(scenario())
