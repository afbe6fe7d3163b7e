"""The one scoring path, with no HTTP in it: rows in; an answer or a rejection out, each
with the log entry that records it. Used by the HTTP API (champion, challenger and
shadow), `wk predict` (serving.scoring.local), and, for its log records, batch scoring.

The caller runs the model between the two steps, so the async server (its micro-batcher)
and the sync CLI share everything else:

    prepared = prepare(loaded, route, rows, context)   # Prepared, or Rejection
    outputs, scores = <the caller's predict>(prepared.values)   # ScoringError -> model_refused()
    result = complete(prepared, outputs, scores, latency_ms)    # Answer, or Rejection

A Rejection's entry quarantines the rows and counts the errors in the rollup; an
Answer's entry logs every row with its new prediction id.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import orjson

from serving.log.logger import LogEntry
from serving.scoring.ids import uuid7
from serving.scoring.model_cache import LoadedVersion, ScoringError
from serving.scoring.validation import RowError, Schema
from serving.traffic.guardrails import Guard
from store.errors import Kind
from store.prediction_log import db_time
from store.types import utcnow
from store.vocabulary import LogMode, Route, Source

MAX_PAYLOAD_KEPT = 4096  # bytes of a rejected input kept in quarantine

Outputs = list[dict[str, Any] | None]


@dataclass(slots=True)
class Context:
    """Who asked and how the rows are logged: the same for every step of one request."""

    source: Source
    request_id: str | None
    log_mode: str
    sample_rate: float
    dialect: str
    #: a request id already answered gets its first answer back (never for shadow copies)
    check_duplicate: bool = False
    rng: random.Random | None = None
    #: drop input fields the model does not take (MLflow's /invocations) instead of refusing
    ignore_unknown: bool = False
    #: the deployment's output guardrails (None: none set, nothing is checked)
    guard: Guard | None = None
    #: the champion, to answer for a challenger outside the guardrails (action champion)
    fallback: LoadedVersion | None = None

    @property
    def keep_payload(self) -> bool:
        return self.log_mode == LogMode.FULL


@dataclass(slots=True)
class Prepared:
    """Rows that match the version's inputs, as values in column order, ready to predict."""

    loaded: LoadedVersion
    route: Route
    rows: list[Any]
    values: list[list[Any]]
    context: Context
    ignored: tuple[str, ...] = ()  # input fields dropped (Context.ignore_unknown)


@dataclass(slots=True)
class Answer:
    loaded: LoadedVersion
    route: Route
    request_id: str | None
    prediction_ids: list[str]
    outputs: list[dict[str, Any]]
    entry: LogEntry
    ignored: tuple[str, ...] = ()
    #: per row (version, route) where rows were answered by different versions (a
    #: challenger's rows outside the guardrails answered by the champion); None: all by `loaded`
    per_row: list[tuple[int, str]] | None = None

    def items(self) -> list[dict[str, Any]]:
        """Per row: its prediction id, version and route, and the model's output."""
        if self.per_row is not None:
            return [{"prediction_id": pid, "version": version, "route": route, **out}
                    for pid, (version, route), out in zip(self.prediction_ids, self.per_row, self.outputs,
                                                          strict=True)]
        return prediction_items(self.prediction_ids, self.loaded, self.route, self.outputs)


@dataclass(slots=True)
class Rejection:
    """Rows refused (nothing was scored or answered); `code` says why: invalid_rows,
    model_refused or non_finite_output."""

    code: str
    message: str
    problems: list[RowError]
    entry: LogEntry
    kind: Kind = Kind.INVALID


def check_rows(schema: Schema, rows: list[Any]) -> tuple[list[Any], list[RowError]]:
    """Each row's values in column order (None for a refused row), and every problem."""
    values: list[Any] = []
    problems: list[RowError] = []
    for i, row in enumerate(rows):
        checked, errs = schema.check_row(row, i)
        if errs:
            problems.extend(errs)
        values.append(checked)
    return values, problems


