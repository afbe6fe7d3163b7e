"""`wk scheduler`: the one daemon of a store that runs its jobs on their timetable.

Start: take the store's lease (store/scheduler_lease.py; a second daemon is refused,
naming the holder), abandon what the previous daemon left running, record and run the
slots missed while no daemon ran (scheduler/recovery.py, scheduler/catch_up.py), then
start APScheduler 3's BackgroundScheduler over an in-memory timetable of the job table
(scheduler/timetable.py: grace, coalescing and overlap are set there on purpose).

The main loop, at least once a second: writes the slots APScheduler handed over as
queued (or missed) runs, re-reads the job table (an edit takes effect within about a
second), claims due queued runs one by one in the order they came (running, or skipped
beside a running run of the job) and hands the claimed ones to a bounded pool of worker
threads (a slot's run, a run-now someone asked for, a retry whose backoff passed, a job
that follows one that succeeded), renews the lease and the running runs' heartbeats every HEARTBEAT_S, runs a
WAL checkpoint every CHECKPOINT_S, decides open canary watches (promotion policy auto,
scheduler/canary.py) every CANARY_S, and checks APScheduler's thread is alive. A dead
scheduler thread ends the daemon with exit 1, so its supervisor (systemd) restarts it;
a store locked past its busy timeout is tried again each second, and a daemon that could
not write its heartbeat for GIVE_UP_S exits 3.

Paused jobs have no slots (run-now still runs them: a person asked). A slot, or a run-now,
that comes while the job's previous run is running is recorded as `skipped`; catch-up,
retry and after runs wait for it instead.

A thread delivers the alert notification outbox alongside (monitoring/outbox_sender.py).

SIGTERM or SIGINT: no more slots are taken, running children get stop_grace_s (10) to end, then
their groups are killed and the runs marked failed "stopped with the daemon"; the lease is
released and the daemon exits 0.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC
from typing import TYPE_CHECKING, Any

from monitoring import outbox_sender
from scheduler import recovery
from scheduler.runner import STOP_GRACE_S, Claim, Runner
from scheduler.timetable import EXECUTOR, Slot, SlotExecutor, Timetable
from store import run_ledger, scheduler_lease, wal
from store.errors import StoreUnavailable
from store.job_tables import Job
from store.jobs import list_jobs
from store.markers import self_recording
from store.run_life import this_process
from store.scheduler_lease import HEARTBEAT_S
from store.types import utcnow
from store.vocabulary import JobTrigger

if TYPE_CHECKING:
    from sqlmodel import Session

    from store.handle import Store

log = logging.getLogger(__name__)

LOOP_S = 1.0
#: open canary watches of promotion policy auto are decided this often (scheduler/canary.py)
CANARY_S = 2.0
CHECKPOINT_S = 300.0
#: the daemon exits (3) when its heartbeat could not be written this long
GIVE_UP_S = 60.0
#: a store problem (locked past its busy timeout) stays in the daemon's note this long
PROBLEM_SHOWN_S = 600.0
#: these runs wait while their job runs; the others (a slot, a run-now) are skipped
WAITING_TRIGGERS = frozenset({JobTrigger.CATCH_UP, JobTrigger.RETRY, JobTrigger.AFTER})
EXIT_OK, EXIT_THREAD_DIED, EXIT_STORE = 0, 1, 3


class Daemon:
    def __init__(self, store: Store, *, workers: int = 4, stop_grace_s: float = STOP_GRACE_S) -> None:
        self.store = store
        self.workers = workers
        self.stop_grace_s = stop_grace_s
        self.host, self.pid = this_process()
        self.actor = f"scheduler@{self.host}"
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.slots: queue.Queue[Slot] = queue.Queue()
        self.pending: list[Slot] = []  # slots taken off the queue, not yet written
        self.in_flight: dict[int, tuple[int | None, Future[Any]]] = {}  # run id -> (job id, work)
        self.in_flight_lock = threading.Lock()  # the workers remove their runs as they end
        self.runner = Runner(store, host=self.host, daemon_pid=self.pid, stopping=self.stopping,
                             on_trouble=self._trouble)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="run")
        self.scheduler: Any = None
        self.sender: threading.Thread | None = None  # the outbox sender (alert notifications)
        self.timetable: Timetable | None = None
        self.last_beat = time.monotonic()
        self.last_sync = self.last_checkpoint = self.last_canary = 0.0
        self.wal: wal.Checkpoint | None = None
        self.problem = ""  # the last store trouble, shown in the lease row's note for a while
        self.problem_at = 0.0

    # -- life ------------------------------------------------------------------------------

    @self_recording("the daemon's lease and heartbeat row and the job run rows are the record")
    def run(self) -> int:
        with self.store.db.write() as session:
            previous = scheduler_lease.acquire(session, host=self.host, pid=self.pid)
        log.info("scheduler started (host %s, pid %s, %d workers) on %s", self.host, self.pid,
                 self.workers, self.store.location.describe())
        self._install_signals()
        try:
            since = self._recover(previous)
            self._start_scheduler(since)
            self.sender = outbox_sender.start_thread(self.store, self.stopping)
            return self._loop()
        finally:
            self._shutdown()

    def stop(self) -> None:
        """Begin a clean stop (what SIGTERM does)."""
        if self.runner.stop_deadline is None:
            self.runner.stop_deadline = time.monotonic() + self.stop_grace_s
        self.stopping.set()
        self.wake.set()

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda _n, _f: self.stop())

    @self_recording("recovered runs are recorded on their job run rows")
    def _recover(self, previous: scheduler_lease.Holder | None) -> Any:
        now = utcnow()
        with self.store.db.write() as session:
            left = recovery.abandon_orphans(session, host=self.host, daemon_pid=self.pid)
            plans = recovery.catch_up_all(session, previous=previous, now=now,
                                          daemon_pid=self.pid, actor=self.actor)
        if left or plans:
            log.info("recovered: %d runs abandoned, %d jobs caught up", len(left), len(plans))
        return now

    def _start_scheduler(self, since: Any) -> None:
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        self.scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={EXECUTOR: SlotExecutor(self.slots)}, timezone=UTC)
        self.timetable = Timetable(self.scheduler)
        with self.store.db.read() as session:
            jobs = list_jobs(session)
        self._log_changes(self.timetable.sync(jobs, now=utcnow(), since=since))
        self.last_sync = time.monotonic()
        self.scheduler.start()
        log.info("scheduler running: %d jobs on the timetable", len(self.timetable))

    @self_recording("the daemon's row records its stop")
    def _shutdown(self) -> None:
        self.stop()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self.sender is not None:  # ends its pass: at most one delivery's timeout
            self.sender.join(timeout=self.stop_grace_s)
        try:
            with self.store.db.write() as session:
                for run in run_ledger.queued_by(session, self.pid, self.host):
                    run_ledger.abandon(session, run, "not started: the scheduler stopped first")
                scheduler_lease.release(session, host=self.host, pid=self.pid)
        except StoreUnavailable as exc:
            log.error("could not release the lease: %s", exc.message)
        log.info("scheduler stopped")

    # -- the loop --------------------------------------------------------------------------

    def scheduler_alive(self) -> bool:
        """APScheduler's thread is running (BackgroundScheduler keeps it in `_thread`)."""
        thread = getattr(self.scheduler, "_thread", None)
        return bool(thread is not None and thread.is_alive())

    def _loop(self) -> int:
        while not self.stopping.is_set():
            self.wake.wait(LOOP_S)
            self.wake.clear()
            if self.stopping.is_set():
                break
            if not self.scheduler_alive():
                log.error("the scheduler thread died: exiting so the supervisor restarts the "
                          "daemon")
                return EXIT_THREAD_DIED
            try:
                self.step()
            except StoreUnavailable as exc:
                down = time.monotonic() - self.last_beat
                log.warning("the store is unavailable (%.0f s without a heartbeat): %s", down,
                            exc.message)
                self._trouble(exc.message)
                if down > GIVE_UP_S:
                    log.error("no heartbeat written for %.0f s: exiting", down)
                    return EXIT_STORE
        return EXIT_OK

    def step(self) -> None:
        self._write_slots()
        now = time.monotonic()
        if now - self.last_sync >= LOOP_S:
            with self.store.db.read() as session:
                jobs = list_jobs(session)
            assert self.timetable is not None
            self._log_changes(self.timetable.sync(jobs, now=utcnow()))
            self.last_sync = now
        self._dispatch()
        if now - self.last_canary >= CANARY_S:
            self.last_canary = now
            self._decide_canaries()
        if now - self.last_beat >= HEARTBEAT_S:
            self._heartbeat()
        if self.store.db.is_sqlite and now - self.last_checkpoint >= CHECKPOINT_S:
            self.last_checkpoint = now
            self.wal = wal.periodic_checkpoint(self.store)
            if self.wal is not None and self.wal.warning:
                log.warning(self.wal.warning)

    @self_recording("the timetable's slots are the scheduler's own state, shown by wk jobs")
    def _write_slots(self) -> None:
        while True:
            try:
                self.pending.append(self.slots.get_nowait())
            except queue.Empty:
                break
        if not self.pending:
            return
        with self.store.db.write() as session:
            for slot in self.pending:
                self._write_slot(session, slot)
        self.pending.clear()

    def _write_slot(self, session: Session, slot: Slot) -> None:
        job = session.get(Job, slot.job_id)
        if job is None or job.paused:
            return  # removed or paused after APScheduler handed the slot over
        if slot.missed:
            why = ("coalesced: a newer slot came at the same time" if slot.coalesced
                   else f"past its grace of {slot.grace_s:.0f} s")
            run_ledger.record_missed(session, job, [slot.at], note=(
                f"{slot.late_s:.0f} s late, {why} (the scheduler was stalled or the machine "
                "suspended)"))
            log.warning("job %s missed its slot %s", job.name, slot.at, extra={"job": job.name})
        else:
            run_ledger.queue_slot(session, job, trigger=JobTrigger.SCHEDULE,
                                  scheduled_for=slot.at, daemon_pid=self.pid)

    def _dispatch(self) -> None:
        with self.in_flight_lock:
            free = self.workers - len(self.in_flight)
            taken = list(self.in_flight)
            busy = {job_id for job_id, _ in self.in_flight.values()}
        if free <= 0:
            return
        with self.store.db.read() as session:
            due = run_ledger.due(session, utcnow(), exclude=taken)
        for run in due:
            if free <= 0:
                break
            if run.trigger in WAITING_TRIGGERS and run.job_id in busy:
                continue
            run_id = run.id
            assert run_id is not None
            claim = self.runner.claim(run_id)  # running, or skipped beside a running one
            if not claim.running:
                continue
            busy.add(run.job_id)
            with self.in_flight_lock:
                self.in_flight[run_id] = (run.job_id, self.pool.submit(self._run_one, claim))
            free -= 1

    def _run_one(self, claim: Claim) -> None:
        run_id = int(claim.run.id or 0)
        try:
            self.runner.run(claim)
        except Exception:
            log.exception("run %s: the runner failed", run_id, extra={"run_id": run_id})
        finally:
            with self.in_flight_lock:
                self.in_flight.pop(run_id, None)
            self.wake.set()

    def _decide_canaries(self) -> None:
        """Promote or roll back the canaries whose outcome is known (one indexed query when
        none is open)."""
        from scheduler.canary import decide_watches

        try:
            decide_watches(self.store, utcnow())
        except StoreUnavailable:
            raise  # the loop's handler: tried again, the daemon's note says so
        except Exception:  # a fault in deciding canaries must not stop every job's schedule
            log.exception("deciding the canary watches failed")

    def _trouble(self, message: str) -> None:
        self.problem = f"{utcnow():%H:%M:%S} UTC: {message}"
        self.problem_at = time.monotonic()

    @self_recording("the daemon's heartbeat row is its own record")
    def _heartbeat(self) -> None:
        if self.problem and time.monotonic() - self.problem_at > PROBLEM_SHOWN_S:
            self.problem = ""
        note = "; ".join(n for n in (self.wal.warning if self.wal else "", self.problem) if n)
        with self.store.db.write() as session:
            running = run_ledger.heartbeat(session, self.pid)
            scheduler_lease.heartbeat(session, host=self.host, pid=self.pid,
                                      jobs=len(self.timetable or ()), running=running, note=note,
                                      wal_bytes=self.wal.wal_bytes if self.wal else None)
        self.last_beat = time.monotonic()

    def _log_changes(self, changes: list[str]) -> None:
        for change in changes:
            log.info(change)
