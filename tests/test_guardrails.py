"""Output guardrails: the pure check and its config, the service that stores it (audited),
`wk deploy guardrails`, the HTTP app withholding, replacing and flagging answers, and the
guardrail alert kind counting flagged answers."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from serving_store import NUM_ROW, TINY_ROW, build_store, predict

from serving.traffic.guardrails import Action, ClassWindow, Guard, Guardrails, check_answer, parse
from store.errors import InvalidInput

# --- the pure check ------------------------------------------------------------------------


def test_range_and_confidence_are_checked_per_answer() -> None:
    rails = parse({"range": [0, 100], "min_confidence": 0.6, "action": "alert"})
    assert check_answer(rails, {"value": 50.0}) is None
    assert check_answer(rails, {"value": 100.0}) is None  # the bounds are inside
    assert check_answer(rails, {"value": 100.5}) == "range: value 100.5 is above the maximum 100"
    assert check_answer(rails, {"value": -1}) == "range: value -1 is below the minimum 0"
    assert check_answer(rails, {"class": 1, "probabilities": {"0": 0.3, "1": 0.7}}) is None
    low = check_answer(rails, {"class": 1, "probabilities": {"0": 0.45, "1": 0.55}})
    assert low == "min_confidence: top probability 0.55 is below 0.6"
    assert check_answer(rails, {"class": 1}) is None  # no probabilities: no confidence to judge
    open_top = parse({"range": [10, None], "action": "withhold"})
    assert check_answer(open_top, {"value": 1e12}) is None
    assert check_answer(open_top, {"value": 9.99}) is not None


def test_class_share_is_judged_once_the_window_is_full_and_slides() -> None:
    window = ClassWindow(10)
    assert [window.add("a") for _ in range(9)] == [None] * 9  # not full: no share yet
    assert window.add("a") == 1.0
    assert window.add("b") == pytest.approx(0.1)  # the oldest "a" left
    guard = Guard(parse({"max_class_share": 0.8, "window": 10, "action": "alert"}))
    mixed = [{"class": "b"}] * 5 + [{"class": "a"}] * 5
    assert guard.check(mixed) is None  # 10 answers, 50% each
    reasons = guard.check([{"class": "a"}] * 4)  # a: 6, 7, 8, 9 of the last 10
    assert reasons is not None
    assert reasons[:3] == [None, None, None] and reasons[3] is not None
    assert "class 'a' is 90.0% of the last 10 answers (above 80%)" in reasons[3]
    assert guard.check([{"class": "a"}], counts=False) is None  # a stand-in answer is not counted
    assert guard.window is not None and guard.window._counts == {"a": 9, "b": 1}


def test_a_guard_without_flags_returns_none_and_the_stored_form_reads_back() -> None:
    rails = parse({"range": [0, None], "max_class_share": 0.9, "min_confidence": 0.5, "action": "champion"})
    assert rails == Guardrails(Action.CHAMPION, 0.0, None, 0.9, 200, 0.5)
    assert parse(rails.as_json()) == rails
    assert "no class above 90% of the last 200 answers" in rails.describe()
    assert Guard(rails).check([{"value": 3.0}, {"class": 1, "probabilities": {"0": 0.2, "1": 0.8}}]) is None


def test_batch_flags_are_the_same_checks_column_wise() -> None:
    import numpy as np

    from serving.traffic.guardrails import flag_columns

    rails = parse({"range": [0, 10], "min_confidence": 0.6, "action": "alert"})
    values = np.array([-1.0, 5.0, 10.0, 11.0])
    assert flag_columns(rails, values, None) == {i: check_answer(rails, {"value": float(v)})
                                                 for i, v in enumerate(values) if i in (0, 3)}
    top = np.array([0.9, 0.55])
    assert flag_columns(rails, None, top) == {1: check_answer(rails, {"class": 1, "probabilities": {"1": 0.55}})}
    assert flag_columns(parse({"max_class_share": 0.5, "action": "alert"}), values, top) == {}


@pytest.mark.parametrize("config, field, words", [
    ({"range": [0, 1]}, "action", "is not one of withhold, champion, alert"),
    ({"action": "withhold"}, "range", "at least one of range"),
    ({"range": [5, 1], "action": "alert"}, "range", "low bound above its high bound"),
    ({"range": [None, None], "action": "alert"}, "range", "neither bound"),
    ({"range": [0, "x"], "action": "alert"}, "range", "must be a finite number"),
    ({"range": 3, "action": "alert"}, "range", "two bounds"),
    ({"max_class_share": 1.5, "action": "alert"}, "max_class_share", "outside (0, 1]"),
    ({"min_confidence": 0, "action": "alert"}, "min_confidence", "outside (0, 1]"),
    ({"window": 50, "min_confidence": 0.5, "action": "alert"}, "window", "give max_class_share with it"),
    ({"max_class_share": 0.9, "window": 3, "action": "alert"}, "window", "from 10 to 100000"),
    ({"range": [0, 1], "action": "alert", "ceiling": 3}, "ceiling", "unknown guardrail key"),
])
def test_a_bad_config_names_the_key_and_the_fix(config: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(config)
    assert caught.value.field == field
    assert words in caught.value.message


# --- the service and the CLI ---------------------------------------------------------------


def test_set_show_clear_are_audited_and_shown_with_the_deployment(tmp_path: Path) -> None:
    from serving.traffic import deployments, guardrails_config
    from store.handle import open_store

    store = open_store(build_store(tmp_path / "store"))
    try:
        done = guardrails_config.set_guardrails(store, "num", {"min_confidence": 0.6, "action": "alert"},
                                                reason="sanity")
        assert done["changed"] and done["before"] is None
        assert done["guardrails"]["min_confidence"] == 0.6
        again = guardrails_config.set_guardrails(store, "num", {"min_confidence": 0.6, "action": "alert"})
        assert not again["changed"]
        assert "top probability at least 0.6" in deployments.show(store, "num")["guardrails"]["describe"]
        with pytest.raises(InvalidInput):
            guardrails_config.set_guardrails(store, "num", {"min_confidence": 2, "action": "alert"})
        guardrails_config.clear_guardrails(store, "num", reason="done")
        assert guardrails_config.show(store, "num") is None
        with store.db.read() as session:
            from sqlmodel import select

            from store.tables import AuditEvent

            events = session.exec(select(AuditEvent).where(AuditEvent.action == "deployment.guardrails")
                                  .order_by(AuditEvent.id)).all()  # type: ignore[arg-type]
        assert [(e.before, e.after, e.reason) for e in events] == [
            ({"guardrails": None}, {"guardrails": {"min_confidence": 0.6, "action": "alert"}}, "sanity"),
            ({"guardrails": {"min_confidence": 0.6, "action": "alert"}}, {"guardrails": None}, "done")]
    finally:
        store.close()


def test_only_a_role_that_may_deploy_sets_guardrails_and_a_refusal_is_audited(tmp_path: Path) -> None:
    from serving.traffic import guardrails_config
    from store.access_tables import ApiToken
    from store.errors import PermissionDenied
    from store.handle import open_store
    from store.tables import AuditEvent

    store = open_store(build_store(tmp_path / "store"))
    try:
        with store.db.write() as session:
            for role in ("viewer", "operator"):
                session.add(ApiToken(name=role, prefix=role, secret_sha256=role * 8, role=role))
        with pytest.raises(PermissionDenied):
            guardrails_config.set_guardrails(store, "num", {"min_confidence": 0.6, "action": "alert"},
                                             actor="token:viewer")
        assert guardrails_config.show(store, "num") is None
        guardrails_config.set_guardrails(store, "num", {"min_confidence": 0.6, "action": "alert"},
                                         actor="token:operator")
        with store.db.read() as session:
            from sqlmodel import select

            actions = [(e.actor, e.action) for e in session.exec(select(AuditEvent)).all()
                       if e.target.startswith("model/num")]
        assert ("token:viewer", "access.denied") in actions
        assert ("token:operator", "deployment.guardrails") in actions
    finally:
        store.close()


def test_wk_deploy_guardrails_sets_shows_and_clears(wk: Callable[..., Any], store_dir: Path) -> None:
    build_store(store_dir)
    r = wk("deploy", "guardrails", "num", "--range", "0:", "--min-confidence", "60%", "--action", "withhold",
           "--reason", "sanity", "--json")
    assert r.code == 0, r.err
    assert r.json()["guardrails"]["range"] == [0.0, None] and r.json()["changed"]
    shown = wk("deploy", "show", "num", "--no-chart")
    assert "guardrails" in shown.out and "top probability at least 0.6; action withhold" in shown.out
    assert wk("deploy", "guardrails", "num", "--json").json()["guardrails"]["action"] == "withhold"
    bad = wk("deploy", "guardrails", "num", "--range", "9:1", "--action", "alert")
    assert bad.code != 0 and "low bound above its high bound" in bad.err and "--range" in bad.err
    assert wk("deploy", "guardrails", "num", "--range", "1-9", "--action", "alert").code != 0
    assert "add --action" in wk("deploy", "guardrails", "num", "--range", "0:1").err
    assert wk("deploy", "guardrails", "num", "--min-confidence", "0.9999", "--action", "withhold").code == 0
    answered = wk("predict", "num", "--row", json.dumps(NUM_ROW), "--json")  # wk predict only flags
    assert answered.code == 0, answered.err
    flagged = rows(store_dir, "SELECT guardrail FROM prediction WHERE source = 'cli'")
    assert len(flagged) == 1 and flagged[0][0].startswith("flagged: min_confidence")
    assert wk("deploy", "guardrails", "num", "--clear", "--json").json()["guardrails"] is None


# --- through the HTTP app ------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, Any, Path]]:
    """The test store with `reg` (a linear regressor, v1 production) added, served."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    from registry.aliases import promote
    from registry.registration import register_estimator
    from serving.http.api import ServerConfig
    from serving.http.app import make_app
    from store.handle import open_store

    root = build_store(tmp_path / "store")
    store = open_store(root)
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    register_estimator(store, "reg", LinearRegression().fit(frame, 10 * frame.a + 3), training_data=frame)
    promote(store, "reg", 1, "production", reason="tests")
    app = make_app(store, ServerConfig(max_body_bytes=64 * 1024, max_rows=100, timeout_s=5.0))
    with TestClient(app) as client:
        yield client, app.state.api, root
    store.close()


