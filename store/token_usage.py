"""The HTTP server's side of API tokens: what it caches (every token with its hash,
role, scope, limits, expiry and revocation; each model's rate limit) and the use it
records (api_token.last_used_at and uses, token_usage per token per minute), all read
and written by the server's background thread, never per request.

Also the server's default rate limit, from [serving] in watchkeeper.toml:

    [serving]
    rate_per_s = 50   # each token's requests per second, unless the token sets its own
    burst = 100       # requests let through at once
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlmodel import col, select

from store.access_tables import ApiToken, TokenUsage
from store.config import config_path, read_config
from store.errors import InvalidInput
from store.markers import self_recording
from store.tables import RegisteredModel

if TYPE_CHECKING:
    from store.handle import Store

SERVING_EXAMPLE = "[serving]\nrate_per_s = 50\nburst = 100"


@dataclass(frozen=True)
class TokenRow:
    """One token as the server's cache holds it (no secret: only its hash)."""

    id: int
    name: str
    secret_sha256: str
    role: str
    models: frozenset[str] | None
    rate_per_s: float | None
    burst: int | None
    expires_at: float | None  # epoch seconds
    revoked: bool


@dataclass(frozen=True)
class Limits:
    rate_per_s: float
    burst: int


def token_rows(store: Store) -> list[TokenRow]:
    with store.db.read() as session:
        rows = session.exec(select(ApiToken)).all()
        return [TokenRow(t.id or 0, t.name, t.secret_sha256, t.role,
                         frozenset(t.models) if t.models is not None else None, t.rate_per_s,
                         t.burst, t.expires_at.timestamp() if t.expires_at else None,
                         t.revoked_at is not None) for t in rows]


def model_limits(store: Store) -> dict[str, Limits]:
    """The models with a rate limit set (registered_model.rate_per_s, burst)."""
    with store.db.read() as session:
        rows = session.exec(select(RegisteredModel.name, RegisteredModel.rate_per_s,
                                   RegisteredModel.burst)
                            .where(col(RegisteredModel.rate_per_s).is_not(None))).all()
    return {name: Limits(float(rate), int(burst) if burst else max(1, round(float(rate))))
            for name, rate, burst in rows if rate is not None and rate > 0}


@dataclass
class UsageDelta:
    """Use of one token to add: its requests and refusals per minute (epoch minute)."""

    token_id: int
    last_used: float  # epoch seconds
    minutes: dict[int, tuple[int, int]]  # minute -> (requests, limited)


@self_recording("token use is counted by the server for each token (uses, last use, per-minute "
                "rows); the token's creation and revocation are audited")
def record_usage(store: Store, deltas: list[UsageDelta]) -> None:
    """Add the deltas in one transaction: the tokens' uses and last use, and their rows in
    token_usage (one per token per minute, added to when it exists)."""
    if not deltas:
        return
    with store.db.write() as session:
        for d in deltas:
            requests = sum(r for r, _ in d.minutes.values())
            last = datetime.fromtimestamp(d.last_used, UTC)
            token = session.get(ApiToken, d.token_id)
            if token is None:  # deleted meanwhile (an admin's cleanup): nothing to add to
                continue
            token.uses = (token.uses or 0) + requests
            if token.last_used_at is None or token.last_used_at < last:
                token.last_used_at = last
            session.add(token)
            for minute, (req, limited) in d.minutes.items():
                at = datetime.fromtimestamp(minute * 60, UTC)
                changed = session.exec(
                    update(TokenUsage)
                    .where(col(TokenUsage.token_id) == d.token_id, col(TokenUsage.minute) == at)
                    .values(requests=col(TokenUsage.requests) + req,
                            limited=col(TokenUsage.limited) + limited))
                if not changed.rowcount:
                    session.add(TokenUsage(token_id=d.token_id, minute=at, requests=req,
                                           limited=limited))


def usage_rows(store: Store, token: str) -> list[dict[str, Any]]:
    """A token's use per minute, oldest first."""
    with store.db.read() as session:
        rows = session.exec(select(TokenUsage).join(ApiToken, col(ApiToken.id) == TokenUsage.token_id)
                            .where(ApiToken.name == token).order_by(col(TokenUsage.minute))).all()
        return [{"minute": u.minute.isoformat(), "requests": u.requests, "limited": u.limited}
                for u in rows]


def default_limits(root: Path | None) -> Limits | None:
    """[serving] rate_per_s and burst from the store's settings; None when unset."""
    if root is None:
        return None
    serving = read_config(root).get("serving", {})
    path = config_path(root)
    if not isinstance(serving, dict):
        raise InvalidInput(f"'serving' in {path} must be a table", field="serving",
                           example=SERVING_EXAMPLE)
    rate, burst = serving.get("rate_per_s"), serving.get("burst")
    if rate is None:
        if burst is not None:
            raise InvalidInput(f"[serving] burst in {path} needs rate_per_s too", field="rate_per_s",
                               example=SERVING_EXAMPLE)
        return None
    if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
        raise InvalidInput(f"[serving] rate_per_s in {path} must be a number above 0, not {rate!r}",
                           field="rate_per_s", example=SERVING_EXAMPLE)
    if burst is not None and (isinstance(burst, bool) or not isinstance(burst, int) or burst < 1):
        raise InvalidInput(f"[serving] burst in {path} must be a whole number, 1 or more, not "
                           f"{burst!r}", field="burst", example=SERVING_EXAMPLE)
    return Limits(float(rate), burst if burst is not None else max(1, round(2 * rate)))
