"""What a prediction returns (pure): a class and its probabilities, or a value, plus the
one number the rollup summarises (the score): the positive-class probability for two
classes, the top probability for more, the value for a regression."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def class_label(value: Any) -> Any:
    """A class as JSON gives it back: numpy ints and floats unwrapped."""
    if isinstance(value, np.generic):
        value = value.item()
    return value


def format_classification(classes: list[Any], proba: np.ndarray) -> tuple[list[dict[str, Any] | None], list[float | None]]:
    """Per row {"class", "probabilities"} and the score; None where an output is not finite."""
    keys = [str(c) for c in classes]
    top = proba.argmax(axis=1)
    finite = np.isfinite(proba).all(axis=1)
    binary = len(classes) == 2
    outputs: list[dict[str, Any] | None] = []
    scores: list[float | None] = []
    rows = proba.tolist()
    for i, row in enumerate(rows):
        if not finite[i]:
            outputs.append(None)
            scores.append(None)
            continue
        outputs.append({"class": classes[int(top[i])], "probabilities": dict(zip(keys, row, strict=True))})
        scores.append(row[1] if binary else row[int(top[i])])
    return outputs, scores


def format_classes_only(labels: np.ndarray) -> tuple[list[dict[str, Any] | None], list[float | None]]:
    """A classifier without predict_proba: the class only, no score."""
    return [{"class": class_label(v)} for v in labels.tolist()], [None] * len(labels)


def format_regression(values: np.ndarray) -> tuple[list[dict[str, Any] | None], list[float | None]]:
    outputs: list[dict[str, Any] | None] = []
    scores: list[float | None] = []
    for v in np.asarray(values, dtype=float).ravel().tolist():
        if math.isfinite(v):
            outputs.append({"value": v})
            scores.append(v)
        else:
            outputs.append(None)
            scores.append(None)
    return outputs, scores


def mlflow_value(output: dict[str, Any]) -> Any:
    """The value MLflow's pyfunc scoring server would return for the row: the class
    (what scikit-learn's predict gives) or the regression value."""
    return output["class"] if "class" in output else output["value"]
