"""Helpers shared by the sample generators: time handling and applying events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from sample_models.events import (
    BROKEN_COLUMN,
    CONCEPT_DRIFT,
    COVARIATE_DRIFT,
    NEW_CATEGORY,
    Event,
)

TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_start(start: datetime) -> pd.Timestamp:
    """The stream start as a UTC ``pd.Timestamp``; naive datetimes are refused."""
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise ValueError(
            f"start must be a timezone-aware datetime (UTC), got {start!r}; "
            "use e.g. datetime(2026, 1, 1, tzinfo=UTC)"
        )
    return pd.Timestamp(start.astimezone(UTC))


def check_size(n_rows: int, rows_per_hour: float) -> None:
    if isinstance(n_rows, bool) or not isinstance(n_rows, int | np.integer) or n_rows < 0:
        raise ValueError(f"n_rows must be an integer >= 0, got {n_rows!r}")
    if not (0 < float(rows_per_hour) <= 3600):
        raise ValueError(f"rows_per_hour must be in (0, 3600], got {rows_per_hour!r}")


def timestamps(start: pd.Timestamp, offsets_s: np.ndarray) -> pd.DatetimeIndex:
    """UTC timestamps ``start + offsets`` (whole seconds)."""
    return pd.DatetimeIndex(
        start + pd.to_timedelta(offsets_s.astype(np.int64), unit="s"), name="ts"
    ).as_unit("s")


def active(ts: pd.DatetimeIndex, event: Event) -> np.ndarray:
    """Rows at or after the event time."""
    return np.asarray(ts >= pd.Timestamp(event.at), dtype=bool)


def of_kind(events: Sequence[Event], kind: str, feature: str) -> list[Event]:
    return [e for e in events if e.kind == kind and e.feature == feature]


def draw_categorical(
    feature: str,
    categories: Sequence[str],
    probs: np.ndarray,
    u: np.ndarray,
    u_new: np.ndarray,
    ts: pd.DatetimeIndex,
    events: Sequence[Event],
) -> np.ndarray:
    """Inverse-CDF draw of one categorical feature from fixed uniforms.

    ``probs`` is (n_rows, n_categories) or (n_categories,). ``covariate_drift`` weights
    re-weight it from the event time on; ``new_category`` events then replace a
    ``share`` of the rows (chosen by ``u_new``) with the unseen category. The same
    uniforms are used with or without events, so rows before an event never change.
    """
    n = len(u)
    p = np.broadcast_to(np.asarray(probs, dtype=float), (n, len(categories))).copy()
    for event in of_kind(events, COVARIATE_DRIFT, feature):
        if event.weights is None:
            continue
        w = np.array([event.weights.get(c, 1.0) for c in categories])
        rows = active(ts, event)
        p[rows] = p[rows] * w
    p = p / p.sum(axis=1, keepdims=True)
    cdf = np.cumsum(p, axis=1)
    idx = np.minimum((u[:, None] >= cdf).sum(axis=1), len(categories) - 1)
    out = np.asarray(categories, dtype=object)[idx]
    # Several new categories split the low end of u_new in event order.
    low = np.zeros(n)
    for event in of_kind(events, NEW_CATEGORY, feature):
        rows = active(ts, event) & (u_new >= low) & (u_new < low + event.share)
        out[rows] = event.category
        low = low + np.where(active(ts, event), event.share, 0.0)
    return out


def apply_numeric_drift(
    feature: str, values: np.ndarray, ts: pd.DatetimeIndex, events: Sequence[Event]
) -> np.ndarray:
    """``value * scale + shift`` from each covariate_drift event's time on."""
    out = np.asarray(values, dtype=float).copy()
    for event in of_kind(events, COVARIATE_DRIFT, feature):
        rows = active(ts, event)
        out[rows] = out[rows] * event.numeric_scale + event.shift
    return out


def concept_factor(feature: str, ts: pd.DatetimeIndex, events: Sequence[Event]) -> np.ndarray:
    """Per-row multiplier of a feature's label contribution (1 before any concept drift)."""
    factor = np.ones(len(ts))
    for event in of_kind(events, CONCEPT_DRIFT, feature):
        factor[active(ts, event)] *= event.factor
    return factor


def category_effects(
    feature: str, base: Mapping[str, float], values: np.ndarray, events: Sequence[Event]
) -> np.ndarray:
    """Label contribution of each row's category; new categories use their event's effect."""
    effects = dict(base)
    for event in of_kind(events, NEW_CATEGORY, feature):
        if event.category is not None:
            effects.setdefault(event.category, event.effect)
    return np.array([effects.get(v, 0.0) for v in values], dtype=float)


def apply_broken_columns(
    frame: pd.DataFrame, events: Sequence[Event], decimals: Mapping[str, int]
) -> pd.DataFrame:
    """Break columns after the labels were made (what the model sees, not the truth)."""
    ts = pd.DatetimeIndex(frame["ts"])
    for event in events:
        if event.kind != BROKEN_COLUMN or event.feature is None:
            continue
        col = event.feature
        rows = active(ts, event)
        if not rows.any():
            continue
        if event.mode == "nulls":
            if pd.api.types.is_numeric_dtype(frame[col]):
                values = frame[col].to_numpy(dtype=float, copy=True)
                values[rows] = np.nan
                frame[col] = values
            else:
                frame[col] = frame[col].where(~rows)
            continue
        values = frame[col].to_numpy(dtype=float, copy=True)
        if event.mode == "scale":
            values[rows] = values[rows] * event.numeric_scale
        else:  # fahrenheit
            values[rows] = values[rows] * 9.0 / 5.0 + 32.0
        values = np.round(values, decimals.get(col, 2))
        was_int = pd.api.types.is_integer_dtype(frame[col])
        finite = np.isfinite(values)
        if was_int and finite.all() and np.array_equal(values, np.round(values)):
            frame[col] = values.astype(np.int64)
        else:
            frame[col] = values
    return frame


def poisson_quantile(u: np.ndarray, lam: np.ndarray, k_max: int = 60) -> np.ndarray:
    """Inverse CDF of Poisson(lam) at u (vectorised, no scipy), capped at ``k_max``."""
    lam = np.asarray(lam, dtype=float)
    term = np.exp(-lam)
    cdf = term.copy()
    k = np.zeros(np.shape(u))
    for i in range(1, k_max + 1):
        below = u >= cdf
        if not below.any():
            break
        k = k + below
        term = term * lam / i
        cdf = cdf + term
    return k


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """Byte-stable CSV: ISO-8601 UTC ``ts``, ``\\n`` line ends, no index."""
    out = frame.copy()
    out["ts"] = pd.DatetimeIndex(out["ts"]).strftime(TS_FORMAT)
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def linear_predictor(base: float, contributions: dict[str, np.ndarray], ts: pd.DatetimeIndex,
                     events: Sequence[Event]) -> np.ndarray:
    """base + the sum of each feature's contribution, each scaled by its concept drift."""
    total = np.full(len(ts), base, dtype=float)
    for name, value in contributions.items():
        total = total + concept_factor(name, ts, events) * value
    return total
