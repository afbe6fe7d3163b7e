"""The console's Alerts screen driven by keys, on tests/alert_store.py with passes at a
fixed time (no daemon): firing first, then acknowledged; Enter on a drift alert opens the
Drift screen on its report with the feature selected, `v` the version, `B` there rolls
back as the alert's action (confirmed with a reason, audited, the alert annotated); `a`
acknowledges with a note and an expiry; the header counts open alerts on every screen;
a timeline alert opens the Alerts screen on it. Snapshots at 80x24."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import console_store
import pytest
from alert_store import add_drift, add_job, add_run, build_alert_store
from test_console_pilot import until
from test_console_scheduler import confirm_with, keys, rows, select, settled
from textual.pilot import Pilot
from textual.widgets import Input

from console.app import WatchkeeperApp, make_app
from console.widgets.confirm_modal import ConfirmModal
from console.widgets.header import StatusHeader
from monitoring import alert_service as service
from monitoring.alert_pass import evaluate
from monitoring.alerts_view import show_alert
from registry.aliases import promote
from registry.audit_log import audit_log
from registry.models import show_model
from store.handle import Store
from store.location import StoreLocation

SIZE = (80, 24)
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
utc_time_zone = pytest.fixture(scope="module", autouse=True)(console_store.utc_time_zone)


@pytest.fixture
def alert_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """credit v2 in production (v1 before it); a firing drift alert on income (#1) and a
    firing job-failed alert on `nightly` (#2), both evaluated at NOW."""
    monkeypatch.delenv("WK_DATABASE_URL", raising=False)
    store, ids = build_alert_store(tmp_path / "store")
    _with_dtypes(store)
    promote(store, "credit", 2, "production", reason="v2 out", actor="tests")
    service.add_rule(store, name="credit-drift", kind="drift", model="credit", feature="income",
                     channels=["hook"], severity="critical")
    add_drift(store, ids, NOW, {"income"})
    evaluate(store, now=NOW)
    job = add_job(store, "nightly")
    add_run(store, job, "nightly", NOW, "failed")
    service.add_rule(store, name="jobs-failed", kind="job-failed", channels=["hook"])
    evaluate(store, now=NOW)
    yield store
    store.close()


def _with_dtypes(store: Store) -> None:
    """The version screen shows each signature column's dtype, which alert_store's
    signature (made for the rules, which read only names) leaves out."""
    from store.tables import ModelVersion

    with store.db.write() as session:
        for version in session.query(ModelVersion).all():
            columns = version.signature["columns"]
            version.signature = {**version.signature, "columns": [
                {**c, "dtype": "float64" if c["kind"] == "numeric" else "object"} for c in columns]}
            session.add(version)


def console(store: Store, start: str) -> WatchkeeperApp:
    shown = Store(location=StoreLocation(root=Path("/var/lib/watchkeeper"),
                                         database_url=store.location.database_url,
                                         is_sqlite_file=True),
                  db=store.db, _artifacts=store.artifacts)
    app = make_app(shown, clock=lambda: NOW, refresh_interval=3600, start=start)
    app.user = "oncall"
    return app


def run(store: Store, start: str, scenario: Callable[[Pilot[Any]], Awaitable[None]]) -> None:
    async def main() -> None:
        async with console(store, start).run_test(size=SIZE) as pilot:
            await settled(pilot)
            await scenario(pilot)

    asyncio.run(main())


async def header_says(pilot: Pilot[Any], text: str) -> None:
    await until(pilot, lambda: text in pilot.app.screen.query_one(StatusHeader).alerts,
                f"the header's {text!r}")


def test_alerts_list_firing_first_and_the_header_counts_them(alert_store: Store) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        shown = rows(pilot.app)
        assert [r[:4] for r in shown.values()] == [  # firing, the critical one first
            ("firing", "crit", "credit-drift", "credit income"),
            ("firing", "warn", "jobs-failed", "job nightly")]
        assert shown["1"][4:6] == ("0s", "in 4h")
        await header_says(pilot, "2 FIRING/2 open")

    run(alert_store, "alerts", scenario)


def test_from_the_alert_to_the_feature_the_version_and_a_confirmed_rollback(
        alert_store: Store) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        assert pilot.app.screen.selected().key == "1"  # the worst firing alert comes first
        await pilot.press("enter")
        await until(pilot, lambda: getattr(pilot.app.screen, "VIEW", "") == "drift", "drift")
        await settled(pilot)
        assert pilot.app.screen.selected().key == "income"
        await pilot.press("v")
        await until(pilot, lambda: getattr(pilot.app.screen, "VIEW", "") == "version", "version")
        await settled(pilot)
        assert pilot.app.screen.title_text() == "credit v2"
        await pilot.press("B")
        change = await confirm_with(pilot, "income drifted")
        assert change == "credit production: v2 -> v1  (from alert #1)"
        assert any("rollback done" in n.message for n in pilot.app._notifications)

    run(alert_store, "alerts", scenario)
    assert show_model(alert_store, "credit")["aliases"]["production"] == 1
    (taken,) = show_alert(alert_store, 1)["annotations"]["actions"]
    assert (taken["action"], taken["reason"], taken["actor"]) == ("rollback", "income drifted",
                                                                  taken["actor"])
    actions = [e["action"] for e in audit_log(alert_store, limit=5)]
    assert "alert.action" in actions and "alias.rollback" in actions


def test_ack_with_a_note_and_an_expiry(alert_store: Store) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        await select(pilot, "1")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal), "a confirmation")
        assert pilot.app.screen.query_one("#alias", Input).value == "1h"
        change = await confirm_with(pilot, "on it")
        assert change.startswith("alert #1 credit-drift: firing -> acknowledged (until 1h")
        await until(pilot, lambda: rows(pilot.app)["1"][0] == "acknowledged", "the acked row")
        assert list(rows(pilot.app)) == ["2", "1"]  # firing first, then acknowledged
        await select(pilot, "1")
        await pilot.press("enter")  # the acknowledged alert still opens what it is about
        await until(pilot, lambda: getattr(pilot.app.screen, "VIEW", "") == "drift", "drift")

    run(alert_store, "alerts", scenario)
    alert = show_alert(alert_store, 1)
    assert (alert["state"], alert["ack_note"]) == ("acknowledged", "on it")
    assert alert["ack_until"] is not None


