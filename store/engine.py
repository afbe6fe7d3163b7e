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
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from store.errors import StoreUnavailable

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlmodel import Session

    from store.log_writer import Checkpointer, HeldWriter

log = logging.getLogger(__name__)

#: How long a connection waits for another one's write lock. WK_BUSY_TIMEOUT_MS overrides it
#: for the scheduler's lock-holding fault test only (reliability.md SCH-04), which holds the
#: lock past the timeout without waiting 30 s; nothing else should set it.
BUSY_TIMEOUT_MS = int(os.environ.get("WK_BUSY_TIMEOUT_MS") or 30_000)
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
        pool checkout, run on the driver's own connection (store/log_writer.py)."""
        from store.log_writer import HeldWriter

        return HeldWriter(self)

    def checkpointer(self, interval_s: float | None = None) -> Checkpointer | None:
        """SQLite: a thread copying the WAL back off the writers' path (None elsewhere)."""
        from store.log_writer import CHECKPOINT_INTERVAL_S, Checkpointer

        return Checkpointer(self, interval_s or CHECKPOINT_INTERVAL_S) if self.is_sqlite else None

    def dispose(self) -> None:
        self.engine.dispose()


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
