"""Training entry point for the credit-default classifier.

Contract: ``train(X, y, params) -> fitted estimator``. Only standard scikit-learn
classes are used, so the artifact can be saved and loaded with skops.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import KNNImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sample_models._training import check_params, split_columns

DEFAULT_PARAMS: Mapping[str, Any] = {
    "C": 1.0,
    "l1_ratio": 1.0,
    "max_iter": 1000,
    "class_weight": "none",
}
CLASS_WEIGHTS: tuple[str, ...] = ("none", "balanced")


def train(X: pd.DataFrame, y: pd.Series, params: Mapping[str, Any]) -> Pipeline:
    """Fit scale + KNN-impute / one-hot -> regularised logistic regression.

    params (defaults in ``DEFAULT_PARAMS``): ``C`` (inverse regularisation strength,
    > 0), ``l1_ratio`` (0 = L2 with lbfgs, 1 = L1 "sparse scorecard", in between =
    elastic net; > 0 uses the saga solver), ``max_iter`` (int >= 1), ``class_weight``
    (``"none"`` or ``"balanced"``). Unknown params raise ValueError.
    """
    p = check_params(params, DEFAULT_PARAMS, where="sample_models.credit.train")
    C = float(p["C"])
    max_iter = int(p["max_iter"])
    l1_ratio = float(p["l1_ratio"])
    class_weight = str(p["class_weight"])
    if not C > 0:
        raise ValueError(f"C must be > 0, got {p['C']!r}")
    if not 0.0 <= l1_ratio <= 1.0:
        raise ValueError(f"l1_ratio must be in [0, 1], got {p['l1_ratio']!r}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {p['max_iter']!r}")
    if class_weight not in CLASS_WEIGHTS:
        raise ValueError(
            f"class_weight must be one of {', '.join(CLASS_WEIGHTS)}, got {class_weight!r}"
        )

    numeric, categorical = split_columns(X)
    preprocess = ColumnTransformer(
        [
            # StandardScaler ignores NaN when fitting and passes it through; the KNN
            # imputer then fills gaps from the 5 most similar training rows.
            # (SimpleImputer would store a numpy.dtype, which skops does not trust.)
            (
                "num",
                Pipeline(
                    [
                        ("scale", StandardScaler()),
                        ("impute", KNNImputer(n_neighbors=5, keep_empty_features=True)),
                    ]
                ),
                numeric,
            ),
            # Missing or unseen categories encode as all zeros.
            ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
        ],
        remainder="drop",
    )
    model = Pipeline(
        [
            ("preprocess", preprocess),
            (
                "classifier",
                LogisticRegression(
                    C=C,
                    l1_ratio=l1_ratio,
                    solver="saga" if l1_ratio > 0 else "lbfgs",
                    max_iter=max_iter,
                    class_weight=None if class_weight == "none" else "balanced",
                    random_state=0,
                ),
            ),
        ]
    )
    return model.fit(X, y)
