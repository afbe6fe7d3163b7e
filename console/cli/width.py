"""The width CLI tables fit: the terminal's on a terminal, none (every value in full) when
stdout is piped or with --wide.

On a terminal the width is `shutil.get_terminal_size`'s, which honours `COLUMNS`. Off a
terminal the output stays as scripts have always read it, unless `COLUMNS` is set in the
environment (`COLUMNS=100 wk audit | less`): a width given on purpose is a width to fit.
`main` sets --wide for the command it runs (`use_full_width`)."""

from __future__ import annotations

import os
import sys

from console.cli.tables import ELLIPSIS

_full = False


def use_full_width(full: bool) -> None:
    """--wide: every value in full, whatever the terminal."""
    global _full
    _full = full


def current() -> int | None:
    """The width to fit tables to, None for every value in full."""
    if _full:
        return None
    given = _columns_env()
    if given is None and not _is_terminal():
        return None
    if given is None:
        import shutil

        given = shutil.get_terminal_size().columns
    return given


def _columns_env() -> int | None:
    try:
        value = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return None
    return value if value > 0 else None


def is_terminal() -> bool:
    """stdout is a terminal (a person reads it): charts are drawn only then."""
    return _is_terminal()


def terminal_columns() -> int:
    """The terminal's width (COLUMNS when set), whatever --wide says."""
    import shutil

    return _columns_env() or shutil.get_terminal_size().columns


def _is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed stdout
        return False


def ellipsis() -> str:
    """… where stdout can encode it, else three dots."""
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        ELLIPSIS.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return "..."
    return ELLIPSIS
