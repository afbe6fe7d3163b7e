"""One action per permission, through the service layer and through the CLI, for the
permission matrix (tests/test_permissions.py). Each case says what it calls, which audit
action an allowed call writes (None: its row is its own record, e.g. a report), and what
has to be true first (done as the store's admin, never as the role under test).

`n` is the cell's number: cases that cannot repeat (promote the same version twice) vary
what they touch with it.
"""

from __future__ import annotations

import pwd
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from store.handle import Store
from store.roles import Permission

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class World:
    """The store and files the cases act on."""

    store: Store
    root: Path  # the store folder
    work: Path  # a folder every account may write (specs, data, backups)
    spec: Path  # a tiny training spec
    skops_file: Path
    data_csv: Path
    predictions: list[str]  # logged prediction ids (a batch run's)
    accounts: list[str]  # spare OS accounts for `users add`; the last one is a user (owner)


@dataclass(frozen=True)
class Case:
    permission: Permission
    service: Callable[[World, str | None, int], Any]
    cli: Callable[[World, int], list[str]]
    audit: str | None  # the action an allowed call records
    prepare: Callable[[World, int], None] | None = None
    #: the CLI's exit codes of a call that ran (a drift check exits 1 on drift, 4 when too
    #: few rows: both are answers, not refusals)
    ok_codes: tuple[int, ...] = (0,)


def _versions(world: World) -> int:
    from registry.versions import list_versions

    return len(list_versions(world.store, "tiny"))


def _pick(world: World, n: int) -> int:
    """A version that production does not hold now, so a promote changes something."""
    from registry.models import show_model

    held = show_model(world.store, "tiny")["aliases"].get("production")
    count = _versions(world)
    return next(v for v in [(n % count) + 1, *range(1, count + 1)] if v != held)


def _train(world: World, actor: str | None, n: int) -> Any:
    from registry.training import train

    return train(world.store, str(world.spec), actor=actor)


def _register(world: World, actor: str | None, n: int) -> Any:
    sys.path.insert(0, str(FIXTURES))
    from serving_store import tiny_frame
    from tiny_model import train

    from registry.registration import register_estimator

    X, y = tiny_frame(rows=120, seed=n)
    return register_estimator(world.store, "tiny", train(X, y, {"C": 1.0}), training_data=X,
                              actor=actor)


def _propose(world: World, actor: str | None, n: int) -> Any:
    from registry.aliases import promote

    return promote(world.store, "tiny", (n % _versions(world)) + 1, "staging", reason="matrix",
                   actor=actor)


def _label(world: World, actor: str | None, n: int) -> Any:
    from serving.log.feedback import apply_labels

    return apply_labels(world.store, [{"prediction_id": _prediction(world, n), "label": 1}],
                        actor=actor)


def _prediction(world: World, n: int) -> str:
    return world.predictions[n % len(world.predictions)]


def _window() -> Any:
    from monitoring.windows import Window
    from store.types import utcnow

    now = utcnow()
    return Window(now - timedelta(hours=1), now)


def _check(world: World, actor: str | None, n: int) -> Any:
    from monitoring.drift_check import run_drift

    return run_drift(world.store, "tiny", _window(), actor=actor)


def _score(world: World, actor: str | None, n: int) -> Any:
    from serving.batch.io import parse_sink, parse_source
    from serving.batch.run import score_batch

    return score_batch(world.store, "tiny", parse_source(str(world.data_csv), None),
                       parse_sink(str(world.work / f"scored-{n}.csv"), None), actor=actor)


def _before_deploy(world: World, n: int) -> None:
    from serving.traffic.deployments import set_deployment

    set_deployment(world.store, "tiny", mode="shadow", challenger=_pick(world, n),
                   reason="so the cell has something to change")


def _deploy(world: World, actor: str | None, n: int) -> Any:
    from serving.traffic.deployments import set_deployment

    return set_deployment(world.store, "tiny", mode="single", challenger=None,
                          clear_challenger=True, reason="matrix", actor=actor)


def _promote(world: World, actor: str | None, n: int) -> Any:
    from registry.aliases import promote

    return promote(world.store, "tiny", _pick(world, n), "production", reason="matrix", actor=actor)


