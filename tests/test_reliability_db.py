"""SQLite store reliability: reliability.md §1.3 and §7 rows DB-01..DB-04 and DB-07.

DB-02 pragmas asserted on every connection; DB-04 no read->write upgrade (the hazard
reproduced with raw sqlite3, the same sequence through Database.write(), and an AST
check that every write goes through it); DB-03 four writer processes; DB-01 kill -9
during write transactions leaves every batch whole; DB-07 network file systems refused.
"""

from __future__ import annotations

import ast
import json
import logging
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import killtest
import pytest

from store import engine as engine_mod
from store.engine import BUSY_TIMEOUT_MS, Database, sqlite_version_waiver
from store.errors import StoreUnavailable
from store.handle import filesystem_type, init_store, refuse_network_filesystem

REPO = Path(__file__).resolve().parent.parent




def raw(path: Path, timeout: float = 5.0) -> sqlite3.Connection:
    """A plain sqlite3 connection in autocommit mode (we issue BEGIN ourselves)."""
    return sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)


def query(path: Path, sql: str) -> list[Any]:
    """Rows of one query on a fresh connection, closed afterwards."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# --- DB-02: connection pragmas -------------------------------------------------------------

PRAGMAS = ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
EXPECTED = {"journal_mode": "wal", "busy_timeout": 30000, "foreign_keys": 1, "synchronous": 1}


def _pragmas(conn: Any) -> dict[str, Any]:
    return {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in PRAGMAS}


def test_db02_pragmas_on_every_new_connection(store: Any) -> None:
    from sqlalchemy import event

    db: Database = store.db
    db.dispose()
    connects: list[int] = []
    event.listen(db.engine, "connect", lambda dbapi, rec: connects.append(id(dbapi)))
    n = 6
    barrier = threading.Barrier(n, timeout=30)
    seen: list[tuple[int, dict[str, Any]]] = []
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            # engine connections, read sessions and one write session (a second would
            # wait for the first one's lock), all held at once so the pool has to open n
            # distinct DBAPI connections
            if k % 3 == 0:
                with db.engine.connect() as conn:
                    barrier.wait()
                    seen.append((id(conn.connection.dbapi_connection), _pragmas(conn)))
                    conn.rollback()
                    barrier.wait()
            else:
                ctx = db.write() if k == 2 else db.read()
                with ctx as session:
                    conn = session.connection()
                    barrier.wait()
                    seen.append((id(conn.connection.dbapi_connection), _pragmas(conn)))
                    barrier.wait()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len({dbapi for dbapi, _ in seen}) == n, "the pool did not open separate connections"
    assert len(connects) >= n
    for _, values in seen:
        assert values == EXPECTED
    assert BUSY_TIMEOUT_MS >= 15000  # reliability.md DB-02


def test_db02_pragmas_after_pool_reset_and_on_a_file_made_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    plain = sqlite3.connect(path)  # rollback-journal file with sqlite3's defaults
    plain.execute("CREATE TABLE t (x)")
    plain.commit()
    assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    plain.close()
    db = Database(f"sqlite:///{path}")
    try:
        for _ in range(2):
            with db.engine.connect() as conn:
                assert _pragmas(conn) == EXPECTED
            db.dispose()  # next round opens a brand new connection
    finally:
        db.dispose()
    assert query(path, "PRAGMA journal_mode") == [("wal",)]  # persisted in the file


def test_db02_sqlite_version_waiver(monkeypatch: pytest.MonkeyPatch,
                                    caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    waiver = sqlite_version_waiver()
    if sqlite3.sqlite_version_info < (3, 51, 3):
        assert waiver and sqlite3.sqlite_version in waiver and "3.51.3" in waiver
        assert "WAL-reset" in waiver
        monkeypatch.setattr(engine_mod, "_waiver_logged", False)
        with caplog.at_level(logging.INFO, logger="store.engine"):
            engine_mod.make_engine(f"sqlite:///{tmp_path / 'w.db'}").dispose()
        assert [r.getMessage() for r in caplog.records if r.levelno == logging.INFO] == [waiver]
    else:
        assert waiver is None
    monkeypatch.setattr(engine_mod.sqlite3, "sqlite_version_info", (3, 51, 3))
    assert sqlite_version_waiver() is None
    monkeypatch.setattr(engine_mod.sqlite3, "sqlite_version_info", (3, 51, 2))
    assert sqlite_version_waiver() is not None


class _IgnoresForeignKeys(sqlite3.Cursor):
    def execute(self, sql: str, *args: Any) -> Any:  # type: ignore[override]
        if sql.replace(" ", "").upper() == "PRAGMAFOREIGN_KEYS=ON":
            sql = "PRAGMA foreign_keys"  # a build or a file system where it does not take
        return super().execute(sql, *args)


class _IgnoringConnection(sqlite3.Connection):
    def cursor(self, factory: Any = _IgnoresForeignKeys) -> Any:  # type: ignore[override]
        return super().cursor(factory)


def test_db02_connection_whose_pragmas_do_not_take_is_refused(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from sqlmodel import select

    real_connect = sqlite3.dbapi2.connect
    monkeypatch.setattr(sqlite3.dbapi2, "connect",
                        lambda *a, **k: real_connect(*a, factory=_IgnoringConnection, **k))
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        for ctx in (db.read, db.write):
            with pytest.raises(StoreUnavailable, match="foreign_keys"), ctx() as session:
                session.exec(select(1)).one()
    finally:
        db.dispose()


def test_db02_wal_that_does_not_take_is_refused() -> None:
    db = Database("sqlite://")  # in-memory: journal_mode stays 'memory'
    try:
        with pytest.raises(StoreUnavailable, match="journal_mode"), db.engine.connect():
            pass
    finally:
        db.dispose()


# --- DB-04: no read -> write upgrades --------------------------------------------------------

def _wal_file(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()


def test_db04_hazard_deferred_read_then_write_fails_at_once(tmp_path: Path) -> None:
    """reliability.md §1.1: documents why every write transaction must be IMMEDIATE."""
    path = tmp_path / "h.db"
    _wal_file(path)
    a, b = raw(path, timeout=5.0), raw(path, timeout=5.0)
    assert a.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    a.execute("BEGIN")  # DEFERRED
    a.execute("SELECT count(*) FROM t").fetchone()  # A now reads a snapshot
    b.execute("INSERT INTO t VALUES (1)")  # B commits a write meanwhile
    t0 = time.perf_counter()
    with pytest.raises(sqlite3.OperationalError, match="database is locked") as info:
        a.execute("INSERT INTO t VALUES (2)")  # the upgrade cannot succeed: no waiting helps
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0, f"failed after {elapsed:.3f} s, expected at once (busy_timeout 5 s)"
    assert info.value.sqlite_errorname == "SQLITE_BUSY_SNAPSHOT"
    a.execute("ROLLBACK")
    a.close()
    b.close()


def _audit_row(actor: str) -> Any:
    from store.tables import AuditEvent

    return AuditEvent(actor=actor, action="db04.test", target="t")


def test_db04_same_sequence_through_database_write_commits(store: Any) -> None:
    """A reads, another connection tries to commit a write, A writes: with BEGIN IMMEDIATE
    A holds the write lock from its first statement, so A commits and the other waits."""
    from sqlalchemy import func
    from sqlmodel import select

    from store.tables import AuditEvent

    other = raw(store.location.db_path, timeout=5.0)
    trying, done = threading.Event(), threading.Event()
    other_result: list[Any] = []

    def other_writer() -> None:
        trying.set()
        t0 = time.perf_counter()
        try:
            other.execute("INSERT INTO audit_event (at, actor, action, target, reason) "
                          "VALUES ('2026-01-01 00:00:00', 'other', 'db04.test', 't', '')")
            other_result.append(time.perf_counter() - t0)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            other_result.append(exc)
        done.set()

    with store.db.write() as session:
        session.exec(select(func.count()).select_from(AuditEvent)).one()  # A reads first
        t = threading.Thread(target=other_writer)
        t.start()
        assert trying.wait(10)
        # Give the other writer time to commit if it could; it cannot while A holds the lock.
        assert not done.wait(0.3), f"another connection committed inside A's transaction: {other_result}"
        session.add(_audit_row("A"))  # A writes: no SQLITE_BUSY
    t.join(timeout=10)
    assert other_result and not isinstance(other_result[0], BaseException), other_result
    ids = dict(query(store.location.db_path,
                     "SELECT actor, id FROM audit_event WHERE action = 'db04.test'"))
    assert ids["A"] < ids["other"], "the other writer did not wait for A's commit"
    other.close()


def test_db04_database_write_waits_for_a_held_lock_then_commits(store: Any) -> None:
    other = raw(store.location.db_path, timeout=5.0)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO audit_event (at, actor, action, target, reason) "
                  "VALUES ('2026-01-01 00:00:00', 'holder', 'db04.test', 't', '')")
    got_lock: list[float] = []
    failed: list[BaseException] = []

    def writer() -> None:
        try:
            with store.db.write() as session:
                session.connection()  # BEGIN IMMEDIATE: waits in the busy handler
                got_lock.append(time.monotonic())
                session.add(_audit_row("waiter"))
        except BaseException as exc:  # noqa: BLE001 - asserted below
            failed.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    t.join(timeout=0.5)  # the writer is waiting for the lock, not failing
    assert not failed and not got_lock
    released = time.monotonic()
    other.execute("COMMIT")
    t.join(timeout=30)
    assert not failed, failed
    assert got_lock and got_lock[0] >= released
    actors = [r[0] for r in query(store.location.db_path,
                                  "SELECT actor FROM audit_event WHERE action = 'db04.test' ORDER BY id")]
    assert actors == ["holder", "waiter"]
    other.close()


def test_db04_write_inside_a_read_session_is_named_as_such(store: Any) -> None:
    """The hazard through the app: a write in Database.read() fails at once, and the
    error does not blame a lock held for 30 s."""
    from sqlalchemy import func
    from sqlmodel import select

    from store.tables import AuditEvent

    other = raw(store.location.db_path)
    t0 = time.perf_counter()
    with pytest.raises(StoreUnavailable, match="Database.write"), store.db.read() as session:
        session.exec(select(func.count()).select_from(AuditEvent)).one()
        other.execute("INSERT INTO audit_event (at, actor, action, target, reason) "
                      "VALUES ('2026-01-01 00:00:00', 'other', 'db04.test', 't', '')")
        session.add(_audit_row("reader"))
        session.flush()
    assert time.perf_counter() - t0 < 1.0
    other.close()


WRITE_SCAN = ["store", "registry", "console", "serving", "scheduler", "monitoring"]
#: Where the engine may open sessions and transactions itself: the database's own module,
#: and the prediction log's held writer split from it.
ENGINE_FILE = "store/engine.py"
ENGINE_FILES = {ENGINE_FILE, "store/log_writer.py"}
#: (file, receiver, method) allowed outside the engine: the schema migration's IMMEDIATE begin.
ALLOWED_BEGINS = {("store/schema.py", "db._write_engine", "begin"),
                  # batch scoring's table sink: the user's own database, not the store
                  ("serving/batch/io.py", "self._engine", "begin")}
#: Files whose sqlite3.connect() is a read-only URI (mode=ro): it cannot write, so it is
#: no write path. Shell completion reads model names this way, on every Tab, without
#: importing SQLAlchemy.
READ_ONLY_CONNECTS = {"store/names.py", "store/backup.py"}
#: (file, argument) of sqlite3.connect() on a file that is not the store: the backup's new
#: copy, which the online backup API writes page by page from the store's own connection.
NEW_FILE_CONNECTS = {("store/backup.py", "partial")}


def write_path_violations(source: str, rel: str) -> list[str]:
    """Sessions, transactions and raw connections opened outside store/engine.py."""
    if rel in ENGINE_FILES:
        return []
    out = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        receiver = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
        if name in {"Session", "sessionmaker", "scoped_session", "AsyncSession"}:
            out.append(f"{rel}:{node.lineno}: {name}(...) outside {ENGINE_FILE}; use Database.read()/write()")
        elif name in {"begin", "begin_nested", "commit"} and receiver:
            if (rel, receiver, name) not in ALLOWED_BEGINS:
                out.append(f"{rel}:{node.lineno}: {receiver}.{name}() outside {ENGINE_FILE}; "
                           "write through Database.write()")
        elif receiver == "sqlite3" and name == "connect" and rel in READ_ONLY_CONNECTS \
                and "mode=ro" in ast.unparse(node):
            continue
        elif receiver == "sqlite3" and name == "connect" and node.args \
                and (rel, ast.unparse(node.args[0])) in NEW_FILE_CONNECTS:
            continue
        elif name in {"raw_connection"} or (receiver == "sqlite3" and name == "connect"):
            out.append(f"{rel}:{node.lineno}: {receiver}.{name}() bypasses the engine")
    return out


def test_db04_every_write_goes_through_database_write() -> None:
    violations = []
    for d in WRITE_SCAN:
        for path in sorted((REPO / d).rglob("*.py")) if (REPO / d).is_dir() else []:
            rel = path.relative_to(REPO).as_posix()
            violations += write_path_violations(path.read_text(), rel)
    assert violations == [], "\n".join(violations)
    # The one allowed exception is still there (so the allowance is not stale).
    schema = (REPO / "store/schema.py").read_text()
    assert "db._write_engine.begin()" in schema


def test_db04_write_path_check_catches_bypasses() -> None:
    source = """
