"""The SQL of the cost figures: resources of job runs summed per model and per job, rows
and bytes per model of the prediction log, quarantine and reports, the artifacts each
model's versions name, and the memory servers measured for loaded versions.

Bytes of a table (with its indexes) come from SQLite's dbstat virtual table when the
library has it (an exact page count), from pg_total_relation_size on PostgreSQL, and
otherwise are estimated as rows x the average length of the newest rows; `method` says
which. A model's share of a table is its share of the rows."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text
from sqlmodel import SQLModel

from store.markers import self_recording
from store.rows import table_of

# every table through store.tables: importing report_tables first is circular
from store.tables import (
    DriftFeature,
    DriftReport,
    JobRun,
    ModelVersion,
    PerformanceReport,
    Prediction,
    QualityReport,
    Quarantine,
    RegisteredModel,
    ServedModelMemory,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from store.handle import Store

#: the per-model tables of the usage figures, by the name they are reported under
LOG_TABLES: dict[str, type[SQLModel]] = {"predictions": Prediction, "quarantine": Quarantine}
REPORT_TABLES: tuple[type[SQLModel], ...] = (DriftReport, QualityReport, PerformanceReport)
#: rows of the newest part of a table whose length gives the estimate without dbstat
ESTIMATE_SAMPLE = 1000
#: a row's overhead beyond its values in a b-tree page (cell header, rowid, pointer)
ROW_OVERHEAD = 12


def run_totals(conn: Connection, since: datetime, by: str) -> list[dict[str, Any]]:
    """Job runs started since `since`, summed per model (`by="model"`: model id, None for
    store-wide jobs) or per job (`by="job"`: the job's name, kept when the job is gone)."""
    runs = table_of(JobRun)
    key = runs.c.model_id if by == "model" else runs.c.job_name
    extra = [] if by == "model" else [func.max(runs.c.kind), func.max(runs.c.model_id)]
    started = func.coalesce(runs.c.started_at, runs.c.queued_at)
    query = (select(key, func.count(), func.count(runs.c.cpu_s), func.sum(runs.c.cpu_s),
                    func.sum(runs.c.wall_s), func.max(runs.c.peak_memory_mb),
                    func.sum(runs.c.rows), *extra)
             .where(started >= since, runs.c.started_at.is_not(None)).group_by(key))
    out = []
    for row in conn.execute(query):
        item = {"key": row[0], "runs": int(row[1]), "measured": int(row[2]),
                "cpu_s": float(row[3] or 0.0), "wall_s": float(row[4] or 0.0),
                "peak_memory_mb": None if row[5] is None else float(row[5]),
                "rows": int(row[6] or 0)}
        if by == "job":
            item["kind"], item["model_id"] = row[7], row[8]
        out.append(item)
    return out


def model_names(conn: Connection) -> dict[int, str]:
    model = table_of(RegisteredModel)
    return {int(r[0]): str(r[1]) for r in conn.execute(select(model.c.id, model.c.name))}


def rows_per_model(conn: Connection) -> dict[str, dict[int, int]]:
    """Rows per model of the log tables and each report table (drift features counted
    under their report's model), through the (model_id, ...) indexes."""
    counts: dict[str, dict[int, int]] = {}
    for table in (*LOG_TABLES.values(), *REPORT_TABLES):
        t = table_of(table)
        counts[t.name] = {int(m): int(n) for m, n in conn.execute(
            select(t.c.model_id, func.count()).group_by(t.c.model_id))}
    feature, report = table_of(DriftFeature), table_of(DriftReport)
    counts[feature.name] = {int(m): int(n) for m, n in conn.execute(
        select(report.c.model_id, func.count()).select_from(
            feature.join(report, feature.c.report_id == report.c.id)).group_by(report.c.model_id))}
    return counts


def table_bytes(conn: Connection, names: list[str]) -> tuple[dict[str, int], str]:
    """Bytes of each table with its indexes, and how they were found."""
    if conn.dialect.name == "postgresql":
        return ({n: int(conn.execute(text("SELECT pg_total_relation_size(CAST(:t AS regclass))"), {"t": n}).scalar_one())
                 for n in names}, "pg_total_relation_size")
    if conn.dialect.name == "sqlite" and _has_dbstat(conn):
        sizes = {}
        for name in names:
            objects = [r[0] for r in conn.execute(text(
                "SELECT name FROM sqlite_master WHERE tbl_name = :t"), {"t": name})]
            total = 0
            for obj in objects:  # one b-tree at a time: dbstat walks only the one it is asked
                total += int(conn.execute(text(
                    "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = :n AND aggregate = 1"),
                    {"n": obj}).scalar_one())
            sizes[name] = total
        return sizes, "dbstat"
    return {n: _estimate(conn, n) for n in names}, "estimate"


def _has_dbstat(conn: Connection) -> bool:
    try:
        conn.execute(text("SELECT 1 FROM dbstat WHERE name = 'sqlite_master' AND aggregate = 1"))
    except Exception:  # noqa: BLE001  (a library built without SQLITE_ENABLE_DBSTAT_VTAB)
        return False
    return True


def _estimate(conn: Connection, name: str) -> int:
    """rows x (the average length of the newest rows' values + a row's overhead)."""
    tables: tuple[type[SQLModel], ...] = (*LOG_TABLES.values(), *REPORT_TABLES, DriftFeature)
    table = next(table_of(t) for t in tables if table_of(t).name == name)
    rows = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    newest = select(table).order_by(table.c.id.desc()).limit(ESTIMATE_SAMPLE).subquery()
    length: Any = 0
    for column in newest.c:
        length = length + func.coalesce(func.length(column), 0)
    sampled, total = conn.execute(select(func.count(), func.sum(length))).one()
    average = float(total or 0) / sampled if sampled else 0.0
    return int(rows * (average + ROW_OVERHEAD))


def artifacts_per_model(conn: Connection) -> list[tuple[int, int, str]]:
    """(model id, version number, artifact sha256) of every version."""
    version = table_of(ModelVersion)
    return [(int(m), int(v), str(s)) for m, v, s in conn.execute(
        select(version.c.model_id, version.c.version, version.c.artifact_sha256))]


def served_memory(conn: Connection) -> list[dict[str, Any]]:
    """The newest measurement of each version a server loaded, with its model."""
    memory, version = table_of(ServedModelMemory), table_of(ModelVersion)
    newest = select(func.max(memory.c.id)).group_by(memory.c.version_id).scalar_subquery()
    query = (select(version.c.model_id, version.c.version, memory.c.bytes, memory.c.host,
                    memory.c.pid, memory.c.measured_at)
             .join(version, version.c.id == memory.c.version_id).where(memory.c.id.in_(newest))
             .order_by(version.c.model_id, version.c.version))
    return [{"model_id": int(r[0]), "version": int(r[1]), "bytes": int(r[2]), "host": r[3],
             "pid": int(r[4]), "measured_at": r[5]} for r in conn.execute(query)]


@self_recording("a served model's memory reading is a measurement row with its time")
def record_served_memory(store: Store, version_id: int, nbytes: int) -> None:
    """A server's measurement of the memory a version took to load."""
    with store.db.write() as session:
        session.add(ServedModelMemory(version_id=version_id, host=socket.gethostname(),
                                      pid=os.getpid(), bytes=int(nbytes)))
