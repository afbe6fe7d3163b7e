"""Promotion policy: what happens to a version a scheduled retrain registered after its
gate passed, and the model settings that choose it (criticality, policy, maximum age).

The effective policy is the model's own `promotion_policy`, else the default of its
criticality: a mission-critical model waits for a person (`manual`), an internal one
goes to `staging`. `manual` is carried out by registry.approvals (a pending request with
a report); `staging` by `promote_to_staging` here; `auto` (a canary share for a set period,
then production unless an alert fired on it) by scheduler.canary, which changes the
deployment, with the share and period `canary_settings` gives.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from registry.aliases import AliasMove, promote_in
from store import audit
from store import models as model_store
from store import versions as version_store
from store.access import authorize
from store.errors import InvalidInput, UsageError
from store.roles import Permission
from store.tables import RegisteredModel
from store.vocabulary import ApprovalBy, AuditAction, Criticality, PromotionPolicy

if TYPE_CHECKING:
    from store.handle import Store

STAGING = "staging"
#: `wk models set --policy default`: back to the criticality's default
DEFAULT_POLICY = "default"
#: policy auto, when the model names none: a tenth of the traffic for an hour
DEFAULT_CANARY_SHARE = 0.1
DEFAULT_CANARY_PERIOD_S = 3600
#: `wk models set --approval-by none`: production changes need no one's approval
NO_APPROVAL = "none"
_PERIOD = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def default_policy(criticality: str) -> PromotionPolicy:
    """The policy a model of this criticality gets when it names none."""
    return (PromotionPolicy.MANUAL if criticality == Criticality.MISSION_CRITICAL
            else PromotionPolicy.STAGING)


def effective_policy(model: RegisteredModel) -> PromotionPolicy:
    """The model's own policy, else its criticality's default; `auto` waits for approval
    (manual) while the model's approval policy asks someone to approve production changes."""
    policy = (PromotionPolicy(model.promotion_policy) if model.promotion_policy
              else default_policy(model.criticality))
    if policy is PromotionPolicy.AUTO and model.approval_by:
        return PromotionPolicy.MANUAL
    return policy


def canary_settings(model: RegisteredModel) -> tuple[float, int]:
    """Policy auto: the challenger's share and the canary period in seconds."""
    share = model.canary_share if model.canary_share is not None else DEFAULT_CANARY_SHARE
    period = (model.canary_period_s if model.canary_period_s is not None
              else DEFAULT_CANARY_PERIOD_S)
    return share, period


def parse_period(text: str) -> int:
    """A canary period: '2m' -> 120; units s, m, h, d (a bare number is seconds)."""
    match = _PERIOD.match(text)
    if not match or int(match.group(1)) <= 0:
        raise InvalidInput(f"a canary period is a count and a unit (s, m, h, d), not {text!r}",
                           field="canary_period", example="2m")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _policy_from(model: RegisteredModel) -> str:
    source = ("the model's own setting" if model.promotion_policy else
              f"criticality {model.criticality}")
    if model.promotion_policy == PromotionPolicy.AUTO and model.approval_by:
        source += f"; auto waits for approval by {model.approval_by}"
    return source


def policy_view(model: RegisteredModel) -> dict[str, Any]:
    """The settings as screens and --json show them, with where the policy comes from."""
    share, period = canary_settings(model)
    return {"model": model.name, "criticality": model.criticality,
            "promotion_policy": model.promotion_policy,
            "effective_policy": str(effective_policy(model)),
            "policy_from": _policy_from(model),
            "max_age_days": model.max_age_days,
            "canary_share": share, "canary_period_s": period,
            "approval_by": model.approval_by or NO_APPROVAL}


def promote_to_staging(store: Store, name: str, version: int, *, reason: str,
                       actor: str | None = None) -> AliasMove:
    """Policy `staging`: the version becomes the `staging` alias (audited as a promote)."""
    actor = authorize(store, actor, Permission.PROPOSE, model=name)
    with store.db.write() as session:
        model = model_store.get_model(session, name)
        target = version_store.get_version(session, model, version)
        return promote_in(session, model, target, STAGING, actor=actor, reason=reason)


