"""How a single value reads in a detail view: floats to 4 places, missing as "-"."""

from __future__ import annotations

import json
from collections.abc import Mapping
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


def output_text(outputs: Any) -> str:
    """One prediction's answer in a few characters: the class and its probability, or the value."""
    if not isinstance(outputs, dict):
        return "-" if outputs is None else str(outputs)
    if "class" in outputs:
        probabilities = outputs.get("probabilities") or {}
        p = probabilities.get(str(outputs["class"]))
        return f"{outputs['class']} ({p:.2f})" if isinstance(p, float) else str(outputs["class"])
    if "value" in outputs:
        value = outputs["value"]
        return f"{value:.4g}" if isinstance(value, float) else str(value)
    return json.dumps(outputs)[:30]


def owner_text(found: Mapping[str, Any] | None) -> str:
    """A model's owner and team ("ana/risk"), "-" when unknown or not recorded."""
    if not found or not found.get("owner"):
        return "-"
    return f"{found['owner']}/{found['team']}" if found.get("team") else found["owner"]
