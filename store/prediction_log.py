"""The prediction log's writes: the hot path of serving and batch scoring.

Rows go in with one driver-level ``executemany`` per transaction (DESIGN.md: ORM objects
insert about 12k rows/s, Core batches 150-190k, bare executemany 250-300k), in a write
transaction the caller opened with ``Database.write_core()``; the rollup is updated in
that same transaction, so the counts can never disagree with the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from store.rows import table_of
from store.tables import LATENCY_BUCKETS_MS, BatchRun, MetricRollup, Prediction, Quarantine
from store.types import utcnow

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect


class Executes(Protocol):
    """What the log's writes need of a transaction: a SQLAlchemy Connection, or the
    prediction log writer's DriverTransaction (store/log_writer.py)."""

    dialect: Dialect

    def exec_driver_sql(self, statement: str, parameters: Any = None) -> Any: ...


#: Column order of the tuples `insert_predictions` takes.
PREDICTION_COLUMNS = ("prediction_id", "at", "model_id", "version_id", "route", "source",
                      "request_id", "row_index", "batch_run_id", "inputs", "outputs", "latency_ms")
#: ... and of a flagged answer's tuples: one value more, why it is outside its guardrails.
GUARDED_COLUMNS = (*PREDICTION_COLUMNS, "guardrail")
BUCKET_COLUMNS = tuple(f"lat_b{i:02d}" for i in range(len(LATENCY_BUCKETS_MS) + 1))
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def db_time(dialect: str, at: datetime) -> Any:
    """A UTC time as the driver wants it bound: SQLite stores naive ISO text (the format
    SQLAlchemy's DateTime uses, so ORM reads agree), other databases take the datetime."""
    if dialect == "sqlite":
        return at.replace(tzinfo=None).strftime(_SQLITE_TIME)
    return at


def _marks(conn: Executes, count: int) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return ", ".join([mark] * count)


def insert_predictions(conn: Executes, rows: Sequence[tuple[Any, ...]],
                       columns: tuple[str, ...] = PREDICTION_COLUMNS) -> None:
    """Insert prediction rows (tuples in `columns` order, PREDICTION_COLUMNS or
    GUARDED_COLUMNS; `at` from db_time)."""
    if not rows:
        return
    if columns not in (PREDICTION_COLUMNS, GUARDED_COLUMNS):  # names go into the SQL text
        raise ValueError(f"insert_predictions: columns must be PREDICTION_COLUMNS or "
                         f"GUARDED_COLUMNS, not {columns}")
    sql = (f"INSERT INTO {Prediction.__tablename__} ({', '.join(columns)}) "
           f"VALUES ({_marks(conn, len(columns))})")
    conn.exec_driver_sql(sql, list(rows))


#: Per-row columns of `insert_chunk_predictions`; the rest are the same for the whole chunk.
CHUNK_ROW_COLUMNS = ("prediction_id", "row_index", "inputs", "outputs")


