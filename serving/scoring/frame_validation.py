"""Checking a chunk of rows (a DataFrame) against a signature, column by column (pure).

The vectorised twin of serving/validation.py for batch scoring: the same rules (type,
nulls, training range and unseen categories per the version's policy), with every bad
row named by its index and the problem. Returns the cleaned columns for the good rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from serving.scoring.validation import REJECT, Schema


def _text_to_float(raw: pd.Series) -> pd.Series:
    """Text (a CSV column) as floats, NaN where a value is not a number. Arrow's cast is
    ten times faster than pandas's to_numeric and agrees with it wherever it succeeds;
    it refuses the whole column for one value it cannot read (' 1.5', '1e'), and then
    to_numeric reads the column value by value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        cast = pc.cast(pa.array(raw, from_pandas=True), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, TypeError):
        return pd.to_numeric(raw, errors="coerce").astype(float)
    return pd.Series(cast.to_numpy(zero_copy_only=False), index=raw.index)


def check_frame(frame: pd.DataFrame, schema: Schema) -> tuple[pd.DataFrame, dict[int, list[tuple[str | None, str]]]]:
    """(clean feature frame of all rows, {row position: [(field, problem), ...]}) where
    the clean frame has the signature's columns, coerced (numbers as float), and the
    problems list every row that must be quarantined."""
    n = len(frame)
    problems: dict[int, list[tuple[str | None, str]]] = {}

    def flag(mask: np.ndarray, field: str, problem: str) -> None:
        for pos in np.flatnonzero(mask):
            problems.setdefault(int(pos), []).append((field, problem))

    clean: dict[str, Any] = {}
    for col in schema.columns:
        if col.name not in frame.columns:
            raise KeyError(col.name)
        raw = frame[col.name]
        missing = raw.isna().to_numpy()
        if col.kind == "numeric":
            if pd.api.types.is_bool_dtype(raw):
                numbers = pd.Series(np.full(n, np.nan), index=raw.index)
                flag(~missing, col.name, "expected a number, got true/false")
            elif pd.api.types.is_numeric_dtype(raw):
                numbers = raw.astype(float)
            else:
                numbers = _text_to_float(raw)
            values = numbers.to_numpy(dtype=float)
            not_number = ~missing & np.isnan(values)
            flag(not_number, col.name, "expected a number")
            flag(np.isinf(values), col.name, "is not a finite number")
            if not col.nullable:
                flag(missing, col.name, "is empty, but the training data had no missing values here")
            if schema.out_of_range == REJECT and (col.low is not None or col.high is not None):
                with np.errstate(invalid="ignore"):
                    outside = np.zeros(n, dtype=bool)
                    if col.low is not None:
                        outside |= values < col.low
                    if col.high is not None:
                        outside |= values > col.high
                flag(outside & np.isfinite(values), col.name,
                     f"is outside the training range [{col.low:g}, {col.high:g}]")
            clean[col.name] = values
        elif col.kind == "boolean":
            mapped = raw.map({True: True, False: False, "true": True, "false": False,
                              "True": True, "False": False, "1": True, "0": False})
            bad = ~missing & mapped.isna().to_numpy()
            flag(bad, col.name, "expected true or false")
            if not col.nullable:
                flag(missing, col.name, "is empty, but the training data had no missing values here")
            clean[col.name] = mapped.astype(float).to_numpy()
        elif col.kind in ("categorical", "datetime"):
            text = raw.astype(object).where(~raw.isna(), None)
            as_str = text.map(lambda v: v if v is None or isinstance(v, str) else str(v))
            if not col.nullable:
                flag(missing, col.name, "is empty, but the training data had no missing values here")
            if col.kind == "categorical" and col.categories is not None and schema.unknown_category == REJECT:
                unknown = ~missing & ~as_str.isin(col.categories).to_numpy()
                flag(unknown, col.name, "is not a category seen in training")
            clean[col.name] = as_str.to_numpy(dtype=object)
        else:
            clean[col.name] = raw.to_numpy()
    return pd.DataFrame(clean, index=frame.index), problems
