"""`on-commit`: watch a branch of a local git repository that holds training code and
retrain when its head moves (training as a build triggered by a commit).

Each run reads the head with `git -C REPO rev-parse refs/heads/BRANCH` and compares it
with the head recorded in the job's state. The first run only records it. When it moved:
the spec's `[train] test_command`, if any, runs in the repository first (its output goes
to the run's log) and failing tests fail the run; then the retrain, as the retrain kind
does it, with the commit in the result (the training run records the commit of the
working tree its entry point was imported from). The new head is recorded once the run
has an answer about the commit (trained, refused by the gate, failing tests, a spec that
does not load at that commit), so one commit is tried once; a run that broke for another
reason (the store unreachable) leaves it, and the next poll tries again.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import Any

from scheduler.kinds.base import JobKindSpec, KindOption, Outcome, RunContext, RunFailed
from scheduler.kinds.retrain import SPEC_OPTION
from store.errors import InvalidInput
from store.vocabulary import JobKind

GIT_TIMEOUT_S = 30


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise RunFailed("git is not installed (or not on PATH); the on-commit kind needs it",
                        field="repo") from None
    except subprocess.TimeoutExpired:
        raise RunFailed(f"git {' '.join(args)} in {repo} took over {GIT_TIMEOUT_S} s",
                        field="repo") from None


def branch_head(repo: Path, branch: str) -> str:
    """The commit the branch points at; a clear error when it is no repository or branch."""
    if not repo.is_dir():
        raise RunFailed(f"repo {repo} is not a folder; give the path of a local git "
                        "repository", field="repo")
    if _git(repo, "rev-parse", "--git-dir").returncode != 0:
        raise RunFailed(f"repo {repo} is not a git repository (git init, or give the "
                        "folder holding .git)", field="repo")
    done = _git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
    if done.returncode != 0 or not done.stdout.strip():
        listed = _git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/")
        names = ", ".join(listed.stdout.split()) or "none yet (no commit)"
        raise RunFailed(f"{repo} has no branch {branch!r}; its branches: {names}",
                        field="branch")
    return done.stdout.strip()


def spec_path(repo: Path, spec: str) -> Path:
    path = Path(spec).expanduser()
    return path if path.is_absolute() else repo / path


def run_tests(ctx: RunContext, repo: Path, command: str, head: str) -> None:
    argv = shlex.split(command)
    ctx.log.info("running the training code's tests at %s: %s", head[:12], shlex.join(argv))
    try:
        done = subprocess.run(argv, cwd=repo, check=False)  # output goes to the run's log
    except OSError as exc:
        raise RunFailed(f"cannot start the test command {argv[0]!r}: {exc.strerror or exc}",
                        field="spec") from None
    if done.returncode != 0:
        raise RunFailed(f"tests failed at {head[:12]}: exit {done.returncode} "
                        f"({shlex.join(argv)}); head recorded, so this commit is not retried: "
                        "the next commit runs again", field="spec")


def validate(args: dict[str, Any]) -> dict[str, Any]:
    """The repository as an absolute path (the daemon runs elsewhere); a branch name git
    accepts. The repository itself is checked by each run (it may be cloned later)."""
    branch = args.get("branch") or "main"
    if branch.startswith("-") or " " in branch or ".." in branch:
        raise InvalidInput(f"branch {branch!r} is not a branch name", field="branch",
                           example="main")
    return {**args, "repo": str(Path(args["repo"]).expanduser().absolute()), "branch": branch}


def run(ctx: RunContext) -> Outcome:
    from registry.spec import load_spec
    from scheduler.kinds.retraining import retrain

    repo = Path(ctx.args["repo"]).expanduser().absolute()
    branch = ctx.args.get("branch") or "main"
    head = branch_head(repo, branch)
    state = dict(ctx.job.state or {})
    before = state.get("head")
    if before is None:
        ctx.save_state({**state, "head": head})
        return Outcome(summary=f"first look at {branch}: head {head[:12]} recorded, nothing "
                               "trained (the next commit triggers a retrain)",
                       result={"head": head, "previous": None, "trained": False})
    if before == head:
        return Outcome(summary=f"{branch} is still at {head[:12]}: nothing to do",
                       result={"head": head, "previous": before, "trained": False})
    ctx.log.info("%s moved %s -> %s", branch, before[:12], head[:12])
    spec = spec_path(repo, ctx.args["spec"])
    try:
        command = load_spec(spec).test_command
        if command:
            run_tests(ctx, repo, command, head)
        outcome = retrain(ctx, str(spec), commit=head)
    except (RunFailed, InvalidInput):  # an answer about this commit: failing tests, a refused
        ctx.save_state({**state, "head": head})  # gate, a spec that does not parse there
        raise
    ctx.save_state({**state, "head": head})
    trained_at = ((outcome.result.get("code_version") or {}).get("git_commit"))
    if trained_at and trained_at != head:
        outcome.summary += (f" (note: the working tree was at {trained_at[:12]}, not the "
                            f"branch head {head[:12]}; it trained what was checked out)")
    outcome.result.update(head=head, previous=before, trained=True)
    return outcome


KIND = JobKindSpec(
    kind=JobKind.ON_COMMIT,
    help="retrain when a branch of a local git repository moves (tests first, if the spec "
         "names them)",
    run=f"{__name__}:run",
    validate=f"{__name__}:validate",
    needs_model=True,
    options=(
        KindOption("repo", "the local git repository holding the training code", required=True,
                   example="/srv/credit-model"),
        KindOption("branch", "the branch to watch", default="main", example="main"),
        KindOption("spec", SPEC_OPTION.help, required=True, example="spec.toml"),
    ),
)
