"""Whole-input drift by a domain classifier (pure): a model trained to tell reference rows
from current rows. If it cannot (cross-validated ROC AUC near 0.5), the two windows look
alike in every feature and in every combination of features; the further the AUC is
above 0.5, the easier they are to tell apart, and the permutation importances say which
features do it.

The model is scikit-learn's HistGradientBoostingClassifier: it takes numeric columns as
they are, categorical ones natively (no one-hot, so a feature's importance is one number
whatever its cardinality), missing values without imputation, and it bins the data once,
so a fit on 10,000 rows takes a fraction of a second on one thread. A linear model on
one-hot columns would be as fast but blind to interactions and non-monotone shifts.

The cost is capped twice: rows (each side sampled down to `max_rows`, seeded) and time.
Boosting grows in rounds of a few trees and the clock is read between rounds, so a fold
never runs past the budget: when it is spent, the folds done so far give the AUC and the
reason says how many of them there were.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

OK, DRIFTED, INSUFFICIENT = "ok", "drifted", "insufficient"

#: trees added between two looks at the clock
ROUND = 25
#: a domain classifier needs no fine fit: 50 trees at learning rate 0.2 find what 100 at
#: 0.1 do on the sample scenarios, at half the cost
MAX_TREES = 50
#: HistGradientBoosting's limit on a categorical feature's distinct values (max_bins)
MAX_CATEGORIES = 255
OTHER = "__other__"


@dataclass(frozen=True)
class Importance:
    feature: str
    importance: float  # mean drop of the held-out ROC AUC when the feature is shuffled

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "importance": self.importance}


@dataclass(frozen=True)
class DomainDrift:
    status: str  # ok | drifted | insufficient
    auc: float | None
    drifted: bool
    threshold: float
    importances: tuple[Importance, ...]
    rows_used: dict[str, int]
    seconds: float
    folds: int  # folds completed (their mean is `auc`)
    folds_planned: int
    reason: str
    fold_aucs: tuple[float, ...] = ()
    features: tuple[str, ...] = ()
    dropped: dict[str, str] = field(default_factory=dict)  # column -> why it was left out

    @property
    def top_feature(self) -> str | None:
        return self.importances[0].feature if self.importances else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "auc": self.auc,
            "drifted": self.drifted,
            "threshold": self.threshold,
            "importances": [i.to_dict() for i in self.importances],
            "rows_used": dict(self.rows_used),
            "seconds": self.seconds,
            "folds": self.folds,
            "folds_planned": self.folds_planned,
            "fold_aucs": list(self.fold_aucs),
            "features": list(self.features),
            "dropped": dict(self.dropped),
            "reason": self.reason,
        }


def _sample(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    if len(frame) <= max_rows:
        return frame.reset_index(drop=True)
    return frame.sample(n=max_rows, random_state=seed).reset_index(drop=True)


def _design(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Both windows as one frame the booster takes: numbers as floats, everything else as
    one shared pandas Categorical (the same codes on both sides). Times are left out: a
    timestamp tells two windows apart by construction, not by drift."""
    common = [c for c in reference.columns if c in current.columns]
    dropped = {str(c): "not in the current window" for c in reference.columns if c not in current.columns}
    dropped |= {str(c): "not in the reference" for c in current.columns if c not in reference.columns}
    both = pd.concat([reference[common], current[common]], ignore_index=True)
    out: dict[str, pd.Series] = {}
    for name in common:
        series = both[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            dropped[str(name)] = "a time column"
            continue
        if series.isna().all():
            dropped[str(name)] = "null on every row"
            continue
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            out[str(name)] = series.astype(float)
            continue
        text = series.astype("string")
        counts = text.value_counts()
        if len(counts) > MAX_CATEGORIES - 1:
            keep = set(counts.index[: MAX_CATEGORIES - 1])
            text = text.where(text.isin(keep) | text.isna(), OTHER)
        out[str(name)] = text.astype("category")
    return pd.DataFrame(out), dropped


def _model(seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=ROUND, learning_rate=0.2, max_leaf_nodes=15, min_samples_leaf=20,
        categorical_features="from_dtype", early_stopping=False, warm_start=True,
        random_state=seed,
    )


def _fit_within(model: Any, X: pd.DataFrame, y: np.ndarray, deadline: float) -> bool:
    """Grow the booster round by round until MAX_TREES or the deadline; True if it finished."""
    trees = ROUND
    while True:
        model.set_params(max_iter=trees)
        model.fit(X, y)
        if trees >= MAX_TREES:
            return True
        if time.perf_counter() >= deadline:
            return False
        trees += ROUND


def _auc(model: Any, X: pd.DataFrame, y: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, model.predict_proba(X)[:, 1]))


def _permutation_drop(model: Any, X: pd.DataFrame, y: np.ndarray, base: float,
                      rng: np.random.Generator, deadline: float) -> dict[str, float] | None:
    """The held-out AUC lost when each feature is shuffled (None if the time ran out)."""
    drops: dict[str, float] = {}
    for name in X.columns:
        if time.perf_counter() >= deadline:
            return None
        shuffled = X.copy()
        shuffled[name] = X[name].to_numpy()[rng.permutation(len(X))]
        if isinstance(X[name].dtype, pd.CategoricalDtype):
            shuffled[name] = pd.Categorical(shuffled[name], categories=X[name].cat.categories)
        drops[str(name)] = base - _auc(model, shuffled, y)
    return drops


