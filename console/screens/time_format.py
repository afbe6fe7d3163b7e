"""Times for people: local time, and ages relative to the app's clock."""

from __future__ import annotations

from datetime import datetime


def parse_iso(value: str | datetime | None) -> datetime | None:
    """An ISO time (as registry views give) or an aware datetime (as scheduler views give)."""
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def local(value: str | datetime | None) -> str:
    when = parse_iso(value)
    return when.astimezone().strftime("%Y-%m-%d %H:%M") if when else "-"


def age(value: str | datetime | None, now: datetime) -> str:
    when = parse_iso(value)
    if when is None:
        return "-"
    return span(max(0, int((now - when).total_seconds())))


def span(seconds: float) -> str:
    """A length of time in its largest unit: 45s, 12m, 3h, 2d."""
    whole = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole >= size:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def relative(value: str | datetime | None, now: datetime) -> str:
    """"in 12m" for a time to come, "3h ago" for one gone ("now" within a second)."""
    when = parse_iso(value)
    if when is None:
        return "-"
    seconds = (when - now).total_seconds()
    if abs(seconds) < 1:
        return "now"
    return f"in {span(seconds)}" if seconds > 0 else f"{span(-seconds)} ago"


def local_seconds(value: str | datetime | None, *, date: bool = False) -> str:
    """Local time to the second: "11-21 08:59:58" (the year too with `date`)."""
    when = parse_iso(value)
    if when is None:
        return "-"
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S" if date else "%m-%d %H:%M:%S")
