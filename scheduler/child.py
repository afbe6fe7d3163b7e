"""A run's child process: `python -m scheduler.child RUN_ID`, started by the daemon
(scheduler/runner.py) in its own process group, with the store named in its environment
(WK_STORE, WK_DATABASE_URL) and its stdout and stderr going to the run's log file.

It loads its run and job, calls the kind's run function and writes what the run did
(summary, rows, result) to the run's row; the daemon records how it ended (status, exit
code or signal, resources). Exit 0 on success, 1 on failure: a RunFailed or other
Watchkeeper error is printed as its message alone, anything else with its traceback.
It limits its own address space (RLIMIT_AS) as a backstop to the daemon's memory watch.
"""

from __future__ import annotations

import logging
import resource
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from store.markers import self_recording

log = logging.getLogger("scheduler.run")

#: RLIMIT_AS headroom above the job's resident-memory limit: the address space of a Python
#: process is far larger than what it touches (shared libraries, arenas, thread stacks),
#: so the daemon's watch of resident memory is the limit and this only stops a runaway.
ADDRESS_SPACE_HEADROOM_MB = 1024


def limit_address_space(memory_mb: int | None) -> None:
    if not memory_mb:
        return
    limit = (2 * memory_mb + ADDRESS_SPACE_HEADROOM_MB) * 2**20
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def main(argv: Sequence[str] | None = None) -> int:
    from scheduler import json_log

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or not args[0].isdigit():
        sys.stderr.write("usage: python -m scheduler.child RUN_ID\n")
        return 2
    run_id = int(args[0])
    json_log.setup(logging.INFO, run_id=run_id)
    from store.errors import WatchkeeperError
    from store.handle import open_store

    store = open_store()  # WK_STORE / WK_DATABASE_URL, set by the daemon
    try:
        return _run(store, run_id)
    except WatchkeeperError as exc:
        sys.stderr.write(f"{exc.message}\n")
        _record_error(store, run_id, exc.message)
        return 1
    except Exception as exc:
        traceback.print_exc()
        _record_error(store, run_id, f"{type(exc).__name__}: {exc}")
        return 1
    finally:
        sys.stdout.flush()
        store.close()


@self_recording("a job run's row is its record (status, timing, resources, log)")
def _run(store: Any, run_id: int) -> int:
    from scheduler.kinds import kind_spec
    from scheduler.kinds.base import RunContext
    from store import jobs, run_ledger
    from store.errors import NotFound
    from store.job_tables import Job
    from store.models import model_name

    with store.db.read() as session:
        run = jobs.get_run(session, run_id)
        job = session.get(Job, run.job_id) if run.job_id is not None else None
        if job is None:
            raise NotFound(f"run {run_id} has no job any more (it was removed)", field="job")
        model = model_name(session, job.model_id) if job.model_id else None
    limit_address_space(job.memory_mb)
    spec = kind_spec(job.kind)
    job_id = job.id
    assert job_id is not None

    @self_recording("a job's saved state belongs to its run record")
    def save_state(state: dict[str, Any]) -> None:
        with store.db.write() as session:
            run_ledger.save_job_state(session, job_id, state)

    @self_recording("a run's heartbeat is part of its run record")
    def heartbeat() -> None:
        with store.db.write() as session:
            run_ledger.run_heartbeat(session, run_id)

    ctx = RunContext(store=store, job=job, run=run, args=spec.checked_args(job.args or {}),
                     model=model, log=log, save_state=save_state, heartbeat=heartbeat)
    log.info("run %s of job %s (%s, attempt %s)", run_id, job.name, job.kind, run.attempt,
             extra={"job": job.name})
    outcome = spec.run_function()(ctx)
    sys.stdout.flush()
    with store.db.write() as session:
        run_ledger.record_outcome(session, run_id, summary=outcome.summary, rows=outcome.rows,
                                  result=outcome.result)
    log.info("done: %s", outcome.summary, extra={"job": job.name})
    return 0


@self_recording("a job run's row is its record (status, timing, resources, log)")
def _record_error(store: Any, run_id: int, message: str) -> None:
    from store import run_ledger
    from store.errors import WatchkeeperError

    try:
        with store.db.write() as session:
            run_ledger.record_error(session, run_id, message[:2000])
    except WatchkeeperError as exc:  # the log keeps the message; the daemon records the exit
        log.warning("could not record the error in the run: %s", exc.message)


if __name__ == "__main__":
    sys.exit(main())
