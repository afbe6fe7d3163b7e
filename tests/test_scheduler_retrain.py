"""The retrain, expiry and on-commit kinds, run through a RunContext on a real store with
real Job/JobRun rows (the daemon and its child process are tested elsewhere)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from retrain_store import credit_spec, run_context, trained_in_production

from registry.promotion import default_policy, effective_policy, set_model
from scheduler.kinds import KINDS
from scheduler.kinds.base import RunFailed
from store import aliases as alias_store
from store import audit as audit_store
from store import models as model_store
from store import versions as version_store
from store.errors import InvalidInput
from store.tables import RegisteredModel
from store.types import utcnow
from store.vocabulary import AuditAction


def _alias(store, alias: str) -> int | None:
    with store.db.read() as session:
        model = model_store.get_model(session, "credit-default")
        row = alias_store.find_alias(session, model.id, alias)
        return version_store.version_by_id(session, row.version_id).version if row else None


def test_policy_defaults_by_criticality_and_the_model_overrides() -> None:
    assert default_policy("mission-critical") == "manual"
    assert default_policy("internal") == "staging"
    assert effective_policy(RegisteredModel(name="m", criticality="mission-critical")) == "manual"
    assert effective_policy(RegisteredModel(name="m", criticality="internal")) == "staging"
    assert effective_policy(RegisteredModel(name="m", criticality="mission-critical",
                                            promotion_policy="staging")) == "staging"
    assert {"retrain", "expiry", "on-commit"} <= set(KINDS)


def test_retrain_on_newer_data_goes_to_staging_for_an_internal_model(store, tmp_path) -> None:
    spec = credit_spec(tmp_path / "p")
    trained_in_production(store, spec)
    credit_spec(tmp_path / "p", seed=2)  # newer rows in the same file
    ctx = run_context(store, "retrain", {"spec": str(spec)})
    outcome = KINDS["retrain"].run_function()(ctx)
    assert outcome.result["version"] == 2 and outcome.rows == 700
    assert outcome.result["policy"]["policy"] == "staging"
    assert _alias(store, "staging") == 2 and _alias(store, "production") == 1
    with store.db.read() as session:
        events = audit_store.list_events(session, action=AuditAction.ALIAS_PROMOTE)
    assert events[0].actor == "job:retrain-job"
    assert events[0].reason == f"retrain job {ctx.job.id} passed its gate"


def test_a_refused_gate_fails_the_run_and_moves_nothing(store, tmp_path) -> None:
    spec = credit_spec(tmp_path / "p")
    trained_in_production(store, spec)
    ctx = run_context(store, "retrain", {"spec": str(spec), "set": ["C=0.0001"]})
    with pytest.raises(RunFailed, match="the gate refused the new model: roc_auc"):
        KINDS["retrain"].run_function()(ctx)
    assert _alias(store, "staging") is None and _alias(store, "production") == 1


def test_a_spec_for_another_model_is_refused(store, tmp_path) -> None:
    spec = credit_spec(tmp_path / "p")
    trained_in_production(store, spec)
    other = spec.parent / "other.toml"
    other.write_text(spec.read_text().replace('name = "credit-default"', 'name = "other"'))
    ctx = run_context(store, "retrain", {"spec": str(other)})
    with pytest.raises(InvalidInput, match="trains model 'other', but the job is for"):
        KINDS["retrain"].run_function()(ctx)


def test_expiry_retrains_only_a_production_version_past_its_maximum_age(store, tmp_path) -> None:
    spec = credit_spec(tmp_path / "p")
    trained_in_production(store, spec)
    expiry = KINDS["expiry"].run_function()
    with pytest.raises(InvalidInput, match="has no maximum age.*--max-age-days 30"):
        expiry(run_context(store, "expiry", {"spec": str(spec)}))
    set_model(store, "credit-default", max_age_days=30, actor="tests")
    fresh = expiry(run_context(store, "expiry", {"spec": str(spec)}, name="expiry-job"))
    assert fresh.summary == "v1 is 0 days old, max 30: nothing to do"
    with store.db.write() as session:
        model = model_store.get_model(session, "credit-default")
        v1 = version_store.get_version(session, model, 1)
        v1.created_at = utcnow() - timedelta(days=40)
        session.add(v1)
    old = expiry(run_context(store, "expiry", {"spec": str(spec)}, name="expiry-job"))
    assert old.result["version"] == 2 and old.result["age_days"] == 40
    assert old.summary.startswith("v1 was 40 days old (max 30); v2 passed its gate")


CHECK = "import pathlib, sys\nsys.exit(0 if pathlib.Path('ok').exists() else 1)\n"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=repo,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _commit(repo: Path, message: str) -> str:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", message)
    return _git(repo, "rev-parse", "HEAD")


def test_on_commit_records_the_head_then_retrains_when_it_moves(store, tmp_path) -> None:
    repo = tmp_path / "training-code"
    command = f"{shlex.quote(sys.executable)} check.py"
    spec = credit_spec(repo, extra_train=f"test_command = {command!r}".replace("'", '"'))
    (repo / "oc_credit.py").write_text("from sample_models.credit.train import train  # noqa\n")
    spec.write_text(spec.read_text().replace("sample_models.credit.train:train", "oc_credit:train"))
    (repo / "check.py").write_text(CHECK)
    (repo / "ok").write_text("")
    _git(repo, "init", "-q", "-b", "main")
    first = _commit(repo, "first")
    trained_in_production(store, spec)
    args = {"repo": str(repo), "spec": "spec.toml"}
    on_commit = KINDS["on-commit"].run_function()

    seen = on_commit(run_context(store, "on-commit", args, name="oc"))
    assert seen.result == {"head": first, "previous": None, "trained": False}
    assert "recorded, nothing trained" in seen.summary
    assert "nothing to do" in on_commit(run_context(store, "on-commit", args, name="oc")).summary

    (repo / "oc_credit.py").write_text("from sample_models.credit.train import train  # v2\n")
    second = _commit(repo, "second")
    trained = on_commit(run_context(store, "on-commit", args, name="oc"))
    assert trained.result["version"] == 2 and trained.result["commit"] == second
    assert trained.result["code_version"]["git_commit"] == second
    assert trained.summary.startswith(f"v2 at {second[:12]} passed its gate")

    (repo / "ok").unlink()
    third = _commit(repo, "break the tests")
    with pytest.raises(RunFailed, match=f"tests failed at {third[:12]}: exit 1.*head recorded"):
        on_commit(run_context(store, "on-commit", args, name="oc"))
    again = on_commit(run_context(store, "on-commit", args, name="oc"))
    assert "nothing to do" in again.summary and _alias(store, "staging") == 2

    (repo / "ok").write_text("")
    spec.write_text(spec.read_text().replace("[data]", "[data"))
    broken = _commit(repo, "break the spec")
    with pytest.raises(InvalidInput, match="not valid TOML"):
        on_commit(run_context(store, "on-commit", args, name="oc"))
    assert "nothing to do" in on_commit(run_context(store, "on-commit", args, name="oc")).summary
    assert broken != third

    with pytest.raises(RunFailed, match="no branch 'dev'; its branches: main"):
        on_commit(run_context(store, "on-commit", {**args, "branch": "dev"}, name="oc-dev"))
    (tmp_path / "plain").mkdir()
    with pytest.raises(RunFailed, match="is not a git repository"):
        on_commit(run_context(store, "on-commit", {**args, "repo": str(tmp_path / "plain")},
                              name="oc-plain"))


def test_failing_expectations_fail_the_run_and_a_relative_spec_is_made_absolute(
        store, tmp_path, monkeypatch) -> None:
    spec = credit_spec(tmp_path / "p")
    trained_in_production(store, spec)
    strict = spec.parent / "strict.toml"
    strict.write_text(spec.read_text() + "\n[expectations]\nrow_count = { min = 5000 }\n")
    monkeypatch.chdir(spec.parent)
    ctx = run_context(store, "retrain", {"spec": "strict.toml"})
    assert ctx.args["spec"] == str(strict)
    with pytest.raises(RunFailed, match="(?s)failed its expectations.*expected >= 5000"):
        KINDS["retrain"].run_function()(ctx)
    with pytest.raises(InvalidInput, match="spec .*missing.toml is not a file"):
        KINDS["retrain"].checked_args({"spec": "missing.toml"})
