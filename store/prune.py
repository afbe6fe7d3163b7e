"""Deleting old rows in bounded batches: logged predictions, refused rows (quarantine),
probe answers and old job runs, each batch its own short write transaction (BEGIN
IMMEDIATE ... COMMIT of at most `batch_rows` rows) with a pause after each as long as it
took, so a server keeps logging while a prune runs.

Kept whatever their age: the per-minute rollups and the drift, quality and performance
reports (they are the history the dashboards and checks read), batch runs, and the
audit log. A labelling task goes with its prediction, in the same transaction: with the
prediction's inputs gone there is nothing left to label (the audit log keeps who
labelled what). Job runs younger than JOB_RUN_MIN_DAYS are kept whatever `cutoff`
says: the cost figures sum the last 30 days of runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from store.rows import table_of

# every table through store.tables: importing report_tables first is circular
from store.tables import JobRun, LabelTask, Prediction, ProbeResult, Quarantine, RegisteredModel
from store.vocabulary import JOB_RUN_FINAL

if TYPE_CHECKING:
    from store.handle import Store

#: rows per write transaction: beside a writer committing 50-row batches in a loop, 5,000
#: a batch deleted 8,100-9,100 rows/s and let the writer's slowest commit reach 0.67-0.80 s;
#: 2,000 a batch 5,600-9,300 rows/s and 0.24-0.47 s (two runs on a 100k-row store, 2 busy
#: cores: bench.upkeep, bench/RESULTS.md)
BATCH_ROWS = 2000
#: the pause after each batch, at least this long and at least as long as the batch took
#: (so a prune holds the write lock at most half the time): a writer waiting in SQLite's
#: busy handler sleeps up to 100 ms between tries, and with a 5 ms pause it kept missing
#: the gap (its slowest commit 1.36 s beside a prune of 141k rows, measured)
PAUSE_S = 0.02
JOB_RUN_MIN_DAYS = 30


def job_run_cutoff(cutoff: datetime, now: datetime) -> datetime:
    """The older of `cutoff` and 30 days ago: job runs feed the 30-day cost figures."""
    return min(cutoff, now - timedelta(days=JOB_RUN_MIN_DAYS))


def prune_before(store: Store, cutoff: datetime, *, now: datetime, batch_rows: int = BATCH_ROWS,
                 pause_s: float = PAUSE_S,
                 heartbeat: Callable[[], None] = lambda: None) -> dict[str, Any]:
    """Delete what is older than `cutoff` (job runs: older than job_run_cutoff). Returns
    the rows deleted per table and the number of batches (write transactions)."""
    counts = {"prediction": 0, "label_task": 0, "quarantine": 0, "probe_result": 0, "job_run": 0}
    batches = 0
    started = time.perf_counter()

    def batch(step: Callable[[Any], int]) -> int:
        nonlocal batches
        began = time.perf_counter()
        with store.db.write_core() as conn:
            deleted = step(conn)
        batches += 1
        heartbeat()
        if deleted:
            time.sleep(max(pause_s, time.perf_counter() - began))
        return deleted

    prediction, task = table_of(Prediction), table_of(LabelTask)
    models = _model_ids(store)
    for model_id in models:
        def predictions(conn: Any, model_id: int = model_id) -> int:
            rows = conn.execute(select(prediction.c.id, prediction.c.prediction_id)
                                .where(prediction.c.model_id == model_id, prediction.c.at < cutoff)
                                .order_by(prediction.c.at).limit(batch_rows)).all()
            if rows:
                counts["label_task"] += conn.execute(delete(task).where(
                    task.c.prediction_id.in_([r[1] for r in rows]))).rowcount
                conn.execute(delete(prediction).where(prediction.c.id.in_([r[0] for r in rows])))
            counts["prediction"] += len(rows)
            return len(rows)
        while batch(predictions) == batch_rows:
            pass
    quarantine, probe, runs = table_of(Quarantine), table_of(ProbeResult), table_of(JobRun)
    runs_before = job_run_cutoff(cutoff, now)
    finals = [str(s) for s in JOB_RUN_FINAL]
    steps: list[tuple[Any, str, tuple[Any, ...]]] = [
        (quarantine, "quarantine", (quarantine.c.model_id == m, quarantine.c.at < cutoff))
        for m in models]
    steps.append((probe, "probe_result", (probe.c.at < cutoff,)))
    steps.append((runs, "job_run", (runs.c.queued_at < runs_before, runs.c.status.in_(finals))))
    for table, key, where in steps:
        def rows(conn: Any, table: Any = table, key: str = key, where: Any = where) -> int:
            return _delete_ids(conn, table, counts, key, batch_rows, *where)
        while batch(rows) == batch_rows:
            pass
    return {"deleted": counts, "rows": sum(counts.values()), "batches": batches,
            "batch_rows": batch_rows, "cutoff": cutoff.isoformat(),
            "job_run_cutoff": runs_before.isoformat(),
            "seconds": round(time.perf_counter() - started, 3)}


def _model_ids(store: Store) -> list[int]:
    """Every model's id: each batch then reads through the (model_id, at) index."""
    model = table_of(RegisteredModel)
    with store.db.read_core() as conn:
        return [int(r[0]) for r in conn.execute(select(model.c.id).order_by(model.c.id))]


def _delete_ids(conn: Any, table: Any, counts: dict[str, int], key: str, limit: int,
                *where: Any) -> int:
    ids = [r[0] for r in conn.execute(select(table.c.id).where(*where).order_by(table.c.id)
                                      .limit(limit))]
    if ids:
        conn.execute(delete(table).where(table.c.id.in_(ids)))
    counts[key] += len(ids)
    return len(ids)
