"""The store's users: OS accounts with a role. Adding, changing and removing one needs the
`users` permission (admin) and is audited in the same transaction; the last admin can be
neither demoted nor removed, so a store always has someone who can give roles."""

from __future__ import annotations

import pwd
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from store import audit
from store.access import authorize, whoami
from store.access_tables import User
from store.errors import Conflict, InvalidInput, Listing, NotFound, Refused, see
from store.roles import Permission
from store.types import utcnow
from store.vocabulary import AuditAction, Role

if TYPE_CHECKING:
    from store.handle import Store


def user_view(row: User) -> dict[str, Any]:
    return {"name": row.name, "uid": row.uid, "role": row.role,
            "created_at": row.created_at.isoformat(), "created_by": row.created_by,
            "updated_at": row.updated_at.isoformat(), "updated_by": row.updated_by}


def _target(name: str) -> str:
    return f"user/{name}"


def checked_role(role: str) -> Role:
    if role not in tuple(Role):
        raise InvalidInput(f"role {role!r} is not one of {', '.join(Role)}", field="role",
                           example="operator")
    return Role(role)


def _account_uid(name: str) -> int:
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        raise NotFound(f"there is no OS account {name!r} on this host: a user is an OS "
                       "account; create the account first, or check the spelling") from None


def _get(session: Session, name: str) -> User:
    row = session.exec(select(User).where(User.name == name)).first()
    if row is None:
        raise NotFound(f"{name!r} is not a user of this store", field="name",
                       see=see(Listing.USERS))
    return row


def _admins(session: Session) -> int:
    return len(session.exec(select(User.id).where(User.role == Role.ADMIN)).all())


def list_users(store: Store) -> list[dict[str, Any]]:
    with store.db.read() as session:
        return [user_view(u) for u in session.exec(select(User).order_by(col(User.name)))]


def add_user(store: Store, name: str, role: str, *, actor: str | None = None) -> dict[str, Any]:
    role_ = checked_role(role)
    uid = _account_uid(name)
    actor = authorize(store, actor, Permission.USERS)
    with store.db.write() as session:
        if session.exec(select(User).where(User.name == name)).first() is not None:
            raise Conflict(f"{name!r} is already a user of this store", see=see(Listing.USERS))
        row = User(name=name, uid=uid, role=role_, created_by=actor, updated_by=actor)
        session.add(row)
        audit.record(session, actor=actor, action=AuditAction.USER_ADD, target=_target(name),
                     after={"name": name, "uid": uid, "role": str(role_)})
        session.flush()
        return user_view(row)


def set_role(store: Store, name: str, role: str, *, reason: str = "",
             actor: str | None = None) -> dict[str, Any]:
    role_ = checked_role(role)
    actor = authorize(store, actor, Permission.USERS)
    with store.db.write() as session:
        row = _get(session, name)
        before = row.role
        if before == Role.ADMIN and role_ != Role.ADMIN and _admins(session) == 1:
            raise Refused(f"{name} is the store's only admin: make another user admin first, "
                          "so someone can still give roles", see=see(Listing.USERS))
        row.role, row.updated_at, row.updated_by = role_, utcnow(), actor
        session.add(row)
        audit.record(session, actor=actor, action=AuditAction.USER_SET_ROLE, target=_target(name),
                     before={"role": before}, after={"role": str(role_)}, reason=reason)
        session.flush()
        return user_view(row)


def remove_user(store: Store, name: str, *, reason: str = "",
                actor: str | None = None) -> dict[str, Any]:
    actor = authorize(store, actor, Permission.USERS)
    with store.db.write() as session:
        row = _get(session, name)
        if row.role == Role.ADMIN and _admins(session) == 1:
            raise Refused(f"{name} is the store's only admin and cannot be removed: make "
                          "another user admin first", see=see(Listing.USERS))
        view = user_view(row)
        session.delete(row)
        audit.record(session, actor=actor, action=AuditAction.USER_REMOVE, target=_target(name),
                     before={"role": row.role}, reason=reason)
        return view


def me(store: Store) -> dict[str, Any]:
    """The OS account this process runs as and its role here."""
    principal = whoami(store)
    return {"name": principal.account, "role": principal.role}
