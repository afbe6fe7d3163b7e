"""Scheduled jobs obey the same rules: a job acts with the role of whoever added it, looked
up when it runs, so a job outlives neither its owner's role nor a revoked token."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))


def _token(store, name: str, role: str) -> None:  # type: ignore[no-untyped-def]
    from store.access_tables import ApiToken

    with store.db.write() as session:
        session.add(ApiToken(name=name, prefix="x", role=role, created_by="tests",
                             secret_sha256=hashlib.sha256(name.encode()).hexdigest()))


def _set_role(store, name: str, role: str) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    from store.access_tables import ApiToken

    with store.db.write() as session:
        row = session.exec(select(ApiToken).where(ApiToken.name == name)).one()
        row.role = role
        session.add(row)


def _owner(store, name: str) -> str:  # type: ignore[no-untyped-def]
    from store import jobs as job_store

    with store.db.read() as session:
        return job_store.get_job(session, name).created_by


def test_a_job_runs_with_its_owners_role_at_run_time(tmp_path: Path) -> None:
    from retrain_store import run_context
    from serving_store import build_store

    from scheduler.jobs_service import JobSettings, add_job
    from scheduler.kinds.checks import run_drift
    from store.audit import list_events
    from store.errors import PermissionDenied
    from store.handle import open_store

    store = open_store(build_store(tmp_path / "store", versions=1, numeric=False))
    _token(store, "ops", "operator")
    add_job(store, "nightly-drift", "drift", JobSettings(every="1h", model="tiny",
                                                               args={"window": "1h"}),
                  paused=True, actor="token:ops")
    assert _owner(store, "nightly-drift") == "token:ops"
    outcome = run_drift(run_context(store, "drift", {"window": "1h"}, model="tiny",
                                    name="nightly-drift"))
    assert "drift" in outcome.summary  # an operator may run checks: a report was stored

    _set_role(store, "ops", "viewer")  # the owner lost the role the job needs
    with pytest.raises(PermissionDenied, match="acting for token:ops"):
        run_drift(run_context(store, "drift", {"window": "1h"}, model="tiny", name="nightly-drift"))
    with store.db.read() as session:
        denied = list_events(session, action="access.denied", limit=1)[0]
    assert denied.actor == "job:nightly-drift" and denied.after["role"] == "viewer"
    store.close()


def test_a_job_added_from_the_cli_belongs_to_the_os_account(tmp_path: Path) -> None:
    from serving_store import build_store

    from scheduler.jobs_service import JobSettings, add_job
    from store.handle import open_store
    from store.identity import current_actor

    store = open_store(build_store(tmp_path / "store", versions=1, numeric=False))
    add_job(store, "d", "drift", JobSettings(every="1h", model="tiny"), paused=True,
            actor="someone-else")  # a name passed by code grants nothing
    assert _owner(store, "d") == current_actor()
    store.close()
