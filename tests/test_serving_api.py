"""The HTTP API in process (FastAPI's TestClient runs the real app with its lifespan: the
log writer and predictor threads, the store on disk): answers, errors, the log, traffic
strategies, hot reload, feedback, metrics."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from serving_store import NUM_ROW, TINY_ROW, build_store, predict

from serving.http.api import ServerConfig
from serving.http.app import make_app
from serving.traffic import deployments
from store.handle import open_store


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, Any, Path]]:
    root = build_store(tmp_path / "store")
    store = open_store(root)
    app = make_app(store, ServerConfig(max_body_bytes=64 * 1024, max_rows=100, timeout_s=5.0))
    with TestClient(app) as client:
        yield client, app.state.api, root
    store.close()


def rows(root: Path, sql: str) -> list[Any]:
    conn = sqlite3.connect(root / "watchkeeper.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_predict_answers_with_an_id_per_row_that_is_in_the_log(served: Any) -> None:
    client, _api, root = served
    r = predict(client, "tiny", {"rows": [TINY_ROW, {**TINY_ROW, "colour": "blue"}], "request_id": "req-1"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == "tiny" and body["request_id"] == "req-1"
    ids = [p["prediction_id"] for p in body["predictions"]]
    assert len(set(ids)) == 2
    p = body["predictions"][0]
    assert p["version"] == 1 and p["route"] == "champion" and p["class"] in (0, 1)
    assert sum(p["probabilities"].values()) == pytest.approx(1.0)
    logged = rows(root, "SELECT prediction_id, route, source, request_id, row_index, inputs FROM prediction "
                        "ORDER BY row_index")
    assert [r[0] for r in logged] == ids
    assert {r[1:4] for r in logged} == {("champion", "api", "req-1")}
    assert '"colour":"red"' in logged[0][5]


def test_array_and_frame_models_both_answer(served: Any) -> None:
    client, api, _root = served
    assert predict(client, "num", {"row": NUM_ROW}).status_code == 200
    assert api.state.models["num"].champion.use_frame is False  # numeric: plain array
    assert api.state.models["tiny"].champion.use_frame is True  # ColumnTransformer: DataFrame


def test_mlflow_invocations_formats_answer_like_mlflow(served: Any) -> None:
    client, _api, root = served
    bodies = [{"dataframe_split": {"columns": list(TINY_ROW), "data": [list(TINY_ROW.values())]}},
              {"dataframe_records": [TINY_ROW]}, {"instances": [TINY_ROW]}, {"inputs": [TINY_ROW]},
              {"inputs": {k: [v] for k, v in TINY_ROW.items()}}]
    answers = []
    for body in bodies:
        r = client.post("/v1/models/tiny/invocations", json=body)
        assert r.status_code == 200, r.text
        answers.append(r.json())
    assert len({tuple(a["predictions"]) for a in answers}) == 1
    assert all(len(a["prediction_ids"]) == 1 for a in answers)
    ids = [a["prediction_ids"][0] for a in answers]
    assert {r[0] for r in rows(root, "SELECT prediction_id FROM prediction")} == set(ids)
    bad = client.post("/v1/models/tiny/invocations", json={"dataframe_records": [{"x1": "a"}]})
    assert bad.status_code == 422 and bad.json()["error_code"] == "BAD_REQUEST"


@pytest.mark.parametrize(("body", "status", "words"), [
    (b"{not json", 400, "not valid JSON"),
    (b'{"row": {"x1": NaN, "x2": 1, "colour": "red"}}', 400, "NaN and Infinity"),
    (b'{"row": {"x1": 1e999, "x2": 1, "colour": "red"}}', 400, "not valid JSON"),
    (b'{"row": {"x1": "0.5", "x2": 1, "colour": "red"}}', 422, "expected a number"),
    (b'{"row": {"x1": true, "x2": 1, "colour": "red"}}', 422, "expected a number"),
    (b'{"row": {"x1": 1, "x2": 1, "colour": "mauve"}}', 422, "not a category seen in training"),
    (b'{"row": {"x1": 1, "x2": 1}}', 422, "missing field"),
    (b'{"row": {"x1": 1, "x2": 1, "colour": "red", "extra": 2}}', 422, "unknown field"),
    (b'{"row": {"x1": 1e308, "x2": 1, "colour": "red"}}', 422, "too large"),
    (b'{"rows": []}', 422, "no rows"),
    (b"[1, 2]", 422, "must be a JSON object"),
])
def test_bad_input_gets_a_4xx_naming_the_problem_and_is_quarantined(served: Any, body: bytes, status: int,
                                                                   words: str) -> None:
    client, _api, root = served
    r = client.post("/v1/models/tiny/predict", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    error = r.json()["error"]
    text = error["message"] + " ".join(p["problem"] for p in error.get("problems", []))
    assert words in text
    assert rows(root, "SELECT count(*) FROM prediction") == [(0,)]
    assert rows(root, "SELECT count(*) FROM quarantine WHERE source = 'api'")[0][0] >= 1
    # the server keeps serving
    assert predict(client, "tiny", {"row": TINY_ROW}).status_code == 200


def test_negative_zero_and_integers_are_valid_numbers(served: Any) -> None:
    client, _api, _root = served
    assert predict(client, "tiny", {"row": {**TINY_ROW, "x1": -0.0, "x2": 3}}).status_code == 200


def test_too_many_rows_and_oversize_bodies(served: Any) -> None:
    client, _api, root = served
    r = predict(client, "tiny", {"rows": [TINY_ROW] * 101})
    assert r.status_code == 422 and "at most 100" in r.json()["error"]["message"]
    big = b'{"rows": [' + b",".join([b'{"x1": 1, "x2": 1, "colour": "red"}'] * 3000) + b"]}"
    r = client.post("/v1/models/tiny/predict", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "at most 65536" in r.json()["error"]["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"rows": ['
        for _ in range(5000):
            yield b'{"x1": 1, "x2": 1, "colour": "red"},'
        yield b"]}"

    r = client.post("/v1/models/tiny/predict", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert rows(root, "SELECT count(*) FROM prediction") == [(0,)]


def test_unknown_model_is_404_and_unknown_path_is_json(served: Any) -> None:
    client, _api, _root = served
    r = predict(client, "nope", {"row": TINY_ROW})
    assert r.status_code == 404 and "not served here" in r.json()["error"]["message"]
    assert client.get("/v1/nothing").status_code == 404
    assert client.get("/v1/models/tiny/predict").status_code == 405


def test_a_retried_request_id_gets_the_first_answer_and_logs_nothing_new(served: Any) -> None:
    client, _api, root = served
    first = predict(client, "tiny", {"row": TINY_ROW, "request_id": "same"}).json()
    again = predict(client, "tiny", {"row": {**TINY_ROW, "x1": 9.0}, "request_id": "same"}).json()
    assert again["replayed"] is True
    assert again["predictions"] == first["predictions"]
    header = client.post("/v1/models/tiny/predict", json={"row": TINY_ROW}, headers={"Idempotency-Key": "same"})
    assert header.json()["predictions"] == first["predictions"]
    assert rows(root, "SELECT count(*) FROM prediction") == [(1,)]


def _set(api: Any, root: Path, **kw: Any) -> None:
    store = open_store(root)
    try:
        deployments.set_deployment(store, "tiny", reason="test", **kw)
    finally:
        store.close()
    api.state.refresh()


def test_canary_share_of_10_percent_over_10000_requests(served: Any) -> None:
    client, api, root = served
    _set(api, root, mode="canary", challenger="2", share=0.1)
    routes = {"champion": 0, "challenger": 0}
    versions = set()
    for _ in range(100):
        for p in predict(client, "tiny", {"rows": [TINY_ROW]}).json()["predictions"]:
            routes[p["route"]] += 1
    for i in range(9900):
        p = predict(client, "tiny", {"row": {**TINY_ROW, "x1": (i % 50) / 10}}).json()["predictions"][0]
        routes[p["route"]] += 1
        versions.add((p["route"], p["version"]))
    share = routes["challenger"] / 10000
    assert abs(share - 0.10) <= 0.015, routes
    assert versions == {("champion", 1), ("challenger", 2)}
    logged = dict(rows(root, "SELECT route, count(*) FROM prediction GROUP BY route"))
    assert logged == routes
    rolled = dict(rows(root, "SELECT route, sum(count) FROM metric_rollup GROUP BY route"))
    assert rolled == routes


def test_ab_routing_is_sticky_per_key(served: Any) -> None:
    client, api, root = served
    _set(api, root, mode="ab", challenger="2", share=0.5)
    seen: dict[str, set[str]] = {}
    for i in range(200):
        key = f"user-{i % 20}"
        route = predict(client, "tiny", {"row": TINY_ROW, "key": key}).json()["predictions"][0]["route"]
        seen.setdefault(key, set()).add(route)
    assert all(len(r) == 1 for r in seen.values())
    assert {next(iter(r)) for r in seen.values()} == {"champion", "challenger"}


def test_shadow_never_changes_the_answer_and_logs_the_challenger(served: Any) -> None:
    client, api, root = served
    test_rows = [{**TINY_ROW, "x1": x / 4} for x in range(-8, 8)]
    before = [predict(client, "tiny", {"row": r}).json()["predictions"][0] for r in test_rows]
    _set(api, root, mode="shadow", challenger="2")
    after = [predict(client, "tiny", {"row": r}).json()["predictions"][0] for r in test_rows]
    strip = [{k: v for k, v in p.items() if k != "prediction_id"} for p in before]
    assert [{k: v for k, v in p.items() if k != "prediction_id"} for p in after] == strip
    deadline = time.monotonic() + 5
    while rows(root, "SELECT count(*) FROM prediction WHERE route = 'shadow'")[0][0] < len(test_rows):
        assert time.monotonic() < deadline, "shadow rows were not logged"
        time.sleep(0.05)
    shadow_versions = rows(root, "SELECT DISTINCT v.version FROM prediction p JOIN model_version v "
                                 "ON v.id = p.version_id WHERE p.route = 'shadow'")
    assert shadow_versions == [(2,)]


def test_rollback_moves_traffic_back_and_metadata_mode_keeps_no_inputs(served: Any) -> None:
    client, api, root = served
    _set(api, root, mode="canary", challenger="2", share=1.0, log_mode="metadata")
    p = predict(client, "tiny", {"row": TINY_ROW}).json()["predictions"][0]
    assert p["route"] == "challenger"
    # no inputs; the output stays, so labels arriving later can still be scored
    [(inputs, outputs)] = rows(root, "SELECT inputs, outputs FROM prediction")
    assert inputs is None and '"class"' in outputs
    store = open_store(root)
    try:
        deployments.rollback(store, "tiny", reason="bad canary")
    finally:
        store.close()
    api.state.refresh()
    assert predict(client, "tiny", {"row": TINY_ROW}).json()["predictions"][0]["route"] == "champion"


def test_input_sampling_keeps_inputs_of_a_share_but_counts_every_row(served: Any) -> None:
    client, api, root = served
    _set(api, root, sample_rate=0.25)
    for _ in range(400):
        predict(client, "tiny", {"row": TINY_ROW})
    kept, total = rows(root, "SELECT count(inputs), count(*) FROM prediction")[0]
    assert total == 400 and 60 <= kept <= 140
    assert rows(root, "SELECT sum(count) FROM metric_rollup") == [(400,)]
    assert rows(root, "SELECT count(outputs) FROM prediction") == [(400,)]


def test_feedback_by_prediction_id_and_by_request_id(served: Any) -> None:
    client, _api, root = served
    one = predict(client, "tiny", {"row": TINY_ROW}).json()["predictions"][0]["prediction_id"]
    predict(client, "tiny", {"rows": [TINY_ROW, TINY_ROW], "request_id": "batch-7"})
    r = client.post("/v1/feedback", json={"labels": [
        {"prediction_id": one, "label": 1},
        {"request_id": "batch-7", "model": "tiny", "row": 1, "label": 0},
        {"request_id": "batch-7", "model": "tiny", "label": 0},
        {"prediction_id": "01a2aaaa-0000-7000-8000-000000000000", "label": 1}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["matched"], body["unmatched"]) == (2, 2)
    assert body["ambiguous"][0]["rows"] == 2
    assert rows(root, f"SELECT label FROM prediction WHERE prediction_id = '{one}'") == [("1",)]
    bad = client.post("/v1/feedback", json={"prediction_id": one})
    assert bad.status_code == 422 and "no label" in bad.json()["error"]["message"]


def test_health_readiness_models_metrics_and_docs(served: Any) -> None:
    client, _api, _root = served
    assert client.get("/healthz").json() == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["models"] == {"num": "ready", "tiny": "ready"}
    assert {m["model"] for m in client.get("/v1/models").json()} == {"num", "tiny"}
    predict(client, "tiny", {"row": TINY_ROW})
    predict(client, "tiny", {"row": {"x1": "bad"}})
    text = client.get("/metrics").text
    assert 'wk_requests_total{model="tiny",route="champion",version="1"} 2.0' in text
    assert 'wk_request_errors_total{model="tiny",route="champion",status="422",version="1"} 1.0' in text
    assert 'wk_request_latency_seconds_bucket{le="0.005",model="tiny"' in text
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/models/{name}/predict", "/v1/models/{name}/invocations", "/v1/feedback"} <= set(paths)


def test_rollups_agree_with_the_rows_they_summarise(served: Any) -> None:
    client, _api, root = served
    for i in range(50):
        predict(client, "tiny", {"row": {**TINY_ROW, "x1": i / 10}})
        if i % 7 == 0:
            predict(client, "tiny", {"row": {**TINY_ROW, "colour": "mauve"}})
        if i % 10 == 0:  # a request of 4 rows, and one of 3 rows with 2 refused
            predict(client, "tiny", {"rows": [TINY_ROW] * 4})
            bad = {**TINY_ROW, "colour": "mauve"}
            predict(client, "tiny", {"rows": [TINY_ROW, bad, bad]})
    store = open_store(root)
    try:
        from store.rollups import rollup_vs_rows

        with store.db.read() as session:
            assert rollup_vs_rows(session) == []
        # rows: 50 + 5 x 4 answered, 8 + 5 x 2 refused; requests: 50 + 8 + 5 + 5
        assert rows(root, "SELECT sum(count), sum(errors), sum(requests) FROM metric_rollup") == [(70, 18, 68)]
        with store.db.write() as session:  # a request counted twice is caught
            session.connection().exec_driver_sql(
                "UPDATE metric_rollup SET requests = requests + count + errors WHERE id = "
                "(SELECT min(id) FROM metric_rollup)")
        with store.db.read() as session:
            assert len(rollup_vs_rows(session)) == 1
    finally:
        store.close()


def test_a_slow_model_times_out_while_health_keeps_answering(served: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """reliability.md SRV-07: a 5 s sleep in predict."""
    client, api, _root = served
    api.config.timeout_s = 1.0
    loaded = api.state.models["tiny"].champion
    original = loaded.predict

    def slow(values: Any) -> Any:
        time.sleep(5)
        return original(values)

    monkeypatch.setattr(loaded, "predict", slow)
    result: dict[str, Any] = {}

    def call() -> None:
        started = time.monotonic()
        result["status"] = predict(client, "tiny", {"row": TINY_ROW}).status_code
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=call)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert client.get("/healthz").status_code == 200
    assert time.monotonic() - started < 0.5
    assert predict(client, "num", {"row": NUM_ROW}).status_code == 200  # other models unaffected
    thread.join()
    assert result["status"] == 504 and result["seconds"] < 2.0


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_docs_load_nothing_from_the_internet(served: Any, page: str) -> None:
    """A server without internet still shows its docs: every script, style sheet and icon
    the page names is served by wk serve itself (reliability: no CDN)."""
    import re

    client, _api, _root = served
    html = client.get(page)
    assert html.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html.text)
    assert assets, html.text[:500]
    for url in assets:
        assert url.startswith("/"), f"{page} loads {url} from elsewhere"
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 500, url
    assert "cdn." not in html.text and "googleapis" not in html.text
    assert re.search(r"""url: ?["']/openapi\.json["']|spec-url=["']/openapi\.json["']""", html.text)


def test_a_quarantine_reason_shows_the_value_sent_unless_only_metadata_is_logged(served: Any) -> None:
    """The stored reason names the offending value (cut to 60 characters), so the row can
    be fixed without digging in the payload; the HTTP answer never repeats it; metadata
    logging keeps no value at all."""
    client, api, root = served
    long_colour = "m" * 200
    r = predict(client, "tiny", {"row": {**TINY_ROW, "x1": "0,5", "colour": long_colour}})
    assert r.status_code == 422 and "0,5" not in r.text and long_colour not in r.text
    (reason,), = rows(root, "SELECT reason FROM quarantine")
    assert "field 'x1': expected a number, got a string (sent \"0,5\")" in reason
    assert f'(sent "{"m" * 58}…)' in reason and long_colour not in reason  # 60 characters
    _set(api, root, log_mode="metadata")
    predict(client, "tiny", {"row": {**TINY_ROW, "x1": "0,5"}})
    newest = rows(root, "SELECT reason, payload FROM quarantine ORDER BY id DESC LIMIT 1")[0]
    assert "expected a number" in newest[0] and "sent" not in newest[0] and newest[1] is None
