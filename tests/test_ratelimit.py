"""The token bucket of the server's rate limits, on an explicit clock (no server, no
database), and the parsing of rates and expiries the CLI takes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.cli.tokens import parse_expiry
from serving.http.ratelimit import TokenBucket, default_burst, parse_rate, retry_after
from store.errors import UsageError


def test_a_full_bucket_lets_its_burst_through_then_refuses_until_it_refills() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=100.0)
    assert [bucket.take(100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(100.0) == pytest.approx(0.5)  # one request refills in 1/rate s
    assert bucket.take(100.25) == pytest.approx(0.25)  # a refused take costs nothing
    assert bucket.take(100.5) == 0.0
    assert bucket.take(100.5) == pytest.approx(0.5)


def test_refill_stops_at_the_burst_and_a_clock_going_back_adds_nothing() -> None:
    bucket = TokenBucket(rate=10.0, burst=2, now=0.0)
    assert bucket.take(1000.0) == 0.0 and bucket.take(1000.0) == 0.0
    assert bucket.take(1000.0) > 0  # an hour idle still holds only the burst
    assert bucket.take(999.0) > 0  # an earlier time refills nothing


def test_a_steady_rate_at_the_limit_passes_and_above_it_is_refused_in_proportion() -> None:
    bucket = TokenBucket(rate=5.0, burst=1, now=0.0)
    at_rate = sum(bucket.take(i * 0.2) == 0.0 for i in range(1, 51))
    assert at_rate == 50
    bucket = TokenBucket(rate=5.0, burst=1, now=0.0)
    double = sum(bucket.take(i * 0.1) == 0.0 for i in range(1, 101))  # 10/s against 5/s
    assert 49 <= double <= 51


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    assert [retry_after(w) for w in (0.001, 0.5, 1.0, 1.01, 9.5)] == [1, 1, 1, 2, 10]


def test_bad_buckets_are_refused() -> None:
    for rate, burst in ((0.0, 1), (-1.0, 1), (1.0, 0)):
        with pytest.raises(ValueError):
            TokenBucket(rate, burst, now=0.0)


def test_rates_parse_per_second_minute_and_hour() -> None:
    assert parse_rate("10/s") == 10.0
    assert parse_rate("600/min") == 10.0
    assert parse_rate("3600/h") == 1.0
    assert parse_rate("2.5") == 2.5
    for bad in ("fast", "10/day", "0/s", "-1/s", ""):
        with pytest.raises(ValueError):
            parse_rate(bad)
    assert default_burst(0.1) == 1 and default_burst(50) == 100


def test_expiry_parses_durations_and_dates_in_utc() -> None:
    now = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    assert parse_expiry("30d", now) == now + timedelta(days=30)
    assert parse_expiry("12h", now) == now + timedelta(hours=12)
    assert parse_expiry("90m", now) == now + timedelta(minutes=90)
    assert parse_expiry("2027-01-31", now) == datetime(2027, 1, 31, tzinfo=UTC)
    assert parse_expiry("2027-01-31T12:00+01:00", now) == datetime(2027, 1, 31, 11, tzinfo=UTC)
    for bad in ("soon", "0d", "30y"):
        with pytest.raises(UsageError):
            parse_expiry(bad, now)


def test_the_servers_default_rate_comes_from_serving_in_watchkeeper_toml(tmp_path: Path) -> None:
    from store.errors import InvalidInput
    from store.token_usage import Limits, default_limits

    assert default_limits(tmp_path) is None  # no settings file: the server's built-in 50/s
    (tmp_path / "watchkeeper.toml").write_text("[serving]\nrate_per_s = 20\nburst = 5\n")
    assert default_limits(tmp_path) == Limits(20.0, 5)
    (tmp_path / "watchkeeper.toml").write_text("[serving]\nrate_per_s = 2.5\n")
    assert default_limits(tmp_path) == Limits(2.5, 5)
    for bad in ("rate_per_s = 0", "rate_per_s = 'fast'", "burst = 3", "rate_per_s = 5\nburst = 0"):
        (tmp_path / "watchkeeper.toml").write_text(f"[serving]\n{bad}\n")
        with pytest.raises(InvalidInput, match=r"\[serving\]"):
            default_limits(tmp_path)