def _insufficient(n_ref: int, n_cur: int, need: int, start: float, folds: int,
                  threshold: float, why: str | None = None) -> DomainDrift:
    reason = why or (f"insufficient data: {n_ref} reference and {n_cur} current rows, "
                     f"need {need} on each side")
    return DomainDrift(INSUFFICIENT, None, False, threshold, (), {"reference": n_ref, "current": n_cur},
                       time.perf_counter() - start, 0, folds, reason)


def domain_drift(reference: pd.DataFrame, current: pd.DataFrame, *, max_rows: int = 5000,
                 max_seconds: float = 10.0, threshold: float = 0.75, seed: int = 0,
                 folds: int = 3, min_rows: int = 100, importance_folds: int = 2) -> DomainDrift:
    """Train a classifier to tell `reference` rows from `current` rows; drifted when its
    cross-validated ROC AUC is above `threshold`. Permutation importances come from the
    first `importance_folds` folds (one predict per feature and fold: most of the cost)."""
    # the booster's module loads OpenMP, and threadpool_limits only limits a library that
    # is loaded when it is entered: import it first (a fit under an unlimited OpenMP
    # spin-waited 40 times the CPU of a one-thread fit on a busy machine)
    import sklearn.ensemble  # noqa: F401
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    deadline = start + max_seconds
    if len(reference) < min_rows or len(current) < min_rows:
        return _insufficient(len(reference), len(current), min_rows, start, folds, threshold)
    ref = _sample(reference, max_rows, seed)
    cur = _sample(current, max_rows, seed + 1)
    X, dropped = _design(ref, cur)
    used = {"reference": len(ref), "current": len(cur)}
    if X.shape[1] == 0:
        return _insufficient(len(ref), len(cur), min_rows, start, folds, threshold,
                             "no feature to compare: " + ", ".join(f"{k} ({v})" for k, v in dropped.items()))
    y = np.r_[np.zeros(len(ref), dtype=int), np.ones(len(cur), dtype=int)]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    rng = np.random.default_rng(seed)
    aucs: list[float] = []
    importance_runs: list[dict[str, float]] = []
    notes: list[str] = []
    # one OpenMP thread: as fast as two for a model this size, and no spin-waiting on a
    # core that another process holds
    with threadpool_limits(limits=1, user_api="openmp"):
        for number, (train_idx, test_idx) in enumerate(splitter.split(X, y), start=1):
            elapsed = time.perf_counter() - start
            per_fold = elapsed / (number - 1) if number > 1 else 0.0
            if aucs and elapsed + per_fold > max_seconds:
                notes.append(f"stopped after {len(aucs)} of {folds} folds: the next would pass "
                             f"the {max_seconds:g} s budget")
                break
            model = _model(seed)
            finished = _fit_within(model, X.iloc[train_idx], y[train_idx], deadline)
            X_test, y_test = X.iloc[test_idx], y[test_idx]
            auc = _auc(model, X_test, y_test)
            aucs.append(auc)
            if not finished:
                notes.append(f"fold {number} stopped at {model.n_iter_} trees at the "
                             f"{max_seconds:g} s budget; {len(aucs)} of {folds} folds done")
                break
            if len(importance_runs) >= importance_folds:
                continue
            drops = _permutation_drop(model, X_test, y_test, auc, rng, deadline)
            if drops is None:
                notes.append(f"importances from {len(importance_runs)} folds: the budget ran out")
                break
            importance_runs.append(drops)
    mean_auc = float(np.mean(aucs))
    importances = tuple(sorted(
        (Importance(name, float(np.mean([run[name] for run in importance_runs])))
         for name in X.columns) if importance_runs else (),
        key=lambda i: (-i.importance, i.feature)))
    drifted = mean_auc > threshold
    spread = float(np.std(aucs)) if len(aucs) > 1 else math.nan
    top = ", ".join(f"{i.feature} {i.importance:.3f}" for i in importances[:3] if i.importance > 0)
    reason = (f"domain classifier ROC AUC {mean_auc:.3f}"
              + (f" (+/- {spread:.3f})" if not math.isnan(spread) else "")
              + f" {'>' if drifted else '<='} {threshold:g} over {len(aucs)} folds, "
              f"{used['reference']} reference / {used['current']} current rows"
              + (f"; separated by {top}" if drifted and top else "")
              + "".join(f"; {n}" for n in notes))
    return DomainDrift(
        status=DRIFTED if drifted else OK, auc=mean_auc, drifted=drifted, threshold=threshold,
        importances=importances, rows_used=used, seconds=time.perf_counter() - start,
        folds=len(aucs), folds_planned=folds, reason=reason, fold_aucs=tuple(aucs),
        features=tuple(str(c) for c in X.columns), dropped=dropped,
    )
