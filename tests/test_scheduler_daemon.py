"""The scheduler daemon as a real `wk scheduler` process on a temp store: one per store
(reliability.md SCH-01), job edits through scheduler.jobs_service reach it within 2 s
(SCH-02), run-now runs at once, and catch-up after downtime (SCH-03) by each policy; the
catch-up policy itself as a pure function."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta

from scheduler_harness import PY, add, new_store, running_daemon, runs, start_daemon, wait_for

from scheduler import catch_up, jobs_service
from scheduler.jobs_service import JobSettings
from store.vocabulary import CatchUp, JobRunStatus, JobTrigger

OK = "true"


def test_second_daemon_refused_naming_the_holder(tmp_path):
    root = tmp_path / "store"
    new_store(root)
    with running_daemon(root) as first:
        second = subprocess.run([PY, "-m", "console.cli", "scheduler", "--store", str(root)],
                                capture_output=True, text=True, timeout=30)
        assert second.returncode != 0
        assert "another scheduler holds this store" in second.stderr
        assert f"pid {first.proc.pid}" in second.stderr and "since" in second.stderr
        status = subprocess.run([PY, "-m", "console.cli", "scheduler", "--status", "--store",
                                 str(root)], capture_output=True, text=True, timeout=30)
        assert status.returncode == 0, status.stderr
        assert str(first.proc.pid) in status.stdout
        as_json = subprocess.run([PY, "-m", "console.cli", "scheduler", "--status", "--json",
                                  "--store", str(root)], capture_output=True, text=True, timeout=30)
        import json

        doc = json.loads(as_json.stdout)
        assert as_json.returncode == 0 and doc["alive"] and doc["holder"]["pid"] == first.proc.pid
    # stopped cleanly: the lease is free, --status says no daemon (3), a new one starts
    status = subprocess.run([PY, "-m", "console.cli", "scheduler", "--status", "--store", str(root)],
                            capture_output=True, text=True, timeout=30)
    assert status.returncode == 3 and "stopped" in status.stdout


def test_edits_reach_the_daemon_within_two_seconds(tmp_path):
    root = tmp_path / "store"
    store = new_store(root)
    with running_daemon(root) as daemon:
        add(store, "tick", OK)  # added while it runs
        wait_for("a slot of the new job", lambda: runs(store, "tick"), 2.5, daemon)
        wait_for("a run of the new job", lambda: runs(store, "tick", "succeeded"), 8, daemon)
        def took(change: str, seen: int) -> None:  # the daemon logged the change within 2 s
            wait_for(f"the daemon's '{change}'", lambda: daemon.log().count(change) > seen, 2.5,
                     daemon)

        with store.db.read() as session:
            from store.jobs import get_job

            off = f"job {get_job(session, 'tick').id} off the timetable"
        seen = daemon.log().count(off)
        jobs_service.set_paused(store, "tick", True, actor="test")
        took(off, seen)
        time.sleep(0.5)  # a run claimed just before the pause may still be written
        count = len(runs(store, "tick"))
        time.sleep(1.6)  # more than one 1 s interval
        assert len(runs(store, "tick")) == count, "a paused job kept running"
        jobs_service.set_paused(store, "tick", False, actor="test")
        wait_for("a slot after resume", lambda: len(runs(store, "tick")) > count, 2.5, daemon)
        seen = daemon.log().count("job tick updated")
        jobs_service.edit_job(store, "tick", JobSettings(every="1h"), actor="test")
        took("job tick updated", seen)
        time.sleep(0.5)
        count = len(runs(store, "tick"))
        time.sleep(1.6)
        assert len(runs(store, "tick")) == count, "the edit to hourly did not take effect"
        jobs_service.run_now(store, "tick", actor="test")  # paused or hourly: a person asked
        wait_for("the run-now run", lambda: [r for r in runs(store, "tick", "succeeded")
                                            if r.trigger == JobTrigger.RUN_NOW], 8, daemon)
        count = len(runs(store, "tick"))
        jobs_service.edit_job(store, "tick", JobSettings(every="1s"), actor="test")
        wait_for("slots at the edited interval", lambda: len(runs(store, "tick")) > count, 2.5,
                 daemon)
        seen = daemon.log().count(off)
        jobs_service.remove_job(store, "tick", actor="test")
        took(off, seen)
        time.sleep(0.5)
        with store.db.read() as session:
            from sqlmodel import func, select

            from store.job_tables import JobRun
            total = session.exec(select(func.count()).select_from(JobRun)).one()
        time.sleep(1.6)
        with store.db.read() as session:
            assert session.exec(select(func.count()).select_from(JobRun)).one() == total
        assert daemon.proc.poll() is None
        import sqlite3

        tables = {row[0] for row in sqlite3.connect(root / "watchkeeper.db").execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "apscheduler_jobs" not in tables  # APScheduler keeps its jobs in memory only
        lines = daemon.lines()
        assert lines and all({"time", "level", "logger", "message"} <= set(e) for e in lines)
        assert any(e.get("run_id") for e in lines)


#: the three catch-up policies, one job each in one store: (policy, limit, runs expected)
POLICIES = {"latest": (CatchUp.LATEST, 1, 1), "skip": (CatchUp.SKIP, 1, 0),
            "all": (CatchUp.ALL, 2, 2)}


def test_catch_up_after_downtime(tmp_path):
    """Three 1 s jobs (one per policy) and a daemon SIGKILLed, then down for 6 s (at least
    four slots): after the restart each job runs what its policy says, every missed slot is
    in the ledger once with the note, and the timetable goes on from there."""
    from store import audit

    root = tmp_path / "store"
    store = new_store(root)
    for name, (policy, limit, _ran) in POLICIES.items():
        add(store, name, OK, catch_up=policy, catch_up_limit=limit)
    with running_daemon(root) as daemon:
        wait_for("a first run of each", lambda: all(runs(store, n, "succeeded") for n in POLICIES),
                 10, daemon)
        daemon.stop(signal.SIGKILL)
    time.sleep(6.0)
    before = {n: runs(store, n) for n in POLICIES}

    def caught_up(name: str) -> bool:
        ran = POLICIES[name][2]
        new = [r for r in runs(store, name) if r.id > before[name][-1].id]
        return len([r for r in new if r.trigger == JobTrigger.CATCH_UP
                    and r.status == "succeeded"]) == ran and any(
            r.trigger == JobTrigger.SCHEDULE for r in new)

    with running_daemon(root) as daemon:
        wait_for("the catch-up runs and a slot after them",
                 lambda: all(caught_up(n) for n in POLICIES), 15, daemon)
    for name, (policy, _limit, ran) in POLICIES.items():
        last_before = max(r.scheduled_for for r in before[name] if r.scheduled_for)
        new = [r for r in runs(store, name) if r.id > before[name][-1].id]
        caught = [r for r in new if r.trigger == JobTrigger.CATCH_UP and r.status != "missed"]
        missed = [r for r in new if r.status == JobRunStatus.MISSED and "while down" in r.note]
        assert all(r.trigger == JobTrigger.CATCH_UP for r in missed)
        assert len(caught) == ran, name
        total = len(caught) + len(missed)
        note = f"missed {total} while down, ran {ran}"
        assert all(note in r.note for r in caught + missed), name
        # every slot of the downtime is in the ledger once, and the timetable goes on from there
        slots = sorted(r.scheduled_for for r in caught + missed)
        assert slots == [last_before + timedelta(seconds=k + 1) for k in range(total)], name
        assert total >= 4, name
        first_after = min(r.scheduled_for for r in new if r.trigger == JobTrigger.SCHEDULE)
        assert first_after == slots[-1] + timedelta(seconds=1), name
        if policy == CatchUp.ALL:  # the oldest ones run, oldest first
            assert [r.scheduled_for for r in caught] == slots[:2]
        with store.db.read() as session:
            events = audit.list_events(session, action="scheduler.catch_up",
                                       target_prefix=f"job/{name}")
        assert events and events[0].after["ran"] == ran and events[0].after["missed"] == total
    store.close()


def test_catch_up_plan_is_the_policy():
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    slots = [t0 + timedelta(hours=h) for h in (2, 0, 1)]
    latest = catch_up.plan(CatchUp.LATEST, slots)
    assert latest.run == (slots[0],) and latest.missed == (slots[1], slots[2])
    assert latest.note == "missed 3 while down, ran 1"
    skip = catch_up.plan(CatchUp.SKIP, slots)
    assert skip.run == () and len(skip.missed) == 3 and skip.note == "missed 3 while down, ran 0"
    every = catch_up.plan(CatchUp.ALL, slots, limit=2)
    assert every.run == (slots[1], slots[2]) and every.missed == (slots[0],)
    assert catch_up.plan(CatchUp.ALL, slots, limit=5).run == tuple(sorted(slots))
    assert catch_up.plan(CatchUp.LATEST, []).note == ""


def test_paused_job_has_no_catch_up_and_second_start_is_clean(tmp_path):
    root = tmp_path / "store"
    store = new_store(root)
    add(store, "quiet", OK)
    jobs_service.set_paused(store, "quiet", True, actor="test")
    start_daemon(root).stop()
    time.sleep(2.0)
    with running_daemon(root):
        time.sleep(1.0)
    assert runs(store, "quiet") == []
