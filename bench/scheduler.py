"""The scheduler daemon's cost: idle CPU and memory with 50 jobs, the overhead of one run
(queued to succeeded, for a job that does nothing), and how many runs a minute it keeps up.

Each figure is measured beside its floor in the same run, so the verdict is a ratio:
- idle: a bare APScheduler 3 BackgroundScheduler holding the same 50 jobs in memory (what
  any APScheduler daemon costs), in a process of its own for the same seconds;
- one run: starting and waiting for `python -c pass` (what any runner that isolates a job
  in a fresh Python process pays), the same importing the store (what a child that writes
  its own ledger row cannot avoid), and APScheduler's own ProcessPoolExecutor running an
  empty function in a warm worker (its built-in way to keep a job out of the daemon, which
  shares one long-lived process between jobs and so isolates less);
- runs a minute: the same number of `python -c pass` started 4 at a time.

    python -m bench.scheduler [--idle-seconds 300] [--runs 20] [--burst 120]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil

WK = str(Path(sys.executable).parent / "wk")
#: what any child that reads and writes its own ledger row must import: the floor of a run
#: isolated in a fresh interpreter
STORE_IMPORT = "import store.handle, store.jobs, store.run_ledger"
FLOOR_SCHEDULER = """
import sys, time
from apscheduler.schedulers.background import BackgroundScheduler
s = BackgroundScheduler()
for i in range(int(sys.argv[1])):
    s.add_job(print, "interval", hours=1, id=f"job{i}")
