"""Reads for dashboards (the console's Overview): traffic per model from the per-minute
rollup, never the prediction log.

`serving.deployments.traffic` gives rows per model, version and route; a model's p95
cannot be made from those rows' p95s, so this sums the latency histograms per model
first and takes the quantiles of the sum. The window is the same as `traffic`'s, so the
two agree on requests per minute.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from serving.traffic.rollup import BUCKETS, traffic_summary, traffic_window
from store import rollups as rollups_q
from store.types import utcnow
from store.vocabulary import Route

if TYPE_CHECKING:
    from store.handle import Store


def traffic_by_model(store: Store, *, minutes: int = 5, now: Any = None) -> dict[str, dict[str, Any]]:
    """Per model with traffic in the last `minutes`: requests and rows (each also per
    minute), errors, error rate and p50/p95 latency (ms) of the requests clients made (champion and
    challenger routes; shadow predictions are copies made after the response, so they
    count neither as requests nor in the latency clients saw)."""
    now = now or utcnow()
    since, span = traffic_window(now, minutes)
    with store.db.read() as session:
        rows = rollups_q.rollup_totals(session, since)
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.route == Route.SHADOW:
            continue
        t = totals.setdefault(row.model, {"answered": 0, "errors": 0, "requests": 0, "buckets": [0] * BUCKETS})
        t["answered"] += row.answered
        t["errors"] += row.errors
        t["requests"] += row.requests
        t["buckets"] = [a + int(b or 0) for a, b in zip(t["buckets"], row.buckets, strict=True)]
    return {model: traffic_summary(t["answered"], t["errors"], t["requests"], t["buckets"], span)
            for model, t in totals.items()}


#: How far back the dashboards' charts look, in minutes.
TREND_MINUTES = 180


def trends(store: Store, *, minutes: int = TREND_MINUTES, now: Any = None, by_route: bool = False,
           model: str | None = None, max_points: int = 60) -> tuple[int, list[rollups_q.TrafficSeries]]:
    """(minutes per point, series) of the last `minutes` of traffic, at most `max_points`
    points each, minutes without traffic as zeros. Per model (the requests clients made:
    champion and challenger, shadow copies left out, as in `traffic_by_model`), or with
    `by_route` per model, version and route (shadow included: it is a route of the
    deployment). `model` keeps one model's series."""
    now = now or utcnow()
    since, until, step = rollups_q.series_window(now, minutes, max_points)
    routes = None if by_route else [Route.CHAMPION, Route.CHALLENGER]
    with store.db.read() as session:
        model_id = None
        if model is not None:
            from store import models as model_store

            found = model_store.get_model(session, model)
            model_id = found.id
        series = rollups_q.traffic_series(session, since, until, step, model_id=model_id, by_route=by_route,
                                          routes=routes)
    return step, series
