"""APScheduler's in-memory job list, kept equal to the `job` table.

APScheduler 3 runs with a MemoryJobStore only: it never touches the database and never
pickles a callable. The daemon re-reads the job table every second and `sync` adds,
replaces (a moved Job.revision), pauses (removes) and removes APScheduler jobs, so an edit
through the CLI or console takes effect within about a second (reliability.md SCH-02).

What a user gets, set on purpose instead of APScheduler's defaults:
- misfire_grace_time from scheduler.schedule.misfire_grace_s(job) (half the period, 1 s to
  1 h, or the job's own), not 1 s: a slot late by less (a busy machine) still runs; a later
  one is recorded as a `missed` run, never dropped silently (EVENT_JOB_MISSED's case);
- coalescing: slots piled up while the process was stalled run once (the newest, if it is
  within its grace); the older ones are recorded as `missed` ("coalesced"). APScheduler's
  own coalesce=True would drop them without a trace, so it is off and SlotExecutor does it;
- overlap: a slot is handed over at once (the executor below never waits for a run), so
  APScheduler's max_instances never skips one; a slot whose previous run is still running
  is recorded as a `skipped` run by the ledger (the one-running-run index).
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.base import BaseExecutor

from scheduler.schedule import misfire_grace_s, trigger_for
from store.errors import WatchkeeperError
from store.job_tables import Job
from store.rows import id_of

log = logging.getLogger(__name__)
EXECUTOR = "slots"


@dataclass(frozen=True)
class Slot:
    """A job's slot that came: to run, or `missed` (later than its grace)."""

    job_id: int
    at: datetime
    missed: bool
    late_s: float
    grace_s: float | None
    coalesced: bool = False  # missed because a newer slot of the job came at the same time


class SlotExecutor(BaseExecutor):
    """Hands each due slot to the daemon's main loop on a queue; runs nothing itself. The
    misfire check is APScheduler's own (executors/base.py run_job), made here."""

    def __init__(self, slots: queue.Queue[Slot]) -> None:
        super().__init__()
        self.slots = slots

    def submit_job(self, job: Any, run_times: list[datetime]) -> None:
        self._do_submit_job(job, run_times)

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        now = datetime.now(UTC)
        grace = job.misfire_grace_time
        ordered = sorted(run_times)
        for at in ordered[:-1]:
            self.slots.put(Slot(int(job.id), at, True, (now - at).total_seconds(), grace, True))
        at = ordered[-1]
        late = (now - at).total_seconds()
        self.slots.put(Slot(int(job.id), at, grace is not None and late > grace, late, grace))


def _never_called(job_id: int) -> None:
    """APScheduler wants a callable per job; SlotExecutor never calls it."""
    raise AssertionError(f"job {job_id}: slots go to the daemon's queue")


class Timetable:
    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler
        self.revisions: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.revisions)

    def sync(self, jobs: Iterable[Job], *, now: datetime, since: datetime | None = None) -> list[str]:
        """Make APScheduler's jobs match `jobs`; returns what changed, for the log. `since`:
        a job seen for the first time gets its first slot after this moment (the daemon's
        catch-up covered the slots up to it), else after now."""
        wanted: dict[int, Job] = {}
        for job in jobs:
            if not job.paused and (job.cron or job.every_s):
                wanted[id_of(job)] = job
        changes = []
        for job_id in [j for j in self.revisions if j not in wanted]:
            self.scheduler.remove_job(str(job_id))
            del self.revisions[job_id]
            changes.append(f"job {job_id} off the timetable (paused, removed or after-only)")
        for job_id, job in wanted.items():
            if self.revisions.get(job_id) == job.revision:
                continue
            try:
                self._put(job, now, since if job_id not in self.revisions else None)
            except WatchkeeperError as exc:  # a schedule that no longer parses: said, skipped
                log.error("job %s cannot be scheduled: %s", job.name, exc.message,
                          extra={"job": job.name})
                continue
            changes.append(f"job {job.name} {'updated' if job_id in self.revisions else 'added'}"
                           f" (revision {job.revision})")
            self.revisions[job_id] = job.revision
        return changes

    def _put(self, job: Job, now: datetime, since: datetime | None) -> None:
        trigger = trigger_for(job)
        options: dict[str, Any] = {}
        if since is not None and trigger is not None:
            options["next_run_time"] = trigger.get_next_fire_time(None, since)
        self.scheduler.add_job(
            _never_called, trigger=trigger, args=[id_of(job)], id=str(id_of(job)), name=job.name,
            executor=EXECUTOR, misfire_grace_time=misfire_grace_s(job, now), coalesce=False,
            max_instances=1, replace_existing=True, **options)
