"""Running one JobRun as a child process that cannot take the daemon down.

The child is `python -m scheduler.child RUN_ID` (the daemon's own interpreter) in a
process group of its own (start_new_session), with the store named in its environment
and stdout+stderr going to <store>/logs/runs/<run id>.log. The runner, on one of the
daemon's worker threads, watches it every WATCH_S:

- past the attempt's timeout (Job.timeout_s) or the job's deadline across attempts
  (Job.deadline_s, counted from the first attempt's start), the whole group gets SIGTERM,
  then SIGKILL after KILL_GRACE_S: status timed_out;
- above its memory limit (Job.memory_mb, the group's resident memory as psutil sums it),
  the group gets SIGKILL at once: status failed, "killed at its memory limit of ...";
- when the daemon stops, a run gets STOP_GRACE_S to finish, then its group is killed:
  status failed, "stopped with the daemon".

Its end is read with os.wait4: exit code or signal, and CPU seconds (user + system) and
peak resident memory from the rusage (combined with the watch's peak of the group). What
is left of its process group when it ends is killed: a run's processes end with the run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from scheduler import follow_up
from scheduler.store_retry import write_retrying
from store import run_ledger
from store.job_tables import Job, JobRun
from store.markers import self_recording
from store.modes import secure_dir
from store.run_ledger import Ending
from store.types import utcnow
from store.vocabulary import JobRunStatus

if TYPE_CHECKING:
    from store.handle import Store

log = logging.getLogger(__name__)

WATCH_S = 0.2  # how often a running child's time and memory are looked at
KILL_GRACE_S = 3.0  # after SIGTERM, before SIGKILL
STOP_GRACE_S = 10.0  # a stopping daemon waits this long for its runs
LOG_TAIL_BYTES = 4096


def logs_dir(store: Store) -> Path:
    """Run logs live in the store folder (beside the artifacts, for a PostgreSQL store too)."""
    return store.location.root / "logs" / "runs"


def child_env(store: Store, run_id: int) -> dict[str, str]:
    env = dict(os.environ)
    env["WK_STORE"] = str(store.location.root)
    if not store.location.is_sqlite_file:
        env["WK_DATABASE_URL"] = store.location.database_url
    env["WK_RUN_ID"] = str(run_id)
    env["PYTHONUNBUFFERED"] = "1"  # the log shows lines as they come, and its tail is current
    return env


@dataclass(frozen=True)
class Limits:
    timeout_s: float  # this attempt may run this long (the timeout, or what the deadline leaves)
    deadline: bool  # the job's deadline, not the attempt's timeout, set timeout_s
    memory_mb: int | None


def limits_for(job: Job, first_started_s_ago: float) -> Limits:
    timeout = float(job.timeout_s)
    if job.deadline_s is not None and job.deadline_s - first_started_s_ago < timeout:
        return Limits(max(0.0, job.deadline_s - first_started_s_ago), True, job.memory_mb)
    return Limits(timeout, False, job.memory_mb)


def group_rss(leader: psutil.Process) -> int:
    """Resident bytes of the child and every process under it."""
    try:
        procs = [leader, *leader.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


def kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def log_tail(path: Path, size: int = LOG_TAIL_BYTES) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(max(0, path.stat().st_size - size))
            data = fh.read(size)
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    if len(data) == size and "\n" in text:
        text = text.split("\n", 1)[1]  # from the first whole line
    return text


@dataclass(frozen=True)
class Claim:
    run: JobRun
    job: Job | None  # None: the run is not running (skipped, or its job was removed)
    since_first_s: float  # since the slot's first attempt started

    @property
    def running(self) -> bool:
        return self.job is not None and self.run.status == JobRunStatus.RUNNING


class Runner:
    def __init__(self, store: Store, *, host: str, daemon_pid: int,
                 stopping: threading.Event,
                 on_trouble: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.on_trouble = on_trouble
        self.host, self.daemon_pid = host, daemon_pid
        self.stopping = stopping
        self.stop_deadline: float | None = None  # monotonic time the stop grace ends

    @self_recording("claiming a due run writes the job run row, which is the record")
    def claim(self, run_id: int) -> Claim:
        """Mark the queued run running (or skipped: its job runs already), in one write
        transaction. The daemon's main loop claims runs one after another in the order they
        came, so two runs of a job never race for its running slot in this daemon."""
        from sqlalchemy.exc import IntegrityError

        try:
            with self.store.db.write() as session:
                return Claim(*self._start(session, run_id))
        except IntegrityError:  # another run of the job started at the same moment: skipped
            with self.store.db.write() as session:
                return Claim(*self._start(session, run_id))

    def run(self, claim: Claim) -> JobRun:
        """Run a claimed run's child, watch it to its end and record it (and its
        follow-ups: a retry, or the jobs that run after it). Returns the run as recorded."""
        run, job, since_first_s = claim.run, claim.job, claim.since_first_s
        run_id = run.id
        assert run_id is not None
        if run.status != JobRunStatus.RUNNING or job is None:
            return run
        path = logs_dir(self.store) / f"{run_id}.log"
        secure_dir(path.parent, self.store.modes)
        limits = limits_for(job, since_first_s)
        extra = {"run_id": run_id, "job": job.name}
        began = time.monotonic()
        with path.open("ab") as out:
            try:
                proc = subprocess.Popen([sys.executable, "-m", "scheduler.child", str(run_id)],
                                        stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                        start_new_session=True, env=child_env(self.store, run_id),
                                        close_fds=True)
            except OSError as exc:
                ending = Ending(JobRunStatus.FAILED, error=f"cannot start the run's process: {exc}")
                return self._finish(run_id, ending)
        log.info("started run %s (pid %s)", run_id, proc.pid, extra={**extra, "pid": proc.pid})
        write_retrying(self.store, lambda s: run_ledger.set_child(
            s, run_id, pid=proc.pid, log_path=str(path)), "record a run's process",
            on_trouble=self.on_trouble)
        try:
            ending = self._watch(proc, limits, began)
        except Exception as exc:  # a bug here must not leave the run `running` with its child
            log.exception("watching run %s failed", run_id, extra=extra)
            kill_group(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired, ChildProcessError):
                proc.wait(KILL_GRACE_S)
            ending = Ending(JobRunStatus.FAILED, error=f"the scheduler lost track of the run "
                                                       f"({type(exc).__name__}: {exc}); killed")
        ending = replace(ending, log_tail=log_tail(path))
        done = self._finish(run_id, ending)
        log.info("run %s %s%s", run_id, done.status, f": {done.error}" if done.error else "",
                 extra={**extra, "status": done.status})
        return done

    def _start(self, session: object, run_id: int) -> tuple[JobRun, Job | None, float]:
        from sqlmodel import Session

        assert isinstance(session, Session)
        run = run_ledger.start(session, run_id, host=self.host, daemon_pid=self.daemon_pid)
        if run.status != JobRunStatus.RUNNING:
            return run, None, 0.0
        job = session.get(Job, run.job_id) if run.job_id is not None else None
        if job is None:
            run_ledger.finish(session, run_id, Ending(JobRunStatus.FAILED,
                                                      error="its job was removed before it ran"))
            return run, None, 0.0
        first = run_ledger.first_started(session, run)
        since = (utcnow() - first).total_seconds() if first else 0.0
        return run, job, since

    def _finish(self, run_id: int, ending: Ending) -> JobRun:
        def write(session: object) -> JobRun:
            from sqlmodel import Session

            assert isinstance(session, Session)
            run = run_ledger.finish(session, run_id, ending)
            follow_up.after_finish(session, run)
            return run

        return write_retrying(self.store, write, "record the end of a run", forever=True,
                              on_trouble=self.on_trouble)

    def _watch(self, proc: subprocess.Popen[bytes], limits: Limits, began: float) -> Ending:
        pid = proc.pid
        try:
            leader = psutil.Process(pid)
        except psutil.Error:
            leader = None
        peak, reason, status = 0, "", JobRunStatus.FAILED
        term_at: float | None = None
        pause = 0.01
        while True:
            done, wait_status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                break
            now = time.monotonic()
            if leader is not None and limits.memory_mb:
                rss = group_rss(leader)
                peak = max(peak, rss)
                if not reason and rss > limits.memory_mb * 2**20:
                    reason = (f"killed at its memory limit of {limits.memory_mb} MB "
                              f"(peak {rss / 2**20:.0f} MB)")
                    kill_group(pid, signal.SIGKILL)
                    term_at = now
            if not reason and now - began > limits.timeout_s:
                what = "the job's deadline across attempts" if limits.deadline else "its timeout"
                reason = (f"timed out after {now - began:.0f} s ({what}: {limits.timeout_s:.0f} s);"
                          " its process group was killed")
                status = JobRunStatus.TIMED_OUT
                kill_group(pid, signal.SIGTERM)
                term_at = now
            if not reason and self.stopping.is_set():
                if self.stop_deadline is not None and now > self.stop_deadline:
                    reason = "stopped with the daemon"
                    kill_group(pid, signal.SIGTERM)
                    term_at = now
            if term_at is not None and now - term_at > KILL_GRACE_S:
                kill_group(pid, signal.SIGKILL)
            time.sleep(pause)
            pause = min(WATCH_S, pause * 2)
        proc.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped here, not by Popen
        kill_group(pid, signal.SIGKILL)  # whatever it left behind in its group
        cpu = usage.ru_utime + usage.ru_stime
        peak_mb = max(peak / 2**20, usage.ru_maxrss / 1024)  # ru_maxrss: KiB on Linux
        if reason and "memory limit" in reason:  # the figure the kill saw, and the final one
            reason = f"killed at its memory limit of {limits.memory_mb} MB (peak {peak_mb:.0f} MB)"
        wall = time.monotonic() - began
        measured = Ending(status, cpu_s=round(cpu, 3), peak_memory_mb=round(peak_mb, 1),
                          wall_s=round(wall, 3))
        if os.WIFSIGNALED(wait_status):
            sig = os.WTERMSIG(wait_status)
            default = f"killed by signal {sig} ({signal.Signals(sig).name})"
            return replace(measured, signal=sig, error=reason or default)
        code = os.WEXITSTATUS(wait_status)
        if code == 0 and not reason:
            return replace(measured, status=JobRunStatus.SUCCEEDED, exit_code=0)
        return replace(measured, exit_code=code, error=reason, default_error=f"exited with {code}")
