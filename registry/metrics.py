"""Evaluation metrics by name, with the direction that counts as better."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from store.errors import InvalidInput

HIGHER_IS_BETTER = {"roc_auc", "accuracy", "f1", "precision", "recall", "r2", "average_precision"}
LOWER_IS_BETTER = {"log_loss", "rmse", "mae", "mape", "brier"}
CLASSIFICATION = {"roc_auc", "accuracy", "f1", "precision", "recall", "log_loss", "average_precision", "brier"}
REGRESSION = {"rmse", "mae", "mape", "r2"}
KNOWN = HIGHER_IS_BETTER | LOWER_IS_BETTER


def higher_is_better(metric: str) -> bool:
    if metric not in KNOWN:
        raise InvalidInput(f"unknown metric {metric!r}; known metrics: {', '.join(sorted(KNOWN))}")
    return metric in HIGHER_IS_BETTER


def check_metrics_for_task(metrics: list[str], task: str, where: str) -> None:
    allowed = CLASSIFICATION if task == "classification" else REGRESSION
    for name in metrics:
        if name not in allowed:
            raise InvalidInput(
                f"{where}: metric {name!r} does not apply to {task}; use one of "
                f"{', '.join(sorted(allowed))}"
            )


def _positive_scores(estimator: Any, X: Any) -> tuple[Any, Any]:
    proba = estimator.predict_proba(X)
    return proba, estimator.classes_


def evaluate(estimator: Any, X: Any, y: Any, metrics: list[str], task: str) -> dict[str, float]:
    """Each named metric of `estimator` on (X, y), as plain floats."""
    from sklearn import metrics as skm

    out: dict[str, float] = {}
    predictions = estimator.predict(X)
    proba: Any = None
    classes: Any = None
    if task == "classification" and any(
        m in {"roc_auc", "log_loss", "average_precision", "brier"} for m in metrics
    ):
        if not hasattr(estimator, "predict_proba"):
            raise InvalidInput(
                f"{type(estimator).__name__} has no predict_proba; drop roc_auc/log_loss from "
                "[evaluate] metrics or use a probabilistic classifier"
            )
        proba, classes = _positive_scores(estimator, X)
    binary = classes is not None and len(classes) == 2
    computations: dict[str, Callable[[], float]] = {
        "accuracy": lambda: skm.accuracy_score(y, predictions),
        "f1": lambda: skm.f1_score(y, predictions, average="binary" if binary else "macro"),
        "precision": lambda: skm.precision_score(
            y, predictions, average="binary" if binary else "macro", zero_division=0
        ),
        "recall": lambda: skm.recall_score(y, predictions, average="binary" if binary else "macro"),
        "roc_auc": lambda: skm.roc_auc_score(y, proba[:, 1])
        if binary
        else skm.roc_auc_score(y, proba, multi_class="ovr", labels=classes),
        "average_precision": lambda: skm.average_precision_score(y, proba[:, 1]),
        "brier": lambda: skm.brier_score_loss(y, proba[:, 1], pos_label=classes[1]),
        "log_loss": lambda: skm.log_loss(y, proba, labels=classes),
        "rmse": lambda: float(np.sqrt(skm.mean_squared_error(y, predictions))),
        "mae": lambda: skm.mean_absolute_error(y, predictions),
        "mape": lambda: skm.mean_absolute_percentage_error(y, predictions),
        "r2": lambda: skm.r2_score(y, predictions),
    }
    for name in metrics:
        if name not in computations:
            higher_is_better(name)  # raises with the list of known metrics
        out[name] = float(computations[name]())
    return out
