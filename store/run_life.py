"""A run's life as a process: started here (host and pid), finished with a status, and
reaped when its process is gone without recording its end.

Training runs and batch runs use it, and any later kind of run (the scheduler's jobs)
can: the functions take any row with the columns of `RunRow`. A process killed with
SIGKILL or by the OOM killer never records its own end, so a run it left `running` is
found by a later process on the same host whose pid check fails.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from store import audit
from store.models import model_name
from store.rows import id_of
from store.runs import running_runs
from store.types import utcnow
from store.vocabulary import AuditAction, RunStatus

if TYPE_CHECKING:
    from sqlmodel import Session


class RunRow(Protocol):
    """The columns every kind of run row has."""

    status: str
    host: str | None
    pid: int | None
    started_at: datetime
    heartbeat_at: datetime | None
    ended_at: datetime | None


Run = TypeVar("Run", bound=RunRow)


def this_process() -> tuple[str, int]:
    """(host, pid) of the running process."""
    return socket.gethostname(), os.getpid()


def process_alive(pid: int | None) -> bool:
    """Whether a process with this pid exists on this host."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another account
    return True


def start(run: Run) -> Run:
    """Mark `run` as running in this process, from now (a new run, or a new attempt)."""
    run.host, run.pid = this_process()
    run.status, run.ended_at = RunStatus.RUNNING, None
    run.started_at = run.heartbeat_at = utcnow()
    return run


def heartbeat(session: Session, run: RunRow) -> None:
    """Record that `run` is still being worked on: a long run calls this between steps,
    in its own transaction, so a reader can tell a stalled run by its old heartbeat_at
    (the host and pid check works on the same host only)."""
    run.heartbeat_at = utcnow()
    session.add(run)


def finish(run: Run, status: str) -> Run:
    """Record the end of `run` with its final status."""
    run.status, run.ended_at = status, utcnow()
    return run


def running_elsewhere(run: RunRow) -> bool:
    """`run` is running in another live process on this host."""
    host, pid = this_process()
    return (run.status == RunStatus.RUNNING and run.host == host and process_alive(run.pid)
            and run.pid != pid)


def dead_here(runs: Iterable[Run]) -> list[Run]:
    """The runs, among `running` ones, whose process on this host is gone."""
    host, _ = this_process()
    return [r for r in runs if r.host == host and r.pid is not None and not process_alive(r.pid)]


def reap_training_runs(session: Session, model_id: int, actor: str) -> list[int]:
    """Mark this host's `running` training runs of the model whose process is gone as
    failed, each with its reason and a run.finish audit event. Returns their ids."""
    closed = []
    for run in dead_here(running_runs(session, model_id)):
        finish(run, RunStatus.FAILED)
        run.reason = (f"the training process (pid {run.pid} on {run.host}) ended without finishing "
                      "(killed or crashed); found by a later run")
        session.add(run)
        audit.record(session, actor=actor, action=AuditAction.RUN_FINISH,
                     target=audit.target(model_name(session, model_id), run=id_of(run)),
                     after={"run_id": run.id, "status": RunStatus.FAILED, "reason": run.reason})
        closed.append(id_of(run))
    return closed
