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
