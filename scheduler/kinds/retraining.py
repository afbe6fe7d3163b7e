"""The retrain the retrain, expiry and on-commit kinds share: train the spec (its gate and
[expectations] included), fail the run when the gate refuses, else apply the model's
promotion policy (registry.promotion): `staging` moves the staging alias, `manual` writes
the approval report and a pending approval request, `auto` puts the version on a canary
share watched by scheduler.canary. Imported only in a run's child."""

from __future__ import annotations

from typing import Any

from registry.approvals import request_approval
from registry.expectations import ExpectationsFailed
from registry.promotion import effective_policy, promote_to_staging
from registry.spec import load_spec
from registry.training import TrainingFailed, train
from scheduler.kinds.base import Outcome, RunContext, RunFailed
from store import models as model_store
from store.errors import InvalidInput, WatchkeeperError
from store.vocabulary import PromotionPolicy


def job_actor(ctx: RunContext) -> str:
    """Who the audit log names for what a scheduled job does."""
    return f"job:{ctx.job.name}"


def apply_policy(ctx: RunContext, model: str, version: int, training_run_id: int) -> dict[str, Any]:
    """The model's promotion policy applied to a version whose gate passed."""
    from scheduler.approval_report import write_report

    actor = job_actor(ctx)
    with ctx.store.db.read() as session:
        policy = effective_policy(model_store.get_model(session, model))
    if policy == PromotionPolicy.STAGING:
        move = promote_to_staging(ctx.store, model, version, actor=actor,
                                  reason=f"retrain job {ctx.job.id} passed its gate")
        return {"policy": str(policy), "staging": move.as_dict(),
                "text": f"v{version} is now staging ({move.change()})"}
    if policy == PromotionPolicy.AUTO:
        from scheduler.canary import start_canary

        watch = start_canary(ctx.store, model, version, actor=actor, job_run_id=ctx.run.id,
                             reason=f"retrain job {ctx.job.id} passed its gate")
        return {"policy": str(policy), "canary": watch,
                "text": f"v{version} is on a {watch['share']:.0%} canary beside "
                        f"v{watch['champion']} until {watch['ends_at']} (production then, "
                        "unless an alert fires on it)"}
    paths: dict[str, Any] = {"report_md": "", "report_html": ""}
    summary: dict[str, Any]
    try:
        md, page, summary = write_report(ctx.store, model, version)
        paths = {"report_md": str(md), "report_html": str(page)}
    except WatchkeeperError as exc:  # the request still waits; the report says why it is missing
        ctx.log.error("the approval report of %s v%s could not be written: %s", model, version,
                      exc.message)
        summary = {"report_error": exc.message}
    request = request_approval(ctx.store, model, version, summary=summary,
                               training_run_id=training_run_id, job_run_id=ctx.run.id,
                               actor=actor, **paths)
    return {"policy": str(policy), "approval": request["id"], **paths,
            "text": f"v{version} waits for approval (wk models approve {model} {version} "
                    "--reason ...)"}


def _gate_text(gate: dict[str, Any]) -> str:
    champion = gate.get("champion")
    against = f" vs {champion:.4f}" if isinstance(champion, float) else ""
    value = gate.get("candidate")
    return f"{gate.get('metric')} {value:.4f}{against}" if isinstance(value, float) else ""


def retrain(ctx: RunContext, spec_path: str, overrides: list[str] | None = None, *,
            commit: str | None = None) -> Outcome:
    """Train `spec_path` for the job's model and apply the promotion policy."""
    spec = load_spec(spec_path, overrides)
    if ctx.model is not None and spec.model_name != ctx.model:
        raise InvalidInput(
            f"the spec {spec.path} trains model {spec.model_name!r}, but the job is for "
            f"{ctx.model!r}; point the job at that model's spec", field="spec")

    def progress(done: int, total: int, note: str) -> None:
        ctx.heartbeat()
        if note:
            ctx.log.info("step %d/%d: %s", done + 1, total, note)

    try:
        result = train(ctx.store, spec.path, overrides, actor=job_actor(ctx), progress=progress)
    except ExpectationsFailed as exc:
        raise RunFailed(f"the training data failed its expectations: {exc.message}",
                        field="spec") from None
    except TrainingFailed as exc:
        for line in exc.log:
            ctx.log.error("%s", line)
        raise RunFailed(exc.message, field="spec") from None
    run, gate = result["run"], result["gate"]
    split = run.get("split") or {}
    rows = int(split.get("train_rows", 0)) + int(split.get("eval_rows", 0)) or None
    figures: dict[str, Any] = {"training_run": run["id"], "gate": gate, "commit": commit}
    if not result["registered"]:
        raise RunFailed("the gate refused the new model: " + "; ".join(gate.get("reasons") or []),
                        field="spec")
    version = int(result["version"]["version"])
    policy = apply_policy(ctx, spec.model_name, version, int(run["id"]))
    figures.update(version=version, policy=policy, code_version=run.get("code_version"))
    at = f" at {commit[:12]}" if commit else ""
    gate_text = _gate_text(gate)
    return Outcome(summary=f"v{version}{at} passed its gate"
                           + (f" ({gate_text})" if gate_text else "") + f"; {policy['text']}",
                   rows=rows, result=figures)
