"""Store upkeep: a backup taken while two writers log (reliability.md DB-10), the checks
(integrity, artifacts, the SQLite version), vacuum and the WAL checkpoint (DB-05)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from logged_store import build_logged_store
from upkeep_store import bulk_store

BATCH = 50
WRITER = """
import sqlite3, sys, time, uuid
db, model, version, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
conn = sqlite3.connect(db, isolation_level=None, timeout=30)
conn.execute("PRAGMA journal_mode=WAL")
k = 0
import os
while not os.path.exists(stop):
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO prediction (prediction_id, at, model_id, version_id, route, source, "
        "request_id, row_index, latency_ms) VALUES (?, '2026-12-01 00:00:00.000000', ?, ?, "
        "'champion', 'api', ?, ?, 1.0)",
        [(uuid.uuid4().hex, model, version, f"proc-{k}", i) for i in range(BATCH)])
    conn.execute("COMMIT")
    k += 1
print(k)
""".replace("BATCH", str(BATCH))


def _batch(model_id: int, version_id: int, name: str) -> list[tuple[Any, ...]]:
    from store.prediction_log import db_time
    from store.types import utcnow

    at = db_time("sqlite", utcnow())
    return [(uuid.uuid4().hex, at, model_id, version_id, "champion", "api", name, i, None,
             '{"x1": 1.0}', '{"class": 1}', 1.0) for i in range(BATCH)]


def _batches(db: Path, prefix: str) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT request_id, count(*) FROM prediction WHERE request_id "
                                 "LIKE ? GROUP BY request_id", (prefix + "%",)).fetchall())
    finally:
        conn.close()


def test_a_backup_taken_while_a_thread_and_a_process_write_is_whole(tmp_path: Path) -> None:
    from store.backup import backup
    from store.handle import open_store
    from store.integrity import check
    from store.prediction_log import insert_predictions

    store, logged = bulk_store(tmp_path / "store", 30_000)
    version = logged.version_ids[1]
    stop = threading.Event()
    written: list[int] = []

    def thread_writer() -> None:
        k = 0
        while not stop.is_set():
            with store.db.write_core() as conn:
                insert_predictions(conn, _batch(logged.model_id, version, f"thread-{k}"))
            k += 1
        written.append(k)

    flag = tmp_path / "stop"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(store.location.db_path),
                             str(logged.model_id), str(version), str(flag)],
                            stdout=subprocess.PIPE, text=True)
    thread = threading.Thread(target=thread_writer)
    thread.start()
    try:
        while not _batches(store.location.db_path, "proc-") or not _batches(
                store.location.db_path, "thread-"):
            pass  # both writers are under way
        result = backup(store, tmp_path / "copy")
    finally:
        stop.set()
        flag.touch()
        thread.join()
        out, _ = proc.communicate(timeout=30)
    assert result["check"]["ok"], result["check"]
    copied = {**_batches(tmp_path / "copy" / "watchkeeper.db", "proc-"),
              **_batches(tmp_path / "copy" / "watchkeeper.db", "thread-")}
    assert copied and set(copied.values()) == {BATCH}  # every batch in the copy is whole
    assert any(k.startswith("proc-") for k in copied) and any(k.startswith("thread-") for k in copied)
    later = len(_batches(store.location.db_path, "proc-")) + written[0]
    assert later > len(copied)  # the writers went on during and after the copy
    assert result["counts"]["prediction"] == 30_060 + len(copied) * BATCH
    assert result["artifacts"]["copied"] == 2 and not result["artifacts"]["missing"]
    reopened = open_store(tmp_path / "copy")  # the copy is a store wk opens
    try:
        full = check(reopened)
    finally:
        reopened.close()
    assert full["ok"] and full["integrity"] == ["ok"], full["problems"]
    assert int(out) > 0
    store.close()


def test_backup_refuses_a_non_empty_folder_one_inside_the_store_and_postgres(tmp_path: Path,
                                                                          store: Any) -> None:
    from store.backup import backup
    from store.engine import Database
    from store.errors import Refused
    from store.handle import Store
    from store.location import StoreLocation

    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(Refused, match="exists and is not empty"):
        backup(store, tmp_path / "full")
    with pytest.raises(Refused, match="inside the store"):
        backup(store, store.location.root / "backups")
    url = "postgresql+psycopg://wk@127.0.0.1:1/wk"
    pg = Store(StoreLocation(tmp_path / "pg", url, False), Database(url))
    with pytest.raises(Refused, match="pg_dump") as refused:
        backup(pg, tmp_path / "pgcopy")
    assert refused.value.kind == "refused" and not (tmp_path / "pgcopy").exists()


def test_check_names_a_changed_and_a_missing_artifact_and_warns_of_orphans(
        tmp_path: Path, wk: Any, store_dir: Path) -> None:
    from store.handle import open_store
    from store.integrity import check, registered_artifacts

    store, _ = build_logged_store(store_dir, rows=50)
    assert check(store)["ok"]
    first, second = sorted(registered_artifacts(store))
    folder = store.location.artifacts_dir
    (folder / f"{first}.skops").write_bytes(b"changed after registration\n")
    (folder / f"{second}.skops").unlink()
    (folder / ("0" * 64 + ".skops")).write_bytes(b"no version names me")
    result = check(open_store(store_dir), quick=True)
    assert not result["ok"]
    assert [m["sha256"] for m in result["artifacts"]["mismatched"]] == [first]
    assert [m["sha256"] for m in result["artifacts"]["missing"]] == [second]
    assert result["artifacts"]["orphans"] == ["0" * 64 + ".skops"]
    assert any("tiny v" in p for p in result["problems"])
    done = wk("store", "check")
    assert done.code == 1 and "missing" in done.err and "changed" in done.err
    store.close()


def test_check_warns_below_sqlite_3_51_3_without_failing(store: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from store.integrity import check

    result = check(store)
    assert sqlite3.sqlite_version_info < (3, 51, 3)  # this machine: 3.40.1
    assert result["ok"] and not result["sqlite_wal_reset_fixed"]
    assert any("3.51.3" in w and "WAL-reset" in w for w in result["warnings"])
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 51, 3))
    assert not any("3.51.3" in w for w in check(store)["warnings"])


def test_vacuum_gives_space_back_and_refuses_a_locked_store(tmp_path: Path) -> None:
    from store.errors import StoreUnavailable
    from store.prune import prune_before
    from store.types import utcnow
    from store.vacuum import vacuum
    from store.wal import wal_status

    store, _ = bulk_store(tmp_path / "store", 20_000)
    now = utcnow()
    prune_before(store, now, now=now)  # every prediction is older than now
    assert wal_status(store)["free_pages"] > 0
    done = vacuum(store)
    assert done["after_bytes"] < done["before_bytes"] / 2 and done["freed_bytes"] > 0
    assert done["auto_vacuum"] == "incremental" and done["checkpoint"]["busy"] == 0
    holder = sqlite3.connect(store.location.db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable, match="locked.*Try again"):
            vacuum(store, busy_timeout_ms=100)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.close()


def test_a_truncate_checkpoint_empties_the_wal_once_a_long_reader_lets_go(tmp_path: Path) -> None:
    from store.prediction_log import insert_predictions
    from store.wal import checkpoint_wal, wal_status

    store, logged = build_logged_store(tmp_path / "store", rows=100)
    reader = sqlite3.connect(store.location.db_path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM prediction").fetchone()  # holds its snapshot
    for k in range(20):
        with store.db.write_core() as conn:
            insert_predictions(conn, _batch(logged.model_id, logged.version_ids[1], f"w-{k}"))
    held = checkpoint_wal(store, "TRUNCATE", busy_timeout_ms=50)
    assert held["busy"] == 1 and held["wal_bytes"] > 0
    reader.execute("COMMIT")
    reader.close()
    done = checkpoint_wal(store)
    assert done == {"busy": 0, "log_frames": 0, "checkpointed": 0, "wal_bytes": 0}
    assert wal_status(store)["wal_bytes"] == 0 and not wal_status(store)["over_bound"]
    store.close()


def test_wk_store_commands_answer_in_json(wk: Any, store_dir: Path, tmp_path: Path) -> None:
    store, _ = build_logged_store(store_dir, rows=200)
    store.close()
    backed = wk("store", "backup", tmp_path / "copy", "--json")
    assert backed.code == 0, backed.err
    assert backed.json()["counts"]["prediction"] == 200 and backed.json()["check"]["ok"]
    assert wk("store", "backup", tmp_path / "copy").code == 5  # refused: not empty
    assert wk("store", "check", "--json").json()["ok"]
    assert wk("store", "check", "--store", tmp_path / "copy").code == 0
    assert wk("store", "vacuum", "--json").json()["auto_vacuum"] == "incremental"
    usage = wk("store", "usage", "--json").json()
    assert usage["models"][0]["predictions_rows"] == 200
    assert wk("audit", "--action", "store.", "--json").json()[0]["action"] == "store.vacuum"


def test_a_backup_that_fails_half_way_leaves_no_folder(store: Any, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import store.backup as backup_module

    def broken(*_a: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup_module, "_copy_artifacts", broken)
    with pytest.raises(OSError, match="No space"):
        backup_module.backup(store, tmp_path / "new")
    assert not (tmp_path / "new").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(OSError, match="No space"):
        backup_module.backup(store, tmp_path / "empty")
    assert list((tmp_path / "empty").iterdir()) == []  # the user's empty folder stays, empty
