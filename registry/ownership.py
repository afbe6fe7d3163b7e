"""Ownership and hand-over: who owns a model (a user of the store) and which team runs it.

`transfer_model` hands a model to a new owner, e.g. from the data scientists who built it
to operations: the new owner must be one of the store's users, a reason is required, and
the change is audited as model.transfer with the owner and team before and after. It
needs the `transfer` permission (operators and admins hold it; so does the model's
current owner, store/roles.OWNER_MAY).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import select

from store import audit
from store import models as model_store
from store.access import authorize
from store.access_tables import User
from store.errors import InvalidInput, Listing, NotFound, UsageError, see
from store.roles import Permission
from store.vocabulary import AuditAction

if TYPE_CHECKING:
    from store.handle import Store

TEAM_MAX = 80


def ownership_view(owner: str, team: str) -> dict[str, str]:
    return {"owner": owner, "team": team}


def _checked(owner: str, team: str | None, reason: str) -> tuple[str, str | None]:
    owner = (owner or "").strip()
    if not owner:
        raise UsageError("a hand-over names the new owner (a user of the store)", field="owner",
                         example="ops-oncall", see=see(Listing.USERS))
    if not reason.strip():
        raise UsageError("handing a model to a new owner needs a reason (kept in the audit log)",
                         field="reason", example='"operations runs it from now on"')
    if team is not None:
        team = team.strip()
        if len(team) > TEAM_MAX or any(ord(c) < 32 for c in team):
            raise InvalidInput(f"a team is a short name (at most {TEAM_MAX} printable "
                               f"characters), not {team[:40]!r}", field="team", example="ops")
    return owner, team


def transfer_model(store: Store, name: str, owner: str, *, team: str | None = None,
                   reason: str, actor: str | None = None) -> dict[str, Any]:
    """Make `owner` (a user of the store) the model's owner, and `team` its team when
    given (None keeps the team; "" clears it). Audited as model.transfer with before,
    after and the reason. Returns the model's owner and team with `changed`."""
    owner, team = _checked(owner, team, reason)
    actor = authorize(store, actor, Permission.TRANSFER, model=name)
    with store.db.write() as session:
        model = model_store.get_model(session, name)
        if session.exec(select(User).where(User.name == owner)).first() is None:
            known = sorted(session.exec(select(User.name)).all())
            raise NotFound(f"{owner!r} is not a user of this store, so it cannot own model "
                           f"{name!r}; the users: {', '.join(known) or 'none'} (an admin can "
                           "add the account first)", field="owner", see=see(Listing.USERS))
        before = ownership_view(model.owner, model.team)
        model.owner = owner
        if team is not None:
            model.team = team
        after = ownership_view(model.owner, model.team)
        changed = before != after
        if changed:
            session.add(model)
            audit.record(session, actor=actor, action=AuditAction.MODEL_TRANSFER,
                         target=audit.target(name), before=before, after=after, reason=reason)
        return {"model": name, **after, "before": before, "changed": changed}
