"""A model's own rate limit on the HTTP server (registered_model.rate_per_s and burst):
every caller's requests for the model share one token bucket. Setting it needs the
model-settings permission and is audited as model.set; a running server picks it up
within about a second."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from store import audit
from store import models as model_store
from store.access import authorize
from store.errors import InvalidInput
from store.roles import Permission
from store.vocabulary import AuditAction

if TYPE_CHECKING:
    from store.handle import Store

MAX_RATE_PER_S = 1_000_000.0


def set_rate_limit(store: Store, name: str, rate_per_s: float | None, burst: int | None = None, *,
                   reason: str = "", actor: str | None = None) -> dict[str, Any]:
    """Limit `name` to `rate_per_s` requests a second in bursts of `burst` (default two
    seconds' worth); `rate_per_s` None removes the limit."""
    if rate_per_s is not None and not 0 < rate_per_s <= MAX_RATE_PER_S:
        raise InvalidInput(f"rate {rate_per_s:g} per second must be above 0 and at most "
                           f"{MAX_RATE_PER_S:g}", field="rate_per_s", example="20")
    if burst is not None and (rate_per_s is None or burst < 1):
        raise InvalidInput("a burst must be 1 or more, and needs a rate", field="burst",
                           example="40")
    if rate_per_s is not None and burst is None:
        burst = max(1, round(2 * rate_per_s))
    actor = authorize(store, actor, Permission.MODEL_SETTINGS, model=name)
    with store.db.write() as session:
        model = model_store.get_model(session, name)
        before = {"rate_per_s": model.rate_per_s, "burst": model.burst}
        model.rate_per_s, model.burst = rate_per_s, burst
        session.add(model)
        after = {"rate_per_s": rate_per_s, "burst": burst}
        if after != before:
            audit.record(session, actor=actor, action=AuditAction.MODEL_SET, target=audit.target(name),
                         before=before, after=after, reason=reason)
        return {"model": name, **after, "changed": after != before}
