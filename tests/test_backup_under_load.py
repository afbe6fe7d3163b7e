"""`wk store backup` taken while a server writes predictions at full speed and a scheduled
scoring job runs: the copy passes `wk store check` and opens with the console (the
acceptance point of the scheduler issue; reliability.md DB-10 on the real processes)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
from scheduler_harness import running_daemon, runs, wait_for
from serving_store import build_store, running, tiny_frame

from scheduler.jobs_service import JobSettings, add_job, run_now
from store.handle import open_store
from store.vocabulary import JobRunStatus


def _wk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "console.cli", *args], capture_output=True,
                          text=True, timeout=120)


def test_backup_while_serving_and_scoring_opens_and_checks(tmp_path: Path) -> None:
    root = build_store(tmp_path / "store")
    X, _ = tiny_frame(rows=8_000, seed=3)
    X.to_csv(tmp_path / "big.csv", index=False)
    rows = X.head(50).to_dict(orient="records")
    store = open_store(root)
    answered = 0
    stop = threading.Event()

    def hammer(url: str) -> None:
        nonlocal answered
        with httpx.Client(base_url=url, timeout=10) as client:
            while not stop.is_set():
                reply = client.post("/v1/models/tiny/predict", json={"rows": rows})
                assert reply.status_code == 200, reply.text
                answered += 1

    try:
        add_job(store, "score-big", "score", JobSettings(every="1d", model="tiny", args={
            "source": str(tmp_path / "big.csv"), "sink": str(tmp_path / "scored.csv"),
            "chunk_size": 500}))
        with running(root) as server, running_daemon(root) as daemon:
            callers = [threading.Thread(target=hammer, args=(server.url,)) for _ in range(2)]
            for caller in callers:
                caller.start()
            run_now(store, "score-big")
            wait_for("the scoring run under way", lambda: runs(store, "score-big", "running"),
                     30, daemon)
            before = answered
            backup = _wk("store", "backup", str(tmp_path / "copy"), "--store", str(root), "--json")
            during = answered - before
            scored = wait_for("the scoring run's end", lambda: [
                r for r in runs(store, "score-big") if r.status not in ("queued", "running")],
                120, daemon)[0]
            stop.set()
            for caller in callers:
                caller.join(30)
        assert backup.returncode == 0, backup.stderr
        assert during > 0, "the server answered nothing while the backup ran"
        assert scored.status == JobRunStatus.SUCCEEDED and scored.rows == 8_000, scored.error
    finally:
        stop.set()
        store.close()

    check = _wk("store", "check", "--store", str(tmp_path / "copy"), "--json")
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads(check.stdout)["ok"] is True
    _opens_in_the_console(tmp_path / "copy")


def _opens_in_the_console(copy: Path) -> None:
    from test_console_pilot import cells, settle

    from console.app import make_app
    from console.screens.overview import OverviewScreen

    async def scenario() -> Any:
        app = make_app(copy, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, OverviewScreen)
            return [row[0] for row in cells(app.screen)]

    assert set(asyncio.run(scenario())) >= {"tiny", "num"}
