"""Names and paths: the one rule for what may be called a name (models, channels, jobs,
alert rules, tokens), destinations checked before anything is written, and model names
read straight from the SQLite file for shell completion.

A name may become part of a path (the approval reports live under reports/approvals/NAME),
a URL segment or a command-line argument, so it is refused with the precise reason when
it holds a NUL or control character, a path separator, '..', or starts with '-' (it would
read as an option), and otherwise must be 1-100 letters, digits, '.', '_' or '-' starting
with a letter or digit.

Completion runs on every Tab press, so this reads with the standard library's sqlite3
in read-only mode: no SQLAlchemy, no migrations, no writes, a short busy timeout, and an
empty answer (never an error) when the store is missing, locked or not SQLite."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

from store.errors import InvalidInput, Refused
from store.location import StoreLocation

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_NAME = 100


def name_problem(value: object, *, max_len: int = MAX_NAME) -> str:
    """Why `value` is not a safe name ("" when it is one)."""
    if not isinstance(value, str) or value == "":
        return "is empty" if value == "" or value is None else "is not text"
    if "\x00" in value:
        return "contains a NUL byte"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "contains a control character (a newline, a tab ...)"
    if "/" in value or "\\" in value:
        return "contains a path separator ('/' or '\\')"
    if ".." in value:
        return "contains '..'"
    if value.startswith("-"):
        return "starts with '-' (it would read as an option)"
    if len(value) > max_len:
        return f"is longer than {max_len} characters"
    if not NAME.fullmatch(value):
        return "has characters other than letters, digits, '.', '_' or '-', or does not start with a letter or digit"
    return ""


def check_name(value: object, *, what: str, field: str = "name", example: str = "churn-v2",
               max_len: int = MAX_NAME) -> str:
    """`value` when it is a safe name; InvalidInput naming `what` and the reason otherwise."""
    problem = name_problem(value, max_len=max_len)
    if problem:
        raise InvalidInput(f"{what} {value!r} is not allowed: it {problem}; use 1-{max_len} "
                           "letters, digits, '.', '_' or '-', starting with a letter or digit",
                           field=field, example=example)
    assert isinstance(value, str)
    return value


def join_inside(root: Path, *parts: str) -> Path:
    """`root / parts...` checked to stay inside `root` once resolved (a name that passed
    check_name always does; this also refuses a symbolic link planted along the way)."""
    for part in parts:
        check_name(part, what="path part")
    path = root.joinpath(*parts)
    if not path.resolve().is_relative_to(root.resolve()):
        raise Refused(f"{path} resolves outside {root}; it was not used")
    return path


def check_destination(path: str | os.PathLike[str], *, what: str, field: str,
                      store_root: Path | None = None) -> Path:
    """A file or folder to write to, as an absolute path: refused with the reason when it
    holds a NUL or control character, or lies inside the store folder (an export or
    backup written there could replace the database or a model file)."""
    text = os.fspath(path)
    if not text or "\x00" in text or any(ord(c) < 32 for c in text):
        raise InvalidInput(f"the {what} {text!r} is not a usable path (empty, or holding a NUL "
                           "or control character)", field=field, example="/var/backups/wk")
    target = Path(text).expanduser().absolute()
    if store_root is not None:
        root = store_root.resolve()
        resolved = target.resolve()
        if resolved == root or resolved.is_relative_to(root):
            raise Refused(f"the {what} {target} is inside the store folder {root}; writing there "
                          "could replace the store's own files: choose a path outside it",
                          field=field, example=f"{root.parent / 'wk-out'}")
    return target


def model_names(location: StoreLocation, prefix: str = "") -> list[str]:
    """The registered model names starting with `prefix`, sorted; [] if unreadable."""
    if not location.is_sqlite_file or not location.db_path.is_file():
        return []
    try:
        conn = sqlite3.connect(f"{location.db_path.as_uri()}?mode=ro", uri=True, timeout=0.5)
    except sqlite3.Error:
        return []
    try:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = conn.execute("SELECT name FROM registered_model WHERE name LIKE ? ESCAPE '\\' "
                            "ORDER BY name", (escaped + "%",)).fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()
    return [name for (name,) in rows if name.startswith(prefix)]
