"""Output: stdout carries data only (a table on a terminal, one JSON document with
--json); errors and progress go to stderr as one line `wk: error: ...`.

Imported when the parser is built (the noun modules use it): json and datetime are
imported where they are used, so `wk --help` does not load them."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any


def emit_json(value: Any) -> None:
    import json

    sys.stdout.write(json.dumps(value, indent=2, sort_keys=False, default=_default) + "\n")


def _default(value: Any) -> Any:
    from datetime import datetime

    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def error(message: str) -> None:
    sys.stderr.write(f"wk: error: {message}\n")


def info(message: str) -> None:
    sys.stderr.write(f"wk: {message}\n")


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}={fmt(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple):
        return ", ".join(fmt(v) for v in value) or "-"
    return str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], empty: str = "(none)") -> None:
    cells = [[fmt(c) for c in row] for row in rows]
    if not cells:
        sys.stdout.write(empty + "\n")
        return
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True))
    sys.stdout.write(line.rstrip() + "\n")
    for row in cells:
        sys.stdout.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


def fields(pairs: Iterable[tuple[str, Any]]) -> None:
    items = [(k, fmt(v)) for k, v in pairs]
    width = max((len(k) for k, _ in items), default=0)
    for key, value in items:
        sys.stdout.write(f"{key.ljust(width)}  {value}\n")


def section(title: str) -> None:
    sys.stdout.write(f"\n{title}\n")
