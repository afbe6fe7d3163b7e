"""A window of the prediction log read in bulk for the monitoring checks: a million rows
in seconds. Rows come off the driver's cursor in pages, and the inputs and outputs (JSON
text per row) are parsed column-wise by pyarrow's JSON reader into typed columns, where
a dict per row through pandas would take ten times as long."""

from __future__ import annotations

import gc
import io
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

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
    # prediction_ids is empty when read with with_ids=False; prediction_ids, version_ids and
    # labels are all empty with with_meta=False (the drift and quality checks)

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


def driver_pages(conn: Connection, sql: str, params: list[Any],
                 page_rows: int = PAGE_ROWS) -> Iterator[Sequence[tuple[Any, ...]]]:
    """The rows of a query in pages of PAGE_ROWS, off the driver's own cursor (no
    SQLAlchemy row objects), so a window of millions of rows is never held at once."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        while page := cursor.fetchmany(page_rows):
            yield page
    finally:
        cursor.close()


def as_bytes(conn: Connection, column: str) -> str:
    """SQLite hands TEXT over as bytes when cast to BLOB: no UTF-8 decoding into a Python
    str per row, which is a third of the read time of a million rows."""
    return f"CAST({column} AS BLOB)" if conn.dialect.name == "sqlite" else column


def read_window(conn: Connection, model_id: int, since: datetime, until: datetime, *,
                version_id: int | None = None, input_types: dict[str, str] | None = None,
                with_inputs: bool = True, with_outputs: bool = True,
                with_ids: bool = True, with_meta: bool = True) -> LoggedWindow:
    """Read a window of a model's log. `input_types` maps each input column to "number"
    or "string" (from the signature): values are parsed to those types, so a column
    that turns to text upstream shows as nulls plus the type violations the quality
    check counts, never as a crash."""

    where, params = _where(conn, model_id, since, until, version_id)
    data_cols = (f", {as_bytes(conn, 'inputs') if with_inputs else 'NULL'}"
                 f", {as_bytes(conn, 'outputs') if with_outputs else 'NULL'}")
    # Only the columns asked for: the drift and quality checks read the data alone, which
    # is a third less for SQLite to hand over than with ids, versions and labels.
    meta = (f"{'prediction_id' if with_ids else 'NULL'}, version_id, label" if with_meta
            else "NULL, NULL, NULL")
    # In the (model_id, at) index's order: no sort of the window before the first row.
    sql = (f"SELECT {meta}{data_cols} FROM {Prediction.__tablename__} "
           f"WHERE {where} ORDER BY at, id")
    ids: list[str] = []
    versions: list[int] = []
    labels: list[str | None] = []
    input_rows: list[int] = []
    output_rows: list[int] = []
    input_pages: list[_Page] = []
    output_pages: list[_Page] = []
    rows = 0
    # The cyclic garbage collector would walk every page's row tuples again and again as
    # the window grows (millions of tracked objects, none of them in a cycle): off while
    # the rows arrive, it doubled the read of a million rows.
    collecting = gc.isenabled()
    gc.disable()
    con = None
    try:
        # Each page's JSON is parsed by DuckDB on a worker thread while SQLite steps through
        # the next: DuckDB runs without the GIL, so the two overlap (a pure-Python parser on
        # that thread would fight the fetch for the GIL on every row instead).
        # One DuckDB connection for every page (its set-up is not free), used by the one
        # worker thread only.
        con = _duckdb_connection() if with_inputs or with_outputs else None
        with ThreadPoolExecutor(1, thread_name_prefix="wk-window-parse") as pool:
            for page in driver_pages(conn, sql, params):
                # Columns from the page in C (zip), not a Python step per row and field.
                pids, vids, labs, inputs, outputs = zip(*page, strict=True)
                if with_meta:
                    if with_ids:
                        ids.extend(pids)
                    versions.extend(vids)
                    labels.extend(labs)
                if with_inputs and (kept := _present(inputs, rows, input_rows)):
                    input_pages.append(_Page.submit(pool, kept, _input_shape(input_types), con))
                if with_outputs and (kept := _present(outputs, rows, output_rows)):
                    output_pages.append(_Page.submit(pool, kept, _output_shape(kept[0]), con))
                rows += len(page)
            inputs_frame = _frame(input_pages, lambda texts: parse_json_rows(texts, input_types))
            if not input_pages:
                inputs_frame = parse_json_rows([], input_types)
            outputs_out = _frame(output_pages, outputs_frame).rename(columns=_proba_name)
    finally:
        if collecting:
            gc.enable()
        if con is not None:
            con.close()
    return LoggedWindow(
        rows=rows, prediction_ids=ids, version_ids=np.asarray(versions, dtype=np.int64),
        inputs=inputs_frame, input_rows=np.asarray(input_rows, dtype=np.int64),
        outputs=outputs_out, output_rows=np.asarray(output_rows, dtype=np.int64),
        labels=labels,
    )


@dataclass
class _Page:
    """One page's JSON texts and DuckDB's parse of them (None: parse them another way)."""

    texts: Sequence[bytes | str]
    parsed: Future[pa.Table | None] | None

    @classmethod
    def submit(cls, pool: ThreadPoolExecutor, texts: Sequence[bytes | str],
               shape: dict[str, Any] | None, con: Any) -> _Page:
        if shape is None:
            return cls(texts, None)
        return cls(texts, pool.submit(_duckdb_transform, _lines(texts), texts, shape, con))


def _frame(pages: list[_Page], fallback: Any) -> pd.DataFrame:
    """The pages as one frame: DuckDB's Arrow tables concatenated and converted once, or
    (a page it could not parse) every page through `fallback`."""
    import pyarrow as pa

    if not pages:
        return pd.DataFrame()
    tables = [page.parsed.result() if page.parsed is not None else None for page in pages]
    if all(t is not None for t in tables):
        joined = pa.concat_tables([t for t in tables if t is not None], promote_options="permissive")
        return joined.flatten().to_pandas()
    return pd.concat([fallback(page.texts) for page in pages], ignore_index=True)


def _duckdb_connection() -> Any:
    import duckdb

    return duckdb.connect()


def _input_shape(types: dict[str, str] | None) -> dict[str, Any] | None:
    return {name: _DUCK_TYPES.get(kind, "VARCHAR") for name, kind in types.items()} if types else None


def _present(values: tuple[Any, ...], base: int, positions: list[int]) -> Sequence[bytes | str]:
    """The non-null values of a page's column; their positions in the window are added to
    `positions` (all of them, without a step per row, when none is null)."""
    if None not in values:
        positions.extend(range(base, base + len(values)))
        return values
    kept = [i for i, v in enumerate(values) if v is not None]
    positions.extend(base + i for i in kept)
    return [values[i] for i in kept]


def _lines(texts: Sequence[bytes | str]) -> bytes:
    """Newline-delimited JSON for pyarrow (SQLite's values are bytes already: one join)."""
    if texts and isinstance(texts[0], str):  # a driver hands over text or bytes, never both
        return b"\n".join(_utf8(t) for t in texts)
    return b"\n".join(cast("Sequence[bytes]", texts))


def _utf8(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _arrow_type(kind: str) -> pa.DataType:
    import pyarrow as pa

    return pa.float64() if kind == "number" else pa.string()


def parse_json_rows(texts: Sequence[bytes | str], types: dict[str, str] | None = None) -> pd.DataFrame:
    """JSON objects (one per row) to a DataFrame, parsed column-wise by pyarrow. With
    `types`, those columns get those types (a value of another type becomes null) and
    other keys are ignored."""

    if not texts:
        return pd.DataFrame({name: pd.Series(dtype="float64" if kind == "number" else "object")
                             for name, kind in (types or {}).items()})
    import pyarrow as pa
    import pyarrow.json as pj

    body = _lines(texts)
    if types:
        parsed = _parse_with_duckdb(body, texts, types)
        if parsed is not None:
            return parsed
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


_DUCK_TYPES = {"number": "DOUBLE", "string": "VARCHAR"}


def _parse_with_duckdb(body: bytes, texts: Sequence[bytes | str], types: dict[str, str]) -> pd.DataFrame | None:
    """Typed columns from newline-delimited JSON objects by DuckDB's json_transform (yyjson,
    on every core): three times pyarrow's JSON reader on a million logged rows, which is
    most of a drift check's time. A value of another type becomes null, as with pyarrow.
    None where the body is not one object per line (the caller falls back)."""
    shape = {name: _DUCK_TYPES.get(kind, "VARCHAR") for name, kind in types.items()}
    table = _duckdb_transform(body, texts, shape)
    return table.to_pandas() if table is not None else None


def _duckdb_transform(body: bytes, texts: Sequence[bytes | str], shape: dict[str, Any],
                      con: Any = None) -> pa.Table | None:
    """json_transform of each line of `body` to `shape` (a DuckDB JSON structure), as an
    Arrow table with the structure's top-level keys as columns. The lines become one Arrow
    string array without a copy (offsets from the texts' lengths)."""
    import json

    import duckdb
    import pyarrow as pa

    count = len(texts)
    if body.count(b"\n") != count - 1 or any(isinstance(t, str) for t in texts[:1]):
        return None  # a line break inside a value (never from our JSON encoders), or text
    offsets = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=count) + 1, out=offsets[1:])
    offsets[count] = len(body)  # the last line has no line break after it
    lines = pa.LargeStringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(body))
    own = con is None
    con = duckdb.connect() if own else con
    try:
        con.register("logged", pa.table({"j": lines}))
        # unnest: the struct's fields as columns from one parse per row (naming each field
        # of json_transform(...) would parse every row once per field)
        sql = f"SELECT unnest(json_transform(j, {_literal(json.dumps(shape))})) FROM logged"
        return con.sql(sql).to_arrow_table()
    except duckdb.Error:
        return None
    finally:
        con.unregister("logged")
        if own:
            con.close()


def _output_shape(first: bytes | str) -> dict[str, Any]:
    """The DuckDB structure of a logged output, from one of them: the class as text (as
    the checks compare it), a value and the probabilities as numbers."""
    import orjson

    sample = orjson.loads(first)
    shape: dict[str, Any] = {}
    for key, value in sample.items():
        if isinstance(value, dict):
            shape[key] = {str(k): "DOUBLE" for k in value}
        elif key == "class" or not isinstance(value, int | float) or isinstance(value, bool):
            shape[key] = "VARCHAR"
        else:
            shape[key] = "DOUBLE"
    return shape


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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


def outputs_frame(texts: Sequence[bytes | str]) -> pd.DataFrame:
    """Outputs as columns: `class` (or `value`) and, for classifiers with probabilities,
    one `proba:<class>` column per class."""
    import pyarrow as pa
    import pyarrow.json as pj

    if not texts:
        return pd.DataFrame()
    body = _lines(texts)
    fast = _duckdb_transform(body, texts, _output_shape(texts[0]))
    if fast is not None:
        return fast.flatten().to_pandas().rename(columns=_proba_name)
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
