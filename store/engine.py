"""Engine and sessions.

SQLite is opened the way DESIGN.md and reliability.md (DB-02, DB-04) ask: WAL, a long
busy timeout, foreign keys on, and our own transaction control so that every write
transaction starts with ``BEGIN IMMEDIATE`` (taking the write lock up front, through
the busy handler) instead of upgrading a read transaction, which fails at once with
SQLITE_BUSY when another connection has written meanwhile. Any other SQLAlchemy URL
(PostgreSQL) gets a plain engine.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from store.errors import StoreUnavailable

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect, Engine
    from sqlmodel import Session

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000
#: The prediction log's Checkpointer copies new WAL frames back this often.
CHECKPOINT_INTERVAL_S = 0.02
#: The log writer's own (in-commit) checkpoint mark, in WAL pages: a backstop (HeldWriter).
BACKSTOP_CHECKPOINT_PAGES = 4000
#: NORMAL in WAL mode: durable across application crashes (kill -9), may lose the last
#: transactions on power loss; chosen for write throughput, documented in DESIGN.md.
SYNCHRONOUS = "NORMAL"
_SYNCHRONOUS_CODES = {"OFF": 0, "NORMAL": 1, "FULL": 2, "EXTRA": 3}
#: The first SQLite release without the WAL-reset bug (3.7.0 to 3.51.2).
SQLITE_WAL_RESET_FIXED = (3, 51, 3)
_WRITE_OPTION = "wk_write"
_waiver_logged = False


def sqlite_version_waiver() -> str | None:
    """A warning if the linked SQLite has the WAL-reset bug, else None."""
    if sqlite3.sqlite_version_info >= SQLITE_WAL_RESET_FIXED:
        return None
    return (
        f"SQLite {sqlite3.sqlite_version} is older than 3.51.3 and has the WAL-reset bug "
        "(needs concurrent writers or checkpointers in several processes); waiver: "
        "Watchkeeper keeps write transactions short and checkpoints from one process"
    )


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Disable the driver's own transaction handling; the "begin" listener emits BEGIN.
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        cur.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
        cur.execute("PRAGMA foreign_keys = ON")
        check_pragmas(cur, journal_mode=mode)
    finally:
        cur.close()


def check_pragmas(cur: sqlite3.Cursor, journal_mode: str | None = None) -> dict[str, Any]:
    """Read the connection's pragmas back and refuse a connection that did not take them."""
    values = {
        "journal_mode": journal_mode or cur.execute("PRAGMA journal_mode").fetchone()[0],
        "busy_timeout": cur.execute("PRAGMA busy_timeout").fetchone()[0],
        "foreign_keys": cur.execute("PRAGMA foreign_keys").fetchone()[0],
        "synchronous": cur.execute("PRAGMA synchronous").fetchone()[0],
    }
    expected = {
        "journal_mode": "wal",
        "busy_timeout": BUSY_TIMEOUT_MS,
        "foreign_keys": 1,
        "synchronous": _SYNCHRONOUS_CODES[SYNCHRONOUS],
    }
    wrong = {k: v for k, v in values.items() if str(v).lower() != str(expected[k]).lower()}
    if wrong:
        raise StoreUnavailable(
            f"the SQLite connection did not accept its settings ({wrong}, expected {expected}); "
            "the database may be on a file system without shared-memory support (WAL needs a "
            "local disk): move the store to a local folder"
        )
    return values


