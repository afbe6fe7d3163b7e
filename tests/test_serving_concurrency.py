"""The issue's concurrency test (and reliability.md DB-03 for this part): `wk serve` under
load, batch scoring jobs writing, CLI promotes and deployment changes, and the console
refreshing its views, all on one SQLite store at once. No request may fail with a
database-locked error, and nothing may be lost.

The run lasts until every writer has done its share while the others ran (ROUNDS batch
runs, ROUNDS cycles of the four CLI changes, ROUNDS passes of the console over its views,
ANSWERED requests answered), at least MIN_SECONDS; it was a fixed 120 s, most of it repeating what had already
overlapped. WK_CONCURRENCY_SECONDS makes it a soak of that many seconds instead."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import killtest
from serving_store import CLI_PRELOAD, REPO, SERVE_PRELOAD, WK_CHILD, ForkedServer, build_store
from test_serving_batch import write_input
from test_serving_faults import Load, integrity_and_rollups, logged_ids

SOAK_SECONDS = float(os.environ.get("WK_CONCURRENCY_SECONDS", "0"))
ROUNDS = 2
ANSWERED = 1000  # requests the server answers during the run, at the least
MIN_SECONDS = 20.0
MAX_SECONDS = 240.0

CONSOLE = """
import asyncio, importlib.util, os, sys
from console.app import make_app

async def main():
    app = make_app(sys.argv[1], refresh_interval=0.5)
    errors = []
    original = app.notify
    def notify(message, *args, severity="information", **kw):
        if severity == "error":
            errors.append(str(message))
        return original(message, *args, severity=severity, **kw)
    app.notify = notify
    views = ["overview", "models", "runs", "audit"]
    for extra in ("deployments", "predictions"):
        if importlib.util.find_spec(f"console.screens.{extra}"):
            views.append(extra)
    refreshes = 0
    stop = sys.argv[2]  # a file: the test makes it once everyone has done their share
    async with app.run_test(size=(120, 40)) as pilot:
        print(f"VIEWS {len(views)}", flush=True)
        while not os.path.exists(stop):
            app.run_command(views[refreshes % len(views)])
            refreshes += 1
            await pilot.pause(1.0)
            await app.workers.wait_for_complete()
            print(f"REFRESHED {refreshes}", flush=True)
    print(f"REFRESHES {refreshes} ERRORS {len(errors)}")
    for e in errors[:5]:
        print("ERROR", e)

