"""A crontab line matched against the wall clock of its time zone, safe across daylight
saving changes (reliability.md SCH-10).

APScheduler 3's CronTrigger does its field arithmetic on zone-aware datetimes: after a
spring-forward it can skip a whole day (a job at 00:00 in Europe/Berlin does not run on
the Monday after the change, agronholm/apscheduler#606 and #529), and a job at a fixed
time in the repeated hour of a fall-back runs twice. Here the same crontab fields walk
*wall times* in a zone without changes (UTC, where a day is always 24 hours), and each
wall time is then turned into the instants it names in the job's zone, as cron does:

- an ordinary wall time is one instant;
- a wall time the clock skipped (02:30 on a spring-forward night) is, for a job at fixed
  hours, the instant it would have been without the change (03:30 summer time: the job
  runs once that day, an hour late); for a job whose hour is `*` or a step it does not
  exist (an hourly job has 23 slots that day);
- a wall time that happens twice (02:30 on a fall-back night) is, for a job at fixed hours,
  its first occurrence only; for an hourly-type job both (25 slots, an hour apart).

Instants are returned in UTC, so comparisons never fall into Python's same-zone rule that
compares wall times and ignores `fold`. Pure: no database, no scheduler.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

TICK = timedelta(microseconds=1)
#: more than any zone's offset changes by at once (2 h at most in the tz database)
SETTLE = timedelta(hours=3)
#: wall times looked at for one answer before giving up (a crontab line that matches no
#: instant at all, like 30 2 on a day the clock skips, is never more than a few in a row)
MAX_WALL_STEPS = 1000


def fixed_hours(expr: str) -> bool:
    """Whether the line names its hours (3, 1-5, 2,14) rather than `*` or a step (`*/2`)."""
    fields = expr.split()
    hour = fields[1] if len(fields) > 1 else "*"
    return "*" not in hour and "/" not in hour


def instants(wall: datetime, zone: tzinfo, fixed: bool) -> list[datetime]:
    """The UTC instants a naive wall time names in `zone`, by the rules above."""
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return [first.astimezone(UTC)]
    exists = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall
    if not exists:  # skipped by a spring-forward: fold=0 reads it with the offset before
        return [first.astimezone(UTC)] if fixed else []
    both = sorted({first.astimezone(UTC), second.astimezone(UTC)})
    return both[:1] if fixed else both


class WallClockCron(BaseTrigger):
    """A crontab line in a time zone; see the module doc."""

    __slots__ = ("expr", "fixed", "walls", "zone")

    def __init__(self, expr: str, timezone: str) -> None:
        self.expr = expr
        self.zone = ZoneInfo(timezone)
        self.fixed = fixed_hours(expr)
        self.walls = CronTrigger.from_crontab(expr, timezone=UTC)  # ValueError if not a line

    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime | None:
        # APScheduler's contract (CronTrigger's own): the first instant at or after `now`,
        # and after the previous fire time when there is one
        start = now.astimezone(UTC)
        if previous_fire_time is not None:
            start = min(start, previous_fire_time.astimezone(UTC) + TICK)
            if start <= previous_fire_time.astimezone(UTC):
                start = previous_fire_time.astimezone(UTC) + TICK
        return self._first_at_or_after(start)

    def _offset(self, instant: datetime) -> timedelta:
        return instant.astimezone(self.zone).utcoffset() or timedelta(0)

    def _first_at_or_after(self, start: datetime) -> datetime | None:
        """The earliest instant >= `start`. Away from a change, wall order is instant
        order and the first match is the answer; within hours of one (the only place a
        later wall time can be an earlier instant) the walls up to SETTLE past the first
        match are looked at too, and the earliest instant wins."""
        near = (start - SETTLE, start, start + SETTLE)
        steady = len({self._offset(t) for t in near}) == 1
        # in the second pass of a repeated hour the wall clock reads earlier than it did:
        # start from the wall time the smallest offset nearby gives
        wall_from = (start + min(self._offset(t) for t in near)).replace(tzinfo=UTC)
        wall = self.walls.get_next_fire_time(None, wall_from)
        best: datetime | None = None
        best_wall = datetime.min
        for _ in range(MAX_WALL_STEPS):
            if wall is None:
                break
            naive = wall.replace(tzinfo=None)
            if best is not None and naive > best_wall + SETTLE:
                break
            later = [i for i in instants(naive, self.zone, self.fixed) if i >= start]
            if later and (best is None or later[0] < best):
                best, best_wall = later[0], naive
                if steady:
                    break
            wall = self.walls.get_next_fire_time(wall, wall + TICK)
        return best

    def __str__(self) -> str:
        return f"cron[{self.expr!r}, {self.zone.key}, wall clock]"

    def __repr__(self) -> str:
        return f"<WallClockCron ({self.expr!r}, timezone={self.zone.key!r})>"