def _rejection(loaded: LoadedVersion, route: Route, rows: list[Any], context: Context, code: str,
               message: str, problems: list[RowError]) -> Rejection:
    entry = rejection_entry(
        model_id=loaded.model_id, version_id=loaded.version_id, route=route, source=context.source,
        request_id=context.request_id, errors=problems, rows=rows, raw=None, at=utcnow(),
        keep_payload=context.keep_payload)
    return Rejection(code, message, problems, entry)


def prepare(loaded: LoadedVersion, route: Route, rows: list[Any], context: Context) -> Prepared | Rejection:
    """The rows checked against the version's signature: all of them ready, or a rejection
    naming every problem (one bad row refuses the request: nothing is scored). With
    `context.ignore_unknown`, fields the model does not take are dropped first (and named
    in `Prepared.ignored`); the rows logged are the rows as scored."""
    ignored: tuple[str, ...] = ()
    if context.ignore_unknown:
        rows, ignored = loaded.schema.drop_unknown(rows)
    values, problems = check_rows(loaded.schema, rows)
    if problems:
        return _rejection(loaded, route, rows, context, "invalid_rows",
                          f"{len({p.row for p in problems})} of {len(rows)} row(s) do not match "
                          f"{loaded.model} v{loaded.version}'s inputs; nothing was scored", problems)
    return Prepared(loaded, route, rows, values, context, ignored)


def model_refused(prepared: Prepared, error: ScoringError) -> Rejection:
    """The model raised on the rows."""
    message = str(error)
    return _rejection(prepared.loaded, prepared.route, prepared.rows, prepared.context, "model_refused",
                      message, [RowError(0, None, message)])


def complete(prepared: Prepared, outputs: Outputs, scores: list[float | None],
             started: float) -> Answer | Rejection:
    """The model's outputs as an answer with its log entry; rows without a finite output
    refuse the request (nothing is logged as answered). The latency logged runs from
    `started` (a perf_counter) to now."""
    loaded, route, context = prepared.loaded, prepared.route, prepared.context
    bad = non_finite_errors(outputs, loaded, prepared.values)
    if bad:
        return _rejection(loaded, route, prepared.rows, context, "non_finite_output",
                          f"{len(bad)} row(s) got no finite answer from {loaded.model} v{loaded.version}; "
                          "nothing was logged as answered", bad)
    answered = cast(list[dict[str, Any]], outputs)
    if context.guard is not None:
        reasons = context.guard.check(answered, counts=route is not Route.SHADOW)
        if reasons is not None:
            from serving.scoring.guarded import outside_guardrails

            return outside_guardrails(prepared, answered, scores, reasons, started)
    entry, ids = answered_entry(
        loaded=loaded, route=route, source=context.source, request_id=context.request_id,
        rows=prepared.rows, outputs=answered, scores=scores,
        latency_ms=(time.perf_counter() - started) * 1000, at=utcnow(),
        dialect=context.dialect, log_mode=context.log_mode, sample_rate=context.sample_rate,
        check_duplicate=context.check_duplicate, rng=context.rng)
    return Answer(loaded, route, context.request_id, ids, answered, entry, prepared.ignored)


def refuse_input(loaded: LoadedVersion, route: Route, context: Context, code: str, message: str,
                 problems: list[RowError] | None = None, raw: bytes | None = None) -> Rejection:
    """A request refused before it had rows (a body that is not JSON, too large, of the
    wrong shape): quarantined as one row, with the raw input where it is kept."""
    errors = problems or [RowError(0, None, message)]
    entry = rejection_entry(
        model_id=loaded.model_id, version_id=loaded.version_id, route=route, source=context.source,
        request_id=context.request_id, errors=errors, rows=None, raw=raw, at=utcnow(),
        keep_payload=context.keep_payload)
    return Rejection(code, message, errors, entry)


