"""Fuzzing the live server (a real `wk serve` on 127.0.0.1): thousands of malformed
requests from hypothesis, and schemathesis from the server's own OpenAPI document
(reliability.md SRV-04, SRV-05). Every answer to bad input is a 4xx with a reason,
never a 5xx, and the server keeps serving."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from serving_store import TINY_ROW, Server, build_store

FUZZ = settings(max_examples=1500, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = build_store(tmp_path_factory.mktemp("fuzz") / "store")
    srv = Server(root, args=("--max-body", "65536", "--max-rows", "50")).start()
    yield srv
    srv.kill()


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def check_refused(r: httpx.Response) -> None:
    assert r.status_code < 500, f"{r.status_code}: {r.text[:500]}"
    assert 400 <= r.status_code < 500, f"malformed input was answered {r.status_code}: {r.text[:300]}"
    error = r.json()["error"]
    assert error["message"], "a refusal without a reason"


scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)


@st.composite
def broken_rows(draw: st.DrawFn) -> dict[str, Any]:
    """A valid row with at least one thing wrong: a bad value, a missing or extra field."""
    row: dict[str, Any] = dict(TINY_ROW)
    kind = draw(st.sampled_from(["value", "missing", "extra"]))
    if kind == "value":
        field = draw(st.sampled_from(sorted(row)))
        if field == "colour":
            bad = draw((scalars | st.lists(scalars, max_size=2)).filter(lambda v: v not in ("red", "green", "blue")))
        else:
            bad = draw(st.none() | st.booleans() | st.text(max_size=20) | st.lists(scalars, max_size=2)
                        | st.dictionaries(st.text(max_size=5), scalars, max_size=2)
                        | st.sampled_from([1e301, -1e305]))
        row[field] = bad
    elif kind == "missing":
        for field in draw(st.lists(st.sampled_from(sorted(row)), min_size=1, max_size=3, unique=True)):
            del row[field]
    else:
        extra = draw(st.text(min_size=1, max_size=20).filter(lambda k: k not in TINY_ROW))
        row[extra] = draw(json_values)
    return row


@st.composite
def broken_bodies(draw: st.DrawFn) -> bytes:
    shape = draw(st.sampled_from(["row", "rows", "top", "raw", "constant", "truncated"]))
    if shape == "row":
        body: Any = {"row": draw(broken_rows())}
    elif shape == "rows":
        good = [TINY_ROW] * draw(st.integers(0, 3))
        body = {"rows": good + [draw(broken_rows())] + good}
    elif shape == "top":
        body = draw(json_values.filter(lambda v: not (isinstance(v, dict) and set(v) in ({"row"}, {"rows"}))))
    elif shape == "raw":
        return draw(st.binary(max_size=200))
    elif shape == "constant":
        token = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999"]))
        field = draw(st.sampled_from(["x1", "x2"]))
        return json.dumps({"row": {**TINY_ROW, field: 0}}).replace(f'"{field}": 0', f'"{field}": {token}').encode()
    else:
        text = json.dumps({"row": TINY_ROW}).encode()
        return text[: draw(st.integers(0, len(text) - 1))]
    return json.dumps(body).encode()


@FUZZ
@given(body=broken_bodies())
def test_thousands_of_malformed_predict_requests_get_4xx(client: httpx.Client, body: bytes) -> None:
    check_refused(client.post("/v1/models/tiny/predict", content=body,
                              headers={"content-type": "application/json"}))


@settings(max_examples=500, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(body=json_values, fmt=st.sampled_from(["dataframe_split", "dataframe_records", "instances", "inputs"]))
def test_malformed_mlflow_requests_get_4xx(client: httpx.Client, body: Any, fmt: str) -> None:
    r = client.post("/v1/models/tiny/invocations", json={fmt: body})
    assert r.status_code < 500, r.text[:300]
    if r.status_code != 200:  # a list of valid records is a valid request; anything else is refused
        check_refused(r)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(item=json_values)
def test_malformed_feedback_gets_4xx(client: httpx.Client, item: Any) -> None:
    r = client.post("/v1/feedback", json=item)
    assert r.status_code in (200, 400, 422), r.text[:300]


def _schema(server: Server) -> Any:
    return schemathesis.openapi.from_dict(httpx.get(server.url + "/openapi.json").json())


@pytest.mark.parametrize("mode", [GenerationMode.NEGATIVE, GenerationMode.POSITIVE])
def test_schemathesis_finds_no_server_error(server: Server, mode: GenerationMode) -> None:
    """Every operation of the OpenAPI document, with the model named both at random and
    as a served one; responses are checked against the schema too."""
    schema = _schema(server)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/models/{name}/predict", "/v1/models/{name}/invocations",
                                              "/v1/feedback", "/healthz", "/readyz", "/metrics"}
    calls = 0
    for op in operations:
        named = [None, {"name": "tiny"}] if "{name}" in op.path else [None]
        for path_parameters in named:
            strategy = op.as_strategy(generation_mode=mode, path_parameters=path_parameters)

            @settings(max_examples=150, deadline=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def run(case: Any) -> None:
                nonlocal calls
                response = case.call(base_url=server.url, timeout=10)
                calls += 1
                assert response.status_code < 500, f"{case.method} {case.formatted_path}: " \
                                                    f"{response.status_code} {response.text[:300]}"
                if response.status_code >= 400:
                    assert response.json()["error"]["message"]

            try:
                run()
            except Unsatisfiable:  # nothing to break in a GET without parameters (negative mode)
                assert mode == GenerationMode.NEGATIVE and op.method == "get"
    assert calls > 500


def test_the_server_still_serves_after_the_fuzzing(client: httpx.Client) -> None:
    assert client.get("/healthz").status_code == 200
    r = client.post("/v1/models/tiny/predict", json={"row": TINY_ROW})
    assert r.status_code == 200 and r.json()["predictions"][0]["prediction_id"]


def test_refused_rows_are_in_quarantine_with_their_reason(server: Server) -> None:
    import sqlite3

    conn = sqlite3.connect(Path(server.store) / "watchkeeper.db")
    try:
        count, blank = conn.execute("SELECT count(*), sum(reason = '') FROM quarantine").fetchone()
    finally:
        conn.close()
    assert count > 1000 and not blank