from sqlmodel import Session
import sqlite3

def bad(db, engine):
    with Session(engine) as s:
        s.add(1)
        s.commit()
    with engine.begin() as conn:
        pass
    with db._write_engine.begin() as conn:
        pass
    sqlite3.connect("x.db")
    engine.raw_connection()

def good(db):
    with db.write() as s:
        s.add(1)
    with db.engine.connect() as conn:
        conn.rollback()
"""
    def lines(rel: str) -> list[int]:
        return sorted(int(v.split(":")[1]) for v in write_path_violations(source, rel))

    assert lines("console/bad.py") == [6, 8, 9, 11, 13, 14]
    assert lines("store/schema.py") == [6, 8, 9, 13, 14]  # only the migration begin is allowed
    assert lines("store/engine.py") == [] and lines("store/log_writer.py") == []
    assert lines("store/names.py") == [6, 8, 9, 11, 13, 14]  # its allowance is for mode=ro only
    read_only = 'import sqlite3\nsqlite3.connect(f"{path}?mode=ro", uri=True)\n'
    assert write_path_violations(read_only, "store/names.py") == []
    assert write_path_violations(read_only, "console/bad.py") != []


# --- DB-03: four writer processes ----------------------------------------------------------

DB03_CHILD = r"""
import json, random, sys, time
from sqlalchemy import func, insert
from sqlmodel import select
from store.handle import open_store
from store.tables import AuditEvent
from store.types import utcnow

