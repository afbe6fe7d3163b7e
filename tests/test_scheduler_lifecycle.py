"""reliability.md PBT-02: the run lifecycle as a Hypothesis state machine over the real
ledger (store/run_ledger.py) and the start-up reaper (scheduler/recovery.py).

Rules: queue a slot, a manual rerun (run-now), start a queued run, heartbeat, finish,
crash (the daemon dies: its runs stay `running`), and the reaper tick of the next daemon.
Invariants: at most one running run per job; after a reaper tick no run of a dead daemon
is left running; a run in a final state never changes again."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from scheduler_harness import add, new_store

from scheduler import recovery
from store import jobs, run_ledger
from store.handle import Store
from store.job_tables import JobRun
from store.run_ledger import Ending
from store.vocabulary import JOB_RUN_FINAL, JobRunStatus, JobTrigger

_STORE: list[Store] = []
_NAMES = itertools.count()


def _store(tmp: Path) -> Store:
    if not _STORE:
        _STORE.append(new_store(tmp / "store"))
    return _STORE[0]


class RunLifecycle(RuleBasedStateMachine):
    tmp: Path

    def __init__(self) -> None:
        super().__init__()
        self.store = _store(self.tmp)
        self.jobs = []
        for _ in range(2):
            name = f"life-{next(_NAMES)}"
            add(self.store, name, "true")
            self.jobs.append(name)
        self.daemon = 1000 + next(_NAMES) * 10
        self.final: dict[int, tuple[str, object]] = {}  # run id -> (status, ended_at)
        self.reaped = False

    def _runs(self) -> list[JobRun]:
        with self.store.db.read() as session:
            return [r for name in self.jobs for r in jobs.list_runs(session, job_name=name)]

    @rule(job=st.integers(0, 1), manual=st.booleans())
    def queue(self, job: int, manual: bool) -> None:
        with self.store.db.write() as session:
            row = jobs.get_job(session, self.jobs[job])
            if manual:
                jobs.queue_run(session, row, trigger=JobTrigger.RUN_NOW)
            else:
                run_ledger.queue_slot(session, row, trigger=JobTrigger.SCHEDULE,
                                      scheduled_for=None, daemon_pid=self.daemon)

    @rule(pick=st.integers(0, 50))
    def start(self, pick: int) -> None:
        queued = [r for r in self._runs() if r.status == JobRunStatus.QUEUED]
        if queued:
            with self.store.db.write() as session:
                run_ledger.start(session, queued[pick % len(queued)].id, host="h",
                                 daemon_pid=self.daemon)

    @rule()
    def heartbeat(self) -> None:
        with self.store.db.write() as session:
            run_ledger.heartbeat(session, self.daemon)

    @rule(pick=st.integers(0, 50), status=st.sampled_from(
        [JobRunStatus.SUCCEEDED, JobRunStatus.FAILED, JobRunStatus.TIMED_OUT]))
    def finish(self, pick: int, status: str) -> None:
        running = [r for r in self._runs() if r.status == JobRunStatus.RUNNING]
        if running:
            with self.store.db.write() as session:
                run_ledger.finish(session, running[pick % len(running)].id, Ending(status))

    @rule()
    def crash_and_reap(self) -> None:
        """The daemon dies (its runs stay running); the next one starts and reaps."""
        self.daemon += 1
        with self.store.db.write() as session:
            recovery.abandon_orphans(session, host="h", daemon_pid=self.daemon)
        self.reaped = True

    @invariant()
    def one_running_per_job(self) -> None:
        running = [r.job_id for r in self._runs() if r.status == JobRunStatus.RUNNING]
        assert len(running) == len(set(running))

    @invariant()
    def no_dead_daemon_left_running(self) -> None:
        if self.reaped:
            assert all(r.daemon_pid == self.daemon for r in self._runs()
                       if r.status in (JobRunStatus.RUNNING, JobRunStatus.QUEUED) and r.daemon_pid)

    @invariant()
    def final_is_final(self) -> None:
        for run in self._runs():
            assert run.id is not None
            if run.id in self.final:
                assert (run.status, run.ended_at) == self.final[run.id], run
            elif run.status in JOB_RUN_FINAL:
                self.final[run.id] = (run.status, run.ended_at)


def test_run_lifecycle_state_machine(tmp_path):
    RunLifecycle.tmp = tmp_path
    _STORE.clear()
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(RunLifecycle, settings=settings(
        max_examples=25, stateful_step_count=20, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
