"""When a job runs: a crontab line or a fixed interval, turned into an APScheduler 3
trigger, and the policy numbers the daemon sets on purpose instead of APScheduler's
defaults (misfire grace 1 s, which drops a run late by more than a second).

Pure: no database, no daemon.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from store.errors import InvalidInput

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger

    from store.job_tables import Job

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EVERY = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
EVERY_EXAMPLE = "1h"
CRON_EXAMPLE = "'0 3 * * *'"


def parse_every(text: str) -> int:
    """'1h' -> 3600. Units s, m, h, d; at least one second."""
    match = _EVERY.match(text)
    if not match or int(match.group(1)) <= 0:
        raise InvalidInput(f"an interval is a count and a unit (s, m, h, d: 30s, 15m, 1h, 2d), not {text!r}", field="every",
                           example=EVERY_EXAMPLE)
    return int(match.group(1)) * _UNITS[match.group(2)]


def format_every(seconds: int) -> str:
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def check_timezone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"no time zone {name!r}", field="timezone",
                           example="Europe/Berlin") from None
    return name


def cron_trigger(expr: str, timezone: str = "UTC") -> BaseTrigger:
    """The line matched against the zone's wall clock (scheduler/wall_clock_cron.py: once a
    day across daylight saving changes, where APScheduler's CronTrigger can skip a day or
    run twice)."""
    from scheduler.wall_clock_cron import WallClockCron

    try:
        return WallClockCron(expr, check_timezone(timezone))
    except ValueError as exc:
        raise InvalidInput(f"{expr!r} is not a crontab line (minute hour day month weekday): {exc}", field="cron",
                           example=CRON_EXAMPLE) from None


def trigger_for(job: Job) -> BaseTrigger | None:
    """The job's trigger; None for a job that only runs after another one."""
    from apscheduler.triggers.interval import IntervalTrigger

    if job.cron:
        return cron_trigger(job.cron, job.timezone)
    if job.every_s:
        # anchored at the job's creation, so the slots are the same after a restart
        return IntervalTrigger(seconds=job.every_s, start_date=job.created_at,
                               timezone=check_timezone(job.timezone))
    return None


def period_s(job: Job, now: datetime) -> float | None:
    """The time between two slots of the job (the next two after `now`)."""
    trigger = trigger_for(job)
    if trigger is None:
        return None
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first) if first else None
    if first is None or second is None:
        return None
    return (second - first).total_seconds()


def misfire_grace_s(job: Job, now: datetime) -> int:
    """How late a slot may start and still run (beyond it, it is recorded as missed):
    the job's own setting, else half its period, between 1 second and 1 hour. A slot
    late by less than this (the executor was busy, the machine was suspended for a moment)
    still runs; later than this it would collide with the next slot anyway."""
    if job.misfire_grace_s is not None:
        return max(1, job.misfire_grace_s)
    period = period_s(job, now)
    if period is None:
        return 3600
    return int(min(3600.0, max(1.0, period / 2)))


def slots_between(job: Job, after: datetime, until: datetime, limit: int = 10_000) -> list[datetime]:
    """The job's slots in (after, until], oldest first, at most `limit` (the newest kept)."""
    trigger = trigger_for(job)
    if trigger is None:
        return []
    slots: list[datetime] = []
    previous: datetime | None = None
    moment = trigger.get_next_fire_time(None, after)
    while moment is not None and moment <= until:
        if moment > after:
            slots.append(moment)
            if len(slots) > limit:
                slots.pop(0)
        previous = moment
        moment = trigger.get_next_fire_time(previous, moment)
        # no hang on a trigger that does not move; compared in UTC, since two times of one
        # zone compare by their wall clocks (a fall-back's 02:30 twice would look equal)
        if moment is not None and moment.astimezone(UTC) <= previous.astimezone(UTC):
            break
    return slots