root, role, n_tx, read_p, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
db = open_store(root).db
rng = random.Random(seed)
print("READY", flush=True)
sys.stdin.readline()  # the start signal, so all four contend from the first transaction
waits, sent, txns, reads, errors = [], 0, 0, 0, []
t_start = time.perf_counter()
for k in range(n_tx):
    n = rng.randint(1, 50)
    rows = [{"at": utcnow(), "actor": role, "action": "db03.write", "target": f"{role}/{k}",
             "before": None, "after": {"i": i}, "reason": ""} for i in range(n)]
    try:
        t0 = time.perf_counter()
        with db.write() as session:
            conn = session.connection()  # BEGIN IMMEDIATE: the lock wait is here
            waits.append(time.perf_counter() - t0)
            # read, then write, as the registry does (next version number, then insert):
            # the pattern that fails at once if the transaction was not IMMEDIATE
            session.exec(select(func.max(AuditEvent.id))).one()
            conn.execute(insert(AuditEvent), rows)
        sent += n
        txns += 1
    except Exception as exc:
        errors.append(repr(exc))
    while rng.random() < read_p:
        try:
            with db.read() as session:
                session.exec(select(func.count()).select_from(AuditEvent)).one()
                session.exec(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(20)).all()
            reads += 1
        except Exception as exc:
            errors.append(repr(exc))
