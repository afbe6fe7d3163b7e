"""API tokens for the HTTP server: create (the secret is returned once and never
stored: only its sha256 and a short prefix), list (with last use and status, never the
secret) and revoke. Creating and revoking need the `tokens` permission (admin) and are
audited in the same transaction.

The server's side (the live tokens it caches, the use it records) is store/token_usage.py.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from store import audit
from store.access import authorize
from store.access_tables import ApiToken
from store.errors import Conflict, InvalidInput, Listing, NotFound, see
from store.roles import Permission
from store.tables import RegisteredModel
from store.types import utcnow
from store.vocabulary import AuditAction, Role

if TYPE_CHECKING:
    from store.handle import Store

SECRET_PREFIX = "wk_"
#: characters of the secret kept (and shown) to tell tokens apart: "wk_" and 6 more
SHOWN_PREFIX = 9
TOKEN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_RATE_PER_S = 1_000_000.0


def secret_sha256(secret: str) -> str:
    """The hex sha256 the store keeps of a secret (32 random bytes: a fast hash will do)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def status_of(row: ApiToken, now: datetime | None = None) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def token_view(row: ApiToken, now: datetime | None = None) -> dict[str, Any]:
    """A token as listings show it: never its secret or its hash."""
    return {"name": row.name, "prefix": row.prefix, "role": row.role, "models": row.models,
            "rate_per_s": row.rate_per_s, "burst": row.burst, "status": status_of(row, now),
            "expires_at": row.expires_at.isoformat() if row.expires_at else None,
            "created_at": row.created_at.isoformat(), "created_by": row.created_by,
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
            "revoked_by": row.revoked_by or None, "note": row.note or None,
            "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
            "uses": row.uses}


def _target(name: str) -> str:
    return f"token/{name}"


def check_name(name: str) -> None:
    if not TOKEN_NAME.fullmatch(name or ""):
        raise InvalidInput(f"token name {name!r} is not allowed; use 1-64 letters, digits, '.', "
                           "'_' or '-', starting with a letter or digit", field="name",
                           example="ci-scorer")


def checked_role(role: str) -> Role:
    if role not in tuple(Role):
        raise InvalidInput(f"role {role!r} is not one of {', '.join(Role)}", field="role",
                           example="viewer")
    return Role(role)


def check_limits(rate_per_s: float | None, burst: int | None) -> None:
    if rate_per_s is not None and not 0 < rate_per_s <= MAX_RATE_PER_S:
        raise InvalidInput(f"rate {rate_per_s:g} per second must be above 0 and at most "
                           f"{MAX_RATE_PER_S:g}", field="rate_per_s", example="10")
    if burst is not None and burst < 1:
        raise InvalidInput(f"burst {burst} must be 1 or more (the requests let through at once)",
                           field="burst", example="20")
    if burst is not None and rate_per_s is None:
        raise InvalidInput("a burst needs a rate: give the rate per second too",
                           field="rate_per_s", example="10")


def _check_models(session: Session, models: list[str]) -> list[str]:
    wanted = sorted(set(models))
    if not wanted:
        raise InvalidInput("a token scoped to models needs at least one model name",
                           field="models", see=see(Listing.MODELS))
    found = set(session.exec(select(RegisteredModel.name)
                             .where(col(RegisteredModel.name).in_(wanted))).all())
    missing = [m for m in wanted if m not in found]
    if missing:
        raise NotFound(f"no model named {missing[0]!r}: a token can only be scoped to models "
                       "that exist", field="models", see=see(Listing.MODELS))
    return wanted


def create_token(store: Store, name: str, role: str, *, models: list[str] | None = None,
                 expires_at: datetime | None = None, rate_per_s: float | None = None,
                 burst: int | None = None, note: str = "",
                 actor: str | None = None) -> dict[str, Any]:
    """A new token; the answer holds its secret under "secret", the only time it is given."""
    check_name(name)
    role_ = checked_role(role)
    check_limits(rate_per_s, burst)
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput(f"expiry {expires_at.isoformat()} is in the past", field="expires_at",
                           example="30d")
    actor = authorize(store, actor, Permission.TOKENS)
    secret = new_secret()
    with store.db.write() as session:
        if session.exec(select(ApiToken.id).where(ApiToken.name == name)).first() is not None:
            raise Conflict(f"a token named {name!r} exists already (names are kept after "
                           "revocation, for the audit log); pick another name",
                           see=see(Listing.TOKENS))
        scope = _check_models(session, models) if models is not None else None
        row = ApiToken(name=name, prefix=secret[:SHOWN_PREFIX], secret_sha256=secret_sha256(secret),
                       role=role_, models=scope, rate_per_s=rate_per_s, burst=burst,
                       expires_at=expires_at, created_by=actor, note=note)
        session.add(row)
        view = token_view(row)
        audit.record(session, actor=actor, action=AuditAction.TOKEN_CREATE, target=_target(name),
                     after={k: view[k] for k in ("prefix", "role", "models", "rate_per_s", "burst",
                                                 "expires_at")},
                     reason=note)
        session.flush()
        return {**token_view(row), "secret": secret}


def list_tokens(store: Store) -> list[dict[str, Any]]:
    now = utcnow()
    with store.db.read() as session:
        return [token_view(t, now) for t in session.exec(select(ApiToken).order_by(col(ApiToken.name)))]


def revoke_token(store: Store, name: str, *, reason: str = "",
                 actor: str | None = None) -> dict[str, Any]:
    """Revoke a token: a running server refuses it within about a second (its cache)."""
    actor = authorize(store, actor, Permission.TOKENS)
    with store.db.write() as session:
        row = session.exec(select(ApiToken).where(ApiToken.name == name)).first()
        if row is None:
            raise NotFound(f"there is no token named {name!r}", field="name", see=see(Listing.TOKENS))
        if row.revoked_at is not None:
            raise Conflict(f"token {name!r} was revoked already, at {row.revoked_at:%Y-%m-%d %H:%M} "
                           f"UTC by {row.revoked_by}", see=see(Listing.TOKENS))
        before = status_of(row)
        row.revoked_at, row.revoked_by = utcnow(), actor
        session.add(row)
        audit.record(session, actor=actor, action=AuditAction.TOKEN_REVOKE, target=_target(name),
                     before={"status": before}, after={"status": "revoked"}, reason=reason)
        session.flush()
        return token_view(row)