asyncio.run(main())
"""


class Repeat(threading.Thread):
    """Run `wk` commands again and again, each in its own process, until told to stop; keep
    failures. The processes are forked from a fork server that imported the CLI once: a
    fresh interpreter spent 3-15 s importing it under this load, a process a change."""

    def __init__(self, commands: list[list[str]], store: Path, workdir: Path, stop: threading.Event,
                 runs: int | None = None) -> None:
        super().__init__(daemon=True)
        self.commands, self.store, self.workdir, self.stop = commands, store, workdir, stop
        self.max_runs = runs  # None: until stopped
        self.runs = 0
        self.failures: list[str] = []

    def run(self) -> None:
        i = 0
        with killtest.ForkServer(CLI_PRELOAD) as forks:
            while not self.stop.is_set() and (self.max_runs is None or self.runs < self.max_runs):
                cmd = self.commands[i % len(self.commands)]
                i += 1
                child = forks.start(WK_CHILD, [self.store, *cmd], self.workdir)
                code = child.wait()
                self.runs += 1
                if code != 0:
                    self.failures.append(f"wk {' '.join(cmd)}: exit {code}: {child.output()[-500:]}")


def test_server_batch_cli_and_console_at_once_without_lock_errors(tmp_path: Path) -> None:
    root = build_store(tmp_path / "store")
    source = tmp_path / "in.csv"
    write_input(source, 10_000, seed=3)  # 20 chunks, 20 write transactions a run
    env = {**os.environ, "WK_STORE": str(root), "PYTHONPATH": str(REPO)}
    env.pop("WK_DATABASE_URL", None)
    forks = killtest.ForkServer(SERVE_PRELOAD)
    server = ForkedServer(root, forks).start()
    stop = threading.Event()
    batch = Repeat([["score", "tiny", "--source", str(source), "--sink", str(tmp_path / "out.csv"),
                     "--run-id", "concurrent", "--chunk-size", "500"]], root, tmp_path / "batch", stop,
                   runs=ROUNDS)  # the slowest share: the others go on until it is done
    cli = Repeat([
        ["models", "promote", "tiny", "2", "staging", "--reason", "concurrency test"],
        ["deploy", "set", "tiny", "--mode", "canary", "--challenger", "2", "--share", "0.2", "--reason", "test"],
        ["models", "promote", "tiny", "1", "staging", "--reason", "concurrency test"],
        ["deploy", "rollback", "tiny", "--reason", "test"],
    ], root, tmp_path / "cli", stop)
    script = tmp_path / "console_refresh.py"
    script.write_text(CONSOLE)
    stop_file = tmp_path / "stop-console"
    console = subprocess.Popen([sys.executable, str(script), str(root), str(stop_file)], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    console_lines: list[str] = []

    def read_console() -> None:
        assert console.stdout is not None
        for line in console.stdout:
            console_lines.append(line)

    reader = threading.Thread(target=read_console, daemon=True)
    reader.start()

    def console_passes() -> float:
        views = next((int(ln.split()[1]) for ln in console_lines if ln.startswith("VIEWS ")), 0)
        done = sum(1 for ln in list(console_lines) if ln.startswith("REFRESHED "))
        return done / views if views else 0.0

    def everyone_did_their_share() -> bool:
        if SOAK_SECONDS:
            return time.monotonic() - started >= SOAK_SECONDS
        shares = {"batch": batch.runs >= ROUNDS, "cli": cli.runs >= 4 * ROUNDS,
                  "console": console_passes() >= ROUNDS, "load": load.statuses.get(200, 0) >= ANSWERED}
        for who, done in shares.items():
            if done:
                reached.setdefault(who, round(time.monotonic() - started, 1))
        return time.monotonic() - started >= MIN_SECONDS and all(shares.values())

    reached: dict[str, float] = {}  # when each did its share (seconds into the run)
    started = time.monotonic()
    try:
        with Load(server.url, threads=4) as load:
            batch.start()
            cli.start()
            while not everyone_did_their_share() and console.poll() is None:
                assert time.monotonic() - started < max(MAX_SECONDS, SOAK_SECONDS + 60), (
                    f"the writers did not each finish {ROUNDS} rounds: batch {batch.runs}, "
                    f"cli {cli.runs}, console passes {console_passes():.1f}")
                time.sleep(0.2)
            stop.set()
            stop_file.touch()
            batch.join(300)
            cli.join(300)
        console.wait(timeout=120)
        reader.join(30)
        console_out = "".join(console_lines)
        seconds = time.monotonic() - started
    finally:
        stop.set()
        stop_file.touch()
        server.kill()
        forks.close()
        if console.poll() is None:
            console.kill()
    answered = load.statuses.get(200, 0)
    assert answered >= ANSWERED, load.statuses
    assert not load.errors, load.errors[:5]  # no 5xx, no dropped connection
    assert not [s for s in load.statuses if s >= 500], load.statuses
    assert batch.runs >= ROUNDS and not batch.failures, batch.failures[:3]
    assert cli.runs >= 4 * ROUNDS and not cli.failures, cli.failures[:3]
    assert console.returncode == 0, console_out[-2000:]
    assert "ERRORS 0" in console_out, console_out[-2000:]
    assert not set(load.received) - logged_ids(root)
    integrity_and_rollups(root)
    print(f"\n{seconds:.0f} s: {answered} requests answered ({load.statuses}), {batch.runs} batch runs, "
          f"{cli.runs} CLI changes, console: {console_out.split('REFRESHES')[-1].strip()[:40]}; "
          f"each share done at {reached} s")
