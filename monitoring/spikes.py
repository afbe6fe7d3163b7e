"""Spikes in latency or errors in a model's per-minute rollups, and bursts of refused
rows: pure functions over plain tuples (store/timeline.py reads them), so a test gives
them a seeded series.

The rule (`SpikeRule`), judged per version over the whole window asked for:

- A minute counts when it has at least `min_rows` rows (answered for latency, answered
  and refused for errors); a version needs `min_minutes` such minutes, else nothing is
  judged (too little traffic to know what is normal).
- Latency: a minute's p95 (from its histogram) is a spike when it is at least `factor`
  times the median of the minutes' p95 and at least `min_extra_ms` above it.
- Errors: a minute's error rate (refused / all rows) is a spike when it is at least
  `error_points` above the median error rate and `error_factor` times it, with at least
  `min_errors` refused rows.
- A spike is a run of consecutive minutes (each the minute after the last, all of one
  version) each at least halfway from the median to the bound, in which at least one
  minute reaches the bound: a slow spell whose minutes hover about the bound is one
  spike from its first slow minute to its last, not several. Its peak is its worst minute.

A quarantine burst is a run of consecutive minutes each with at least
`QuarantineRule.min_rows` refused rows of online traffic (the store counts them).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from store.rollups import quantile_from_buckets

MINUTE = timedelta(minutes=1)


class SpikeKind(StrEnum):
    LATENCY = "latency"
    ERRORS = "errors"


@dataclass(frozen=True)
class SpikeRule:
    factor: float = 3.0
    min_extra_ms: float = 5.0
    error_points: float = 0.05
    error_factor: float = 3.0
    min_errors: int = 5
    min_rows: int = 20
    min_minutes: int = 10


@dataclass(frozen=True)
class QuarantineRule:
    #: online refused rows in one minute that make it part of a burst
    min_rows: int = 10


class Minute(NamedTuple):
    """One version's rollup minute (store.timeline.RollupMinute has these fields)."""

    version: int
    minute: datetime
    answered: int
    errors: int
    buckets: tuple[int, ...]


@dataclass(frozen=True)
class Spike:
    kind: SpikeKind
    version: int
    start: datetime  # the first spike minute
    end: datetime  # the end of the last spike minute
    minutes: int
    peak: float  # p95 ms, or an error rate 0..1
    peak_at: datetime
    baseline: float  # the window's median p95 or error rate
    rows: int  # rows in the spike's minutes
    errors: int


def _runs(values: list[tuple[Minute, float]], low: float) -> list[list[tuple[Minute, float]]]:
    """Runs of consecutive minutes (each the minute after the last) at or above `low`."""
    runs: list[list[tuple[Minute, float]]] = []
    for m, value in values:
        if value < low:
            continue
        if runs and m.minute == runs[-1][-1][0].minute + MINUTE:
            runs[-1].append((m, value))
        else:
            runs.append([(m, value)])
    return runs


def _judged(kind: SpikeKind, values: list[tuple[Minute, float]], rule: SpikeRule) -> list[Spike]:
    if len(values) < rule.min_minutes:
        return []
    baseline = statistics.median(v for _, v in values)
    if kind is SpikeKind.LATENCY:
        bound = max(baseline * rule.factor, baseline + rule.min_extra_ms)
    else:
        bound = max(baseline * rule.error_factor, baseline + rule.error_points)
    low = baseline + (bound - baseline) / 2

    def reaches(m: Minute, value: float) -> bool:
        return value >= bound and (kind is SpikeKind.LATENCY or m.errors >= rule.min_errors)

    out = []
    for run in _runs(values, low):
        if not any(reaches(m, v) for m, v in run):
            continue
        peak_minute, peak = max(run, key=lambda mv: mv[1])
        out.append(Spike(kind, run[0][0].version, run[0][0].minute, run[-1][0].minute + MINUTE, len(run),
                         peak, peak_minute.minute, baseline, sum(m.answered + m.errors for m, _ in run),
                         sum(m.errors for m, _ in run)))
    return out


def find_spikes(minutes: Iterable[Minute], rule: SpikeRule | None = None) -> list[Spike]:
    """The latency and error spikes of each version (module docstring), by start."""
    rule = rule or SpikeRule()
    by_version: dict[int, list[Minute]] = {}
    for m in minutes:
        by_version.setdefault(m.version, []).append(Minute(*m))
    out: list[Spike] = []
    for series in by_version.values():
        series.sort(key=lambda m: m.minute)
        latency: list[tuple[Minute, float]] = []
        errors: list[tuple[Minute, float]] = []
        for m in series:
            if m.answered >= rule.min_rows:
                p95 = quantile_from_buckets(list(m.buckets), 0.95)
                if p95 is not None:
                    latency.append((m, p95))
            if m.answered + m.errors >= rule.min_rows:
                errors.append((m, m.errors / (m.answered + m.errors)))
        out += _judged(SpikeKind.LATENCY, latency, rule) + _judged(SpikeKind.ERRORS, errors, rule)
    return sorted(out, key=lambda s: (s.start, s.version, s.kind))


@dataclass(frozen=True)
class Burst:
    """Consecutive minutes of refused online rows (each at or above the rule's count)."""

    start: datetime
    end: datetime  # the end of the last minute
    rows: int
    by_field: dict[str, int]  # field at fault ("" for the row as a whole) -> rows


def merge_bursts(minutes: Sequence[tuple[datetime, str | None, int]]) -> list[Burst]:
    """(minute, field, rows) groups of busy minutes -> bursts of consecutive minutes."""
    totals: dict[datetime, dict[str, int]] = {}
    for minute, name, rows in minutes:
        counts = totals.setdefault(minute, {})
        counts[name or ""] = counts.get(name or "", 0) + rows
    out: list[Burst] = []
    start: datetime | None = None
    last: datetime | None = None
    fields: dict[str, int] = {}
    for minute in sorted(totals):
        if last is not None and start is not None and minute != last + MINUTE:
            out.append(Burst(start, last + MINUTE, sum(fields.values()), fields))
            start, fields = None, {}
        if start is None:
            start = minute
        for name, rows in totals[minute].items():
            fields[name] = fields.get(name, 0) + rows
        last = minute
    if start is not None and last is not None:
        out.append(Burst(start, last + MINUTE, sum(fields.values()), fields))
    return out
