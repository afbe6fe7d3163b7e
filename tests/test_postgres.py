"""The same code on PostgreSQL (WK_DATABASE_URL): init, train, promote, rollback, audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from postgres_server import unavailable_reason, use_new_database

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def test_full_flow_on_postgresql(wk, tiny_spec: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WK_DATABASE_URL", pg_url)
    init = wk("init", "--json")
    assert init.code == 0, init.err
    assert init.json()["created"] is True
    assert wk("train", tiny_spec).code == 0
    assert wk("train", tiny_spec, "--param", "C=0.5").code == 0
    assert wk("train", tiny_spec, "--param", 'drop=["x1"]').code == 1  # gate failure recorded
    assert wk("models", "promote", "tiny", "1", "production", "--reason", "a").code == 0
    assert wk("models", "promote", "tiny", "2", "production", "--reason", "b").code == 0
    assert wk("models", "rollback", "tiny", "production", "--reason", "c").code == 0
    show = wk("models", "show", "tiny", "--json").json()
    assert show["aliases"] == {"production": 1}
    assert [r["status"] for r in show["runs"]] == ["failed_gate", "succeeded", "succeeded"]
    assert wk("reproduce", "tiny", "1").code == 0
    audit = wk("audit", "--action", "alias.", "--json").json()
    assert [e["action"] for e in audit] == ["alias.rollback", "alias.promote", "alias.promote"]
    assert audit[0]["at"].endswith("Z")
    assert wk("data", "show", "tiny-data", "--json").json()["versions"][0]["version"] == 1
    assert wk("init", "--json").json()["created"] is False


def test_serving_on_postgresql(wk, tiny_spec: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch,
                               tmp_path: Path) -> None:
    """The prediction log's driver-level SQL (placeholders, the rollup upsert, batch replace)
    on PostgreSQL: predict, batch score twice, deploy, feedback, and the rollups agree."""
    import json
    from datetime import UTC, datetime

    use_new_database(pg_url, "wk_serving", monkeypatch)
    assert wk("init").code == 0
    assert wk("train", tiny_spec).code == 0
    assert wk("models", "promote", "tiny", "1", "production", "--reason", "a").code == 0
    row = wk("predict", "tiny", "--example", "--json").json()["row"]
    p = wk("predict", "tiny", "--row", json.dumps(row), "--request-id", "pg-1", "--json")
    assert p.code == 0, p.err
    pid = p.json()["predictions"][0]["prediction_id"]
    assert wk("predictions", "show", pid, "--json").json()["inputs"] == row
    assert wk("predict", "tiny", "--row", json.dumps({**row, "colour": "mauve"})).code == 1
    for _ in range(3):  # the same minute: the rollup row is updated, not duplicated
        assert wk("predict", "tiny", "--row", json.dumps(row)).code == 0
    rows = tmp_path / "in.csv"
    rows.write_text("x1,x2,colour\n" + "".join(f"{i / 10},{-i / 10},red\n" for i in range(50)) + "abc,1,red\n")
    for _ in range(2):
        r = wk("score", "tiny", "--source", rows, "--sink", tmp_path / "out.csv", "--run-id", "pg", "--chunk-size",
               "20", "--json")
        assert r.code == 0, r.err
        assert (r.json()["rows_scored"], r.json()["rows_quarantined"]) == (50, 1)
    assert len(wk("predictions", "list", "--source", "batch", "--limit", "500", "--json").json()) == 50
    assert wk("feedback", "--prediction-id", pid, "--label", "1").code == 0
    # the monitoring checks read the same log on PostgreSQL (text columns, %s parameters):
    # 54 rows with inputs, two refused rows (the unseen colour and the batch row "abc"), one label
    drift = wk("drift", "tiny", "--window", "1h", "--json")
    assert drift.code == 4 and drift.json()["status"] == "insufficient" and drift.json()["rows"] == 54, drift.err
    quality = wk("quality", "tiny", "--window", "1h", "--json").json()
    assert quality["quarantined"] == 2 and quality["rows"] == 54
    (perf,) = wk("perf", "tiny", "--window", "1h", "--json").json()
    assert (perf["labelled"], perf["predictions"]) == (1, 54)
    assert [r["kind"] for r in wk("monitor", "reports", "tiny", "--json").json()].count("drift") == 1
    assert wk("deploy", "set", "tiny", "--log", "metadata", "--reason", "pii", "--json").json()["log_mode"] == "metadata"
    from store.handle import open_store
    from store.rollups import rollup_totals, rollup_vs_rows

    store = open_store(None)
    try:
        with store.db.read() as session:
            assert rollup_vs_rows(session) == []
            totals = rollup_totals(session, datetime(2000, 1, 1, tzinfo=UTC))
        assert [(t.answered, t.errors, t.requests) for t in totals] == [(4, 1, 5)]
        # the charts' series: read back at minute precision from timestamptz columns
        from datetime import timedelta

        from serving.traffic import dashboard

        step, series = dashboard.trends(store, now=datetime.now(UTC) + timedelta(minutes=2), minutes=10)
        assert step == 1 and [s.model for s in series] == ["tiny"]
        assert (sum(p.requests for p in series[0].points), sum(p.rows for p in series[0].points)) == (5, 5)
    finally:
        store.close()


def test_the_servers_log_writer_on_postgresql(wk, tiny_spec: Path, pg_url: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's held writer runs its statements on the driver's connection: on
    PostgreSQL too (psycopg's placeholders, its own transaction, a repeated request id
    found by the driver's cursor, a constraint failing one entry of a group commit)."""
    import asyncio
    import random
    import time

    from sqlalchemy import text

    from serving.log.logger import Duplicate, LogEntry, PredictionLogger
    from serving.scoring import core
    from serving.scoring.core import Context, Rejection
    from serving.traffic.state import ServingState
    from store.handle import open_store
    from store.rollups import rollup_vs_rows
    from store.vocabulary import Route, Source

    use_new_database(pg_url, "wk_logger", monkeypatch)
    assert wk("init").code == 0
    assert wk("train", tiny_spec).code == 0
    assert wk("models", "promote", "tiny", "1", "production", "--reason", "a").code == 0
    row = wk("predict", "tiny", "--example", "--json").json()["row"]
    store = open_store(None)
    state = ServingState(store)
    state.refresh()
    served = state.models["tiny"]
    loaded = served.champion
    assert loaded is not None
    logger = PredictionLogger(store.db)
    logger.start()

    def context(request_id: str | None) -> Context:
        return Context(Source.API, request_id, "full", 1.0, store.db.engine.dialect.name,
                       check_duplicate=request_id is not None, rng=random.Random(1))

    def answered(request_id: str | None, values: dict) -> LogEntry:
        prepared = core.prepare(loaded, Route.CHAMPION, [values], context(request_id))
        assert not isinstance(prepared, Rejection)
        result = core.complete(prepared, *loaded.predict(prepared.values), time.perf_counter())
        assert not isinstance(result, Rejection)
        return result.entry

    async def write_all() -> list[object]:
        first = await logger.write(answered("pg-req", row))
        again = await logger.write(answered("pg-req", row))  # a retry: the first answer's rows
        refused = core.prepare(loaded, Route.CHAMPION, [{**row, "colour": "mauve"}], context(None))
        assert isinstance(refused, Rejection)
        await logger.write(refused.entry)  # quarantined, counted as an error
        good = [answered(None, row) for _ in range(3)]
        twin = LogEntry(model_id=good[0].model_id, rows=list(good[0].rows))
        outcomes: list[object] = []
        for entry in [*good, twin]:
            logger.submit(entry, lambda o, e: outcomes.append(e or o), commit_here=True)
        await asyncio.to_thread(logger.commit_queued)  # as a predictor thread commits them
        return [first, again, *outcomes]

    try:
        first, again, *group = asyncio.run(write_all())
        logger.stop()
        assert first is None and isinstance(again, Duplicate) and len(again.rows) == 1
        assert sum(isinstance(o, Exception) for o in group) == 1 and group.count(None) == 3
        with store.db.read() as session:
            assert rollup_vs_rows(session) == []
            counted = session.execute(text("SELECT count(*) FROM prediction")).scalar()
            quarantined = session.execute(text("SELECT count(*) FROM quarantine")).scalar()
        assert (counted, quarantined) == (4, 1)
    finally:
        state.stop()  # its predictor threads
        store.close()


