"""`command`: a command of the user's, run as a job (a script the team already has):
the run's child starts it with the given arguments, without a shell, and its output goes
to the run's log. A non-zero exit fails the run."""

from __future__ import annotations

import shlex
import subprocess
from typing import Any

from scheduler.kinds.base import JobKindSpec, KindOption, Outcome, RunContext, RunFailed
from store.errors import InvalidInput
from store.vocabulary import JobKind


def validate(args: dict[str, Any]) -> dict[str, Any]:
    try:
        argv = shlex.split(args["command"])
    except ValueError as exc:
        raise InvalidInput(f"the command cannot be split into words: {exc}", field="command",
                           example="'python nightly.py --fast'") from None
    if not argv:
        raise InvalidInput("the command is empty", field="command",
                           example="'python nightly.py --fast'")
    return args


def run(ctx: RunContext) -> Outcome:
    argv = shlex.split(ctx.args["command"])
    cwd = ctx.args.get("cwd") or None
    ctx.log.info("running %s", shlex.join(argv))
    try:
        done = subprocess.run(argv, cwd=cwd, check=False)  # output goes to the run's log
    except OSError as exc:
        raise RunFailed(f"cannot start {argv[0]!r}: {exc.strerror or exc}", field="command") from None
    if done.returncode != 0:
        raise RunFailed(f"{shlex.join(argv)} exited with {done.returncode}", field="command")
    return Outcome(summary=f"{argv[0]} exited 0")


KIND = JobKindSpec(
    kind=JobKind.COMMAND,
    help="run a command (no shell); a non-zero exit fails the run",
    run=f"{__name__}:run",
    validate=f"{__name__}:validate",
    options=(
        KindOption("command", "the command line to run, split like a shell would (no shell runs)",
                   required=True, example="'python nightly.py --fast'"),
        KindOption("cwd", "the folder to run it in", example="/srv/models"),
    ),
)
