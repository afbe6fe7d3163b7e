"""The daemon under faults: SIGKILLed during a run ten times (each restart abandons the run
and kills what it left, the job runs again on schedule, nothing stays running), a store
locked past its busy timeout while a job is due (reliability.md SCH-04), APScheduler's
thread dying (the daemon exits non-zero), and the systemd units that restart it."""

from __future__ import annotations

import configparser
import shlex
import signal
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scheduler_harness import add, gone, new_store, running_daemon, runs, start_daemon, wait_for

SYSTEMD = Path(__file__).resolve().parent.parent / "scheduler" / "systemd"


def test_daemon_sigkilled_during_a_run_ten_times(tmp_path):
    root = tmp_path / "store"
    store = new_store(root)
    add(store, "long", "sleep 5", every="1s")
    last_id, last_pid = 0, 0  # the run the killed daemon left, and its child
    for kill in range(11):
        daemon = start_daemon(root)
        if last_id:  # the restart abandoned the run the killed daemon left
            left = wait_for("the killed daemon's run abandoned", lambda last=last_id: [
                r for r in runs(store, "long", "abandoned") if r.id == last], 3, daemon)[0]
            assert "stopped before it ended" in left.error
            wait_for("the orphaned child killed", lambda pid=last_pid: gone(pid), 3)
        if kill == 10:
            break
        run = wait_for("a new run on schedule", lambda last=last_id: [
            r for r in runs(store, "long", "running") if r.pid and r.id > last], 8, daemon)[0]
        last_id, last_pid = run.id, run.pid
        daemon.stop(signal.SIGKILL)
    assert daemon.stop() == 0  # the last one stops cleanly: its run ends with it
    assert runs(store, "long", "running") == []
    assert not [r for r in runs(store, "long", "queued") if r.daemon_pid]
    assert len(runs(store, "long", "abandoned")) >= 10