s.start()
print("ready", flush=True)
time.sleep(10**6)
"""


def _cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def _daemon(store: str, workers: int = 4) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([WK, "scheduler", "--store", store, "--workers", str(workers)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = subprocess.run([WK, "scheduler", "--status", "--json", "--store", store],
                               capture_output=True, text=True)
        if state.returncode == 0 and json.loads(state.stdout)["alive"]:
            return proc
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("the scheduler did not come up within 30 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _new_store(root: Path, jobs: int, every: str = "1h") -> tuple[str, Any]:
    from scheduler.jobs_service import JobSettings, add_job
    from store.handle import init_store

    store, _ = init_store(root)
    for i in range(jobs):
        add_job(store, f"job-{i:03d}", "command", JobSettings(every=every, args={"command": "true"}))
    return str(root), store


def idle(seconds: float, jobs: int = 50) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path, store = _new_store(Path(tmp) / "store", jobs)
        daemon = _daemon(path)
        floor = subprocess.Popen([sys.executable, "-c", FLOOR_SCHEDULER, str(jobs)],
                                 stdout=subprocess.PIPE)
        assert floor.stdout is not None
        floor.stdout.readline()
        ours, bare = psutil.Process(daemon.pid), psutil.Process(floor.pid)
        time.sleep(5)  # past start-up
        c0, f0, t0 = _cpu(ours), _cpu(bare), time.monotonic()
        time.sleep(seconds)
        wall = time.monotonic() - t0
        out = {"seconds": round(wall, 1), "jobs": jobs,
               "daemon_cpu_pct": round(100 * (_cpu(ours) - c0) / wall, 3),
               "daemon_rss_mb": round(ours.memory_info().rss / 2**20, 1),
               "floor_cpu_pct": round(100 * (_cpu(bare) - f0) / wall, 3),
               "floor_rss_mb": round(bare.memory_info().rss / 2**20, 1)}
        floor.kill()
        _stop(daemon)
        store.close()
    return out


def _wait_runs(store: Any, ids: list[int], timeout: float) -> list[Any]:
    from sqlmodel import col, select

    from store.job_tables import JobRun
    from store.vocabulary import JOB_RUN_FINAL

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.db.read() as session:
            runs = session.exec(select(JobRun).where(col(JobRun.id).in_(ids))).all()
            if len(runs) == len(ids) and all(r.status in JOB_RUN_FINAL for r in runs):
                session.expunge_all()
                return list(runs)
        time.sleep(0.05)
    raise SystemExit(f"runs {ids} did not end within {timeout} s")


def one_run(runs: int) -> dict[str, Any]:
    from scheduler.jobs_service import run_now

    with tempfile.TemporaryDirectory() as tmp:
        path, store = _new_store(Path(tmp) / "store", 1, every="1d")
        daemon = _daemon(path)
        total, child, cpu = [], [], []
        for _ in range(runs):
            started = time.perf_counter()
            run_id = run_now(store, "job-000")["run"]
            (run,) = _wait_runs(store, [run_id], 60)
            total.append(time.perf_counter() - started)
            assert run.status == "succeeded", (run.status, run.error)
            child.append((run.ended_at - run.started_at).total_seconds())
            cpu.append(run.cpu_s or 0.0)
        _stop(daemon)
        store.close()
    floor, store_floor = [], []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        floor.append(time.perf_counter() - started)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", STORE_IMPORT], check=True)
        store_floor.append(time.perf_counter() - started)
    return {"runs": runs, "request_to_end_s": round(statistics.median(total), 3),
            "child_wall_s": round(statistics.median(child), 3),
            "child_cpu_s": round(statistics.median(cpu), 3),
            "floor_python_start_s": round(statistics.median(floor), 3),
            "floor_store_import_s": round(statistics.median(store_floor), 3),
            "peer_apscheduler_process_pool_s": round(_apscheduler_process_pool(runs), 3)}


def _noop() -> None:
    return None


def _apscheduler_process_pool(runs: int) -> float:
    import threading
    from datetime import datetime

    from apscheduler.events import EVENT_JOB_EXECUTED
    from apscheduler.executors.pool import ProcessPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    done = threading.Event()
    scheduler = BackgroundScheduler(executors={"default": ProcessPoolExecutor(1)})
    scheduler.add_listener(lambda _e: done.set(), EVENT_JOB_EXECUTED)
    scheduler.start()
    times = []
    for _ in range(runs):
        done.clear()
        started = time.perf_counter()
        scheduler.add_job(_noop, next_run_time=datetime.now().astimezone())
        done.wait(30)
        times.append(time.perf_counter() - started)
    scheduler.shutdown()
    return statistics.median(times)


def burst(n: int, workers: int = 4) -> dict[str, Any]:
    from scheduler.jobs_service import run_now

    with tempfile.TemporaryDirectory() as tmp:
        path, store = _new_store(Path(tmp) / "store", n, every="1d")
        daemon = _daemon(path, workers)
        started = time.perf_counter()
        ids = [run_now(store, f"job-{i:03d}")["run"] for i in range(n)]
        runs = _wait_runs(store, ids, 600)
        wall = time.perf_counter() - started
        ok = sum(1 for r in runs if r.status == "succeeded")
        _stop(daemon)
        store.close()
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda _i: subprocess.run([sys.executable, "-c", "pass"], check=True),
                      range(n)))
    floor = time.perf_counter() - started
    return {"runs": n, "workers": workers, "succeeded": ok, "seconds": round(wall, 1),
            "runs_per_minute": round(60 * n / wall), "floor_runs_per_minute": round(60 * n / floor)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-seconds", type=float, default=300)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--burst", type=int, default=120)
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GB")
    r = one_run(args.runs)
    print(f"one empty run: {r['request_to_end_s']:.3f} s from run-now to succeeded "
          f"(child {r['child_wall_s']:.3f} s, {r['child_cpu_s']:.3f} CPU s); floor python start "
          f"{r['floor_python_start_s']:.3f} s ({r['child_wall_s'] / r['floor_python_start_s']:.1f}x), "
          f"python importing the store {r['floor_store_import_s']:.3f} s "
          f"({r['child_wall_s'] / r['floor_store_import_s']:.2f}x); "
          f"APScheduler's process pool {r['peer_apscheduler_process_pool_s']:.3f} s")
    b = burst(args.burst)
    print(f"sustained: {b['runs_per_minute']} runs/min with {b['workers']} workers "
          f"({b['succeeded']}/{b['runs']} succeeded in {b['seconds']} s); floor "
          f"{b['floor_runs_per_minute']} python starts/min "
          f"({b['runs_per_minute'] / b['floor_runs_per_minute']:.2f}x of it)")
    i = idle(args.idle_seconds)
    print(f"idle with {i['jobs']} jobs over {i['seconds']} s: {i['daemon_cpu_pct']:.3f}% CPU, "
          f"{i['daemon_rss_mb']} MB; bare APScheduler {i['floor_cpu_pct']:.3f}% CPU, "
          f"{i['floor_rss_mb']} MB")
    print(json.dumps({"one_run": r, "burst": b, "idle": i}))


if __name__ == "__main__":
    main()
