"""Output: stdout carries data only (a table on a terminal, one JSON document with
--json); errors and progress go to stderr as one line `wk: error: ...`.

Tables and fields fit the width `console.cli.width` gives (the terminal's on a terminal,
every value in full when piped or with --wide); `--json` is never cut.

Imported when the parser is built (the noun modules use it): json and datetime are
imported where they are used, so `wk --help` does not load them."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

from console.cli import width as out_width
from console.cli.tables import Column, render


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


def table(headers: Sequence[str | Column], rows: Iterable[Sequence[Any]], empty: str = "(none)") -> None:
    """The rows under upper-case headers, fitted to the output width (`console.cli.tables`);
    a plain header is a column cut like a name."""
    cells = [[fmt(c) for c in row] for row in rows]
    if not cells:
        sys.stdout.write(empty + "\n")
        return
    for line in render(headers, cells, out_width.current(), out_width.ellipsis()):
        sys.stdout.write(line + "\n")


def fields(pairs: Iterable[tuple[str, Any]]) -> None:
    """`key  value` lines, keys aligned; a value longer than the output width wraps under
    itself at spaces (a long word such as a path or a hash stays whole)."""
    items = [(k, fmt(v)) for k, v in pairs]
    width = max((len(k) for k, _ in items), default=0)
    limit = out_width.current()
    for key, value in items:
        head = f"{key.ljust(width)}  "
        if limit is None or len(head) + len(value) <= limit:
            sys.stdout.write(f"{head}{value}\n")
            continue
        import textwrap

        lines = textwrap.wrap(value, max(limit - len(head), 20), break_long_words=False,
                              break_on_hyphens=False) or [""]
        sys.stdout.write(head + lines[0] + "\n")
        for more in lines[1:]:
            sys.stdout.write(" " * len(head) + more + "\n")


def section(title: str) -> None:
    sys.stdout.write(f"\n{title}\n")
