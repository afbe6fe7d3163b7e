"""Realised performance of a model over a window of labelled predictions (pure).

Labels arrive late (``wk feedback``, ``/v1/feedback``, the labelling queue) and are stored
as JSON text; the functions here take the decoded values (`monitoring.labels.decode_labels`;
`monitoring.labels.class_indices` matches them to the classes), one per labelled prediction,
with the model's prediction for the same row, and compute the metrics with
``sklearn.metrics`` (the same library the training metrics in ``registry.metrics`` use,
so a window's number and the version's training number are computed the same way).

Classification (``classes`` in the model's order, as ``estimator.classes_``):

- binary: ``accuracy``, ``precision``, ``recall``, ``f1`` with ``classes[1]`` as the
  positive class; ``roc_auc`` from the positive-class probability; ``log_loss``.
- more than two classes: ``accuracy``, ``precision_macro``, ``recall_macro``,
  ``f1_macro`` (unweighted mean over classes; a class whose value is undefined in the
  window, e.g. never predicted, is left out of the mean as sklearn does with
  ``zero_division=nan``), ``roc_auc_ovr`` (one-vs-rest, macro), ``log_loss``.

Regression: ``mae``, ``rmse``, ``r2``, ``mape`` (a fraction, as sklearn gives it: 0.12 is
12 %), and ``mape_zero_targets_skipped``, the number of rows left out of MAPE because
their target is 0 (a percentage error of a zero target is undefined).

A metric the window cannot define (one class only, no predicted positives, fewer than two
rows for R2, no probabilities logged) is ``None`` and its reason is in the ``undefined``
mapping that `realised_metrics_with_reasons` and `window_performance` return: never NaN,
never an exception.

Thin windows: `window_performance` marks a window ``thin`` when fewer than
``MIN_LABELLED`` (30) rows are labelled or the label coverage is below ``MIN_COVERAGE``
(0.1). With 30 labels the 95 % interval of an accuracy near 0.85 is already about
+-0.13, and below a tenth of the traffic the labelled rows are rarely a random part of it
(labels arrive first for the cases someone chased). A thin window's metrics are still
computed and shown, marked thin, so a person can see how little they rest on.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

import numpy as np

from monitoring.labels import class_indices, numbers
from store.errors import InvalidInput

CLASSIFICATION = "classification"
REGRESSION = "regression"
TASKS = (CLASSIFICATION, REGRESSION)

MIN_LABELLED = 30
MIN_COVERAGE = 0.1
#: how far a row's class probabilities may sum from 1 (rounding in the log's JSON)
SUM_TOLERANCE = 1e-4

#: the training metric (``registry.metrics``) each realised key is comparable with: the
#: registry names multiclass macro scores without the suffix
TRAINING_NAME: Mapping[str, str] = {
    "precision_macro": "precision",
    "recall_macro": "recall",
    "f1_macro": "f1",
    "roc_auc_ovr": "roc_auc",
}


class WindowPerformance(TypedDict):
    """One window's realised performance, as `window_performance` returns it."""

    metrics: dict[str, float | None]
    undefined: dict[str, str]  # metric -> why it is None
    labelled: int
    predictions: int
    coverage: float
    thin: bool
    reason: str


# -- metrics ---------------------------------------------------------------------------


def realised_metrics(
    task: str,
    labels: Sequence[Any],
    predictions: Sequence[Any],
    *,
    probabilities: np.ndarray | None = None,
    classes: list[Any] | None = None,
) -> dict[str, float | None]:
    """The realised metrics of one window (see the module docstring for the keys); a
    metric the window cannot define is None (its reason: `realised_metrics_with_reasons`)."""
    return realised_metrics_with_reasons(
        task, labels, predictions, probabilities=probabilities, classes=classes
    )[0]


def realised_metrics_with_reasons(
    task: str,
    labels: Sequence[Any],
    predictions: Sequence[Any],
    *,
    probabilities: np.ndarray | None = None,
    classes: list[Any] | None = None,
) -> tuple[dict[str, float | None], dict[str, str]]:
    """(metrics, undefined): `realised_metrics` and, for each None, why."""
    if task not in TASKS:
        raise InvalidInput(f"unknown task {task!r}; use one of {', '.join(TASKS)}", field="task",
                           example=CLASSIFICATION)
    if len(labels) != len(predictions):
        raise InvalidInput(
            f"{len(labels)} labels for {len(predictions)} predictions; give one prediction "
            "per labelled row", field="predictions",
        )
    if task == REGRESSION:
        return _regression(numbers(labels, field="label"),
                           numbers(predictions, field="prediction"))
    if classes is None:
        raise InvalidInput("a classifier's metrics need its classes (estimator.classes_)",
                           field="classes", example="[0, 1]")
    y = class_indices(labels, classes, field="label")
    y_pred = class_indices(predictions, classes, field="prediction")
    proba = None if probabilities is None else _probability_matrix(probabilities, len(y), classes)
    return _classification(y, y_pred, proba, classes)


