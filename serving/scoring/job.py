"""One request's trip through its version's predictor thread, waking the event loop once.

The HTTP handler prepares the rows on the loop and hands them over with a job; on the
predictor thread the model answers, `core.complete` makes the answer and its log entry,
and the entry is queued for the log's group commit, committed on that same thread when no
commit is running (serving.log.logger). The loop is woken when the rows are committed (or
the request was refused): one hand-off there and one back, where a request took four
(loop, predictor, loop, log writer, loop) and paid a thread wake-up for each.

A handler that gives up (its timeout) abandons the job: an answer not yet made is then
never logged; one already queued may still be committed, as a log write that timed out.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from serving.log.logger import LogUnavailable, Outcome, Waiter, settle_from_thread
from serving.scoring import core
from serving.scoring.core import Answer, Prepared, Rejection

if TYPE_CHECKING:
    from serving.log.logger import PredictionLogger
    from serving.scoring.micro_batcher import Result


class ScoringJob:
    """`future` resolves after the answer's commit (with the log's Outcome), or with None
    once `result` is a Rejection, or with the error (ScoringError, LogUnavailable)."""

    def __init__(self, prepared: Prepared, started: float, logger: PredictionLogger) -> None:
        self.prepared = prepared
        self.started = started
        self.logger = logger
        self.loop = asyncio.get_running_loop()
        self.future: asyncio.Future[Outcome] = self.loop.create_future()
        self.result: Answer | Rejection | None = None  # set on the predictor thread
        self._lock = threading.Lock()
        self._abandoned = False

    def finish(self, value: Result | None, error: BaseException | None) -> Callable[[], None] | None:
        """On the predictor thread: complete the answer and queue its log entry; returns
        the log's commit as the batch's follow-up."""
        with self._lock:
            if self._abandoned:
                return None
            if value is None:
                self._settle(None, error or RuntimeError("the predictor returned nothing"))
                return None
            outputs, scores = value
            result = self.result = core.complete(self.prepared, outputs, scores, self.started)
            if isinstance(result, Rejection):
                self._settle(None, None)
                return None
            try:
                self.logger.submit(result.entry, Waiter(self.loop, self.future), commit_here=True)
            except LogUnavailable as exc:  # LogBacklogged too
                self._settle(None, exc)
                return None
            return self.logger.commit_queued

    def abandon(self) -> bool:
        """The handler stopped waiting. True if no answer was made (none will be logged);
        False if it was (its log entry was queued, and may still be committed)."""
        with self._lock:
            self._abandoned = True
            return self.result is None

    def _settle(self, outcome: Outcome, error: BaseException | None) -> None:
        settle_from_thread(self.loop, [(self.future, outcome, error)])
