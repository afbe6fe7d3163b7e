"""Predictions off the event loop, batched: one worker thread per loaded version takes
every request waiting for that version and predicts them in one call.

Predicting 16 rows costs about what one row costs in scikit-learn, so under concurrent
load the per-request model time falls; and a slow model only delays its own callers
(they get a timeout), never the event loop, so /healthz keeps answering.

`submit` gives the bare result back to the event loop; `submit_then` runs a request's
finish on this thread after the prediction (the HTTP API completes the answer and commits
its log entry there: serving.scoring.job), and the batch's follow-ups once after it.
`try_inline` does the same on the caller's thread for a lone small request to a fast
version, saving the round trip's two thread wake-ups: at one connection the answer's p50
fell by 0.06 and 0.64 ms in two interleaved pairs of bench runs (bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from serving.log.logger import Settlement, settle_from_thread
from serving.scoring.model_cache import LoadedVersion, ScoringError

log = logging.getLogger(__name__)

#: A request of at most INLINE_MAX_ROWS rows, to a version whose calls of that size took
#: less than INLINE_PREDICT_MAX_S (moving average), may be predicted on the event loop's
#: thread when nothing else is being scored (`try_inline`): the loop is then busy for about
#: that long plus one log commit (never a wait for the store's lock: serving.log.logger).
INLINE_MAX_ROWS = 32
INLINE_PREDICT_MAX_S = 0.002
_EWMA_WEIGHT = 0.1
_thread_config = threading.local()


def _configure_thread() -> None:
    """Rows were checked (finite, typed) before they got here; skipping scikit-learn's own
    finiteness scan saves time per call. The setting is per thread, made once."""
    if not getattr(_thread_config, "done", False):
        import sklearn

        sklearn.set_config(assume_finite=True)
        _thread_config.done = True

Result = tuple[list[dict[str, Any] | None], list[float | None]]
#: Runs on the predictor thread with one request's result (or its error), e.g. to complete
#: the answer and queue its log entry; it may return a follow-up that runs once after the
#: whole batch (the log's commit of every entry the batch queued).
Finish = Callable[[Result | None, BaseException | None], Callable[[], None] | None]


@dataclass(frozen=True, slots=True)
class _Caller:
    """A request awaiting the bare result on its event loop."""

    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


class BatchPredictor:
    def __init__(self, loaded: LoadedVersion, max_rows: int = 4096) -> None:
        self.loaded = loaded
        self.max_rows = max_rows
        self._pending: deque[tuple[list[list[Any]], _Caller | Finish]] = deque()
        self._wake = threading.Condition()
        self._stopped = False
        self._busy = False  # a batch is being predicted (on the worker or inline)
        #: moving average of a small call's predict time (INLINE_MAX_ROWS rows at most)
        self.predict_s = float("inf")
        self._thread = threading.Thread(
            target=self._run, name=f"predict-{loaded.model}-v{loaded.version}", daemon=True)
        self._thread.start()

    def submit(self, values: list[list[Any]]) -> asyncio.Future[Result]:
        """The model's result for the rows, awaited on the caller's event loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        if self._queue((values, _Caller(future, loop))):
            return future
        # Retired: a reload took this version out of service after the request was routed
        # to it (a rollback, say), and the worker thread may already have ended. Queueing
        # here would leave the caller waiting for its timeout; the version is still in
        # memory, so answer from it on the loop's executor, as routed.
        return loop.run_in_executor(None, self.loaded.predict, values)

    def submit_then(self, values: list[list[Any]], finish: Finish) -> None:
        """Predict the rows, then call `finish` on the predictor thread (no wake-up of the
        event loop in between); a retired predictor runs both on the loop's executor."""
        if not self._queue((values, finish)):
            asyncio.get_running_loop().run_in_executor(None, self._predict_then, values, finish)

    def try_inline(self, values: list[list[Any]], finish: Finish) -> bool:
        """On the caller's thread (the event loop's), predict the rows and run `finish` and
        its follow-up, as the worker would: only when nothing waits for this predictor and
        nothing is being predicted, and the version is fast (INLINE_PREDICT_MAX_S). A lone
        request then wakes no thread: the loop -> predictor -> loop round trip costs two
        thread wake-ups, which on an idle virtual machine are most of the time this saves.
        False when the request should be queued (submit_then) instead."""
        if len(values) > INLINE_MAX_ROWS or self.predict_s >= INLINE_PREDICT_MAX_S:
            return False
        with self._wake:
            if self._stopped or self._busy or self._pending:
                return False
            self._busy = True
        try:
            _configure_thread()
            results = self._predict([(values, finish)])
            _follow_up([finish], results)
        finally:
            with self._wake:
                self._busy = False
                if self._pending:
                    self._wake.notify()
        return True

    def _queue(self, item: tuple[list[list[Any]], _Caller | Finish]) -> bool:
        with self._wake:
            if self._stopped:
                return False
            self._pending.append(item)
            self._wake.notify()
            return True

    def _predict_then(self, values: list[list[Any]], finish: Finish) -> None:
        ((value, error),) = self._predict([(values, finish)])
        _follow_up([finish], [(value, error)])

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()

    def _take(self) -> list[tuple[list[list[Any]], _Caller | Finish]] | None:
        with self._wake:
            self._busy = False
            while (self._busy or not self._pending) and not self._stopped:
                self._wake.wait()
            if self._stopped and not self._pending:
                return None
            batch = [self._pending.popleft()]
            rows = len(batch[0][0])
            while self._pending and rows + len(self._pending[0][0]) <= self.max_rows:
                item = self._pending.popleft()
                rows += len(item[0])
                batch.append(item)
            self._busy = True
            return batch

    def _run(self) -> None:
        _configure_thread()
        while (batch := self._take()) is not None:
            results = self._predict(batch)
            by_loop: dict[asyncio.AbstractEventLoop, list[Settlement]] = {}
            finishing: list[Finish] = []
            finished: list[tuple[Result | None, BaseException | None]] = []
            for (_values, target), (value, error) in zip(batch, results, strict=True):
                if isinstance(target, _Caller):
                    by_loop.setdefault(target.loop, []).append((target.future, value, error))
                else:
                    finishing.append(target)
                    finished.append((value, error))
            for loop, items in by_loop.items():
                settle_from_thread(loop, items)
            _follow_up(finishing, finished)

    def _predict(self, batch: list[tuple[list[list[Any]], Any]]) -> list[tuple[Result | None, BaseException | None]]:
        started = time.perf_counter()
        try:
            return self._predict_batch(batch)
        finally:
            if sum(len(values) for values, _target in batch) <= INLINE_MAX_ROWS:
                took = time.perf_counter() - started
                self.predict_s = took if self.predict_s == float("inf") else (
                    self.predict_s + _EWMA_WEIGHT * (took - self.predict_s))

    def _predict_batch(self, batch: list[tuple[list[list[Any]], Any]]) -> list[tuple[Result | None, BaseException | None]]:
        if len(batch) > 1:
            merged = [row for values, _target in batch for row in values]
            try:
                outputs, scores = self.loaded.predict(merged)
            except ScoringError:
                pass  # one request's rows may be at fault: score each on its own below
            except BaseException as exc:  # noqa: BLE001  (reported to every caller)
                return [(None, exc)] * len(batch)
            else:
                out: list[tuple[Result | None, BaseException | None]] = []
                start = 0
                for values, _target in batch:
                    end = start + len(values)
                    out.append(((outputs[start:end], scores[start:end]), None))
                    start = end
                return out
        results: list[tuple[Result | None, BaseException | None]] = []
        for values, _target in batch:
            try:
                results.append((self.loaded.predict(values), None))
            except BaseException as exc:  # noqa: BLE001
                results.append((None, exc))
        return results


def _follow_up(finishing: list[Finish], finished: list[tuple[Result | None, BaseException | None]]) -> None:
    """Each request's finish, then each distinct follow-up once (a batch of 16 answers is one
    log commit). A finish must settle its own caller; one that raises is logged."""
    follow_ups: dict[Callable[[], None], None] = {}
    for finish, (value, error) in zip(finishing, finished, strict=True):
        try:
            follow = finish(value, error)
        except Exception:  # noqa: BLE001  (a bug in one request's finish; the others go on)
            log.exception("finishing a prediction failed")
            continue
        if follow is not None:
            follow_ups[follow] = None
    for follow in follow_ups:
        try:
            follow()
        except Exception:  # noqa: BLE001
            log.exception("a prediction's follow-up failed")
