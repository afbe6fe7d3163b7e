"""API tokens on the HTTP server (the app in process, as tests/test_serving_api.py runs
it, and one real `wk serve`): 401 for missing, unknown, revoked and expired tokens,
403 outside a token's models and for feedback without the label permission, 429 with
Retry-After past a rate while another token is served, the use recorded, the secret
shown once and never stored."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from serving_store import NUM_ROW, TINY_ROW, Server, bearer, build_store, free_port, predict
from sqlmodel import select

from registry.rate_limits import set_rate_limit
from serving.http.api import ServerConfig
from serving.http.app import make_app
from store.access_tables import ApiToken
from store.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from store.handle import open_store
from store.tokens import create_token, list_tokens, revoke_token
from store.types import utcnow


def rows(root: Path, sql: str, *params: Any) -> list[Any]:
    conn = sqlite3.connect(root / "watchkeeper.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, Any, Any, Path]]:
    root = build_store(tmp_path / "store")
    store = open_store(root)
    app = make_app(store, ServerConfig(timeout_s=5.0, auth=True))
    with TestClient(app) as client:
        yield client, app.state.api, store, root
    store.close()


def token(store: Any, name: str, role: str = "viewer", **kw: Any) -> dict[str, str]:
    return bearer(create_token(store, name, role, **kw)["secret"])


def refreshed(api: Any) -> None:
    api.gate.refresh()  # what the cache thread does every second, now


def test_secret_is_returned_once_and_only_its_hash_is_stored(served: Any) -> None:
    _client, _api, store, root = served
    out = create_token(store, "ci", "viewer", note="nightly scoring")
    secret = out["secret"]
    assert secret.startswith("wk_") and len(secret) > 40
    assert out["prefix"] == secret[:9]
    stored = rows(root, "SELECT * FROM api_token")
    assert len(stored) == 1 and secret not in json.dumps(stored, default=str)
    assert rows(root, "SELECT secret_sha256 FROM api_token")[0][0] == hashlib.sha256(secret.encode()).hexdigest()
    audit = rows(root, "SELECT actor, action, target, after FROM audit_event WHERE action = 'token.create'")
    assert audit and audit[0][2] == "token/ci" and secret not in audit[0][3]
    listed = list_tokens(store)
    assert "secret" not in listed[0] and secret not in json.dumps(listed)
    assert listed[0]["status"] == "active" and listed[0]["uses"] == 0


def test_tokens_are_checked_by_name_role_models_and_limits(served: Any) -> None:
    _client, _api, store, _root = served
    with pytest.raises(InvalidInput, match="role"):
        create_token(store, "x", "root")
    with pytest.raises(NotFound, match="nope"):
        create_token(store, "x", "viewer", models=["tiny", "nope"])
    with pytest.raises(InvalidInput, match="past"):
        create_token(store, "x", "viewer", expires_at=utcnow() - timedelta(seconds=1))
    with pytest.raises(InvalidInput, match="burst"):
        create_token(store, "x", "viewer", rate_per_s=5, burst=0)
    create_token(store, "x", "viewer")
    with pytest.raises(Conflict):
        create_token(store, "x", "viewer")
    revoke_token(store, "x", reason="done")
    with pytest.raises(Conflict, match="already"):
        revoke_token(store, "x", reason="again")


def test_a_token_created_by_a_non_admin_is_refused_and_audited(served: Any) -> None:
    _client, _api, store, root = served
    create_token(store, "viewer-token", "viewer")
    with pytest.raises(PermissionDenied, match="tokens"):
        create_token(store, "sneaky", "admin", actor="token:viewer-token")
    assert rows(root, "SELECT COUNT(*) FROM api_token WHERE name = 'sneaky'") == [(0,)]
    assert rows(root, "SELECT actor FROM audit_event WHERE action = 'access.denied'") == [("token:viewer-token",)]


def test_every_endpoint_but_healthz_needs_a_token(served: Any) -> None:
    client, _api, store, _root = served
    assert client.get("/healthz").status_code == 200
    for method, path in (("POST", "/v1/models/tiny/predict"), ("POST", "/v1/models/tiny/invocations"),
                         ("GET", "/v1/models"), ("GET", "/readyz"), ("GET", "/metrics"),
                         ("GET", "/docs"), ("GET", "/openapi.json"), ("POST", "/v1/feedback"),
                         ("GET", "/v1/models/tiny/ping"), ("GET", "/no/such/path")):
        r = client.request(method, path, json={"row": TINY_ROW})
        assert r.status_code == 401, (path, r.text)
        assert r.headers["www-authenticate"].startswith("Bearer")
    secret = "wk_" + "x" * 43
    r = predict(client, "tiny", {"row": TINY_ROW}, headers=bearer(secret))
    assert r.status_code == 401 and "not known" in r.text and secret not in r.text
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    assert predict(client, "tiny", {"row": TINY_ROW}, headers={"Authorization": "Basic abc"}).status_code == 401
    good = token(store, "ok")
    refreshed(client.app.state.api)
    assert predict(client, "tiny", {"row": TINY_ROW}, headers=good).status_code == 200
    ready = client.get("/readyz", headers=good).json()
    assert ready["auth"] == "on"
    doc = client.get("/openapi.json", headers=good).json()
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": doc["components"]["securitySchemes"]
        ["bearerAuth"]["description"]}
    assert doc["security"] == [{"bearerAuth": []}]
    assert doc["paths"]["/healthz"]["get"]["security"] == []
    assert "401" in doc["paths"]["/v1/models/{name}/predict"]["post"]["responses"]


def test_revoked_and_expired_tokens_get_401_within_about_a_second(served: Any) -> None:
    client, _api, store, root = served
    revoked = token(store, "gone")
    expiring = token(store, "old")
    deadline = time.monotonic() + 10
    while predict(client, "tiny", {"row": TINY_ROW}, headers=revoked).status_code != 200:
        assert time.monotonic() < deadline, "the new token was never accepted"
        time.sleep(0.1)
    revoke_token(store, "gone", reason="leaked")
    with store.db.write() as session:  # as if its expiry had come
        row = session.exec(select(ApiToken).where(ApiToken.name == "old")).one()
        row.expires_at = utcnow() - timedelta(minutes=1)
        session.add(row)
    started = time.monotonic()
    while (r := predict(client, "tiny", {"row": TINY_ROW}, headers=revoked)).status_code == 200:
        assert time.monotonic() - started < 5, "a revoked token was still served after 5 s"
        time.sleep(0.05)
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]
    r = predict(client, "tiny", {"row": TINY_ROW}, headers=expiring)
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]
    statuses = {t["name"]: t["status"] for t in list_tokens(store)}
    assert statuses == {"gone": "revoked", "old": "expired"}
    assert rows(root, "SELECT reason FROM audit_event WHERE action = 'token.revoke'") == [("leaked",)]


def test_a_token_scoped_to_one_model_gets_403_on_the_others(served: Any) -> None:
    client, api, store, _root = served
    scoped = token(store, "tiny-only", models=["tiny"])
    refreshed(api)
    assert predict(client, "tiny", {"row": TINY_ROW}, headers=scoped).status_code == 200
    for r in (predict(client, "num", {"row": NUM_ROW}, headers=scoped),
              client.post("/v1/models/num/invocations", json={"inputs": [NUM_ROW]}, headers=scoped),
              client.get("/v1/models/num/ping", headers=scoped),
              predict(client, "secret-model", {"row": NUM_ROW}, headers=scoped)):
        assert r.status_code == 403, r.text
        assert "scoped to tiny" in r.text
    assert [m["model"] for m in client.get("/v1/models", headers=scoped).json()] == ["tiny"]
    everything = token(store, "all")
    refreshed(api)
    assert [m["model"] for m in client.get("/v1/models", headers=everything).json()] == ["num", "tiny"]


def test_feedback_needs_the_label_permission(served: Any) -> None:
    client, api, store, root = served
    viewer, scientist = token(store, "viewer"), token(store, "sci", "scientist")
    refreshed(api)
    pid = predict(client, "tiny", {"row": TINY_ROW}, headers=viewer).json()["predictions"][0]["prediction_id"]
    r = client.post("/v1/feedback", json={"prediction_id": pid, "label": 1}, headers=viewer)
    assert r.status_code == 403 and "label" in r.json()["error"]["message"]
    assert rows(root, "SELECT actor FROM audit_event WHERE action = 'access.denied'") == [("token:viewer",)]
    r = client.post("/v1/feedback", json={"prediction_id": pid, "label": 1}, headers=scientist)
    assert r.status_code == 200 and r.json()["matched"] == 1


def test_a_burst_past_the_limit_gets_429_while_another_token_is_served(served: Any) -> None:
    client, api, store, root = served
    slow = token(store, "slow", rate_per_s=0.1, burst=3)
    fast = token(store, "fast")
    refreshed(api)
    answers = [predict(client, "tiny", {"row": TINY_ROW}, headers=slow) for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    limited = answers[3]
    assert int(limited.headers["retry-after"]) >= 1
    assert "slow" in limited.json()["error"]["message"] and "retry in" in limited.json()["error"]["message"]
    # the other token is served, every request, at once (its own bucket: 50/s, bursts of 100)
    started = time.perf_counter()
    others = [predict(client, "tiny", {"row": TINY_ROW}, headers=fast).status_code for _ in range(40)]
    assert others == [200] * 40, others
    assert time.perf_counter() - started < 20
    metrics = client.get("/metrics", headers=fast).text
    assert 'wk_rate_limited_total{limit="token",model="tiny",token="slow"} 2.0' in metrics
    api.gate.flush()
    usage = rows(root, "SELECT t.name, u.requests, u.limited FROM token_usage u JOIN api_token t "
                       "ON t.id = u.token_id ORDER BY t.name")
    by_token = {name: (sum(r for n, r, _l in usage if n == name), sum(lim for n, _r, lim in usage if n == name))
                for name, _r, _l in usage}
    assert by_token["slow"] == (5, 2)
    assert by_token["fast"] == (41, 0)  # 40 predictions and the /metrics read
    listed = {t["name"]: t for t in list_tokens(store)}
    assert listed["slow"]["uses"] == 5 and listed["slow"]["last_used_at"] is not None
    api.gate.flush()  # nothing new: nothing added twice
    assert rows(root, "SELECT SUM(requests) FROM token_usage") == [(46,)]


def test_a_models_own_limit_applies_to_every_caller(served: Any) -> None:
    client, api, store, _root = served
    a, b = token(store, "a"), token(store, "b")
    set_rate_limit(store, "num", 0.1, 2, reason="a costly model")
    refreshed(api)
    codes = [predict(client, "num", {"row": NUM_ROW}, headers=h).status_code for h in (a, b, a, b)]
    assert codes == [200, 200, 429, 429]
    r = predict(client, "num", {"row": NUM_ROW}, headers=b)
    assert r.status_code == 429 and "model 'num'" in r.text and int(r.headers["retry-after"]) >= 1
    assert predict(client, "tiny", {"row": TINY_ROW}, headers=a).status_code == 200  # no limit there
    assert 'wk_rate_limited_total{limit="model",model="num",token="b"} 2.0' in client.get("/metrics", headers=a).text


def test_without_auth_the_server_warns_at_start_and_in_readyz(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    root = build_store(tmp_path / "store")
    store = open_store(root)
    try:
        with caplog.at_level("WARNING"), TestClient(make_app(store, ServerConfig(auth=False))) as client:
            ready = client.get("/readyz").json()
            assert predict(client, "tiny", {"row": TINY_ROW}).status_code == 200
    finally:
        store.close()
    assert ready["auth"] == "off" and "anyone" in ready["warning"]
    assert any("authentication is off" in r.getMessage() for r in caplog.records)


def test_wk_serve_requires_a_token(tmp_path: Path) -> None:
    root = build_store(tmp_path / "store")
    store = open_store(root)
    try:
        secret = create_token(store, "cli", "viewer")["secret"]
    finally:
        store.close()
    server = Server(root, token=secret).start(timeout=180)
    try:
        assert httpx.get(server.url + "/healthz").status_code == 200
        assert httpx.post(server.url + "/v1/models/tiny/predict", json={"row": TINY_ROW}).status_code == 401
        r = httpx.post(server.url + "/v1/models/tiny/predict", json={"row": TINY_ROW}, headers=bearer(secret))
        assert r.status_code == 200, r.text
        assert httpx.get(server.url + "/readyz", headers=bearer(secret)).json()["auth"] == "on"
    finally:
        server.kill()


def test_wk_serve_no_auth_prints_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    import serving.http.server
    from console.cli import main

    started: list[Any] = []
    monkeypatch.setattr(serving.http.server, "serve", lambda store, config, **kw: started.append(config))
    root = build_store(tmp_path / "store")
    assert main(["--store", str(root), "serve", "--no-auth", "--port", str(free_port()),
                 "--rate-limit", "600/min", "--burst", "7"]) == 0
    assert "WARNING: serving without API tokens" in capsys.readouterr().err
    assert started[0].auth is False and started[0].rate_per_s == 10.0 and started[0].burst == 7
    assert main(["--store", str(root), "serve", "--port", str(free_port())]) == 0
    assert started[1].auth is True and "WARNING" not in capsys.readouterr().err
    assert main(["--store", str(root), "serve", "--rate-limit", "fast"]) == 2


def test_wk_tokens_create_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from console.cli import main

    root = build_store(tmp_path / "store")
    store = ["--store", str(root)]
    assert main([*store, "tokens", "create", "ci", "--role", "viewer", "--models", "tiny",
                 "--expires", "30d", "--rate", "10/s", "--burst", "20"]) == 0
    out = capsys.readouterr()
    secret = out.out.strip()
    assert secret.startswith("wk_") and "will not be shown again" in out.err
    assert main([*store, "tokens", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(t["name"], t["models"], t["rate_per_s"], t["burst"], t["status"]) for t in listed] == [
        ("ci", ["tiny"], 10.0, 20, "active")]
    assert secret not in json.dumps(listed)
    assert main([*store, "tokens", "list"]) == 0
    text_out = capsys.readouterr().out
    assert "ci" in text_out and secret[:9] in text_out and secret not in text_out
    assert main([*store, "tokens", "create", "x", "--role", "viewer", "--burst", "3"]) == 2
    assert main([*store, "tokens", "create", "x", "--role", "viewer", "--expires", "soon"]) == 2
    assert main([*store, "tokens", "create", "x", "--role", "viewer", "--models", "nope"]) != 0
    capsys.readouterr()
    assert main([*store, "tokens", "revoke", "ci", "--reason", "rotated", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "revoked"
    assert main([*store, "tokens", "revoke", "ci", "--reason", "again"]) != 0


def test_wk_models_rate_limit_sets_and_clears_a_models_limit(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from console.cli import main

    root = build_store(tmp_path / "store")
    store = ["--store", str(root)]
    assert main([*store, "models", "rate-limit", "num", "--rate", "1200/min", "--reason", "costly", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"model": "num", "rate_per_s": 20.0, "burst": 40, "changed": True}
    assert rows(root, "SELECT rate_per_s, burst FROM registered_model WHERE name = 'num'") == [(20.0, 40)]
    assert main([*store, "models", "rate-limit", "num", "--off"]) == 0
    assert rows(root, "SELECT rate_per_s, burst FROM registered_model WHERE name = 'num'") == [(None, None)]
    audit = rows(root, "SELECT reason FROM audit_event WHERE action = 'model.set' AND target = 'model/num'")
    assert audit == [("costly",), ("",)]
    assert main([*store, "models", "rate-limit", "num", "--rate", "fast"]) == 2


def test_a_probe_sends_the_token_from_its_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import logging
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from scheduler.jobs_service import JobSettings, add_job
    from scheduler.kinds import kind_spec
    from scheduler.kinds.base import RunContext
    from store import jobs as job_rows
    from store.vocabulary import JobTrigger

    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server hook
            seen.append(self.headers.get("Authorization"))
            self.send_response(200 if seen[-1] == "Bearer wk_probe" else 401)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    store = open_store(build_store(tmp_path / "store"))
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        monkeypatch.setenv("WK_PROBE_TOKEN", "wk_probe")
        outcomes = []
        for name, args in (("with", {"url": url, "token_env": "WK_PROBE_TOKEN"}), ("without", {"url": url})):
            add_job(store, name, "probe", JobSettings(every="1h", args=args))
            with store.db.write() as session:
                job = job_rows.get_job(session, name)
                run = job_rows.queue_run(session, job, trigger=JobTrigger.RUN_NOW)
                session.expunge_all()
            ctx = RunContext(store=store, job=job, run=run, args=job.args or {}, model=None,
                             log=logging.getLogger("test"))
            outcomes.append(kind_spec("probe").run_function()(ctx).result)
        assert [o["ok"] for o in outcomes] == [True, False] and outcomes[1]["status_code"] == 401
        assert seen[:2] == ["Bearer wk_probe", "Bearer wk_probe"]  # /readyz, then /metrics
        assert "wk_probe" not in json.dumps(rows(tmp_path / "store", "SELECT args FROM job"))
    finally:
        server.shutdown()
        store.close()


def test_every_role_may_score_and_only_label_roles_may_send_feedback(served: Any) -> None:
    from store.roles import Permission, allows

    client, api, store, _root = served
    headers = {role: token(store, f"as-{role}", role) for role in ("viewer", "scientist", "operator", "admin")}
    refreshed(api)
    for role, h in headers.items():
        r = predict(client, "tiny", {"row": TINY_ROW}, headers=h)
        assert r.status_code == 200, (role, r.text)
        pid = r.json()["predictions"][0]["prediction_id"]
        r = client.post("/v1/feedback", json={"prediction_id": pid, "label": 1}, headers=h)
        assert r.status_code == (200 if allows(role, Permission.LABEL) else 403), (role, r.text)
