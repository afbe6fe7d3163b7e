"""How a single value reads in a detail view: floats to 4 places, missing as "-"."""

from __future__ import annotations

from typing import Any


def cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "-" if value is None else str(value)
