"""`drift`, `quality`, `performance`: the monitoring checks on a schedule, each storing its
report. A run checks the window that ends at its slot (a catch-up run of a missed slot
checks that slot's window, not the last hour again), or at the moment a run-now starts.

A check that finds drift or a failure is a run that succeeded: the job did its work, and
its report carries the verdict (the alerts read reports). A check that cannot run (no
reference profile, no such version) fails the run.
"""

from __future__ import annotations

from typing import Any

from scheduler.kinds.base import JobKindSpec, KindOption, Outcome, RunContext, RunFailed, resolve
from store.vocabulary import JobKind

WINDOW = KindOption("window", "the span of traffic each run checks, ending at its slot",
                    default="1h", example="1h")
VERSION = KindOption("version", "only this version's rows (default: every version against "
                                "production's reference)", example="3")


#: the check each kind runs (imported in the run's child only)
CHECKS: dict[str, str] = {JobKind.DRIFT: "monitoring.drift_check:run_drift",
          JobKind.QUALITY: "monitoring.quality_check:run_quality",
          JobKind.PERFORMANCE: "monitoring.performance_check:run_performance"}


def validate(args: dict[str, Any]) -> dict[str, Any]:
    from monitoring.windows import parse_duration

    parse_duration(args["window"])
    return args


def _check(ctx: RunContext, name: str) -> Outcome:
    from monitoring.windows import resolve_window
    from store.types import utcnow

    check = resolve(CHECKS[name])
    end = ctx.run.scheduled_for or utcnow()
    window = resolve_window(ctx.args["window"], until=end)
    if ctx.model is None:
        raise RunFailed(f"the {name} job {ctx.job.name!r} names no model (its model was removed?)")
    reports = check(ctx.store, ctx.model, window, version=ctx.args.get("version"),
                    actor=f"job:{ctx.job.name}")
    found = reports if isinstance(reports, list) else [reports]
    statuses = sorted({str(r["status"]) for r in found})
    rows = sum(int(r.get("rows") or r.get("predictions") or 0) for r in found)
    reason = "; ".join(str(r.get("reason") or "") for r in found if r.get("reason"))
    return Outcome(summary=f"{name} {'/'.join(statuses) or 'no report'} over {window.label}"
                           + (f": {reason}" if reason else ""),
                   rows=rows,
                   result={"reports": [r.get("id") for r in found], "statuses": statuses,
                           "window_start": window.start.isoformat(),
                           "window_end": window.end.isoformat()})


def run_drift(ctx: RunContext) -> Outcome:
    return _check(ctx, JobKind.DRIFT)


def run_quality(ctx: RunContext) -> Outcome:
    return _check(ctx, JobKind.QUALITY)


def run_performance(ctx: RunContext) -> Outcome:
    return _check(ctx, JobKind.PERFORMANCE)


def _spec(kind: str, help: str) -> JobKindSpec:
    return JobKindSpec(kind=kind, help=help, run=f"{__name__}:run_{kind}", needs_model=True,
                       options=(WINDOW, VERSION), validate=f"{__name__}:validate", timeout_s=600)


DRIFT = _spec(JobKind.DRIFT, "input and prediction drift of the last window, stored as a report")
QUALITY = _spec(JobKind.QUALITY, "data quality of the last window, stored as a report")
PERFORMANCE = _spec(JobKind.PERFORMANCE, "performance from late labels and its estimate, stored")
KINDS = (DRIFT, QUALITY, PERFORMANCE)
