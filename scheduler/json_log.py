"""JSON-lines logs on stderr for the scheduler daemon and its runs' children: one object a
line (time, level, logger, message, and run_id / job where the record carries them, given
as `extra={"run_id": ..., "job": ...}`), for journald, log shippers and `jq`."""

from __future__ import annotations

import logging
import sys

from serving.http.server import JsonLines as BaseJsonLines


class JsonLines(BaseJsonLines):
    """wk serve's JSON lines (serving/http/server.py: the same fields, one format for both
    daemons), with the run id on every line of a run's child."""

    def __init__(self, run_id: int | None = None) -> None:
        super().__init__()
        self.run_id = run_id

    def format(self, record: logging.LogRecord) -> str:
        if self.run_id is not None and getattr(record, "run_id", None) is None:
            record.run_id = self.run_id
        return super().format(record)


def setup(level: int = logging.INFO, run_id: int | None = None) -> None:
    """JSON lines on stderr for the whole process (replaces other root handlers)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines(run_id))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("alembic", "apscheduler.executors", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
