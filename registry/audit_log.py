"""The audit log as the registry lists it: events filtered by actor, action, model and time,
listed (newest first, a page) or exported as JSON lines (oldest first, every match)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from registry import views
from store import audit
from store.errors import InvalidInput

if TYPE_CHECKING:
    from store.handle import Store

#: Events read per short read transaction while exporting (reliability.md DB-05: no read
#: transaction is held for the whole export).
EXPORT_PAGE = 1_000


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    model: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def query(self) -> dict[str, Any]:
        if self.since and self.until and self.since >= self.until:
            raise InvalidInput(f"the window starts at {self.since.isoformat()}, not before its "
                               f"end {self.until.isoformat()}: since must be before until",
                               field="since")
        return {"actor": self.actor, "action": self.action,
                "target_prefix": audit.target(self.model) if self.model else None,
                "since": self.since, "until": self.until}


def audit_log(store: Store, *, actor: str | None = None, action: str | None = None,
              model: str | None = None, since: datetime | None = None,
              until: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
    where = AuditFilter(actor, action, model, since, until).query()
    with store.db.read() as session:
        events = audit.list_events(session, **where, limit=limit)
        return [views.audit_view(e) for e in events]


def iter_audit(store: Store, where: AuditFilter, *, limit: int | None = None,
               page: int = EXPORT_PAGE) -> Iterator[dict[str, Any]]:
    """Every matching event, oldest first, up to the newest one there was when it started
    (events recorded meanwhile belong to the next export), a page per read."""
    query = where.query()
    with store.db.read() as session:
        last = audit.last_event_id(session)
    after, sent = 0, 0
    while limit is None or sent < limit:
        size = page if limit is None else min(page, limit - sent)
        with store.db.read() as session:
            rows = [views.audit_view(e) for e in
                    audit.events_after(session, after, last, page=size, **query)]
        if not rows:
            return
        yield from rows
        sent += len(rows)
        after = rows[-1]["id"]


def write_jsonl(rows: Iterator[dict[str, Any]], out: IO[bytes]) -> int:
    count = 0
    for row in rows:
        out.write(orjson.dumps(row) + b"\n")
        count += 1
    out.flush()
    return count


def export_audit(store: Store, where: AuditFilter, output: str | IO[bytes], *,
                 limit: int | None = None) -> dict[str, Any]:
    """Write the matching events as JSON lines (one object a line) to a stream, or to a
    file created for the store's owner only (0600; the group's too where the store has
    one), written beside its name and renamed when complete."""
    from store.modes import create_file
    from store.names import check_destination

    rows = iter_audit(store, where, limit=limit)
    if not isinstance(output, str):
        return {"file": "-", "events": write_jsonl(rows, output)}
    target = check_destination(output, what="audit export file", field="output",
                               store_root=store.location.root)
    if target.is_dir():
        raise InvalidInput(f"{target} is a folder; give a file name", field="output",
                           example=f"{target}/audit.jsonl")
    if not target.parent.is_dir():
        raise InvalidInput(f"the folder of {target} does not exist; create it or give another "
                           "path", field="output")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        create_file(partial, store.modes)
        with open(partial, "wb") as out:
            count = write_jsonl(rows, out)
            os.fsync(out.fileno())
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)
    return {"file": str(target), "events": count}
