"""The scheduler's pieces in-process: the lease's refusals and take-overs, the ledger's
one-running-run rule (reliability.md SCH-08), the reaping of a dead daemon's runs, the
retry backoff and deadline, an attempt's limits, the WAL checkpoint and its warning
(DB-05), the log tail."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from scheduler_harness import add, new_store

from scheduler import follow_up, recovery
from scheduler.runner import limits_for, log_tail
from store import jobs, run_ledger, scheduler_lease, wal
from store.engine import BUSY_TIMEOUT_MS
from store.errors import Conflict
from store.job_tables import Job, SchedulerDaemon
from store.vocabulary import JobRunStatus, JobTrigger

T0 = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def test_lease_refuses_a_live_holder_and_takes_over_from_a_dead_one(tmp_path):
    store = new_store(tmp_path / "store")
    with store.db.write() as session:  # this very process holds it (a live pid on this host)
        assert scheduler_lease.acquire(session, host=os.uname().nodename, pid=os.getpid()) is None
    with pytest.raises(Conflict, match=r"another scheduler holds this store: host .*, pid "
                                       rf"{os.getpid()}, since .* UTC \(heartbeat 0 s ago\)"):
        with store.db.write() as session:
            scheduler_lease.acquire(session, host=os.uname().nodename, pid=os.getpid() + 10**6)
    with store.db.write() as session:  # another host with a fresh heartbeat: refused
        row = session.get(SchedulerDaemon, 1)
        row.host, row.pid = "elsewhere", 123
        session.add(row)
    with pytest.raises(Conflict, match="host elsewhere, pid 123"):
        with store.db.write() as session:
            scheduler_lease.acquire(session, host="here", pid=1)
    with store.db.write() as session:  # ... and with a stale one: taken over
        row = session.get(SchedulerDaemon, 1)
        row.heartbeat_at = row.heartbeat_at - timedelta(seconds=scheduler_lease.STALE_S + 1)
        session.add(row)
    with store.db.write() as session:
        previous = scheduler_lease.acquire(session, host="here", pid=1)
    assert previous is not None and previous.host == "elsewhere"
    with pytest.raises(Conflict, match="lost its lease"), store.db.write() as session:
        scheduler_lease.heartbeat(session, host="elsewhere", pid=123, jobs=0, running=0)


def test_one_running_run_per_job_the_second_is_skipped(tmp_path):
    store = new_store(tmp_path / "store")
    add(store, "solo", "true")
    with store.db.write() as session:
        job = jobs.get_job(session, "solo")
        first = jobs.queue_run(session, job, trigger=JobTrigger.SCHEDULE)
        second = jobs.queue_run(session, job, trigger=JobTrigger.RUN_NOW)
    with store.db.write() as session:
        assert run_ledger.start(session, first.id, host="h", daemon_pid=1).status == "running"
    with store.db.write() as session:
        run = run_ledger.start(session, second.id, host="h", daemon_pid=1)
    assert run.status == JobRunStatus.SKIPPED
    assert run.note == f"previous run {first.id} still running"
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), store.db.write() as session:  # the index backs it
        raw = jobs.get_run(session, second.id)
        raw.status = JobRunStatus.RUNNING
        session.add(raw)


def test_a_dead_daemons_runs_are_abandoned_and_retried(tmp_path):
    store = new_store(tmp_path / "store")
    add(store, "left", "true", retries=1, backoff_s=30)
    with store.db.write() as session:
        job = jobs.get_job(session, "left")
        running = jobs.queue_run(session, job, trigger=JobTrigger.SCHEDULE)
        slot = run_ledger.queue_slot(session, job, trigger=JobTrigger.SCHEDULE, scheduled_for=T0,
                                     daemon_pid=99)
        asked = jobs.queue_run(session, job, trigger=JobTrigger.RUN_NOW)
    with store.db.write() as session:
        run_ledger.start(session, running.id, host="h", daemon_pid=99)
    with store.db.write() as session:
        left = recovery.abandon_orphans(session, host="h", daemon_pid=100)
    assert sorted(r.id for r in left) == sorted([running.id, slot.id])
    with store.db.read() as session:
        by_id = {r.id: r for r in jobs.list_runs(session, job_name="left")}
    assert by_id[running.id].status == "abandoned" and "stopped before it ended" in \
        by_id[running.id].error
    assert by_id[asked.id].status == "queued"  # a person's request waits for the new daemon
    retries = [r for r in by_id.values() if r.trigger == JobTrigger.RETRY]
    assert {r.first_run_id for r in retries} == {running.id, slot.id}
    assert all(r.attempt == 2 and r.not_before > r.queued_at for r in retries)


def test_retry_backoff_doubles_and_stops_at_the_deadline():
    job = Job(name="j", kind="command", retries=3, backoff_s=10, deadline_s=100)
    assert follow_up.retry_at(job, 1, T0, T0) == T0 + timedelta(seconds=10)
    assert follow_up.retry_at(job, 2, T0, T0) == T0 + timedelta(seconds=20)
    assert follow_up.retry_at(job, 3, T0, T0 + timedelta(seconds=70)) is None  # 70+40 > 100
    assert follow_up.retry_at(job, 3, T0, T0 + timedelta(seconds=10)) == T0 + timedelta(seconds=50)
    assert follow_up.retry_at(job, 4, T0, T0) is None  # no attempts left
    assert limits_for(Job(name="j", kind="c", timeout_s=60, deadline_s=100), 70).timeout_s == 30
    assert limits_for(Job(name="j", kind="c", timeout_s=60, deadline_s=100), 70).deadline
    assert limits_for(Job(name="j", kind="c", timeout_s=60), 70).timeout_s == 60


def test_wal_checkpoint_truncates_and_warns_past_its_bound(tmp_path):
    store = new_store(tmp_path / "store")
    for i in range(5):
        add(store, f"j{i}", "true")
    assert wal.file_bytes(wal.wal_path(store)) > 0
    done = wal.periodic_checkpoint(store)
    assert done is not None and not done.busy and done.wal_bytes == 0 and done.warning == ""
    reader = sqlite3.connect(tmp_path / "store" / "watchkeeper.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM job").fetchone()  # a long read holds the WAL
    add(store, "more", "true")
    held = wal.periodic_checkpoint(store)
    reader.close()
    assert held is not None and held.busy and held.wal_bytes > 0
    with store.db.read() as session:  # the connection got its busy timeout back
        from sqlmodel import text

        assert session.exec(text("PRAGMA busy_timeout")).one()[0] == BUSY_TIMEOUT_MS
    big = wal.Checkpoint(busy=True, wal_frames=1, checkpointed=0, wal_bytes=65 * 2**20 + 1)
    assert big.warning.startswith("the WAL is 65 MB (over 64 MB) after a checkpoint")


def test_log_tail_keeps_the_last_whole_lines(tmp_path):
    log = tmp_path / "run.log"
    log.write_text("".join(f"line {i}\n" for i in range(2000)))
    tail = log_tail(log, 100)
    assert tail.endswith("line 1999\n") and tail.startswith("line ") and len(tail) <= 100
    assert log_tail(tmp_path / "none.log") == ""
