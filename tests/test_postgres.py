"""The same code on PostgreSQL (WK_DATABASE_URL): init, train, promote, rollback, audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from postgres_server import postgres_server, unavailable_reason

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


@pytest.fixture(scope="module")
def pg_url() -> str:
    with postgres_server() as url:
        yield url


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

    from sqlalchemy import create_engine, text

    engine = create_engine(pg_url, isolation_level="AUTOCOMMIT")  # a database of its own
    with engine.connect() as conn:
        conn.execute(text("CREATE DATABASE wk_serving"))
    engine.dispose()
    monkeypatch.setenv("WK_DATABASE_URL", pg_url.rsplit("/", 1)[0] + "/wk_serving")
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
    assert wk("deploy", "set", "tiny", "--log", "metadata", "--reason", "pii", "--json").json()["log_mode"] == "metadata"
    from store.handle import open_store
    from store.rollups import rollup_totals, rollup_vs_rows

    store = open_store(None)
    try:
        with store.db.read() as session:
            assert rollup_vs_rows(session) == []
            totals = rollup_totals(session, datetime(2000, 1, 1, tzinfo=UTC))
        assert [(t[4], t[5]) for t in totals] == [(4, 1)]
    finally:
        store.close()
