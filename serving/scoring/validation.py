"""Checking input rows against a version's signature (pure).

The signature (registry/signature.py) lists each input column with its kind and what the
training data allowed. A row is accepted only with exactly those fields, each of the
right type; a value outside the training range or an unseen category is rejected where
the version's input policy says so. Every problem names the row and the field. Messages
never repeat a string the client sent (reliability.md SRV-05: no echo of raw input);
numbers, already parsed and finite, are shown.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from registry.signature import DEFAULT_POLICY, POLICY_CHOICES, check_policy

ACCEPT, REJECT = "accept", "reject"
__all__ = ["DEFAULT_POLICY", "POLICY_CHOICES", "Schema", "check_policy"]
MAX_STRING = 1000
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.\- ]{1,64}")  # field names shown back as sent  # longer strings are refused before any lookup
_SHOWN_NAMES = 12


class RowError(NamedTuple):
    row: int
    field: str | None
    problem: str

    def text(self) -> str:
        where = f"row {self.row}" + (f", field {self.field!r}" if self.field else "")
        return f"{where}: {self.problem}"


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN_NAMES])
    return shown + (f" and {len(names) - _SHOWN_NAMES} more" if len(names) > _SHOWN_NAMES else "")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # numeric | boolean | categorical | datetime | unknown
    nullable: bool = False
    low: float | None = None
    high: float | None = None
    categories: frozenset[str] | None = None  # None: not known (or truncated)


@dataclass
class Schema:
    columns: tuple[Column, ...]
    out_of_range: str = ACCEPT
    unknown_category: str = REJECT
    names: tuple[str, ...] = field(init=False)
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.names = tuple(c.name for c in self.columns)
        self._index = {n: i for i, n in enumerate(self.names)}

    @property
    def all_numeric(self) -> bool:
        return all(c.kind in ("numeric", "boolean") for c in self.columns)

    @classmethod
    def from_signature(cls, signature: dict[str, Any] | None) -> Schema:
        columns = []
        for c in (signature or {}).get("columns", []):
            cats = c.get("categories")
            known = frozenset(str(v) for v in cats) if cats and not c.get("categories_truncated") else None
            columns.append(Column(
                name=str(c["name"]), kind=str(c.get("kind") or "unknown"),
                nullable=bool(c.get("nullable", False)),
                low=c.get("min") if isinstance(c.get("min"), int | float) else None,
                high=c.get("max") if isinstance(c.get("max"), int | float) else None,
                categories=known,
            ))
        policy = {**DEFAULT_POLICY, **((signature or {}).get("policy") or {})}
        return cls(tuple(columns), out_of_range=policy["out_of_range"],
                   unknown_category=policy["unknown_category"])

    def drop_unknown(self, rows: list[Any]) -> tuple[list[Any], tuple[str, ...]]:
        """The rows without the fields the model does not take (MLflow's way), and the
        names dropped; rows that are not objects are left for check_row to refuse."""
        dropped: dict[str, None] = {}
        out: list[Any] = []
        for row in rows:
            if isinstance(row, dict) and any(k not in self._index for k in row):
                for k in row:
                    if k not in self._index:
                        dropped[k] = None
                row = {k: v for k, v in row.items() if k in self._index}
            out.append(row)
        return out, tuple(dropped)

    def check_row(self, row: Any, index: int) -> tuple[list[Any] | None, list[RowError]]:
        """The row's values in column order, or the problems that refuse it."""
        if not isinstance(row, dict):
            kind = "a list" if isinstance(row, list) else type(row).__name__
            return None, [RowError(index, None, f"is {kind}; send an object with the fields "
                                                f"{_names(list(self.names))}")]
        errors: list[RowError] = []
        if len(row) != len(self.names) or any(k not in self._index for k in row):
            unknown = [k for k in row if k not in self._index]
            for name in unknown[:_SHOWN_NAMES]:
                shown = name if _SAFE_NAME.fullmatch(name) else "(a field name with unusual characters)"
                errors.append(RowError(index, shown, f"unknown field; the model takes "
                                                      f"{_names(list(self.names))}"))
        values: list[Any] = []
        for col in self.columns:
            if col.name not in row:
                errors.append(RowError(index, col.name, f"missing field ({col.kind}); the model "
                                                         f"takes {_names(list(self.names))}"))
                values.append(None)
                continue
            value, problem = self._check_value(col, row[col.name])
            if problem:
                errors.append(RowError(index, col.name, problem))
            values.append(value)
        return (None, errors) if errors else (values, [])

    def _check_value(self, col: Column, value: Any) -> tuple[Any, str | None]:
        if value is None:
            if col.nullable or col.kind == "unknown":
                return (math.nan if col.kind in ("numeric", "boolean") else None), None
            return None, "is null, but the training data had no missing values here; send a value"
        kind = col.kind
        if kind == "numeric":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None, f"expected a number, got {_json_type(value)}"
            if not math.isfinite(value):
                return None, "is not a finite number (NaN and Infinity are refused)"
            if self.out_of_range == REJECT and (
                (col.low is not None and value < col.low) or (col.high is not None and value > col.high)
            ):
                return None, (f"{_number(value)} is outside the training range "
                              f"[{_number(col.low)}, {_number(col.high)}] and this version "
                              "rejects values outside it")
            if abs(value) > 1e300:
                return None, f"{_number(value)} is too large to score"
            return value, None
        if kind == "boolean":
            if isinstance(value, bool) or value in (0, 1):
                return bool(value), None
            return None, f"expected true or false, got {_json_type(value)}"
        if kind in ("categorical", "datetime"):
            if not isinstance(value, str):
                return None, f"expected a string, got {_json_type(value)}"
            if len(value) > MAX_STRING:
                return None, f"is a string of {len(value)} characters (at most {MAX_STRING})"
            if (kind == "categorical" and col.categories is not None
                    and self.unknown_category == REJECT and value not in col.categories):
                return None, (f"is not a category seen in training (known: "
                              f"{_names(sorted(col.categories))}); this version rejects "
                              "unknown categories")
            return value, None
        # unknown kind (a model registered without training data): any JSON scalar
        if isinstance(value, dict | list):
            return None, f"expected a single value, got {_json_type(value)}"
        if isinstance(value, str) and len(value) > MAX_STRING:
            return None, f"is a string of {len(value)} characters (at most {MAX_STRING})"
        if isinstance(value, float) and not math.isfinite(value):
            return None, "is not a finite number (NaN and Infinity are refused)"
        return value, None


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
