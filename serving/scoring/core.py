"""From a request's rows to a response and a log entry; shared by the HTTP API and
`wk predict` (pure apart from the model call, which the caller makes).

Request bodies: ``{"row": {...}}`` or ``{"rows": [{...}, ...]}``, optionally with
``"request_id"`` (a retry with the same id gets the first answer back, nothing is
logged twice) and ``"key"`` (A/B routing is sticky per key). MLflow's scoring formats
(`dataframe_split`, `dataframe_records`, `instances`, `inputs`) are read by
`rows_from_mlflow`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from serving.log.logger import LogEntry
from serving.scoring.ids import uuid7
from serving.scoring.model_cache import LoadedVersion
from serving.scoring.validation import RowError
from store.prediction_log import db_time

MAX_PAYLOAD_KEPT = 4096  # bytes of a rejected input kept in quarantine
MAX_ID = 200


class RequestError(Exception):
    """A request the server refuses, with the status and a message naming the problem."""

    def __init__(self, status: int, message: str, problems: list[RowError] | None = None,
                 code: str = "invalid_request") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems or []
        self.code = code

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.problems:
            error["problems"] = [{"row": p.row, "field": p.field, "problem": p.problem}
                                 for p in self.problems[:100]]
            if len(self.problems) > 100:
                error["more_problems"] = len(self.problems) - 100
        return {"error": error}


def parse_json(body: bytes) -> Any:
    if not body:
        raise RequestError(400, "the request body is empty; send JSON such as {\"row\": {...}}",
                           code="invalid_json")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # orjson refuses NaN and Infinity (not JSON), so no non-finite number gets in
        raise RequestError(400, f"the request body is not valid JSON ({str(exc).split(':')[0]}); "
                                "NaN and Infinity are not allowed", code="invalid_json") from exc


def identifier(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_ID or not value.isprintable():
        raise RequestError(422, f"{what} must be a printable string of 1-{MAX_ID} characters")
    return value


def rows_from_predict(payload: Any, max_rows: int) -> tuple[list[Any], str | None, str | None]:
    """(rows, request_id, key) from a /predict body."""
    if not isinstance(payload, dict):
        raise RequestError(422, "the body must be a JSON object: {\"row\": {...}} or {\"rows\": [...]}")
    unknown = sorted(set(payload) - {"row", "rows", "request_id", "key"})
    if unknown:
        raise RequestError(422, f"unknown top-level field(s) {', '.join(repr(u[:40]) for u in unknown[:5])}; "
                                "the body takes row or rows, and optionally request_id and key")
    if ("row" in payload) == ("rows" in payload):
        raise RequestError(422, "send exactly one of row (an object) or rows (a list of objects)")
    if "row" in payload:
        rows = [payload["row"]]
    else:
        rows = payload["rows"]
        if not isinstance(rows, list):
            raise RequestError(422, "rows must be a list of objects")
    _check_count(rows, max_rows)
    return rows, identifier(payload.get("request_id"), "request_id"), identifier(payload.get("key"), "key")


def _check_count(rows: list[Any], max_rows: int) -> None:
    if not rows:
        raise RequestError(422, "no rows to score: send at least one")
    if len(rows) > max_rows:
        raise RequestError(422, f"{len(rows)} rows in one request; at most {max_rows} are allowed "
                                "(split the request, or use 'wk score' for batches)", code="too_many_rows")


MLFLOW_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def rows_from_mlflow(payload: Any, max_rows: int) -> list[Any]:
    """Rows from an MLflow scoring request (as `mlflow models serve` accepts them)."""
    if not isinstance(payload, dict):
        raise RequestError(422, f"an MLflow request is a JSON object with one of {', '.join(MLFLOW_FORMATS)}")
    found = [k for k in MLFLOW_FORMATS if k in payload]
    if len(found) != 1:
        raise RequestError(422, f"an MLflow request has exactly one of {', '.join(MLFLOW_FORMATS)} "
                                f"(found {', '.join(found) or 'none'})")
    fmt = found[0]
    data = payload[fmt]
    rows: list[Any]
    if fmt == "dataframe_split":
        if not isinstance(data, dict) or not isinstance(data.get("columns"), list) or not isinstance(data.get("data"), list):
            raise RequestError(422, "dataframe_split needs {\"columns\": [...], \"data\": [[...], ...]}")
        columns = data["columns"]
        if not all(isinstance(c, str) for c in columns):
            raise RequestError(422, "dataframe_split columns must be strings")
        _check_count(data["data"], max_rows)
        rows = []
        for i, values in enumerate(data["data"]):
            if not isinstance(values, list) or len(values) != len(columns):
                raise RequestError(422, f"dataframe_split data row {i} must be a list of {len(columns)} values",
                                   [RowError(i, None, f"expected {len(columns)} values")])
            rows.append(dict(zip(columns, values, strict=True)))
        return rows
    if fmt == "inputs" and isinstance(data, dict):
        # columnar: {"col": [v1, v2], ...}
        lengths = {len(v) for v in data.values() if isinstance(v, list)}
        if not data or len(lengths) != 1 or not all(isinstance(v, list) for v in data.values()):
            raise RequestError(422, "inputs as an object must map each column to a list of equal length")
        n = lengths.pop()
        _check_count(list(range(n)), max_rows)
        return [{k: v[i] for k, v in data.items()} for i in range(n)]
    if not isinstance(data, list):
        raise RequestError(422, f"{fmt} must be a list of records")
    _check_count(data, max_rows)
    return data


@dataclass
class Scored:
    """The answered rows of one request (or the rejected ones)."""

    prediction_ids: list[str] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)


def payload_text(value: Any) -> str:
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text[:MAX_PAYLOAD_KEPT]


def rejection_entry(*, model_id: int, version_id: int | None, route: str | None, source: str,
                    request_id: str | None, errors: list[RowError], rows: list[Any] | None,
                    raw: bytes | None, at: datetime, keep_payload: bool,
                    batch_run_id: str | None = None) -> LogEntry:
    """Quarantine rows (one per rejected row; one for a body that has no rows) and the
    error counts of the rollup."""
    entry = LogEntry(model_id=model_id, request_id=request_id)
    by_row: dict[int, list[RowError]] = {}
    for err in errors:
        by_row.setdefault(err.row, []).append(err)
    if not by_row:
        by_row[0] = [RowError(0, None, "the request was refused")]
    for row_index, problems in by_row.items():
        payload: str | None = None
        if keep_payload:
            if rows is not None and 0 <= row_index < len(rows):
                payload = payload_text(rows[row_index])
            elif raw is not None:
                payload = raw[:MAX_PAYLOAD_KEPT].decode("utf-8", "replace")
        entry.quarantine.append({
            "at": at, "model_id": model_id, "version_id": version_id, "route": route,
            "source": source, "request_id": request_id, "batch_run_id": batch_run_id,
            "row_index": row_index, "field": problems[0].field,
            "reason": "; ".join(p.text() for p in problems)[:2000], "payload": payload,
        })
        if version_id is not None and route is not None:
            entry.records.append((model_id, version_id, route, at, 0.0, None, True))
    return entry


def answered_entry(*, loaded: LoadedVersion, route: str, source: str, request_id: str | None,
                   rows: list[Any], outputs: list[dict[str, Any]], scores: list[float | None],
                   latency_ms: float, at: datetime, dialect: str, log_mode: str, sample_rate: float,
                   check_duplicate: bool, rng: random.Random | None = None) -> tuple[LogEntry, list[str]]:
    """The log entry for answered rows and their new prediction ids. Inputs are kept in
    full mode for a `sample_rate` share of rows; metadata mode keeps neither inputs nor
    outputs. The rollup counts every row."""
    at_value = db_time(dialect, at)
    per_row_ms = latency_ms  # every row of a request shares its latency
    entry = LogEntry(model_id=loaded.model_id, request_id=request_id, check_duplicate=check_duplicate)
    ids = [uuid7() for _ in rows]
    full = log_mode == "full"
    draw = (rng or random).random
    for i, (row, output, score) in enumerate(zip(rows, outputs, scores, strict=True)):
        keep_input = full and (sample_rate >= 1.0 or draw() < sample_rate)
        entry.rows.append((
            ids[i], at_value, loaded.model_id, loaded.version_id, route, source, request_id, i, None,
            orjson.dumps(row).decode() if keep_input else None,
            orjson.dumps(output).decode() if full else None,
            per_row_ms,
        ))
        entry.records.append((loaded.model_id, loaded.version_id, route, at, per_row_ms, score, False))
    return entry, ids


def prediction_items(ids: list[str], loaded: LoadedVersion, route: str,
                     outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"prediction_id": pid, "version": loaded.version, "route": route, **out}
            for pid, out in zip(ids, outputs, strict=True)]


def non_finite_errors(outputs: list[dict[str, Any] | None], loaded: LoadedVersion,
                      values: list[list[Any]]) -> list[RowError]:
    """Rows whose output is not a finite number: name the inputs outside the training range."""
    errors = []
    for i, out in enumerate(outputs):
        if out is not None:
            continue
        outside = [c.name for c, v in zip(loaded.schema.columns, values[i], strict=True)
                   if isinstance(v, int | float) and not isinstance(v, bool)
                   and ((c.low is not None and v < c.low) or (c.high is not None and v > c.high))]
        hint = f" (outside the training range: {', '.join(outside)})" if outside else ""
        errors.append(RowError(i, outside[0] if outside else None,
                               f"the model's output is not a finite number{hint}; send values in the "
                               "range the model was trained on"))
    return errors
