"""The traffic series the charts draw (store/rollups.py): points of whole minutes with
zeros where there was no traffic, requests apart from rows, p95 from the summed latency
histograms; pure bucketing first, then the read on a store written as the server writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from serving.traffic.rollup import BUCKETS, bucket_of
from store.rollups import (
    TrafficPoint,
    merge_points,
    quantile_from_buckets,
    series_of,
    series_window,
    step_for,
)

T0 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def hist(*latencies: float) -> tuple[int, ...]:
    counts = [0] * BUCKETS
    for ms in latencies:
        counts[bucket_of(ms)] += 1
    return tuple(counts)


def test_steps_keep_a_chart_within_its_points() -> None:
    assert [step_for(m) for m in (30, 60, 61, 180, 24 * 60)] == [1, 1, 2, 3, 30]
    assert step_for(180, 45) == 4 and step_for(10, 1) == 10
    for minutes in range(1, 3000, 7):
        assert -(-minutes // step_for(minutes)) <= 60


def test_the_window_ends_at_the_last_whole_minute() -> None:
    since, until, step = series_window(T0 + timedelta(hours=3, seconds=42), 180)
    assert (since, until, step) == (T0, T0 + timedelta(hours=3), 3)
    since, until, step = series_window(T0 + timedelta(minutes=100), 100, max_points=30)
    assert until == T0 + timedelta(minutes=100)
    assert step == 4 and until - since == timedelta(minutes=100)  # 25 points


def test_minutes_without_traffic_are_zeros_not_gaps() -> None:
    minutes = [(T0 + timedelta(minutes=1), 3, 5, 1, hist(2, 2, 2, 2, 2)),
               (T0 + timedelta(minutes=7), 2, 2, 0, hist(40, 40))]
    points = series_of(minutes, T0, T0 + timedelta(minutes=10), 2)
    assert [p.start for p in points] == [T0 + timedelta(minutes=m) for m in (0, 2, 4, 6, 8)]
    assert [p.requests for p in points] == [3, 0, 0, 2, 0]
    assert [p.rows for p in points] == [6, 0, 0, 2, 0]
    empty = points[1]
    assert (empty.per_minute, empty.error_rate, empty.p95_ms) == (0.0, None, None)
    assert len(empty.buckets) == BUCKETS and sum(empty.buckets) == 0


def test_requests_and_rows_differ_for_requests_of_several_rows() -> None:
    # one request of 40 rows a minute, and 2 of one row
    minutes = [(T0 + timedelta(minutes=m), 3, 42, 0, hist(*[5.0] * 42)) for m in range(4)]
    (point,) = series_of(minutes, T0, T0 + timedelta(minutes=4), 4)
    assert (point.requests, point.rows, point.minutes) == (12, 168, 4)
    assert (point.per_minute, point.rows_per_minute, point.error_rate) == (3.0, 42.0, 0.0)


def test_p95_of_a_point_is_from_its_summed_histogram() -> None:
    fast = [0.4] * 90
    slow = [120.0] * 10
    minutes = [(T0, 90, 90, 0, hist(*fast)), (T0 + timedelta(minutes=1), 10, 10, 0, hist(*slow))]
    (point,) = series_of(minutes, T0, T0 + timedelta(minutes=2), 2)
    assert point.p95_ms == quantile_from_buckets(list(hist(*fast, *slow)), 0.95)
    assert point.p95_ms is not None and 100 <= point.p95_ms <= 250  # in the slow rows' bucket
    # not a mean of the two minutes' p95s (about 60 ms)
    assert point.p95_ms > 0.9 * 100


def test_minutes_outside_the_window_are_left_out_and_a_short_last_point_counts_its_minutes() -> None:
    minutes = [(T0 - timedelta(minutes=1), 9, 9, 0, hist(1)), (T0 + timedelta(minutes=5), 9, 9, 0, hist(1)),
               (T0 + timedelta(minutes=4), 4, 4, 0, hist(1, 1, 1, 1))]
    points = series_of(minutes, T0, T0 + timedelta(minutes=5), 3)
    assert [(p.minutes, p.requests) for p in points] == [(3, 0), (2, 4)]
    assert points[-1].per_minute == 2.0
    assert series_of(minutes, T0, T0, 3) == []


def test_merged_points_add_their_histograms_and_keep_the_newest_whole() -> None:
    points = [TrafficPoint(T0 + timedelta(minutes=m), 1, requests=m, answered=m, errors=0,
                           buckets=hist(*[float(m)] * m)) for m in range(7)]
    merged = merge_points(points, 3)
    assert [len_minutes.minutes for len_minutes in merged] == [1, 3, 3]
    assert [p.requests for p in merged] == [0, 1 + 2 + 3, 4 + 5 + 6]
    assert merged[-1].buckets == tuple(a + b + c for a, b, c in zip(points[4].buckets, points[5].buckets,
                                                                    points[6].buckets, strict=True))
    assert merge_points(points, 10) == points and merge_points(points, 0) == []


# --- the read, on a store the serving logger wrote ------------------------------------

@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The console's snapshot store: credit-default's champion ramps with a gap at
    07:00-07:10, store-demand's planner sends one request of 20 rows a minute."""
    from console_store import build_console_store

    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("WK_DATABASE_URL", raising=False)
        built = build_console_store(Path(tmp_path_factory.mktemp("series")) / "store")
    yield built
    built.close()


def test_series_per_model_over_the_last_hours(store) -> None:  # type: ignore[no-untyped-def]
    from console_store import PLANNER_ROWS, SNAPSHOT_NOW

    from serving.traffic import dashboard

    step, series = dashboard.trends(store, now=SNAPSHOT_NOW + timedelta(seconds=30), minutes=180)
    assert step == 3
    by_model = {s.model: s for s in series}
    assert set(by_model) == {"credit-default", "store-demand"}  # churn-risk has no traffic: no series
    credit = by_model["credit-default"].points
    assert len(credit) == 60 and credit[0].start == SNAPSHOT_NOW - timedelta(hours=3)
    assert credit[-1].start + timedelta(minutes=3) == SNAPSHOT_NOW  # the partial minute is left out
    # 07:00-07:10 had no traffic: zeros, not missing points
    gap = [p for p in credit if SNAPSHOT_NOW - timedelta(hours=2) <= p.start < SNAPSHOT_NOW - timedelta(minutes=111)]
    assert gap and all(p.requests == 0 and p.rows == 0 and p.p95_ms is None for p in gap)
    planner = by_model["store-demand"].points
    early = planner[0]  # before the last five minutes: the planner alone
    assert (early.requests, early.rows) == (3, 3 * PLANNER_ROWS)
    assert sum(p.requests for p in credit) > 0 and all(p.requests == p.rows for p in credit[:50])


def test_series_per_route_keeps_champion_and_challenger_apart(store) -> None:  # type: ignore[no-untyped-def]
    from console_store import SNAPSHOT_NOW

    from serving.traffic import dashboard

    step, series = dashboard.trends(store, now=SNAPSHOT_NOW, by_route=True, model="credit-default", max_points=45)
    assert step == 4
    routes = {(s.route, s.version): s.points for s in series}
    assert set(routes) == {("champion", 1), ("challenger", 2)}
    challenger = routes[("challenger", 2)]
    # the canary started at 08:30; the one refused request is in the last five minutes
    assert all(p.requests == 0 for p in challenger if p.start < SNAPSHOT_NOW - timedelta(minutes=32))
    assert sum(p.errors for p in challenger) == 1
    assert all(len(points) == 45 for points in routes.values())
