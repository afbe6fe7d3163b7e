"""Stores for the retrain, expiry and on-commit kinds and approvals: the credit sample
model's spec on a small generated data file, v1 trained and in production, and a
RunContext for a real Job/JobRun row (the daemon's child is another module's job)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sample_models import USE_CASES

START = datetime(2026, 1, 1, tzinfo=UTC)
#: the credit spec's gate, eased for small holdouts; the rest of the spec as shipped
GATE = 'min = 0.6\nmax_regression = 0.2\n'


def credit_spec(folder: Path, *, rows: int = 700, seed: int = 1, extra_train: str = "",
                events: list[Any] | None = None) -> Path:
    """A copy of sample_models/credit/spec.toml reading `rows` generated rows."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "credit.csv"
    USE_CASES["credit"].generate(rows, START, seed=seed, events=events or []).to_csv(
        data, index=False)
    text = USE_CASES["credit"].spec.read_text()
    text = text.replace('source = "data/credit_train.csv"', f'source = "{data}"')
    text = text.replace("min = 0.72", "min = 0.6").replace("max_regression = 0.01",
                                                           "max_regression = 0.2")
    if extra_train:
        text = text.replace("[train]\n", f"[train]\n{extra_train}\n", 1)
    spec = folder / "spec.toml"
    spec.write_text(text)
    return spec


def trained_in_production(store: Any, spec: Path) -> int:
    """Train `spec` (v1) and make it production; returns the version number."""
    from registry.aliases import promote
    from registry.training import train

    result = train(store, str(spec), actor="tests")
    assert result["registered"], result["gate"]
    version = int(result["version"]["version"])
    promote(store, "credit-default", version, "production", reason="first version", actor="tests")
    return version


def run_context(store: Any, kind: str, args: dict[str, Any], *, model: str = "credit-default",
                name: str | None = None) -> Any:
    """A RunContext for a new job of `kind` (or the existing job `name`) and a queued run of
    it; save_state writes the job's state as the run's child does."""
    from scheduler.kinds import kind_spec
    from scheduler.kinds.base import RunContext
    from store import jobs as job_store
    from store import models as model_store
    from store.job_tables import Job
    from store.vocabulary import JobTrigger

    name = name or f"{kind}-job"
    checked = kind_spec(kind).checked_args(args)
    with store.db.write() as session:
        job = job_store.find_job(session, name)
        if job is None:
            model_id = model_store.get_model(session, model).id
            job = job_store.add_job(session, Job(name=name, kind=kind, args=checked,
                                                 model_id=model_id, every_s=3600))
        run = job_store.queue_run(session, job, trigger=JobTrigger.RUN_NOW, requested_by="tests")
        session.flush()
        session.refresh(job)
        session.refresh(run)
        session.expunge(job)
        session.expunge(run)

    def save_state(state: dict[str, Any]) -> None:
        with store.db.write() as session:
            row = job_store.get_job(session, name)
            row.state = state
            session.add(row)

    return RunContext(store=store, job=job, run=run, args=checked, model=model,
                      log=logging.getLogger(f"test.{kind}"), save_state=save_state)
