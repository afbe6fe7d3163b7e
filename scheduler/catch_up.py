"""The catch-up policy after downtime, as a pure function: which of the slots a job
missed while no daemon ran are recorded as missed and which run.

- skip: every slot is recorded as missed, none runs;
- latest: the newest slot runs (one catch-up run however long the daemon was down:
  APScheduler's coalesce=True applied to the downtime), the others are recorded as missed;
- all: the oldest Job.catch_up_limit slots run, oldest first (a backlog replayed in order),
  the rest are recorded as missed.

The note on the runs and the audit event says it in one line: "missed 3 while down, ran 1".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from store.vocabulary import CatchUp


@dataclass(frozen=True)
class CatchUpPlan:
    missed: tuple[datetime, ...]  # recorded as `missed`
    run: tuple[datetime, ...]  # queued as catch-up runs, oldest first

    @property
    def note(self) -> str:
        total = len(self.missed) + len(self.run)
        return f"missed {total} while down, ran {len(self.run)}" if total else ""


def plan(policy: str, slots: Sequence[datetime], limit: int = 1) -> CatchUpPlan:
    """Split `slots` (any order) by the policy; an unknown policy runs none (as skip)."""
    ordered = tuple(sorted(slots))
    if not ordered:
        return CatchUpPlan((), ())
    if policy == CatchUp.LATEST:
        return CatchUpPlan(ordered[:-1], ordered[-1:])
    if policy == CatchUp.ALL:
        count = max(0, limit)
        return CatchUpPlan(ordered[count:], ordered[:count])
    return CatchUpPlan(ordered, ())
