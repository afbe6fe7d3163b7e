"""The one permission check: every service function that changes something asks it first.

`authorize(store, actor, permission, model=...)` finds who is acting and their role,
refuses with the role the action needs, and writes that refusal to the audit log in its
own transaction (the action's own transaction never opens). It returns the name the
action records as its actor.

Who is acting:
- an actor "token:NAME" is an API token the HTTP server has checked: its role and the
  models it is scoped to;
- an actor "job:NAME" is a scheduled job: it acts with the role of the user who added it;
- anything else (a name or None) is the process's OS account (its uid, never an
  environment variable): a name passed by code is only what the audit row records, it
  grants nothing. An account the store does not list may only read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from store import audit
from store.access_tables import ApiToken, User
from store.errors import Listing, PermissionDenied, see
from store.identity import current_actor
from store.roles import OWNER_APPROVAL_MAY, OWNER_MAY, Permission, allows, denial, needed_roles
from store.types import utcnow
from store.vocabulary import ApprovalBy, AuditAction, Role

if TYPE_CHECKING:
    from store.handle import Store
    from store.tables import RegisteredModel

TOKEN_PREFIX = "token:"
JOB_PREFIX = "job:"


@dataclass(frozen=True)
class Principal:
    """Who is acting: the name the audit records, the role, and a token's model scope."""

    name: str
    role: Role | None
    kind: str = "user"  # user | token | job
    models: tuple[str, ...] | None = None  # a token scoped to some models; None: all
    account: str = ""  # the user whose role applies (the job's owner, the OS account)


def user_role(session: Session, name: str) -> Role | None:
    row = session.exec(select(User).where(User.name == name)).first()
    return Role(row.role) if row is not None else None


def resolve(session: Session, actor: str | None) -> Principal:
    """The principal behind `actor` (see the module's doc)."""
    if actor and actor.startswith(TOKEN_PREFIX):
        name = actor[len(TOKEN_PREFIX):]
        token = session.exec(select(ApiToken).where(ApiToken.name == name)).first()
        live = token is not None and token.revoked_at is None and (
            token.expires_at is None or token.expires_at > utcnow())
        if token is None or not live:
            return Principal(actor, None, "token", (), account=name)
        return Principal(actor, Role(token.role), "token",
                         tuple(token.models) if token.models else None, account=name)
    if actor and actor.startswith(JOB_PREFIX):
        from store.job_tables import Job

        job = session.exec(select(Job).where(Job.name == actor[len(JOB_PREFIX):])).first()
        if job is not None and job.created_by and not job.created_by.startswith(JOB_PREFIX):
            owner = resolve(session, job.created_by) if job.created_by.startswith(TOKEN_PREFIX) \
                else Principal(job.created_by, user_role(session, job.created_by))
            return Principal(actor, owner.role, "job", owner.models, account=job.created_by)
    account = current_actor()
    return Principal(actor or account, user_role(session, account), "user", account=account)


def _owned(session: Session, principal: Principal, model: str | None) -> RegisteredModel | None:
    """The model, when `principal` (a user above viewer, not a token) is its owner."""
    if model is None or principal.kind == "token" or principal.role in (None, Role.VIEWER):
        return None
    from store.tables import RegisteredModel

    row = session.exec(select(RegisteredModel).where(RegisteredModel.name == model)).first()
    return row if row is not None and row.owner and row.owner == principal.account else None


def check(session: Session, principal: Principal, permission: Permission,
          model: str | None = None) -> str | None:
    """None when allowed; otherwise the denial's words."""
    if principal.kind == "token" and principal.role is None:
        return (f"permission denied: {principal.name} is revoked, expired or unknown; an admin "
                "can create a new token")
    if principal.models is not None and model is not None and model not in principal.models:
        scope = ", ".join(principal.models) or "no model"
        return (f"permission denied: {principal.name} is scoped to {scope}, not to model "
                f"{model!r}")
    if allows(principal.role, permission):
        return None
    if permission in OWNER_MAY | OWNER_APPROVAL_MAY:
        owned = _owned(session, principal, model)
        if owned is not None and (permission in OWNER_MAY or owned.approval_by == ApprovalBy.OWNER):
            return None
    who = principal.name if principal.kind != "job" else \
        f"{principal.name} (acting for {principal.account})"
    return denial(who, principal.role, permission)


def authorize(store: Store, actor: str | None, permission: Permission, *,
              model: str | None = None) -> str:
    """The actor's name if it may; else audit the refusal and raise PermissionDenied."""
    return authorize_principal(store, actor, permission, model=model).name


def owner_of_work(principal: Principal) -> str:
    """Whose role a job added by `principal` acts with: the token, or the account (a job
    added by another job keeps that job's owner)."""
    return principal.name if principal.kind == "token" else principal.account


def authorize_principal(store: Store, actor: str | None, permission: Permission, *,
                        model: str | None = None) -> Principal:
    """As authorize, returning who is acting."""
    with store.db.read() as session:
        principal = resolve(session, actor)
        problem = check(session, principal, permission, model)
    if problem is None:
        return principal
    record_denial(store, principal, permission, model, problem)
    raise PermissionDenied(problem, permission=str(permission),
                           needs=tuple(str(r) for r in needed_roles(permission)),
                           role=str(principal.role) if principal.role else None,
                           see=see(Listing.USERS))


def record_denial(store: Store, principal: Principal, permission: Permission,
                  model: str | None, problem: str) -> None:
    with store.db.write() as session:
        audit.record(session, actor=principal.name, action=AuditAction.ACCESS_DENIED,
                     target=audit.target(model) if model else f"permission/{permission}",
                     after={"permission": str(permission),
                            "role": str(principal.role) if principal.role else None,
                            "needs": [str(r) for r in needed_roles(permission)]},
                     reason=problem)


def capabilities(store: Store, actor: str | None = None,
                 model: str | None = None) -> dict[Permission, str | None]:
    """Per permission: None when the actor holds it, else why not (for the console's
    disabled actions); nothing is audited, nothing refused."""
    return access_of(store, actor, model)[1]


def access_of(store: Store, actor: str | None = None, model: str | None = None
              ) -> tuple[Principal, dict[Permission, str | None]]:
    """Who the actor is and, per permission, why not (None: allowed), in one read."""
    with store.db.read() as session:
        principal = resolve(session, actor)
        return principal, {p: check(session, principal, p, model) for p in Permission}


def whoami(store: Store) -> Principal:
    with store.db.read() as session:
        return resolve(session, None)