def insert_chunk_predictions(conn: Connection, same: dict[str, Any], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert a batch chunk's rows: `rows` are tuples in CHUNK_ROW_COLUMNS order, and
    `same` gives every other column of PREDICTION_COLUMNS (the chunk's time, version,
    route, run, latency), rendered once into the statement as literals by SQLAlchemy's
    own quoting, so the driver binds four values a row instead of twelve (15% of the
    insert time on SQLite)."""
    if not rows:
        return
    from sqlalchemy import literal

    columns = table_of(Prediction).columns
    missing = set(PREDICTION_COLUMNS) - set(CHUNK_ROW_COLUMNS) - set(same)
    if missing:
        raise ValueError(f"insert_chunk_predictions: no value for {', '.join(sorted(missing))}")
    unknown = set(same) - set(PREDICTION_COLUMNS)
    if unknown:  # its names go into the statement's text: only the table's own columns
        raise ValueError(f"insert_chunk_predictions: no column {', '.join(sorted(unknown))}")
    literals = [
        "NULL" if value is None else str(literal(value, columns[name].type).compile(
            dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        for name, value in same.items()
    ]
    fixed = ", ".join(literals)
    if conn.dialect.paramstyle != "qmark":  # a literal '%' would read as a placeholder
        fixed = fixed.replace("%", "%%")
    sql = (f"INSERT INTO {Prediction.__tablename__} ({', '.join((*CHUNK_ROW_COLUMNS, *same))}) "
           f"VALUES ({_marks(conn, len(CHUNK_ROW_COLUMNS))}, {fixed})")
    conn.exec_driver_sql(sql, list(rows))


def flag_predictions(conn: Executes, flags: Sequence[tuple[str, str]]) -> None:
    """Set the guardrail text of logged rows: (text, prediction_id) pairs (batch scoring
    flags the few rows outside a deployment's guardrails after their chunk's insert)."""
    if flags:
        conn.exec_driver_sql(f"UPDATE {Prediction.__tablename__} SET guardrail = {_marks(conn, 1)} "
                             f"WHERE prediction_id = {_marks(conn, 1)}", list(flags))


#: The columns of a quarantine record (serving.scoring.core.quarantine_record).
QUARANTINE_COLUMNS = ("at", "model_id", "version_id", "route", "source", "request_id", "batch_run_id",
                      "row_index", "field", "reason", "payload")


def insert_quarantine(conn: Executes, rows: Sequence[dict[str, Any]]) -> None:
    """Insert quarantine records (dicts with QUARANTINE_COLUMNS; `at` a datetime)."""
    if not rows:
        return
    dialect = conn.dialect.name
    sql = (f"INSERT INTO {Quarantine.__tablename__} ({', '.join(QUARANTINE_COLUMNS)}) "
           f"VALUES ({_marks(conn, len(QUARANTINE_COLUMNS))})")
    conn.exec_driver_sql(sql, [(db_time(dialect, r["at"]), *(r[c] for c in QUARANTINE_COLUMNS[1:])) for r in rows])


ROLLUP_COLUMNS = ("model_id", "version_id", "route", "minute", "count", "errors", "requests", "latency_sum_ms",
                  "latency_max_ms", "out_count", "out_sum", "out_sumsq", "out_min", "out_max", *BUCKET_COLUMNS)
_SUMMED = ("count", "errors", "requests", "latency_sum_ms", "out_count", "out_sum", "out_sumsq", *BUCKET_COLUMNS)
_upsert_sql: dict[str, str] = {}


def _rollup_upsert(conn: Executes) -> str:
    """INSERT ... ON CONFLICT DO UPDATE adding the deltas (built once per dialect: SQLite
    and PostgreSQL share the syntax but name their two-argument min/max differently)."""
    dialect = conn.dialect.name
    sql = _upsert_sql.get(dialect)
    if sql is None:
        least, greatest = ("least", "greatest") if dialect == "postgresql" else ("min", "max")
        t = MetricRollup.__tablename__
        sets = [f"{c} = {t}.{c} + excluded.{c}" for c in _SUMMED]
        sets.append(f"latency_max_ms = {greatest}({t}.latency_max_ms, excluded.latency_max_ms)")
        # either side may be NULL (no score yet): coalesce each with the other
        sets.append(f"out_min = {least}(coalesce({t}.out_min, excluded.out_min), "
                    f"coalesce(excluded.out_min, {t}.out_min))")
        sets.append(f"out_max = {greatest}(coalesce({t}.out_max, excluded.out_max), "
                    f"coalesce(excluded.out_max, {t}.out_max))")
        sql = _upsert_sql[dialect] = (
            f"INSERT INTO {t} ({', '.join(ROLLUP_COLUMNS)}) VALUES ({_marks(conn, len(ROLLUP_COLUMNS))}) "
            f"ON CONFLICT (version_id, route, minute) DO UPDATE SET {', '.join(sets)}")
    return sql


def add_rollups(conn: Executes, deltas: Iterable[Any]) -> None:
    """Add rollup deltas (serving.rollup.RollupDelta) to their rows, creating missing ones."""
    dialect = conn.dialect.name
    rows = [
        (d.model_id, d.version_id, d.route, db_time(dialect, d.minute), d.count, d.errors, d.requests,
         d.latency_sum_ms, d.latency_max_ms, d.out_count, d.out_sum, d.out_sumsq, d.out_min, d.out_max,
         *d.buckets)
        for d in deltas
    ]
    if rows:
        conn.exec_driver_sql(_rollup_upsert(conn), rows)


def answered_requests(conn: Executes, model_id: int, request_ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Rows already logged for these request ids of a model (shadow rows left out):
    request_id -> [(prediction_id, version_id, route, row_index, outputs, guardrail)] by row_index."""
    if not request_ids:
        return {}
    out: dict[str, list[tuple[Any, ...]]] = {}
    ids = list(dict.fromkeys(request_ids))
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        sql = (f"SELECT request_id, prediction_id, version_id, route, row_index, outputs, guardrail "
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


def add_batch_progress(conn: Connection, run_id: str, rows_read: int, scored: int, quarantined: int) -> None:
    """Count a committed chunk on its run, in the chunk's transaction; the run's heartbeat
    (store/run_life.py) moves with each chunk."""
    m = _marks(conn, 1)
    conn.exec_driver_sql(
        f"UPDATE {BatchRun.__tablename__} SET rows_read = rows_read + {m}, rows_scored = rows_scored + {m}, "
        f"rows_quarantined = rows_quarantined + {m}, chunks = chunks + 1, heartbeat_at = {m} WHERE id = {m}",
        (rows_read, scored, quarantined, db_time(conn.dialect.name, utcnow()), run_id))
