"""A deployment's output guardrails, set and cleared (`wk deploy guardrails`): checked by
serving.traffic.guardrails.parse, stored as `deployment.guardrails`, audited as
deployment.guardrails with the config before and after. A running server picks the
change up within its poll interval, as it does any deployment change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from serving.traffic.guardrails import parse
from store import audit
from store import deployments as deployments_q
from store import models as model_store
from store.access import authorize
from store.errors import InvalidInput
from store.roles import Permission
from store.rows import id_of
from store.tables import Deployment
from store.types import utcnow
from store.vocabulary import AuditAction

if TYPE_CHECKING:
    from store.handle import Store


def show(store: Store, name: str) -> dict[str, Any] | None:
    """The model's guardrails as stored (with a one-line description), or None."""
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        dep = deployments_q.find_deployment(session, id_of(model))
        return view(dep.guardrails if dep else None)


def view(stored: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Stored guardrails as shown: the config and a `describe` line."""
    if not stored:
        return None
    try:
        return {**stored, "describe": parse(stored).describe()}
    except InvalidInput as exc:
        return {**stored, "describe": f"not applied: {exc.message}"}


def set_guardrails(store: Store, name: str, config: Mapping[str, Any], *, reason: str = "",
                   actor: str | None = None) -> dict[str, Any]:
    """Replace the model's guardrails with `config` (checked first); returns
    {"model", "guardrails", "before", "changed"}."""
    return _write(store, name, parse(config).as_json(), reason=reason, actor=actor)


def clear_guardrails(store: Store, name: str, *, reason: str = "", actor: str | None = None) -> dict[str, Any]:
    """Take the model's guardrails away: every answer is served as the model gives it."""
    return _write(store, name, None, reason=reason, actor=actor)


def _write(store: Store, name: str, stored: dict[str, Any] | None, *, reason: str,
           actor: str | None) -> dict[str, Any]:
    actor = authorize(store, actor, Permission.DEPLOY, model=name)
    with store.db.write() as session:
        model = model_store.get_model(session, name)
        dep = deployments_q.find_deployment(session, id_of(model))
        before = dep.guardrails if dep else None
        changed = (before or None) != stored
        if changed:
            if dep is None:
                dep = Deployment(model_id=id_of(model))
            dep.guardrails = stored
            dep.updated_at, dep.updated_by, dep.reason = utcnow(), actor, reason
            session.add(dep)
            session.flush()
            audit.record(session, actor=actor, action=AuditAction.GUARDRAIL_SET,
                         target=f"model/{name}/deployment", before={"guardrails": before},
                         after={"guardrails": stored}, reason=reason)
    return {"model": name, "guardrails": view(stored), "before": view(before), "changed": changed}
