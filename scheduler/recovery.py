"""What a starting daemon does about the time no daemon ran: the runs the previous one
left (abandoned, their processes killed, retried when the job says so) and the slots that
passed meanwhile (recorded as missed, and run by the job's catch-up policy).
"""

from __future__ import annotations

import logging
import os
import signal
from datetime import datetime

from sqlmodel import Session, select

from scheduler import catch_up, follow_up
from scheduler.schedule import slots_between
from store import audit, run_ledger
from store.job_tables import Job, JobRun
from store.rows import id_of
from store.run_life import process_alive
from store.scheduler_lease import Holder
from store.vocabulary import AuditAction, JobRunStatus, JobTrigger

log = logging.getLogger(__name__)

#: at most this many missed slots of one job are recorded one by one after downtime
CATCH_UP_MAX = 1000


def _kill_orphan(run: JobRun, host: str) -> bool:
    """Kill the process group of a run whose daemon is gone (a child outlives a SIGKILLed
    daemon: it is in its own session). Only a process that was there when the run started
    (a reused pid is left alone)."""
    if run.host != host or not run.pid or not process_alive(run.pid) or run.started_at is None:
        return False
    import psutil

    try:
        if psutil.Process(run.pid).create_time() > run.started_at.timestamp() + 5.0:
            return False
        os.killpg(run.pid, signal.SIGKILL)
    except (psutil.Error, ProcessLookupError, PermissionError):
        return False
    return True


def abandon_orphans(session: Session, *, host: str, daemon_pid: int) -> list[JobRun]:
    """Mark the previous daemon's running and queued slot runs abandoned (retrying them
    when their job has retries left). The caller holds the lease."""
    left = []
    for run in run_ledger.orphans(session, daemon_pid, host):
        who = f"pid {run.daemon_pid} on {run.host or host}"
        if run.status == JobRunStatus.RUNNING:
            killed = _kill_orphan(run, host)
            reason = (f"abandoned: the scheduler running it ({who}) stopped before it ended"
                      + ("; its process group was killed" if killed else ""))
        else:
            reason = f"abandoned: queued by the scheduler {who}, which stopped before starting it"
        run_ledger.abandon(session, run, reason)
        follow_up.after_finish(session, run)
        log.warning("run %s of %s %s", run.id, run.job_name, reason,
                    extra={"run_id": run.id, "job": run.job_name})
        left.append(run)
    return left


def down_since(previous: Holder | None) -> datetime | None:
    """When the store last had a daemon (its last heartbeat or clean stop)."""
    if previous is None:
        return None
    return max(t for t in (previous.heartbeat_at, previous.stopped_at) if t is not None)


def catch_up_all(session: Session, *, previous: Holder | None, now: datetime, daemon_pid: int,
                 actor: str) -> dict[str, catch_up.CatchUpPlan]:
    """Record and queue each scheduled job's slots in (its last slot, now] by its policy.
    No earlier daemon (a new store): nothing was missed."""
    since = down_since(previous)
    if since is None:
        return {}
    plans: dict[str, catch_up.CatchUpPlan] = {}
    for job in session.exec(select(Job).where(Job.paused == False)).all():  # noqa: E712
        if not (job.cron or job.every_s):
            continue
        last = run_ledger.last_slot(session, id_of(job))
        after = max(t for t in (last, since, job.updated_at) if t is not None)
        slots = slots_between(job, after, now, limit=CATCH_UP_MAX)
        if not slots:
            continue
        plan = catch_up.plan(job.catch_up, slots, job.catch_up_limit)
        note = plan.note + (" (at least: only the newest were recorded)"
                            if len(slots) >= CATCH_UP_MAX else "")
        run_ledger.record_missed(session, job, plan.missed, trigger=JobTrigger.CATCH_UP,
                                 note=f"{note}; catch-up {job.catch_up}")
        for slot in plan.run:
            run_ledger.queue_slot(session, job, trigger=JobTrigger.CATCH_UP, scheduled_for=slot,
                                  daemon_pid=daemon_pid, note=note)
        audit.record(session, actor=actor, action=AuditAction.SCHEDULER_CATCH_UP,
                     target=f"job/{job.name}", after={
                         "policy": job.catch_up, "missed": len(slots), "ran": len(plan.run),
                         "first": slots[0].isoformat(), "last": slots[-1].isoformat(),
                         "note": note})
        log.info("job %s: %s", job.name, note, extra={"job": job.name})
        plans[job.name] = plan
    return plans
