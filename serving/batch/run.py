"""Batch scoring: a source in chunks -> checked rows -> the model -> a sink, with every
scored row in the prediction log and every refused row in quarantine with its reason.

Each chunk is one transaction in the store: its earlier rows (from a previous attempt of
the same run id) are removed, the new prediction and quarantine rows inserted and the
run's counts updated together, so a killed run leaves whole chunks only and a re-run
leaves the same row counts. Batch rows are not in the per-minute rollup, which
summarises online traffic (api and cli); the run row holds the batch's totals.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from serving.batch.io import Sink, SinkWriter, Source
from serving.scoring.core import MAX_PAYLOAD_KEPT, quarantine_record, shown_value
from serving.scoring.frame_validation import check_frame
from serving.scoring.ids import uuid7_many
from serving.scoring.json_columns import json_records
from serving.scoring.model_cache import LoadedVersion, ScoringError, VersionInfo, load_version
from serving.scoring.outputs import output_columns
from serving.traffic.guardrails import FLAGGED, Guardrails, flag_columns, logged, parse
from store import batch_runs as batch_runs_q
from store import deployments as deployments_q
from store import models as model_store
from store import prediction_log, run_life, vocabulary
from store.access import authorize
from store.errors import InvalidInput, Refused
from store.markers import self_recording
from store.roles import Permission
from store.rows import id_of
from store.tables import BatchRun
from store.types import utcnow
from store.vocabulary import RunStatus, VersionStatus

if TYPE_CHECKING:
    from store.handle import Store

Progress = Callable[[int, int | None], None]
MAX_CHUNK = 200_000
RUN_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


@dataclass
class Plan:
    run_id: str
    info: VersionInfo
    route: str
    keep_inputs: bool
    sample_rate: float
    guardrails: Guardrails | None = None  # flagged only: a batch is never withheld or replaced


def _check_run_id(run_id: str) -> None:
    if not run_id or len(run_id) > 100 or set(run_id) - RUN_ID_CHARS:
        raise InvalidInput(f"run id {run_id[:40]!r}: use 1-100 letters, digits, '-', '_', '.' or ':'")


@self_recording("a batch run row records who started it (created_by), when and what it read and wrote")
def _start(store: Store, model: str, version: str | int | None, run_id: str | None,
           source: Source, sink: Sink, actor: str) -> Plan:
    """Create the run (or take over an earlier attempt of the same id)."""
    from serving.traffic.deployments import version_to_use

    with store.db.write() as session:
        m = model_store.get_model(session, model)
        row, route = version_to_use(session, m, version, "score")
        if row.status == VersionStatus.ARCHIVED:
            raise Refused(f"{model} v{row.version} is archived; score with an active version")
        run_id = run_id or f"{model}-{utcnow():%Y%m%dT%H%M%S}-{os.getpid()}"
        _check_run_id(run_id)
        run = batch_runs_q.get_batch_run(session, run_id)
        if run is not None:
            if run.model_id != m.id:
                raise InvalidInput(f"run id {run_id!r} belongs to another model; choose another run id",
                                   field="run_id")
            if run_life.running_elsewhere(run):
                raise Refused(f"run {run_id!r} is still running (pid {run.pid}); wait for it or stop it first")
            run.attempt += 1
            run.version_id, run.source, run.sink = id_of(row), source.describe(), sink.describe()
            run.error = ""
            run.rows_read = run.rows_scored = run.rows_quarantined = run.chunks = 0
        else:
            run = BatchRun(id=run_id, model_id=id_of(m), version_id=id_of(row), source=source.describe(),
                           sink=sink.describe(), created_by=actor)
        session.add(run_life.start(run))
        dep = deployments_q.find_deployment(session, id_of(m))
        details = deployments_q.version_details(session, [id_of(row)])
        keep = dep is None or dep.log_mode == vocabulary.LogMode.FULL
        return Plan(run_id, VersionInfo(*details[0]), route, keep, dep.input_sample_rate if dep else 1.0,
                    parse(dep.guardrails) if dep is not None and dep.guardrails else None)


@self_recording("a batch run row records how it ended")
def _finish(store: Store, run_id: str, status: str, error: str = "", rows_read: int | None = None) -> None:
    with store.db.write() as session:
        run = batch_runs_q.get_batch_run(session, run_id)
        if run is None:
            return
        run_life.finish(run, status)
        run.error = error[:2000]
        if rows_read is not None:
            run.rows_read = rows_read
        session.add(run)


def _reason(items: list[tuple[str | None, str]], row: pd.Series | None = None) -> str:
    """The row's problems; with `row` (inputs are kept), each with the value it had."""
    parts = []
    for f, p in items:
        text = f"field {f!r}: {p}" if f else p
        if row is not None and f is not None and f in row.index:
            value = row[f]
            text += " (empty)" if pd.isna(value) else f" (sent {shown_value(value)})"
        parts.append(text)
    return "; ".join(parts)


