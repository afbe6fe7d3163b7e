"""A window of the prediction log as Arrow tables, page by page, for `wk predictions export`:
every route (shadow rows included), with ids, metadata, the inputs flattened to one column
each, the outputs (class or value, one probability column per class), and the label.

The columns are fixed before the first page (from the signatures of the versions the
window holds and one logged output of each), so every page has the same schema and a
Parquet or CSV writer can take them one after another: memory is one page, whatever the
window's size. JSON is parsed column-wise by pyarrow, as in store/logged_window.py."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from store.logged_window import PAGE_ROWS, as_bytes, driver_pages
from store.prediction_log import db_time
from store.tables import ModelVersion, Prediction

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy.engine import Connection

#: Metadata columns, in the order a page holds them.
META_COLUMNS = ("prediction_id", "at", "version", "route", "source", "request_id", "row_index",
                "batch_run_id", "latency_ms")
INPUT_PREFIX = "input."
OUTPUT_PREFIX = "output."
PROBA_PREFIX = "output.proba."


@dataclass(frozen=True)
class ExportPlan:
    """What the export's columns are: inputs by name and Arrow type, outputs likewise, and
    the version number of each version id in the window."""

    versions: dict[int, int]
    inputs: dict[str, pa.DataType]
    outputs: dict[str, pa.DataType]
    rows: int

    def schema(self) -> pa.Schema:
        import pyarrow as pa

        meta = [("prediction_id", pa.string()), ("at", pa.timestamp("us", tz="UTC")),
                ("version", pa.int64()), ("route", pa.string()), ("source", pa.string()),
                ("request_id", pa.string()), ("row_index", pa.int64()), ("batch_run_id", pa.string()),
                ("latency_ms", pa.float64())]
        return pa.schema(meta + [(INPUT_PREFIX + n, t) for n, t in self.inputs.items()]
                         + [(OUTPUT_PREFIX + n, t) for n, t in self.outputs.items()]
                         + [("label", pa.string()), ("label_at", pa.timestamp("us", tz="UTC"))])


def _mark(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _where(conn: Connection, model_id: int, since: datetime, until: datetime,
           version_id: int | None) -> tuple[str, list[Any]]:
    mark, dialect = _mark(conn), conn.dialect.name
    sql = f"model_id = {mark} AND at >= {mark} AND at < {mark}"
    params: list[Any] = [model_id, db_time(dialect, since), db_time(dialect, until)]
    if version_id is not None:
        sql += f" AND version_id = {mark}"
        params.append(version_id)
    return sql, params


def _input_type(kind: str) -> pa.DataType:
    import pyarrow as pa

    return {"numeric": pa.float64(), "boolean": pa.bool_()}.get(kind, pa.string())


def _value_type(values: Sequence[Any]) -> pa.DataType:
    """One Arrow type for the JSON values a column holds (int, float, bool or text)."""
    import pyarrow as pa

    kinds = {type(v) for v in values if v is not None}
    if kinds == {bool}:
        return pa.bool_()
    if kinds == {int}:
        return pa.int64()
    if kinds and kinds <= {int, float}:
        return pa.float64()
    return pa.string()


def plan_export(conn: Connection, model_id: int, since: datetime, until: datetime,
                version_id: int | None = None) -> ExportPlan:
    """The columns of an export of this window: one query for the versions it holds (with
    a row count and the first row of each that kept its outputs), then those outputs."""

    where, params = _where(conn, model_id, since, until, version_id)
    sql = (f"SELECT version_id, count(*), min(CASE WHEN outputs IS NOT NULL THEN id END) "
           f"FROM {Prediction.__tablename__} WHERE {where} GROUP BY version_id ORDER BY version_id")
    found = [row for page in driver_pages(conn, sql, params) for row in page]
    version_ids = [int(r[0]) for r in found]
    numbers: dict[int, int] = {}
    inputs: dict[str, pa.DataType] = {}
    if version_ids:
        mark = _mark(conn)
        marks = ", ".join([mark] * len(version_ids))
        rows = conn.exec_driver_sql(
            f"SELECT id, version, signature FROM {ModelVersion.__tablename__} WHERE id IN ({marks}) "
            "ORDER BY version", tuple(version_ids)).all()
        for vid, number, signature in rows:
            numbers[int(vid)] = int(number)
            sig = orjson.loads(signature) if isinstance(signature, str | bytes) else signature
            for column in (sig or {}).get("columns", []):
                inputs.setdefault(str(column["name"]), _input_type(str(column.get("kind", ""))))
    first_ids = [int(r[2]) for r in found if r[2] is not None]
    samples: list[dict[str, Any]] = []
    if first_ids:
        mark = _mark(conn)
        marks = ", ".join([mark] * len(first_ids))
        samples = [orjson.loads(text) for (text,) in conn.exec_driver_sql(
            f"SELECT outputs FROM {Prediction.__tablename__} WHERE id IN ({marks})",
            tuple(first_ids)).all()]
    return ExportPlan(versions=numbers, inputs=inputs, outputs=_output_columns(samples),
                      rows=sum(int(r[1]) for r in found))


def _output_columns(samples: list[dict[str, Any]]) -> dict[str, pa.DataType]:
    """`class` and `proba.<class>` for classifiers, `value` for regressors, from one logged
    output of each version (a classifier logs every class's probability on every row)."""
    import pyarrow as pa

    out: dict[str, pa.DataType] = {}
    for key in ("class", "value"):
        values = [s.get(key) for s in samples if isinstance(s, dict) and key in s]
        if values:
            out[key] = _value_type(values)
    classes: list[str] = []
    for s in samples:
        for name in (s.get("probabilities") or {}) if isinstance(s, dict) else ():
            if name not in classes:
                classes.append(str(name))
    for name in classes:
        out["proba." + name] = pa.float64()
    return out


def export_pages(conn: Connection, model_id: int, since: datetime, until: datetime, plan: ExportPlan,
                 version_id: int | None = None, page_rows: int = PAGE_ROWS) -> Iterator[pa.Table]:
    """The window, oldest first, as Arrow tables of at most `page_rows` rows in `plan`'s schema."""
    where, params = _where(conn, model_id, since, until, version_id)
    sql = (f"SELECT prediction_id, at, version_id, route, source, request_id, row_index, batch_run_id, "
           f"latency_ms, {as_bytes(conn, 'inputs')}, {as_bytes(conn, 'outputs')}, label, label_at "
           f"FROM {Prediction.__tablename__} WHERE {where} ORDER BY at, id")
    from concurrent.futures import Future, ThreadPoolExecutor

    schema = plan.schema()
    # A page is parsed on a worker thread while the next is fetched (pyarrow's parser
    # releases the GIL): at most two pages are held, the one parsed and the one read.
    with ThreadPoolExecutor(1, thread_name_prefix="wk-export-parse") as pool:
        pending: Future[pa.Table] | None = None
        for page in driver_pages(conn, sql, params, page_rows):
            if pending is not None:
                yield pending.result()
            pending = pool.submit(_page_table, page, plan, schema)
        if pending is not None:
            yield pending.result()


def _times(values: list[Any]) -> pa.Array:
    """Stored times to UTC timestamps: SQLite hands over ISO text, other drivers datetimes."""
    import pyarrow as pa

    kind = pa.timestamp("us", tz="UTC")
    if any(isinstance(v, str) for v in values):  # Arrow's ISO 8601 cast; stored times are UTC
        return pa.array(values, pa.string()).cast(pa.timestamp("us")).cast(kind)
    return pa.array(values, kind)


def _json_columns(texts: list[bytes | str | None], types: dict[str, pa.DataType],
                  flatten: bool) -> dict[str, pa.Array]:
    """JSON objects (None where not logged) to one Arrow array per column of `types`,
    null on the rows without one. A value of another type than its column's is null too
    (parsed row by row, only for a page that holds such a value)."""
    import pyarrow as pa
    import pyarrow.json as pj

    n = len(texts)
    if not types:
        return {}
    present = [i for i, t in enumerate(texts) if t is not None]
    if not present:
        return {name: pa.nulls(n, t) for name, t in types.items()}
    body = b"\n".join(t.encode() if isinstance(t, str) else t for t in texts if t is not None)
    if flatten:
        nested: dict[str, Any] = {}
        for name, t in types.items():
            if name.startswith("proba."):
                nested.setdefault("probabilities", {})[name[len("proba."):]] = t
            else:
                nested[name] = t
        fields = [pa.field(k, pa.struct([pa.field(c, ct) for c, ct in v.items()]) if isinstance(v, dict)
                           else v) for k, v in nested.items()]
        schema = pa.schema(fields)
    else:
        schema = pa.schema(list(types.items()))
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    try:
        table = pj.read_json(io.BytesIO(body), read_options=pj.ReadOptions(block_size=1 << 20),
                             parse_options=options)
        if flatten:
            table = table.flatten()
        columns = {_flat_name(name): table.column(name).combine_chunks() for name in table.column_names}
    except pa.ArrowInvalid:
        columns = _lenient_columns([t for t in texts if t is not None], types)
    if len(present) == n:
        return {name: columns[name] for name in types}
    # spread the parsed rows over the page, nulls where nothing was logged
    positions: list[int | None] = [None] * n
    for k, i in enumerate(present):
        positions[i] = k
    take = pa.array(positions, pa.int64())
    return {name: columns[name].take(take) for name in types}


def _flat_name(name: str) -> str:
    return "proba." + name[len("probabilities."):] if name.startswith("probabilities.") else name


def _lenient_columns(texts: list[bytes | str], types: dict[str, pa.DataType]) -> dict[str, pa.Array]:
    import pyarrow as pa

    rows = [orjson.loads(t) for t in texts]
    out: dict[str, pa.Array] = {}
    for name, kind in types.items():
        if name.startswith("proba."):
            values = [(r.get("probabilities") or {}).get(name[len("proba."):]) if isinstance(r, dict) else None
                      for r in rows]
        else:
            values = [r.get(name) if isinstance(r, dict) else None for r in rows]
        out[name] = pa.array([v if _fits(v, kind) else None for v in values], kind)
    return out


def _fits(value: Any, kind: pa.DataType) -> bool:
    import pyarrow as pa

    if value is None:
        return True
    if pa.types.is_boolean(kind):
        return isinstance(value, bool)
    if pa.types.is_integer(kind):
        return isinstance(value, int) and not isinstance(value, bool)
    if pa.types.is_floating(kind):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)


