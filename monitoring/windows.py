"""Check windows (pure): `--window 24h` ending now, or `--from/--to`, validated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from store.errors import UsageError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
DEFAULT_WINDOW = "24h"


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} .. {self.end:%Y-%m-%d %H:%M} UTC"


def parse_duration(text: str, field: str = "window") -> timedelta:
    match = _DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise UsageError(f"--{field} {text!r} is not a duration; use a number and a unit "
                         "(s, m, h, d, w)", field=field, example="24h")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def parse_time(text: str, field: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--{field} {text!r} is not a time; use ISO 8601", field=field,
                         example="2026-12-01T00:00") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def resolve_window(window: str | None = None, since: str | datetime | None = None,
                   until: str | datetime | None = None, *, now: datetime | None = None) -> Window:
    """The window a check reads: [since, until) when given, else the last `window`
    (24h) ending at `until` or now."""
    end = _time(until, "to") if until is not None else (now or datetime.now(UTC))
    if since is not None:
        if window is not None:
            raise UsageError("give --window or --from/--to, not both", field="window", example="24h")
        start = _time(since, "from")
    else:
        start = end - parse_duration(window or DEFAULT_WINDOW)
    if start >= end:
        raise UsageError(f"the window starts at {start:%Y-%m-%d %H:%M} UTC, not before its end "
                         f"{end:%Y-%m-%d %H:%M} UTC; swap --from and --to", field="from")
    return Window(start, end)


def _time(value: str | datetime, field: str) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return parse_time(value, field)
