"""Per-minute rollups of online predictions (pure): requests, rows, errors, a latency
histogram and the moments of the score, aggregated from a batch of log records before
they are added to the MetricRollup rows in the same transaction as the records."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from store.rollups import quantile_from_buckets
from store.tables import LATENCY_BUCKETS_MS

BUCKETS = len(LATENCY_BUCKETS_MS) + 1


def bucket_of(latency_ms: float) -> int:
    """The histogram bucket: the first bound >= latency, or the overflow bucket."""
    return bisect_left(LATENCY_BUCKETS_MS, latency_ms)


def minute_of(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def traffic_window(now: datetime, minutes: int) -> tuple[datetime, float]:
    """(first rollup minute, minutes covered) for "the last `minutes` minutes": the whole
    minutes before the current one plus the part of the current one gone by, so requests
    per minute are not inflated by the partial minute."""
    since = minute_of(now) - timedelta(minutes=minutes)
    return since, max((now - since).total_seconds() / 60, 1 / 60)


def traffic_summary(answered: int, errors: int, requests: int, buckets: list[int],
                    span_minutes: float) -> dict[str, Any]:
    """What a traffic view shows for some rollup rows summed together: requests and rows
    (answered and refused; a request of n rows is one request of n rows), each per minute,
    the error rate (refused rows of all rows) and p50/p95 latency (ms) from the latency
    histogram."""
    rows = answered + errors
    return {
        "requests": requests, "rows": rows, "errors": errors,
        "per_minute": round(requests / span_minutes, 2),
        "rows_per_minute": round(rows / span_minutes, 2),
        "error_rate": round(errors / rows, 4) if rows else 0.0,
        "p50_ms": quantile_from_buckets(buckets, 0.5), "p95_ms": quantile_from_buckets(buckets, 0.95),
    }


@dataclass
class RollupDelta:
    model_id: int
    version_id: int
    route: str
    minute: datetime
    count: int = 0  # answered rows
    errors: int = 0  # refused rows
    requests: int = 0  # requests with a row here, answered or refused, each counted once
    latency_sum_ms: float = 0.0
    latency_max_ms: float = 0.0
    out_count: int = 0
    out_sum: float = 0.0
    out_sumsq: float = 0.0
    out_min: float | None = None
    out_max: float | None = None
    buckets: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    #: the number, in this aggregation, of the last request counted in `requests`
    last_request: int = field(default=-1, repr=False, compare=False)

    def add_prediction(self, latency_ms: float, score: float | None) -> None:
        self.count += 1
        self.latency_sum_ms += latency_ms
        if latency_ms > self.latency_max_ms:
            self.latency_max_ms = latency_ms
        self.buckets[bucket_of(latency_ms)] += 1
        if score is not None:
            self.out_count += 1
            self.out_sum += score
            self.out_sumsq += score * score
            self.out_min = score if self.out_min is None else min(self.out_min, score)
            self.out_max = score if self.out_max is None else max(self.out_max, score)


#: (model_id, version_id, route, at, latency_ms, score or None, is_error)
Record = tuple[int, int, str, datetime, float, "float | None", bool]


def aggregate(requests: Iterable[Iterable[Record]]) -> list[RollupDelta]:
    """The rollup deltas of some requests, each given as its records (one per row,
    answered or refused). A request counts once in `requests` of every (version, route,
    minute) it has rows in, however many rows it has; a stamp on the delta says whether
    this request was counted there already, so no set is built per request on the
    commit path."""
    deltas: dict[tuple[int, str, datetime], RollupDelta] = {}
    for number, records in enumerate(requests):
        for model_id, version_id, route, at, latency_ms, score, is_error in records:
            minute = minute_of(at)
            key = (version_id, route, minute)
            delta = deltas.get(key)
            if delta is None:
                delta = deltas[key] = RollupDelta(model_id, version_id, route, minute)
            if delta.last_request != number:
                delta.last_request = number
                delta.requests += 1
            if is_error:
                delta.errors += 1
            else:
                delta.add_prediction(latency_ms, score)
    return list(deltas.values())
