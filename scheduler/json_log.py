"""JSON-lines logs on stderr for the scheduler daemon and its runs' children: one object a
line (time, level, logger, message, and run_id / job where the record carries them, given
as `extra={"run_id": ..., "job": ...}`), for journald, log shippers and `jq`."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

#: record attributes copied into the line when a call passes them in `extra`
FIELDS = ("run_id", "job", "pid", "attempt", "status")


class JsonLines(logging.Formatter):
    def __init__(self, run_id: int | None = None) -> None:
        super().__init__()
        self.run_id = run_id  # a child logs about one run: every line carries its id

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.run_id is not None:
            entry["run_id"] = self.run_id
        for name in FIELDS:
            if (value := getattr(record, name, None)) is not None:
                entry[name] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


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
