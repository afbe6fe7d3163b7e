"""`wk audit` (issue 13 item 9): its filters by actor, action, model and time each narrow
the log, and --jsonl / --out export every matching event (no 100-row default) as one JSON
object a line, oldest first, the file created for the owner only."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from registry.audit_log import AuditFilter, iter_audit
from store import audit
from store.handle import open_store
from store.tables import AuditEvent

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def logged(wk, store_dir: Path) -> Path:
    """250 events by alice about model m_1, and a few others, one minute apart."""
    assert wk("init").code == 0
    store = open_store(store_dir)
    try:
        with store.db.write() as session:
            for i in range(250):
                session.add(AuditEvent(actor="alice", action="alias.promote",
                                       target=audit.target("m_1", version=i), at=T0 + timedelta(minutes=i)))
            session.add(AuditEvent(actor="bob", action="alias.rollback", target=audit.target("m_1"),
                                   at=T0 + timedelta(days=1)))
            session.add(AuditEvent(actor="bob", action="model.transfer", target=audit.target("mX1"),
                                   at=T0 + timedelta(days=1, minutes=1)))
            session.add(AuditEvent(actor="token:ci", action="channel.add", target="channel/ops",
                                   at=T0 + timedelta(days=2)))
            session.add(AuditEvent(actor="bob", action="alias.promote", target=audit.target("m_10"),
                                   at=T0 + timedelta(days=2, minutes=1)))
    finally:
        store.close()
    return store_dir


def _ids(wk, *args: str) -> list[int]:
    result = wk("audit", "--json", *args)
    assert result.code == 0, result.err
    return [e["id"] for e in result.json()]


def test_each_filter_narrows_the_log(wk, logged: Path) -> None:
    assert len(_ids(wk)) == 100  # the table's default page
    assert len(_ids(wk, "--limit", "1000")) == 254 + 1  # and init's own event
    assert len(_ids(wk, "--actor", "alice", "--limit", "1000")) == 250
    assert len(_ids(wk, "--actor", "bob")) == 3
    assert len(_ids(wk, "--action", "alias.", "--limit", "1000")) == 252
    assert len(_ids(wk, "--action", "alias.rollback")) == 1
    assert len(_ids(wk, "--action", "alias_")) == 0  # '_' is a character, not a wildcard
    # a model's events: its own target and what is under it; not m_10, not mX1 ('_' literal)
    assert len(_ids(wk, "--model", "m_1", "--limit", "1000")) == 251
    assert len(_ids(wk, "--model", "mX1")) == 1
    since, until = (T0 + timedelta(days=1)).isoformat(), (T0 + timedelta(days=2)).isoformat()
    assert len(_ids(wk, "--since", since, "--until", until)) == 2  # bob's two on day 1
    assert len(_ids(wk, "--since", since, "--actor", "bob", "--action", "alias.")) == 2
    assert len(_ids(wk, "--until", (T0 + timedelta(minutes=10)).isoformat())) == 10
    bad = wk("audit", "--since", until, "--until", since)
    assert bad.code != 0 and "since must be before until" in bad.err


def test_jsonl_streams_every_match_oldest_first(wk, logged: Path) -> None:
    result = wk("audit", "--jsonl", "--actor", "alice")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) == 250  # no 100-row default
    rows = [json.loads(line) for line in lines]
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    assert set(rows[0]) == {"id", "at", "actor", "action", "target", "before", "after", "reason"}
    assert len(wk("audit", "--jsonl", "--limit", "7").out.splitlines()) == 7


def test_out_writes_a_private_file_outside_the_store(wk, logged: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    result = wk("audit", "--out", str(out), "--model", "m_1", "--json")
    assert result.code == 0, result.err
    assert result.json() == {"file": str(out), "events": 251}
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert len([json.loads(line) for line in out.read_text().splitlines()]) == 251
    assert not list(tmp_path.glob(".audit.jsonl.partial-*"))
    inside = wk("audit", "--out", str(logged / "watchkeeper.db"))
    assert inside.code == 5 and "inside the store folder" in inside.err
    assert (logged / "watchkeeper.db").stat().st_size > 0
    nul = wk("audit", "--out", "a\x00b.jsonl")
    assert nul.code != 0 and "NUL" in nul.err


def test_an_export_reads_in_pages_up_to_the_events_it_started_with(logged: Path) -> None:
    store = open_store(logged)
    try:
        rows = iter_audit(store, AuditFilter(actor="alice"), page=40)
        first = [next(rows) for _ in range(3)]
        with store.db.write() as session:  # recorded after the export began: not in it
            session.add(AuditEvent(actor="alice", action="alias.promote", target="model/late"))
        rest = list(rows)
    finally:
        store.close()
    assert len(first) + len(rest) == 250
    assert all(r["target"] != "model/late" for r in rest)
