"""End to end on the credit sample model with a real `wk scheduler`: scheduled drift
checks over simulated traffic store reports; a scheduled retrain on newer data passes its
gate and, the model being mission-critical (policy manual), waits for approval with its
Markdown and HTML report; `wk models approve` makes it production; a commit to a local
training-code repository triggers a retrain within one polling interval; every step is in
the audit log."""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scheduler_harness import running_daemon, runs, wait_for

from scheduler.jobs_service import JobSettings, add_job, run_now, set_paused
from store.handle import open_store
from store.vocabulary import JobRunStatus

REPO = Path(__file__).resolve().parents[1]
CREDIT = REPO / "sample_models" / "credit"


def _spec(folder: Path, data: Path, *, c: float = 1.0) -> Path:
    text = (CREDIT / "spec.toml").read_text()
    text = text.replace('source = "data/credit_train.csv"', f'source = "{data}"')
    text = text.replace("C = 1.0", f"C = {c}")
    spec = folder / "spec.toml"
    spec.write_text(text)
    return spec


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env={"GIT_AUTHOR_NAME": "ana", "GIT_AUTHOR_EMAIL": "a@x",
                                          "GIT_COMMITTER_NAME": "ana", "GIT_COMMITTER_EMAIL": "a@x",
                                          "HOME": str(repo)}).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_scheduled_checks_retrain_approval_and_commit(wk: Any, store_dir: Path, tmp_path: Path) -> None:
    from sample_models import USE_CASES

    case = USE_CASES["credit"]
    assert wk("init").code == 0
    assert wk("train", str(CREDIT / "spec.toml")).code == 0
    assert wk("models", "promote", "credit-default", "1", "production", "--reason", "first").code == 0
    assert wk("models", "set", "credit-default", "--criticality", "mission-critical").code == 0

    # simulated traffic: this hour's applications, incomes shifted down by a fifth
    from sample_models.events import covariate_drift

    now = datetime.now(UTC)
    traffic = case.generate(600, now - timedelta(minutes=50), seed=5,
                            events=[covariate_drift(now - timedelta(hours=2), "income", scale=0.6)])
    traffic.drop(columns=[case.target]).to_csv(tmp_path / "traffic.csv", index=False)
    assert wk("score", "credit-default", "--source", tmp_path / "traffic.csv",
              "--sink", tmp_path / "scored.csv").code == 0

    # newer data for the retrain: the same process, a month on
    newer = case.generate(3000, datetime(2026, 3, 1, tzinfo=UTC), seed=9)
    (tmp_path / "newer").mkdir()
    newer.to_csv(tmp_path / "newer" / "credit.csv", index=False)
    spec = _spec(tmp_path / "newer", tmp_path / "newer" / "credit.csv")

    # a training-code repository: the spec under git
    code = tmp_path / "credit-code"
    code.mkdir()
    _spec(code, tmp_path / "newer" / "credit.csv")
    _git(code, "init", "-q", "-b", "main")
    _git(code, "add", "spec.toml")
    _git(code, "commit", "-q", "-m", "first")

    store = open_store(store_dir)
    try:
        add_job(store, "drift-check", "drift", JobSettings(every="3s", model="credit-default",
                                                           args={"window": "1h"}))
        add_job(store, "nightly-retrain", "retrain", JobSettings(
            cron="0 3 * * *", model="credit-default", args={"spec": str(spec)}))
        with running_daemon(store_dir) as daemon:
            drift = wait_for("a scheduled drift check", lambda: runs(
                store, "drift-check", JobRunStatus.SUCCEEDED), 60, daemon)[0]
            assert drift.trigger == "schedule" and drift.result["reports"]
            assert "drift" in drift.result["statuses"], drift.note
            # its children would compete with the retrain's for the two cores from here on
            set_paused(store, "drift-check", True)

            run_now(store, "nightly-retrain")
            retrain = wait_for("the retrain", lambda: [
                r for r in runs(store, "nightly-retrain") if r.status not in ("queued", "running")],
                240, daemon)[0]
            assert retrain.status == JobRunStatus.SUCCEEDED, retrain.error + retrain.log_tail
            pending = wk("models", "approvals", "credit-default", "--json").json()
            assert [p["version"] for p in pending] == [2]
            html = Path(pending[0]["report_html"])
            assert html.is_file() and Path(pending[0]["report_md"]).is_file()
            assert "http://" not in html.read_text() and "https://" not in html.read_text()
            assert wk("models", "show", "credit-default", "--json").json()["aliases"]["production"] == 1

            approved = wk("models", "approve", "credit-default", "2", "--reason", "report read")
            assert approved.code == 0, approved.err
            assert wk("models", "show", "credit-default", "--json").json()["aliases"]["production"] == 2

            add_job(store, "on-commit", "on-commit", JobSettings(
                every="2s", model="credit-default", args={"repo": str(code), "spec": "spec.toml"}))
            wait_for("the head recorded", lambda: [r for r in runs(store, "on-commit")
                                                   if r.status == JobRunStatus.SUCCEEDED], 60, daemon)
            _spec(code, tmp_path / "newer" / "credit.csv", c=0.5)
            _git(code, "commit", "-q", "-am", "C=0.5")
            committed = time.time()
            built = wait_for("a retrain from the commit", lambda: [
                r for r in runs(store, "on-commit") if r.status == JobRunStatus.SUCCEEDED
                and r.rows], 240, daemon)[0]
            assert built.started_at.timestamp() - committed < 2 + 5  # one interval, and a start
    finally:
        store.close()
    actions = {e["action"] for e in wk("audit", "--json", "--limit", "500").json()}
    for action in ("job.add", "job.run_now", "version.register", "version.approval_request",
                   "version.approve", "alias.promote"):
        assert action in actions, action