print(json.dumps({"role": role, "sent": sent, "txns": txns, "reads": reads, "errors": errors,
                  "waits": waits, "seconds": time.perf_counter() - t_start}), flush=True)
"""

#: Role -> chance of another read after each write (a TUI polls a lot, a CLI little).
ROLES = {"tui-poller": 0.8, "scheduler": 0.4, "server-logger": 0.1, "cli": 0.3}


def test_db03_four_writer_processes(tmp_path: Path) -> None:
    root = tmp_path / "store"
    init_store(root)[0].close()
    n_tx = 150
    children = []
    for seed, (role, read_p) in enumerate(ROLES.items()):
        child, proc = killtest.spawn(killtest.python_child(DB03_CHILD, root, role, n_tx, read_p, seed),
                                     tmp_path / "children", stdin=subprocess.PIPE)
        children.append((child, proc))
    try:
        for child, _ in children:
            child.wait_ready()
        t0 = time.perf_counter()
        for _, proc in children:
            assert proc.stdin
            proc.stdin.write(b"go\n")
            proc.stdin.close()
        for _, proc in children:
            proc.wait(timeout=120)
        wall = time.perf_counter() - t0
    finally:
        for child, _ in children:
            child.kill()
    reports = []
    for child, proc in children:
        assert proc.returncode == 0, child.output()
        reports.append(json.loads(child.output().strip().splitlines()[-1]))
    errors = [e for r in reports for e in r["errors"]]
    assert errors == [], errors  # no 'database is locked', nor anything else
    assert all(r["txns"] == n_tx for r in reports)
    conn = sqlite3.connect(root / "watchkeeper.db")
    try:
        counts = dict(conn.execute("SELECT actor, count(*) FROM audit_event "
                                   "WHERE action = 'db03.write' GROUP BY actor").fetchall())
        txns = dict(conn.execute("SELECT actor, count(DISTINCT target) FROM audit_event "
                                 "WHERE action = 'db03.write' GROUP BY actor").fetchall())
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    assert counts == {r["role"]: r["sent"] for r in reports}
    assert txns == dict.fromkeys(ROLES, n_tx)
    waits = sorted(w for r in reports for w in r["waits"])
    p50, p99, worst = waits[len(waits) // 2], waits[int(len(waits) * 0.99) - 1], waits[-1]
    assert p99 < 2.0, f"p99 lock wait {p99:.3f} s"
    print(f"\nDB-03: {len(waits)} write transactions, {sum(counts.values())} rows, "
          f"{sum(r['reads'] for r in reports)} reads in {wall:.1f} s; lock wait p50 "
          f"{p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {worst * 1000:.1f} ms")


# --- DB-01: kill -9 during write transactions ----------------------------------------------

BATCH_ROWS = 2000

DB01_CHILD = r"""
import sys, uuid
from sqlalchemy import insert
from store.handle import open_store
from store.tables import AuditEvent, RegisteredModel
from store.types import utcnow

