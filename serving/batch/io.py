"""Where batch scoring reads and writes: CSV and Parquet files, or a table or query in
any database SQLAlchemy reaches (not the store: these are the user's own data).

Sources are read in chunks. File sinks are written to a temporary file beside the
target and renamed over it when the run succeeds, so a killed run never leaves a half
file and a re-run replaces the old one. A table sink gets each chunk's rows replaced by
(run_id, row_index), so a re-run never duplicates them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from store.errors import InvalidInput, NotFound
from store.location import redact_url

FILE_KINDS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _file_kind(path: Path, role: str, what: str) -> str:
    """csv or parquet, by the file's suffix; anything else is refused naming the choices."""
    kind = FILE_KINDS.get(path.suffix.lower())
    if kind is None:
        raise InvalidInput(f"{role} {path}: give a .csv or .parquet file, or a database URL and {what}")
    return kind


def _is_url(text: str) -> bool:
    return "://" in text and not text.startswith("file://")


@dataclass(frozen=True)
class Source:
    kind: str  # csv | parquet | sql
    location: str  # a path or a database URL
    query: str | None = None
    #: read the query's result whole before the first chunk: needed when the sink is a
    #: table in the same SQLite file, whose writes would wait for the open read cursor
    read_whole: bool = False

    def describe(self) -> str:
        if self.kind == "sql":
            return f"{redact_url(self.location)} query={self.query}"
        return str(Path(self.location).resolve())

    def total_rows(self) -> int | None:
        """The rows the source holds, for progress only: a Parquet file's own count; a CSV
        file's lines less the header (one scan of the bytes, about 1 s a GB; a quoted value
        holding a newline makes it an overestimate); None for a query."""
        if self.kind == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(self.location).metadata.num_rows)
        if self.kind == "csv":
            return _csv_lines(self.location) - 1 if os.path.isfile(self.location) else None
        return None

    def chunks(self, size: int) -> Iterator[pd.DataFrame]:
        if self.kind == "csv":
            try:
                yield from pd.read_csv(self.location, chunksize=size, dtype=str, keep_default_na=False,
                                       na_values=[""])
            except pd.errors.ParserError as exc:
                raise InvalidInput(f"source {self.location} is not a readable CSV file: {exc}") from exc
            return
        if self.kind == "parquet":
            import pyarrow.parquet as pq

            try:
                for batch in pq.ParquetFile(self.location).iter_batches(batch_size=size):
                    yield batch.to_pandas()
            except Exception as exc:  # pyarrow raises several types for a bad file
                raise InvalidInput(f"source {self.location} is not a readable Parquet file: {exc}") from exc
            return
        from sqlalchemy import create_engine, text

        engine = create_engine(self.location)
        try:
            if self.read_whole:
                with engine.connect() as conn:
                    whole = pd.read_sql_query(text(self.query or ""), conn)
                for start in range(0, len(whole), size):
                    yield whole.iloc[start:start + size]
                return
            with engine.connect() as conn:
                yield from pd.read_sql_query(text(self.query or ""), conn, chunksize=size)
        except InvalidInput:
            raise
        except Exception as exc:
            raise InvalidInput(f"the source query failed on {redact_url(self.location)}: "
                               f"{getattr(exc, 'orig', exc)}") from exc
        finally:
            engine.dispose()


def parse_source(text: str, query: str | None) -> Source:
    if _is_url(text):
        if not query:
            raise InvalidInput(f"source {redact_url(text)} is a database: give the query that selects "
                               "the rows", field="query", example='"SELECT ..."')
        return Source("sql", text, query)
    if query:
        raise InvalidInput("a query is for a database source (a SQLAlchemy URL), not a file")
    path = Path(text)
    kind = _file_kind(path, "source", "the query that selects the rows")
    if not path.is_file():
        raise NotFound(f"source file {text} does not exist; check the path")
    return Source(kind, str(path))


@dataclass(frozen=True)
class Sink:
    kind: str  # csv | parquet | sql
    location: str
    table: str | None = None

    def describe(self) -> str:
        if self.kind == "sql":
            return f"{redact_url(self.location)} table={self.table}"
        return str(Path(self.location).resolve())


def parse_sink(text: str, table: str | None) -> Sink:
    if _is_url(text):
        if not table:
            raise InvalidInput(f"sink {redact_url(text)} is a database: name the table to write",
                               field="table", example="TABLE")
        if not table.replace("_", "").isalnum():
            raise InvalidInput(f"table name {table!r}: use letters, digits and _ only", field="table")
        return Sink("sql", text, table)
    if table:
        raise InvalidInput("a table is for a database sink (a SQLAlchemy URL), not a file")
    path = Path(text)
    kind = _file_kind(path, "sink", "the table to write")
    if not path.parent.is_dir():
        raise NotFound(f"the folder of sink {text} does not exist; create it first")
    return Sink(kind, str(path))


