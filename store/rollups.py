"""Reads of the per-minute rollups of online predictions: counts, errors and latency
figures per model, version and route over a window, and as a time series of points
(what dashboards, their charts and monitoring read, never the prediction log).

Functions take an open Session; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, func, literal, or_, select
from sqlmodel import Session, col

from store.prediction_log import BUCKET_COLUMNS
from store.rows import all_rows
from store.tables import (
    LATENCY_BUCKETS_MS,
    MetricRollup,
    ModelVersion,
    Prediction,
    Quarantine,
    RegisteredModel,
)
from store.vocabulary import Source


class RollupTotal(NamedTuple):
    """One model, version and route's rollup minutes over a window, summed."""

    model_id: int
    model: str
    version: int
    route: str
    answered: int  # rows answered (the rollup's count column)
    errors: int  # rows refused
    requests: int  # requests, answered or refused (one however many rows it has)
    latency_sum_ms: float
    latency_max_ms: float
    out_count: int  # rows with a main output
    out_sum: float
    buckets: tuple[int, ...]  # latency histogram counts, one per BUCKET_COLUMNS


def rollup_totals(session: Session, since: datetime, model_id: int | None = None, *,
                  until: datetime | None = None) -> list[RollupTotal]:
    """Per (model, version, route) over the minutes in [since, until): rows, errors,
    requests, latency and output sums, and the summed latency histogram."""
    buckets = [func.sum(getattr(MetricRollup, b)) for b in BUCKET_COLUMNS]
    stmt = (select(col(MetricRollup.model_id), col(RegisteredModel.name), col(ModelVersion.version),
                   col(MetricRollup.route),
                   func.sum(MetricRollup.count), func.sum(MetricRollup.errors), func.sum(MetricRollup.requests),
                   func.sum(MetricRollup.latency_sum_ms), func.max(MetricRollup.latency_max_ms),
                   func.sum(MetricRollup.out_count), func.sum(MetricRollup.out_sum), *buckets)
            .join(RegisteredModel, col(RegisteredModel.id) == col(MetricRollup.model_id))
            .join(ModelVersion, col(ModelVersion.id) == col(MetricRollup.version_id))
            .where(col(MetricRollup.minute) >= since)
            .group_by(col(MetricRollup.model_id), col(RegisteredModel.name), col(ModelVersion.version),
                      col(MetricRollup.route)))
    if model_id is not None:
        stmt = stmt.where(col(MetricRollup.model_id) == model_id)
    if until is not None:
        stmt = stmt.where(col(MetricRollup.minute) < until)
    return [RollupTotal(mid, model, version, route, int(answered or 0), int(errors or 0), int(requests or 0),
                        lat_sum, lat_max, out_count, out_sum, tuple(hist))
            for mid, model, version, route, answered, errors, requests, lat_sum, lat_max, out_count, out_sum, *hist
            in all_rows(session, stmt)]


def rollup_vs_rows(session: Session) -> list[tuple[Any, ...]]:
    """Rollup keys whose counts differ from the rows they summarise (should be none):
    (version_id, route, minute, rollup count, row count, rollup errors, quarantined,
    rollup requests, answered requests).

    Rows and errors must match exactly. Requests are bounded: every answered request has
    its row 0 logged, so there are exactly that many answered requests; a refused request
    leaves one quarantine row per refused row and may carry no request id, so refused
    requests are at least one (when any row was refused) and at most one per row."""
    from sqlalchemy import case

    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    minute = (func.strftime("%Y-%m-%d %H:%M:00.000000", Prediction.at) if sqlite
              else func.date_trunc("minute", Prediction.at))
    qminute = (func.strftime("%Y-%m-%d %H:%M:00.000000", Quarantine.at) if sqlite
               else func.date_trunc("minute", Quarantine.at))
    online = (Source.API, Source.CLI)
    preds = (select(col(Prediction.version_id).label("v"), col(Prediction.route).label("r"), minute.label("m"),
                    func.count().label("n"), literal(0).label("e"),
                    func.sum(case((col(Prediction.row_index) == 0, 1), else_=0)).label("a"))
             .where(col(Prediction.source).in_(online))
             .group_by(col(Prediction.version_id), col(Prediction.route), minute))
    quar = (select(col(Quarantine.version_id).label("v"), col(Quarantine.route).label("r"), qminute.label("m"),
                   literal(0).label("n"), func.count().label("e"), literal(0).label("a"))
            .where(col(Quarantine.source).in_(online), col(Quarantine.version_id).is_not(None))
            .group_by(col(Quarantine.version_id), col(Quarantine.route), qminute))
    both = preds.union_all(quar).subquery()
    actual = (select(both.c.v, both.c.r, both.c.m, func.sum(both.c.n).label("n"), func.sum(both.c.e).label("e"),
                     func.sum(both.c.a).label("a"))
              .group_by(both.c.v, both.c.r, both.c.m).subquery())
    rminute = (func.strftime("%Y-%m-%d %H:%M:00.000000", MetricRollup.minute) if sqlite
               else col(MetricRollup.minute))
    rolled = select(col(MetricRollup.version_id).label("v"), col(MetricRollup.route).label("r"), rminute.label("m"),
                    col(MetricRollup.count).label("n"), col(MetricRollup.errors).label("e"),
                    col(MetricRollup.requests).label("q")).subquery()
    rows, errors, answered = (func.coalesce(actual.c.n, 0), func.coalesce(actual.c.e, 0),
                              func.coalesce(actual.c.a, 0))
    refused_at_least = case((errors > 0, 1), else_=0)
    left = (select(rolled.c.v, rolled.c.r, rolled.c.m, rolled.c.n, rows, rolled.c.e, errors, rolled.c.q, answered)
            .outerjoin(actual, and_(actual.c.v == rolled.c.v, actual.c.r == rolled.c.r, actual.c.m == rolled.c.m))
            .where(or_(rolled.c.n != rows, rolled.c.e != errors, rolled.c.q < answered + refused_at_least,
                       rolled.c.q > answered + errors)))
    right = (select(actual.c.v, actual.c.r, actual.c.m, literal(0), actual.c.n, literal(0), actual.c.e,
                    literal(0), actual.c.a)
             .outerjoin(rolled, and_(actual.c.v == rolled.c.v, actual.c.r == rolled.c.r, actual.c.m == rolled.c.m))
             .where(rolled.c.v.is_(None)))
    return [tuple(r) for r in session.execute(left).all()] + [tuple(r) for r in session.execute(right).all()]


