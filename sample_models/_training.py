"""Helpers shared by the sample training entry points."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd


def check_params(
    params: Mapping[str, Any], defaults: Mapping[str, Any], *, where: str
) -> dict[str, Any]:
    """Defaults overlaid with ``params``; unknown names or non-scalar values raise ValueError."""
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(
            f"unknown parameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))} for {where}; "
            f"allowed: {', '.join(sorted(defaults))}"
        )
    merged = dict(defaults)
    for name, value in params.items():
        expected = type(defaults[name])
        ok = isinstance(value, expected) or (expected is float and isinstance(value, int))
        if isinstance(value, bool) and expected is not bool:
            ok = False
        if not ok:
            raise ValueError(
                f"parameter {name!r} for {where} must be {expected.__name__}, "
                f"got {type(value).__name__} {value!r}"
            )
        merged[name] = value
    return merged


def split_columns(X: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Numeric and categorical column names, chosen by dtype (bool counts as categorical).

    Refuses columns that are entirely null: a model cannot learn from them, and it
    usually means an upstream column broke inside the training window.
    """
    if len(X) == 0:
        raise ValueError("X has no rows to train on")
    empty = [str(c) for c in X.columns if X[c].isna().all()]
    if empty:
        raise ValueError(
            f"training column{'s' if len(empty) > 1 else ''} {', '.join(map(repr, empty))} "
            f"{'are' if len(empty) > 1 else 'is'} entirely null; fix the data source or "
            "leave the feature out of the spec"
        )
    numeric = [
        str(c)
        for c in X.columns
        if pd.api.types.is_numeric_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c])
    ]
    categorical = [str(c) for c in X.columns if str(c) not in numeric]
    if not numeric and not categorical:
        raise ValueError("X has no columns to train on")
    return numeric, categorical
