"""The SQLite file's upkeep primitives: a driver connection outside any transaction, the
WAL's size, and a checkpoint the scheduler daemon runs periodically (reliability.md DB-05:
a WAL past 64 MB is a warning; after the long reader lets go, a TRUNCATE checkpoint
returns busy=0 and leaves a 0-byte WAL).

A FULL, RESTART or TRUNCATE checkpoint waits, through the busy handler, for the writers
and then for the readers to finish, holding the write lock meanwhile: on the store's
30 s busy timeout a long reader would stall every writer that long. Here it waits at
most `busy_timeout_ms` (1 s by default), then gives up and says busy=1.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store.engine import BUSY_TIMEOUT_MS, _driver_connection, _store_errors
from store.errors import InvalidInput, Refused

if TYPE_CHECKING:
    from store.engine import Database
    from store.handle import Store

#: reliability.md DB-05: a WAL larger than this is reported (heartbeat note, wk store check)
WAL_WARN_BYTES = 64 * 1024 * 1024
CHECKPOINT_MODES = ("PASSIVE", "FULL", "RESTART", "TRUNCATE")
CHECKPOINT_BUSY_TIMEOUT_MS = 1000
#: the daemon's periodic checkpoint waits less: a long reader would hold its loop meanwhile
DAEMON_CHECKPOINT_WAIT_MS = 200


@contextmanager
def driver_connection(db: Database, busy_timeout_ms: int | None = None) -> Iterator[sqlite3.Connection]:
    """A pooled sqlite3 connection in autocommit (no BEGIN is sent), for pragmas, VACUUM
    and the backup API; `busy_timeout_ms` replaces the 30 s wait for the lock meanwhile."""
    with _store_errors(), db.engine.connect() as conn:
        raw = _driver_connection(conn)
        if busy_timeout_ms is not None:
            raw.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        try:
            yield raw
        finally:
            if busy_timeout_ms is not None:
                raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def refuse_unless_sqlite(store: Store, what: str, fix: str) -> None:
    if not store.db.is_sqlite:
        raise Refused(f"{what} is for SQLite stores; this store is on {store.location.describe()}"
                      f" ({store.db.url.split(':', 1)[0]}), where it is not supported: {fix}",
                      field="store")


def file_bytes(path: Path) -> int:
    try:
        return int(path.stat().st_size)
    except FileNotFoundError:
        return 0


def wal_path(store: Store) -> Path:
    return store.location.db_path.with_name(store.location.db_path.name + "-wal")


def wal_status(store: Store) -> dict[str, Any]:
    """The database file's and the WAL's sizes, free pages and the auto-vacuum mode."""
    refuse_unless_sqlite(store, "the WAL status", "PostgreSQL has no WAL file to look after here")
    with driver_connection(store.db) as raw:
        page_size = int(raw.execute("PRAGMA page_size").fetchone()[0])
        pages = int(raw.execute("PRAGMA page_count").fetchone()[0])
        free = int(raw.execute("PRAGMA freelist_count").fetchone()[0])
        auto_vacuum = int(raw.execute("PRAGMA auto_vacuum").fetchone()[0])
    wal = file_bytes(wal_path(store))
    return {
        "db_bytes": file_bytes(store.location.db_path), "wal_bytes": wal,
        "bound_bytes": WAL_WARN_BYTES, "over_bound": wal > WAL_WARN_BYTES,
        "page_size": page_size, "pages": pages, "free_pages": free, "free_bytes": free * page_size,
        "auto_vacuum": {0: "none", 1: "full", 2: "incremental"}.get(auto_vacuum, str(auto_vacuum)),
    }


def checkpoint_wal(store: Store, mode: str = "TRUNCATE",
                   busy_timeout_ms: int = CHECKPOINT_BUSY_TIMEOUT_MS) -> dict[str, int]:
    """PRAGMA wal_checkpoint(mode): busy (1 when a reader or writer kept it from
    finishing), log_frames (the WAL's frames), checkpointed (frames copied back) and the
    WAL file's bytes afterwards (0 after a TRUNCATE that was not busy)."""
    mode = mode.upper()
    if mode not in CHECKPOINT_MODES:
        raise InvalidInput(f"checkpoint mode {mode!r} is not one of {', '.join(CHECKPOINT_MODES)}",
                           field="mode", example="TRUNCATE")
    refuse_unless_sqlite(store, "a WAL checkpoint", "PostgreSQL checkpoints by itself")
    with driver_connection(store.db, busy_timeout_ms=busy_timeout_ms) as raw:
        busy, frames, copied = raw.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    return {"busy": int(busy), "log_frames": int(frames), "checkpointed": int(copied),
            "wal_bytes": file_bytes(wal_path(store))}


@dataclass(frozen=True)
class Checkpoint:
    """The daemon's periodic TRUNCATE checkpoint, with the warning it logs and shows."""

    busy: bool  # a reader or writer kept the checkpoint from finishing
    wal_frames: int  # frames in the WAL when it ran
    checkpointed: int  # frames copied back
    wal_bytes: int  # the WAL file's size afterwards

    @property
    def warning(self) -> str:
        """'' or the warning the daemon logs and shows in its status."""
        if self.wal_bytes <= WAL_WARN_BYTES:
            return ""
        return (f"the WAL is {self.wal_bytes / 2**20:.0f} MB (over "
                f"{WAL_WARN_BYTES // 2**20} MB) after a checkpoint"
                f"{' that a reader kept busy' if self.busy else ''}: a process holds a long read "
                "transaction (a console left on a screen, a long export); the database file "
                "stays correct but reads slow down until it lets go")


def periodic_checkpoint(store: Store) -> Checkpoint | None:
    """The daemon's TRUNCATE checkpoint of a SQLite store (None for PostgreSQL), waiting
    at most DAEMON_CHECKPOINT_WAIT_MS for readers."""
    if not store.db.is_sqlite:
        return None
    done = checkpoint_wal(store, "TRUNCATE", busy_timeout_ms=DAEMON_CHECKPOINT_WAIT_MS)
    return Checkpoint(busy=bool(done["busy"]), wal_frames=done["log_frames"],
                      checkpointed=done["checkpointed"], wal_bytes=done["wal_bytes"])