def _before_rollback(world: World, n: int) -> None:
    from registry.aliases import promote

    promote(world.store, "tiny", _pick(world, n), "production", reason="so it can roll back")


def _rollback(world: World, actor: str | None, n: int) -> Any:
    from registry.aliases import rollback

    return rollback(world.store, "tiny", "production", reason="matrix", actor=actor)


def _before_approve(world: World, n: int) -> None:
    from registry.approvals import request_approval

    _register(world, None, 1000 + n)
    request_approval(world.store, "tiny", _versions(world))


def _approve(world: World, actor: str | None, n: int) -> Any:
    from registry.approvals import approve

    return approve(world.store, "tiny", _versions(world), reason="matrix", actor=actor)


def _settings(world: World, actor: str | None, n: int) -> Any:
    from registry.promotion import set_model

    return set_model(world.store, "tiny", max_age_days=n + 1, actor=actor)


def _respond(world: World, actor: str | None, n: int) -> Any:
    from monitoring.alert_service import add_silence
    from store.types import utcnow

    return add_silence(world.store, {"model": "tiny"}, comment="matrix",
                       ends=utcnow() + timedelta(hours=1), actor=actor)


def _jobs(world: World, actor: str | None, n: int) -> Any:
    from scheduler.jobs_service import JobSettings, add_job

    return add_job(world.store, f"drift-{n}", "drift", JobSettings(every="1h", model="tiny"),
                   paused=True, actor=actor)


def _retention(world: World, actor: str | None, n: int) -> Any:
    from scheduler.jobs_service import JobSettings, add_job

    return add_job(world.store, f"prune-{n}", "prune", JobSettings(every="1d", args={"days": 90}),
                   paused=True, actor=actor)


def _maintain(world: World, actor: str | None, n: int) -> Any:
    from store.backup import backup

    return backup(world.store, world.work / f"backup-{n}", verify=False, actor=actor)


def _rules(world: World, actor: str | None, n: int) -> Any:
    from monitoring.alert_service import add_rule

    return add_rule(world.store, name=f"age-{n}", kind="model-age", model="tiny", actor=actor)


def _channels(world: World, actor: str | None, n: int) -> Any:
    from monitoring.channel_service import add_channel

    return add_channel(world.store, f"shell-{n}", "shell", {"command": ["true"]}, actor=actor)


def _users(world: World, actor: str | None, n: int) -> Any:
    from store.users import add_user

    return add_user(world.store, world.accounts[n % (len(world.accounts) - 1)], "viewer",
                    actor=actor)


def _new_owner(world: World) -> str:
    """Whoever does not own `tiny` now: the store's admin or the spare user (a transfer that
    changes nothing writes nothing)."""
    from registry.models import show_model
    from store.identity import current_actor

    owner = show_model(world.store, "tiny").get("owner")
    return world.accounts[-1] if owner == current_actor() else current_actor()


def _transfer(world: World, actor: str | None, n: int) -> Any:
    from registry.ownership import transfer_model

    return transfer_model(world.store, "tiny", _new_owner(world), reason="matrix", actor=actor)


def _keeps_explanations(world: World) -> bool:
    from registry.models import show_model

    return bool(show_model(world.store, "tiny").get("store_explanations"))


def _explanations(world: World, actor: str | None, n: int) -> Any:
    from registry.explanation_settings import set_store_explanations

    return set_store_explanations(world.store, "tiny", not _keeps_explanations(world), actor=actor)


def _tokens(world: World, actor: str | None, n: int) -> Any:
    from store.tokens import create_token

    return create_token(world.store, f"cell-{n}", "viewer", actor=actor)


def _read(world: World, actor: str | None, n: int) -> Any:
    from registry.models import list_models

    return list_models(world.store)