db = open_store(sys.argv[1]).db
progress = open(sys.argv[2], "a", buffering=1)
rows_per_batch = int(sys.argv[3])
run = uuid.uuid4().hex[:8]
print("READY", flush=True)
k = 0
while True:
    batch = f"{run}-{k}"
    now = utcnow()
    rows = [{"at": now, "actor": "killtest", "action": "db01.row", "target": f"batch/{batch}",
             "before": None, "after": {"i": i}, "reason": ""} for i in range(rows_per_batch)]
    progress.write(f"begin {batch}\n")  # from here to "done" the kill lands mid-write
    with db.write() as session:
        session.add(RegisteredModel(name=f"db01-{batch}", created_by="killtest"))
        session.flush()
        session.connection().execute(insert(AuditEvent), rows)
        session.add(AuditEvent(actor="killtest", action="db01.batch", target=f"batch/{batch}",
                               after={"rows": rows_per_batch}))
    progress.write(f"done {batch}\n")  # after COMMIT returned: this batch must survive a crash
    k += 1
"""


def verify_batches(db_path: Path, reported: set[str], rows: int = BATCH_ROWS) -> int:
    """integrity_check; every batch whole (its rows, its marker, its model) or absent.
    Returns the number of complete batches."""
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        per_batch = conn.execute(
            "SELECT substr(target, 7), sum(action = 'db01.row'), sum(action = 'db01.batch'), "
            "count(DISTINCT json_extract(after, '$.i')) "
            "FROM audit_event WHERE action IN ('db01.row', 'db01.batch') GROUP BY target"
        ).fetchall()
        models = {r[0][5:] for r in conn.execute(
            "SELECT name FROM registered_model WHERE name LIKE 'db01-%'")}
    finally:
        conn.close()
    partial = [b for b in per_batch if (b[1], b[2], b[3]) != (rows, 1, rows)]
    assert not partial, f"partial batches (batch, rows, markers, distinct rows): {partial[:5]}"
    batches = {b[0] for b in per_batch}
    assert models == batches, f"batches without their model row or reverse: {models ^ batches}"
    lost = reported - batches
    assert not lost, f"committed batches lost after the crash: {sorted(lost)[:5]}"
    return len(batches)


def test_db01_verifier_detects_a_partial_batch(store: Any) -> None:
    db_path = store.location.db_path
    conn = raw(db_path)
    conn.execute("INSERT INTO registered_model (name, owner, team, description, criticality, "
                 "task, created_at, created_by) VALUES ('db01-x-0', '', '', '', 'normal', '', "
                 "'2026-01-01 00:00:00', 't')")
    for i in range(3):
        conn.execute("INSERT INTO audit_event (at, actor, action, target, after, reason) VALUES "
                     "('2026-01-01 00:00:00', 't', 'db01.row', 'batch/x-0', ?, '')",
                     (json.dumps({"i": i}),))
    conn.execute("INSERT INTO audit_event (at, actor, action, target, reason) VALUES "
                 "('2026-01-01 00:00:00', 't', 'db01.batch', 'batch/x-0', '')")
    assert verify_batches(db_path, {"x-0"}, rows=3) == 1
    conn.execute("DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event "
                 "WHERE action = 'db01.row')")
    with pytest.raises(AssertionError, match="partial batches"):
        verify_batches(db_path, set(), rows=3)
    with pytest.raises(AssertionError, match="lost"):
        verify_batches(db_path, {"x-1"}, rows=2)
    conn.close()


def test_db01_kill_during_write_transactions_leaves_whole_batches(tmp_path: Path) -> None:
    """20 kills (reliability.md DB-01), each of a child forked from a process that imported
    the store once (killtest.ForkServer; a fresh interpreter spent ~1.5 s per kill on its
    imports); most kills must land inside a write transaction."""
    root = tmp_path / "store"
    init_store(root)[0].close()
    db_path = root / "watchkeeper.db"
    progress = tmp_path / "progress.log"
    progress.touch()
    history: list[int] = []
    mid_write = 0

    def verify(i: int) -> None:
        nonlocal mid_write
        lines = progress.read_text().splitlines()
        reported = {ln.split()[1] for ln in lines if ln.startswith("done ")}
        mid_write += bool(lines) and lines[-1].startswith("begin ")  # the phase the kill hit
        with progress.open("a") as fh:
            fh.write("killed\n")
        complete = verify_batches(db_path, reported)
        assert not history or complete >= history[-1], "complete batches went backwards"
        history.append(complete)

    with killtest.ForkServer(["store.handle", "store.tables", "sqlalchemy", "sqlmodel"]) as server:
        result = killtest.crash_loop(
            lambda i: server.start(DB01_CHILD, [root, progress, BATCH_ROWS], tmp_path / "children"),
            verify, kills=20, min_delay=0.1, max_delay=0.6)
    assert result.kills == 20
    grew = sum(1 for a, b in zip([0, *history], history, strict=False) if b > a)
    assert grew >= 10 and history[-1] >= 20, f"the children barely committed: {history}"
    assert mid_write >= 10, f"only {mid_write} of 20 kills landed inside a write transaction"
    print(f"\nDB-01: {result.kills} kills (seed {result.seed}), {mid_write} inside a write "
          f"transaction, {history[-1]} complete batches of {BATCH_ROWS} rows, 0 partial; child "
          f"start-up median {sorted(result.startup_s)[len(result.startup_s) // 2]:.2f} s")


# --- DB-07: network file systems ----------------------------------------------------------

def _mounts(tmp_path: Path, fs: str, point: Path) -> Path:
    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/vda / ext4 rw,relatime 0 0\n"
        "proc /proc proc rw 0 0\n"
        f"server:/export {point} {fs} rw,relatime 0 0\n"
    )
    return mounts


@pytest.mark.parametrize("fs", ["nfs", "nfs4", "cifs", "smb3", "fuse.sshfs", "fuse", "9p"])
def test_db07_network_filesystem_refused(fs: str, tmp_path: Path) -> None:
    point = tmp_path.resolve() / "mnt"
    store = point / "team" / "store"
    mounts = _mounts(tmp_path, fs, point)
    assert filesystem_type(store, mounts) == fs
    with pytest.raises(StoreUnavailable, match=f"on a {fs} file system"):
        refuse_network_filesystem(store, mounts)


def test_db07_network_mount_reached_through_a_link_or_with_a_space(tmp_path: Path) -> None:
    real = tmp_path.resolve() / "my share"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/vda / ext4 rw 0 0\n"
                      f"server:/x {str(real).replace(' ', chr(92) + '040')} nfs4 rw 0 0\n")
    for store in (real / "store", link / "store"):
        with pytest.raises(StoreUnavailable, match="nfs4"):
            refuse_network_filesystem(store, mounts)


@pytest.mark.parametrize("fs", ["ext4", "xfs", "btrfs", "tmpfs", "overlay"])
def test_db07_local_filesystem_passes(fs: str, tmp_path: Path) -> None:
    tmp_path = tmp_path.resolve()
    point = tmp_path / "mnt"
    mounts = _mounts(tmp_path, fs, point)
    refuse_network_filesystem(point / "store", mounts)
    # A network mount elsewhere (a sibling with a common prefix) does not count.
    sibling = _mounts(tmp_path, "nfs", tmp_path / "mn")
    refuse_network_filesystem(point / "store", sibling)
    refuse_network_filesystem(tmp_path / "mnt2" / "store", _mounts(tmp_path, "nfs", point))


def test_db07_init_refuses_before_creating_the_database(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    import store.handle as handle

    monkeypatch.setattr(handle, "filesystem_type", lambda path, mounts=None: "nfs4")
    root = tmp_path / "store"
    with pytest.raises(StoreUnavailable, match="nfs4"):
        init_store(root)
    assert not (root / "watchkeeper.db").exists()
