"""`wk predictions export`: a window of the log written to Parquet, CSV or JSON lines, a page
at a time (store/log_export.py reads the pages), so memory stays at one page for a window of
millions of rows. A file is written beside its target and renamed into place when complete:
a failed export never leaves half a file under the name asked for."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from store import models as model_store
from store.errors import InvalidInput, UsageError
from store.log_export import ExportPlan, export_pages, plan_export
from store.logged_window import PAGE_ROWS
from store.modes import Modes, create_file
from store.names import check_destination
from store.types import utcnow

if TYPE_CHECKING:
    import pyarrow as pa

    from store.handle import Store

FORMATS = ("parquet", "csv", "jsonl")
EXTENSIONS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl",
              ".ndjson": "jsonl", ".json": "jsonl"}
#: Rows turned into Python objects at a time for JSON lines.
JSON_SLICE_ROWS = 5_000
#: Where no --since is given: from the first logged prediction.
LOG_START = datetime(1970, 1, 1, tzinfo=UTC)


def format_of(path: str | None, fmt: str | None) -> str:
    """The format asked for, else the one the file's extension names (Parquet when neither)."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise UsageError(f"format {fmt!r} is not one of {', '.join(FORMATS)}", field="format",
                             example="parquet")
        return fmt
    if path is None or path == "-":
        return "parquet" if path is None else "jsonl"
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        raise UsageError(f"cannot tell the format of {path!r} from its extension "
                         f"(known: {', '.join(EXTENSIONS)})", field="format", example="parquet")
    return EXTENSIONS[suffix]


def window_of(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    start = since or LOG_START
    end = until or (utcnow() + timedelta(seconds=1))
    if start >= end:
        raise UsageError(f"the window starts at {start.isoformat()}, not before its end "
                         f"{end.isoformat()}: since must be before until")
    return start, end


@dataclass
class ExportResult:
    model: str
    format: str
    file: str
    rows: int
    pages: int
    columns: list[str]
    since: datetime
    until: datetime
    seconds: float

    def view(self) -> dict[str, Any]:
        return {"model": self.model, "format": self.format, "file": self.file, "rows": self.rows,
                "pages": self.pages, "columns": self.columns, "since": self.since.isoformat(),
                "until": self.until.isoformat(), "seconds": round(self.seconds, 3)}


def export_log(store: Store, model: str, *, since: datetime | None = None, until: datetime | None = None,
               version: str | int | None = None, fmt: str = "parquet", output: str | IO[bytes],
               page_rows: int = PAGE_ROWS) -> ExportResult:
    """Write the window of `model`'s log to `output` (a path, or a binary stream such as
    stdout for csv and jsonl)."""
    started = time.perf_counter()
    if fmt not in FORMATS:
        raise UsageError(f"format {fmt!r} is not one of {', '.join(FORMATS)}", field="format",
                         example="parquet")
    if fmt == "parquet" and not isinstance(output, str):
        raise UsageError("Parquet is written to a file, not a stream: give a file name",
                         field="output", example="log.parquet")
    start, end = window_of(since, until)
    with store.db.read() as session:
        m = model_store.get_model(session, model)
        version_id = None
        if version is not None:
            from registry.versions import resolve_version

            version_id = resolve_version(session, m, version).id
        model_id = m.id
    assert model_id is not None
    with store.db.read_core() as conn:
        plan = plan_export(conn, model_id, start, end, version_id)
        pages = export_pages(conn, model_id, start, end, plan, version_id, page_rows)
        if isinstance(output, str):
            check_destination(output, what="export file", field="output",
                              store_root=store.location.root)
            rows, count = _write_file(output, fmt, plan, pages, store.modes)
            name = output
        else:
            rows, count = _write(output, fmt, plan, pages)
            name = "-"
    return ExportResult(model=model, format=fmt, file=name, rows=rows, pages=count,
                        columns=plan.schema().names, since=start, until=end,
                        seconds=time.perf_counter() - started)


def _write_file(path: str, fmt: str, plan: ExportPlan, pages: Iterator[pa.Table],
                modes: Modes) -> tuple[int, int]:
    target = Path(path)
    if target.is_dir():
        raise InvalidInput(f"{path} is a folder; give a file name", field="output",
                           example=f"{path.rstrip('/')}/log.{fmt}")
    if not target.parent.is_dir():
        raise InvalidInput(f"the folder of {path} does not exist; create it or give another path",
                           field="output")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        create_file(partial, modes)  # the log's rows are the store owner's (and group's) only
        if fmt == "parquet":
            done = _write_parquet(partial, plan, pages)
        else:
            with partial.open("wb") as out:
                done = _write(out, fmt, plan, pages)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return done


def _write_parquet(path: Path, plan: ExportPlan, pages: Iterator[pa.Table]) -> tuple[int, int]:
    import pyarrow.parquet as pq

    rows = count = 0
    with pq.ParquetWriter(path, plan.schema(), compression="zstd") as writer:
        for page in pages:
            writer.write_table(page)
            rows, count = rows + page.num_rows, count + 1
    return rows, count


def _write(out: IO[bytes], fmt: str, plan: ExportPlan, pages: Iterator[pa.Table]) -> tuple[int, int]:
    """CSV (header once, then each page) or JSON lines (one object a row) to a stream."""
    import pyarrow.csv as pcsv

    rows = count = 0
    if fmt == "csv":
        with pcsv.CSVWriter(out, plan.schema()) as writer:
            for page in pages:
                writer.write_table(page)
                rows, count = rows + page.num_rows, count + 1
        return rows, count
    for page in pages:
        # a dict per row through orjson: as fast as pandas' to_json here, and an int column
        # with nulls stays int; in slices, so the Python objects of a whole page never exist
        for batch in page.to_batches(max_chunksize=JSON_SLICE_ROWS):
            if batch.num_rows:
                out.write(b"\n".join(orjson.dumps(r, option=orjson.OPT_UTC_Z) for r in batch.to_pylist())
                          + b"\n")
        rows, count = rows + page.num_rows, count + 1
    out.flush()
    return rows, count