def quantile_from_buckets(buckets: list[int], q: float) -> float | None:
    """An estimate of the q-quantile (ms) from histogram counts: linear inside the bucket
    that holds it; the overflow bucket reports its lower bound."""
    total = sum(buckets)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for i, n in enumerate(buckets):
        if n and seen + n >= rank:
            low = LATENCY_BUCKETS_MS[i - 1] if i > 0 else 0.0
            if i >= len(LATENCY_BUCKETS_MS):
                return low
            high = LATENCY_BUCKETS_MS[i]
            return low + (high - low) * max(0.0, rank - seen) / n
        seen += n
    return LATENCY_BUCKETS_MS[-1]


@dataclass(frozen=True)
class RollupFigures:
    """One version and route's online traffic over a window, from the rollups."""

    model: str
    version: int
    route: str
    count: int  # answered rows
    errors: int  # refused rows
    mean_ms: float | None
    max_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_score: float | None


def rollup_figures(session: Session, since: datetime, until: datetime | None = None, *,
                   model_id: int | None = None) -> list[RollupFigures]:
    """Per model, version and route over the rollup minutes in [since, until): counts,
    errors and latency (mean, max, percentiles from the summed histogram)."""
    out = []
    for t in rollup_totals(session, since, model_id, until=until):
        count = int(t.answered or 0)
        hist = [int(b or 0) for b in t.buckets]
        out.append(RollupFigures(
            model=t.model, version=t.version, route=t.route, count=count, errors=int(t.errors or 0),
            mean_ms=(t.latency_sum_ms / count) if count else None, max_ms=t.latency_max_ms,
            p50_ms=quantile_from_buckets(hist, 0.5), p95_ms=quantile_from_buckets(hist, 0.95),
            p99_ms=quantile_from_buckets(hist, 0.99),
            mean_score=(t.out_sum / t.out_count) if t.out_count else None))
    return out


# --- time series: what the dashboards' charts draw ----------------------------------------

#: The minutes one point of a series may cover: the first that keeps the points at or under
#: the limit (a chart over the last hours wants about 60 points at most).
STEPS = (1, 2, 3, 4, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)


