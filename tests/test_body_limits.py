"""Issue 13 item 8 and reliability.md SRV-02: every request body is bounded (413 with a
clear error, declared or chunked, on every route, including one whose body FastAPI
parses), and so are the inputs the CLI reads whole and the batch job's chunk size."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from serving.http.api import ServerConfig
from serving.http.app import make_app
from store.errors import InvalidInput

LIMIT = 1024


class Thing(BaseModel):
    text: str


@pytest.fixture
def client(store) -> Iterator[TestClient]:
    app = make_app(store, ServerConfig(max_body_bytes=LIMIT, max_rows=10, timeout_s=5.0))

    @app.post("/test/parsed")  # a route whose body FastAPI reads and parses itself
    async def parsed(thing: Thing) -> dict[str, int]:
        return {"length": len(thing.text)}

    with TestClient(app) as test_client:
        yield test_client


def _chunked(size: int) -> Iterator[bytes]:
    body = json.dumps({"text": "x" * size}).encode()
    for i in range(0, len(body), 256):
        yield body[i:i + 256]


@pytest.mark.parametrize("path", ["/v1/feedback", "/test/parsed",
                                  "/v1/no-such-route"])
def test_a_declared_body_over_the_limit_is_413(client: TestClient, path: str) -> None:
    answer = client.post(path, content=b"{" + b" " * (LIMIT + 1) + b"}",
                         headers={"content-type": "application/json"})
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"]["code"] == "too_large"


@pytest.mark.parametrize("path", ["/v1/feedback", "/test/parsed"])
def test_a_chunked_body_over_the_limit_is_413(client: TestClient, path: str) -> None:
    answer = client.post(path, content=_chunked(LIMIT * 4), headers={"content-type": "application/json"})
    assert answer.status_code == 413, answer.text
    assert "at most 1024" in answer.json()["error"]["message"]


def test_a_body_within_the_limit_is_served(client: TestClient) -> None:
    answer = client.post("/test/parsed", content=_chunked(100), headers={"content-type": "application/json"})
    assert answer.status_code == 200 and answer.json() == {"length": 100}
    assert client.post("/v1/feedback", json={"labels": []}).status_code == 422  # its own check, not 413


def test_labels_are_bounded_over_http_and_from_a_file(store, monkeypatch: pytest.MonkeyPatch) -> None:
    from serving.log import feedback

    monkeypatch.setattr(feedback, "MAX_LABELS", 3)
    items = [{"prediction_id": f"p{i}", "label": 1} for i in range(4)]
    with pytest.raises(InvalidInput, match="at most 3"):
        feedback.apply_labels(store, items)


def test_cli_inputs_read_whole_are_bounded(wk: Any, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from console.cli import common

    monkeypatch.setattr(common, "MAX_INPUT_BYTES", 100)
    assert wk("init").code == 0
    big = tmp_path / "rows.json"
    big.write_text(json.dumps([{"x": i} for i in range(50)]))
    predicted = wk("predict", "m", "--file", str(big))
    assert predicted.code != 0 and "larger than 100 bytes" in predicted.err
    labels = tmp_path / "labels.csv"
    labels.write_text("prediction_id,label\n" + "".join(f"p{i},1\n" for i in range(50)))
    labelled = wk("feedback", "--file", str(labels))
    assert labelled.code != 0 and "larger than 100 bytes" in labelled.err


def test_a_score_job_chunk_size_is_bounded_when_added() -> None:
    from scheduler.kinds.score import validate
    from serving.batch.run import MAX_CHUNK

    args = {"sink": "out.parquet", "source": "in.parquet", "chunk_size": MAX_CHUNK + 1}
    with pytest.raises(InvalidInput, match=f"at most {MAX_CHUNK}"):
        validate(args)
    assert validate({**args, "chunk_size": MAX_CHUNK})["chunk_size"] == MAX_CHUNK
