"""reliability.md SCH-10: daily crontab jobs across daylight-saving changes fire exactly
once per local day, and walking the slots never hangs. The slots are the triggers' own
(scheduler/schedule.py, the same APScheduler triggers the daemon's timetable runs), walked
over spring-forward and fall-back in Europe/Berlin and America/New_York."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.schedule import slots_between
from scheduler.wall_clock_cron import WallClockCron
from store.job_tables import Job

# (zone, a spring-forward day, a fall-back day) of 2026
CHANGES = [("Europe/Berlin", "2026-03-29", "2026-10-25"),
           ("America/New_York", "2026-03-08", "2026-11-01")]


def _days(zone: str, cron: str, around: str) -> Counter[str]:
    """Slots per local day over the 7 whole local days around `around` (the change in
    the middle)."""
    job = Job(name="nightly", kind="command", cron=cron, timezone=zone)
    tz = ZoneInfo(zone)
    middle = datetime.fromisoformat(around).replace(tzinfo=tz)
    second = timedelta(seconds=1)
    slots = slots_between(job, (middle - timedelta(days=3)).astimezone(UTC) - second,
                          (middle + timedelta(days=4)).astimezone(UTC) - second)
    return Counter(s.astimezone(tz).date().isoformat() for s in slots)


@pytest.mark.parametrize(("zone", "spring", "fall"), CHANGES)
@pytest.mark.parametrize("cron", ["30 2 * * *", "0 3 * * *", "59 1 * * *", "0 0 * * *"])
def test_a_daily_job_fires_once_each_local_day_across_both_changes(zone: str, spring: str,
                                                                   fall: str, cron: str) -> None:
    """02:30 does not exist on the spring-forward day and happens twice on the fall-back
    day; either way the job runs once that day, and once on every other."""
    for change in (spring, fall):
        per_day = _days(zone, cron, change)
        assert len(per_day) == 7, (change, per_day)
        assert set(per_day.values()) == {1}, (change, per_day)


@pytest.mark.parametrize(("zone", "spring", "fall"), CHANGES)
def test_an_hourly_job_follows_the_wall_clock(zone: str, spring: str, fall: str) -> None:
    """Hourly slots are one real hour apart through both changes: 23 on the short day,
    25 on the long one, 24 on the others (no duplicate instant, no gap of two hours)."""
    for change, hours in ((spring, 23), (fall, 25)):
        per_day = _days(zone, "0 * * * *", change)
        assert per_day[change] == hours, (change, per_day)
        assert [n for day, n in per_day.items() if day != change] == [24] * 6
    job = Job(name="hourly", kind="command", cron="0 * * * *", timezone=zone)
    start = datetime.fromisoformat(fall).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    slots = slots_between(job, start - timedelta(days=1), start + timedelta(days=1))
    gaps = {b - a for a, b in zip(slots, slots[1:], strict=False)}
    assert gaps == {timedelta(hours=1)}


def _walk(cron: str, zone: str, start: datetime, count: int) -> list[datetime]:
    trigger = WallClockCron(cron, zone)
    out: list[datetime] = []
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and len(out) < count:
        out.append(moment)
        moment = trigger.get_next_fire_time(moment, moment)
    return out


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"])
def test_a_quarter_hourly_job_never_repeats_or_jumps_through_a_fall_back(zone: str) -> None:
    """Every 15 minutes of real time through the repeated hour (Lord Howe's is half an
    hour): the earliest next instant, even where a later wall time is an earlier instant."""
    day = {"Europe/Berlin": "2026-10-25", "America/New_York": "2026-11-01",
           "Australia/Lord_Howe": "2026-04-05"}[zone]
    start = datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    slots = _walk("*/15 * * * *", zone, start, 200)
    assert {b - a for a, b in zip(slots, slots[1:], strict=False)} == {timedelta(minutes=15)}


def test_a_job_at_fixed_hours_runs_its_minutes_once_on_both_change_days() -> None:
    """`*/15 2 * * *` in Berlin: four runs on each change day, the skipped hour's shifted
    an hour on, the repeated hour's in its first pass only."""
    tz = ZoneInfo("Europe/Berlin")
    for day in ("2026-03-29", "2026-10-25"):
        start = datetime.fromisoformat(day).replace(tzinfo=tz).astimezone(UTC)
        slots = [s for s in _walk("*/15 2 * * *", "Europe/Berlin", start, 8)
                 if s.astimezone(tz).date().isoformat() == day]
        assert len(slots) == 4, (day, slots)
        assert slots == sorted(set(slots))


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe"])
def test_away_from_a_change_it_agrees_with_apschedulers_own_trigger(zone: str) -> None:
    """The same slots as APScheduler's CronTrigger wherever no clock change is near."""
    import random

    from apscheduler.triggers.cron import CronTrigger

    rng = random.Random(13)
    lines = ["0 3 * * *", "*/5 * * * *", "15 */2 * * 1-5", "0 0 1 * *", "30 8,20 * * 0",
             "7 * 10-20 6 *", "0 12 * * 6"]
    for line in lines:
        start = datetime(2026, 6, 10, tzinfo=UTC) + timedelta(minutes=rng.randrange(20_000))
        theirs = CronTrigger.from_crontab(line, timezone=ZoneInfo(zone))
        expected: list[datetime] = []
        moment = theirs.get_next_fire_time(None, start)
        while moment is not None and len(expected) < 20:
            expected.append(moment.astimezone(UTC))
            moment = theirs.get_next_fire_time(moment, moment)
        ours = _walk(line, zone, start, 20)
        tz = ZoneInfo(zone)
        offset = start.astimezone(tz).utcoffset()
        steady = next((i for i, m in enumerate(expected) if m.astimezone(tz).utcoffset() != offset),
                      len(expected))  # up to the first change (monthly lines reach one)
        assert steady >= 2 and ours[:steady] == expected[:steady], line
