"""Batch scoring: bad rows quarantined with reasons, re-runs replace instead of
duplicating, every kind of source and sink, and a scorer killed mid-run (DB-01)."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from serving_store import REPO, build_store, tiny_frame

from console.cli import errors as cli_errors
from serving.batch.io import parse_sink, parse_source
from serving.batch.run import score_batch
from store.errors import InvalidInput, NotFound
from store.handle import open_store

BAD_VALUES = [("x1", "abc"), ("x2", ""), ("colour", "mauve"), ("x1", "1,5"), ("colour", "")]


def write_input(path: Path, rows: int, bad_share: float = 0.01, seed: int = 5) -> set[int]:
    """A CSV of tiny's features with `bad_share` of rows broken; returns their indexes."""
    frame, _ = tiny_frame(rows, seed=seed)
    frame = frame.astype(object)
    frame.insert(0, "application_id", [f"app-{i}" for i in range(rows)])
    rng = random.Random(seed)
    bad = set(rng.sample(range(rows), int(rows * bad_share)))
    for k, i in enumerate(sorted(bad)):
        column, value = BAD_VALUES[k % len(BAD_VALUES)]
        frame.at[i, column] = value
    frame.to_csv(path, index=False)
    return bad


def db_rows(root: Path, sql: str, *params: Any) -> list[Any]:
    conn = sqlite3.connect(root / "watchkeeper.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return build_store(tmp_path / "store", numeric=False)


def test_one_percent_malformed_rows_are_quarantined_exactly_and_a_rerun_keeps_the_counts(root: Path,
                                                                                        tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    bad = write_input(source, 5000)
    store = open_store(root)
    try:
        first = score_batch(store, "tiny", parse_source(str(source), None), parse_sink(str(tmp_path / "out.csv"), None),
                            run_id="nightly", chunk_size=700)
        counts = db_rows(root, "SELECT (SELECT count(*) FROM prediction WHERE batch_run_id = 'nightly'), "
                               "(SELECT count(*) FROM quarantine WHERE batch_run_id = 'nightly')")
        again = score_batch(store, "tiny", parse_source(str(source), None), parse_sink(str(tmp_path / "out.csv"), None),
                            run_id="nightly", chunk_size=1000)
    finally:
        store.close()
    assert (first["rows_read"], first["rows_scored"], first["rows_quarantined"]) == (5000, 4950, 50)
    quarantined = db_rows(root, "SELECT row_index, field, reason FROM quarantine WHERE batch_run_id = 'nightly'")
    assert {r[0] for r in quarantined} == bad
    assert all(r[2] for r in quarantined)
    reasons: dict[str, str] = {}
    for _row, field, reason in quarantined:
        reasons[field] = reasons.get(field, "") + reason
    assert "expected a number" in reasons["x1"] and "not a category seen in training" in reasons["colour"]
    assert "no missing values" in reasons["x2"] and "no missing values" in reasons["colour"]
    assert again["rows_scored"] == 4950 and again["rows_quarantined"] == 50
    assert db_rows(root, "SELECT (SELECT count(*) FROM prediction WHERE batch_run_id = 'nightly'), "
                         "(SELECT count(*) FROM quarantine WHERE batch_run_id = 'nightly')") == counts == [(4950, 50)]
    assert db_rows(root, "SELECT attempt, status, rows_read FROM batch_run") == [(2, "succeeded", 5000)]
    out = pd.read_csv(tmp_path / "out.csv")
    assert len(out) == 4950 and set(out.row_index) == set(range(5000)) - bad
    assert {"prediction_id", "prediction", "proba_0", "proba_1", "application_id", "version"} <= set(out.columns)
    logged = dict(db_rows(root, "SELECT row_index, prediction_id FROM prediction WHERE batch_run_id = 'nightly'"))
    assert all(logged[r] == p for r, p in zip(out.row_index, out.prediction_id, strict=True))
    assert not list(tmp_path.glob(".out.csv.*"))


def test_parquet_in_and_out_and_a_database_in_and_out(root: Path, tmp_path: Path) -> None:
    frame, _ = tiny_frame(1200, seed=9)
    frame.to_parquet(tmp_path / "in.parquet")
    data_db = tmp_path / "data.db"
    with sqlite3.connect(data_db) as conn:
        frame.to_sql("applications", conn, index=False)
    url = f"sqlite:///{data_db}"
    store = open_store(root)
    try:
        r1 = score_batch(store, "tiny", parse_source(str(tmp_path / "in.parquet"), None),
                         parse_sink(str(tmp_path / "out.parquet"), None), run_id="pq", chunk_size=500)
        source = parse_source(url, "SELECT x1, x2, colour FROM applications")
        r2 = score_batch(store, "tiny", source, parse_sink(url, "scores"), run_id="db", chunk_size=500)
        r3 = score_batch(store, "tiny", source, parse_sink(url, "scores"), run_id="db", chunk_size=300)
    finally:
        store.close()
    assert r1["rows_scored"] == r2["rows_scored"] == r3["rows_scored"] == 1200
    assert len(pd.read_parquet(tmp_path / "out.parquet")) == 1200
    with sqlite3.connect(data_db) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT row_index) FROM scores WHERE run_id = 'db'").fetchone() == (1200, 1200)
    assert db_rows(root, "SELECT count(*) FROM prediction WHERE batch_run_id = 'db'") == [(1200,)]


def test_bad_sources_and_sinks_are_named_and_leave_no_run_rows(root: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        parse_source(str(tmp_path / "missing.csv"), None)
    with pytest.raises(InvalidInput) as no_query:
        parse_source("sqlite:///x.db", None)
    assert "--query" in cli_errors.text(no_query.value)  # the CLI words the missing field as its flag
    with pytest.raises(InvalidInput, match=".csv or .parquet"):
        parse_sink(str(tmp_path / "out.txt"), None)
    frame, _ = tiny_frame(50)
    frame.drop(columns=["colour"]).to_csv(tmp_path / "in.csv", index=False)
    store = open_store(root)
    try:
        with pytest.raises(InvalidInput, match="no column 'colour'"):
            score_batch(store, "tiny", parse_source(str(tmp_path / "in.csv"), None),
                        parse_sink(str(tmp_path / "out.csv"), None), run_id="broken")
    finally:
        store.close()
    assert db_rows(root, "SELECT status FROM batch_run WHERE id = 'broken'") == [("failed",)]
    assert db_rows(root, "SELECT count(*) FROM prediction") == [(0,)]
    assert not (tmp_path / "out.csv").exists() and not list(tmp_path.glob(".out.csv.*"))


def test_wk_score_command_and_batch_listing(root: Path, tmp_path: Path, wk: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WK_STORE", str(root))
    write_input(tmp_path / "in.csv", 800)
    r = wk("score", "tiny", "--source", tmp_path / "in.csv", "--sink", tmp_path / "out.csv", "--run-id", "r1",
           "--keep", "application_id", "--json")
    assert r.code == 0, r.err
    assert r.json()["rows_quarantined"] == 8 and r.json()["rows_scored"] == 792
    assert list(pd.read_csv(tmp_path / "out.csv").columns)[-1] == "application_id"
    listed = wk("batch", "list", "--json").json()
    assert [(x["run_id"], x["status"], x["rows_read"]) for x in listed] == [("r1", "succeeded", 800)]
    q = wk("quarantine", "list", "--run", "r1", "--json").json()
    assert len(q) == 8 and all(x["reason"] for x in q)
    bad = wk("score", "tiny", "--source", tmp_path / "in.csv", "--sink", tmp_path / "out.csv", "--chunk-size", "0")
    assert bad.code == 1 and "chunk size 0" in bad.err


SCORER = """
import sys
from serving.batch.run import score_batch
from serving.batch.io import parse_sink, parse_source
from store.handle import open_store
store = open_store(sys.argv[1])
def progress(done, total):
    if done >= 1000:
        print("READY", flush=True)
score_batch(store, "tiny", parse_source(sys.argv[2], None), parse_sink(sys.argv[3], None),
            run_id="killed", chunk_size=500, progress=progress)
print("DONE", flush=True)
"""


def test_db01_a_scorer_killed_mid_run_leaves_whole_chunks_and_the_rerun_completes(root: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    bad = write_input(source, 20000, seed=11)
    script = tmp_path / "scorer.py"
    script.write_text(SCORER)
    rng = random.Random(7)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for _ in range(5):
        out = tmp_path / "scorer.out"
        with out.open("wb") as fh:
            proc = subprocess.Popen([sys.executable, str(script), str(root), str(source), str(tmp_path / "out.csv")],
                                    stdout=fh, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while b"READY" not in out.read_bytes():
            assert proc.poll() is None, out.read_text()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert db_rows(root, "PRAGMA integrity_check") == [("ok",)]
        # every committed chunk is whole: its scored and quarantined rows cover all 500 rows
        per_chunk = db_rows(root, "SELECT row_index / 500, count(*) FROM (SELECT row_index FROM prediction "
                                  "WHERE batch_run_id = 'killed' UNION ALL SELECT row_index FROM quarantine "
                                  "WHERE batch_run_id = 'killed') GROUP BY 1")
        assert all(n == 500 for _chunk, n in per_chunk), per_chunk
        # the attempt's own count (chunks an earlier attempt got further with stay until replaced)
        rows_read, chunks = db_rows(root, "SELECT rows_read, chunks FROM batch_run WHERE id = 'killed'")[0]
        assert rows_read == 500 * chunks and 0 < chunks <= len(per_chunk)
        assert not (tmp_path / "out.csv").exists()
    store = open_store(root)
    try:
        done = score_batch(store, "tiny", parse_source(str(source), None), parse_sink(str(tmp_path / "out.csv"), None),
                           run_id="killed", chunk_size=500)
    finally:
        store.close()
    assert (done["rows_scored"], done["rows_quarantined"]) == (20000 - len(bad), len(bad))
    assert db_rows(root, "SELECT count(*), count(DISTINCT row_index) FROM prediction WHERE batch_run_id = 'killed'") == \
        [(20000 - len(bad), 20000 - len(bad))]
    assert db_rows(root, "SELECT attempt, status FROM batch_run WHERE id = 'killed'") == [(6, "succeeded")]
    assert len(pd.read_csv(tmp_path / "out.csv")) == 20000 - len(bad)
    assert json.loads(db_rows(root, "SELECT inputs FROM prediction LIMIT 1")[0][0]).keys() == {"x1", "x2", "colour"}
    assert np.isfinite(pd.read_csv(tmp_path / "out.csv").proba_1).all()


def test_logged_batch_rows_carry_exact_inputs_and_the_stores_own_time_format(root: Path, tmp_path: Path) -> None:
    """The chunk's shared values go into the INSERT as literals: they must read back as the
    ORM writes them (time text, ids, route), and the logged inputs must be the scored
    values to the last digit."""
    frame, _ = tiny_frame(50, seed=9)
    frame["x1"] = frame["x1"] + 1e-9 * np.arange(50)  # 13+ significant digits
    source = tmp_path / "in.csv"
    frame.to_csv(source, index=False)
    store = open_store(root)
    try:
        score_batch(store, "tiny", parse_source(str(source), None), parse_sink(str(tmp_path / "out.csv"), None),
                    run_id="exact", chunk_size=20)
    finally:
        store.close()
    rows = db_rows(root, "SELECT p.at, r.started_at, p.route, p.source, p.request_id, p.latency_ms, p.inputs, "
                         "p.row_index, v.version FROM prediction p JOIN batch_run r ON r.id = p.batch_run_id "
                         "JOIN model_version v ON v.id = p.version_id WHERE p.batch_run_id = 'exact' ORDER BY p.row_index")
    assert len(rows) == 50
    for at, started_at, route, source_name, request_id, latency, inputs, row_index, version in rows:
        assert len(at) == len(started_at) == 26 and at[10] == " " and at >= started_at  # 'YYYY-mm-dd HH:MM:SS.ffffff'
        assert (route, source_name, request_id, version) == ("champion", "batch", None, 1)
        assert latency > 0
        logged = json.loads(inputs)
        original = pd.read_csv(source).iloc[row_index]
        assert logged["x1"] == original["x1"] and logged["x2"] == original["x2"]
        assert logged["colour"] == original["colour"]


def test_a_batch_runs_heartbeat_moves_with_each_chunk(root: Path, tmp_path: Path) -> None:
    """store/run_life.py: a run is started with a heartbeat, and each committed chunk moves
    it, so a reader can tell a stalled run from a live one by its age."""
    source = tmp_path / "in.csv"
    write_input(source, 3000, bad_share=0.0)
    store = open_store(root)
    try:
        score_batch(store, "tiny", parse_source(str(source), None), parse_sink(str(tmp_path / "o.csv"), None),
                    run_id="beat", chunk_size=1000)
    finally:
        store.close()
    [(started, beat, ended, chunks)] = db_rows(
        root, "SELECT started_at, heartbeat_at, ended_at, chunks FROM batch_run WHERE id = 'beat'")
    assert chunks == 3
    assert started < beat <= ended  # the last chunk's beat, after the start, before the finish


def test_a_csv_sink_writes_the_models_numeric_inputs_as_numbers(root: Path, tmp_path: Path) -> None:
    """The source is read as text; the numbers the model scored go back out unquoted, so
    a spreadsheet or pandas reads them as numbers. Other columns keep their text."""
    import csv

    source, sink = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("application_id,x1,x2,colour\n00017,0.5,120,red\n00018,-1.25,3,blue\n")
    store = open_store(root)
    try:
        score_batch(store, "tiny", parse_source(str(source), None), parse_sink(str(sink), None), run_id="num")
    finally:
        store.close()
    lines = sink.read_text().splitlines()
    header = next(csv.reader([lines[0]]))
    cells = [line.split(",") for line in lines[1:]]
    x1, x2, app = header.index("x1"), header.index("x2"), header.index("application_id")
    assert [(c[x1], c[x2]) for c in cells] == [("0.5", "120"), ("-1.25", "3")]
    assert [c[app] for c in cells] == ['"00017"', '"00018"']  # an id stays text, leading zeros kept
    read = pd.read_csv(sink)
    assert read["x1"].dtype == float and read["x2"].tolist() == [120, 3]


def test_a_batch_quarantine_reason_shows_the_value_it_had(root: Path, tmp_path: Path) -> None:
    source, sink = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("x1,x2,colour\nabc,1,red\n0.5,,blue\n")
    store = open_store(root)
    try:
        score_batch(store, "tiny", parse_source(str(source), None), parse_sink(str(sink), None), run_id="why")
    finally:
        store.close()
    reasons = [r for (r,) in db_rows(root, "SELECT reason FROM quarantine WHERE batch_run_id = 'why' ORDER BY row_index")]
    assert reasons[0] == "field 'x1': expected a number (sent \"abc\")"
    assert reasons[1].startswith("field 'x2': is empty") and reasons[1].endswith("(empty)")