def score(loaded: LoadedVersion, route: Route, rows: list[Any], context: Context,
          started: float) -> Answer | Rejection:
    """The whole path in this thread, the model called directly (`wk predict`);
    `started` is the perf_counter the latency counts from."""
    prepared = prepare(loaded, route, rows, context)
    if isinstance(prepared, Rejection):
        return prepared
    try:
        outputs, scores = loaded.predict(prepared.values)
    except ScoringError as err:
        return model_refused(prepared, err)
    return complete(prepared, outputs, scores, started)


SHOWN_VALUE_CHARS = 60  # of an offending value, in a quarantine reason


def shown_value(value: Any) -> str:
    """An offending value as a quarantine reason shows it: JSON, cut to SHOWN_VALUE_CHARS."""
    text = payload_text(value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS - 1] + "…"


def _problem_text(err: RowError, rows: list[Any] | None, keep_payload: bool) -> str:
    """The problem, with the value sent where inputs are kept (never in metadata mode)."""
    text = err.text()
    if keep_payload and rows is not None and err.field is not None and 0 <= err.row < len(rows):
        row = rows[err.row]
        if isinstance(row, dict) and err.field in row:
            text += f" (sent {shown_value(row[err.field])})"
    return text


def payload_text(value: Any) -> str:
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text[:MAX_PAYLOAD_KEPT]


def quarantine_record(*, at: datetime, model_id: int, version_id: int | None, route: str | None,
                      source: str, request_id: str | None, batch_run_id: str | None, row_index: int,
                      field: str | None, reason: str, payload: str | None) -> dict[str, Any]:
    """One refused row as the quarantine table takes it (online and batch alike)."""
    return {"at": at, "model_id": model_id, "version_id": version_id, "route": route, "source": source,
            "request_id": request_id, "batch_run_id": batch_run_id, "row_index": row_index,
            "field": field, "reason": reason[:2000], "payload": payload}


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
        entry.quarantine.append(quarantine_record(
            at=at, model_id=model_id, version_id=version_id, route=route, source=source,
            request_id=request_id, batch_run_id=batch_run_id, row_index=row_index,
            field=problems[0].field, reason="; ".join(_problem_text(p, rows, keep_payload) for p in problems),
            payload=payload))
        if version_id is not None and route is not None:
            entry.records.append((model_id, version_id, route, at, 0.0, None, True))
    return entry


def answered_entry(*, loaded: LoadedVersion, route: str, source: str, request_id: str | None,
                   rows: list[Any], outputs: list[dict[str, Any]], scores: list[float | None],
                   latency_ms: float, at: datetime, dialect: str, log_mode: str, sample_rate: float,
                   check_duplicate: bool, rng: random.Random | None = None,
                   guardrails: list[str | None] | None = None, row_indexes: list[int] | None = None,
                   ids: list[str] | None = None) -> tuple[LogEntry, list[str]]:
    """The log entry for answered rows and their new prediction ids. Inputs are kept in
    full mode for a `sample_rate` share of rows; metadata mode keeps no inputs, only the
    outputs (what late labels are compared with). The rollup counts every row.
    `guardrails`: per row the log's guardrail text (the entry is then `guarded`);
    `row_indexes`: the rows' places in the request (default 0, 1, ...); `ids`: their ids."""
    at_value = db_time(dialect, at)
    per_row_ms = latency_ms  # every row of a request shares its latency
    entry = LogEntry(model_id=loaded.model_id, request_id=request_id, check_duplicate=check_duplicate,
                     guarded=guardrails is not None)
    ids = ids or [uuid7() for _ in rows]
    full = log_mode == LogMode.FULL
    draw = (rng or random).random
    for i, (row, output, score) in enumerate(zip(rows, outputs, scores, strict=True)):
        keep_input = full and (sample_rate >= 1.0 or draw() < sample_rate)
        logged = (
            ids[i], at_value, loaded.model_id, loaded.version_id, route, source, request_id,
            i if row_indexes is None else row_indexes[i], None,
            orjson.dumps(row).decode() if keep_input else None,
            orjson.dumps(output).decode(),
            per_row_ms,
        )
        entry.rows.append(logged if guardrails is None else (*logged, guardrails[i]))
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
