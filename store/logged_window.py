"""A window of the prediction log read in bulk for the monitoring checks: a million rows
in seconds. Rows come off the driver's cursor in pages, and the inputs and outputs (JSON
text per row) are parsed column-wise by pyarrow's JSON reader into typed columns, where
a dict per row through pandas would take ten times as long."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from store.prediction_log import db_time
from store.tables import Prediction, Quarantine
from store.vocabulary import Route

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy.engine import Connection

PAGE_ROWS = 50_000


@dataclass
class LoggedWindow:
    """The non-shadow rows of a window, oldest first. `inputs` holds the rows whose
    inputs were logged (`input_rows` are their positions among all rows)."""

    rows: int
    prediction_ids: list[str]
    version_ids: np.ndarray
    inputs: pd.DataFrame
    input_rows: np.ndarray
    outputs: pd.DataFrame  # class / value / score (and probability columns), one per row with outputs
    output_rows: np.ndarray
    labels: list[str | None] = field(default_factory=list)  # JSON text, per row

    @property
    def labelled(self) -> int:
        return sum(1 for x in self.labels if x is not None)


def _where(conn: Connection, model_id: int, since: datetime, until: datetime,
           version_id: int | None) -> tuple[str, list[Any]]:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    dialect = conn.dialect.name
    sql = f"model_id = {mark} AND at >= {mark} AND at < {mark} AND route != {mark}"
    params: list[Any] = [model_id, db_time(dialect, since), db_time(dialect, until), str(Route.SHADOW)]
    if version_id is not None:
        sql += f" AND version_id = {mark}"
        params.append(version_id)
    return sql, params


def _pages(conn: Connection, sql: str, params: list[Any]) -> Iterator[Sequence[tuple[Any, ...]]]:
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        while page := cursor.fetchmany(PAGE_ROWS):
            yield page
    finally:
        cursor.close()


def _as_bytes(conn: Connection, column: str) -> str:
    """SQLite hands TEXT over as bytes when cast to BLOB: no UTF-8 decoding into a Python
    str per row, which is a third of the read time of a million rows."""
    return f"CAST({column} AS BLOB)" if conn.dialect.name == "sqlite" else column


def read_window(conn: Connection, model_id: int, since: datetime, until: datetime, *,
                version_id: int | None = None, input_types: dict[str, str] | None = None,
                with_inputs: bool = True, with_outputs: bool = True) -> LoggedWindow:
    """Read a window of a model's log. `input_types` maps each input column to "number"
    or "string" (from the signature): values are parsed to those types, so a column
    that turns to text upstream shows as nulls plus the type violations the quality
    check counts, never as a crash. Pages are parsed on a worker thread while the next
    page is fetched (pyarrow's parser releases the GIL)."""
    from concurrent.futures import Future, ThreadPoolExecutor

    where, params = _where(conn, model_id, since, until, version_id)
    data_cols = (f", {_as_bytes(conn, 'inputs') if with_inputs else 'NULL'}"
                 f", {_as_bytes(conn, 'outputs') if with_outputs else 'NULL'}")
    # In the (model_id, at) index's order: no sort of the window before the first row.
    sql = (f"SELECT prediction_id, version_id, label{data_cols} FROM {Prediction.__tablename__} "
           f"WHERE {where} ORDER BY at, id")
    ids: list[str] = []
    versions: list[int] = []
    labels: list[str | None] = []
    input_rows: list[int] = []
    output_rows: list[int] = []
    input_pages: list[Future[pd.DataFrame]] = []
    output_pages: list[Future[pd.DataFrame]] = []
    with ThreadPoolExecutor(1, thread_name_prefix="wk-window-parse") as pool:
        for page in _pages(conn, sql, params):
            base = len(ids)
            inputs: list[bytes] = []
            outputs: list[bytes] = []
            for i, (pid, vid, label, inp, out) in enumerate(page):
                ids.append(pid)
                versions.append(vid)
                labels.append(label)
                if inp is not None:
                    inputs.append(_utf8(inp))
                    input_rows.append(base + i)
                if out is not None:
                    outputs.append(_utf8(out))
                    output_rows.append(base + i)
            input_pages.append(pool.submit(parse_json_rows, inputs, input_types))
            output_pages.append(pool.submit(outputs_frame, outputs))
        input_frames = [f.result() for f in input_pages]
        output_frames = [f.result() for f in output_pages]
    return LoggedWindow(
        rows=len(ids), prediction_ids=ids, version_ids=np.asarray(versions, dtype=np.int64),
        inputs=_concat(input_frames, input_types), input_rows=np.asarray(input_rows, dtype=np.int64),
        outputs=_concat(output_frames, None), output_rows=np.asarray(output_rows, dtype=np.int64),
        labels=labels,
    )


def _utf8(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _concat(frames: list[pd.DataFrame], types: dict[str, str] | None) -> pd.DataFrame:
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return parse_json_rows([], types)
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _arrow_type(kind: str) -> pa.DataType:
    import pyarrow as pa

    return pa.float64() if kind == "number" else pa.string()


def parse_json_rows(texts: Sequence[bytes | str], types: dict[str, str] | None = None) -> pd.DataFrame:
    """JSON objects (one per row) to a DataFrame, parsed column-wise by pyarrow. With
    `types`, those columns get those types (a value of another type becomes null) and
    other keys are ignored."""
    import pyarrow as pa
    import pyarrow.json as pj

    if not texts:
        return pd.DataFrame({name: pd.Series(dtype="float64" if kind == "number" else "object")
                             for name, kind in (types or {}).items()})
    body = b"\n".join(_utf8(t) for t in texts)
    parse = pj.ParseOptions(newlines_in_values=False)
    if types:
        schema = pa.schema([(name, _arrow_type(kind)) for name, kind in types.items()])
        parse = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    read = pj.ReadOptions(block_size=1 << 20)  # blocks parse in parallel
    try:
        table = pj.read_json(io.BytesIO(body), read_options=read, parse_options=parse)
    except pa.ArrowInvalid:
        # A value of the wrong type for its column: parse row by row (slow, but only
        # for a window that already has a broken feed), nulling what does not fit.
        return _parse_leniently(texts, types or {})
    return table.to_pandas()


def _parse_leniently(texts: Sequence[bytes | str], types: dict[str, str]) -> pd.DataFrame:
    import orjson

    records = [orjson.loads(t) for t in texts]
    frame = pd.DataFrame.from_records(records)
    out: dict[str, pd.Series] = {}
    for name, kind in types.items():
        series = frame[name] if name in frame else pd.Series([None] * len(frame))
        if kind == "number":
            out[name] = pd.to_numeric(series.where(series.map(_is_number)), errors="coerce").astype("float64")
        else:
            out[name] = series.where(series.map(lambda v: isinstance(v, str)), None).astype("object")
    return pd.DataFrame(out)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def type_violations(texts: Sequence[bytes | str], types: dict[str, str]) -> dict[str, int]:
    """Per column, how many rows hold a value of the wrong JSON type (not null)."""
    import orjson

    counts = dict.fromkeys(types, 0)
    for text in texts:
        row = orjson.loads(text)
        for name, kind in types.items():
            value = row.get(name)
            if value is None:
                continue
            if (kind == "number") != _is_number(value):
                counts[name] += 1
    return counts


def outputs_frame(texts: Sequence[bytes | str]) -> pd.DataFrame:
    """Outputs as columns: `class` (or `value`) and, for classifiers with probabilities,
    one `proba:<class>` column per class."""
    import pyarrow as pa
    import pyarrow.json as pj

    if not texts:
        return pd.DataFrame()
    body = b"\n".join(_utf8(t) for t in texts)
    try:
        table = pj.read_json(io.BytesIO(body), read_options=pj.ReadOptions(block_size=1 << 20))
    except pa.ArrowInvalid:
        import orjson

        return pd.json_normalize([orjson.loads(t) for t in texts]).rename(columns=_proba_name)
    return table.flatten().to_pandas().rename(columns=_proba_name)


def _proba_name(name: str) -> str:
    prefix = "probabilities."
    return "proba:" + name[len(prefix):] if name.startswith(prefix) else name


def quarantine_reasons(conn: Connection, model_id: int, since: datetime,
                       until: datetime) -> list[tuple[str | None, str, int]]:
    """Refused rows of a window as (field, reason, count), most first (their inputs
    never reached the log)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    dialect = conn.dialect.name
    sql = (f"SELECT field, reason, count(*) FROM {Quarantine.__tablename__} WHERE model_id = {mark} "
           f"AND at >= {mark} AND at < {mark} GROUP BY field, reason ORDER BY count(*) DESC")
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, [model_id, db_time(dialect, since), db_time(dialect, until)])
        return [(field, str(reason), int(n)) for field, reason, n in cursor.fetchall()]
    finally:
        cursor.close()


def quarantined_payloads(conn: Connection, model_id: int, since: datetime, until: datetime, *,
                         reason_contains: str | None = None, limit: int = 100_000) -> list[str]:
    """The refused rows' payloads (JSON text) of a window: an unseen category that the
    input policy rejects is still drift, and its count comes from here."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    dialect = conn.dialect.name
    sql = (f"SELECT payload FROM {Quarantine.__tablename__} WHERE model_id = {mark} AND at >= {mark} "
           f"AND at < {mark} AND payload IS NOT NULL"
           + (f" AND reason LIKE {mark}" if reason_contains else "") + f" ORDER BY id LIMIT {int(limit)}")
    params: list[Any] = [model_id, db_time(dialect, since), db_time(dialect, until)]
    if reason_contains:
        params.append(f"%{reason_contains}%")
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]
    finally:
        cursor.close()
