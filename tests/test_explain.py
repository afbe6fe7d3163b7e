"""wk explain: a logged prediction replayed through the version that answered (artifact
hash-checked), the same output as logged, and per-feature contributions that add up to
the output minus the baseline; refusals for a tampered artifact and for a prediction
whose inputs were not logged; the explanation kept with its audit row."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from explain_store import build_explain_store, rows_of

from serving.explain import contributions as c

CREDIT_FEATURES = {"income", "age", "debt_ratio", "credit_history_months", "n_open_loans",
                   "employment_type", "region"}


# --- the math, without a store ------------------------------------------------------------

def test_linear_contributions_sum_to_the_decision_value_minus_the_baseline() -> None:
    rng = np.random.default_rng(1)
    coef, z, ref = rng.normal(size=6), rng.normal(size=6), rng.normal(size=(50, 6))
    owners = ["a", "b", "b", "c", "c", "c"]  # b and c one-hot encoded: summed back
    result = c.linear(coef, 0.3, z, ref, owners, ["a", "b", "c"])
    mean = ref.mean(axis=0)
    assert result.output == pytest.approx(coef @ z + 0.3, abs=1e-12)
    assert result.baseline == pytest.approx(coef @ mean + 0.3, abs=1e-12)
    assert result.as_dict()["b"] == pytest.approx(coef[1] * (z[1] - mean[1]) + coef[2] * (z[2] - mean[2]))
    assert result.gap <= 1e-9


def test_exact_shapley_of_an_interaction_and_of_an_additive_model() -> None:
    x, b = np.array([2.0, 3.0, 5.0]), np.array([[1.0, -1.0, 0.5]])

    def value_of(f: Callable[[np.ndarray], float]) -> Callable[[np.ndarray], np.ndarray]:
        return lambda masks: np.array([f(np.where(m, x, b[0])) for m in masks])

    def product(v: np.ndarray) -> float:
        return float(v[0] * v[1])

    result = c.shapley(["x0", "x1", "x2"], value_of(product), output=product(x))
    # one background row: x0 and x1 split the interaction's change evenly, x2 adds nothing
    half = 0.5 * ((x[0] * b[0, 1] - b[0, 0] * b[0, 1]) + (x[0] * x[1] - b[0, 0] * x[1]))
    assert result.as_dict()["x0"] == pytest.approx(half)
    assert result.as_dict()["x2"] == 0.0
    assert result.gap <= 1e-12 and result.method == "shapley-exact"

    def additive(v: np.ndarray) -> float:
        return float(v[0] ** 2 + 3 * v[1] - v[2])

    parts = c.shapley(["x0", "x1", "x2"], value_of(additive), output=additive(x)).values
    assert parts == pytest.approx((x[0] ** 2 - b[0, 0] ** 2, 3 * (x[1] - b[0, 1]), -(x[2] - b[0, 2])))


def test_many_features_are_sampled_by_permutation_and_still_add_up() -> None:
    n = c.EXACT_MAX_FEATURES + 2
    x, b = np.arange(n, dtype=float), np.zeros(n)
    weights = np.linspace(-1, 1, n)

    def value_of(masks: np.ndarray) -> np.ndarray:
        return np.array([float(weights @ np.where(m, x, b)) + float(m[0] and m[1]) for m in masks])

    result = c.shapley([f"f{i}" for i in range(n)], value_of, output=float(weights @ x) + 1.0)
    assert result.method == "shapley-sampled" and result.gap <= 1e-9
    assert result.values[5] == pytest.approx(weights[5] * x[5])  # no interaction: exact
    assert result.values[0] + result.values[1] == pytest.approx(weights[1] * x[1] + 1.0)


# --- wk explain on both sample models ------------------------------------------------------

@pytest.fixture
def explained(store_dir: Path) -> Any:
    """The store with both sample models; yields it open."""
    from store.handle import open_store

    build_explain_store(store_dir)
    store = open_store(store_dir)
    yield store
    store.close()


def _predict(store: Any, model: str, count: int) -> list[dict[str, Any]]:
    from serving.scoring.local import predict_rows

    return list(predict_rows(store, model, rows_of(model, count=count))["predictions"])


def test_credit_is_explained_exactly_in_log_odds(explained: Any, wk: Any) -> None:
    # 7 rows in one request: the last 3 are a BLAS block's remainder, which round the last
    # bit differently from a row alone (replayed with their request)
    answered = _predict(explained, "credit", 7)
    how = set()
    for p in answered:
        r = wk("explain", p["prediction_id"], "--json")
        assert r.code == 0, r.err
        e = r.json()
        logged = {k: p[k] for k in ("class", "probabilities")}
        assert e["reproduced"] is True and e["replayed_output"] == logged == e["logged_output"]
        assert e["compared"] == "class and probabilities" and e["hash_checked"] is True
        assert e["method"] == "linear" and e["space"] == "log-odds of class 1"
        assert {x["feature"] for x in e["contributions"]} == CREDIT_FEATURES
        total = math.fsum(x["contribution"] for x in e["contributions"])
        assert abs(total - (e["output"] - e["baseline"])) <= 1e-9
        # the explained log-odds are the model's: its sigmoid is the logged probability
        assert 1 / (1 + math.exp(-e["output"])) == pytest.approx(logged["probabilities"]["1"], abs=1e-12)
        assert e["probability"] == logged["probabilities"]["1"]
        assert e["reference"]["source"] == "training" and e["stored"] is False
        how.add(e["replayed_as"].split(" (")[0])
    assert "alone" in how
    r = wk("explain", answered[0]["prediction_id"][:-4])  # a prefix, the text view
    assert r.code == 0 and "CONTRIBUTION" in r.out.upper() and "log-odds" in r.out and "debt_ratio" in r.out


def test_demand_is_explained_by_exact_shapley_values(explained: Any, wk: Any) -> None:
    for p in _predict(explained, "demand", 2):
        e = wk("explain", p["prediction_id"], "--json").json()
        assert e["reproduced"] is True and e["replayed_output"] == {"value": p["value"]}
        assert e["compared"] == "value" and e["method"] == "shapley-exact" and e["space"] == "value"
        assert e["output"] == p["value"]  # the prediction itself, in demand units
        total = math.fsum(x["contribution"] for x in e["contributions"])
        assert abs(total - (e["output"] - e["baseline"])) <= 1e-9 * max(1.0, abs(e["output"]))
        assert len(e["contributions"]) == 7 and e["reference"]["rows"] > 10


def test_a_tampered_artifact_is_refused_with_the_hash_error(explained: Any, wk: Any) -> None:
    from registry.models import show_model

    p = _predict(explained, "credit", 1)[0]
    sha = show_model(explained, "credit")["versions"][0]["sha256"]
    path = explained.artifacts.path_for(sha)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    r = wk("explain", p["prediction_id"])
    assert "failed its integrity check" in r.err and sha in r.err
    refused = wk("predict", "credit", "--row", '{"income": 1}')  # the existing integrity error
    assert "failed its integrity check" in refused.err
    assert r.code == refused.code != 0


def test_metadata_only_predictions_say_why_they_cannot_be_explained(explained: Any, wk: Any) -> None:
    from serving.traffic.deployments import set_deployment

    set_deployment(explained, "demand", log_mode="metadata", reason="tests")
    p = _predict(explained, "demand", 1)[0]
    r = wk("explain", p["prediction_id"], "--json")
    assert r.code == 1 and "cannot be explained: no inputs logged" in r.err
    assert "metadata only" in r.err and "log mode to full" in r.err


def test_an_explanation_is_kept_with_its_audit_row(explained: Any, wk: Any) -> None:
    from sqlmodel import select

    from store.explanations import get_explanation
    from store.tables import AuditEvent

    first, second = _predict(explained, "credit", 2)
    e = wk("explain", first["prediction_id"], "--store-result", "--json").json()
    assert e["stored"] is True
    # the owner asks for every explanation to be kept: one made without the flag is kept too
    s = wk("models", "set", "demand", "--store-explanations", "on", "--json")
    assert s.code == 0 and s.json()["store_explanations"] is True
    d = _predict(explained, "demand", 1)[0]
    assert wk("explain", d["prediction_id"], "--json").json()["stored"] is True
    assert wk("explain", second["prediction_id"], "--json").json()["stored"] is False  # credit: not asked
    with explained.db.read() as session:
        kept = get_explanation(session, first["prediction_id"])
        assert kept is not None and kept["method"] == "linear" and kept["reproduced"] is True
        assert kept["contributions"]["features"] == {x["feature"]: x["contribution"] for x in e["contributions"]}
        assert kept["output"] == e["output"] and kept["baseline"] == e["baseline"]
        assert get_explanation(session, second["prediction_id"]) is None
        events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    kept_events = [ev for ev in events if ev.action == "prediction.explain"]
    assert [ev.after["prediction_id"] for ev in kept_events] == [first["prediction_id"], d["prediction_id"]]
    assert kept_events[0].target == "model/credit/v1" and kept_events[0].reason == "asked"
    assert any(ev.action == "model.set" and ev.after == {"store_explanations": True} for ev in events)


def test_e_on_the_prediction_screen_shows_the_explanation(explained: Any, store_dir: Path) -> None:
    import asyncio

    from console.app import make_app
    from console.screens.explanation import ExplanationScreen

    p = _predict(explained, "credit", 1)[0]

    async def scenario() -> None:
        app = make_app(store_dir, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.run_command(f"prediction {p['prediction_id']}")
            for _ in range(400):
                await pilot.pause(0.05)
                if getattr(app.screen, "data", None) is not None:
                    break
            await pilot.press("e")
            for _ in range(400):
                await pilot.pause(0.05)
                if isinstance(app.screen, ExplanationScreen):
                    break
            assert isinstance(app.screen, ExplanationScreen)
            e = app.screen.explanation
            assert e["prediction_id"] == p["prediction_id"] and e["reproduced"] is True
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, ExplanationScreen)

    asyncio.run(scenario())


def test_a_replay_that_differs_from_the_log_says_so_and_fails(explained: Any, wk: Any) -> None:
    import orjson
    from sqlalchemy import update

    from store.tables import Prediction

    p = _predict(explained, "demand", 1)[0]
    with explained.db.write() as session:  # the log says something the model never answered
        session.execute(update(Prediction).where(Prediction.prediction_id == p["prediction_id"])
                        .values(outputs=orjson.dumps({"value": p["value"] + 1.0}).decode()))
    r = wk("explain", p["prediction_id"])
    assert r.code == 1 and "DIFFERENT value" in r.out and "did not give the logged output" in r.err
    e = wk("explain", p["prediction_id"], "--json")
    assert e.code == 1 and e.json()["reproduced"] is False
    assert e.json()["replayed_output"] == {"value": p["value"]}


def test_a_viewer_may_explain_but_not_keep_an_explanation(explained: Any) -> None:
    from sqlmodel import select

    from registry.explanation_settings import set_store_explanations
    from serving.explain.replay import explain_prediction
    from store.access_tables import ApiToken
    from store.errors import PermissionDenied
    from store.explanations import get_explanation
    from store.tables import AuditEvent

    with explained.db.write() as session:
        session.add(ApiToken(name="auditor", prefix="wk_aud", secret_sha256="0" * 64, role="viewer"))
    p = _predict(explained, "credit", 1)[0]
    seen = explain_prediction(explained, p["prediction_id"], actor="token:auditor")  # a read
    assert seen["reproduced"] is True and seen["stored"] is False
    with pytest.raises(PermissionDenied, match="needs the role"):
        explain_prediction(explained, p["prediction_id"], store_result=True, actor="token:auditor")
    set_store_explanations(explained, "credit", True)
    kept = explain_prediction(explained, p["prediction_id"], actor="token:auditor")
    assert kept["stored"] is False and "permission denied" in kept["not_stored"]
    with explained.db.read() as session:
        assert get_explanation(session, p["prediction_id"]) is None
        denied = session.exec(select(AuditEvent).where(AuditEvent.action == "access.denied")).all()
    assert [d.actor for d in denied] == ["token:auditor"]  # the refused --store-result


def test_transformed_columns_map_back_to_their_input_features() -> None:
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from serving.explain.features import linear_model

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.5, 0.1, 0.2, 0.9],
                          "colour": ["red", "blue", "red", "green"], "unused": [0, 0, 1, 1]})
    y = [0, 1, 0, 1]
    ct = ColumnTransformer([("num", StandardScaler(), ["a", "b"]),
                            ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"])])
    lm = linear_model(Pipeline([("pre", ct), ("lr", LogisticRegression())]).fit(frame, y), list(frame))
    assert lm is not None and lm.space == "log-odds"
    assert lm.owners == ["a", "b", "colour", "colour", "colour"]  # "unused" dropped
    mixed = Pipeline([("pre", ColumnTransformer([("pca", PCA(1), ["a", "b"])])),
                      ("lr", LinearRegression())]).fit(frame, [1.0, 2.0, 3.0, 5.0])
    assert linear_model(mixed, list(frame)) is None  # a PCA component has no single owner: Shapley
