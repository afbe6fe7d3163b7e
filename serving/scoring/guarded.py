"""Answers outside the deployment's guardrails: what the scoring core does with them, by
the deployment's action (serving.traffic.guardrails). Reached from `core.complete` only
when a guard flagged a row, so a deployment without guardrails never comes here.

- withhold: the request is refused (422, code "guardrail", a problem per flagged row);
  the flagged rows are still logged as predictions, their `guardrail` text beginning
  "withheld", so the refusal can be audited; the rollup counts the request's rows as errors.
- champion: a challenger's flagged rows are answered by the champion (predicted here, on
  the same thread); the challenger's rows are logged with a `guardrail` text naming the
  champion's prediction that answered instead. If the champion cannot answer them, the
  request is withheld. A champion's own answer (or a shadow's) can only be flagged.
- alert: answered as usual; the flagged rows' `guardrail` text begins "flagged".

Flagged rows, withheld and replaced ones included, stay in the prediction log and so in
drift, quality and performance: monitoring measures what the model answered, served or not.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from serving.log.logger import LogEntry
from serving.scoring import core
from serving.scoring.core import Answer, Prepared, Rejection
from serving.scoring.ids import uuid7
from serving.scoring.model_cache import ScoringError
from serving.scoring.validation import RowError
from serving.traffic.guardrails import FLAGGED, REPLACED, WITHHELD, Action, logged
from store.errors import Kind
from store.prediction_log import db_time
from store.types import utcnow
from store.vocabulary import LogMode, Route

GUARDRAIL_CODE = "guardrail"


def outside_guardrails(prepared: Prepared, outputs: list[dict[str, Any]], scores: list[float | None],
                       reasons: list[str | None], started: float) -> Answer | Rejection:
    """The answer (or refusal) for rows of which some are outside the guardrails."""
    context = prepared.context
    assert context.guard is not None
    action = context.guard.rails.action
    if prepared.route is Route.SHADOW:  # never returned: nothing to withhold or replace
        action = Action.ALERT
    if action is Action.CHAMPION and prepared.route is Route.CHALLENGER and context.fallback is not None:
        replaced = _answered_by_champion(prepared, outputs, scores, reasons, started)
        if replaced is not None:
            return replaced
        action = Action.WITHHOLD  # the champion could not answer them either
    if action is Action.WITHHOLD:
        return _withheld(prepared, outputs, reasons, started)
    texts = [None if r is None else logged(FLAGGED, r) for r in reasons]
    return _answer(prepared, outputs, scores, started, texts)


def _answer(prepared: Prepared, outputs: list[dict[str, Any]], scores: list[float | None], started: float,
            texts: list[str | None], ids: list[str] | None = None) -> Answer:
    loaded, context = prepared.loaded, prepared.context
    entry, ids = core.answered_entry(
        loaded=loaded, route=prepared.route, source=context.source, request_id=context.request_id,
        rows=prepared.rows, outputs=outputs, scores=scores,
        latency_ms=(time.perf_counter() - started) * 1000, at=utcnow(), dialect=context.dialect,
        log_mode=context.log_mode, sample_rate=context.sample_rate,
        check_duplicate=context.check_duplicate, rng=context.rng, guardrails=texts, ids=ids)
    return Answer(loaded, prepared.route, context.request_id, ids, outputs, entry, prepared.ignored)


def _withheld(prepared: Prepared, outputs: list[dict[str, Any]], reasons: list[str | None],
              started: float) -> Rejection:
    """A refusal naming each flagged row; the flagged rows logged (with their inputs in full
    mode, whatever the sample rate: a withheld answer is kept to be audited)."""
    loaded, route, context = prepared.loaded, prepared.route, prepared.context
    at = utcnow()
    at_value = db_time(context.dialect, at)
    latency_ms = (time.perf_counter() - started) * 1000
    entry = LogEntry(model_id=loaded.model_id, request_id=context.request_id,
                     check_duplicate=context.check_duplicate, guarded=True)
    problems = []
    keep_input = context.log_mode == LogMode.FULL
    for i, reason in enumerate(reasons):
        if reason is None:
            continue
        pid = uuid7()
        entry.rows.append((
            pid, at_value, loaded.model_id, loaded.version_id, route, context.source, context.request_id, i,
            None, orjson.dumps(prepared.rows[i]).decode() if keep_input else None,
            orjson.dumps(outputs[i]).decode(), latency_ms, logged(WITHHELD, reason)))
        problems.append(RowError(i, None, f"{reason}; the answer was withheld (logged as prediction {pid})"))
    for _ in reasons:
        entry.records.append((loaded.model_id, loaded.version_id, route, at, latency_ms, None, True))
    message = (f"{len(problems)} of {len(reasons)} answer(s) of {loaded.model} v{loaded.version} are outside "
               "the deployment's guardrails; nothing was answered (the deployment withholds such answers)")
    return Rejection(GUARDRAIL_CODE, message, problems, entry, Kind.INVALID)


def _answered_by_champion(prepared: Prepared, outputs: list[dict[str, Any]], scores: list[float | None],
                          reasons: list[str | None], started: float) -> Answer | None:
    """The challenger's flagged rows answered by the champion; None if it cannot answer them."""
    champion, context = prepared.context.fallback, prepared.context
    assert champion is not None and context.guard is not None
    flagged = [i for i, r in enumerate(reasons) if r is not None]
    again = core.prepare(champion, Route.CHAMPION, [prepared.rows[i] for i in flagged], context)
    if isinstance(again, Rejection):
        return None
    try:
        stand_in, stand_in_scores = champion.predict(again.values)
    except ScoringError:
        return None
    if any(o is None for o in stand_in):
        return None
    answers: list[dict[str, Any]] = [o for o in stand_in if o is not None]
    champion_ids = [uuid7() for _ in flagged]
    texts: list[str | None] = [None] * len(reasons)
    for k, i in enumerate(flagged):
        texts[i] = logged(REPLACED, f"{reasons[i]}; answered by v{champion.version} as prediction "
                                    f"{champion_ids[k]}")
    answer = _answer(prepared, outputs, scores, started, texts)
    own = context.guard.check(answers, counts=False)  # the champion's answers are given as they are
    champion_entry, _ids = core.answered_entry(
        loaded=champion, route=Route.CHAMPION, source=context.source, request_id=context.request_id,
        rows=again.rows, outputs=answers, scores=stand_in_scores,
        latency_ms=(time.perf_counter() - started) * 1000, at=utcnow(), dialect=context.dialect,
        log_mode=context.log_mode, sample_rate=context.sample_rate, check_duplicate=False, rng=context.rng,
        guardrails=[None if r is None else logged(FLAGGED, r) for r in (own or [None] * len(answers))],
        row_indexes=flagged, ids=champion_ids)
    answer.entry.rows.extend(champion_entry.rows)
    answer.entry.records.extend(champion_entry.records)
    per_row = [(prepared.loaded.version, str(prepared.route))] * len(reasons)
    for k, i in enumerate(flagged):
        answer.outputs[i] = answers[k]
        answer.prediction_ids[i] = champion_ids[k]
        per_row[i] = (champion.version, str(Route.CHAMPION))
    answer.per_row = per_row
    return answer