def test_a_timeline_alert_opens_the_alerts_screen_on_it(alert_store: Store) -> None:
    from console.screens.timeline import TimelineScreen

    screen = TimelineScreen("credit")
    entry = {"ids": {"alert": 1, "event": 3}, "kind": "alert", "version": None}
    assert screen.command_for(entry) == "alerts 1"


def _after(*pressed: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        await header_says(pilot, "FIRING")
        if pressed:
            await pilot.press(*pressed)
            await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal), "a modal")
            for widget in pilot.app.screen.query(Input):
                widget.cursor_blink = False
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("pressed", [(), ("b", *keys("income drifted"))],
                         ids=["list", "rollback"])
def test_snapshot_80x24(snap_compare: Any, alert_store: Store, pressed: tuple[str, ...]) -> None:
    assert snap_compare(console(alert_store, "alerts"), terminal_size=SIZE,
                        run_before=_after(*pressed))


def test_overview_column_and_header_words() -> None:
    from console.screens.overview import alerts_cell

    assert alerts_cell({"warning": 2, "critical": 1}) == "3 crit"
    assert alerts_cell({"info": 1}) == "1 info" and alerts_cell(None) == "-"
    header = StatusHeader("/s", "u", "operator")
    header.set_alerts(1, 3)
    assert header.alerts == "1 FIRING/3 open"
    header.set_alerts(0, 1)
    assert header.alerts == "1 alert open"
    header.set_alerts(0, 0)
    assert header.alerts == ""


def test_the_overview_counts_open_alerts_per_model(alert_store: Store) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        assert rows(pilot.app)["credit"][2] == "1 crit"  # the drift alert; the job's is store-wide

    run(alert_store, "overview", scenario)