def score_batch(store: Store, model: str, source: Source, sink: Sink, *, run_id: str | None = None,
                version: str | int | None = None, chunk_size: int = 10_000, keep: list[str] | None = None,
                progress: Progress | None = None, actor: str | None = None) -> dict[str, Any]:
    actor = authorize(store, actor, Permission.SCORE_BATCH, model=model)
    if not 1 <= chunk_size <= MAX_CHUNK:
        raise InvalidInput(f"chunk size {chunk_size} must be between 1 and {MAX_CHUNK}", field="chunk_size")
    if source.kind == sink.kind == "sql" and source.location == sink.location and source.location.startswith("sqlite"):
        from dataclasses import replace

        source = replace(source, read_whole=True)
    plan = _start(store, model, version, run_id, source, sink, actor)
    import gc

    # Each chunk makes a few hundred thousand short-lived tuples and strings; collecting
    # scikit-learn's and pandas's long-lived objects again and again took 14% of a run.
    # (No gc.collect() first: it cost 0.12 s a run; garbage frozen with the rest is
    # collected after the unfreeze below.)
    gc.freeze()
    threshold = gc.get_threshold()
    gc.set_threshold(50_000, 50, 1000)
    writer: SinkWriter | None = None
    rows_read = scored = refused = chunks = 0
    started = time.perf_counter()
    try:
        loaded = load_version(store, plan.info)
        writer = SinkWriter(sink, plan.run_id)
        total = source.total_rows() if progress is not None else None
        rng = np.random.default_rng()
        for frame in source.chunks(chunk_size):
            first = rows_read
            frame = frame.reset_index(drop=True)
            n = len(frame)
            s, r = _score_chunk(store, loaded, plan, frame, first, writer, keep, rng)
            rows_read += n
            scored += s
            refused += r
            chunks += 1
            if progress is not None:
                progress(rows_read, total)
        if progress is not None and total != rows_read:  # the estimate was off: say the truth
            progress(rows_read, rows_read)
        writer.finish(rows_read)
        with store.db.write_core() as conn:  # rows a longer earlier attempt left behind
            prediction_log.delete_batch_rows(conn, plan.run_id, rows_read, None)
        _finish(store, plan.run_id, RunStatus.SUCCEEDED, rows_read=rows_read)
    except BaseException as exc:
        if writer is not None:
            writer.abort()
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        _finish(store, plan.run_id, RunStatus.FAILED, message)
        raise
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
    seconds = time.perf_counter() - started
    return {"run_id": plan.run_id, "model": model, "version": plan.info.version, "status": RunStatus.SUCCEEDED,
            "rows_read": rows_read, "rows_scored": scored, "rows_quarantined": refused, "chunks": chunks,
            "seconds": round(seconds, 3), "rows_per_second": round(rows_read / seconds) if seconds else None,
            "source": source.describe(), "sink": sink.describe()}


