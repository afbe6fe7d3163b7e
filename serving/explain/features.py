"""Which input feature each transformed column of a fitted scikit-learn pipeline comes
from, and whether the model is linear on those columns (no database, no loading).

A linear model's contributions are computed per transformed column and summed back to
the input feature that column was made from: a one-hot column to its categorical, a
scaled or imputed column to itself. Only transformations that keep that link readable
are accepted: a ColumnTransformer (its slices), width-preserving steps (scalers,
imputers: names out equal names in), encoders whose output names start with their input
feature's name (OneHotEncoder), or any step of a single input column. Anything else (a
PCA, polynomial features) has no per-feature reading, and the model is explained by
Shapley values over its inputs instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class LinearModel:
    """A pipeline whose last step is linear on the columns its preprocessing makes."""

    preprocess: Any | None  # a fitted transformer (None: the model takes the inputs as they are)
    final: Any
    coef: np.ndarray
    intercept: float
    owners: list[str]  # per transformed column, its input feature
    space: str  # log-odds (a binary classifier's decision value) | value (a regression)

    def transform(self, frame: Any) -> np.ndarray:
        z = frame if self.preprocess is None else self.preprocess.transform(frame)
        if hasattr(z, "toarray"):  # a sparse matrix (one-hot columns)
            z = z.toarray()
        return np.asarray(z, dtype=float)


def _names(step: Any, width: int) -> tuple[list[str], list[str]] | None:
    """(the step's input names as it was fitted, its output names), or None when it
    cannot name its outputs. A step fitted on an array names its inputs x0, x1, ..."""
    names_in = [str(n) for n in getattr(step, "feature_names_in_", [f"x{i}" for i in range(width)])]
    try:
        names_out = [str(n) for n in step.get_feature_names_out()]
    except Exception:  # a step that cannot name its outputs
        return None
    return (names_in, names_out) if len(names_in) == width else None


def owners_through(step: Any, owners: list[str]) -> list[str] | None:
    """The input feature behind each output column of `step`, given those of its input
    columns; None when the link cannot be read."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if step is None or (isinstance(step, str) and step == "passthrough"):
        return list(owners)
    if isinstance(step, str) and step == "drop":
        return []
    if isinstance(step, Pipeline):
        current: list[str] | None = list(owners)
        for _name, sub in step.steps:
            if current is None:
                return None
            current = owners_through(sub, current)
        return current
    if isinstance(step, ColumnTransformer):
        return _column_transformer_owners(step, owners)
    named = _names(step, len(owners))
    if named is None:
        return None
    names_in, names_out = named
    if len(set(owners)) == 1:  # one input feature: everything made from it is its own
        return [owners[0]] * len(names_out)
    if names_out == names_in:  # width-preserving, column by column (scalers, imputers)
        return list(owners)
    by_name = dict(zip(names_in, owners, strict=True))
    mapped = []
    for name in names_out:  # encoders name an output "<input>_<category>"
        match = [n for n in names_in if name.startswith(n + "_")]
        if not match:
            return None
        mapped.append(by_name[max(match, key=len)])
    return mapped


def _column_transformer_owners(ct: Any, owners: list[str]) -> list[str] | None:
    names_in = [str(n) for n in getattr(ct, "feature_names_in_", [])]
    position = {n: i for i, n in enumerate(names_in)}
    width = max((s.stop for s in ct.output_indices_.values()), default=0)
    result: list[str | None] = [None] * width
    for name, trans, cols in ct.transformers_:
        piece = ct.output_indices_.get(name)
        if piece is None or piece.stop == piece.start:
            continue
        chosen = _selected(cols, names_in, position)
        if chosen is None:
            return None
        sub = owners_through(trans, [owners[i] for i in chosen])
        if sub is None or len(sub) != piece.stop - piece.start:
            return None
        result[piece] = sub
    if any(r is None for r in result):
        return None
    return [str(r) for r in result]


def _selected(cols: Any, names_in: list[str], position: dict[str, int]) -> list[int] | None:
    """The input positions a ColumnTransformer entry takes (names, indices or a mask)."""
    values = list(cols) if not isinstance(cols, str | int | slice) else [cols]
    if isinstance(cols, slice):
        return list(range(len(names_in)))[cols]
    if values and all(isinstance(v, bool | np.bool_) for v in values):
        return [i for i, v in enumerate(values) if v]
    out = []
    for v in values:
        if isinstance(v, str):
            if v not in position:
                return None
            out.append(position[v])
        elif isinstance(v, int | np.integer):
            out.append(int(v))
        else:
            return None
    return out


def linear_model(estimator: Any, features: list[str]) -> LinearModel | None:
    """The linear reading of `estimator` over `features`, or None when it has none (not
    linear at the end, a multi-class or multi-output model, an unreadable transform)."""
    from sklearn.pipeline import Pipeline

    final, preprocess = estimator, None
    if isinstance(estimator, Pipeline):
        final = estimator.steps[-1][1]
        preprocess = estimator[:-1] if len(estimator.steps) > 1 else None
    coef = getattr(final, "coef_", None)
    intercept = getattr(final, "intercept_", None)
    if coef is None or intercept is None:
        return None
    coef = np.asarray(coef, dtype=float)
    classes = getattr(final, "classes_", None)
    if classes is not None:
        if len(classes) != 2 or coef.shape[0] != 1 or not hasattr(final, "decision_function"):
            return None
        space = "log-odds"
    else:
        if coef.ndim == 2 and coef.shape[0] != 1:
            return None
        space = "value"
    b = np.asarray(intercept, dtype=float).ravel()
    if b.size != 1:
        return None
    owners = owners_through(preprocess, list(features)) if preprocess is not None else list(features)
    if owners is None or len(owners) != coef.size:
        return None
    return LinearModel(preprocess, final, coef.ravel(), float(b[0]), owners, space)
