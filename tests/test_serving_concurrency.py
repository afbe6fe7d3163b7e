"""The issue's concurrency test (and reliability.md DB-03 for this part): for a few
minutes, `wk serve` under load, batch scoring jobs writing, CLI promotes and deployment
changes, and the console refreshing its views, all on one SQLite store at once. No
request may fail with a database-locked error, and nothing may be lost."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from serving_store import REPO, Server, build_store
from test_serving_batch import write_input
from test_serving_faults import Load, integrity_and_rollups, logged_ids

SECONDS = float(os.environ.get("WK_CONCURRENCY_SECONDS", "120"))

CONSOLE = """
import asyncio, importlib.util, sys, time
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
    async with app.run_test(size=(120, 40)) as pilot:
        end = time.monotonic() + float(sys.argv[2])
        while time.monotonic() < end:
            app.run_command(views[refreshes % len(views)])
            refreshes += 1
            await pilot.pause(1.0)
            await app.workers.wait_for_complete()
    print(f"REFRESHES {refreshes} ERRORS {len(errors)}")
    for e in errors[:5]:
        print("ERROR", e)

asyncio.run(main())
"""


class Repeat(threading.Thread):
    """Run a command again and again until the time is up; keep failures."""

    def __init__(self, commands: list[list[str]], env: dict[str, str], until: float) -> None:
        super().__init__(daemon=True)
        self.commands, self.env, self.until = commands, env, until
        self.runs = 0
        self.failures: list[str] = []

    def run(self) -> None:
        i = 0
        while time.monotonic() < self.until:
            cmd = self.commands[i % len(self.commands)]
            i += 1
            done = subprocess.run(cmd, cwd=REPO, env=self.env, capture_output=True, text=True, timeout=300)
            self.runs += 1
            if done.returncode != 0:
                self.failures.append(f"{' '.join(cmd[3:])}: exit {done.returncode}: {done.stderr[-500:]}")


def test_server_batch_cli_and_console_at_once_without_lock_errors(tmp_path: Path) -> None:
    root = build_store(tmp_path / "store")
    source = tmp_path / "in.csv"
    write_input(source, 20_000, seed=3)
    env = {**os.environ, "WK_STORE": str(root), "PYTHONPATH": str(REPO)}
    env.pop("WK_DATABASE_URL", None)
    wk = [sys.executable, "-m", "console.cli"]
    server = Server(root).start()
    until = time.monotonic() + SECONDS
    batch = Repeat([[*wk, "score", "tiny", "--source", str(source), "--sink", str(tmp_path / "out.csv"),
                     "--run-id", "concurrent", "--chunk-size", "1000"]], env, until)
    cli = Repeat([
        [*wk, "models", "promote", "tiny", "2", "staging", "--reason", "concurrency test"],
        [*wk, "deploy", "set", "tiny", "--mode", "canary", "--challenger", "2", "--share", "0.2", "--reason", "test"],
        [*wk, "models", "promote", "tiny", "1", "staging", "--reason", "concurrency test"],
        [*wk, "deploy", "rollback", "tiny", "--reason", "test"],
    ], env, until)
    script = tmp_path / "console_refresh.py"
    script.write_text(CONSOLE)
    console = subprocess.Popen([sys.executable, str(script), str(root), str(SECONDS)], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with Load(server.url, threads=4) as load:
            batch.start()
            cli.start()
            batch.join(SECONDS + 300)
            cli.join(SECONDS + 300)
        console_out, _ = console.communicate(timeout=120)
    finally:
        server.kill()
        if console.poll() is None:
            console.kill()
    answered = load.statuses.get(200, 0)
    assert answered > 1000, load.statuses
    assert not load.errors, load.errors[:5]  # no 5xx, no dropped connection
    assert not [s for s in load.statuses if s >= 500], load.statuses
    assert batch.runs >= 2 and not batch.failures, batch.failures[:3]
    assert cli.runs >= 8 and not cli.failures, cli.failures[:3]
    assert console.returncode == 0, console_out[-2000:]
    assert "ERRORS 0" in console_out, console_out[-2000:]
    assert not set(load.received) - logged_ids(root)
    integrity_and_rollups(root)
    print(f"\n{SECONDS:.0f} s: {answered} requests answered ({load.statuses}), {batch.runs} batch runs, "
          f"{cli.runs} CLI changes, console: {console_out.split('REFRESHES')[-1].strip()[:40]}")
