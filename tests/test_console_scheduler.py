"""The console's scheduler views driven by keys (tests/scheduler_store.py; no daemon):
Jobs (run now, pause, resume, each confirmed and audited), Job runs and one run,
Approvals, Usage, the Overview's heartbeat and the header's marker; snapshots at 80x24."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import console_store
import pytest
from scheduler_store import (
    ACTOR,
    FAILED_ERROR,
    NOW,
    add_approval,
    add_usage,
    build_scheduler_store,
    set_daemon,
)
from test_console_pilot import until
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Markdown, Static

from console.app import WatchkeeperApp, make_app
from console.screens.base import WkScreen
from console.widgets.confirm_modal import ConfirmModal
from console.widgets.header import StatusHeader
from console.widgets.live_table import LiveTable
from registry.approvals import list_approvals
from registry.audit_log import audit_log
from registry.models import show_model
from scheduler.jobs_view import list_runs, show_job
from store.handle import Store
from store.location import StoreLocation

SIZE = (80, 24)
utc_time_zone = pytest.fixture(scope="module", autouse=True)(console_store.utc_time_zone)


@pytest.fixture
def sched_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.delenv("WK_DATABASE_URL", raising=False)
    store = build_scheduler_store(tmp_path / "store")
    yield store
    store.close()


def console(store: Store, start: str, *, files: bool = False) -> WatchkeeperApp:
    """The app with the clock frozen at NOW, and a fixed user and store path in the header;
    `files`: on the store's own folder (Usage reads its prices and artifacts there; at 80
    columns the header leaves a tmp folder's long path out)."""
    shown = store if files else Store(
        location=StoreLocation(root=Path("/var/lib/watchkeeper"),
                               database_url=store.location.database_url, is_sqlite_file=True),
        db=store.db, _artifacts=store.artifacts)
    app = make_app(shown, clock=lambda: NOW, refresh_interval=3600, start=start)
    app.user = ACTOR
    return app


async def settled(pilot: Pilot[Any]) -> None:
    """Until the top screen is a data screen that has shown its first read."""
    await until(pilot, lambda: isinstance(pilot.app.screen, WkScreen) and pilot.app.screen._loaded_once,
                "the top screen's first load")
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    for table in pilot.app.screen.query(DataTable):
        await until(pilot, lambda t=table: not (t._require_update_dimensions or t._new_rows),
                    "the table's layout")
    await pilot.pause()


def keys(text: str) -> list[str]:
    return ["space" if c == " " else c for c in text]


async def go(pilot: Pilot[Any], command: str) -> None:
    """`:command` typed, then wait for its view."""
    await pilot.press("colon", *keys(command), "enter")
    view = command.split()[0]
    await until(pilot, lambda: getattr(pilot.app.screen, "VIEW", "") == view, f":{command}")
    await settled(pilot)


async def confirm_with(pilot: Pilot[Any], reason: str) -> str:
    """Type `reason` in the open confirmation and press enter; wait for the action's notice.
    Returns the change the confirmation showed."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "a confirmation")
    modal = app.screen
    assert isinstance(modal, ConfirmModal)
    change = str(modal.query_one("#change", Static).render())
    notes = len(app._notifications)
    await pilot.press(*keys(reason), "enter")
    await until(pilot, lambda: app.screen is not modal and len(app._notifications) > notes
                and not any(w.group == "action" and not w.is_finished for w in app.workers),
                "the confirmed action")
    return change


def screen_text(app: WatchkeeperApp) -> str:
    """The screen as a person sees it, one line per row."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def notices(app: WatchkeeperApp) -> list[str]:
    return [n.message for n in app._notifications]


def rows(app: WatchkeeperApp) -> dict[str, tuple[str, ...]]:
    return {r.key: r.cells for r in app.screen.query_one(LiveTable).shown_rows}


def run(store: Store, start: str, scenario: Callable[[Pilot[Any]], Awaitable[None]], *,
        files: bool = False) -> None:
    async def main() -> None:
        app = console(store, start, files=files)
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot)
            await scenario(pilot)

    asyncio.run(main())


async def select(pilot: Pilot[Any], key: str) -> None:
    table = pilot.app.screen.query_one(LiveTable)
    for _ in range(table.shown_keys.index(key)):
        await pilot.press("j")
    assert table.selected_key() == key


def test_jobs_show_schedule_next_and_last_run_and_the_paused_one(sched_store: Store) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        shown = rows(pilot.app)
        assert shown["hourly-drift"][:4] == ("hourly-drift", "running", "09:43 (in 43m)",
                                             "running 2m")
        assert shown["nightly-retrain"][1:4] == ("active", "11-22 02:00 (in 17h)", "failed 59m ago")
        assert shown["demand-score"][1:3] == ("paused", "paused")
        assert shown["store-backup"][3] == "missed 5h ago"

    run(sched_store, "jobs", scenario)