def _label_text(text: str | None) -> str | None:
    """A stored label (JSON) as text: a class name as it is, a number as written."""
    if text is None:
        return None
    value = orjson.loads(text)
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _page_table(page: Sequence[tuple[Any, ...]], plan: ExportPlan, schema: pa.Schema) -> pa.Table:
    import pyarrow as pa

    columns = list(zip(*page, strict=True))
    arrays: list[pa.Array] = [
        pa.array(columns[0], pa.string()),
        _times(list(columns[1])),
        pa.array([plan.versions.get(v) for v in columns[2]], pa.int64()),
        pa.array(columns[3], pa.string()),
        pa.array(columns[4], pa.string()),
        pa.array(columns[5], pa.string()),
        pa.array(columns[6], pa.int64()),
        pa.array(columns[7], pa.string()),
        pa.array(columns[8], pa.float64()),
    ]
    inputs = _json_columns(list(columns[9]), plan.inputs, flatten=False)
    outputs = _json_columns(list(columns[10]), plan.outputs, flatten=True)
    arrays += [inputs[name] for name in plan.inputs] + [outputs[name] for name in plan.outputs]
    arrays.append(pa.array([_label_text(t) for t in columns[11]], pa.string()))
    arrays.append(_times(list(columns[12])) if any(v is not None for v in columns[12])
                  else pa.nulls(len(page), pa.timestamp("us", tz="UTC")))
    return pa.Table.from_arrays(arrays, schema=schema)
