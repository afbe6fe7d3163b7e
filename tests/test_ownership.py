"""Ownership and hand-over: `transfer_model` gives a model a new owner (a user of the store)
and team with a reason, audited as model.transfer with before and after; `wk models
transfer`, `show` and `list` show owner and team."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import Result
from ownership_store import as_user, build_ownership_store

from registry.ownership import transfer_model
from store import audit as audit_store
from store import models as model_store
from store.errors import NotFound, PermissionDenied, UsageError
from store.handle import Store
from store.tables import AuditEvent
from store.vocabulary import AuditAction


@pytest.fixture
def owned(tmp_path: Path) -> Iterator[Store]:
    store = build_ownership_store(tmp_path / "store")
    yield store
    store.close()


def _events(store: Store, action: str) -> list[AuditEvent]:
    with store.db.read() as session:
        return audit_store.list_events(session, action=action)


def _owner(store: Store) -> tuple[str, str]:
    with store.db.read() as session:
        model = model_store.get_model(session, "credit")
        return model.owner, model.team


def test_transfer_is_audited_with_before_after_and_reason(owned: Store) -> None:
    result = transfer_model(owned, "credit", "ops", team="operations",
                            reason="the data scientists hand it to operations")
    assert (result["owner"], result["team"], result["changed"]) == ("ops", "operations", True)
    assert _owner(owned) == ("ops", "operations")
    [event] = _events(owned, AuditAction.MODEL_TRANSFER)
    assert event.target == "model/credit"
    assert event.before == {"owner": "tests", "team": ""}
    assert event.after == {"owner": "ops", "team": "operations"}
    assert event.reason == "the data scientists hand it to operations"
    assert event.actor == "root"
    # the same hand-over again changes nothing and writes nothing; no --team keeps the team
    again = transfer_model(owned, "credit", "ops", reason="again")
    assert again["changed"] is False and again["team"] == "operations"
    assert len(_events(owned, AuditAction.MODEL_TRANSFER)) == 1


def test_transfer_to_a_non_user_is_refused_and_changes_nothing(owned: Store) -> None:
    with pytest.raises(NotFound, match=r"'mallory' is not a user of this store.*ana, oli, ops"):
        transfer_model(owned, "credit", "mallory", reason="a typo")
    with pytest.raises(UsageError, match="needs a reason"):
        transfer_model(owned, "credit", "ops", reason="  ")
    with pytest.raises(NotFound, match="no-such-model"):
        transfer_model(owned, "no-such-model", "ops", reason="why")
    assert _owner(owned) == ("tests", "")
    assert _events(owned, AuditAction.MODEL_TRANSFER) == []


def test_the_owner_may_hand_over_a_viewer_may_not(owned: Store) -> None:
    transfer_model(owned, "credit", "ana", team="credit-science", reason="ana built it")
    # ana is a scientist (no transfer permission) but owns the model (roles.OWNER_MAY)
    transfer_model(owned, "credit", "ops", team="operations", reason="in production now",
                   actor=as_user("ana"))
    assert _owner(owned) == ("ops", "operations")
    with pytest.raises(PermissionDenied, match="hand a model to a new owner"):
        transfer_model(owned, "credit", "vic", reason="mine now", actor="token:view-token")
    [denied] = _events(owned, AuditAction.ACCESS_DENIED)
    assert denied.actor == "token:view-token" and denied.target == "model/credit"
    # ana no longer owns it: her job cannot take it back
    with pytest.raises(PermissionDenied):
        transfer_model(owned, "credit", "ana", reason="back", actor=as_user("ana"))
    assert _owner(owned) == ("ops", "operations")


def test_cli_transfer_show_and_list(owned: Store, wk: Callable[..., Result],
                                    store_dir: Path) -> None:
    done = wk("models", "transfer", "credit", "--owner", "ops", "--team", "operations",
              "--reason", "handed over", "--json")
    assert done.code == 0, done.err
    assert done.json()["before"] == {"owner": "tests", "team": ""}
    shown = wk("models", "show", "credit", "--json").json()
    assert (shown["owner"], shown["team"], shown["approval_by"]) == ("ops", "operations", "")
    [row] = wk("models", "list", "--json").json()
    assert (row["owner"], row["team"]) == ("ops", "operations")
    text = wk("models", "show", "credit").out
    assert "ops" in text and "operations" in text
    refused = wk("models", "transfer", "credit", "--owner", "nobody", "--reason", "x")
    assert refused.code != 0 and "'nobody' is not a user of this store" in refused.err
    missing = wk("models", "transfer", "credit", "--owner", "ops")
    assert missing.code != 0 and "reason" in missing.err
