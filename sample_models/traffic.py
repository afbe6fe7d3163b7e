"""A traffic simulator: an hour of online requests for the demo store, scored by the real
serving code (input checks, router, model, prediction log, rollups, quarantine), with
labels arriving for part of them.

Rows come from the use case's generator with a scripted new category halfway through
(refused by the credit model's policy, so quarantine and the error rate show it), and
each minute's requests are stamped at that minute so the dashboards have an hour of
history.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sample_models import USE_CASES

if TYPE_CHECKING:
    from store.handle import Store


def simulate(store: Store, case_name: str, model: str, *, minutes: int = 60, per_minute: int = 30,
             now: datetime, seed: int = 1, label_share: float = 0.5) -> dict[str, int]:
    """Score `minutes` x `per_minute` requests for `model` as its deployment routes them,
    ending at `now`; returns counts of answered, refused and labelled rows."""
    from sample_models.events import new_category
    from serving.log import feedback
    from serving.log.logger import commit_entries
    from serving.scoring import core
    from serving.scoring.model_cache import VersionInfo, load_version
    from serving.traffic.router import choose_route
    from store import deployments as deployments_q
    from store.vocabulary import LogMode, Mode, Route, Source

    case = USE_CASES[case_name]
    start = now - timedelta(minutes=minutes)
    events = []
    if case_name == "credit":
        events = [new_category(start + timedelta(minutes=minutes // 2), "employment_type", "gig_worker",
                               share=0.05)]
    frame = case.generate(minutes * per_minute, start, seed=seed, events=events,
                          rows_per_hour=per_minute * 60)
    labels = case.label_for(frame, seed, events)
    features = frame[list(case.features)]
    with store.db.read() as session:
        (state,) = [s for s in deployments_q.serving_state(session) if s[1] == model]
        _mid, _name, champion_id, mode, challenger_id, share, log_mode, rate, _guardrails = state
        ids = [v for v in (champion_id, challenger_id) if v]
        versions = {row[2]: load_version(store, VersionInfo(*row)) for row in deployments_q.version_details(session, ids)}
    rng = random.Random(seed)
    dialect = "sqlite" if store.db.is_sqlite else store.db.engine.dialect.name
    answered = refused = 0
    label_items: list[dict[str, Any]] = []
    records = features.to_dict("records")
    for minute in range(minutes):
        at = start + timedelta(minutes=minute, seconds=30)
        requests = range(minute * per_minute, (minute + 1) * per_minute)
        rows = [{k: (None if v != v else v) for k, v in records[i].items()} for i in requests]  # NaN -> null
        routes = [choose_route(mode, share, key=None, draw=rng.random()) for _ in requests]
        served = [versions[champion_id if route == Route.CHAMPION or not challenger_id else challenger_id]
                  for route in routes]
        # each version scores the minute's requests in one call (a row at a time, the
        # per-call overhead of a scikit-learn pipeline on a DataFrame was 90% of the demo's
        # build time); every request is still checked, routed, answered and logged alone,
        # with the call's time as its latency (one row costs about what the call did)
        checked = [loaded.schema.check_row(row, 0) for loaded, row in zip(served, rows, strict=True)]
        answers = _score_each(served, [values if not problems else None for values, problems in checked])
        shadow_answers: list[tuple[Any, Any, float] | None] = [None] * len(rows)
        if mode == Mode.SHADOW and challenger_id:  # the challenger answers too, logged only
            shadow = versions[challenger_id]
            shadow_checked = [shadow.schema.check_row(row, 0) if not problems else (None, ["refused"])
                              for row, (_, problems) in zip(rows, checked, strict=True)]
            shadow_answers = _score_each([shadow] * len(rows), [
                values if not problems else None for values, problems in shadow_checked])
        entries = []
        for j, i in enumerate(requests):
            row, route, loaded, (_values, problems) = rows[j], routes[j], served[j], checked[j]
            if problems:
                entries.append(core.rejection_entry(
                    model_id=loaded.model_id, version_id=loaded.version_id, route=route, source=Source.API,
                    request_id=f"sim-{i}", errors=problems, rows=[row], raw=None, at=at,
                    keep_payload=log_mode == LogMode.FULL))
                refused += 1
                continue
            output, score, latency_ms = answers[j]  # type: ignore[misc]
            entry, pids = core.answered_entry(
                loaded=loaded, route=route, source=Source.API, request_id=f"sim-{i}", rows=[row],
                outputs=[output], scores=[score], latency_ms=latency_ms,
                at=at, dialect=dialect, log_mode=log_mode, sample_rate=rate, check_duplicate=False, rng=rng)
            entries.append(entry)
            answered += 1
            if shadow_answers[j] is not None:
                s_out, s_score, s_ms = shadow_answers[j]  # type: ignore[misc]
                entries.append(core.answered_entry(
                    loaded=versions[challenger_id], route=Route.SHADOW, source=Source.API,
                    request_id=f"sim-{i}", rows=[row], outputs=[s_out], scores=[s_score],
                    latency_ms=latency_ms + s_ms, at=at, dialect=dialect, log_mode=log_mode,
                    sample_rate=rate, check_duplicate=False, rng=rng)[0])
            if rng.random() < label_share:
                label = labels.iloc[i]
                label_items.append({"prediction_id": pids[0], "label": label.item() if hasattr(label, "item") else label})
        commit_entries(store.db, entries)
    if label_items:
        feedback.apply_labels(store, label_items)
    return {"answered": answered, "refused": refused, "labelled": len(label_items)}


def _score_each(served: list[Any], values: list[Any]) -> list[tuple[Any, Any, float] | None]:
    """(output, score, latency in ms) per request, None where `values` is None: the
    requests each version serves are scored in one call, whose time each is charged
    (the call's cost is almost all fixed overhead, so a lone row would have taken as long)."""
    answers: list[tuple[Any, Any, float] | None] = [None] * len(values)
    by_version: dict[int, list[int]] = {}
    for j, (loaded, vals) in enumerate(zip(served, values, strict=True)):
        if vals is not None:
            by_version.setdefault(id(loaded), []).append(j)
    for positions in by_version.values():
        loaded = served[positions[0]]
        started = time.perf_counter()
        outputs, scores = loaded.predict([values[j] for j in positions])
        call_ms = (time.perf_counter() - started) * 1000
        for j, output, score in zip(positions, outputs, scores, strict=True):
            answers[j] = (output, score, call_ms)
    return answers
