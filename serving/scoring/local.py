"""Scoring in this process (`wk predict`): the one scoring path of the API
(serving.scoring.core), without a server. Source "cli"; the rows are committed before
the answer is printed."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from serving.log.logger import Duplicate, commit_entries
from serving.scoring import core
from serving.scoring.model_cache import VersionInfo, load_version
from serving.traffic.guardrails import Action, Guard, parse
from store import deployments as deployments_q
from store import models as model_store
from store.errors import Conflict, InvalidInput, Listing, NotFound, see
from store.rows import id_of
from store.vocabulary import LogMode, Route, Source

if TYPE_CHECKING:
    from store.handle import Store


def _target(store: Store, name: str, version: str | int | None) -> tuple[VersionInfo, Route, str, float]:
    """(version to use, route, log mode, sample rate)."""
    info, route, log_mode, sample_rate, _guardrails = _target_guarded(store, name, version)
    return info, route, log_mode, sample_rate


def _target_guarded(store: Store, name: str, version: str | int | None) -> tuple[
        VersionInfo, Route, str, float, dict[str, Any] | None]:
    """(version to use, route, log mode, sample rate, the deployment's stored guardrails)."""
    from serving.traffic.deployments import version_to_use

    with store.db.read() as session:
        model = model_store.get_model(session, name)
        row, route = version_to_use(session, model, version, "answer")
        dep = deployments_q.find_deployment(session, id_of(model))
        details = deployments_q.version_details(session, [id_of(row)])
        return (VersionInfo(*details[0]), route, dep.log_mode if dep else LogMode.FULL,
                dep.input_sample_rate if dep else 1.0, dep.guardrails if dep else None)


def cli_guard(stored: dict[str, Any] | None) -> Guard | None:
    """The deployment's guardrails for `wk predict`: flag only (an operator's own call is
    answered, never withheld or replaced), with no class window (one call is no window)."""
    if not stored:
        return None
    rails = parse(stored)
    return Guard(replace(rails, action=Action.ALERT, max_class_share=None))


def example_request(store: Store, name: str, version: str | int | None = None) -> dict[str, Any]:
    """The version's input example as a ready /predict body: {"row": {...}}."""
    info, _route, _mode, _rate = _target(store, name, version)
    if not info.input_example:
        raise NotFound(f"{name} v{info.version} has no input example (it was registered without "
                       "training data); its signature names the fields", see=see(Listing.MODEL, name))
    return {"row": info.input_example[0]}


def predict_rows(store: Store, name: str, rows: list[Any], *, version: str | int | None = None,
                 request_id: str | None = None, max_rows: int = 10_000) -> dict[str, Any]:
    if not isinstance(rows, list) or not rows:
        raise InvalidInput("no rows to score: give one JSON object, or a file of rows", field="row")
    if len(rows) > max_rows:
        raise InvalidInput(f"{len(rows)} rows; at most {max_rows} are scored at once (score more as a batch run)")
    info, route, log_mode, sample_rate, guardrails = _target_guarded(store, name, version)
    loaded = load_version(store, info)
    started = time.perf_counter()  # the model's time, not the process start-up
    dialect = "sqlite" if store.db.is_sqlite else store.db.engine.dialect.name
    context = core.Context(Source.CLI, request_id, log_mode, sample_rate, dialect,
                           check_duplicate=request_id is not None, guard=cli_guard(guardrails))
    result = core.score(loaded, route, rows, context, started)
    if isinstance(result, core.Rejection):
        commit_entries(store.db, [result.entry])
        lines = "; ".join(p.text() for p in result.problems[:10])
        raise InvalidInput(f"{name} v{info.version} refused the input ({lines}); the rows were quarantined",
                           see=see(Listing.QUARANTINE, name))
    (outcome,) = commit_entries(store.db, [result.entry])
    if isinstance(outcome, Duplicate):
        raise Conflict(f"request id {request_id!r} of {name} was answered before (prediction ids "
                       f"{', '.join(r[0] for r in outcome.rows[:5])})", field="request_id",
                       see=see(Listing.PREDICTIONS, request_id))
    return {"model": name, "request_id": request_id, "predictions": result.items()}
