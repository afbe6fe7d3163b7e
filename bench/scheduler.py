"""The scheduler daemon: the overhead of one run, its idle cost, and its throughput.

Run from the repository root:  .venv/bin/python -m bench.scheduler [--idle-s 60] [--runs 10]

On a temp store, with `wk scheduler --workers 4` as a real process:
- overhead of one run: a `command` job running `true`, asked with run-now; from the
  queued row to `succeeded` (wall, the ledger's times) and the run's own wall and CPU
  seconds (the child's interpreter start, its store open, the kind, the exit);
- idle: the daemon's CPU seconds and resident memory over --idle-s with 50 jobs (25
  paused, 25 hourly), none due;
- throughput: 40 run-now requests across 40 jobs at once; runs finished per minute with
  4 workers.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from scheduler import jobs_service
from scheduler.jobs_service import JobSettings
from store.handle import Store, init_store
from store.jobs import list_runs


def _add(store: Store, name: str, every: str = "1h", paused: bool = False) -> None:
    jobs_service.add_job(store, name, "command", JobSettings(every=every, args={"command": "true"}),
                         paused=paused, actor="bench")


def _wait(check: Callable[[], bool], timeout: float) -> None:
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise SystemExit("bench: timed out")
        time.sleep(0.02)


def _daemon(root: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "console.cli", "scheduler", "--store",
                                 str(root), "--workers", "4"], stdout=out, stderr=out)
    _wait(lambda: "scheduler running" in log.read_text(errors="replace"), 60)
    return proc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle-s", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=10)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "store"
        store, _ = init_store(root)
        for i in range(50):
            _add(store, f"idle-{i:02d}", paused=i % 2 == 0)
        _add(store, "empty")
        daemon = _daemon(root, Path(tmp) / "daemon.log")
        proc = psutil.Process(daemon.pid)
        try:
            time.sleep(3)  # past start-up
            cpu0, t0 = sum(proc.cpu_times()[:2]), time.monotonic()
            time.sleep(opts.idle_s)
            idle_cpu = sum(proc.cpu_times()[:2]) - cpu0
            idle_s = time.monotonic() - t0
            rss = proc.memory_info().rss / 2**20
            print(f"idle, 50 jobs (25 paused, 25 hourly): {idle_cpu:.2f} CPU s over {idle_s:.0f} s "
                  f"({100 * idle_cpu / idle_s:.2f}% of a core), resident {rss:.0f} MB")

            walls, own, cpus = [], [], []
            for _ in range(opts.runs):
                asked = jobs_service.run_now(store, "empty", actor="bench")["run"]

                def done(run_id: int = asked) -> bool:
                    with store.db.read() as session:
                        runs = list_runs(session, job_name="empty", limit=1)
                    return bool(runs and runs[0].id == run_id and runs[0].status == "succeeded")

                _wait(done, 60)
                with store.db.read() as session:
                    run = list_runs(session, job_name="empty", limit=1)[0]
                assert run.ended_at and run.wall_s is not None and run.cpu_s is not None
                walls.append((run.ended_at - run.queued_at).total_seconds())
                own.append(run.wall_s)
                cpus.append(run.cpu_s)
            print(f"one run of `true` ({opts.runs} runs, median): queued to succeeded "
                  f"{statistics.median(walls):.2f} s; the child {statistics.median(own):.2f} s "
                  f"wall, {statistics.median(cpus):.2f} CPU s")

            for i in range(40):
                _add(store, f"burst-{i:02d}")
            time.sleep(1.5)  # the daemon reads the new jobs
            began = time.monotonic()
            for i in range(40):
                jobs_service.run_now(store, f"burst-{i:02d}", actor="bench")

            def burst_done() -> bool:
                with store.db.read() as session:
                    finished = [r for r in list_runs(session, status="succeeded", limit=200)
                                if r.job_name.startswith("burst-")]
                return len(finished) == 40

            _wait(burst_done, 600)
            spent = time.monotonic() - began
            print(f"throughput, 4 workers: 40 runs in {spent:.1f} s = {40 * 60 / spent:.0f} runs "
                  f"a minute (cores: {os.cpu_count()})")
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)
            store.close()


if __name__ == "__main__":
    main()