def test_store_locked_past_busy_timeout_while_a_job_is_due(tmp_path):
    root = tmp_path / "store"
    store = new_store(root)
    add(store, "due", "true", every="1s")
    env = {"WK_BUSY_TIMEOUT_MS": "500"}  # the lock below is held three busy timeouts
    with running_daemon(root, env=env) as daemon:
        wait_for("a first run", lambda: runs(store, "due", "succeeded"), 10, daemon)
        holder = sqlite3.connect(root / "watchkeeper.db", timeout=10, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        time.sleep(1.5)
        assert daemon.proc.poll() is None
        holder.execute("COMMIT")
        holder.close()
        released = datetime.now(UTC)
        wait_for("runs again after the lock is released", lambda: [
            r for r in runs(store, "due", "succeeded") if r.started_at and r.started_at > released],
            10, daemon)
        assert daemon.proc.poll() is None
        assert any("locked" in e["message"] for e in daemon.lines()), "the lock went unnoticed"
        from scheduler.status import daemon_status

        wait_for("a fresh heartbeat", lambda: daemon_status(store)["heartbeat_age_s"] < 6, 8)
        status = wait_for("the trouble in the daemon's note", lambda: (
            s if "locked" in (s := daemon_status(store))["note"] else None), 8)
        assert status["alive"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_dead_scheduler_thread_ends_the_daemon_non_zero(tmp_path):
    """A trigger that raises kills APScheduler 3's thread (base.py calls the trigger outside
    any try after submitting a job): the loop notices and exits 1 for its supervisor."""
    from apscheduler.triggers.base import BaseTrigger

    from scheduler.daemon import EXIT_THREAD_DIED, Daemon
    from scheduler.timetable import EXECUTOR

    class Breaks(BaseTrigger):  # type: ignore[misc]
        def get_next_fire_time(self, previous, now):
            if previous is None:
                return now
            raise RuntimeError("a trigger bug")

    store = new_store(tmp_path / "store")
    daemon = Daemon(store, workers=1)
    daemon._start_scheduler(datetime.now(UTC))
    daemon.scheduler.add_job(print, trigger=Breaks(), id="broken", executor=EXECUTOR)
    wait_for("the scheduler thread dies", lambda: not daemon.scheduler_alive(), 3)
    done: list[int] = []
    loop = threading.Thread(target=lambda: done.append(daemon._loop()))
    loop.start()
    loop.join(5)
    daemon._shutdown()
    assert done == [EXIT_THREAD_DIED]


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string((SYSTEMD / name).read_text())
    return unit


def test_systemd_units_restart_the_daemons_with_the_store_from_the_env_file():
    from console.cli import build_parser

    env = (SYSTEMD / "watchkeeper.env.example").read_text()
    assert "WK_STORE=" in env
    for name, handler in (("wk-scheduler.service", "console.cli.scheduler_cmd:cmd_scheduler"),
                          ("wk-serve.service", "console.cli.serve:cmd_serve")):
        service = _unit(name)["Service"]
        assert service["Restart"] in ("always", "on-failure") and service["RestartSec"] == "2"
        assert service["EnvironmentFile"] == "/etc/watchkeeper/watchkeeper.env"
        assert service["User"]
        argv = shlex.split(service["ExecStart"])
        assert argv[0].endswith("/.venv/bin/wk")
        args = build_parser().parse_args(argv[1:])
        assert args.handler == handler
        assert _unit(name)["Install"]["WantedBy"] == "multi-user.target"


def test_sigterm_gives_runs_their_grace_then_kills_and_records_them(tmp_path):
    root = tmp_path / "store"
    store = new_store(root)
    began_quick = tmp_path / "quick-began"
    add(store, "slow", "sleep 30", every="1h")
    # the quick one marks when its command (not its child's start-up) began: under load the
    # child's imports alone can outlast the grace, which is not what this test is about
    add(store, "quick", f"sh -c 'touch {began_quick}; sleep 0.2'", every="1h")
    from scheduler import jobs_service

    daemon = start_daemon(root, "--stop-grace", "5")
    for name in ("slow", "quick"):
        jobs_service.run_now(store, name, actor="test")
    run = wait_for("both running", lambda: len(
        [r for r in runs(store, "slow", "running") + runs(store, "quick", "running") if r.pid]) == 2
        and runs(store, "slow", "running"), 10, daemon)[0]
    wait_for("the quick command began", began_quick.exists, 15, daemon)
    began = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - began < 5 + 3 + 3  # the grace, SIGTERM's grace, the exit
    [slow] = runs(store, "slow")
    assert slow.id == run.id and slow.status == "failed" and slow.error == "stopped with the daemon"
    assert wait_for("the child gone", lambda: gone(run.pid), 3)
    assert [r.status for r in runs(store, "quick")] == ["succeeded"]  # it finished in its grace
    from scheduler.status import daemon_status

    assert daemon_status(store)["state"] == "stopped"


def test_a_slot_later_than_its_grace_is_recorded_missed(tmp_path):
    """The daemon stalled (SIGSTOP, a suspended machine) past a slot's grace (1 s for a 1 s
    job): APScheduler's misfire is a `missed` row, not a silent drop (SCH-06)."""
    root = tmp_path / "store"
    store = new_store(root)
    add(store, "tick", "true", every="1s")
    with running_daemon(root) as daemon:
        wait_for("a first slot", lambda: runs(store, "tick"), 8, daemon)
        daemon.proc.send_signal(signal.SIGSTOP)
        time.sleep(3.0)
        daemon.proc.send_signal(signal.SIGCONT)
        missed = wait_for("the late slots recorded", lambda: [
            r for r in runs(store, "tick", "missed") if "s late" in r.note], 4, daemon)
        assert len(missed) >= 2 and all("coalesced" in r.note or "past its grace" in r.note
                                        for r in missed)
        slots = [r.scheduled_for for r in runs(store, "tick")]
        assert len(set(slots)) == len(slots), "a slot recorded twice"