def _on_sqlite_begin(conn: Any) -> None:
    if conn.get_execution_options().get(_WRITE_OPTION):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def make_engine(database_url: str) -> Engine:
    """An engine for the URL; SQLite engines get the pragmas and BEGIN handling."""
    from sqlalchemy import create_engine, event

    global _waiver_logged
    if database_url.startswith("sqlite"):
        engine = create_engine(
            database_url,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        if not _waiver_logged and (waiver := sqlite_version_waiver()):
            log.info(waiver)
            _waiver_logged = True
        return engine
    return create_engine(database_url, pool_pre_ping=True)


def is_locked_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text


class Database:
    """The engine plus the two ways to use it: short reads and IMMEDIATE writes."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.engine = make_engine(database_url)
        self._write_engine = self.engine.execution_options(**{_WRITE_OPTION: True})

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A short read session; never hold one across a UI refresh or network call."""
        from sqlmodel import Session

        with _store_errors(), Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: BEGIN IMMEDIATE, commit on success, roll back on error."""
        from sqlmodel import Session

        with _store_errors(), Session(self._write_engine, expire_on_commit=False) as session:
            with session.begin():
                yield session

    @contextmanager
    def write_core(self) -> Iterator[Connection]:
        """A Core write transaction (BEGIN IMMEDIATE on SQLite), for the prediction log's
        batched inserts, where ORM objects would cost ten times the time per row."""
        with _store_errors(), self._write_engine.begin() as conn:
            yield conn

    @contextmanager
    def read_core(self) -> Iterator[Connection]:
        """A short Core read connection (no ORM objects), for hot or bulk reads."""
        with _store_errors(), self.engine.connect() as conn:
            try:
                yield conn
            finally:
                conn.rollback()

    def held_writer(self) -> HeldWriter:
        """A write connection kept open for the prediction log, so a commit does not pay a
        pool checkout, run on the driver's own connection (below)."""
        return HeldWriter(self)

    def checkpointer(self, interval_s: float = CHECKPOINT_INTERVAL_S) -> Checkpointer | None:
        """SQLite: a thread copying the WAL back off the writers' path (None elsewhere)."""
        return Checkpointer(self, interval_s) if self.is_sqlite else None

    def dispose(self) -> None:
        self.engine.dispose()


class DriverTransaction:
    """A write transaction on the driver's connection: the prediction log's few statements
    bound and run by the DBAPI itself. Through SQLAlchemy each statement costs about 30 us
    of events and context (BEGIN, the rows, the rollup and COMMIT: 0.12-0.15 ms of a 0.2 ms
    commit, measured on a 2-core machine); the driver's errors come back as SQLAlchemy's,
    so callers handle them as for any Connection."""

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self._raw = raw
        self.dialect = dialect

    def exec_driver_sql(self, statement: str, parameters: Any = None) -> Any:
        """As Connection.exec_driver_sql: a list of tuples runs executemany, one tuple
        execute; returns the DBAPI cursor (fetchall() as a result's)."""
        cursor = self._raw.cursor()
        try:
            if isinstance(parameters, list):
                cursor.executemany(statement, parameters)
            else:
                cursor.execute(statement, parameters or ())
        except self.dialect.loaded_dbapi.Error as exc:
            raise _sqlalchemy_error(self.dialect, statement, parameters, exc) from exc
        return cursor


class WriterBusy(Exception):
    """A transaction(wait=False) found the write lock taken; nothing was begun."""


class HeldWriter:
    """One write connection, used by one thread at a time; each `transaction()` is BEGIN
    IMMEDIATE ... COMMIT on the driver's connection. Between transactions it holds no lock
    and no snapshot.

    SQLite's automatic checkpoint runs inside the commit that crosses its mark (1,000 WAL
    pages by default): the requests waiting for that commit wait for the copy and its two
    fsyncs too (1.4 ms for 80 pages, measured; 3.5 ms at 1,000). Here a Checkpointer thread
    copies the WAL off the commit path, and this connection's own mark is raised to
    BACKSTOP_CHECKPOINT_PAGES: it then runs only when commits came so fast that the
    checkpointer never found the WAL quiet enough to start it again from the beginning."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: Connection | None = None
        self._pool_checkpoint_pages: int | None = None  # the connection's setting before ours

    def _connection(self) -> Connection:
        if self._conn is None:
            with _store_errors():
                conn = self._db._write_engine.connect()
                if self._db.is_sqlite:
                    # on the driver's connection: through SQLAlchemy the pragma would open a
                    # transaction, and ours begin IMMEDIATE (a write lock for a setting)
                    raw = _driver_connection(conn)
                    self._pool_checkpoint_pages = raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
                    raw.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_CHECKPOINT_PAGES}")
                self._conn = conn
        return self._conn

    @property
    def can_begin_without_waiting(self) -> bool:
        """`transaction(wait=False)` is supported (SQLite: a write lock taken at BEGIN, or
        refused at once; elsewhere a statement can wait on a row lock at any point)."""
        return self._db.is_sqlite

    @contextmanager
    def transaction(self, *, wait: bool = True) -> Iterator[DriverTransaction]:
        """BEGIN IMMEDIATE ... COMMIT. `wait=False` (SQLite only): if another connection
        holds the write lock, raise WriterBusy at once instead of waiting up to the busy
        timeout; the only wait in a SQLite WAL write transaction is at its BEGIN."""
        conn = self._connection()
        raw: Any = conn.connection.driver_connection  # sqlite3's, or psycopg's
        tx = DriverTransaction(raw, conn.dialect)
        sqlite = self._db.is_sqlite
        began = False
        if not wait:
            if not sqlite:
                raise ValueError("transaction(wait=False) needs SQLite")
            raw.execute("PRAGMA busy_timeout = 0")
            try:
                raw.execute("BEGIN IMMEDIATE")
            except conn.dialect.loaded_dbapi.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise _sqlalchemy_error(conn.dialect, "BEGIN IMMEDIATE", None, exc) from exc
                raise WriterBusy("another connection holds the write lock") from exc
            finally:
                raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            began = True
        try:
            with _store_errors():
                if sqlite and not began:
                    tx.exec_driver_sql("BEGIN IMMEDIATE")
                yield tx
                try:
                    if sqlite:
                        raw.execute("COMMIT")
                    else:
                        raw.commit()
                except conn.dialect.loaded_dbapi.Error as exc:
                    raise _sqlalchemy_error(conn.dialect, "COMMIT", None, exc) from exc
        except BaseException:
            try:
                if sqlite:
                    if raw.in_transaction:
                        raw.execute("ROLLBACK")
                else:
                    raw.rollback()
            except Exception:  # noqa: BLE001  (the connection is dropped below)
                pass
            self.close()  # a fresh connection next time, whatever state this one is in
            raise

    def close(self) -> None:
        if self._conn is not None:
            try:
                if self._pool_checkpoint_pages is not None:  # the pool gets back what it lent
                    try:
                        self._conn.rollback()
                        _driver_connection(self._conn).execute(
                            f"PRAGMA wal_autocheckpoint = {int(self._pool_checkpoint_pages)}")
                    except Exception:  # noqa: BLE001  (a broken connection is not pooled again)
                        self._conn.invalidate()
                self._conn.close()
            finally:
                self._conn = None
                self._pool_checkpoint_pages = None


def _sqlalchemy_error(dialect: Dialect, statement: str, parameters: Any, exc: Exception) -> Exception:
    """The DBAPI error as SQLAlchemy wraps it (IntegrityError, OperationalError, ...)."""
    from sqlalchemy.exc import DBAPIError

    return DBAPIError.instance(statement, parameters, exc, dialect.loaded_dbapi.Error, dialect=dialect)


class Checkpointer:
    """Copies the WAL back into the database off the writers' path: every `interval_s`
    after new commits, PRAGMA wal_checkpoint(PASSIVE) on a connection of its own (sqlite3
    lets go of the GIL while it copies and syncs, and a passive checkpoint takes no lock a
    writer waits for). Whenever a copy ends with no commit after it, the next commit
    starts the WAL again from its beginning."""

    def __init__(self, db: Database, interval_s: float) -> None:
        self._db = db
        self.interval_s = interval_s
        self._commits = 0  # bumped by the writer; a plain int (a lost bump only delays a copy)
        self._copied_at = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.checkpoints = 0
        self.failures = 0
        self.wal_frames = 0  # the WAL's frames at the last copy

    def committed(self) -> None:
        self._commits += 1

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        conn: Connection | None = None
        try:
            while not self._stop.wait(self.interval_s):
                if self._commits == self._copied_at:
                    continue
                self._copied_at = self._commits
                try:
                    if conn is None:
                        conn = self._db.engine.connect()
                    (_busy, frames, _copied), = _driver_connection(conn).execute(
                        "PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.wal_frames = frames
                    self.checkpoints += 1
                except Exception as exc:  # noqa: BLE001  (the next round tries again)
                    self.failures += 1
                    log.warning("WAL checkpoint failed (tried again in %.2f s): %s", self.interval_s, exc)
                    if conn is not None:
                        conn.invalidate()
                        conn.close()
                        conn = None
        finally:
            if conn is not None:
                conn.close()


def _driver_connection(conn: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under a checked-out SQLAlchemy one (SQLAlchemy types it
    Optional: None only once the connection is closed)."""
    raw = conn.connection.driver_connection
    assert raw is not None, "a checked-out connection has its driver connection"
    return raw


@contextmanager
def _store_errors() -> Iterator[None]:
    from sqlalchemy.exc import OperationalError

    try:
        yield
    except OperationalError as exc:
        if getattr(exc.orig, "sqlite_errorname", "") == "SQLITE_BUSY_SNAPSHOT":
            # Not a lock held too long: a read transaction tried to write after another
            # connection had committed (reliability.md DB-04). Only a write outside
            # Database.write() can get here.
            raise StoreUnavailable(
                "the store changed under a read transaction that then tried to write "
                "(SQLITE_BUSY_SNAPSHOT); this is a bug in Watchkeeper: writes must go "
                "through Database.write(), which starts with BEGIN IMMEDIATE. Retry the command"
            ) from exc
        if is_locked_error(exc):
            raise StoreUnavailable(
                f"the store is locked: another process held the write lock for more than "
                f"{BUSY_TIMEOUT_MS // 1000} s; retry, or find the process holding it "
                "(fuser on the database file)"
            ) from exc
        raise StoreUnavailable(f"the store could not be read or written: {exc.orig}") from exc
