"""`prune`: delete logged predictions and refused rows (quarantine) older than `days`,
in short batches so the server keeps logging, keeping the rollups and the reports
(store/prune.py says what goes and what stays), then reclaim the space:

- `incremental` (the default): on a store with auto_vacuum=INCREMENTAL (every store
  `wk store vacuum` has been run on) the free pages go back to the file system a few
  thousand at a time; on one without, the freed pages stay in the file and are reused by
  new rows (the file stops growing, it does not shrink): the run says how many.
- `full`: VACUUM (needs no other writer: see store/vacuum.py).
- `none`: leave the free pages.
Either way the WAL is checkpointed (TRUNCATE) afterwards."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from scheduler.kinds.base import JobKindSpec, KindOption, Outcome, RunContext
from store.errors import InvalidInput
from store.vocabulary import JobKind

VACUUM_CHOICES = ("incremental", "full", "none")


def validate(args: dict[str, Any]) -> dict[str, Any]:
    if args["days"] < 1:
        raise InvalidInput(f"the prune's days must be 1 or more, not {args['days']}",
                           field="days", example="90")
    vacuum = str(args["vacuum"]).lower()
    if vacuum not in VACUUM_CHOICES:
        raise InvalidInput(f"the prune's vacuum must be one of {', '.join(VACUUM_CHOICES)}, not "
                           f"{args['vacuum']!r}", field="vacuum", example="incremental")
    return {**args, "vacuum": vacuum}


def run(ctx: RunContext) -> Outcome:
    from store import audit
    from store.access import authorize
    from store.prune import job_run_cutoff, prune_before
    from store.roles import Permission
    from store.types import utcnow
    from store.vocabulary import AuditAction

    actor = authorize(ctx.store, f"job:{ctx.job.name}", Permission.RETENTION)
    now = utcnow()
    cutoff = now - timedelta(days=ctx.args["days"])
    pruned = prune_before(ctx.store, cutoff, now=now, heartbeat=ctx.heartbeat)
    ctx.log.info("deleted %s in %d batches in %.1f s", pruned["deleted"], pruned["batches"],
                 pruned["seconds"])
    logs = _prune_run_logs(ctx, job_run_cutoff(cutoff, now))
    space = _reclaim(ctx, ctx.args["vacuum"])
    with ctx.store.db.write() as session:
        audit.record(session, actor=actor, action=AuditAction.STORE_PRUNE,
                     target="store", reason=f"job {ctx.job.name}: older than {ctx.args['days']} days",
                     after={"deleted": pruned["deleted"], "cutoff": pruned["cutoff"],
                            "vacuum": ctx.args["vacuum"], "space": _short(space)})
    d = pruned["deleted"]
    summary = (f"deleted {d['prediction']} predictions, {d['quarantine']} quarantined rows, "
               f"{d['probe_result']} probe answers, {d['job_run']} job runs ({logs} run logs) "
               f"older than {ctx.args['days']} days; {space.get('note', '')}").rstrip("; ")
    return Outcome(summary=summary, rows=pruned["rows"],
                   result={**pruned, "run_logs": logs, "space": space})


def _prune_run_logs(ctx: RunContext, before: datetime) -> int:
    """Delete the run log files last written before `before` (the runs they belong to go
    at the same age): a probe every 30 s writes 2,880 of them a day."""
    from scheduler.runner import logs_dir

    folder, removed, limit = logs_dir(ctx.store), 0, before.timestamp()
    if not folder.is_dir():
        return 0
    for path in folder.glob("*.log"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    ctx.log.info("deleted %d run logs older than %s", removed, before.isoformat())
    return removed


def _reclaim(ctx: RunContext, mode: str) -> dict[str, Any]:
    if not ctx.store.db.is_sqlite:
        return {"note": "PostgreSQL reclaims the space itself (autovacuum)"}
    from store.vacuum import incremental_vacuum, vacuum
    from store.wal import checkpoint_wal, wal_status

    if mode == "full":
        done = vacuum(ctx.store)
        return {**done, "note": f"VACUUM freed {done['freed_bytes'] / 2**20:.1f} MB"}
    if mode == "incremental":
        done = incremental_vacuum(ctx.store)
        if done["reclaimed"]:
            freed = done["before_bytes"] - done["after_bytes"]
            return {**done, "note": f"incremental vacuum freed {freed / 2**20:.1f} MB"}
    checkpoint = checkpoint_wal(ctx.store, "TRUNCATE")
    status = wal_status(ctx.store)
    return {"reclaimed": False, "free_pages": status["free_pages"],
            "free_bytes": status["free_bytes"], "checkpoint": checkpoint,
            "auto_vacuum": status["auto_vacuum"],
            "note": f"{status['free_bytes'] / 2**20:.1f} MB of free pages kept for new rows "
                    "(the store has no incremental auto-vacuum: one full vacuum of the store "
                    "turns it on, or use vacuum=full)" if mode != "none" else
                    f"{status['free_bytes'] / 2**20:.1f} MB of free pages kept (vacuum=none)"}


def _short(space: dict[str, Any]) -> dict[str, Any]:
    keys = ("reclaimed", "free_pages", "before_bytes", "after_bytes", "freed_bytes", "auto_vacuum")
    return {k: space[k] for k in keys if k in space}


KIND = JobKindSpec(
    kind=JobKind.PRUNE,
    help="delete logged predictions and quarantined rows older than N days (rollups and "
         "reports kept), then reclaim the space",
    run=f"{__name__}:run",
    validate=f"{__name__}:validate",
    options=(
        KindOption("days", "delete rows older than this many days", type=int, required=True,
                   example="90"),
        KindOption("vacuum", "reclaim the space: incremental, full (VACUUM: needs no other "
                   "writer) or none", default="incremental", example="incremental"),
    ),
)
