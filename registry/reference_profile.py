"""Reference profiles: what a drift check needs to know about the training data (pure).

A profile is fitted once, when a version is registered (or from a pinned window of
logged traffic), so that each later check reads only its current window. Per feature it
keeps the statistics the drift tests and the summary need, plus a bounded seeded random
sample of whole rows (for Kolmogorov-Smirnov, Wasserstein and a domain classifier).

The result is plain JSON data (floats, ints, strings, lists; None where a value is
missing), so the store can keep it as a document:

    {"rows": n,
     "features": {name: {...}},
     "sample": {"columns": [...], "rows": [[...], ...]}}

Numeric feature: kind, n (non-missing), missing_share, mean, std, min, max, quantiles
({"0.001": v, ...}), distinct (counted up to DISTINCT_CAP), bin_edges and bin_counts
(quantile bins for PSI; see below), outlier_z_share and outlier_quantile_share (the
reference's own outlier rates, so a window's can be shown beside them), and for a column
with few distinct values (<= LOW_CARDINALITY) value_counts {"values": [...], "counts":
[...]} so it can be tested as a categorical.

Bins: ``bin_edges`` are the interior edges e_1 < ... < e_k; there are k + 1 bins,
(-inf, e_1), [e_1, e_2), ..., [e_k, +inf), so a current value outside the reference range
falls in an outer bin. ``bin_of(edges, x)`` is the one place that maps values to bins.

Categorical and boolean feature: kind, n, missing_share, frequencies {category: count}
(the MAX_FREQUENCIES most frequent; the rest summed in other_count, frequencies_truncated
true), distinct. Booleans are keyed "True" and "False". Datetime columns get kind, n,
missing_share, min and max only (no drift test applies to a timestamp).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from store.errors import InvalidInput

#: quantiles kept per numeric feature (the summary's extreme-quantile outliers use the
#: outermost two, the chart and the median/IQR the middle ones)
QUANTILES: tuple[float, ...] = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999)
#: quantile bins for PSI and the histogram: deciles (Evidently and NannyML use 10 too)
N_BINS = 10
#: distinct values are counted up to this many (a float column has as many as rows)
DISTINCT_CAP = 100_000
#: a numeric column with at most this many distinct values also keeps its value counts
LOW_CARDINALITY = 10
#: most frequent categories kept per categorical feature; the rest are summed
MAX_FREQUENCIES = 1_000
#: numeric values beyond +-this count as missing, as infinities do: squaring them for a
#: standard deviation would overflow to infinity (no measurement comes near it)
MAX_MAGNITUDE = 1e100
#: a value further than this many reference standard deviations from the reference mean
#: is a z-score outlier
Z_OUTLIER = 4.0
#: a value below this reference quantile or above its mirror is an extreme-quantile outlier
OUTLIER_QUANTILE = 0.001

NUMERIC = "numeric"
CATEGORICAL = "categorical"
BOOLEAN = "boolean"
DATETIME = "datetime"
KINDS: tuple[str, ...] = (NUMERIC, CATEGORICAL, BOOLEAN, DATETIME)


def quantile_key(q: float) -> str:
    """The key of quantile `q` in a profile's ``quantiles`` ("0.001", "0.5", "0.999")."""
    return f"{q:g}"


def bin_of(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Bin index (0 .. len(edges)) of each value: bin i is [edges[i-1], edges[i])."""
    return np.searchsorted(edges, values, side="right")


def bin_counts_sorted(edges: np.ndarray, sorted_values: np.ndarray) -> np.ndarray:
    """Counts per bin of already sorted values (len(edges) + 1 bins), in O(bins log n)."""
    cuts = np.searchsorted(sorted_values, edges, side="left")
    bounds = np.concatenate([[0], cuts, [len(sorted_values)]])
    return np.diff(bounds).astype(np.int64)


def numeric_values(series: pd.Series) -> np.ndarray:
    """A column as float64 with NaN for missing (None, NaN, NaT, +-inf and values beyond
    +-MAX_MAGNITUDE all count as missing)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype("float64")
    if pd.api.types.is_numeric_dtype(series.dtype):  # the usual case, without to_numeric's cost
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64,
                                                                 na_value=np.nan)
    with np.errstate(invalid="ignore"):
        unusable = np.abs(values) > MAX_MAGNITUDE
    if unusable.any():
        values = np.where(unusable, np.nan, values)
    return values


