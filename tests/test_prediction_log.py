"""The prediction log's committers (serving/log/logger.py) and a request's job through its
predictor thread (serving/scoring/job.py): every entry committed once, rows and rollups in
agreement, the WAL kept small without a checkpoint inside any commit, a timed-out request
never logged as answered."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serving_store import build_store, tiny_frame

from serving.log.logger import LogEntry, Outcome, PredictionLogger
from serving.scoring import core
from serving.scoring.core import Context, Rejection
from serving.scoring.job import ScoringJob
from serving.scoring.model_cache import LoadedVersion
from store.handle import Store, open_store
from store.rollups import rollup_vs_rows
from store.vocabulary import Route, Source

ROWS = tiny_frame(50)[0].to_dict(orient="records")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("log") / "store", versions=1, numeric=False)


@pytest.fixture
def served(built: Path, tmp_path: Path) -> Iterator[tuple[Store, LoadedVersion]]:
    import shutil

    from serving.traffic.state import ServingState

    root = tmp_path / "store"
    shutil.copytree(built, root)
    store = open_store(root)
    state = ServingState(store)
    state.refresh()
    loaded = state.models["tiny"].champion
    assert loaded is not None
    try:
        yield store, loaded
    finally:
        state.stop()  # its predictor threads
        store.close()


def _context() -> Context:
    return Context(Source.API, None, "full", 1.0, "sqlite", rng=random.Random(1))


def _answered(loaded: LoadedVersion, i: int) -> LogEntry:
    prepared = core.prepare(loaded, Route.CHAMPION, [ROWS[i % len(ROWS)]], _context())
    assert not isinstance(prepared, Rejection)
    outputs, scores = loaded.predict(prepared.values)
    result = core.complete(prepared, outputs, scores, time.perf_counter())
    assert not isinstance(result, Rejection)
    return result.entry


def _db(store: Store) -> Path:
    return Path(store.db.url.removeprefix("sqlite:///"))


def _counts(store: Store) -> tuple[int, int]:
    with sqlite3.connect(_db(store)) as db:
        rows = db.execute("SELECT count(*) FROM prediction").fetchone()[0]
        rolled = db.execute("SELECT coalesce(sum(count), 0) FROM metric_rollup").fetchone()[0]
    return rows, rolled


def test_committers_on_many_threads_commit_every_entry_once_and_rollups_agree(
        served: tuple[Store, LoadedVersion]) -> None:
    """Four 'predictor' threads offer to commit while the event loop's entries wake the
    writer thread: each of 800 entries is committed once, each callback called once."""
    store, loaded = served
    logger = PredictionLogger(store.db)
    logger.start()
    called: list[int] = []
    lock = threading.Lock()

    def callback_for(i: int) -> Any:
        def done(outcome: Outcome, error: BaseException | None) -> None:
            assert error is None and outcome is None
            with lock:
                called.append(i)
        return done

    def predictor(first: int) -> None:
        for i in range(first, first + 150):
            logger.submit(_answered(loaded, i), callback_for(i), commit_here=True)
            logger.commit_queued()

    async def loop_side() -> None:
        for _ in range(200):
            await logger.write(_answered(loaded, 0))

    threads = [threading.Thread(target=predictor, args=(k * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    asyncio.run(loop_side())
    for t in threads:
        t.join(60)
    logger.stop()
    assert sorted(called) == sorted(k * 1000 + i for k in range(4) for i in range(150))
    assert _counts(store) == (800, 800)
    with store.db.read() as session:
        assert rollup_vs_rows(session) == []
    assert logger.failures == 0 and logger.pending_rows == 0


@pytest.mark.parametrize("committer", ["writer thread", "offering thread"])
def test_the_checkpointer_copies_the_wal_off_the_commit_path(served: tuple[Store, LoadedVersion],
                                                             committer: str, tmp_path: Path) -> None:
    """The log writer's own checkpoint mark is the backstop (BACKSTOP_CHECKPOINT_PAGES), so
    its commits do not copy the WAL; the checkpointer thread does: 200 commits (about 1,800
    WAL pages, under the backstop) reach the database file itself, read here without its
    WAL. The pool's other connections keep SQLite's default mark."""
    import shutil

    from store.log_writer import BACKSTOP_CHECKPOINT_PAGES

    store, loaded = served
    logger = PredictionLogger(store.db)
    logger.start()

    async def many() -> None:
        for i in range(200):
            if committer == "writer thread":
                await logger.write(_answered(loaded, i))
            else:
                done = threading.Event()
                logger.submit(_answered(loaded, i), lambda _o, _e, done=done: done.set(), commit_here=True)
                logger.commit_queued()
                assert done.wait(10)

    asyncio.run(many())
    with logger._writer.transaction() as tx:
        assert tx.exec_driver_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == BACKSTOP_CHECKPOINT_PAGES
    deadline = time.monotonic() + 5
    copy = tmp_path / "file-only.db"
    while True:  # the checkpointer runs every 20 ms
        shutil.copyfile(_db(store), copy)
        with sqlite3.connect(copy) as db:  # no -wal beside the copy: the file's own pages
            in_file = db.execute("SELECT count(*) FROM prediction").fetchone()[0]
        if in_file == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    logger.stop()
    assert in_file == 200
    assert logger._checkpointer is not None and logger._checkpointer.checkpoints >= 1
    with store.db.write_core() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    assert _counts(store) == (200, 200)


def test_an_abandoned_job_is_never_logged_and_a_finished_one_is(served: tuple[Store, LoadedVersion]) -> None:
    """A request that timed out before its answer was made: no row, and the job says so
    (504); one whose answer was queued says that too (503 log_timeout)."""
    store, loaded = served
    logger = PredictionLogger(store.db)
    logger.start()

    async def jobs() -> tuple[bool, bool, Outcome]:
        prepared = core.prepare(loaded, Route.CHAMPION, [ROWS[0]], _context())
        assert not isinstance(prepared, Rejection)
        late = ScoringJob(prepared, time.perf_counter(), logger)
        first = late.abandon()  # the handler's timeout came first
        assert late.finish(loaded.predict(prepared.values), None) is None
        on_time = ScoringJob(prepared, time.perf_counter(), logger)
        follow = on_time.finish(loaded.predict(prepared.values), None)
        assert follow is not None
        follow()
        outcome = await asyncio.wait_for(on_time.future, 10)
        return first, on_time.abandon(), outcome

    abandoned_before, abandoned_after, outcome = asyncio.run(jobs())
    logger.stop()
    assert abandoned_before is True and abandoned_after is False and outcome is None
    assert _counts(store) == (1, 1)


def test_stop_commits_what_is_queued_even_while_another_thread_commits(
        served: tuple[Store, LoadedVersion]) -> None:
    store, loaded = served
    logger = PredictionLogger(store.db)
    logger.start()
    entries = [_answered(loaded, i) for i in range(300)]
    done = threading.Event()

    def offer() -> None:
        for entry in entries[:150]:
            logger.submit(entry, lambda _o, _e: None, commit_here=True)
            logger.commit_queued()
        done.set()

    t = threading.Thread(target=offer)
    t.start()
    for entry in entries[150:]:
        logger.submit(entry, lambda _o, _e: None)
    done.wait(60)
    logger.stop()
    t.join(10)
    assert _counts(store) == (300, 300)


def test_a_broken_entry_fails_alone_and_the_writer_goes_on(served: tuple[Store, LoadedVersion]) -> None:
    """A repeated prediction id (a constraint) in a group commit: the others commit."""
    store, loaded = served
    logger = PredictionLogger(store.db)
    logger.start()
    good = [_answered(loaded, i) for i in range(5)]
    twin = LogEntry(model_id=good[0].model_id, rows=list(good[0].rows))
    errors: list[BaseException | None] = []
    for entry in [*good[:3], twin, *good[3:]]:
        logger.submit(entry, lambda _o, e: errors.append(e), commit_here=True)
    logger.commit_queued()
    logger.stop()
    assert sum(e is not None for e in errors) == 1 and len(errors) == 6
    assert _counts(store) == (5, 5)


def test_a_commit_on_the_event_loop_never_waits_for_a_locked_store(served: tuple[Store, LoadedVersion]) -> None:
    """A lone request predicted inline commits on the event loop's thread only if the write
    lock is free at once: with another connection holding it, the loop goes on at once and
    the writer thread commits the entry when the lock is let go (it would otherwise hold the
    loop, and /healthz with it, for up to the 30 s busy timeout)."""
    store, loaded = served
    logger = PredictionLogger(store.db)
    logger.start()
    holder = sqlite3.connect(_db(store), isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, say a batch chunk

    async def inline_request() -> tuple[float, Outcome]:
        prepared = core.prepare(loaded, Route.CHAMPION, [ROWS[0]], _context())
        assert not isinstance(prepared, Rejection)
        job = ScoringJob(prepared, time.perf_counter(), logger)
        follow = job.finish(loaded.predict(prepared.values), None)
        assert follow is not None
        started = time.perf_counter()
        follow()  # on the loop's thread, as micro_batcher.try_inline runs it
        held_for = time.perf_counter() - started
        threading.Timer(0.3, holder.rollback).start()
        return held_for, await asyncio.wait_for(job.future, 10)

    try:
        held_for, outcome = asyncio.run(inline_request())
    finally:
        logger.stop()
        holder.close()
    assert held_for < 0.1, f"the loop waited {held_for:.3f} s for the store's lock"
    assert outcome is None
    assert _counts(store) == (1, 1)
