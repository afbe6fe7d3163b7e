"""`alerts`: one evaluation pass over the enabled alert rules (monitoring/alert_pass.py):
each target's verdict and damping, alert changes, and their notifications queued in the
outbox in the same transaction. Schedule it as often as the checks should be looked at
(`wk jobs add checks-alerts --kind alerts --every 30s`); a sender delivers the outbox."""

from __future__ import annotations

from scheduler.kinds.base import JobKindSpec, KindOption, Outcome, RunContext
from store.vocabulary import JobKind


def run(ctx: RunContext) -> Outcome:
    from monitoring.alert_pass import evaluate

    summary = evaluate(ctx.store, rule=ctx.args.get("rule"))
    result = summary.as_dict()
    result["at"] = summary.at.isoformat()
    result["transitions"] = {str(k): n for k, n in summary.transitions.items()}
    return Outcome(summary=summary.line(), rows=summary.targets, result=result)


KIND = JobKindSpec(
    kind=JobKind.ALERTS,
    help="evaluate the alert rules once and queue their notifications",
    run=f"{__name__}:run",
    timeout_s=300,
    options=(KindOption("rule", "only this rule (default: every enabled rule)",
                        example="credit-drift"),),
)
