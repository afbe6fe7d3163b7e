"""Helpers every command handler uses (imported when the parser is built: keep it light)."""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING

from store.errors import InvalidInput, UsageError

#: The most a file or stdin given to a command that reads it whole (predict, feedback) may
#: hold: such a command keeps it in memory; larger inputs are a batch run's (wk score).
MAX_INPUT_BYTES = 64 << 20

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from store.handle import Store


def store_from(args: argparse.Namespace) -> Store:
    from store.handle import open_store
    from store.schema import HEAD_REVISION

    store = open_store(args.store)
    if store.upgraded_from:
        sys.stderr.write(f"wk: upgraded the store at {store.location.describe()} from schema "
                         f"{store.upgraded_from} to {HEAD_REVISION}\n")
        say_first_admin(store, store.upgraded_from)
    return store


def say_first_admin(store: Store, upgraded_from: str | None) -> None:
    """Users and roles came with schema 0009: say who the upgrade made admin."""
    if upgraded_from is None or upgraded_from >= "0009":
        return
    from store.users import list_users

    admins = [u["name"] for u in list_users(store) if u["role"] == "admin"]
    sys.stderr.write(f"wk: this store now has users and roles: {', '.join(admins)} (the store's "
                     "owner) is its admin; see 'wk users list', add others with "
                     "'wk users add NAME --role ROLE'\n")


def confirm(question: str, assume_yes: bool) -> bool:
    """Ask on a terminal; refuse without --yes when nobody can answer."""
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(f"{question.rstrip('?')}: not on a terminal, so add --yes to confirm")
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in {"y", "yes"}


_SPAN = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_span(value: str, option: str) -> timedelta:
    """A length of time written as 30m, 12h, 7d or 1w."""
    from datetime import timedelta

    match = _SPAN.match(value.strip())
    if not match or int(match.group(1)) == 0:
        raise UsageError(f"{option} {value!r} is not a length of time; use a span such as 30m, 12h, 7d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_time(value: str | None, option: str, now: datetime | None = None) -> datetime | None:
    """An ISO time (UTC if no zone is given) or a span back from `now` (30m, 12h, 7d)."""
    from datetime import UTC, datetime, timedelta

    if not value:
        return None
    match = _SPAN.match(value.strip())
    if match:
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(
            f"{option} {value!r} is not a time; use ISO (2026-11-23 or 2026-11-23T08:00) "
            "or a span such as 30m, 12h, 7d"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def read_input(file: str, what: str, limit: int | None = None) -> str:
    """The text of `file` ('-' is stdin), refused past `limit` (MAX_INPUT_BYTES) bytes
    before it is all read."""
    limit = limit or MAX_INPUT_BYTES
    from pathlib import Path

    from store.errors import NotFound

    if file == "-":
        data = sys.stdin.buffer.read(limit + 1)
    else:
        path = Path(file)
        if not path.is_file():
            raise NotFound(f"{what} {file} does not exist; check the path")
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"{what} {file} is larger than {limit:,} bytes, the most read at once; "
                           "score a larger input as a batch run (wk score), or split it",
                           field="file")
    return data.decode("utf-8")
