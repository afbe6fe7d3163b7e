"""Access tables: the store's users (OS accounts and their roles), API tokens (hashed,
scoped, expiring) with their per-minute use, and explanations stored with predictions.

A user is an OS account by name; the process's uid says who is acting, never an
environment variable (store/identity.py). A token's secret is never stored: only its
sha256 (the secret is 32 random bytes, so a fast hash is enough) and a short prefix that
lets a person tell tokens apart in a listing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from store.fields import json_field as _json
from store.fields import text_field as _text
from store.fields import time_field as _time


class User(SQLModel, table=True):
    """An OS account that may use the store, and its role (vocabulary.Role)."""

    __tablename__ = "wk_user"  # "user" is a reserved word on PostgreSQL

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    uid: int | None = None  # the account's uid when it was added (None: not on this host)
    role: str
    created_at: datetime = _time()
    created_by: str = ""
    updated_at: datetime = _time()
    updated_by: str = ""


class ApiToken(SQLModel, table=True):
    """A bearer token for the HTTP API: its role, the models it may use (None: all), its
    rate limit, expiry and revocation, and when it was last used."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    prefix: str  # the first characters of the secret, shown in listings
    secret_sha256: str = Field(unique=True)
    role: str
    models: list[str] | None = _json()
    rate_per_s: float | None = None  # None: the server's default
    burst: int | None = None
    expires_at: datetime | None = _time(nullable=True)
    created_at: datetime = _time()
    created_by: str = ""
    revoked_at: datetime | None = _time(nullable=True)
    revoked_by: str = ""
    last_used_at: datetime | None = _time(nullable=True)
    uses: int = 0
    note: str = _text()


class TokenUsage(SQLModel, table=True):
    """Requests a token made and how many its rate limit refused, per minute: the
    server adds to it as it flushes; the `rate-limited` alert rule reads it."""

    __tablename__ = "token_usage"
    __table_args__ = (Index("uq_token_usage_minute", "token_id", "minute", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    token_id: int = Field(foreign_key="api_token.id")
    minute: datetime = _time()
    requests: int = 0
    limited: int = 0


class PredictionExplanation(SQLModel, table=True):
    """Per-feature contributions for one logged prediction, replayed through the exact
    version that answered (its artifact hash checked) and stored when the model's owner
    asked for explanations to be kept."""

    __tablename__ = "prediction_explanation"

    id: int | None = Field(default=None, primary_key=True)
    prediction_id: str = Field(unique=True)
    version_id: int = Field(foreign_key="model_version.id")
    artifact_sha256: str
    method: str  # linear | tree | permutation ...
    baseline: float | None = None
    output: float | None = None  # the explained quantity (a probability, a value)
    contributions: dict[str, Any] | None = _json()
    reproduced: bool = True
    created_at: datetime = _time()
    created_by: str = ""
