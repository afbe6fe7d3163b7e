"""One scheduler daemon per store: its lease on the SchedulerDaemon row (id 1), taken in
a write transaction (BEGIN IMMEDIATE on SQLite, a row lock on PostgreSQL), renewed by its
heartbeat and given back by a clean stop.

APScheduler 3 cannot share a job store between processes (its FAQ: "You can't"); two
daemons on one store would run every slot twice (reliability.md SCH-01). A second daemon
is refused while the holder is alive: a live process with the holder's pid on this host,
or, from another host, a heartbeat fresher than STALE_S.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy.exc
from sqlmodel import Session, select

from store.errors import Conflict
from store.job_tables import SchedulerDaemon
from store.run_life import process_alive
from store.types import utcnow

LEASE_ID = 1
#: the daemon writes its heartbeat this often
HEARTBEAT_S = 5.0
#: a heartbeat older than this means the holder is gone (or hung) for the CLI and console,
#: and for a daemon on another host that wants the lease
STALE_S = 30.0


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    user: str
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    jobs: int
    running: int
    wal_bytes: int | None
    note: str

    def heartbeat_age_s(self, now: datetime | None = None) -> float:
        return ((now or utcnow()) - self.heartbeat_at).total_seconds()

    def alive(self, now: datetime | None = None) -> bool:
        """Holding the lease with a fresh heartbeat (what `--status` calls alive)."""
        return self.stopped_at is None and self.heartbeat_age_s(now) <= STALE_S


def _holder(row: SchedulerDaemon) -> Holder:
    return Holder(host=row.host, pid=row.pid, user=row.user, started_at=row.started_at,
                  heartbeat_at=row.heartbeat_at, stopped_at=row.stopped_at, jobs=row.jobs,
                  running=row.running, wal_bytes=row.wal_bytes, note=row.note)


def read(session: Session) -> Holder | None:
    row = session.get(SchedulerDaemon, LEASE_ID)
    return _holder(row) if row else None


def acquire(session: Session, *, host: str, pid: int) -> Holder | None:
    """Take the lease for (host, pid). Returns the previous holder (its last heartbeat
    tells the catch-up since when the store had no daemon), None for the first daemon.
    Raises Conflict naming the holder while it is alive."""
    row = session.exec(select(SchedulerDaemon).where(SchedulerDaemon.id == LEASE_ID)
                       .with_for_update()).first()
    now = utcnow()
    previous = _holder(row) if row else None
    if row is not None and row.stopped_at is None and (row.host, row.pid) != (host, pid):
        age = (now - row.heartbeat_at).total_seconds()
        held = _same_process(row.pid, row.started_at) if row.host == host else age <= STALE_S
        if held:
            raise Conflict(
                f"another scheduler holds this store: host {row.host}, pid {row.pid}, since "
                f"{row.started_at:%Y-%m-%d %H:%M} UTC (heartbeat {age:.0f} s ago); stop it "
                "first (one scheduler per store), or wait for it to end")
    first = row is None
    if row is None:
        row = SchedulerDaemon(id=LEASE_ID, host=host, pid=pid)
    row.host, row.pid, row.user = host, pid, _user()
    row.started_at = row.heartbeat_at = now
    row.stopped_at, row.jobs, row.running, row.note = None, 0, 0, ""
    session.add(row)
    try:
        session.flush()
    except sqlalchemy.exc.IntegrityError:
        if not first:
            raise
        # two first daemons at the same moment (PostgreSQL: no row to lock yet): the
        # other one's insert won
        raise Conflict("another scheduler took this store at the same moment (one scheduler "
                       "per store): this one stops") from None
    return previous


def heartbeat(session: Session, *, host: str, pid: int, jobs: int, running: int,
              note: str | None = None, wal_bytes: int | None = None) -> None:
    """Renew the lease. Raises Conflict if another daemon took it meanwhile (this one was
    thought dead): the caller must stop."""
    row = session.get(SchedulerDaemon, LEASE_ID)
    if row is None or (row.host, row.pid) != (host, pid) or row.stopped_at is not None:
        who = f"host {row.host}, pid {row.pid}" if row else "nobody"
        raise Conflict(f"this scheduler (host {host}, pid {pid}) lost its lease of the store "
                       f"(now held by {who})")
    row.heartbeat_at, row.jobs, row.running = utcnow(), jobs, running
    if note is not None:
        row.note = note
    if wal_bytes is not None:
        row.wal_bytes = wal_bytes
    session.add(row)


def release(session: Session, *, host: str, pid: int) -> None:
    """A clean stop: the lease is free at once (no waiting for the heartbeat to go stale)."""
    row = session.get(SchedulerDaemon, LEASE_ID)
    if row is not None and (row.host, row.pid) == (host, pid):
        row.stopped_at, row.running = utcnow(), 0
        session.add(row)


def _same_process(pid: int, since: datetime) -> bool:
    """A live process with this pid that was already running when the lease was taken
    (after a reboot the pid may belong to something else, started later)."""
    if not process_alive(pid):
        return False
    import psutil

    try:
        return bool(psutil.Process(pid).create_time() <= since.timestamp() + 1.0)
    except psutil.Error:
        return False


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
