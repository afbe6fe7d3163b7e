"""Training entry point for the hourly demand regressor.

Contract: ``train(X, y, params) -> fitted estimator``. Only standard scikit-learn
classes are used, so the artifact can be saved and loaded with skops.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from threadpoolctl import threadpool_limits

from sample_models._training import check_params, split_columns

DEFAULT_PARAMS: Mapping[str, Any] = {
    "loss": "poisson",
    "learning_rate": 0.1,
    "max_iter": 300,
    "max_leaf_nodes": 31,
    "max_depth": 3,
    "min_samples_leaf": 20,
    "l2_regularization": 0.0,
}
LOSSES: tuple[str, ...] = ("squared_error", "poisson", "absolute_error")


def train(X: pd.DataFrame, y: pd.Series, params: Mapping[str, Any]) -> Pipeline:
    """Fit one-hot encoding of categoricals -> HistGradientBoostingRegressor.

    Numeric columns pass through (the booster handles missing values itself).
    params (defaults in ``DEFAULT_PARAMS``): ``loss`` (squared_error, poisson,
    absolute_error), ``learning_rate`` (> 0), ``max_iter`` (boosting rounds, >= 1),
    ``max_leaf_nodes`` (>= 2), ``max_depth`` (>= 1, or 0 for unlimited),
    ``min_samples_leaf`` (>= 1), ``l2_regularization`` (>= 0). No early stopping and
    a fixed ``random_state``, so the same data and params give identical models.
    """
    p = check_params(params, DEFAULT_PARAMS, where="sample_models.demand.train")
    if p["loss"] not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {p['loss']!r}")
    if not float(p["learning_rate"]) > 0:
        raise ValueError(f"learning_rate must be > 0, got {p['learning_rate']!r}")
    for name, low in (
        ("max_iter", 1),
        ("max_leaf_nodes", 2),
        ("max_depth", 0),
        ("min_samples_leaf", 1),
    ):
        if int(p[name]) < low:
            raise ValueError(f"{name} must be >= {low}, got {p[name]!r}")
    if float(p["l2_regularization"]) < 0:
        raise ValueError(f"l2_regularization must be >= 0, got {p['l2_regularization']!r}")

    numeric, categorical = split_columns(X)
    preprocess = ColumnTransformer(
        [
            ("num", "passthrough", numeric),
            # Missing or unseen categories encode as all zeros.
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
        ],
        remainder="drop",
    )
    regressor = HistGradientBoostingRegressor(
        loss=str(p["loss"]),
        learning_rate=float(p["learning_rate"]),
        max_iter=int(p["max_iter"]),
        max_leaf_nodes=int(p["max_leaf_nodes"]),
        max_depth=int(p["max_depth"]) or None,
        min_samples_leaf=int(p["min_samples_leaf"]),
        l2_regularization=float(p["l2_regularization"]),
        early_stopping=False,
        random_state=0,
    )
    model = Pipeline([("preprocess", preprocess), ("regressor", regressor)])
    # One OpenMP thread: as fast as two on this data size, and immune to the spin-wait
    # stalls two threads suffer when another process holds one of two cores.
    with threadpool_limits(limits=1, user_api="openmp"):
        return model.fit(X, y)
