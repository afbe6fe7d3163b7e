"""A run's child process under the daemon: killed with SIGKILL mid-run (reliability.md
SCH-05), hung past its timeout with a grandchild (the whole group goes), over its memory
limit, retried with backoff, and followed by the jobs that run after it."""

from __future__ import annotations

import os
import signal
import time

from scheduler_harness import add, gone, new_store, running_daemon, runs, wait_for

from store.vocabulary import JobRunStatus, JobTrigger

HANG = "sh -c 'echo grandchild $$; sleep 300 & echo bg $!; sleep 300'"
GREEDY = ("python -c \"import time\nx=[]\nwhile True:\n    x.append(bytearray(20*2**20))\n"
          "    time.sleep(0.05)\"")


def test_child_killed_mid_run_fails_with_signal_and_the_next_slot_runs(tmp_path):
    root = tmp_path / "store"
    store = new_store(root)
    add(store, "victim", "sleep 30", every="2s")
    with running_daemon(root) as daemon:
        run = wait_for("a running run with its pid", lambda: [
            r for r in runs(store, "victim", "running") if r.pid], 10, daemon)[0]
        os.kill(run.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        done = wait_for("the run failed", lambda: [r for r in runs(store, "victim")
                                                   if r.id == run.id and r.status == "failed"],
                        5, daemon)[0]
        assert time.monotonic() - killed_at < 2.0
        assert done.signal == 9 and "signal 9" in done.error and done.ended_at
        assert done.cpu_s is not None and done.peak_memory_mb and done.wall_s
        wait_for("the next slot runs", lambda: [r for r in runs(store, "victim", "running")
                                                if r.id > run.id], 6, daemon)


def test_hung_job_is_killed_with_its_children_while_another_keeps_its_schedule(tmp_path):
    root = tmp_path / "store"
    store = new_store(root)
    # the timeout counts the child's start-up too (about 2 s of imports, more under load):
    # 7 s leaves the hanging script time to start its grandchildren before the kill
    add(store, "hang", HANG, every="1h", timeout_s=7)
    add(store, "steady", "true", every="2s")
    from scheduler import jobs_service

    with running_daemon(root) as daemon:
        jobs_service.run_now(store, "hang", actor="test")
        run = wait_for("the hung run times out", lambda: runs(store, "hang", "timed_out"), 16,
                       daemon)[0]
        assert "timed out" in run.error and "timeout: 7 s" in run.error
        assert run.signal in (signal.SIGTERM, signal.SIGKILL)
        pids = [int(line.split()[1]) for line in run.log_tail.splitlines()
                if line.startswith(("grandchild ", "bg "))]
        assert len(pids) == 2, run.log_tail
        wait_for("the grandchildren gone", lambda: all(gone(p) for p in pids), 3)
        wait_for("the other job ran while one hung", lambda: [
            r for r in runs(store, "steady", "succeeded")
            if run.started_at and run.ended_at and any(
                t and run.started_at < t < run.ended_at for t in (r.started_at, r.ended_at))],
            6, daemon)


def test_memory_hog_is_killed_at_its_limit(tmp_path):
    root = tmp_path / "store"
    store = new_store(root)
    add(store, "hog", GREEDY, every="1h", memory_mb=200)
    # one allocation far past the limit, faster than the watch: the address-space backstop
    add(store, "gulp", "python -c 'bytearray(4 * 2**30)'", every="1h", memory_mb=100)
    from scheduler import jobs_service

    with running_daemon(root) as daemon:
        jobs_service.run_now(store, "hog", actor="test")
        jobs_service.run_now(store, "gulp", actor="test")
        run = wait_for("the hog killed", lambda: runs(store, "hog", "failed"), 15, daemon)[0]
        gulp = wait_for("the gulp refused", lambda: runs(store, "gulp", "failed"), 15, daemon)[0]
    assert run.error.startswith("killed at its memory limit of 200 MB (peak "), run.error
    assert run.signal == signal.SIGKILL and run.peak_memory_mb >= 200
    assert "MemoryError" in gulp.log_tail and gulp.peak_memory_mb < 100


def test_failures_are_retried_with_backoff_then_given_up(tmp_path):
    root = tmp_path / "store"
    store = new_store(root)
    add(store, "flaky", "false", every="1h", retries=2, backoff_s=1)
    from scheduler import jobs_service

    with running_daemon(root) as daemon:
        jobs_service.run_now(store, "flaky", actor="test")
        wait_for("three failed attempts", lambda: len(runs(store, "flaky", "failed")) == 3, 20,
                 daemon)
        time.sleep(1.5)
        attempts = runs(store, "flaky")
    assert [r.attempt for r in attempts] == [1, 2, 3]
    assert [r.trigger for r in attempts] == [JobTrigger.RUN_NOW, JobTrigger.RETRY, JobTrigger.RETRY]
    assert attempts[1].first_run_id == attempts[2].first_run_id == attempts[0].id
    for before, after, wait in ((attempts[0], attempts[1], 1), (attempts[1], attempts[2], 2)):
        assert (after.not_before - before.ended_at).total_seconds() >= wait - 0.1
        assert after.started_at >= after.not_before
    assert all(r.exit_code == 1 and "exited with 1" in r.error for r in attempts)


def test_a_success_starts_the_jobs_after_it(tmp_path):
    root = tmp_path / "store"
    store = new_store(root)
    add(store, "first", "true", every="1h")
    add(store, "second", "true", every=None, after="first")
    add(store, "third", "false", every=None, after="second")
    add(store, "fourth", "true", every=None, after="third")
    from scheduler import jobs_service

    with running_daemon(root) as daemon:
        jobs_service.run_now(store, "first", actor="test")
        third = wait_for("the chain to its failing step", lambda: runs(store, "third", "failed"),
                         20, daemon)[0]
        time.sleep(1.5)
    second = runs(store, "second")
    assert [r.trigger for r in second] == [JobTrigger.AFTER] and second[0].status == "succeeded"
    assert third.trigger == JobTrigger.AFTER and third.started_at > second[0].ended_at
    assert runs(store, "fourth") == [], "a job ran after a failure"
    assert JobRunStatus.RUNNING not in {r.status for r in runs(store, "first")}
