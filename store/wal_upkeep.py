"""The scheduler's periodic WAL checkpoint of a SQLite store (reliability.md DB-05).

A reader that keeps a transaction open stops checkpoints from resetting the WAL, which
then grows without bound. The daemon runs `PRAGMA wal_checkpoint(TRUNCATE)` every few
minutes (it copies the WAL back and truncates it to zero bytes when no reader is in the
way) and warns when the WAL is still past WAL_WARN_BYTES afterwards.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.engine import Database

#: past this size after a checkpoint, the daemon warns (a reader is holding the WAL)
WAL_WARN_BYTES = 64 * 1024 * 1024
#: how long the checkpoint waits for a reader or writer in its way before it reports busy
CHECKPOINT_WAIT_MS = 200


@dataclass(frozen=True)
class Checkpoint:
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


def wal_path(db: Database) -> str | None:
    database = db.engine.url.database
    return f"{database}-wal" if db.is_sqlite and database else None


def wal_bytes(db: Database) -> int:
    path = wal_path(db)
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0


def checkpoint(db: Database) -> Checkpoint | None:
    """TRUNCATE checkpoint of a SQLite store (None for PostgreSQL). Waits for writers up to
    the busy timeout; raises the store's error if it cannot get the lock at all."""
    if not db.is_sqlite:
        return None
    import sqlite3

    from store.engine import BUSY_TIMEOUT_MS, _driver_connection
    from store.errors import StoreUnavailable

    try:
        with db.engine.connect() as conn:  # on the driver's connection: no BEGIN around it
            raw = _driver_connection(conn)
            # TRUNCATE waits (the busy handler) for readers to let go: a long reader would
            # hold the daemon's loop for the whole busy timeout, so it waits briefly here
            raw.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
            try:
                row = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.rollback()
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"the WAL checkpoint failed: {exc}") from exc
    assert row is not None, "wal_checkpoint answers one row"
    busy, frames, done = row
    return Checkpoint(busy=bool(busy), wal_frames=int(frames), checkpointed=int(done),
                      wal_bytes=wal_bytes(db))
