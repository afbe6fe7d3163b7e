"""The scheduler tests' harness: a temp store, jobs added through scheduler.jobs_service
(what the CLI and console call), the daemon started as a real `wk scheduler` process,
and waits on the run ledger."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from scheduler import jobs_service
from scheduler.jobs_service import JobSettings
from store.handle import Store, init_store
from store.job_tables import JobRun
from store.jobs import list_runs

T = TypeVar("T")
PY = sys.executable


def new_store(root: Path) -> Store:
    store, _ = init_store(root)
    return store


def add(store: Store, name: str, command: str, every: str | None = "1s", **settings: Any) -> None:
    jobs_service.add_job(store, name, "command",
                         JobSettings(every=every, args={"command": command}, **settings),
                         actor="test")


def runs(store: Store, job: str, status: str | None = None) -> list[JobRun]:
    """The job's runs, oldest first."""
    with store.db.read() as session:
        return list(reversed(list_runs(session, job_name=job, status=status, limit=1000)))


def gone(pid: int) -> bool:
    """No such process, or only its zombie (killed, not yet reaped by its new parent)."""
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 8.0,
             daemon: Daemon | None = None) -> T:
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if daemon is not None and daemon.proc.poll() is not None:
            raise AssertionError(f"daemon exited ({daemon.proc.returncode}) while waiting for "
                                 f"{what}:\n{daemon.log()}")
        if time.monotonic() > end:
            raise AssertionError(f"not within {timeout} s: {what}"
                                 + (f"\n{daemon.log()[-3000:]}" if daemon else ""))
        time.sleep(0.05)


@dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)

    def wait_started(self, timeout: float = 15.0) -> Daemon:
        wait_for("the daemon's start", lambda: "scheduler running" in self.log(), timeout, self)
        return self


def start_daemon(root: Path, *args: str, env: dict[str, str] | None = None,
                 wait: bool = True) -> Daemon:
    logs = root.parent / "daemon-logs"
    logs.mkdir(exist_ok=True)
    log_path = logs / f"daemon-{len(list(logs.iterdir()))}.log"
    with log_path.open("wb") as out:
        # a test's daemon stops at the end of the test with whatever still runs (a `sleep 30`):
        # 1 s of grace, not the 10 s a real stop gives, unless the test sets its own
        grace = () if "--stop-grace" in args else ("--stop-grace", "1")
        proc = subprocess.Popen([PY, "-m", "console.cli", "scheduler", "--store", str(root), *grace,
                                 *args],
                                stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})})
    daemon = Daemon(proc, log_path)
    return daemon.wait_started() if wait else daemon


@contextmanager
def running_daemon(root: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Daemon]:
    daemon = start_daemon(root, *args, env=env)
    try:
        yield daemon
    finally:
        if daemon.proc.poll() is None:
            daemon.stop()
