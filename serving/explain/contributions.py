"""Per-feature contributions (pure: numpy only, no database, no model loading).

Two additive methods, both in terms of the model's ORIGINAL input features:

- `linear`: a linear model on transformed columns z. Column j contributes
  coef_j * (z_j - mean_j), the mean taken over reference rows; the columns made from one
  input feature (one-hot columns, a scaled column) are summed into that feature. The sum
  is exactly the decision value minus the reference's mean decision value (for a
  logistic regression: log-odds).
- `shapley`: interventional Shapley values of any model f over the input features,
  v(S) = mean over background rows b of f(x_S, b_rest). With n features up to
  EXACT_MAX_FEATURES every coalition is enumerated (exact); above, a fixed number of
  permutations is walked (an estimate). Either way the values sum to
  f(x) - mean f(background): a permutation's marginal steps telescope.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

#: Up to this many features every coalition is enumerated (2**n of them).
EXACT_MAX_FEATURES = 12
#: Rows of model input the enumeration may cost: the background shrinks to stay under it.
ROW_BUDGET = 20_000
#: Permutations walked above EXACT_MAX_FEATURES (seeded: the same explanation each time).
PERMUTATIONS = 64


@dataclass(frozen=True)
class Contributions:
    """Per feature, what it adds to `output` over `baseline`: sum(values) == output - baseline."""

    method: str  # linear | shapley-exact | shapley-sampled
    features: tuple[str, ...]
    values: tuple[float, ...]
    baseline: float
    output: float

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.features, self.values, strict=True))

    @property
    def gap(self) -> float:
        """How far the sum is from output - baseline (float rounding only)."""
        return abs(math.fsum(self.values) - (self.output - self.baseline))


def linear(coef: np.ndarray, intercept: float, z: np.ndarray, reference_z: np.ndarray,
           owners: Sequence[str], features: Sequence[str], *,
           output: float | None = None) -> Contributions:
    """coef and z: one value per transformed column; reference_z: rows x columns;
    owners[j]: the input feature column j was made from (one of `features`). `output`:
    the model's own decision value for z (default: coef . z + intercept)."""
    coef = np.asarray(coef, dtype=float).ravel()
    z = np.asarray(z, dtype=float).ravel()
    reference_z = np.asarray(reference_z, dtype=float)
    if not (coef.shape == z.shape and reference_z.ndim == 2 and reference_z.shape[1] == z.size
            and len(owners) == z.size):
        raise ValueError(f"shapes disagree: coef {coef.shape}, z {z.shape}, reference "
                         f"{reference_z.shape}, {len(owners)} column owners")
    mean = reference_z.mean(axis=0)
    per_column = coef * (z - mean)
    totals = dict.fromkeys(features, 0.0)
    for owner, value in zip(owners, per_column.tolist(), strict=True):
        totals[owner] += value
    output = float(coef @ z) + intercept if output is None else float(output)
    baseline = float(coef @ mean) + intercept
    return Contributions("linear", tuple(features), tuple(totals[f] for f in features),
                         baseline, output)


def coalitions(n: int) -> np.ndarray:
    """Every subset of n features as a boolean mask row (2**n rows; row k holds bit j of k)."""
    k = np.arange(2 ** n, dtype=np.int64)[:, None]
    return ((k >> np.arange(n, dtype=np.int64)[None, :]) & 1).astype(bool)


def shapley_weights(n: int) -> np.ndarray:
    """w[s] = s! (n-s-1)! / n!: the weight of a coalition of size s not holding the feature."""
    return np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n)
                     for s in range(n)])


def shapley_from_values(values: np.ndarray, n: int) -> np.ndarray:
    """Shapley values from v(S) for every coalition S, indexed as `coalitions(n)` orders them."""
    values = np.asarray(values, dtype=float)
    if values.shape != (2 ** n,):
        raise ValueError(f"{values.shape[0]} coalition values for {n} features; need {2 ** n}")
    masks = coalitions(n)
    sizes = masks.sum(axis=1)
    weights = shapley_weights(n)
    index = np.arange(2 ** n)
    phi = np.empty(n)
    for j in range(n):
        without = index[~masks[:, j]]
        with_j = without | (1 << j)
        phi[j] = math.fsum((weights[sizes[without]] * (values[with_j] - values[without])).tolist())
    return phi


#: f(masks, background) -> per mask, the mean of the model's output over the background
#: rows with the masked features taken from the row being explained
CoalitionValue = Callable[[np.ndarray], np.ndarray]


def background_size(n: int, available: int) -> int:
    """Background rows for an exact enumeration of n features within ROW_BUDGET."""
    return max(1, min(available, ROW_BUDGET // (2 ** n)))


def shapley(features: Sequence[str], value_of: CoalitionValue, output: float, *,
            seed: int = 0) -> Contributions:
    """Interventional Shapley values. `value_of(masks)` gives v(S) per mask row; the empty
    coalition's value is the baseline (mean f(background)), the full one is pinned to
    `output` = f(x) as the model answered it."""
    n = len(features)
    if n == 0:
        return Contributions("shapley-exact", (), (), output, output)
    if n <= EXACT_MAX_FEATURES:
        masks = coalitions(n)
        values = np.asarray(value_of(masks), dtype=float)
        baseline = float(values[0])
        values[-1] = output
        return Contributions("shapley-exact", tuple(features),
                             tuple(shapley_from_values(values, n).tolist()), baseline, output)
    return _sampled(features, value_of, output, seed)


def _sampled(features: Sequence[str], value_of: CoalitionValue, output: float,
             seed: int) -> Contributions:
    """Permutation sampling: each permutation adds the features one at a time; the average
    marginal step per feature is its estimate (each permutation sums to output - baseline)."""
    n = len(features)
    rng = np.random.default_rng(seed)
    orders = [rng.permutation(n) for _ in range(PERMUTATIONS)]
    masks = [np.zeros(n, dtype=bool)]  # first the empty coalition: the baseline
    for order in orders:
        mask = np.zeros(n, dtype=bool)
        for j in order[:-1]:  # the empty and the full coalition are known
            mask = mask.copy()
            mask[j] = True
            masks.append(mask)
    values = np.asarray(value_of(np.array(masks)), dtype=float)
    baseline, values = float(values[0]), values[1:]
    phi = np.zeros(n)
    step = n - 1
    for p, order in enumerate(orders):
        chain = [baseline, *values[p * step:(p + 1) * step].tolist(), output]
        for k, j in enumerate(order):
            phi[j] += chain[k + 1] - chain[k]
    phi /= len(orders)
    return Contributions("shapley-sampled", tuple(features), tuple(phi.tolist()), baseline, output)
