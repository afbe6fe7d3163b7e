"""Applies a model's approval policy (registry/approval_policy.decide) to a production
change: the promote and approve functions call `guard_production` once, before their own
write transaction. A refusal is audited as access.denied (in its own transaction, like
every denial) and raised as PermissionDenied with the policy's words.

Who asked for an approval is read from the audit log (the request's
version.approval_request event), so four eyes needs no column of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from registry.approval_policy import decide
from store import audit
from store import models as model_store
from store.access import JOB_PREFIX, Principal, record_denial, resolve
from store.errors import Listing, PermissionDenied, see
from store.roles import Permission
from store.vocabulary import ApprovalBy, AuditAction

if TYPE_CHECKING:
    from sqlmodel import Session

    from store.handle import Store

PRODUCTION = "production"


def identity(principal: Principal) -> str:
    """Who a principal is for the policy: a token by its name ("token:NAME"), a user or a
    job by the account whose role applies."""
    return principal.name if principal.kind == "token" else principal.account


def requester(session: Session, name: str, version: int) -> str:
    """Who requested the approval of `name` v`version` (identity's form; "" unknown)."""
    events = audit.list_events(session, action=AuditAction.APPROVAL_REQUEST,
                               target_prefix=audit.target(name, version), limit=1)
    if not events:
        return ""
    actor = events[0].actor
    if actor.startswith(JOB_PREFIX):
        job = resolve(session, actor)
        return job.account if job.kind == "job" else actor
    return actor


def _number(version: int | str | None) -> int | None:
    try:
        return int(str(version).lstrip("v")) if version is not None else None
    except ValueError:
        return None  # the caller refuses the version itself


def guard_production(store: Store, name: str, actor: str | None, *,
                     alias: str = PRODUCTION, approving: int | str | None = None) -> None:
    """Refuse (audited) a change of `name`'s production alias that its approval policy does
    not allow: a direct promote (`approving` None) or the approval of `approving`. Other
    aliases, models without a policy and models that do not exist pass (the caller says)."""
    if alias != PRODUCTION:
        return
    with store.db.read() as session:
        model = model_store.find_model(session, name)
        if model is None or not model.approval_by:
            return
        principal = resolve(session, actor)
        number = _number(approving)
        asked_by = requester(session, name, number) if number is not None else ""
        problem = decide(model.approval_by, model.owner, identity(principal), principal.role,
                         asked_by, approving is not None, model=name)
        policy = ApprovalBy(model.approval_by)
    if problem is None:
        return
    permission = Permission.APPROVE if approving is not None else Permission.PROMOTE
    record_denial(store, principal, permission, name, problem)
    needs = ("owner", "admin") if policy is ApprovalBy.OWNER else ("operator", "admin")
    raise PermissionDenied(problem, permission=str(permission), needs=needs,
                           role=str(principal.role) if principal.role else None,
                           see=see(Listing.APPROVALS, name))