def _probability_matrix(probabilities: np.ndarray, n: int, classes: Sequence[Any]) -> np.ndarray:
    """Rows x classes; a 1-D array of a binary model is the positive-class probability."""
    p = np.asarray(probabilities, dtype=float)
    k = len(classes)
    if p.ndim == 1 and k == 2:
        p = np.column_stack([1.0 - p, p])
    if p.ndim != 2 or p.shape != (n, k):
        raise InvalidInput(
            f"probabilities have shape {p.shape}, expected ({n}, {k}): one row per labelled "
            "prediction and one column per class, in the order of classes",
            field="probabilities",
        )
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise InvalidInput("probabilities must be finite numbers in [0, 1]; leave out the "
                           "rows whose output was not finite", field="probabilities")
    sums = p.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1.0) > SUM_TOLERANCE)
    if len(off):
        raise InvalidInput(
            f"the probabilities of row {off[0]} sum to {sums[off[0]]:.6g}, not 1 "
            f"({len(off)} such rows); give every class's probability, in the order of classes",
            field="probabilities",
        )
    # a JSON round trip leaves sums a few ulps off 1, which sklearn's ROC AUC refuses
    return p / sums[:, None] if n else p


def _classification(
    y: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, classes: Sequence[Any]
) -> tuple[dict[str, float | None], dict[str, str]]:
    from sklearn import metrics as skm

    k = len(classes)
    binary = k == 2
    keys = (["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"] if binary else
            ["accuracy", "precision_macro", "recall_macro", "f1_macro", "roc_auc_ovr", "log_loss"])
    out: dict[str, float | None] = dict.fromkeys(keys)
    undefined: dict[str, str] = {}
    n = len(y)
    if n == 0:
        return out, dict.fromkeys(keys, "no labelled rows in the window")
    labels = list(range(k))
    out["accuracy"] = float(skm.accuracy_score(y, y_pred))
    positive = json.dumps(classes[1], default=str)
    if binary:
        tp = int(np.sum((y == 1) & (y_pred == 1)))
        fp = int(np.sum((y == 0) & (y_pred == 1)))
        fn = int(np.sum((y == 1) & (y_pred == 0)))
        common = dict(pos_label=1, average="binary", zero_division=np.nan)
        if tp + fp == 0:
            undefined["precision"] = f"no row predicted positive ({positive}) in {n} labelled rows"
        else:
            out["precision"] = float(skm.precision_score(y, y_pred, **common))
        if tp + fn == 0:
            undefined["recall"] = f"no positive ({positive}) label in {n} labelled rows"
        else:
            out["recall"] = float(skm.recall_score(y, y_pred, **common))
        if 2 * tp + fp + fn == 0:
            undefined["f1"] = (f"no positive ({positive}) label and no positive prediction in "
                               f"{n} labelled rows")
        else:
            out["f1"] = float(skm.f1_score(y, y_pred, **common))
    else:
        for key, score in (("precision_macro", skm.precision_score),
                           ("recall_macro", skm.recall_score), ("f1_macro", skm.f1_score)):
            value = float(score(y, y_pred, labels=labels, average="macro", zero_division=np.nan))
            if math.isfinite(value):
                out[key] = value
            else:
                undefined[key] = f"undefined for every class in {n} labelled rows"
    auc_key = "roc_auc" if binary else "roc_auc_ovr"
    if proba is None:
        reason = "no probabilities for these rows (the model gives classes only)"
        undefined[auc_key] = reason
        undefined["log_loss"] = reason
        return out, undefined
    present = set(np.unique(y).tolist())
    if binary and len(present) < 2:
        only = json.dumps(classes[next(iter(present))], default=str)
        undefined[auc_key] = f"only one class ({only}) among {n} labelled rows; ROC AUC needs both"
    elif not binary and len(present) < k:
        missing = ", ".join(json.dumps(classes[c], default=str) for c in labels if c not in present)
        undefined[auc_key] = (f"class {missing} absent from {n} labelled rows; one-vs-rest "
                              "ROC AUC needs every class")
    elif binary:
        out[auc_key] = float(skm.roc_auc_score(y, proba[:, 1]))
    else:
        out[auc_key] = float(skm.roc_auc_score(y, proba, multi_class="ovr", average="macro",
                                               labels=labels))
    out["log_loss"] = float(skm.log_loss(y, proba, labels=labels))
    return out, undefined


