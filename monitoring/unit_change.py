"""Unit changes in a column of a window (pure): the values match a conversion of the
reference (x10, x1000, /1000, Celsius -> Fahrenheit, ...) far better than the reference
as it is. With a profile, the reference quantiles are converted and compared with the
window's; without one, the share of values inside the signature's range is compared with
the share inside the converted range (see monitoring.quality)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from monitoring.quality_findings import ERROR, Finding, fmt, pct


class ColumnLike(Protocol):
    """What the unit check reads of a column (monitoring.quality's _Column)."""

    name: str
    spec: Mapping[str, Any]
    feature: Mapping[str, Any] | None
    rows: int


#: values needed in a window before its location and spread say anything about units
UNIT_MIN_VALUES = 30
#: unit change: the converted reference must fit this much better than the reference as is
UNIT_FIT_RATIO = 3.0
#: unit change: the window's quantiles must be this many reference spreads from the reference
UNIT_MIN_DISTANCE = 1.0
#: unit change: and within this many (converted) spreads of the converted reference
UNIT_MAX_FIT = 0.5
#: without a profile: under this share inside the training range, and this inside the converted
UNIT_RANGE_INSIDE = 0.5
UNIT_RANGE_CONVERTED = 0.95


@dataclass(frozen=True)
class Conversion:
    """A unit change x -> factor * x + offset."""

    name: str
    factor: float
    offset: float = 0.0

    def apply(self, value: float) -> float:
        return self.factor * value + self.offset


CONVERSIONS: tuple[Conversion, ...] = (
    Conversion("x10", 10.0), Conversion("x100", 100.0), Conversion("x1000", 1000.0),
    Conversion("x1000000", 1e6),
    Conversion("/10", 0.1), Conversion("/100", 0.01), Conversion("/1000", 0.001),
    Conversion("/1000000", 1e-6),
    Conversion("Celsius -> Fahrenheit", 9.0 / 5.0, 32.0),
    Conversion("Fahrenheit -> Celsius", 5.0 / 9.0, -32.0 * 5.0 / 9.0),
    Conversion("Celsius -> Kelvin", 1.0, 273.15),
    Conversion("Kelvin -> Celsius", 1.0, -273.15),
    Conversion("x60 (hours -> minutes)", 60.0), Conversion("/60 (minutes -> hours)", 1.0 / 60.0),
)



def quantiles(feature: Mapping[str, Any] | None) -> list[tuple[float, float]]:
    """The profile's quantiles as sorted (level, value) pairs, nulls dropped."""
    raw = (feature or {}).get("quantiles") or {}
    pairs = []
    for level, value in raw.items():
        try:
            lv, vv = float(level), float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(vv):
            pairs.append((lv, vv))
    return sorted(pairs)


def _unit_by_quantiles(col: ColumnLike, values: np.ndarray,
                       pairs: list[tuple[float, float]]) -> Finding | None:
    inner = [(lv, v) for lv, v in pairs if 0.05 <= lv <= 0.95]
    use = inner if len(inner) >= 3 else pairs
    levels = np.array([lv for lv, _ in use])
    ref = np.array([v for _, v in use])
    std = float((col.feature or {}).get("std") or 0.0)
    spread = std if std > 0 else float(ref.max() - ref.min())
    if spread <= 0:
        return None  # a reference without spread has no scale to compare
    cur = np.quantile(values, levels)

    def distance(conv: Conversion | None) -> float:
        factor, moved = (1.0, ref) if conv is None else (conv.factor, conv.factor * ref + conv.offset)
        return float(np.median(np.abs(cur - moved)) / (abs(factor) * spread))

    as_is = distance(None)
    if as_is < UNIT_MIN_DISTANCE:
        return None
    fits = sorted((distance(c), c.name, c) for c in CONVERSIONS)
    best_fit, _, best = fits[0]
    if best_fit > UNIT_MAX_FIT or best_fit * UNIT_FIT_RATIO > as_is:
        return None
    ref_median = float(np.interp(0.5, levels, ref))
    cur_median = float(np.median(values))
    return Finding("unit_change", col.name, ERROR, len(values), len(values) / col.rows,
                   f"{col.name}: median {fmt(ref_median)} -> {fmt(cur_median)}, std "
                   f"{fmt(spread)} -> {fmt(float(values.std(ddof=1)))}: the values look converted "
                   f"{best.name} (quantiles {best_fit:.2f} spreads from the converted reference, "
                   f"{as_is:.1f} from the reference)")


def _unit_by_range(col: ColumnLike, values: np.ndarray) -> Finding | None:
    low, high = col.spec.get("min"), col.spec.get("max")
    if low is None or high is None or not low < high:
        return None
    inside = float(((values >= low) & (values <= high)).mean())
    if inside >= UNIT_RANGE_INSIDE:
        return None
    fits = []
    for conv in CONVERSIONS:
        a, b = sorted((conv.apply(float(low)), conv.apply(float(high))))
        # the most values inside; of equals, the tightest converted range fits best
        fits.append((-float(((values >= a) & (values <= b)).mean()), b - a, conv.name, conv))
    negative_share, _, _, conv = min(fits)
    share = -negative_share
    if share < UNIT_RANGE_CONVERTED:
        return None
    a, b = sorted((conv.apply(float(low)), conv.apply(float(high))))
    return Finding("unit_change", col.name, ERROR, len(values), len(values) / col.rows,
                   f"{col.name}: {pct(inside)} of values inside the training range "
                   f"[{fmt(low)}, {fmt(high)}], {pct(share)} inside it converted {conv.name} "
                   f"[{fmt(a)}, {fmt(b)}] (median {fmt(float(np.median(values)))}): "
                   "a unit change")


def unit_finding(col: ColumnLike, values: np.ndarray) -> Finding | None:
    if len(values) < UNIT_MIN_VALUES:
        return None
    pairs = quantiles(col.feature)
    if len(pairs) >= 3:
        return _unit_by_quantiles(col, values, pairs)
    return _unit_by_range(col, values)

