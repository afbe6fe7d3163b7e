"""Crash-loop harness (reliability.md §7, DB-01 / ART-06 / LOG-01): start a child, wait
until it says it is working, let it work a random while, SIGKILL it, verify the store.

A child prints ``READY`` (one line, flushed) once its imports and setup are done, then
works until it is killed; the random delay starts at READY, so kills land in the work
loop rather than in start-up. Children are either spawned (``spawn``: a fresh
interpreter, what LOG-01 needs for a server) or forked from a ``ForkServer`` that has
imported the heavy modules once (skops alone takes ~2.5 s to import) and has never
opened a database, so no connection crosses a fork (howtocorrupt.html §2.6).
The seed is printed on failure; ``KILLTEST_SEED`` replays a run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

READY = "READY"


class ChildFailed(AssertionError):
    pass


@dataclass
class Child:
    pid: int
    log: Path
    started: float
    _exit: Callable[[], int | None]  # the exit code once it ended, else None
    _reap: Callable[[], int]  # wait for the end, return the exit code (-9 for SIGKILL)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = self.started + timeout
        while READY not in self.output():
            if self._exit() is not None:
                raise ChildFailed(f"child exited with {self._exit()} before READY:\n{self.output()}")
            if time.monotonic() > deadline:
                self.kill()
                raise ChildFailed(f"child not READY within {timeout} s:\n{self.output()}")
            time.sleep(0.002)

    def wait(self) -> int:
        """Wait for the child to end by itself; its exit code."""
        return self._reap()

    def kill(self) -> int:
        if self._exit() is None:
            os.kill(self.pid, signal.SIGKILL)
        return self._reap()


def _log_path(workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir / f"child-{len(list(workdir.glob('child-*.log')))}.log"


def spawn(argv: Sequence[str], workdir: Path, *, env: dict[str, str] | None = None,
          stdin: int | None = subprocess.DEVNULL) -> tuple[Child, subprocess.Popen[bytes]]:
    """A fresh process running `argv`, stdout and stderr to a log file in `workdir`."""
    log = _log_path(workdir)
    with log.open("wb") as fh:
        proc = subprocess.Popen(list(argv), stdout=fh, stderr=subprocess.STDOUT, stdin=stdin,
                                env={**os.environ, **(env or {})})
    return Child(proc.pid, log, time.monotonic(), proc.poll, proc.wait), proc


_SERVER = r"""
import gc, importlib, json, os, sys, traceback
for name in filter(None, sys.argv[1].split(",")):
    importlib.import_module(name)
gc.collect()
gc.freeze()  # the imports' objects: out of every child's collections (and copy-on-write)
print("SERVER-READY", flush=True)
for line in sys.stdin:
    code, args, log = json.loads(line)
    sys.stdout.flush(); sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1); os.dup2(fd, 2); os.close(fd)
        sys.argv = ["-c", *args]
        try:
            exec(compile(code, "<killtest child>", "exec"), {"__name__": "__main__"})
            code = 0
        except SystemExit as exc:  # sys.exit(main(...)): its code, as a fresh interpreter's
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush(); sys.stderr.flush()
        os._exit(code)
    print(pid, flush=True)
    print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
"""


class ForkServer:
    """A process that imports `preload` once and forks a child per `start` call."""

    def __init__(self, preload: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SERVER, ",".join(preload)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
        assert self.proc.stdout and self.proc.stdin
        line = self.proc.stdout.readline()
        if line.strip() != "SERVER-READY":
            self.close()
            raise ChildFailed(f"fork server failed to start ({line!r})")

    def start(self, code: str, args: Sequence[object], workdir: Path) -> Child:
        assert self.proc.stdin and self.proc.stdout
        log = _log_path(workdir)
        self.proc.stdin.write(json.dumps([code, [str(a) for a in args], str(log)]) + "\n")
        self.proc.stdin.flush()
        pid = int(self.proc.stdout.readline())
        status: list[int] = []

        def reap() -> int:  # the server reports the exit code once the child has ended
            if not status:
                status.append(int(self.proc.stdout.readline()))  # type: ignore[union-attr]
            return status[0]

        def exited() -> int | None:
            if status:
                return status[0]
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return reap()
            # A zombie still accepts signal 0: look at /proc for its state.
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                return reap()
            return reap() if state in {"Z", "X"} else None

        return Child(pid, log, time.monotonic(), exited, reap)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class CrashLoopResult:
    seed: int
    kills: int = 0
    delays: list[float] = field(default_factory=list)
    startup_s: list[float] = field(default_factory=list)


def crash_loop(launch: Callable[[int], Child], verify: Callable[[int], None], *,
               kills: int = 20, min_delay: float = 0.0,
               max_delay: float | Callable[[int], float] = 1.0) -> CrashLoopResult:
    """`kills` times: launch(i), wait for READY, sleep a random delay, SIGKILL, verify(i).
    `max_delay` may depend on i (a child that prints READY just before a short critical
    section wants a short one). An AssertionError from verify names the seed to replay."""
    seed = int(os.environ.get("KILLTEST_SEED", random.SystemRandom().randrange(2**32)))
    rng = random.Random(seed)
    result = CrashLoopResult(seed=seed)
    for i in range(kills):
        child = launch(i)
        child.wait_ready()
        result.startup_s.append(time.monotonic() - child.started)
        delay = rng.uniform(min_delay, max_delay(i) if callable(max_delay) else max_delay)
        time.sleep(delay)  # the random kill moment, not an assertion
        if child._exit() is not None:
            raise ChildFailed(f"[KILLTEST_SEED={seed}] child {i} exited with {child._exit()} "
                              f"before it was killed:\n{child.output()}")
        code = child.kill()
        assert code == -signal.SIGKILL, f"child {i} ended with {code}:\n{child.output()}"
        result.kills += 1
        result.delays.append(delay)
        try:
            verify(i)
        except AssertionError as exc:
            raise AssertionError(f"[KILLTEST_SEED={seed}] after kill {i} "
                                 f"({delay:.3f} s after READY): {exc}") from exc
    return result


def python_child(code: str, *args: object) -> list[str]:
    """argv running `code` with this interpreter; `args` land in sys.argv[1:]."""
    return [sys.executable, "-c", code, *(str(a) for a in args)]