def _checked_canary(share: float | None, period_s: int | None) -> None:
    if share is not None and not 0.0 < share < 1.0:
        raise InvalidInput(f"a canary share is a fraction between 0 and 1 (exclusive), not "
                           f"{share}", field="canary_share", example="0.1")
    if period_s is not None and period_s <= 0:
        raise InvalidInput(f"a canary period must be at least one second, not {period_s} s",
                           field="canary_period", example="2m")


def _checked_approval_by(approval_by: str | None) -> str | None:
    """The stored form of an approval policy ("none" -> ""), or None when not given."""
    if approval_by is None:
        return None
    allowed = (ApprovalBy.OWNER, ApprovalBy.OPERATOR, NO_APPROVAL)
    if approval_by not in allowed:
        raise InvalidInput(f"approval policy {approval_by!r} is not one of {', '.join(allowed)} "
                           "(who approves production changes)", field="approval_by",
                           example="owner")
    return "" if approval_by == NO_APPROVAL else approval_by


def _checked(criticality: str | None, policy: str | None, max_age_days: int | None,
             canary: tuple[float | None, int | None] = (None, None),
             approval_by: str | None = None) -> None:
    if criticality is None and policy is None and max_age_days is None \
            and canary == (None, None) and approval_by is None:
        raise UsageError("nothing to set: give a criticality, a promotion policy, a maximum "
                         "age, a canary share or period or an approval policy",
                         field="criticality", example="mission-critical")
    _checked_canary(*canary)
    _checked_approval_by(approval_by)
    if criticality is not None and criticality not in tuple(Criticality):
        raise InvalidInput(
            f"criticality {criticality!r} is not one of {', '.join(Criticality)}",
            field="criticality", example="mission-critical")
    allowed = (*PromotionPolicy, DEFAULT_POLICY)
    if policy is not None and policy not in allowed:
        raise InvalidInput(
            f"promotion policy {policy!r} is not one of {', '.join(allowed)} ({DEFAULT_POLICY}: "
            "the criticality's default)", field="policy", example="manual")
    if max_age_days is not None and max_age_days < 0:
        raise InvalidInput(f"the maximum age must be 0 days (no limit) or more, not {max_age_days}",
                           field="max_age_days", example="30")


def set_model(store: Store, name: str, *, criticality: str | None = None,
              policy: str | None = None, max_age_days: int | None = None,
              canary_share: float | None = None, canary_period_s: int | None = None,
              approval_by: str | None = None, actor: str | None = None) -> dict[str, Any]:
    """Change a model's criticality, promotion policy ("default" clears it), maximum age
    in days (0 clears it), policy auto's canary share and period (seconds) or who approves
    its production changes (owner, operator, none: registry/approval_policy.py); audited
    as model.set with the settings before and after."""
    actor = authorize(store, actor, Permission.MODEL_SETTINGS, model=name)
    _checked(criticality, policy, max_age_days, (canary_share, canary_period_s), approval_by)
    with store.db.write() as session:
        model = model_store.get_model(session, name)
        before = policy_view(model)
        if criticality is not None:
            model.criticality = criticality
        if policy is not None:
            model.promotion_policy = None if policy == DEFAULT_POLICY else policy
        if max_age_days is not None:
            model.max_age_days = max_age_days or None
        if canary_share is not None:
            model.canary_share = canary_share
        if canary_period_s is not None:
            model.canary_period_s = canary_period_s
        if approval_by is not None:
            model.approval_by = _checked_approval_by(approval_by) or ""
        session.add(model)
        after = policy_view(model)
        changed = {k: v for k, v in after.items() if before[k] != v}
        if changed:
            audit.record(session, actor=actor, action=AuditAction.MODEL_SET,
                         target=audit.target(name),
                         before={k: before[k] for k in changed}, after=changed)
        return {**after, "changed": sorted(changed)}
