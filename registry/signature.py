"""Input signatures inferred from training data, and their differences (pure).

A signature lists each input column with its dtype and kind, and what training data
allowed: the numeric range, the categories, whether nulls occurred. Serving validates
requests against it; drift checks compare against it.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

MAX_CATEGORIES = 200

#: What serving does with a value outside the training range or an unseen category; a
#: version carries its choice in signature["policy"] (from the spec's [serve] table).
POLICY_CHOICES = {"out_of_range": ("accept", "reject"), "unknown_category": ("accept", "reject")}
DEFAULT_POLICY = {"out_of_range": "accept", "unknown_category": "reject"}


def check_policy(policy: dict[str, Any]) -> str | None:
    """What is wrong with an input policy, or None."""
    for key, value in policy.items():
        if key not in POLICY_CHOICES:
            return f"unknown input policy {key!r}; known: {', '.join(POLICY_CHOICES)}"
        if value not in POLICY_CHOICES[key]:
            return f"input policy {key} = {value!r}; use {' or '.join(POLICY_CHOICES[key])}"
    return None


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    return "categorical"


def _scalar(value: Any) -> Any:
    """A JSON-safe Python scalar (numpy types unwrapped, NaN and NaT as None)."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def infer_signature(frame: pd.DataFrame, policy: dict[str, str] | None = None) -> dict[str, Any]:
    columns = []
    for name in frame.columns:
        series = frame[name]
        kind = _kind(series)
        entry: dict[str, Any] = {
            "name": str(name),
            "dtype": str(series.dtype),
            "kind": kind,
            "nullable": bool(series.isna().any()),
        }
        if kind == "numeric":
            entry["min"] = _scalar(series.min())
            entry["max"] = _scalar(series.max())
        elif kind == "categorical":
            values = sorted({str(v) for v in series.dropna().unique()})
            entry["categories"] = values[:MAX_CATEGORIES]
            entry["categories_truncated"] = len(values) > MAX_CATEGORIES
        columns.append(entry)
    out: dict[str, Any] = {"columns": columns}
    if policy:
        out["policy"] = {**DEFAULT_POLICY, **policy}
    return out


def input_example(frame: pd.DataFrame, rows: int = 5) -> list[dict[str, Any]]:
    """A few rows as JSON-safe records, the way a client would send them."""
    head = frame.head(rows)
    return [{str(k): _scalar(v) for k, v in record.items()} for record in head.to_dict("records")]


def compare_signatures(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[dict[str, Any]]:
    """What changed from `old` to `new`: columns added or removed, dtype, range, categories."""
    old_cols = {c["name"]: c for c in (old or {}).get("columns", [])}
    new_cols = {c["name"]: c for c in (new or {}).get("columns", [])}
    changes: list[dict[str, Any]] = []
    for name in old_cols.keys() - new_cols.keys():
        changes.append({"column": name, "change": "removed"})
    for name in new_cols.keys() - old_cols.keys():
        changes.append({"column": name, "change": "added", "dtype": new_cols[name]["dtype"]})
    for name in old_cols.keys() & new_cols.keys():
        a, b = old_cols[name], new_cols[name]
        if a.get("dtype") != b.get("dtype"):
            changes.append({"column": name, "change": "dtype", "from": a.get("dtype"), "to": b.get("dtype")})
        if (a.get("min"), a.get("max")) != (b.get("min"), b.get("max")) and "min" in a and "min" in b:
            changes.append(
                {"column": name, "change": "range", "from": [a["min"], a["max"]], "to": [b["min"], b["max"]]}
            )
        cats_a, cats_b = set(a.get("categories") or []), set(b.get("categories") or [])
        if cats_a != cats_b:
            changes.append(
                {
                    "column": name,
                    "change": "categories",
                    "added": sorted(cats_b - cats_a),
                    "removed": sorted(cats_a - cats_b),
                }
            )
    return sorted(changes, key=lambda c: (c["column"], c["change"]))
