"""`retrain`: train the model's spec on a timetable (its gate and [expectations] apply);
a refused gate or failing expectations fail the run, a passing version goes where the
model's promotion policy says (staging, or pending approval with a report)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scheduler.kinds.base import JobKindSpec, KindOption, Outcome, RunContext
from store.errors import InvalidInput
from store.vocabulary import JobKind

SPEC_OPTION = KindOption("spec", "the training spec (TOML); an on-commit job's is relative to its "
                         "repository", required=True,
                         example="sample_models/credit/spec.toml")
SET_OPTION = KindOption("set", "a training parameter KEY=VALUE over the spec's, as "
                        "`wk train --param` (repeatable)", repeat=True, example="C=0.5")


def validate(args: dict[str, Any]) -> dict[str, Any]:
    """The spec as an absolute path (the daemon does not run in the folder `wk jobs add` ran
    in), and a file that exists; `set` as a list."""
    path = Path(args["spec"]).expanduser().absolute()
    if not path.is_file():
        raise InvalidInput(f"spec {path} is not a file; give the training spec (TOML)",
                           field="spec", example=SPEC_OPTION.example)
    out = {**args, "spec": str(path)}
    if isinstance(out.get("set"), str):  # one override given as text, not a list
        out["set"] = [out["set"]]
    return out


def run(ctx: RunContext) -> Outcome:
    from scheduler.kinds.retraining import retrain

    return retrain(ctx, ctx.args["spec"], list(ctx.args.get("set") or []))


KIND = JobKindSpec(
    kind=JobKind.RETRAIN,
    help="train the model's spec; a passing version goes to staging or waits for approval",
    run=f"{__name__}:run",
    validate=f"{__name__}:validate",
    needs_model=True,
    options=(SPEC_OPTION, SET_OPTION),
)