def _score_chunk(store: Store, loaded: LoadedVersion, plan: Plan, frame: pd.DataFrame, first: int,
                 writer: SinkWriter, keep: list[str] | None,
                 rng: np.random.Generator) -> tuple[int, int]:
    """Score one chunk; returns (rows scored, rows quarantined)."""
    chunk_started = time.perf_counter()
    n = len(frame)
    try:
        clean, problems = check_frame(frame, loaded.schema)
    except KeyError as missing:
        raise InvalidInput(f"the source has no column {missing.args[0]!r}, which {loaded.model} "
                           f"v{loaded.version} needs (it takes {', '.join(loaded.schema.names)})") from None
    good = np.ones(n, dtype=bool)
    if problems:
        good[list(problems)] = False
    positions = np.flatnonzero(good)
    columns: dict[str, Any] = {}
    texts: list[str] = []
    if len(positions):
        try:
            raw = loaded.raw_frame(clean.iloc[positions])
        except ScoringError:
            raw = _score_rows_one_by_one(loaded, clean, positions, problems)
        finite, columns, texts = output_columns(loaded.classes, loaded.has_proba, raw)
        for j in np.flatnonzero(~finite):
            problems.setdefault(int(positions[j]), [(None, "the model's output is not a finite number")])
        if not finite.all():
            positions = positions[finite]
            columns = {k: np.asarray(v, dtype=object if not isinstance(v, np.ndarray) else v.dtype)[finite]
                       for k, v in columns.items()}
            texts = [t for t, ok in zip(texts, finite.tolist(), strict=True) if ok]
    at = utcnow()
    ids = uuid7_many(len(positions))
    elapsed_ms = (time.perf_counter() - chunk_started) * 1000
    same = {"at": at, "model_id": loaded.model_id, "version_id": loaded.version_id, "route": plan.route,
            "source": vocabulary.Source.BATCH, "request_id": None, "batch_run_id": plan.run_id,
            "latency_ms": elapsed_ms / max(1, n)}
    rows = _log_rows(plan, clean, positions, texts, ids, first, rng)
    quarantine = _quarantine_rows(loaded, plan, frame, problems, first, at)
    # the sink first: a kill between the two is repaired by the re-run, which replaces both
    out = _sink_frame(loaded, plan, frame, clean, positions, columns, ids, first, keep)
    writer.write(out, first, first + n - 1)
    with store.db.write_core() as conn:
        prediction_log.delete_batch_rows(conn, plan.run_id, first, first + n - 1)
        prediction_log.insert_chunk_predictions(conn, same, rows)
        if plan.guardrails is not None and len(positions):
            prediction_log.flag_predictions(conn, _flags(plan.guardrails, loaded, columns, ids))
        prediction_log.insert_quarantine(conn, quarantine)
        prediction_log.add_batch_progress(conn, plan.run_id, n, len(positions), len(quarantine))
    return len(positions), len(quarantine)


def _flags(rails: Guardrails, loaded: LoadedVersion, columns: dict[str, Any], ids: list[str]) -> list[tuple[str, str]]:
    """(guardrail text, prediction id) of the chunk's answers outside the deployment's
    guardrails (range and confidence; a class share needs a stream of answers, not a file)."""
    values = top = None
    if loaded.classes is None:
        values = columns["prediction"]
    elif loaded.has_proba:
        top = np.vstack([columns[f"proba_{c}"] for c in loaded.classes]).max(axis=0)
    return [(logged(FLAGGED, reason), ids[i]) for i, reason in flag_columns(rails, values, top).items()]