def test_jobs_on_postgresql(wk, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scheduler's tables on PostgreSQL: jobs through the CLI, the run ledger, and the
    partial unique index that lets one run of a job be running at a time (SCH-08)."""
    import sqlalchemy.exc

    from store import jobs as job_rows
    from store.handle import open_store
    from store.job_tables import JobRun

    use_new_database(pg_url, "wk_jobs", monkeypatch)
    assert wk("init").code == 0
    assert wk("jobs", "add", "nightly", "--kind", "command", "--cron", "0 3 * * *",
              "--command", "true").code == 0
    assert wk("jobs", "add", "after", "--kind", "command", "--after", "nightly",
              "--command", "true").code == 0
    assert "cycle" in wk("jobs", "edit", "nightly", "--after", "after").err
    run = wk("jobs", "run-now", "nightly", "--json").json()["run"]
    assert [r["id"] for r in wk("jobs", "runs", "--json").json()] == [run]
    store = open_store(None)
    try:
        with store.db.write() as session:
            job = job_rows.get_job(session, "nightly")
            session.add(JobRun(job_id=job.id, job_name="nightly", kind="command", status="running"))
        with pytest.raises(sqlalchemy.exc.IntegrityError), store.db.write() as session:
            session.add(JobRun(job_id=job.id, job_name="nightly", kind="command", status="running"))
    finally:
        store.close()


def test_store_upkeep_on_postgresql(wk, pg_url: str, monkeypatch: pytest.MonkeyPatch,
                                    tmp_path: Path) -> None:
    """Backup and vacuum say to use PostgreSQL's own tools; the check hashes the artifacts;
    usage sizes tables with pg_total_relation_size; prune deletes in batches."""
    from datetime import timedelta

    from scheduler.cost_report import cost_report, usage_report
    from store.handle import open_store
    from store.prune import prune_before
    from store.types import utcnow

    use_new_database(pg_url, "wk_upkeep", monkeypatch)
    assert wk("init").code == 0
    refused = wk("store", "backup", tmp_path / "copy")
    assert refused.code == 5 and "pg_dump" in refused.err and not (tmp_path / "copy").exists()
    assert wk("store", "vacuum").code == 5
    checked = wk("store", "check", "--json")
    assert checked.code == 0 and "amcheck" in checked.json()["database"]
    store = open_store(None)
    try:
        usage = usage_report(store)
        assert usage["method"]["table_bytes"] == "pg_total_relation_size"
        assert usage["totals"]["predictions_bytes"] > 0  # an empty table still has its pages
        assert cost_report(store, 7)["totals"]["runs"] == 0
        now = utcnow()
        assert prune_before(store, now - timedelta(days=1), now=now)["rows"] == 0
    finally:
        store.close()


def test_access_on_postgresql(wk, tiny_spec: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Schema 0009 on PostgreSQL: the upgrading account becomes admin (no database file
    to own), users and tokens through the CLI, the server's token cache and its use flush,
    a denial audited in its own transaction, a hand-over, and an explanation kept."""
    import json

    from fastapi.testclient import TestClient
    from serving_store import bearer

    from registry.aliases import promote
    from serving.http.api import ServerConfig
    from serving.http.app import make_app
    from store.errors import PermissionDenied
    from store.handle import open_store
    from store.tokens import create_token, list_tokens, revoke_token

    use_new_database(pg_url, "wk_access", monkeypatch)
    assert wk("init").code == 0
    assert wk("users", "whoami", "--json").json()["role"] == "admin"
    assert wk("users", "add", "nobody", "--role", "viewer").code == 0
    assert {u["name"]: u["role"] for u in wk("users", "list", "--json").json()}["nobody"] == "viewer"
    assert wk("train", tiny_spec).code == 0
    assert wk("models", "promote", "tiny", "1", "production", "--reason", "a").code == 0
    transfer = wk("models", "transfer", "tiny", "--owner", "nobody", "--team", "ops", "--reason", "handed over")
    assert transfer.code == 0, transfer.err
    assert wk("models", "show", "tiny", "--json").json()["owner"] == "nobody"

    store = open_store(None)
    try:
        reader = bearer(create_token(store, "reader", "viewer")["secret"])
        app = make_app(store, ServerConfig(timeout_s=5.0, auth=True))
        row = wk("predict", "tiny", "--example", "--json").json()["row"]
        with TestClient(app) as client:
            api = app.state.api
            api.gate.refresh()
            assert client.post("/v1/models/tiny/predict", json={"row": row}).status_code == 401
            answer = client.post("/v1/models/tiny/predict", json={"row": row}, headers=reader)
            assert answer.status_code == 200, answer.text
            pid = answer.json()["predictions"][0]["prediction_id"]
            refused = client.post("/v1/feedback", json={"prediction_id": pid, "label": 1}, headers=reader)
            assert refused.status_code == 403
            api.gate.flush()  # what the cache thread does every 5 s
            (used,) = [t for t in list_tokens(store) if t["name"] == "reader"]
            assert used["last_used_at"] is not None and used["uses"] == 2, used
            revoke_token(store, "reader", reason="leaked")
            api.gate.refresh()
            gone = client.post("/v1/models/tiny/predict", json={"row": row}, headers=reader)
            assert gone.status_code == 401 and "revoked" in gone.text
        with pytest.raises(PermissionDenied):
            promote(store, "tiny", 1, "staging", reason="a viewer tries", actor="token:reader")
    finally:
        store.close()
    denied = wk("audit", "--action", "access.denied", "--json").json()
    assert [e["actor"] for e in denied] == ["token:reader", "token:reader"], denied
    explained = wk("explain", pid, "--store-result", "--json")
    assert explained.code == 0, explained.err
    assert explained.json()["reproduced"] is True and explained.json()["stored"] is True
    kept = wk("audit", "--action", "prediction.explain", "--json").json()
    assert [json.dumps(e["target"]) for e in kept] == ['"model/tiny/v1"']
