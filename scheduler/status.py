"""The scheduler daemon as the CLI and the console show it: who holds the store's lease,
how old its heartbeat is, its timetable, what runs, and its last warning (a WAL past its
bound)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import func, select

from store import run_ledger, scheduler_lease
from store.job_tables import Job
from store.types import utcnow

if TYPE_CHECKING:
    from store.handle import Store


def daemon_status(store: Store) -> dict[str, Any]:
    """`alive`: a holder with a fresh heartbeat (within scheduler_lease.STALE_S)."""
    now = utcnow()
    with store.db.read() as session:
        holder = scheduler_lease.read(session)
        jobs = session.exec(select(func.count()).select_from(Job)).one()
        paused = session.exec(select(func.count()).select_from(Job).where(
            Job.paused == True)).one()  # noqa: E712
        running = [{"run": r.id, "job": r.job_name, "pid": r.pid,
                    "started_at": r.started_at} for r in run_ledger.running_runs(session)]
    out: dict[str, Any] = {
        "alive": bool(holder and holder.alive(now)), "jobs": jobs, "paused": paused,
        "running": running, "stale_after_s": scheduler_lease.STALE_S,
    }
    if holder is None:
        out.update(holder=None, state="no scheduler has run on this store")
        return out
    age = holder.heartbeat_age_s(now)
    state = ("stopped" if holder.stopped_at else "running" if holder.alive(now)
             else f"not responding (heartbeat {age:.0f} s ago)")
    out.update(state=state, holder={"host": holder.host, "pid": holder.pid, "user": holder.user,
                                    "since": holder.started_at},
               heartbeat_at=holder.heartbeat_at, heartbeat_age_s=round(age, 1),
               stopped_at=holder.stopped_at, timetable_jobs=holder.jobs,
               wal_bytes=holder.wal_bytes, note=holder.note)
    return out
