"""Who may do what: the permissions, the roles that hold each, and the words a denial uses.

Pure data and functions (no database): store/access.py applies them to the acting user
or token. The README's permission table is this table, and tests/test_permissions.py
keeps the two equal. `admin` holds every permission; the other roles hold the ones listed.
"""

from __future__ import annotations

from enum import StrEnum

from store.vocabulary import Role


class Permission(StrEnum):
    READ = "read"  # list and show anything, explain a prediction
    PREDICT = "predict"  # score over HTTP or the CLI
    TRAIN = "train"  # train, reproduce a run
    REGISTER = "register"  # register or import a version, archive one
    PROPOSE = "propose"  # move a non-production alias (staging), request an approval
    LABEL = "label"  # labels, the labelling queue, feedback
    CHECK = "check"  # drift / quality / performance checks by hand, pin a reference
    SCORE_BATCH = "score-batch"  # batch scoring into the log
    DEPLOY = "deploy"  # deployment mode, challenger, share, guardrails, canary
    PROMOTE = "promote"  # move the production alias
    ROLLBACK = "rollback"  # roll production or a deployment back
    APPROVE = "approve"  # approve or reject a waiting version
    MODEL_SETTINGS = "model-settings"  # criticality, promotion policy, age, rate limit
    TRANSFER = "transfer"  # a model's owner and team (its owner may too)
    EXPLANATIONS = "explanations"  # keep explanations with a model's predictions (its owner may too)
    RESPOND = "respond"  # acknowledge, resolve, silence alerts; act from an alert
    JOBS = "jobs"  # add, edit, run, pause, resume, remove jobs
    MAINTAIN = "maintain"  # back up and vacuum the store
    RULES = "rules"  # alert rules
    CHANNELS = "channels"  # notification channels
    USERS = "users"  # users and their roles
    TOKENS = "tokens"  # API tokens
    RETENTION = "retention"  # prune old predictions and reports


_ALL = frozenset(Role)
_SCI = frozenset({Role.SCIENTIST, Role.ADMIN})
_OPS = frozenset({Role.OPERATOR, Role.ADMIN})
_SCI_OPS = frozenset({Role.SCIENTIST, Role.OPERATOR, Role.ADMIN})
_ADMIN = frozenset({Role.ADMIN})

#: permission -> the roles that hold it
ROLES_OF: dict[Permission, frozenset[Role]] = {
    Permission.READ: _ALL,
    Permission.PREDICT: _ALL,
    Permission.TRAIN: _SCI,
    Permission.REGISTER: _SCI,
    Permission.PROPOSE: _SCI_OPS,  # operators ask for approvals too (four eyes)
    Permission.LABEL: _SCI,
    Permission.CHECK: _SCI_OPS,
    Permission.SCORE_BATCH: _SCI_OPS,
    Permission.DEPLOY: _OPS,
    Permission.PROMOTE: _OPS,
    Permission.ROLLBACK: _OPS,
    Permission.APPROVE: _OPS,
    Permission.MODEL_SETTINGS: _OPS,
    Permission.TRANSFER: _OPS,
    Permission.EXPLANATIONS: _OPS,
    Permission.RESPOND: _OPS,
    Permission.JOBS: _OPS,
    Permission.MAINTAIN: _OPS,
    Permission.RULES: _ADMIN,
    Permission.CHANNELS: _ADMIN,
    Permission.USERS: _ADMIN,
    Permission.TOKENS: _ADMIN,
    Permission.RETENTION: _ADMIN,
}

#: permissions a model's owner holds on that model whatever the owner's role (above viewer)
OWNER_MAY: frozenset[Permission] = frozenset({Permission.TRANSFER, Permission.EXPLANATIONS})
#: ... and, where the model's production changes need its owner's approval, these too
OWNER_APPROVAL_MAY: frozenset[Permission] = frozenset({Permission.PROMOTE, Permission.APPROVE})

#: what each permission lets one do, in the words of a denial and of the README's table
WHAT: dict[Permission, str] = {
    Permission.READ: "read models, versions, logs, reports, alerts and the audit log",
    Permission.PREDICT: "score rows",
    Permission.TRAIN: "train a model or reproduce a run",
    Permission.REGISTER: "register, import or archive a version",
    Permission.PROPOSE: "move a non-production alias or ask for an approval",
    Permission.LABEL: "label predictions",
    Permission.CHECK: "run a drift, quality or performance check or pin a reference",
    Permission.SCORE_BATCH: "score a batch into the log",
    Permission.DEPLOY: "change a deployment",
    Permission.PROMOTE: "promote a version to production",
    Permission.ROLLBACK: "roll production back",
    Permission.APPROVE: "approve or reject a version",
    Permission.MODEL_SETTINGS: "change a model's settings",
    Permission.TRANSFER: "hand a model to a new owner",
    Permission.EXPLANATIONS: "keep explanations with a model's predictions",
    Permission.RESPOND: "acknowledge, resolve or silence alerts, or act from one",
    Permission.JOBS: "add, run, pause or remove jobs",
    Permission.MAINTAIN: "back up or vacuum the store",
    Permission.RULES: "change alert rules",
    Permission.CHANNELS: "change notification channels",
    Permission.USERS: "change users and roles",
    Permission.TOKENS: "create or revoke API tokens",
    Permission.RETENTION: "prune old predictions and reports",
}

ROLE_ORDER: tuple[Role, ...] = (Role.VIEWER, Role.SCIENTIST, Role.OPERATOR, Role.ADMIN)


def allows(role: Role | str | None, permission: Permission) -> bool:
    """Whether `role` holds `permission` (no role: only reading)."""
    if role is None:
        return permission is Permission.READ
    return Role(role) in ROLES_OF[permission]


def needed_roles(permission: Permission) -> tuple[Role, ...]:
    return tuple(r for r in ROLE_ORDER if r in ROLES_OF[permission])


def denial(who: str, role: Role | str | None, permission: Permission) -> str:
    """'permission denied: to promote a version to production needs the role operator or
    admin; ana is a viewer'."""
    needs = " or ".join(needed_roles(permission))
    is_what = f"is {_article(str(role))} {role}" if role else "is not a user of this store (reads only)"
    return (f"permission denied: to {WHAT[permission]} ({permission}) needs the role {needs}; "
            f"{who} {is_what}; an admin can give the role")


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def permission_table() -> list[tuple[Permission, dict[Role, bool]]]:
    """Each permission with, per role, whether it holds it (the README's table)."""
    return [(p, {r: allows(r, p) for r in ROLE_ORDER}) for p in Permission]
