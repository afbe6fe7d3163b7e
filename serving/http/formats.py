"""The two request formats the scoring routes take, each a request parser and a response
formatter, and nothing more: the route picks its pair once (`FORMAT_OF_ACTION`).

- /predict: ``{"row": {...}}`` or ``{"rows": [{...}, ...]}``, optionally with
  ``"request_id"`` (a retry with the same id gets the first answer back, nothing is
  logged twice) and ``"key"`` (A/B routing is sticky per key).
- /invocations: MLflow's scoring formats (`dataframe_split`, `dataframe_records`,
  `instances`, `inputs`, or a `text/csv` body), answered as `mlflow models serve` answers;
  like MLflow it ignores input columns the model does not take (the answer names them in
  its X-Ignored-Columns header), where /predict refuses them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from serving.http.errors import HttpProblem, RequestError
from serving.scoring.outputs import mlflow_value
from serving.scoring.validation import RowError

if TYPE_CHECKING:
    from starlette.requests import Request

    from serving.scoring.core import Answer

MAX_ID = 200
TOO_MANY = "split the request, or score the rows as a batch run"


@dataclass(slots=True)
class ScoringRequest:
    """What a request parser gives the scoring core: the rows, and the caller's ids."""

    rows: list[Any]
    request_id: str | None = None
    key: str | None = None


# --- the body ---------------------------------------------------------------------------

async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes `limit` bytes, whether or not a
    Content-Length was sent (a chunked body is counted as it arrives)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestError("the Content-Length header is not a number", status=400, code="bad_header")
        if int(declared) > limit:
            raise RequestError(f"the body is {declared} bytes; at most {limit} are accepted ({TOO_MANY})",
                               status=413, code="too_large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(f"the body passed {limit} bytes; at most {limit} are accepted ({TOO_MANY})",
                               status=413, code="too_large")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    if not body:
        raise RequestError("the request body is empty; send JSON such as {\"row\": {...}}",
                           status=400, code="invalid_json")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # orjson refuses NaN and Infinity (not JSON), so no non-finite number gets in
        raise RequestError(f"the request body is not valid JSON ({str(exc).split(':')[0]}); "
                           "NaN and Infinity are not allowed", status=400, code="invalid_json") from exc