class SinkWriter:
    """Writes a run's scored chunks; `finish` makes a file sink appear (rename)."""

    def __init__(self, sink: Sink, run_id: str) -> None:
        self.sink = sink
        self.run_id = run_id
        self._tmp: Path | None = None
        self._parquet: Any = None
        self._csv: Any = None
        self._csv_by_pandas = False
        self._schema: Any = None
        self._rows = 0
        self._engine: Any = None
        if sink.kind in ("csv", "parquet"):
            target = Path(sink.location)
            self._tmp = target.with_name(f".{target.name}.{run_id}.partial")
            self._tmp.unlink(missing_ok=True)
        else:
            from sqlalchemy import create_engine

            self._engine = create_engine(sink.location)

    def write(self, frame: pd.DataFrame, first_row: int, last_row: int) -> None:
        if self.sink.kind == "sql":
            self._write_table(frame, first_row, last_row)
        elif not len(frame):
            return  # a chunk with every row quarantined adds nothing to a file
        elif self.sink.kind == "csv":
            self._write_csv(frame)
        elif self.sink.kind == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self._parquet is None:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                self._schema = table.schema
                self._parquet = pq.ParquetWriter(str(self._tmp), self._schema)
            else:
                try:
                    table = pa.Table.from_pandas(frame, schema=self._schema, preserve_index=False)
                except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                    raise InvalidInput(f"chunk at row {first_row} does not fit the Parquet schema of the "
                                       f"first chunk ({exc}); write to CSV, or keep fewer columns",
                                       field="keep") from exc
            self._parquet.write_table(table)
        self._rows += len(frame)

    def _write_csv(self, frame: pd.DataFrame) -> None:
        """pyarrow's CSV writer (C++, about five times pandas' to_csv); a chunk whose
        columns do not fit the first chunk's types is appended by pandas instead."""
        import pyarrow as pa
        import pyarrow.csv as pacsv

        assert self._tmp is not None
        if self._csv_by_pandas:
            frame.to_csv(self._tmp, mode="a", header=self._rows == 0, index=False)
            return
        try:
            if self._csv is None:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                self._schema = table.schema
                self._csv = pacsv.CSVWriter(str(self._tmp), table.schema,
                                            write_options=pacsv.WriteOptions(quoting_style="needed"))
            else:
                table = pa.Table.from_pandas(frame, schema=self._schema, preserve_index=False)
            self._csv.write_table(table)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            if self._csv is not None:
                self._csv.close()
            self._csv_by_pandas = True
            frame.to_csv(self._tmp, mode="a", header=self._rows == 0, index=False)

    def _write_table(self, frame: pd.DataFrame, first_row: int, last_row: int | None) -> None:
        from sqlalchemy import MetaData, Table, inspect

        name = self.sink.table
        assert name is not None, "parse_sink gives every SQL sink a table"
        with self._engine.begin() as conn:
            if inspect(conn).has_table(name):
                table = Table(name, MetaData(), autoload_with=conn)
                if "run_id" not in table.c or "row_index" not in table.c:
                    raise InvalidInput(f"table {name} exists without run_id and row_index "
                                       "columns; choose another table for scores", field="table")
                stmt = table.delete().where(table.c.run_id == self.run_id, table.c.row_index >= first_row)
                if last_row is not None:
                    stmt = stmt.where(table.c.row_index <= last_row)
                conn.execute(stmt)
            if len(frame):
                frame.to_sql(name, conn, if_exists="append", index=False)

    def finish(self, rows_read: int) -> None:
        if self.sink.kind == "sql":
            self._write_table(pd.DataFrame(), rows_read, None)  # rows a longer earlier run left
            self._engine.dispose()
            return
        assert self._tmp is not None
        if self._csv is not None and not self._csv_by_pandas:
            self._csv.close()
        if self._parquet is not None:
            self._parquet.close()
        elif self.sink.kind == "parquet":  # nothing was scored: an empty file with no columns
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table({}), str(self._tmp))
        elif self._rows == 0:
            self._tmp.write_text("")
        with open(self._tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(self._tmp, self.sink.location)

    def abort(self) -> None:
        if self._csv is not None and not self._csv_by_pandas:
            self._csv.close()
        if self._parquet is not None:
            self._parquet.close()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
        if self._engine is not None:
            self._engine.dispose()


def _csv_lines(path: str) -> int:
    lines, last = 0, b"\n"
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")