def _guard(api: Any, root: Path, model: str, config: dict[str, Any] | None, **deployment: Any) -> None:
    from serving.traffic import deployments, guardrails_config
    from store.handle import open_store

    store = open_store(root)
    try:
        if deployment:
            deployments.set_deployment(store, model, reason="test", **deployment)
        if config is None:
            guardrails_config.clear_guardrails(store, model)
        else:
            guardrails_config.set_guardrails(store, model, config, reason="test")
    finally:
        store.close()
    api.state.refresh()  # what the poller does within its interval


def rows(root: Path, sql: str) -> list[Any]:
    conn = sqlite3.connect(root / "watchkeeper.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_an_answer_out_of_range_is_withheld_with_422_and_logged_flagged(served: Any) -> None:
    client, api, root = served
    inside, outside = {"a": 0.1, "b": 0.0, "c": 0.0}, {"a": 50.0, "b": 0.0, "c": 0.0}  # ~4 and ~503
    _guard(api, root, "reg", {"range": [-100, 100], "action": "withhold"})
    ok = predict(client, "reg", {"row": inside})
    assert ok.status_code == 200, ok.text
    r = predict(client, "reg", {"rows": [inside, outside], "request_id": "out-1"})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "guardrail" and "outside the deployment's guardrails" in error["message"]
    (problem,) = error["problems"]
    assert problem["row"] == 1 and "range: value" in problem["problem"] and "above the maximum 100" in problem["problem"]
    logged = rows(root, "SELECT prediction_id, request_id, row_index, guardrail, inputs FROM prediction "
                        "WHERE guardrail IS NOT NULL")
    assert len(logged) == 1
    pid, request_id, row_index, reason, inputs = logged[0]
    assert (request_id, row_index) == ("out-1", 1) and reason.startswith("withheld: range: value")
    assert pid in problem["problem"] and json.loads(inputs) == outside
    assert rows(root, "SELECT count(*) FROM prediction WHERE guardrail IS NULL") == [(1,)]  # the fine call
    assert rows(root, "SELECT sum(errors) FROM metric_rollup") == [(2,)]  # both rows of the refused request
    again = predict(client, "reg", {"rows": [inside, outside], "request_id": "out-1"})
    assert again.status_code == 422 and again.json()["error"]["code"] == "guardrail"
    assert rows(root, "SELECT count(*) FROM prediction") == [(2,)]  # the retry logged nothing new
    _guard(api, root, "reg", None)
    assert predict(client, "reg", {"row": outside}).status_code == 200


def test_a_challengers_answer_outside_is_answered_by_the_champion(served: Any) -> None:
    client, api, root = served
    # every answer's top probability is below 0.999: each challenger answer is replaced
    _guard(api, root, "tiny", {"min_confidence": 0.999, "action": "champion"},
           mode="canary", challenger="2", share=1.0)
    r = predict(client, "tiny", {"rows": [TINY_ROW, {**TINY_ROW, "x1": 2.0}], "request_id": "ch-1"})
    assert r.status_code == 200, r.text
    answer = r.json()["predictions"]
    assert [(p["version"], p["route"]) for p in answer] == [(1, "champion"), (1, "champion")]
    logged = rows(root, "SELECT prediction_id, route, row_index, guardrail FROM prediction ORDER BY route, row_index")
    champion = [row for row in logged if row[1] == "champion"]
    challenger = [row for row in logged if row[1] == "challenger"]
    assert [row[0] for row in champion] == [p["prediction_id"] for p in answer]
    assert [row[2] for row in challenger] == [0, 1]
    for (_pid, _route, _idx, reason), (champion_id, *_rest) in zip(challenger, champion, strict=True):
        assert reason.startswith("replaced by the champion: min_confidence") and champion_id in reason
    assert all(row[3].startswith("flagged: min_confidence") for row in champion)  # given as it is, flagged
    replay = predict(client, "tiny", {"rows": [TINY_ROW, {**TINY_ROW, "x1": 2.0}], "request_id": "ch-1"})
    assert replay.status_code == 200
    assert [p["prediction_id"] for p in replay.json()["predictions"]] == [p["prediction_id"] for p in answer]


def test_alert_only_flags_without_changing_the_answer_and_the_alert_fires(served: Any) -> None:
    from monitoring import alert_pass
    from monitoring.alert_service import add_rule
    from store.handle import open_store
    from store.types import utcnow

    client, api, root = served
    sent = [{**NUM_ROW, "a": a / 4} for a in range(-6, 6)]
    before = [predict(client, "num", {"row": r}).json()["predictions"][0] for r in sent]
    _guard(api, root, "num", {"min_confidence": 0.9, "action": "alert"})
    after = [predict(client, "num", {"row": r}).json()["predictions"][0] for r in sent]

    def strip(p: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in p.items() if k != "prediction_id"}
    assert [strip(p) for p in after] == [strip(p) for p in before]
    unsure = sum(max(p["probabilities"].values()) < 0.9 for p in after)
    assert unsure > 0, "the rows should include answers below 0.9"
    flagged = rows(root, "SELECT guardrail FROM prediction WHERE guardrail IS NOT NULL")
    assert len(flagged) == unsure and all(f.startswith("flagged: min_confidence") for (f,) in flagged)
    store = open_store(root)
    try:
        add_rule(store, name="num-guardrail", kind="guardrail", model="num", params={"count": unsure - 1})
        add_rule(store, name="num-guardrail-share", kind="guardrail", model="num",
                 params={"share": 0.9, "min_answers": 5})
        alert_pass.evaluate(store, now=utcnow() + timedelta(seconds=1))
        from alert_store import conditions

        assert conditions(store) == {"num-guardrail": ["holds"], "num-guardrail-share": ["clear"]}
        later = utcnow() + timedelta(hours=2)  # the window has moved past them
        alert_pass.evaluate(store, now=later)
        assert conditions(store)["num-guardrail"] == ["clear"]
    finally:
        store.close()


def test_a_champions_own_answer_and_a_shadows_are_only_flagged(served: Any) -> None:
    """Action champion: the champion's own answer (nothing to replace it with) and a
    shadow's (never returned) are flagged and answered; an unguarded model is untouched."""
    import time

    client, api, root = served
    _guard(api, root, "tiny", {"min_confidence": 0.999, "action": "champion"}, mode="shadow", challenger="2")
    r = predict(client, "tiny", {"row": TINY_ROW})
    assert r.status_code == 200, r.text
    assert r.json()["predictions"][0]["route"] == "champion"
    assert predict(client, "num", {"row": NUM_ROW}).status_code == 200
    deadline = time.monotonic() + 5
    while not rows(root, "SELECT guardrail FROM prediction WHERE route = 'shadow'"):
        assert time.monotonic() < deadline, "the shadow row was not logged"
        time.sleep(0.05)
    logged = dict(rows(root, "SELECT route, guardrail FROM prediction p JOIN registered_model m "
                             "ON m.id = p.model_id WHERE m.name = 'tiny'"))
    assert set(logged) == {"champion", "shadow"}
    assert all(reason.startswith("flagged: min_confidence") for reason in logged.values())
    assert rows(root, "SELECT guardrail FROM prediction p JOIN registered_model m ON m.id = p.model_id "
                      "WHERE m.name = 'num'") == [(None,)]


def test_batch_scoring_flags_rows_outside_and_changes_nothing_else(tmp_path: Path) -> None:
    import pandas as pd

    from serving.batch.io import parse_sink, parse_source
    from serving.batch.run import score_batch
    from serving.traffic import guardrails_config
    from store.handle import open_store

    root = build_store(tmp_path / "store")
    store = open_store(root)
    try:
        source = tmp_path / "in.csv"
        pd.DataFrame([{**NUM_ROW, "a": a / 2} for a in range(-10, 10)]).to_csv(source, index=False)
        guardrails_config.set_guardrails(store, "num", {"min_confidence": 0.9, "max_class_share": 0.5,
                                                        "action": "withhold"})
        done = score_batch(store, "num", parse_source(str(source), None), parse_sink(str(tmp_path / "out.csv"), None),
                           run_id="flagged-run")
        assert done["rows_scored"] == 20
    finally:
        store.close()
    out = pd.read_csv(tmp_path / "out.csv")
    top = out[["proba_0", "proba_1"]].max(axis=1)
    logged = dict(rows(root, "SELECT row_index, guardrail FROM prediction WHERE batch_run_id = 'flagged-run'"))
    assert len(logged) == 20
    flagged = {i for i, reason in logged.items() if reason is not None}
    assert flagged == set(top.index[top < 0.9]) and flagged  # no class share in a batch: only confidence
    assert all(logged[i].startswith("flagged: min_confidence") for i in flagged)
