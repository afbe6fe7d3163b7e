"""`wk serve --model NAME` as a drop-in for `mlflow models serve`: the requests MLflow's
own ScoringServerClient sends (mlflow.pyfunc.scoring_server.client, MLflow 3.17: GET /ping
until it answers 200, then POST /invocations with `dump_input_data(frame)` as
application/json), CSV bodies, and input columns the model does not take ignored and
named, where /predict stays strict. bench/mlflow_client.py runs the real client."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from serving_store import build_store, predict

from serving.http.api import IGNORED_HEADER, ServerConfig
from serving.http.app import make_app
from store.handle import open_store

#: byte for byte what ScoringServerClient.invoke sends for
#: pd.DataFrame({"x1": [0.5, -1.25], "x2": [1.0, 0.0], "colour": ["red", "blue"], "note": ["a", "b"]})
CLIENT_BODY = (b'{"dataframe_split": {"index": [0, 1], "columns": ["x1", "x2", "colour", "note"], '
               b'"data": [[0.5, 1.0, "red", "a"], [-1.25, 0.0, "blue", "b"]]}}')
CLIENT_HEADERS = {"Content-Type": "application/json", "User-Agent": "python-requests/2.32.5",
                  "Accept-Encoding": "gzip, deflate", "Accept": "*/*", "Connection": "keep-alive"}
ROWS = [{"x1": 0.5, "x2": 1.0, "colour": "red"}, {"x1": -1.25, "x2": 0.0, "colour": "blue"}]


def _client(root: Path, models: frozenset[str] | None) -> Iterator[TestClient]:
    store = open_store(root)
    app = make_app(store, ServerConfig(timeout_s=5.0, models=models))
    with TestClient(app) as client:
        yield client
    store.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("mlflow") / "store", versions=1)


@pytest.fixture
def alone(built: Path) -> Iterator[TestClient]:
    """`wk serve --model tiny`"""
    yield from _client(built, frozenset({"tiny"}))


@pytest.fixture
def several(built: Path) -> Iterator[TestClient]:
    """`wk serve` (every model with a production alias)"""
    yield from _client(built, None)


def _logged_inputs(root: Path, ids: list[str]) -> list[dict[str, Any]]:
    with sqlite3.connect(root / "watchkeeper.db") as db:
        marks = ", ".join("?" * len(ids))
        found = dict(db.execute(f"SELECT prediction_id, inputs FROM prediction WHERE prediction_id IN ({marks})",
                                ids).fetchall())
    return [json.loads(found[i]) for i in ids]


def test_mlflows_client_requests_score_at_the_root_like_the_native_route(alone: TestClient, built: Path) -> None:
    ping = alone.get("/ping", headers=CLIENT_HEADERS)
    assert ping.status_code == 200 and ping.text == "\n"
    assert alone.get("/health").status_code == 200
    version = alone.get("/version")
    assert version.status_code == 200 and version.text[0].isdigit()
    r = alone.post("/invocations", content=CLIENT_BODY, headers=CLIENT_HEADERS)
    assert r.status_code == 200, r.text
    body = r.json()
    assert r.headers[IGNORED_HEADER] == "note"
    native = predict(alone, "tiny", {"rows": ROWS}).json()["predictions"]
    assert body["predictions"] == [p["class"] for p in native]  # the class, as MLflow's sklearn flavour
    # the rows logged are the rows scored: without the ignored column
    assert _logged_inputs(built, body["prediction_ids"]) == ROWS


def test_the_same_answer_at_the_models_own_mlflow_route_and_its_ping(alone: TestClient) -> None:
    root = alone.post("/invocations", content=CLIENT_BODY, headers=CLIENT_HEADERS).json()
    own = alone.post("/v1/models/tiny/invocations", content=CLIENT_BODY, headers=CLIENT_HEADERS).json()
    assert own["predictions"] == root["predictions"]
    assert alone.get("/v1/models/tiny/ping").status_code == 200
    unknown = alone.get("/v1/models/nope/ping")
    assert unknown.status_code == 404 and "not served here" in unknown.json()["error"]["message"]


def test_a_csv_body_scores_as_mlflow_reads_it(alone: TestClient) -> None:
    csv = b"x1,x2,colour,note\n0.5,1.0,red,a\n-1.25,0,blue,b\n"
    r = alone.post("/invocations", content=csv, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    as_json = alone.post("/invocations", content=CLIENT_BODY, headers=CLIENT_HEADERS).json()
    assert r.json()["predictions"] == as_json["predictions"]
    assert r.headers[IGNORED_HEADER] == "note"
    bad = alone.post("/invocations", content=b"x1,x2,colour\nabc,1,red\n", headers={"Content-Type": "text/csv"})
    assert bad.status_code == 422 and "x1" in bad.text and "expected a number" in bad.text
    empty = alone.post("/invocations", content=b"", headers={"Content-Type": "text/csv"})
    assert empty.status_code == 400 and "CSV body is empty" in empty.text


def test_predict_stays_strict_about_unknown_columns(alone: TestClient) -> None:
    r = predict(alone, "tiny", {"row": {**ROWS[0], "note": "a"}})
    assert r.status_code == 422 and "unknown field" in r.text
    assert IGNORED_HEADER not in alone.post("/invocations", json={"dataframe_records": ROWS}).headers


def test_root_routes_need_a_single_served_model(several: TestClient) -> None:
    """With several models the root /invocations would have to guess: it is not there."""
    assert several.post("/invocations", content=CLIENT_BODY, headers=CLIENT_HEADERS).status_code == 404
    assert several.get("/ping").status_code == 404
    assert several.get("/v1/models/tiny/ping").status_code == 200