def identifier(value: Any, what: str, field: str | None = None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_ID or not value.isprintable():
        raise RequestError(f"{what} must be a printable string of 1-{MAX_ID} characters", field=field)
    return value


# --- request parsers ----------------------------------------------------------------------

def rows_from_predict(payload: Any, max_rows: int) -> tuple[list[Any], str | None, str | None]:
    """(rows, request_id, key) from a /predict body."""
    if not isinstance(payload, dict):
        raise RequestError("the body must be a JSON object: {\"row\": {...}} or {\"rows\": [...]}")
    unknown = sorted(set(payload) - {"row", "rows", "request_id", "key"})
    if unknown:
        raise RequestError(f"unknown top-level field(s) {', '.join(repr(u[:40]) for u in unknown[:5])}; "
                           "the body takes row or rows, and optionally request_id and key")
    if ("row" in payload) == ("rows" in payload):
        raise RequestError("send exactly one of row (an object) or rows (a list of objects)", field="rows")
    if "row" in payload:
        rows = [payload["row"]]
    else:
        rows = payload["rows"]
        if not isinstance(rows, list):
            raise RequestError("rows must be a list of objects", field="rows")
    _check_count(rows, max_rows)
    return (rows, identifier(payload.get("request_id"), "request_id", "request_id"),
            identifier(payload.get("key"), "key", "key"))


def _check_count(rows: list[Any], max_rows: int, field: str = "rows") -> None:
    if not rows:
        raise RequestError("no rows to score: send at least one", field=field)
    if len(rows) > max_rows:
        raise RequestError(f"{len(rows)} rows in one request; at most {max_rows} are allowed ({TOO_MANY})",
                           code="too_many_rows", field=field)


MLFLOW_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def rows_from_mlflow(payload: Any, max_rows: int) -> list[Any]:
    """Rows from an MLflow scoring request (as `mlflow models serve` accepts them)."""
    if not isinstance(payload, dict):
        raise RequestError(f"an MLflow request is a JSON object with one of {', '.join(MLFLOW_FORMATS)}")
    found = [k for k in MLFLOW_FORMATS if k in payload]
    if len(found) != 1:
        raise RequestError(f"an MLflow request has exactly one of {', '.join(MLFLOW_FORMATS)} "
                           f"(found {', '.join(found) or 'none'})")
    fmt = found[0]
    data = payload[fmt]
    rows: list[Any]
    if fmt == "dataframe_split":
        if not isinstance(data, dict) or not isinstance(data.get("columns"), list) or not isinstance(data.get("data"), list):
            raise RequestError("dataframe_split needs {\"columns\": [...], \"data\": [[...], ...]}", field=fmt)
        columns = data["columns"]
        if not all(isinstance(c, str) for c in columns):
            raise RequestError("dataframe_split columns must be strings", field=fmt)
        _check_count(data["data"], max_rows, fmt)
        rows = []
        for i, values in enumerate(data["data"]):
            if not isinstance(values, list) or len(values) != len(columns):
                raise RequestError(f"dataframe_split data row {i} must be a list of {len(columns)} values",
                                   problems=[RowError(i, None, f"expected {len(columns)} values")], field=fmt)
            rows.append(dict(zip(columns, values, strict=True)))
        return rows
    if fmt == "inputs" and isinstance(data, dict):
        # columnar: {"col": [v1, v2], ...}
        lengths = {len(v) for v in data.values() if isinstance(v, list)}
        if not data or len(lengths) != 1 or not all(isinstance(v, list) for v in data.values()):
            raise RequestError("inputs as an object must map each column to a list of equal length", field=fmt)
        n = lengths.pop()
        _check_count(list(range(n)), max_rows, fmt)
        return [{k: v[i] for k, v in data.items()} for i in range(n)]
    if not isinstance(data, list):
        raise RequestError(f"{fmt} must be a list of records", field=fmt)
    _check_count(data, max_rows, fmt)
    return data


def parse_predict(payload: Any, max_rows: int) -> ScoringRequest:
    rows, request_id, key = rows_from_predict(payload, max_rows)
    return ScoringRequest(rows, request_id, key)


def parse_mlflow(payload: Any, max_rows: int) -> ScoringRequest:
    return ScoringRequest(rows_from_mlflow(payload, max_rows))


CSV_TYPES = ("text/csv", "application/csv")


def is_csv(content_type: str | None) -> bool:
    return content_type is not None and content_type.split(";")[0].strip().lower() in CSV_TYPES


def rows_from_csv(body: bytes, max_rows: int) -> list[dict[str, Any]]:
    """Rows from a CSV body with a header line, read by pandas as `mlflow models serve`
    reads it (numbers typed, empty cells missing)."""
    import io
    import math

    import pandas as pd

    if not body.strip():
        raise RequestError("the CSV body is empty; send a header line and one line per row", status=400,
                           code="invalid_csv")
    try:
        frame = pd.read_csv(io.BytesIO(body))
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise RequestError(f"the CSV body could not be read ({str(exc).splitlines()[0][:200]}); send a header "
                           "line and comma-separated values", status=400, code="invalid_csv") from exc
    _check_count(list(range(len(frame))), max_rows, "csv")
    rows = frame.to_dict(orient="records")
    for row in rows:
        for k, v in row.items():
            if isinstance(v, float) and math.isnan(v):
                row[k] = None
    return [{str(k): v for k, v in row.items()} for row in rows]


def read_predict(body: bytes, _content_type: str | None, max_rows: int) -> ScoringRequest:
    return parse_predict(parse_json(body), max_rows)


def read_mlflow(body: bytes, content_type: str | None, max_rows: int) -> ScoringRequest:
    if is_csv(content_type):
        return ScoringRequest(rows_from_csv(body, max_rows))
    return parse_mlflow(parse_json(body), max_rows)


# --- response formatters ------------------------------------------------------------------

def native_answer(name: str, answer: Answer) -> dict[str, Any]:
    return {"model": name, "request_id": answer.request_id, "predictions": answer.items()}


def native_replay(name: str, request_id: str | None, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"model": name, "request_id": request_id, "predictions": items, "replayed": True}


def native_error(problem: HttpProblem) -> dict[str, Any]:
    return {"error": problem.error()}


def mlflow_answer(name: str, answer: Answer) -> dict[str, Any]:
    return {"predictions": [mlflow_value(o) for o in answer.outputs], "prediction_ids": answer.prediction_ids,
            "model": name, "version": answer.loaded.version, "route": answer.route}


def mlflow_replay(name: str, _request_id: str | None, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"predictions": [mlflow_value(i) for i in items], "prediction_ids": [i["prediction_id"] for i in items],
            "model": name, "version": items[0]["version"], "route": items[0]["route"], "replayed": True}


def mlflow_error(problem: HttpProblem) -> dict[str, Any]:
    """MLflow's error body (error_code, message), with ours beside it."""
    if problem.input_refused:
        code = "BAD_REQUEST" if problem.status < 500 else "INTERNAL_ERROR"
    else:
        code = problem.code.upper()
    return {"error_code": code, "message": problem.message, "error": problem.error()}


@dataclass(frozen=True)
class Format:
    """A request parser (the body and its Content-Type in) and the response formatters
    that go with it; `ignores_unknown`: input columns the model does not take are dropped
    (MLflow's way) instead of refused."""

    read: Callable[[bytes, str | None, int], ScoringRequest]
    answer: Callable[[str, Answer], dict[str, Any]]
    replay: Callable[[str, str | None, list[dict[str, Any]]], dict[str, Any]]
    error: Callable[[HttpProblem], dict[str, Any]]
    ignores_unknown: bool = False


NATIVE = Format(read_predict, native_answer, native_replay, native_error)
MLFLOW = Format(read_mlflow, mlflow_answer, mlflow_replay, mlflow_error, ignores_unknown=True)
#: the last part of a scoring path -> its format
FORMAT_OF_ACTION = {"predict": NATIVE, "invocations": MLFLOW}
