"""The prediction log's writes: the hot path of serving and batch scoring.

Rows go in with one driver-level ``executemany`` per transaction (DESIGN.md: ORM objects
insert about 12k rows/s, Core batches 150-190k, bare executemany 250-300k), in a write
transaction the caller opened with ``Database.write_core()``; the rollup is updated in
that same transaction, so the counts can never disagree with the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from store.tables import LATENCY_BUCKETS_MS, MetricRollup, Prediction, Quarantine

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: Column order of the tuples `insert_predictions` takes.
PREDICTION_COLUMNS = ("prediction_id", "at", "model_id", "version_id", "route", "source",
                      "request_id", "row_index", "batch_run_id", "inputs", "outputs", "latency_ms")
BUCKET_COLUMNS = tuple(f"lat_b{i:02d}" for i in range(len(LATENCY_BUCKETS_MS) + 1))
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def db_time(dialect: str, at: datetime) -> Any:
    """A UTC time as the driver wants it bound: SQLite stores naive ISO text (the format
    SQLAlchemy's DateTime uses, so ORM reads agree), other databases take the datetime."""
    if dialect == "sqlite":
        return at.replace(tzinfo=None).strftime(_SQLITE_TIME)
    return at


def _marks(conn: Connection, count: int) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return ", ".join([mark] * count)


def insert_predictions(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert prediction rows (tuples in PREDICTION_COLUMNS order, `at` from db_time)."""
    if not rows:
        return
    sql = (f"INSERT INTO {Prediction.__tablename__} ({', '.join(PREDICTION_COLUMNS)}) "
           f"VALUES ({_marks(conn, len(PREDICTION_COLUMNS))})")
    conn.exec_driver_sql(sql, list(rows))


def insert_quarantine(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        from sqlalchemy import insert

        conn.execute(insert(Quarantine.__table__), list(rows))  # type: ignore[arg-type]


def add_rollups(conn: Connection, deltas: Iterable[Any]) -> None:
    """Add rollup deltas (serving.rollup.RollupDelta) to their rows, creating missing ones."""
    rows = [
        {"model_id": d.model_id, "version_id": d.version_id, "route": d.route, "minute": d.minute,
         "count": d.count, "errors": d.errors, "latency_sum_ms": d.latency_sum_ms,
         "latency_max_ms": d.latency_max_ms, "out_count": d.out_count, "out_sum": d.out_sum,
         "out_sumsq": d.out_sumsq, "out_min": d.out_min, "out_max": d.out_max,
         **dict(zip(BUCKET_COLUMNS, d.buckets, strict=True))}
        for d in deltas
    ]
    if not rows:
        return
    from sqlalchemy import func

    table = MetricRollup.__table__
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
        lesser, greater = func.least, func.greatest
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
        lesser, greater = func.min, func.max
    stmt = dialect_insert(table)
    ex = stmt.excluded
    c = table.c  # type: ignore[attr-defined]
    summed = ("count", "errors", "latency_sum_ms", "out_count", "out_sum", "out_sumsq", *BUCKET_COLUMNS)
    update: dict[str, Any] = {name: c[name] + ex[name] for name in summed}
    update["latency_max_ms"] = greater(c.latency_max_ms, ex.latency_max_ms)
    # min/max of two values where either may be NULL (no score yet)
    update["out_min"] = lesser(func.coalesce(c.out_min, ex.out_min), func.coalesce(ex.out_min, c.out_min))
    update["out_max"] = greater(func.coalesce(c.out_max, ex.out_max), func.coalesce(ex.out_max, c.out_max))
    stmt = stmt.on_conflict_do_update(index_elements=["version_id", "route", "minute"], set_=update)
    for row in rows:  # one statement per key: few keys per commit (versions x routes x minutes)
        conn.execute(stmt, row)


def answered_requests(conn: Connection, model_id: int, request_ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Rows already logged for these request ids of a model (shadow rows left out):
    request_id -> [(prediction_id, version_id, route, row_index, outputs)] by row_index."""
    if not request_ids:
        return {}
    out: dict[str, list[tuple[Any, ...]]] = {}
    ids = list(dict.fromkeys(request_ids))
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        sql = (f"SELECT request_id, prediction_id, version_id, route, row_index, outputs "
               f"FROM {Prediction.__tablename__} WHERE model_id = {_marks(conn, 1)} AND route != 'shadow' "
               f"AND request_id IN ({_marks(conn, len(part))}) ORDER BY request_id, row_index")
        for rid, *rest in conn.exec_driver_sql(sql, (model_id, *part)).fetchall():
            out.setdefault(rid, []).append(tuple(rest))
    return out


def delete_batch_rows(conn: Connection, run_id: str, first: int, last: int | None) -> int:
    """Remove a batch run's logged and quarantined rows with row_index in [first, last]
    (last None: to the end), so a re-run replaces them. Returns the predictions removed."""
    tables = (Prediction.__tablename__, Quarantine.__tablename__)
    removed = 0
    for i, table in enumerate(tables):
        if last is None:
            sql = f"DELETE FROM {table} WHERE batch_run_id = {_marks(conn, 1)} AND row_index >= {_marks(conn, 1)}"
            result = conn.exec_driver_sql(sql, (run_id, first))
        else:
            sql = (f"DELETE FROM {table} WHERE batch_run_id = {_marks(conn, 1)} "
                   f"AND row_index BETWEEN {_marks(conn, 1)} AND {_marks(conn, 1)}")
            result = conn.exec_driver_sql(sql, (run_id, first, last))
        if i == 0:
            removed = result.rowcount or 0
    return removed