CASES: list[Case] = [
    Case(Permission.READ, _read, lambda w, n: ["models", "list"], None),
    Case(Permission.TRAIN, _train, lambda w, n: ["train", str(w.spec)], "run.finish"),
    Case(Permission.REGISTER, _register,
         lambda w, n: ["models", "register", "tiny", str(w.skops_file), "--data", str(w.data_csv)],
         "version.register"),
    Case(Permission.PROPOSE, _propose,
         lambda w, n: ["models", "promote", "tiny", str((n % 3) + 1), "staging", "--reason", "m"],
         "alias.promote"),
    Case(Permission.LABEL, _label,
         lambda w, n: ["feedback", "--prediction-id", _prediction(w, n), "--label", "1"],
         "label.feedback"),
    Case(Permission.CHECK, _check, lambda w, n: ["drift", "tiny", "--window", "1h"], None,
         ok_codes=(0, 1, 4)),
    Case(Permission.SCORE_BATCH, _score,
         lambda w, n: ["score", "tiny", "--source", str(w.data_csv), "--sink",
                       str(w.work / f"cli-scored-{n}.csv"), "--no-progress"], None),
    Case(Permission.DEPLOY, _deploy,
         lambda w, n: ["deploy", "set", "tiny", "--mode", "single", "--no-challenger",
                       "--reason", f"matrix {n}"], "deployment.set", _before_deploy),
    Case(Permission.PROMOTE, _promote,
         lambda w, n: ["models", "promote", "tiny", str(_pick(w, n)), "production", "--reason", "m"],
         "alias.promote"),
    Case(Permission.ROLLBACK, _rollback,
         lambda w, n: ["models", "rollback", "tiny", "production", "--reason", "m"],
         "alias.rollback", _before_rollback),
    Case(Permission.APPROVE, _approve,
         lambda w, n: ["models", "approve", "tiny", str(_versions(w)), "--reason", "m"],
         "version.approve", _before_approve),
    Case(Permission.MODEL_SETTINGS, _settings,
         lambda w, n: ["models", "set", "tiny", "--max-age-days", str(n + 1)], "model.set"),
    Case(Permission.RESPOND, _respond,
         lambda w, n: ["alerts", "silence", "--match", "model=tiny", "--for", "1h",
                       "--comment", "matrix"], "silence.add"),
    Case(Permission.JOBS, _jobs,
         lambda w, n: ["jobs", "add", f"cli-drift-{n}", "--kind", "drift", "--model", "tiny",
                       "--every", "1h", "--paused"], "job.add"),
    Case(Permission.MAINTAIN, _maintain,
         lambda w, n: ["store", "backup", str(w.work / f"cli-backup-{n}"), "--no-verify"],
         "store.backup"),
    Case(Permission.RULES, _rules,
         lambda w, n: ["alerts", "rules", "add", f"cli-age-{n}", "--kind", "model-age",
                       "--model", "tiny"], "alert_rule.add"),
    Case(Permission.CHANNELS, _channels,
         lambda w, n: ["alerts", "channels", "add", f"cli-shell-{n}", "--kind", "shell",
                       "--command", "true"], "channel.add"),
    Case(Permission.USERS, _users,
         lambda w, n: ["users", "add", w.accounts[(n + 1) % (len(w.accounts) - 1)], "--role",
                       "viewer"],
         "user.add"),
    Case(Permission.TRANSFER, _transfer,
         lambda w, n: ["models", "transfer", "tiny", "--owner", _new_owner(w), "--reason", "m"],
         "model.transfer"),
    Case(Permission.EXPLANATIONS, _explanations,
         lambda w, n: ["models", "set", "tiny", "--store-explanations",
                       "off" if _keeps_explanations(w) else "on"], "model.set"),
    Case(Permission.TOKENS, _tokens,
         lambda w, n: ["tokens", "create", f"cli-cell-{n}", "--role", "viewer"], "token.create"),
    Case(Permission.RETENTION, _retention,
         lambda w, n: ["jobs", "add", f"cli-prune-{n}", "--kind", "prune", "--days", "90",
                       "--every", "1d", "--paused"], "job.add"),
]


def spare_accounts(count: int) -> list[str]:
    """OS accounts that exist on every Debian host and no test makes a user."""
    names = [p.pw_name for p in pwd.getpwall() if p.pw_name in
             ("daemon", "bin", "sys", "games", "man", "lp", "mail", "news", "uucp", "proxy",
              "backup", "list", "irc", "nobody")]
    return names[:count]
