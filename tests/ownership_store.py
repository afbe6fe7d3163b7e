"""A store for the ownership and approval-policy tests: model `credit` (v1 production, v2)
from tests/alert_store.py, with users, API tokens and jobs written directly, so a test can
act as other principals in-process:

- "token:NAME" acts with the token's role (a token is never a model's owner);
- "job:NAME" acts with the role of the user who created the job, as that user (so a job
  created by the model's owner acts as its owner);
- anything else is the process's OS account, root in the tests: the store's admin.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from alert_store import build_alert_store

from store.access_tables import ApiToken, User
from store.handle import Store
from store.job_tables import Job

#: users written directly (no OS account needed for a row): name -> role
USERS = {"ana": "scientist", "ops": "operator", "oli": "operator", "vic": "viewer"}
#: API tokens: name -> role
TOKENS = {"ops-token": "operator", "ops-token-2": "operator", "sci-token": "scientist",
          "view-token": "viewer"}


def add_users(store: Store, users: dict[str, str]) -> None:
    with store.db.write() as session:
        for name, role in users.items():
            session.add(User(name=name, uid=None, role=role, created_by="tests"))


def add_tokens(store: Store, tokens: dict[str, str]) -> None:
    with store.db.write() as session:
        for name, role in tokens.items():
            secret = hashlib.sha256(name.encode()).hexdigest()
            session.add(ApiToken(name=name, prefix=secret[:8], secret_sha256=secret, role=role,
                                 created_by="tests"))


def add_job_of(store: Store, name: str, created_by: str) -> str:
    """A job created by `created_by`; returns its actor name "job:NAME"."""
    with store.db.write() as session:
        session.add(Job(name=name, kind="command", args={"argv": ["true"]}, every_s=3600,
                        created_by=created_by))
    return f"job:{name}"


def build_ownership_store(root: Path) -> Store:
    store, _ids = build_alert_store(root)
    add_users(store, USERS)
    add_tokens(store, TOKENS)
    for user in USERS:
        add_job_of(store, f"{user}-job", user)
    return store


def as_user(name: str) -> str:
    """The actor that acts as user `name` in-process (its job)."""
    return f"job:{name}-job"
