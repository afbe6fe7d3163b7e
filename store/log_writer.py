"""The prediction log's write path on the store: one held write connection whose
transactions run on the driver's own connection (HeldWriter, DriverTransaction), and the
thread that copies the WAL back into the database off the commit path (Checkpointer).
Split from store/engine.py, which opens and configures the database for everyone."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from store.engine import BUSY_TIMEOUT_MS, _driver_connection, _store_errors

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect

    from store.engine import Database

log = logging.getLogger(__name__)

#: The prediction log's Checkpointer copies new WAL frames back this often.
CHECKPOINT_INTERVAL_S = 0.02
#: The log writer's own (in-commit) checkpoint mark, in WAL pages: a backstop (HeldWriter).
BACKSTOP_CHECKPOINT_PAGES = 4000


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