def step_for(minutes: int, max_points: int = 60) -> int:
    """Minutes per point for a series over `minutes` with at most `max_points` points."""
    for step in STEPS:
        if -(-minutes // step) <= max_points:
            return step
    return -(-minutes // max_points)


@dataclass(frozen=True)
class TrafficPoint:
    """One point of a traffic series: the rollup minutes in [start, start + minutes)
    summed. A point with no traffic has zeros, never a gap."""

    start: datetime
    minutes: int
    requests: int = 0  # answered or refused, one however many rows
    answered: int = 0  # rows answered
    errors: int = 0  # rows refused
    buckets: tuple[int, ...] = ()  # the latency histogram of the answered rows

    @property
    def rows(self) -> int:
        return self.answered + self.errors

    @property
    def per_minute(self) -> float:
        """Requests per minute."""
        return self.requests / self.minutes

    @property
    def rows_per_minute(self) -> float:
        return self.rows / self.minutes

    @property
    def error_rate(self) -> float | None:
        """Refused rows of all rows; None with no rows."""
        return self.errors / self.rows if self.rows else None

    @property
    def p95_ms(self) -> float | None:
        """From the latency histogram; None with no answered rows."""
        return quantile_from_buckets(list(self.buckets), 0.95) if self.buckets else None


#: (minute, requests, rows answered, rows refused, latency histogram) of one rollup row
MinuteFigures = tuple[datetime, int, int, int, "tuple[int, ...]"]


def series_window(now: datetime, minutes: int, max_points: int = 60) -> tuple[datetime, datetime, int]:
    """(since, until, step) of a series over about the last `minutes`, in whole minutes
    up to the current one (left out: it is partial, and would read as a drop), with a
    step that keeps it within `max_points`; since is a whole number of steps before until."""
    until = now.replace(second=0, microsecond=0)
    step = step_for(minutes, max_points)
    return until - timedelta(minutes=step * -(-minutes // step)), until, step


def series_of(minutes: Iterable[MinuteFigures], since: datetime, until: datetime, step: int) -> list[TrafficPoint]:
    """The points from `since` to `until`, `step` minutes each (the last may be shorter),
    with every rollup minute in the window added to its point; minutes outside are left
    out. Pure: a test gives it plain tuples."""
    span = int((until - since).total_seconds() // 60)
    count = -(-span // step) if span > 0 else 0
    counts = [[0, 0, 0] for _ in range(count)]  # requests, answered, errors
    hists = [[0] * (len(LATENCY_BUCKETS_MS) + 1) for _ in range(count)]
    for minute, requests, answered, errors, buckets in minutes:
        offset = (minute - since).total_seconds() // 60
        if not 0 <= offset < span:
            continue
        index = int(offset) // step
        point = counts[index]
        point[0] += requests
        point[1] += answered
        point[2] += errors
        hist = hists[index]
        for i, n in enumerate(buckets):
            if n:
                hist[i] += n
    return [TrafficPoint(since + timedelta(minutes=i * step), min(step, span - i * step), r, a, e, tuple(h))
            for i, ((r, a, e), h) in enumerate(zip(counts, hists, strict=True))]


def merge_points(points: Sequence[TrafficPoint], most: int) -> list[TrafficPoint]:
    """At most `most` points, each the sum of neighbours (histograms added, so a merged
    p95 is the p95 of the merged minutes, not a mean of p95s). Groups are counted from the
    newest point, so the latest stays whole and a short group, if any, is the oldest."""
    if most <= 0:
        return []
    factor = -(-len(points) // most)
    if factor <= 1:
        return list(points)
    out: list[TrafficPoint] = []
    end = len(points)
    while end > 0:
        group = points[max(0, end - factor):end]
        hist = [sum(h) for h in zip(*(p.buckets for p in group), strict=True)] if group[0].buckets else []
        out.append(TrafficPoint(group[0].start, sum(p.minutes for p in group), sum(p.requests for p in group),
                                sum(p.answered for p in group), sum(p.errors for p in group), tuple(hist)))
        end -= factor
    return out[::-1]


@dataclass(frozen=True)
class TrafficSeries:
    """One model's traffic over time (version and route None), or one version and route's."""

    model: str
    version: int | None
    route: str | None
    points: list[TrafficPoint]


def traffic_series(session: Session, since: datetime, until: datetime, step: int, *,
                   model_id: int | None = None, by_route: bool = False,
                   routes: Sequence[str] | None = None) -> list[TrafficSeries]:
    """Per model (or per model, version and route with `by_route`), the rollup minutes in
    [since, until) as points of `step` minutes (series_of), over the routes given (all
    when None). A model or route with no rollup minute in the window has no series."""
    buckets = [getattr(MetricRollup, b) for b in BUCKET_COLUMNS]
    stmt = (select(col(RegisteredModel.name), col(ModelVersion.version), col(MetricRollup.route),
                   col(MetricRollup.minute), col(MetricRollup.requests), col(MetricRollup.count),
                   col(MetricRollup.errors), *buckets)
            .join(RegisteredModel, col(RegisteredModel.id) == col(MetricRollup.model_id))
            .join(ModelVersion, col(ModelVersion.id) == col(MetricRollup.version_id))
            .where(col(MetricRollup.minute) >= since, col(MetricRollup.minute) < until))
    if model_id is not None:
        stmt = stmt.where(col(MetricRollup.model_id) == model_id)
    if routes is not None:
        stmt = stmt.where(col(MetricRollup.route).in_(list(routes)))
    grouped: dict[tuple[str, int | None, str | None], list[MinuteFigures]] = {}
    for model, version, route, minute, requests, answered, errors, *hist in all_rows(session, stmt):
        key = (model, version, route) if by_route else (model, None, None)
        grouped.setdefault(key, []).append(
            (minute, int(requests or 0), int(answered or 0), int(errors or 0), tuple(int(b or 0) for b in hist)))
    return [TrafficSeries(model, version, route, series_of(figures, since, until, step))
            for (model, version, route), figures in sorted(grouped.items(), key=lambda kv: str(kv[0]))]
