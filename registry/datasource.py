"""Reading training data (CSV, Parquet, SQL), fingerprinting it, and checking it
against a spec before anything is trained or written."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from registry.signature import infer_signature
from registry.spec import DataSource, TrainingSpec
from store.artifacts import sha256_file
from store.errors import InvalidInput, NotFound
from store.location import redact_url


@dataclass(frozen=True)
class LoadedData:
    frame: pd.DataFrame
    name: str
    uri: str
    fingerprint: str
    rows: int
    columns: list[dict[str, Any]]


def frame_sha256(frame: pd.DataFrame) -> str:
    """A content fingerprint of a frame (for SQL results): its canonical CSV text."""
    return hashlib.sha256(frame.to_csv(index=False, lineterminator="\n").encode()).hexdigest()


def load_source(source: DataSource) -> LoadedData:
    if source.kind == "sql":
        return _load_sql(source)
    if source.path is None:
        raise InvalidInput(f"data source {source.name!r} of kind {source.kind} names no file")
    path = Path(source.path)
    if not path.exists():
        raise NotFound(f"data file {path} does not exist; check [data] source in the spec")
    if not path.is_file():
        raise InvalidInput(f"data source {path} is not a file")
    try:
        frame = pd.read_csv(path) if source.kind == "csv" else pd.read_parquet(path)
    except Exception as exc:  # pandas raises many parser errors
        raise InvalidInput(f"data file {path} could not be read as {source.kind}: {exc}") from exc
    return _loaded(frame, source.name, path.resolve().as_uri(), sha256_file(path))


def _load_sql(source: DataSource) -> LoadedData:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(source.url or "")
    except Exception as exc:
        raise InvalidInput(f"[data] url {redact_url(source.url or '')} is not a valid SQLAlchemy URL: {exc}") from exc
    try:
        with engine.connect() as conn:
            frame = pd.read_sql_query(text(source.query or ""), conn)
    except Exception as exc:
        raise InvalidInput(
            f"the SQL query for data {source.name!r} failed on {redact_url(source.url or '')}: "
            f"{getattr(exc, 'orig', exc)}"
        ) from exc
    finally:
        engine.dispose()
    uri = f"{redact_url(source.url or '')}#query={source.query}"
    return _loaded(frame, source.name, uri, frame_sha256(frame))


def _loaded(frame: pd.DataFrame, name: str, uri: str, fingerprint: str) -> LoadedData:
    sig = infer_signature(frame)
    return LoadedData(frame, name, uri, fingerprint, len(frame), sig["columns"])


def row_label(source: DataSource, index: int) -> str:
    # a CSV file's line number (header is line 1) is what a person opens the file at
    return f"line {index + 2}" if source.kind == "csv" else f"row {index}"


def check_numeric_columns(frame: pd.DataFrame, columns: list[str], source: DataSource) -> None:
    """Refuse a mostly-numeric column that holds some non-numeric values."""
    for name in columns:
        series = frame[name]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        present = series.dropna()
        if present.empty:
            continue
        numeric = pd.to_numeric(present, errors="coerce")
        bad = numeric.isna()
        if bad.any() and (~bad).sum() >= 0.5 * len(present):
            where = ", ".join(
                f"{row_label(source, int(i))}: {present[i]!r}" for i in present[bad].index[:3]
            )
            raise InvalidInput(
                f"column {name!r} of data {source.name!r} is numeric but holds "
                f"{int(bad.sum())} non-numeric value(s) ({where}); fix or drop those rows"
            )


def check_against_spec(data: LoadedData, spec: TrainingSpec, source: DataSource) -> None:
    frame = data.frame
    if data.rows == 0:
        raise InvalidInput(f"data {source.name!r} ({data.uri}) has no rows")
    columns = list(frame.columns)
    if spec.target not in columns:
        raise InvalidInput(
            f"spec {spec.path}: [data] target {spec.target!r} is not a column of {data.uri} "
            f"(columns: {', '.join(map(str, columns))}); fix target in the spec"
        )
    missing = [f for f in spec.features if f not in columns]
    if missing:
        raise InvalidInput(
            f"spec {spec.path}: [data] features {missing} are not columns of {data.uri} "
            f"(columns: {', '.join(map(str, columns))}); fix the feature list or the data"
        )
    if spec.split_method == "time" and spec.time_column and spec.time_column not in columns:
        raise InvalidInput(
            f"spec {spec.path}: [split] time_column {spec.time_column!r} is not a column of {data.uri}"
        )
    check_numeric_columns(frame, [*spec.features, spec.target], source)
    empty_target = frame[spec.target].isna()
    if empty_target.any():
        rows = ", ".join(row_label(source, int(i)) for i in frame.index[empty_target][:3])
        raise InvalidInput(
            f"target column {spec.target!r} of data {source.name!r} has {int(empty_target.sum())} "
            f"empty value(s) ({rows}); labels are required for training"
        )
    if spec.task == "regression" and not pd.api.types.is_numeric_dtype(frame[spec.target]):
        raise InvalidInput(
            f"target column {spec.target!r} must be numeric for a regression model, found "
            f"{frame[spec.target].dtype}"
        )
    if spec.task == "classification" and frame[spec.target].nunique() < 2:
        raise InvalidInput(
            f"target column {spec.target!r} has a single class; a classifier needs at least two"
        )
