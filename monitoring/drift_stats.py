"""The distance and test statistics of the drift checks, over plain numpy arrays (pure).

Numeric statistics take sorted arrays without missing values, so a check sorts each
current column once and every statistic (KS, Wasserstein, bin counts, quantiles,
outlier counts) reads it with binary searches instead of sorting again: on a
1,000,000-row window scipy's ``wasserstein_distance`` alone spends about 0.8 s per
column re-sorting, this spends about 30 ms. Both give the same numbers (the property
tests compare them with scipy's).

Category statistics take aligned count vectors (reference, current) over the same
categories, categories seen only in one of the two included with a zero count.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats
from scipy.spatial import distance

#: a bin share below this is taken as this in PSI (Evidently uses the same floor), so an
#: empty bin gives a large but finite term instead of log(0)
PSI_FLOOR = 1e-4
#: both samples at most this large: scipy's exact KS p-value; above it the asymptotic one
#: (within 0.005 of the exact one from a few hundred rows on, and 10x cheaper)
KS_EXACT_MAX = 1_000
#: up to this many rows Wasserstein sums every piece directly; above it by prefix sums
#: (five times faster on 1,000,000 rows, rounding errors around 1e-12 of the value)
WASSERSTEIN_DIRECT_MAX = 50_000


def shares(counts: np.ndarray) -> np.ndarray:
    """Counts as shares of their total (all zeros when the total is zero)."""
    total = counts.sum()
    return counts / total if total > 0 else np.zeros(len(counts), dtype=np.float64)


def psi(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Population stability index of two count vectors over the same bins:
    sum((c - r) * ln(c / r)) over the shares, each floored at PSI_FLOOR. Every term is
    >= 0 (both factors share a sign), and 0 exactly when the shares are equal."""
    r = np.maximum(shares(reference_counts.astype(np.float64)), PSI_FLOOR)
    c = np.maximum(shares(current_counts.astype(np.float64)), PSI_FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


def jensen_shannon(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Jensen-Shannon distance (natural log, as scipy's and Evidently's default) of two
    count vectors; in [0, sqrt(ln 2)] = [0, 0.833], 0 for equal shares."""
    r = shares(reference_counts.astype(np.float64))
    c = shares(current_counts.astype(np.float64))
    if not r.any() or not c.any():
        return 0.0
    value = float(distance.jensenshannon(r, c))
    return value if math.isfinite(value) else 0.0  # rounding can give sqrt of -0.0


def total_variation(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Half the summed absolute share differences: the share of rows that would have to
    change category for the two to match (the effect size of the category tests)."""
    r = shares(reference_counts.astype(np.float64))
    c = shares(current_counts.astype(np.float64))
    return float(0.5 * np.abs(r - c).sum())


def chi_squared(reference_counts: np.ndarray, current_counts: np.ndarray) -> tuple[float, float]:
    """Chi-squared test of homogeneity of the 2 x k table (reference, current); a category
    seen in only one of the two is a column of its own. (statistic, p-value)."""
    table = np.vstack([reference_counts, current_counts]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def ks_two_sample(reference_sorted: np.ndarray, current_sorted: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov (statistic, p-value) of two sorted arrays.

    The statistic is sup |F_cur - F_ref|. Between two reference values the reference CDF
    is flat and the current one rises, so the supremum is at a reference value (from the
    right) or just below the next one: binary searches of the reference values in the
    current array find it in O(n_ref log n_cur). The p-value is scipy's: exact up to
    KS_EXACT_MAX rows each (ks_2samp itself), else the asymptotic Kolmogorov distribution
    of sqrt(n m / (n + m)) D, as ks_2samp's method="asymp".
    """
    n, m = len(reference_sorted), len(current_sorted)
    if n == 0 or m == 0:
        return 0.0, 1.0
    if n <= KS_EXACT_MAX and m <= KS_EXACT_MAX:
        with warnings.catch_warnings():  # "exact calculation unsuccessful": it falls back
            warnings.simplefilter("ignore", RuntimeWarning)  # to the asymptotic p-value itself
            result = stats.ks_2samp(reference_sorted, current_sorted)
        return float(result.statistic), float(result.pvalue)
    values, counts = np.unique(reference_sorted, return_counts=True)
    ref_cdf = np.cumsum(counts) / n
    cur_right = np.searchsorted(current_sorted, values, side="right") / m
    cur_left = np.searchsorted(current_sorted, values, side="left") / m
    gaps = [
        np.abs(cur_right - ref_cdf),
        np.abs(cur_left[1:] - ref_cdf[:-1]),
        np.array([cur_left[0], 1.0 - cur_right[-1]]),
    ]
    statistic = float(max(g.max() for g in gaps if g.size))
    effective = round(n * m / (n + m))
    p_value = float(stats.kstwo.sf(statistic, effective))
    return statistic, min(max(p_value, 0.0), 1.0)


def wasserstein(reference_sorted: np.ndarray, current_sorted: np.ndarray) -> float:
    """First Wasserstein distance of two sorted samples, exactly, without merging them.

    W = integral over t in (0, 1) of |Q_a(t) - Q_b(t)|, both quantile functions step
    functions: Q_a(t) = a[i] on (i/n, (i+1)/n], Q_b(t) = b[j] on (j/m, (j+1)/m]. With
    n <= m (the arguments are swapped otherwise; W is symmetric) each piece of b holds at
    most one step of a inside it: the sum over b's pieces of |a[at the piece's middle] -
    b[j]| / m is exact except on those (at most n - 1) pieces, which are corrected by
    splitting them at the step. Integer arithmetic finds the pieces, so no rounding moves
    a step across a boundary.
    """
    a, b = reference_sorted, current_sorted
    if len(a) > len(b):
        a, b = b, a
    n, m = len(a), len(b)
    if n == 0:
        return 0.0
    if m > WASSERSTEIN_DIRECT_MAX:
        total = _piece_sum_by_prefix(a, b) / m
    else:
        j = np.arange(m, dtype=np.int64)
        total = float(np.abs(a[((2 * j + 1) * n) // (2 * m)] - b).sum()) / m
    i = np.arange(1, n, dtype=np.int64)
    piece, inside = np.divmod(i * m, n)
    split = inside != 0
    i, piece = i[split], piece[split]
    if len(i):
        step = i / n
        left = step - piece / m
        right = (piece + 1) / m - step
        b_piece = b[piece]
        exact = left * np.abs(a[i - 1] - b_piece) + right * np.abs(a[i] - b_piece)
        approx = np.abs(a[((2 * piece + 1) * n) // (2 * m)] - b_piece) / m
        total += float(exact.sum() - approx.sum())
    return max(total, 0.0)


def _piece_sum_by_prefix(a: np.ndarray, b: np.ndarray) -> float:
    """sum over j of |a[i(j)] - b[j]| with i(j) = ((2j + 1) n) // (2m), in O(m) additions
    and O(n log m) searches: i(j) is constant on runs of j, and on a run the sorted b[j]
    below a[i] and those above it sum by prefix sums."""
    n, m = len(a), len(b)
    i = np.arange(n + 1, dtype=np.int64)
    # the first j with i(j) >= i: (2j + 1) n >= 2 m i
    starts = np.maximum(0, -((n - 2 * m * i) // (2 * n)))
    starts[-1] = m
    begin, end = starts[:-1], starts[1:]
    split = np.clip(np.searchsorted(b, a, side="left"), begin, end)
    prefix = np.concatenate([[0.0], np.cumsum(b)])
    below = a * (split - begin) - (prefix[split] - prefix[begin])
    above = (prefix[end] - prefix[split]) - a * (end - split)
    return float(below.sum() + above.sum())


def quantiles_sorted(sorted_values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Quantiles of a sorted array (linear interpolation, numpy's default method)."""
    m = len(sorted_values)
    if m == 0:
        return np.full(len(levels), np.nan)
    position = np.asarray(levels, dtype=np.float64) * (m - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, m - 1)
    fraction = position - low
    return sorted_values[low] * (1 - fraction) + sorted_values[high] * fraction


def count_outside(sorted_values: np.ndarray, low: float, high: float) -> int:
    """How many of the sorted values are below `low` or above `high`."""
    below = int(np.searchsorted(sorted_values, low, side="left"))
    above = len(sorted_values) - int(np.searchsorted(sorted_values, high, side="right"))
    return below + above