def test_run_now_pause_and_resume_reach_the_store_and_the_audit_log(sched_store: Store) -> None:
    """r on nightly-retrain queues a run-now run; P pauses it, U resumes it; each asked for a
    reason in a confirmation and wrote its audit event with that reason."""

    async def scenario(pilot: Pilot[Any]) -> None:
        await select(pilot, "nightly-retrain")
        await pilot.press("r")
        change = await confirm_with(pilot, "NaN fixed")
        assert change.startswith("nightly-retrain: queue a run now (command of credit-default)")
        assert any("run #7 queued" in n for n in notices(pilot.app))
        await pilot.press("P")
        change = await confirm_with(pilot, "data late")
        assert change.startswith("nightly-retrain: active -> paused")
        await until(pilot, lambda: rows(pilot.app)["nightly-retrain"][1] == "paused", "paused row")
        await pilot.press("P")  # paused already: said, no confirmation
        await pilot.pause()
        assert not isinstance(pilot.app.screen, ConfirmModal)
        assert any("paused already" in n for n in notices(pilot.app))
        await pilot.press("U")
        await confirm_with(pilot, "data in")
        await until(pilot, lambda: rows(pilot.app)["nightly-retrain"][1] == "active", "active row")

    run(sched_store, "jobs", scenario)
    queued = list_runs(sched_store, job="nightly-retrain", limit=1)[0]
    assert (queued["id"], queued["trigger"], queued["status"]) == (7, "run-now", "queued")
    assert show_job(sched_store, "nightly-retrain")["paused"] is False
    events = {e["action"]: e for e in audit_log(sched_store, limit=10) if e["target"] == "job/nightly-retrain"}
    assert events["job.run_now"]["reason"] == "NaN fixed"
    assert events["job.pause"]["reason"] == "data late"
    assert events["job.resume"]["reason"] == "data in"


def test_cancelled_run_now_changes_nothing(sched_store: Store) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal), "a confirmation")
        await pilot.press("escape")
        await pilot.pause()
        assert any("run now cancelled" in n for n in notices(pilot.app))

    run(sched_store, "jobs", scenario)
    assert len(list_runs(sched_store)) == 6
    assert not [e for e in audit_log(sched_store, limit=20) if e["action"] == "job.run_now"]


def test_enter_opens_the_jobs_runs_then_one_run_with_its_error_and_log(sched_store: Store) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        await select(pilot, "nightly-retrain")
        await pilot.press("enter")
        await settled(pilot)
        assert pilot.app.screen.title_text() == "job runs job=nightly-retrain"
        assert [r[:3] for r in rows(pilot.app).values()] == [
            ("#4", "nightly-retrain", "failed"), ("#1", "nightly-retrain", "succeeded")]
        assert rows(pilot.app)["4"][4:8] == ("3.20", "1.92", "188", "-")
        await pilot.press("enter")
        await settled(pilot)
        text = str(pilot.app.screen.query_one("#jobrun", Static).render())
        assert FAILED_ERROR in text and "ValueError: Input X contains NaN" in text
        assert "run-now, attempt 1, asked by ana" in text and "exit         1" in text

    run(sched_store, "jobs", scenario)


def test_a_runs_page_says_what_its_kind_reported(sched_store: Store) -> None:
    from console.screens.job_runs import run_text
    from scheduler.jobs_view import show_run

    text = run_text(show_run(sched_store, 1)).plain
    assert "result       version=2  approval=pending" in text
    assert "resources    wall 42.5 s · cpu 38.2 s · peak 412 MB · rows 13,105" in text
    assert "process      ops-1, daemon pid 4242" in text


def test_runs_filtered_by_status_and_a_bad_filter_named(sched_store: Store) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        await go(pilot, "jobruns status=timed_out")
        assert list(rows(pilot.app)) == ["3"]
        assert pilot.app.screen.title_text() == "job runs status=timed_out"
        pilot.app.run_command("jobruns status=broken")  # as typed at `:` (typing is tested above)
        await until(pilot, lambda: any("status=broken is not one of" in n for n in notices(pilot.app)),
                    "the bad filter named")

    run(sched_store, "overview", scenario)


