"""Summary statistics and outlier rates beside each drift verdict (pure).

Each summary has two sides of the same shape, ``{"reference": {...}, "current": {...}}``,
so a screen can show them side by side. The reference side comes from the profile alone
(no training data is read again).

Numeric: n, missing_share, mean, median, iqr, std, min, max, outside_range_share (below
the reference minimum or above its maximum), outlier_z_share (|x - mean_ref| / std_ref >
Z_OUTLIER) and outlier_quantile_share (below the reference's 0.001 quantile or above its
0.999 quantile). Categorical and boolean: n, missing_share, distinct and the TOP_CATEGORIES
most frequent categories with their shares.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from monitoring.drift_stats import count_outside, quantiles_sorted
from registry.reference_profile import (
    OUTLIER_QUANTILE,
    Z_OUTLIER,
    category_counts,
    numeric_values,
    quantile_key,
)

TOP_CATEGORIES = 5
_LEVELS = np.array([0.25, 0.5, 0.75])


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _reference_numeric(feature: dict[str, Any]) -> dict[str, Any]:
    quantiles = feature.get("quantiles") or {}
    q1, q2, q3 = (quantiles.get(quantile_key(q)) for q in _LEVELS)
    return {
        "n": feature["n"],
        "missing_share": feature["missing_share"],
        "mean": feature.get("mean"),
        "median": q2,
        "iqr": q3 - q1 if q1 is not None and q3 is not None else None,
        "std": feature.get("std"),
        "min": feature.get("min"),
        "max": feature.get("max"),
        "outside_range_share": 0.0,
        "outlier_z_share": feature.get("outlier_z_share", 0.0),
        "outlier_quantile_share": feature.get("outlier_quantile_share", 0.0),
    }


def numeric_summary(
    feature: dict[str, Any], current_sorted: np.ndarray, current_total: int
) -> dict[str, dict[str, Any]]:
    """Both sides for a numeric feature, from the sorted non-missing current values and the
    current row count (missing values included)."""
    m = len(current_sorted)
    current: dict[str, Any] = {
        "n": m,
        "missing_share": _share(current_total - m, current_total),
        "mean": None, "median": None, "iqr": None, "std": None, "min": None, "max": None,
        "outside_range_share": 0.0, "outlier_z_share": 0.0, "outlier_quantile_share": 0.0,
    }
    if m and feature.get("n"):
        q1, q2, q3 = quantiles_sorted(current_sorted, _LEVELS)
        mean_ref, std_ref = feature["mean"], feature["std"]
        quantiles = feature["quantiles"]
        low_q = quantiles[quantile_key(OUTLIER_QUANTILE)]
        high_q = quantiles[quantile_key(1 - OUTLIER_QUANTILE)]
        # outside (low, high) strictly: a value equal to the reference minimum is in range
        outside = count_outside(current_sorted, feature["min"], feature["max"])
        z_out = (
            count_outside(current_sorted, mean_ref - Z_OUTLIER * std_ref,
                          mean_ref + Z_OUTLIER * std_ref)
            if std_ref > 0 else m - _count_equal(current_sorted, mean_ref)
        )
        current.update(
            mean=float(current_sorted.mean()),
            median=float(q2),
            iqr=float(q3 - q1),
            std=float(current_sorted.std(ddof=1)) if m > 1 else 0.0,
            min=float(current_sorted[0]),
            max=float(current_sorted[-1]),
            outside_range_share=_share(outside, m),
            outlier_z_share=_share(z_out, m),
            outlier_quantile_share=_share(count_outside(current_sorted, low_q, high_q), m),
        )
    elif m:
        current.update(
            mean=float(current_sorted.mean()), median=float(np.median(current_sorted)),
            min=float(current_sorted[0]), max=float(current_sorted[-1]),
        )
    return {"reference": _reference_numeric(feature), "current": current}


def _count_equal(sorted_values: np.ndarray, value: float) -> int:
    return int(np.searchsorted(sorted_values, value, side="right")
               - np.searchsorted(sorted_values, value, side="left"))


def _category_side(counts: dict[str, int], n: int, missing_share: float,
                   distinct: int) -> dict[str, Any]:
    top = sorted(counts.items(), key=lambda item: -item[1])[:TOP_CATEGORIES]
    return {
        "n": n,
        "missing_share": missing_share,
        "distinct": distinct,
        "top": [{"category": name, "share": _share(count, n)} for name, count in top],
    }


def categorical_summary(
    feature: dict[str, Any], current_counts: dict[str, int], current_total: int
) -> dict[str, dict[str, Any]]:
    """Both sides for a categorical or boolean feature, from the current counts by category
    and the current row count (missing values included)."""
    m = sum(current_counts.values())
    return {
        "reference": _category_side(feature.get("frequencies") or {}, feature["n"],
                                    feature["missing_share"], feature.get("distinct", 0)),
        "current": _category_side(current_counts, m, _share(current_total - m, current_total),
                                  len(current_counts)),
    }


def summarize(feature: dict[str, Any], current: pd.Series) -> dict[str, dict[str, Any]]:
    """Reference and current summary of one feature (its profile entry) for one column."""
    if feature["kind"] == "numeric":
        values = numeric_values(current)
        return numeric_summary(feature, np.sort(values[~np.isnan(values)]), len(values))
    return categorical_summary(feature, category_counts(current), len(current))
