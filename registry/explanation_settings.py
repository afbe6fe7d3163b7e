"""Whether a model keeps the explanation of every prediction explained (its owner's ask
for audits): registered_model.store_explanations, changed like the model's other settings
(Permission.MODEL_SETTINGS) and audited as model.set."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from store import audit
from store import models as model_store
from store.access import authorize
from store.roles import Permission
from store.vocabulary import AuditAction

if TYPE_CHECKING:
    from store.handle import Store


def set_store_explanations(store: Store, name: str, keep: bool, *,
                           actor: str | None = None) -> dict[str, Any]:
    """Turn keeping explanations on or off; returns {"model", "store_explanations", "changed"}."""
    actor = authorize(store, actor, Permission.EXPLANATIONS, model=name)
    with store.db.write() as session:
        model = model_store.get_model(session, name)
        before = bool(model.store_explanations)
        changed = before != keep
        if changed:
            model.store_explanations = keep
            session.add(model)
            audit.record(session, actor=actor, action=AuditAction.MODEL_SET, target=audit.target(name),
                         before={"store_explanations": before}, after={"store_explanations": keep})
        return {"model": name, "store_explanations": keep,
                "changed": ["store_explanations"] if changed else []}
