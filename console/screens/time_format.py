"""Times for people: local time, and ages relative to the app's clock."""

from __future__ import annotations

from datetime import datetime


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def local(value: str | None) -> str:
    when = parse_iso(value)
    return when.astimezone().strftime("%Y-%m-%d %H:%M") if when else "-"


def age(value: str | None, now: datetime) -> str:
    when = parse_iso(value)
    if when is None:
        return "-"
    seconds = max(0, int((now - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def local_seconds(value: str | None, *, date: bool = False) -> str:
    """Local time to the second: "11-21 08:59:58" (the year too with `date`)."""
    when = parse_iso(value)
    if when is None:
        return "-"
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S" if date else "%m-%d %H:%M:%S")