def _regression(y: np.ndarray, y_pred: np.ndarray) -> tuple[dict[str, float | None], dict[str, str]]:
    from sklearn import metrics as skm

    keys = ["mae", "rmse", "r2", "mape", "mape_zero_targets_skipped"]
    out: dict[str, float | None] = dict.fromkeys(keys)
    n = len(y)
    if n == 0:
        reasons = dict.fromkeys(keys, "no labelled rows in the window")
        return out, reasons
    undefined: dict[str, str] = {}
    out["mae"] = float(skm.mean_absolute_error(y, y_pred))
    out["rmse"] = float(np.sqrt(skm.mean_squared_error(y, y_pred)))
    if n < 2:
        undefined["r2"] = f"{n} labelled row; R2 needs at least 2"
    elif np.all(y == y[0]):
        undefined["r2"] = f"every one of {n} labels is {y[0]:g}; R2 needs labels that vary"
    else:
        out["r2"] = float(skm.r2_score(y, y_pred))
    nonzero = y != 0
    skipped = int(n - np.count_nonzero(nonzero))
    out["mape_zero_targets_skipped"] = float(skipped)
    if skipped == n:
        undefined["mape"] = f"all {n} labels are 0; a percentage error of 0 is undefined"
    else:
        out["mape"] = float(skm.mean_absolute_percentage_error(y[nonzero], y_pred[nonzero]))
    return out, undefined


# -- windows ---------------------------------------------------------------------------


def coverage(labelled: int, predictions: int) -> float:
    """Labelled rows / predictions in the window (0.0 for a window without predictions)."""
    if labelled < 0 or predictions < 0:
        raise InvalidInput(f"counts must be >= 0, got labelled={labelled}, "
                           f"predictions={predictions}", field="labelled")
    if labelled > predictions:
        raise InvalidInput(f"{labelled} labelled rows in a window of {predictions} predictions; "
                           "a label belongs to a prediction of the same window", field="labelled")
    return labelled / predictions if predictions else 0.0


def thin_reason(labelled: int, predictions: int, *, min_labelled: int = MIN_LABELLED,
                min_coverage: float = MIN_COVERAGE) -> str | None:
    """Why a window's metrics rest on too little, or None when they do not."""
    share = coverage(labelled, predictions)
    if predictions == 0:
        return "no predictions in the window"
    if labelled < min_labelled:
        return f"{labelled} labelled rows of {predictions}, need {min_labelled}"
    if share < min_coverage:
        return (f"label coverage {share:.1%} ({labelled} of {predictions} predictions), "
                f"need {min_coverage:.0%}")
    return None


def window_performance(
    task: str,
    labels: Sequence[Any],
    predictions: Sequence[Any],
    *,
    n_predictions: int,
    probabilities: np.ndarray | None = None,
    classes: list[Any] | None = None,
    min_labelled: int = MIN_LABELLED,
    min_coverage: float = MIN_COVERAGE,
) -> WindowPerformance:
    """Realised metrics of a window's labelled rows with its label coverage.

    ``labels``/``predictions``/``probabilities`` are the labelled rows only;
    ``n_predictions`` counts every prediction of the window, labelled or not (unlabelled
    rows stay in the other checks; here they only set the coverage).
    """
    metrics, undefined = realised_metrics_with_reasons(
        task, labels, predictions, probabilities=probabilities, classes=classes
    )
    labelled = len(labels)
    share = coverage(labelled, n_predictions)
    why_thin = thin_reason(labelled, n_predictions, min_labelled=min_labelled,
                           min_coverage=min_coverage)
    reason = (f"thin: {why_thin}" if why_thin is not None else
              f"{labelled} labelled rows of {n_predictions} predictions "
              f"(coverage {share:.1%})")
    return WindowPerformance(metrics=metrics, undefined=undefined, labelled=labelled,
                             predictions=n_predictions, coverage=share,
                             thin=why_thin is not None, reason=reason)
