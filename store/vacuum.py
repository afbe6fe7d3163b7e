"""`vacuum`: give the space of deleted rows back to the file system.

VACUUM rewrites the whole database and holds the write lock for the whole time: every
other writer (a server logging predictions, a scheduler run) waits, and past its own
busy timeout fails. Run it when nothing else writes. It waits at most `busy_timeout_ms`
for the lock and otherwise says the store is locked, to try again.

It also switches the store to auto_vacuum=INCREMENTAL (a setting only a VACUUM can
change on an existing file), so later prunes can give pages back a few at a time with
`incremental_vacuum`, in short write transactions, instead of needing this again.
"""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING, Any

from store.errors import StoreUnavailable
from store.wal import checkpoint_wal, driver_connection, refuse_unless_sqlite, wal_status

if TYPE_CHECKING:
    from store.handle import Store

VACUUM_BUSY_TIMEOUT_MS = 5000
#: pages freed per incremental_vacuum statement (one short write transaction each)
INCREMENTAL_STEP_PAGES = 2000
LOCKED = ("the store is locked: another process is writing (a server logging predictions, a "
          "scheduler run); {what} needs the write lock for its whole run. Try again when the "
          "store is quiet, or stop the writers first")


def store_bytes(status: dict[str, Any]) -> int:
    return int(status["db_bytes"]) + int(status["wal_bytes"])


def vacuum(store: Store, *, busy_timeout_ms: int = VACUUM_BUSY_TIMEOUT_MS,
           actor: str | None = None) -> dict[str, Any]:
    """VACUUM, then a TRUNCATE checkpoint; the sizes before and after."""
    refuse_unless_sqlite(store, "wk's vacuum", "PostgreSQL's autovacuum does this (or run "
                         "VACUUM FULL in psql in a quiet hour)")
    from store.access import authorize
    from store.roles import Permission

    actor = authorize(store, actor, Permission.MAINTAIN)
    before = wal_status(store)
    started = time.perf_counter()
    try:
        with driver_connection(store.db, busy_timeout_ms=busy_timeout_ms) as raw:
            raw.execute("PRAGMA auto_vacuum = INCREMENTAL")
            raw.execute("VACUUM")
    except (sqlite3.OperationalError, StoreUnavailable) as exc:
        if "locked" in str(exc).lower() or "busy" in str(exc).lower():
            raise StoreUnavailable(LOCKED.format(what="VACUUM"), field="store") from exc
        raise
    seconds = round(time.perf_counter() - started, 3)
    checkpoint = checkpoint_wal(store, "TRUNCATE")
    after = wal_status(store)
    result = {"before_bytes": store_bytes(before), "after_bytes": store_bytes(after),
              "freed_bytes": store_bytes(before) - store_bytes(after),
              "free_pages_before": before["free_pages"], "auto_vacuum": after["auto_vacuum"],
              "seconds": seconds, "checkpoint": checkpoint}
    from store import audit
    from store.identity import current_actor
    from store.vocabulary import AuditAction

    with store.db.write() as session:
        audit.record(session, actor=actor or current_actor(), action=AuditAction.STORE_VACUUM,
                     target="store", before={"bytes": result["before_bytes"]},
                     after={"bytes": result["after_bytes"], "seconds": seconds})
    return result


def incremental_vacuum(store: Store, *, step_pages: int = INCREMENTAL_STEP_PAGES,
                       pause_s: float = 0.01) -> dict[str, Any]:
    """On a store with auto_vacuum=INCREMENTAL: free pages given back `step_pages` at a
    time (each a short write transaction, with a pause for other writers between), then a
    TRUNCATE checkpoint. Elsewhere nothing is freed: `reclaimed` is False."""
    before = wal_status(store)
    if before["auto_vacuum"] != "incremental":
        return {"reclaimed": False, "free_pages": before["free_pages"],
                "free_bytes": before["free_bytes"], "before_bytes": store_bytes(before),
                "after_bytes": store_bytes(before), "auto_vacuum": before["auto_vacuum"]}
    steps = 0
    with driver_connection(store.db) as raw:
        free = int(raw.execute("PRAGMA freelist_count").fetchone()[0])
        while free > 0:
            # executescript steps the statement to its end (sqlite3_exec); execute() stops
            # after its first step, one page (measured: 1,474 statements for 1,474 pages)
            raw.executescript(f"PRAGMA incremental_vacuum({int(step_pages)});")
            steps += 1
            left = int(raw.execute("PRAGMA freelist_count").fetchone()[0])
            if left >= free:  # nothing more comes back (another writer freed pages meanwhile)
                break
            free = left
            time.sleep(pause_s)
    checkpoint = checkpoint_wal(store, "TRUNCATE")
    after = wal_status(store)
    return {"reclaimed": True, "steps": steps, "free_pages": before["free_pages"],
            "free_bytes": before["free_bytes"], "before_bytes": store_bytes(before),
            "after_bytes": store_bytes(after), "auto_vacuum": "incremental",
            "checkpoint": checkpoint}