def category_counts(series: pd.Series) -> dict[str, int]:
    """Non-missing values of a categorical or boolean column counted by their text
    (True as "True"), most frequent first; values with the same text are counted together."""
    counts: dict[str, int] = {}
    for value, count in series.value_counts(dropna=True, sort=True).items():
        key = str(value)
        counts[key] = counts.get(key, 0) + int(count)
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def _float(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _json_scalar(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _numeric_profile(series: pd.Series) -> dict[str, Any]:
    values = numeric_values(series)
    total = len(values)
    present = np.sort(values[~np.isnan(values)])
    n = len(present)
    entry: dict[str, Any] = {
        "kind": NUMERIC,
        "n": n,
        "missing_share": (total - n) / total if total else 0.0,
    }
    if n == 0:
        entry.update(mean=None, std=None, min=None, max=None, quantiles={}, distinct=0,
                     distinct_capped=False, bin_edges=[], bin_counts=[], outlier_z_share=0.0,
                     outlier_quantile_share=0.0)
        return entry
    mean = float(present.mean())
    std = float(present.std(ddof=1)) if n > 1 else 0.0
    quantiles = np.quantile(present, QUANTILES)
    distinct_values, distinct_counts = np.unique(present, return_counts=True)
    distinct = len(distinct_values)
    edges = np.unique(np.quantile(present, np.arange(1, N_BINS) / N_BINS))
    # an edge at the minimum would leave the lowest bin empty: values equal to the minimum
    # belong to the first bin [e_1 ...) only if e_1 > min
    edges = edges[edges > present[0]]
    low_q, high_q = quantiles[0], quantiles[-1]
    z = np.abs(present - mean) / std if std > 0 else np.zeros(n)
    entry.update(
        mean=mean,
        std=std,
        min=float(present[0]),
        max=float(present[-1]),
        quantiles={quantile_key(q): float(v) for q, v in zip(QUANTILES, quantiles, strict=True)},
        distinct=min(distinct, DISTINCT_CAP),
        distinct_capped=distinct > DISTINCT_CAP,
        bin_edges=[float(e) for e in edges],
        bin_counts=[int(c) for c in bin_counts_sorted(edges, present)],
        outlier_z_share=float(np.mean(z > Z_OUTLIER)),
        outlier_quantile_share=float(np.mean((present < low_q) | (present > high_q))),
    )
    if distinct <= LOW_CARDINALITY:
        entry["value_counts"] = {
            "values": [float(v) for v in distinct_values],
            "counts": [int(c) for c in distinct_counts],
        }
    return entry


def _categorical_profile(series: pd.Series, kind: str) -> dict[str, Any]:
    counts = category_counts(series)
    total = len(series)
    n = sum(counts.values())
    items = list(counts.items())
    return {
        "kind": kind,
        "n": n,
        "missing_share": (total - n) / total if total else 0.0,
        "frequencies": dict(items[:MAX_FREQUENCIES]),
        "frequencies_truncated": len(items) > MAX_FREQUENCIES,
        "other_count": sum(count for _, count in items[MAX_FREQUENCIES:]),
        "distinct": len(items),
    }


def _datetime_profile(series: pd.Series) -> dict[str, Any]:
    stamps = pd.to_datetime(series, errors="coerce", utc=True)
    total = len(stamps)
    n = int(stamps.notna().sum())
    return {
        "kind": DATETIME,
        "n": n,
        "missing_share": (total - n) / total if total else 0.0,
        "min": _json_scalar(stamps.min()) if n else None,
        "max": _json_scalar(stamps.max()) if n else None,
    }


def _sample(frame: pd.DataFrame, names: list[str], sample_size: int, seed: int) -> dict[str, Any]:
    n = len(frame)
    take = min(sample_size, n)
    rng = np.random.default_rng(seed)
    index = np.sort(rng.choice(n, size=take, replace=False)) if take < n else np.arange(n)
    picked = frame.iloc[index]
    columns = [[_json_scalar(v) for v in picked[name].tolist()] for name in names]
    rows = [list(row) for row in zip(*columns, strict=True)] if columns else [[] for _ in index]
    return {"columns": list(names), "rows": rows}


def fit_profile(
    frame: pd.DataFrame,
    columns: list[dict[str, Any]],
    *,
    sample_size: int = 5000,
    seed: int = 0,
) -> dict[str, Any]:
    """The reference profile of `frame` for the signature `columns` (see the module doc)."""
    if sample_size < 1:
        raise InvalidInput(
            f"reference sample size must be at least 1, got {sample_size}",
            field="sample_size", example="5000",
        )
    names = [str(c["name"]) for c in columns]
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise InvalidInput(
            f"reference data has no column {', '.join(map(repr, missing))} of the signature; "
            f"its columns are: {', '.join(map(str, frame.columns)) or '(none)'}. "
            "Fit the profile on data with the model's input columns.",
            field="columns", example=repr(missing[0]),
        )
    features: dict[str, dict[str, Any]] = {}
    for column in columns:
        name = str(column["name"])
        kind = column.get("kind", NUMERIC)
        if kind not in KINDS:
            raise InvalidInput(
                f"signature column {name!r} has kind {kind!r}; known kinds: {', '.join(KINDS)}",
                field="columns", example=NUMERIC,
            )
        series = frame[name]
        if kind == NUMERIC:
            features[name] = _numeric_profile(series)
        elif kind == DATETIME:
            features[name] = _datetime_profile(series)
        else:
            features[name] = _categorical_profile(series, kind)
    return {
        "rows": len(frame),
        "features": features,
        "sample": _sample(frame, names, sample_size, seed),
    }


def sample_column(profile: dict[str, Any], name: str) -> list[Any]:
    """One column of a profile's sample, as stored (None for missing)."""
    sample = profile.get("sample") or {}
    try:
        position = list(sample.get("columns", [])).index(name)
    except ValueError:
        return []
    return [row[position] for row in sample.get("rows", [])]
