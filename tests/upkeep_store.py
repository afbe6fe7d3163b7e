"""Bulk rows for the upkeep tests: `tiny`'s store from tests/logged_store.py (a few rows,
two versions) topped up with many predictions from one template row, written the way the
log writes them (store.prediction_log.insert_predictions), at ~100k rows a second."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from logged_store import START, Logged, build_logged_store

INPUTS = json.dumps({"x1": 0.1234, "x2": -1.2345, "colour": "green"})
OUTPUTS = json.dumps({"class": 1, "probabilities": {"0": 0.3456, "1": 0.6544}})


def bulk_log(store: Any, logged: Logged, rows: int, *, start: datetime = START,
             step: timedelta = timedelta(seconds=1), prefix: str = "bulk") -> None:
    """`rows` champion predictions of v1 from `start`, one every `step`, 5,000 a commit."""
    from store.prediction_log import db_time, insert_predictions

    version = logged.version_ids[1]
    for first in range(0, rows, 5000):
        batch = [(f"{prefix}-{i:09d}", db_time("sqlite", start + step * i), logged.model_id,
                  version, "champion", "api", f"{prefix}-{i}", 0, None, INPUTS, OUTPUTS, 1.5)
                 for i in range(first, min(rows, first + 5000))]
        with store.db.write_core() as conn:
            insert_predictions(conn, batch)


def bulk_store(root: Path, rows: int, **kw: Any) -> tuple[Any, Logged]:
    store, logged = build_logged_store(root, rows=60)
    bulk_log(store, logged, rows, **kw)
    return store, logged