def test_overview_and_header_show_a_daemon_that_is_down(sched_store: Store) -> None:
    """No daemon ever: the Overview says so and the header says nothing; a heartbeat 48
    minutes old: the header of every screen says DOWN since its last beat."""

    async def never(pilot: Pilot[Any]) -> None:
        line = str(pilot.app.screen.query_one("#scheduler-line", Static).render())
        assert line.startswith("no scheduler has run on this store · failed in 24h: 2")
        assert "nightly-retrain #4 failed 59m ago" in line and "demand-score #3 timed_out" in line
        assert pilot.app.screen.query_one(StatusHeader).scheduler == ""

    run(sched_store, "overview", never)
    set_daemon(sched_store, beat_minutes_ago=48)

    async def down(pilot: Pilot[Any]) -> None:
        line = str(pilot.app.screen.query_one("#scheduler-line", Static).render())
        assert line.startswith("scheduler DOWN since 08:12 · failed in 24h: 2")
        await go(pilot, "jobs")
        header = pilot.app.screen.query_one(StatusHeader)
        assert header.scheduler == "SCHEDULER DOWN since 08:12" and header.has_class("-scheduler-down")
        assert str(header.render()).startswith("SCHEDULER DOWN since 08:12 | jobs")

    run(sched_store, "overview", down)


# --- usage -------------------------------------------------------------------------------

def test_usage_per_model_over_7_and_30_days_with_disk_memory_and_money(sched_store: Store) -> None:
    add_approval(sched_store)
    add_usage(sched_store)

    async def scenario(pilot: Pilot[Any]) -> None:
        await go(pilot, "usage")
        credit = rows(pilot.app)["credit-default"]
        # 7 days: runs 1, 2, 4 of the fixture (38.21 + 3.4 + 1.92 s); 30: also 1800 and 1700 s
        assert credit[1:4] == ("43.5", "3,544", "2,048") and credit[5] == "180"
        # 3543.53 CPU s at 0.05 a CPU-hour, and a few hundred bytes of disk
        assert credit[6] == "0.05 EUR"
        assert rows(pilot.app)["(store jobs)"][1:3] == ("0.00", "12.0")
        text = " ".join(screen_text(pilot.app).split())
        assert "prices 0.05 EUR a CPU-hour, 0.10 EUR a GB-month · all models" in text

    run(sched_store, "overview", scenario, files=True)


def test_header_marks_down_and_stopped_but_not_up_or_never() -> None:
    from console.screens.scheduler_cells import daemon_mark
    from scheduler.jobs_view import daemon_state
    from store.job_tables import SchedulerDaemon

    def state(beat_s: float, stopped: bool = False) -> dict[str, Any]:
        beat = NOW - timedelta(seconds=beat_s)
        return daemon_state(SchedulerDaemon(host="ops-1", pid=1, heartbeat_at=beat,
                                            stopped_at=beat if stopped else None), NOW)

    assert daemon_mark(None, NOW) == daemon_mark(daemon_state(None, NOW), NOW) == ("", "")
    assert daemon_mark(state(5), NOW) == ("", "")  # a fresh heartbeat
    assert daemon_mark(state(31), NOW) == ("SCHEDULER DOWN since 08:59", "down")
    assert daemon_mark(state(600, stopped=True), NOW) == ("scheduler stopped 08:50", "stopped")
    assert daemon_mark(state(86400), NOW)[0] == "SCHEDULER DOWN since 11-20 09:00"


# --- snapshots at 80x24 --------------------------------------------------------------------

def after(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        if keys:
            await pilot.press(*keys)
            await pilot.app.workers.wait_for_complete()
            await settled(pilot)

    return run_before


SNAPSHOTS = {
    "jobs": ("jobs", ()),
    "jobruns": ("jobruns", ()),
    "jobrun": ("jobrun 4", ()),
}


@pytest.mark.parametrize("view", SNAPSHOTS, ids=list(SNAPSHOTS))
def test_snapshot_80x24(snap_compare: Any, sched_store: Store, view: str) -> None:
    start, keys = SNAPSHOTS[view]
    assert snap_compare(console(sched_store, start), terminal_size=SIZE, run_before=after(*keys))


#: the approval snapshots' report folder: a fixed path, since the page prints it in full
SNAPSHOT_REPORTS = Path("/tmp/wk-console-snapshot/reports")


@pytest.mark.parametrize("view", ["approvals", "approval credit-default 2"], ids=["list", "report"])
def test_snapshot_approvals_80x24(snap_compare: Any, sched_store: Store, view: str) -> None:
    add_approval(sched_store, SNAPSHOT_REPORTS)
    assert snap_compare(console(sched_store, view), terminal_size=SIZE, run_before=after())


def test_snapshot_usage_80x24(snap_compare: Any, sched_store: Store) -> None:
    from store.wal import checkpoint_wal

    add_approval(sched_store, SNAPSHOT_REPORTS)
    add_usage(sched_store)
    checkpoint_wal(sched_store)  # the WAL's size is on screen: start it empty
    assert snap_compare(console(sched_store, "usage", files=True), terminal_size=SIZE,
                        run_before=after())


@pytest.mark.parametrize("view,keys", [("jobs", ("j", "j", "r", *"NaN fixed")),
                                       ("approvals", ("a", *"beats v1"))], ids=["run-now", "approve"])
def test_snapshot_confirmation_80x24(snap_compare: Any, sched_store: Store, view: str,
                                     keys: tuple[str, ...]) -> None:
    """r on nightly-retrain and a on credit-default v2: the change and the reason as typed."""
    add_approval(sched_store, SNAPSHOT_REPORTS)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        await pilot.press(*keys)
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal), "a confirmation")
        for widget in pilot.app.screen.query(Input):
            widget.cursor_blink = False
        await pilot.pause()

    assert snap_compare(console(sched_store, view), terminal_size=SIZE, run_before=run_before)


