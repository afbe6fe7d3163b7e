"""The prediction log's group commit.

A request's rows are queued and the request waits until they are committed; one commit
runs at a time and takes everything queued while the previous one ran, in one transaction
(BEGIN IMMEDIATE; rows, quarantine, rollups; COMMIT). The committer is the writer thread,
or the predictor thread that has just made the answer when no commit is running (it
commits its own rows at once, with no hand-off: serving.scoring.job). A lone request waits
one commit (0.1-0.2 ms on a local disk); under load, requests share commits. A prediction id is returned to the
client only after its commit, so an id a client received survives a SIGKILL of the
server (SQLite commits are durable across application crashes in WAL mode).

The queue is bounded: when the store is locked or slow and the backlog passes the
limit, new requests are refused at once (503) instead of piling up in memory.

The WAL is copied back into the database by the store's Checkpointer thread, off the
commit path (store.log_writer): inside a commit, as SQLite does it, one request in about 12
waited 1.4 ms for the copy and its fsyncs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from serving.traffic.rollup import Record, aggregate
from store import prediction_log
from store.log_writer import WriterBusy

if TYPE_CHECKING:
    from store.engine import Database
    from store.prediction_log import Executes

log = logging.getLogger(__name__)


class LogUnavailable(Exception):
    """The rows could not be committed (store locked, disk full, ...); nothing was answered."""


class LogBacklogged(LogUnavailable):
    """Too many rows are waiting for a commit; refused without queueing."""


@dataclass
class LogEntry:
    """What one request (or one shadow prediction, or one CLI call) adds to the log."""

    model_id: int
    request_id: str | None = None
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # PREDICTION_COLUMNS tuples
    records: list[Record] = field(default_factory=list)  # for the rollup (errors included)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    check_duplicate: bool = False  # a client request id: a retry replays the first answer
    #: the rows carry one value more, the guardrail text (GUARDED_COLUMNS): an answer flagged
    guarded: bool = False

    @property
    def size(self) -> int:
        return len(self.rows) + len(self.quarantine)


@dataclass
class Duplicate:
    """The request id was answered before: the rows logged then, to answer the same.
    Each row is (prediction_id, version_id, route, row_index, outputs JSON or None,
    guardrail text or None)."""

    rows: list[tuple[Any, ...]]


Outcome = Duplicate | None


def commit_entries(db: Database, entries: list[LogEntry],
                   transaction: Callable[[], AbstractContextManager[Executes]] | None = None) -> list[Outcome]:
    """Write the entries in one transaction (a new one from `db`, or the writer's held
    connection); returns, per entry, None or Duplicate."""
    outcomes: list[Outcome] = [None] * len(entries)
    with (transaction or db.write_core)() as conn:
        wanted: dict[int, list[str]] = {}
        for entry in entries:
            if entry.check_duplicate and entry.request_id is not None:
                wanted.setdefault(entry.model_id, []).append(entry.request_id)
        answered: dict[tuple[int, str], list[tuple[Any, ...]]] = {}
        for model_id, request_ids in wanted.items():
            for rid, earlier in prediction_log.answered_requests(conn, model_id, request_ids).items():
                answered[(model_id, rid)] = earlier
        rows: list[tuple[Any, ...]] = []
        guarded: list[tuple[Any, ...]] = []  # with their guardrail text
        requests: list[list[Record]] = []  # each entry is one request
        quarantine: list[dict[str, Any]] = []
        for i, entry in enumerate(entries):
            if entry.check_duplicate and entry.request_id is not None:
                key = (entry.model_id, entry.request_id)
                if key in answered:
                    outcomes[i] = Duplicate(answered[key])
                    continue
                if entry.rows:  # a retry later in this same batch replays this one
                    answered[key] = [(r[0], r[3], r[4], r[7], r[10], r[12] if entry.guarded else None)
                                     for r in entry.rows]
            (guarded if entry.guarded else rows).extend(entry.rows)
            requests.append(entry.records)
            quarantine.extend(entry.quarantine)
        prediction_log.insert_predictions(conn, rows)
        prediction_log.insert_predictions(conn, guarded, prediction_log.GUARDED_COLUMNS)
        prediction_log.insert_quarantine(conn, quarantine)
        prediction_log.add_rollups(conn, aggregate(requests))
    return outcomes


Callback = Callable[[Outcome, BaseException | None], None]

#: Commits a thread that offered to commit makes before it hands the rest to the writer
#: thread (a predictor thread goes back to predicting).
COMMITS_PER_OFFER = 2


class PredictionLogger:
    """The bounded queue and its committers.

    One commit runs at a time, on the held writer connection. Entries queued from the event
    loop wake the writer thread. A thread that has just predicted may offer to commit
    (`submit(..., commit_here=True)`, then `commit_queued()`): with no commit running it
    commits the queue itself, saving the request a hand-off to the writer thread and the
    wake-up that goes with it; while one runs, that committer takes the entries too. Either
    way a request's rows are committed before it is answered."""

    def __init__(self, db: Database, *, max_pending_rows: int = 50_000, max_batch_rows: int = 5_000,
                 on_commit: Callable[[float, int], None] | None = None) -> None:
        self.db = db
        self.max_pending_rows = max_pending_rows
        self.max_batch_rows = max_batch_rows
        self.on_commit = on_commit
        self._queue: deque[tuple[LogEntry, Callback]] = deque()
        self._pending_rows = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._committing = False  # a thread is committing (it re-checks the queue before it stops)
        self._thread: threading.Thread | None = None
        self._writer = db.held_writer()
        self._checkpointer = db.checkpointer()
        self.commits = 0
        self.failures = 0
        self.last_error: str | None = None

    @property
    def pending_rows(self) -> int:
        return self._pending_rows

    @property
    def commits_on_event_loop(self) -> bool:
        """commit_queued() on an event loop's thread commits there (SQLite, when the write
        lock is free); elsewhere it hands the entries to the writer thread."""
        return self._writer.can_begin_without_waiting

    def start(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.start()
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then stop (graceful drain on SIGTERM)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._checkpointer is not None:
            self._checkpointer.stop()

    def submit(self, entry: LogEntry, callback: Callback, *, commit_here: bool = False) -> None:
        """Queue the entry; `callback` is called, on the committing thread, after its commit.
        `commit_here`: the caller calls commit_queued() next, so the writer is not woken."""
        with self._cond:
            if self._stopping:
                raise LogUnavailable("the server is shutting down; retry against the next one")
            if self._pending_rows + entry.size > self.max_pending_rows and self._queue:
                raise LogBacklogged(
                    f"the prediction log is {self._pending_rows} rows behind (the store may be "
                    "locked or slow); retry shortly")
            self._queue.append((entry, callback))
            self._pending_rows += entry.size
            if not (commit_here or self._committing):
                self._cond.notify_all()

    def commit_queued(self) -> None:
        """Commit the queue on this thread, unless a commit is running (its thread takes
        the queue); after COMMITS_PER_OFFER commits the rest goes to the writer thread.
        On a thread that runs an event loop (a lone request predicted inline) one commit
        is made, and only if the write lock is free at once: the loop never waits for the
        store; otherwise the writer thread commits."""
        with self._cond:
            if self._committing or not self._queue:
                return
            self._committing = True
        if _runs_event_loop():
            self._commit_once_without_waiting()
        else:
            self._drain(COMMITS_PER_OFFER)

    def _commit_once_without_waiting(self) -> None:
        """One commit of what is queued if the write lock is free now; the rest, or all of
        it if the lock is taken, goes to the writer thread. The caller holds the role."""
        batch: list[tuple[LogEntry, Callback]] | None = None
        if self._writer.can_begin_without_waiting:
            with self._cond:
                batch = self._take()
            if batch is None:  # the role was given up with the empty queue
                return
            try:
                self._commit(batch, wait=False)
            except WriterBusy:
                with self._cond:
                    self._queue.extendleft(reversed(batch))
        with self._cond:
            self._committing = False
            if self._queue:
                self._cond.notify_all()

    async def write(self, entry: LogEntry) -> Outcome:
        """Queue the entry and wait for its commit."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self.submit(entry, Waiter(loop, future))
        return await future

    def _take(self) -> list[tuple[LogEntry, Callback]] | None:
        """Up to max_batch_rows of the queue; None, and the committer role given up, when
        it is empty. Called holding the condition."""
        if not self._queue:
            self._committing = False
            return None
        batch = [self._queue.popleft()]
        rows = batch[0][0].size
        while self._queue and rows + self._queue[0][0].size <= self.max_batch_rows:
            item = self._queue.popleft()
            rows += item[0].size
            batch.append(item)
        return batch

    def _drain(self, commits: int | None) -> None:
        """Commit batches until the queue is empty. The caller holds the committer role.
        A thread that offered (`commits` set) hands the role to the writer thread after
        that many commits, and goes back to predicting."""
        done = 0
        while True:
            with self._cond:
                if commits is not None and done >= commits and self._queue:
                    self._committing = False
                    self._cond.notify_all()
                    return
                batch = self._take()
                if batch is None:
                    if self._stopping:
                        self._cond.notify_all()  # the writer thread may wait for this role to end
                    return
            self._commit(batch)
            done += 1

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    while (self._committing or not self._queue) and not (self._stopping and not self._committing):
                        self._cond.wait()
                    if not self._queue:  # stopping, and nothing left
                        return
                    self._committing = True
                self._drain(None)
        finally:
            self._writer.close()

    def _commit(self, batch: list[tuple[LogEntry, Callback]], *, wait: bool = True) -> None:
        """Commit the batch and tell its callers; with wait=False, WriterBusy (raised before
        anything was written or told) when the write lock is taken."""
        started = time.perf_counter()
        size = sum(e.size for e, _ in batch)
        results = self._commit_isolating([e for e, _ in batch], wait)
        with self._cond:
            self._pending_rows -= size
        committed = sum(e.size for (e, _), (_o, error) in zip(batch, results, strict=True) if error is None)
        if self.on_commit is not None and committed:
            self.on_commit(time.perf_counter() - started, committed)
        # one wake-up per event loop for the whole batch, not one per request
        waiting: dict[asyncio.AbstractEventLoop, list[Settlement]] = {}
        for (_entry, callback), (outcome, error) in zip(batch, results, strict=True):
            if isinstance(callback, Waiter):
                waiting.setdefault(callback.loop, []).append((callback.future, outcome, error))
            else:
                callback(outcome, error)
        for loop, items in waiting.items():
            settle_from_thread(loop, items)
        if committed and self._checkpointer is not None:
            self._checkpointer.committed()

    def _commit_isolating(self, entries: list[LogEntry], wait: bool = True) -> list[tuple[Outcome, BaseException | None]]:
        """Commit the batch, each entry's outcome or error. If the database refuses the
        batch for a constraint (an entry at fault), each entry is committed on its own, so
        only the one at fault fails."""
        from sqlalchemy.exc import IntegrityError

        try:
            return [(outcome, None) for outcome in self._commit_entries(entries, wait)]
        except WriterBusy:
            raise
        except IntegrityError as exc:
            if len(entries) == 1:
                return [(None, self._failed(exc, entries[0].size))]
            log.warning("a group commit of %d entries hit a constraint; committing them one by one", len(entries))
        except Exception as exc:  # noqa: BLE001  (every waiting request is told)
            error = self._failed(exc, sum(e.size for e in entries))
            return [(None, error)] * len(entries)
        results: list[tuple[Outcome, BaseException | None]] = []
        for entry in entries:
            try:
                results.append((self._commit_entries([entry])[0], None))
            except Exception as exc:  # noqa: BLE001
                results.append((None, self._failed(exc, entry.size)))
        return results

    def _commit_entries(self, entries: list[LogEntry], wait: bool = True) -> list[Outcome]:
        transaction = self._writer.transaction if wait else self._transaction_without_waiting
        outcomes = commit_entries(self.db, entries, transaction)
        self.commits += 1
        return outcomes

    def _transaction_without_waiting(self) -> AbstractContextManager[Executes]:
        return self._writer.transaction(wait=False)

    def _failed(self, exc: BaseException, rows: int) -> LogUnavailable:
        self.failures += 1
        self.last_error = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        log.error("prediction log commit of %d rows failed: %s", rows, self.last_error)
        return LogUnavailable(f"the prediction could not be logged: {self.last_error}")


def _runs_event_loop() -> bool:
    """This thread is running an asyncio event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@dataclass(frozen=True)
class Waiter:
    """A request awaiting its commit on an event loop."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Outcome]

    def __call__(self, outcome: Outcome, error: BaseException | None) -> None:
        settle_from_thread(self.loop, [(self.future, outcome, error)])


Settlement = tuple["asyncio.Future[Any]", Any, BaseException | None]


def settle_from_thread(loop: asyncio.AbstractEventLoop, items: list[Settlement]) -> None:
    """From a worker thread: give each future its result or error on its event loop, in
    one wake-up of the loop (a loop already closed, the server shutting down, is skipped)."""
    try:
        loop.call_soon_threadsafe(_settle_all, items)
    except RuntimeError:
        pass


def _settle_all(items: list[Settlement]) -> None:
    for future, value, error in items:
        if future.done():  # the caller gave up waiting (timeout) or was cancelled
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)
