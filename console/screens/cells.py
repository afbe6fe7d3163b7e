"""How a single value reads in a detail view: floats to 4 places, missing as "-"."""

from __future__ import annotations

from typing import Any


def cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "-" if value is None else str(value)


def percent(fraction: float | None) -> str:
    """0.1 -> 10%, 0.125 -> 12.5%."""
    if fraction is None:
        return "-"
    whole = round(fraction * 100, 1)
    return f"{whole:.0f}%" if whole == int(whole) else f"{whole:.1f}%"


def per_minute(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def millis(value: float | None) -> str:
    """A latency in ms: one decimal under 10 ms, whole milliseconds above."""
    if value is None:
        return "-"
    return f"{value:.1f}" if round(value, 1) < 10 else f"{value:.0f}"


def error_rate(rate: float, requests: int) -> str:
    return f"{rate:.1%}" if requests else "-"
