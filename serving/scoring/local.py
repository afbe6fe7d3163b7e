"""Scoring in this process (`wk predict`): the same checks, outputs and log as the API,
without a server. Source "cli"; the rows are committed before the answer is printed."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from serving.log.logger import Duplicate, commit_entries
from serving.scoring import core as pipeline
from serving.scoring.model_cache import ScoringError, VersionInfo, load_version
from store import deployments as deployments_q
from store import registry_queries as q
from store.errors import InvalidInput, NotFound
from store.types import utcnow

if TYPE_CHECKING:
    from store.handle import Store


def _target(store: Store, name: str, version: str | int | None) -> tuple[VersionInfo, str, str, float]:
    """(version to use, route, log mode, sample rate)."""
    from serving.traffic.deployments import version_to_use

    with store.db.read() as session:
        model = q.get_model(session, name)
        row, route = version_to_use(session, model, version, "answer")
        dep = deployments_q.find_deployment(session, model.id)  # type: ignore[arg-type]
        details = deployments_q.version_details(session, [row.id])  # type: ignore[list-item]
        return (VersionInfo(*details[0]), route, dep.log_mode if dep else "full",
                dep.input_sample_rate if dep else 1.0)


def example_request(store: Store, name: str, version: str | int | None = None) -> dict[str, Any]:
    """The version's input example as a ready /predict body: {"row": {...}}."""
    info, _route, _mode, _rate = _target(store, name, version)
    if not info.input_example:
        raise NotFound(f"{name} v{info.version} has no input example (it was registered without "
                       "training data); see its signature in 'wk models show' for the fields")
    return {"row": info.input_example[0]}


def predict_rows(store: Store, name: str, rows: list[Any], *, version: str | int | None = None,
                 request_id: str | None = None, max_rows: int = 10_000) -> dict[str, Any]:
    if not isinstance(rows, list) or not rows:
        raise InvalidInput("no rows to score: give one JSON object with --row, or a file of rows")
    if len(rows) > max_rows:
        raise InvalidInput(f"{len(rows)} rows; 'wk predict' takes at most {max_rows} (use 'wk score' for batches)")
    info, route, log_mode, sample_rate = _target(store, name, version)
    loaded = load_version(store, info)
    started = time.perf_counter()  # the model's time, not the process start-up
    dialect = "sqlite" if store.db.is_sqlite else store.db.engine.dialect.name
    values, problems = [], []
    for i, row in enumerate(rows):
        checked, errs = loaded.schema.check_row(row, i)
        problems.extend(errs)
        values.append(checked)
    error: str | None = None
    if not problems:
        try:
            outputs, scores = loaded.predict(values)
            problems = pipeline.non_finite_errors(outputs, loaded, values)
        except ScoringError as exc:
            error = str(exc)
            problems = [pipeline.RowError(0, None, error)]
    if problems:
        entry = pipeline.rejection_entry(
            model_id=info.model_id, version_id=info.version_id, route=route, source="cli",
            request_id=request_id, errors=problems, rows=rows, raw=None, at=utcnow(),
            keep_payload=log_mode == "full")
        commit_entries(store.db, [entry])
        lines = "; ".join(p.text() for p in problems[:10])
        raise InvalidInput(f"{name} v{info.version} refused the input ({lines}); the rows were "
                           "quarantined ('wk quarantine list --model " + name + "')")
    entry, ids = pipeline.answered_entry(
        loaded=loaded, route=route, source="cli", request_id=request_id, rows=rows, outputs=outputs,  # type: ignore[arg-type]
        scores=scores, latency_ms=(time.perf_counter() - started) * 1000, at=utcnow(), dialect=dialect,
        log_mode=log_mode, sample_rate=sample_rate, check_duplicate=request_id is not None)
    (outcome,) = commit_entries(store.db, [entry])
    if isinstance(outcome, Duplicate):
        raise InvalidInput(f"request id {request_id!r} of {name} was answered before (prediction ids "
                           f"{', '.join(r[0] for r in outcome.rows[:5])}); see 'wk predictions list "
                           f"--request-id {request_id}'")
    return {"model": name, "request_id": request_id,
            "predictions": pipeline.prediction_items(ids, loaded, route, outputs)}  # type: ignore[arg-type]
