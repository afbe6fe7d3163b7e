"""The approval policy of production changes (`wk models set --approval-by`): the pure
decision (registry/approval_policy.decide) case by case, then through the promote,
approve and rollback service functions with users, tokens and jobs acting in-process
(tests/ownership_store.py). Denials are audited as access.denied."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import Result
from ownership_store import as_user, build_ownership_store

from registry import aliases
from registry.approval_policy import decide
from registry.approvals import approve, request_approval
from registry.ownership import transfer_model
from registry.promotion import set_model
from serving.traffic import deployments
from store import audit as audit_store
from store import deployments as deployments_q
from store import models as model_store
from store.errors import InvalidInput, PermissionDenied
from store.handle import Store
from store.rows import id_of
from store.tables import AuditEvent
from store.vocabulary import AuditAction

# --- the pure decision ----------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "scientist", "operator", "admin", None])
def test_no_policy_leaves_it_to_the_role_table(role: str | None) -> None:
    assert decide("", "ops", "someone", role) is None
    assert decide("", "ops", "someone", role, "someone", via_approval=True) is None


def test_owner_policy() -> None:
    assert decide("owner", "ops", "ops", "operator") is None  # the owner promotes
    assert decide("owner", "ops", "root", "admin") is None  # so does an admin
    refused = decide("owner", "ops", "oli", "operator", model="credit")
    assert refused is not None and "request an approval" in refused and "ops" in refused
    assert decide("owner", "ops", "ops", "operator", "ana", via_approval=True) is None
    assert decide("owner", "ops", "root", "admin", "ana", via_approval=True) is None
    refused = decide("owner", "ops", "oli", "operator", "ana", via_approval=True)
    assert refused is not None and "approved by its owner ops or an admin" in refused
    # a token is never the owner, even one named like it
    assert decide("owner", "ops", "token:ops", "operator") is not None
    # no owner: only an admin
    assert decide("owner", "", "oli", "operator") is not None
    assert decide("owner", "", "root", "admin") is None


def test_operator_policy_is_four_eyes() -> None:
    for role in ("operator", "admin", "scientist"):
        refused = decide("operator", "ops", "oli", role)
        assert refused is not None and "request an approval" in refused  # never direct
    assert decide("operator", "ops", "oli", "operator", "ana", via_approval=True) is None
    assert decide("operator", "ops", "root", "admin", "ana", via_approval=True) is None
    own = decide("operator", "ops", "oli", "operator", "oli", via_approval=True)
    assert own is not None and "four eyes" in own
    assert decide("operator", "ops", "root", "admin", "root", via_approval=True) is not None
    assert decide("operator", "ops", "ana", "scientist", "oli", via_approval=True) is not None
    assert decide("operator", "ops", "x", None, "oli", via_approval=True) is not None


# --- through the service layer --------------------------------------------------------


@pytest.fixture
def owned(store_dir: Path) -> Iterator[Store]:
    """credit (v1 production, v2) handed to ops (an operator), at WK_STORE."""
    store = build_ownership_store(store_dir)
    transfer_model(store, "credit", "ops", team="operations", reason="handed over")
    yield store
    store.close()


def _production(store: Store) -> int | None:
    with store.db.read() as session:
        model = model_store.get_model(session, "credit")
        version = deployments_q.champion_version(session, id_of(model))
        return version.version if version is not None else None


def _denials(store: Store) -> list[AuditEvent]:
    with store.db.read() as session:
        return audit_store.list_events(session, action=AuditAction.ACCESS_DENIED)


def test_setting_the_policy_is_validated_and_audited(owned: Store) -> None:
    out = set_model(owned, "credit", approval_by="owner")
    assert out["approval_by"] == "owner" and out["changed"] == ["approval_by"]
    with owned.db.read() as session:
        [event] = audit_store.list_events(session, action=AuditAction.MODEL_SET)
        assert model_store.get_model(session, "credit").approval_by == "owner"
    assert (event.before, event.after) == ({"approval_by": "none"}, {"approval_by": "owner"})
    assert set_model(owned, "credit", approval_by="none")["approval_by"] == "none"
    with pytest.raises(InvalidInput, match="approval policy 'anyone'"):
        set_model(owned, "credit", approval_by="anyone")


def test_owner_policy_through_promote_approve_and_rollback(owned: Store) -> None:
    set_model(owned, "credit", approval_by="owner")
    with pytest.raises(PermissionDenied, match="need its owner's approval"):
        aliases.promote(owned, "credit", 2, "production", reason="v2 is better",
                        actor="token:ops-token")
    assert _production(owned) == 1
    [denied] = _denials(owned)
    assert (denied.actor, denied.target) == ("token:ops-token", "model/credit")
    assert denied.after is not None and denied.after["permission"] == "promote"
    assert "approval policy" in denied.reason
    aliases.promote(owned, "credit", 2, "staging", reason="other aliases are free",
                    actor="token:ops-token")
    aliases.promote(owned, "credit", 2, "production", reason="the owner's call",
                    actor=as_user("ops"))
    assert _production(owned) == 2
    # rollback is never blocked by the policy (the 3am path)
    aliases.rollback(owned, "credit", "production", reason="3am", actor="token:ops-token")
    assert _production(owned) == 1
    # the others ask; only the owner (or an admin) approves
    request_approval(owned, "credit", 2, reason="v2 again", actor="token:sci-token")
    with pytest.raises(PermissionDenied, match="approved by its owner ops or an admin"):
        approve(owned, "credit", 2, reason="looks fine", actor="token:ops-token")
    assert _production(owned) == 1 and len(_denials(owned)) == 2
    assert _denials(owned)[0].after["permission"] == "approve"  # type: ignore[index]
    approve(owned, "credit", 2, reason="the owner agrees", actor=as_user("ops"))
    assert _production(owned) == 2


def test_owner_policy_covers_promoting_a_challenger(owned: Store) -> None:
    set_model(owned, "credit", approval_by="owner")
    deployments.set_deployment(owned, "credit", mode="shadow", challenger=2, reason="try v2")
    with pytest.raises(PermissionDenied):
        deployments.promote(owned, "credit", reason="v2 won", actor="token:ops-token")
    assert _production(owned) == 1
    deployments.promote(owned, "credit", reason="v2 won", actor=as_user("ops"))
    assert _production(owned) == 2
    deployments.rollback(owned, "credit", reason="3am", actor="token:ops-token")
    assert _production(owned) == 1


def test_operator_policy_four_eyes(owned: Store) -> None:
    set_model(owned, "credit", approval_by="operator")
    for actor in (None, as_user("ops"), "token:ops-token"):  # the admin and the owner too
        with pytest.raises(PermissionDenied, match="request an approval"):
            aliases.promote(owned, "credit", 2, "production", reason="direct", actor=actor)
    assert _production(owned) == 1 and len(_denials(owned)) == 3
    request_approval(owned, "credit", 2, reason="v2 please")  # root, the store's admin
    with pytest.raises(PermissionDenied, match="four eyes"):
        approve(owned, "credit", 2, reason="my own request")
    assert _production(owned) == 1
    approve(owned, "credit", 2, reason="checked by a second person", actor="token:ops-token")
    assert _production(owned) == 2
    aliases.rollback(owned, "credit", "production", reason="3am")
    assert _production(owned) == 1


def test_a_token_cannot_approve_its_own_request(owned: Store) -> None:
    set_model(owned, "credit", approval_by="operator")
    request_approval(owned, "credit", 2, reason="v2", actor="token:ops-token")
    with pytest.raises(PermissionDenied, match="four eyes"):
        approve(owned, "credit", 2, reason="mine", actor="token:ops-token")
    approve(owned, "credit", 2, reason="another operator", actor="token:ops-token-2")
    assert _production(owned) == 2


def test_policy_auto_waits_for_approval_while_the_model_asks_for_one(owned: Store) -> None:
    out = set_model(owned, "credit", policy="auto")
    assert out["effective_policy"] == "auto"
    out = set_model(owned, "credit", approval_by="owner")
    assert out["effective_policy"] == "manual"  # a retrain leaves a request, no canary
    assert out["policy_from"] == "the model's own setting; auto waits for approval by owner"
    assert set_model(owned, "credit", approval_by="none")["effective_policy"] == "auto"


def test_a_request_made_by_a_job_counts_as_its_creators(owned: Store) -> None:
    set_model(owned, "credit", approval_by="operator")
    request_approval(owned, "credit", 2, reason="nightly retrain", actor=as_user("oli"))
    with pytest.raises(PermissionDenied, match="four eyes"):
        approve(owned, "credit", 2, reason="oli's own job asked", actor=as_user("oli"))
    approve(owned, "credit", 2, reason="a second operator", actor=as_user("ops"))
    assert _production(owned) == 2


def test_cli_set_request_and_refusals(owned: Store, wk: Callable[..., Result]) -> None:
    done = wk("models", "set", "credit", "--approval-by", "operator", "--json")
    assert done.code == 0 and done.json()["approval_by"] == "operator", done.err
    direct = wk("models", "promote", "credit", "2", "production", "--reason", "direct")
    assert direct.code == 5 and "request an approval" in direct.err
    asked = wk("models", "request-approval", "credit", "2", "--reason", "v2", "--json")
    assert asked.code == 0 and asked.json()["status"] == "pending", asked.err
    own = wk("models", "approve", "credit", "2", "--reason", "mine")
    assert own.code == 5 and "four eyes" in own.err
    back = wk("models", "rollback", "credit", "production", "--reason", "3am")
    assert back.code == 5 and "no previous version" in back.err  # refused for its own reason
    assert wk("models", "set", "credit", "--approval-by", "none").code == 0
    assert wk("models", "promote", "credit", "2", "production", "--reason", "ok").code == 0