def _score_rows_one_by_one(loaded: LoadedVersion, clean: pd.DataFrame, positions: np.ndarray,
                           problems: dict[int, list[tuple[str | None, str]]]) -> np.ndarray:
    """The chunk as a whole made the model raise: score row by row to find the culprits
    (their answers come back as NaN, so they are quarantined with the model's reason)."""
    answers: list[np.ndarray | None] = []
    for pos in positions:
        try:
            answers.append(loaded.raw_frame(clean.iloc[[int(pos)]])[0])
        except ScoringError as exc:
            problems[int(pos)] = [(None, str(exc))]
            answers.append(None)
    width = next((a for a in answers if a is not None), None)
    if width is None:
        shape: tuple[int, ...] = (len(positions), len(loaded.classes)) if loaded.classes and loaded.has_proba \
            else (len(positions),)
        return np.full(shape, np.nan)
    filler = np.full(np.shape(width), np.nan)
    return np.asarray([a if a is not None else filler for a in answers], dtype=float if np.ndim(width) else object)


def _log_rows(plan: Plan, clean: pd.DataFrame, positions: np.ndarray, texts: list[str], ids: list[str],
              first: int, rng: np.random.Generator) -> list[tuple[Any, ...]]:
    """The chunk's per-row log values, in prediction_log.CHUNK_ROW_COLUMNS order."""
    if not len(positions):
        return []
    count = len(positions)
    inputs: list[str | None] = [None] * count
    if plan.keep_inputs:
        kept = clean.iloc[positions]
        lines = json_records({name: kept[name].to_numpy() for name in kept.columns})
        if plan.sample_rate >= 1.0:
            inputs = cast("list[str | None]", lines)  # no copy: a list of str is one of str | None
        else:
            chosen = rng.random(count) < plan.sample_rate
            inputs = [line if c else None for line, c in zip(lines, chosen, strict=True)]
    outs = cast("list[str | None]", texts)  # outputs are kept in metadata mode too (for labels)
    return list(zip(ids, (positions + first).tolist(), inputs, outs, strict=True))


def _quarantine_rows(loaded: LoadedVersion, plan: Plan, frame: pd.DataFrame,
                     problems: dict[int, list[tuple[str | None, str]]], first: int,
                     at: datetime) -> list[dict[str, Any]]:
    out = []
    for pos in sorted(problems):
        payload = None
        if plan.keep_inputs:
            payload = frame.iloc[[pos]].to_json(orient="records", lines=True).strip()[:MAX_PAYLOAD_KEPT]
        items = problems[pos]
        out.append(quarantine_record(
            at=at, model_id=loaded.model_id, version_id=loaded.version_id, route=plan.route,
            source=vocabulary.Source.BATCH, request_id=None, batch_run_id=plan.run_id, row_index=first + pos,
            field=items[0][0], reason=_reason(items, frame.iloc[pos] if plan.keep_inputs else None),
            payload=payload))
    return out


def _sink_frame(loaded: LoadedVersion, plan: Plan, frame: pd.DataFrame, clean: pd.DataFrame,
                positions: np.ndarray, columns_out: dict[str, Any], ids: list[str], first: int,
                keep: list[str] | None) -> pd.DataFrame:
    """The scored rows for the sink: ids, outputs and the kept input columns. The model's
    numeric inputs are written as the numbers it scored (the source is read as text, and
    written back as text a CSV sink would quote them); other columns as they came."""
    columns = list(frame.columns) if keep is None else keep
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(f"the columns to keep name column(s) the source does not have: {', '.join(missing)}",
                           field="keep")
    kept = frame.iloc[positions][columns].reset_index(drop=True) if columns else pd.DataFrame(index=range(len(positions)))
    for col in loaded.schema.columns:
        if col.kind == "numeric" and col.name in kept.columns:
            kept[col.name] = clean[col.name].to_numpy(dtype=float)[positions]
    head = pd.DataFrame({"run_id": plan.run_id, "row_index": positions + first, "prediction_id": ids,
                         "model": loaded.model, "version": loaded.version})
    outs = pd.DataFrame(columns_out) if len(positions) else pd.DataFrame()
    clash = set(kept.columns) & (set(head.columns) | set(outs.columns))
    if clash:  # an input column named like an output column keeps its value under input_<name>
        kept = kept.rename(columns={c: f"input_{c}" for c in clash})
    return pd.concat([head, outs, kept], axis=1)
