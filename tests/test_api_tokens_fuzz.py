"""schemathesis against a real `wk serve` with API tokens on, from the server's own
OpenAPI document (which declares the bearer scheme): without a token every operation but
/healthz is refused with 401 (no unauthenticated access); with one, no 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from serving_store import Server, bearer, build_store

from store.handle import open_store
from store.tokens import create_token


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    root = build_store(tmp_path_factory.mktemp("fuzz-auth") / "store")
    store = open_store(root)
    try:
        secret = create_token(store, "fuzz", "scientist", rate_per_s=100_000.0, burst=100_000)["secret"]
    finally:
        store.close()
    srv = Server(root, token=secret, args=("--max-body", "65536", "--max-rows", "50")).start(timeout=180)
    yield srv, secret
    srv.kill()


def _operations(server: Server, secret: str) -> list[Any]:
    doc = httpx.get(server.url + "/openapi.json", headers=bearer(secret)).json()
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    return [r.ok() for r in schemathesis.openapi.from_dict(doc).get_all_operations()]


def _fuzz(server: Server, operations: list[Any], headers: dict[str, str], check: Any, examples: int) -> int:
    calls = 0
    for op in operations:
        named = [None, {"name": "tiny"}] if "{name}" in op.path else [None]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for path_parameters in named:
                strategy = op.as_strategy(generation_mode=mode, path_parameters=path_parameters)

                @settings(max_examples=examples, deadline=None, derandomize=True,
                          suppress_health_check=list(HealthCheck),
                          phases=[Phase.explicit, Phase.generate])  # a failure is plain enough unshrunk
                @given(case=strategy)
                def run(case: Any) -> None:
                    nonlocal calls
                    response = case.call(base_url=server.url, headers=headers, timeout=10)
                    calls += 1
                    check(case, response)

                try:
                    run()
                except Unsatisfiable:  # nothing to break in a GET without parameters
                    assert mode == GenerationMode.NEGATIVE and op.method == "get"
    return calls


def test_without_a_token_nothing_but_healthz_answers(server: tuple[Server, str]) -> None:
    srv, secret = server

    def check(case: Any, response: Any) -> None:
        where = f"{case.method} {case.formatted_path}"
        if case.formatted_path == "/healthz":
            assert response.status_code == 200, where
        else:
            assert response.status_code == 401, f"{where}: {response.status_code} {response.text[:200]}"
            challenge = response.headers["www-authenticate"]  # schemathesis: a list per header
            assert (challenge[0] if isinstance(challenge, list) else challenge).startswith("Bearer")

    assert _fuzz(srv, _operations(srv, secret), {}, check, examples=10) > 50
    wrong = {"Authorization": "Bearer wk_" + "A" * 43}
    assert _fuzz(srv, _operations(srv, secret), wrong, check, examples=4) > 20


def test_with_a_token_no_server_error(server: tuple[Server, str]) -> None:
    srv, secret = server

    def check(case: Any, response: Any) -> None:
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: " \
                                            f"{response.status_code} {response.text[:300]}"
        # schemathesis also sends cases without the token or with one of its own (the
        # document declares the scheme): those must get 401, and only those
        sent = response.request.headers.get("Authorization")
        assert (response.status_code == 401) == (sent != f"Bearer {secret}" and case.path != "/healthz"), \
            f"{case.method} {case.formatted_path} with {str(sent)[:12]}...: {response.status_code} {response.text[:200]}"
        if response.status_code >= 400:
            assert response.json()["error"]["message"]

    assert _fuzz(srv, _operations(srv, secret), bearer(secret), check, examples=25) > 200