def test_snapshot_header_down_80x24(snap_compare: Any, sched_store: Store) -> None:
    set_daemon(sched_store, beat_minutes_ago=48)
    assert snap_compare(console(sched_store, "jobs"), terminal_size=SIZE, run_before=after())


# --- approvals ---------------------------------------------------------------------------

def test_approvals_list_then_report_then_approve_makes_it_production(sched_store: Store) -> None:
    """The pending v2 with its summary; enter: the metrics side by side, the Markdown report
    and the HTML path; a with a reason: production v1 -> v2, audited as version.approve."""
    html = add_approval(sched_store)

    async def scenario(pilot: Pilot[Any]) -> None:
        assert rows(pilot.app)["credit-default 2"] == (
            "credit-default", "v2 vs v1", "roc_auc 0.8291 vs 0.8134", "passed", "1: income", "40m")
        await pilot.press("enter")
        await settled(pilot)
        text = " ".join(screen_text(pilot.app).split())
        assert "metric v2 prod v1 delta roc_auc 0.8291 0.8134 +0.0157" in text
        assert "gate passed drifted 1: income html" in text
        assert str(html) in "".join(text.split()), text  # a long path wraps
        report = pilot.app.screen.query_one(Markdown)
        await until(pilot, lambda: "credit-default v2 against production v1" in report.source, "report")
        await pilot.press("a")
        change = await confirm_with(pilot, "beats v1")
        assert change == "credit-default production: v1 -> v2 (approved)"
        assert any("production v1 -> v2" in n for n in notices(pilot.app))

    run(sched_store, "approvals", scenario)
    assert show_model(sched_store, "credit-default")["aliases"]["production"] == 2
    event = audit_log(sched_store, action="version.approve", limit=1)[0]
    assert event["reason"] == "beats v1" and event["target"].endswith("v2")


def test_reject_needs_a_reason_and_leaves_production(sched_store: Store) -> None:
    add_approval(sched_store)

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("x")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal), "a confirmation")
        await pilot.press("enter")  # no reason: refused in the dialog
        await pilot.pause()
        assert "a reason is needed" in str(pilot.app.screen.query_one("#error", Static).render())
        await confirm_with(pilot, "income bug")
        await until(pilot, lambda: not rows(pilot.app), "the rejected version gone from the list")

    run(sched_store, "approvals", scenario)
    assert show_model(sched_store, "credit-default")["aliases"]["production"] == 1
    assert list_approvals(sched_store, status="rejected")[0]["reason"] == "income bug"


def test_read_only_hides_the_job_keys_and_says_why(sched_store: Store) -> None:
    async def main() -> None:
        app = console(sched_store, "jobs")
        app.read_only = True
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot)
            shown = {b.binding.action for b in pilot.app.screen.active_bindings.values() if b.binding.show}
            assert shown.isdisjoint({"run_job", "pause_job", "resume_job"})
            await pilot.press("r")
            await pilot.pause()
            assert not isinstance(pilot.app.screen, ConfirmModal)
            assert any("run now is unavailable" in n for n in notices(pilot.app))

    asyncio.run(main())
    assert len(list_runs(sched_store)) == 6


def test_jobs_refresh_shows_a_change_made_elsewhere(sched_store: Store) -> None:
    """`wk jobs pause` in another terminal: the row says paused at the next refresh, no key."""
    from scheduler.jobs_service import set_paused

    async def main() -> None:
        app = console(sched_store, "jobs")
        app.refresh_interval = 0.2
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot)
            await asyncio.to_thread(set_paused, sched_store, "store-backup", True, reason="cli")
            await until(pilot, lambda: rows(app)["store-backup"][1:3] == ("paused", "paused"),
                        "the refresh to show the pause")

    asyncio.run(main())
