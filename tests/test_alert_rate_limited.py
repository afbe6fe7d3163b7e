"""The `rate-limited` alert kind: an API token that keeps hitting its rate limit (read
from token_usage, which the server fills per token and minute), one target per token."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from alert_store import add_token_usage, build_alert_store, conditions, notifications
from conftest import Result

from monitoring import alert_pass
from monitoring.alert_rules import params_of, rate_limited
from monitoring.alert_service import add_rule
from store import alerts as alert_store
from store.errors import InvalidInput
from store.types import utcnow
from store.vocabulary import AlertKind, Condition


def test_the_condition() -> None:
    params = params_of(AlertKind.RATE_LIMITED, None)
    assert (params["window_s"], params["min_limited"], params["share"]) == (900, 100, 0.0)
    held = rate_limited(600, 300, params)
    assert held.condition == Condition.HOLDS and held.value == 300
    assert "300 of 600 requests refused" in held.reason and "15 min" in held.reason
    assert rate_limited(600, 99, params).condition == Condition.CLEAR
    assert rate_limited(600, 100, params).condition == Condition.HOLDS
    quiet = rate_limited(0, 0, params)  # a caller that stopped is not hitting its limit
    assert quiet.condition == Condition.CLEAR and quiet.value == 0
    half = params_of(AlertKind.RATE_LIMITED, {"share": 0.5})
    assert rate_limited(600, 300, half).condition == Condition.HOLDS
    assert rate_limited(1000, 300, half).condition == Condition.CLEAR  # 30%: a busy caller
    assert rate_limited(10, 0, params_of(AlertKind.RATE_LIMITED, {"min_limited": 0})
                        ).condition == Condition.CLEAR  # 0 refusals never fire


def test_a_harvesting_token_fires_then_resolves(tmp_path: Path) -> None:
    store, _ids = build_alert_store(tmp_path / "store")
    add_rule(store, name="harvest", kind="rate-limited", channels=["hook"],
             params={"window_s": 900, "min_limited": 100})
    add_rule(store, name="steady-only", kind="rate-limited", params={"token": "steady"})
    t1 = utcnow() + timedelta(days=1)
    add_token_usage(store, "harvester", t1, 10, requests=60, limited=30)  # 300 refused
    add_token_usage(store, "steady", t1, 10, requests=60, limited=0)
    add_token_usage(store, "harvester", t1 - timedelta(hours=2), 5, requests=60, limited=60)
    alert_pass.evaluate(store, now=t1)
    got = conditions(store)
    assert sorted(got["harvest"]) == ["clear", "holds"] and got["steady-only"] == ["clear"]
    with store.db.read() as session:
        [alert] = [a for a in alert_store.list_alerts(session) if a.rule_name == "harvest"]
        assert alert.labels["token"] == "harvester" and alert.labels["kind"] == "rate-limited"
        assert alert.value == 300 and "300 of 600 requests refused" in alert.reason
    assert len(notifications(store)) == 1

    t2 = t1 + timedelta(hours=1)
    add_token_usage(store, "harvester", t2, 10, requests=20, limited=0)
    summary = alert_pass.evaluate(store, now=t2)
    assert conditions(store) == {"harvest": ["clear", "clear"], "steady-only": ["clear"]}
    assert summary.transitions.get("resolved") == 1
    assert len(notifications(store)) == 2


def test_rules_add_from_the_cli(wk: Callable[..., Result], store_dir: Path) -> None:
    store, _ids = build_alert_store(store_dir)
    done = wk("alerts", "rules", "add", "harvest", "--kind", "rate-limited", "--set",
              "min_limited=50", "--set", "window_s=600", "--set", "token=harvester", "--json")
    assert done.code == 0, done.err
    assert done.json()["params"] == {"min_limited": 50, "window_s": 600, "token": "harvester"}
    refused = wk("alerts", "rules", "add", "bad", "--kind", "rate-limited", "--model", "credit")
    assert refused.code != 0 and "store-wide" in refused.err
    add_token_usage(store, "harvester", utcnow(), 5, requests=40, limited=20)
    assert wk("alerts", "evaluate").code == 0
    listed = wk("alerts", "list")
    assert "harvest" in listed.out and "harvester" in listed.out, listed.out


def test_unknown_settings_are_refused(tmp_path: Path) -> None:
    store, _ids = build_alert_store(tmp_path / "store")
    with pytest.raises(InvalidInput, match="min_limited"):
        add_rule(store, name="x", kind="rate-limited", params={"limit": 5})
