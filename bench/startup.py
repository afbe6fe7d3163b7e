"""Start-up: how long a person waits for each kind of `wk` command, beside `wk --help`.

Run from the repository root:  .venv/bin/python -m bench.startup [--runs 7]

Every figure is a fresh process, as a user or a cron job starts it, after one unmeasured
run (page cache and bytecode warm). On the demo store (`wk demo --no-ui`: two sample
models, each with a production and a staging version, traffic, runs and audit events):
- store-reading commands (`wk models list`, `wk audit`, `wk deploy show`), target 300 ms;
- `wk predict MODEL --row JSON` (loads one model file, scores one row, logs it), target 1 s;
- `wk serve` from launch to its first `/readyz` 200 with both models, target 1.5 s;
- the console from launch to its first painted Overview (80x24), target 1 s;
and `wk models list --json` on a store of 1,000 versions (the figure kept since 2026-11-23).
The floors printed first are the libraries' own imports in a bare interpreter (SQLModel for
any store read, scikit-learn for any model, skops, Textual): no command can start faster
than the floor it needs.

Absolute times differ about 2x between machines of one size, so each line also gives the
command's time over `wk --help` measured in the same run: the part that is the command's
own (imports and work), not the interpreter's start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STORE_TARGET_S = 0.3
PREDICT_TARGET_S = 1.0
SERVE_TARGET_S = 1.5
PAINT_TARGET_S = 1.0
CONSOLE_SIZE = (80, 24)
#: (what pays it, the import): the floor of each kind of command, measured in the same run
FLOORS = (
    ("any store read", "import sqlmodel"),
    ("any scikit-learn model", "import sklearn.base"),
    ("the safe model format", "import skops.io"),
    ("the console", "import textual.app"),
)


def build_store(root: Path, models: int, versions_per_model: int) -> None:
    """A store with models x versions rows sharing one real artifact, written through
    the registry's own insert path (one write transaction per model)."""
    from sklearn.linear_model import LogisticRegression

    from registry.aliases import promote
    from registry.models import ensure_model
    from registry.registration import flavor_of, insert_version
    from store.handle import init_store

    store, _ = init_store(root)
    estimator = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    artifact = store.artifacts.put_estimator(estimator)
    signature = {"columns": [{"name": "x", "dtype": "float64", "kind": "numeric", "min": 0.0, "max": 3.0}]}
    for m in range(models):
        with store.db.write() as session:
            model = ensure_model(session, f"model-{m:03d}", actor="bench", task="classification")
            for _ in range(versions_per_model):
                insert_version(
                    session, model, artifact, actor="bench", flavor=flavor_of(estimator),
                    signature=signature, example=[{"x": 1.0}], metrics={"roc_auc": 0.9},
                    params={"C": 1.0}, run_id=None, source="register", code_version=None,
                    environment=None,
                )
        if m % 5 == 0:
            promote(store, f"model-{m:03d}", 1, "production", reason="bench", actor="bench")
    store.close()


def wk_path() -> str:
    return str(Path(sys.executable).parent / "wk")


def timed_runs(args: list[str], runs: int, env: dict[str, str]) -> list[float]:
    """Wall seconds of `runs` fresh processes, after one unmeasured run."""
    subprocess.run(args, env=env, capture_output=True, check=True, cwd=REPO)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, env=env, capture_output=True, check=True, cwd=REPO)
        times.append(time.perf_counter() - start)
    return times


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_ready_once(env: dict[str, str], timeout: float = 60.0) -> float:
    """Seconds from launching `wk serve` to its first /readyz 200 (polled every 5 ms)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/readyz"
    start = time.perf_counter()
    proc = subprocess.Popen([wk_path(), "serve", "--port", str(port), "--no-auth"], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - start
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"wk serve exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"wk serve was not ready within {timeout:.0f} s")
            time.sleep(0.005)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def serve_ready(runs: int, env: dict[str, str]) -> list[float]:
    serve_ready_once(env)  # unmeasured
    return [serve_ready_once(env) for _ in range(runs)]


# --- the console, in a child process ------------------------------------------------------

def child_paint(store_root: str, launched: float) -> None:
    """In a fresh process: import the console, open the store, paint the Overview; print
    the wall seconds since the parent launched this process."""
    from bench.console_paint import _paint_once
    from store.handle import open_store

    store = open_store(store_root)
    asyncio.run(_paint_once(store, size=CONSOLE_SIZE, rows=None))
    print(f"{time.time() - launched:.6f}")
    store.close()


def paint_cold(store_root: Path, runs: int, env: dict[str, str]) -> list[float]:
    def once() -> float:
        launched = time.time()
        out = subprocess.run([sys.executable, "-m", "bench.startup", "--child-paint", str(store_root), f"{launched:.6f}"],
                             capture_output=True, text=True, check=True, env=env, cwd=REPO)
        return float(out.stdout.strip().splitlines()[-1])

    once()  # unmeasured
    return [once() for _ in range(runs)]


# --- report ---------------------------------------------------------------------------------

def line(label: str, times: list[float], help_median: float | None, target: float | None) -> str:
    med = statistics.median(times)
    text = f"{label:44s} median {med * 1000:7.0f} ms   min {min(times) * 1000:7.0f} ms"
    if help_median is not None:
        text += f"   over --help {max(med - help_median, 0) * 1000:+6.0f} ms"
    if target is not None:
        verdict = "met" if med <= target else f"MISSED by {(med / target - 1) * 100:.0f}%"
        text += f"   target <= {target * 1000:.0f} ms: {verdict}"
    return text


def build_demo(root: Path, env: dict[str, str]) -> dict[str, object]:
    out = subprocess.run([wk_path(), "demo", "--no-ui", "--json", "--store", str(root)], env=env, cwd=REPO,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def example_row(root: Path, model: str, env: dict[str, str]) -> str:
    out = subprocess.run([wk_path(), "predict", model, "--example", "--json", "--store", str(root)], env=env,
                         cwd=REPO, capture_output=True, text=True, check=True)
    return json.dumps(json.loads(out.stdout)["row"])


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child-paint":
        child_paint(sys.argv[2], float(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="measured fresh processes per figure")
    args = parser.parse_args()
    runs = args.runs
    wk = wk_path()
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo"
        # a bytecode cache of the bench's own (a user's second start), whatever the shell says
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "WK_DATABASE_URL")}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        env["WK_STORE"] = str(demo)
        started = time.perf_counter()
        build_demo(demo, env)
        built = time.perf_counter() - started
        big = Path(tmp) / "big"
        build_store(big, 50, 20)
        with sqlite3.connect(demo / "watchkeeper.db") as db:
            models = [name for (name,) in db.execute("SELECT name FROM registered_model ORDER BY name")]
        model = models[0]
        row = example_row(demo, model, env)

        print(f"date: {time.strftime('%Y-%m-%d %H:%M %z')}")
        print(f"machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
              f"{platform.machine()}, SQLite {sqlite3.sqlite_version}; load average {os.getloadavg()[0]:.2f}")
        print(f"demo store: {len(models)} models ({', '.join(models)}), built by `wk demo` in {built:.1f} s; "
              f"each figure: median of {runs} fresh processes after one unmeasured run\n")

        help_times = timed_runs([wk, "--help"], runs, env)
        help_median = statistics.median(help_times)
        print(line("wk --help", help_times, None, None))
        print("floors: the libraries' own imports in a bare interpreter, which the commands below pay")
        for label, code in FLOORS:
            print(line(f"  python -c '{code}'  ({label})", timed_runs([sys.executable, "-c", code], runs, env),
                       help_median, None))
        print("store-reading commands (demo store):")
        for cmd in (["models", "list"], ["audit"], ["deploy", "show", model]):
            print(line(f"  wk {' '.join(cmd)}", timed_runs([wk, *cmd], runs, env), help_median, STORE_TARGET_S))
        big_env = {**env, "WK_STORE": str(big)}
        print(line("  wk models list --json (1,000 versions)", timed_runs([wk, "models", "list", "--json"], runs, big_env),
                   help_median, STORE_TARGET_S))
        print("loading a model:")
        print(line(f"  wk predict {model} --row JSON", timed_runs([wk, "predict", model, "--row", row], runs, env),
                   help_median, PREDICT_TARGET_S))
        print(line(f"  wk serve, launch to /readyz 200 ({len(models)} models)", serve_ready(runs, env), help_median,
                   SERVE_TARGET_S))
        print("the console:")
        print(line(f"  wk ui, launch to first paint ({CONSOLE_SIZE[0]}x{CONSOLE_SIZE[1]})",
                   paint_cold(demo, runs, env), help_median, PAINT_TARGET_S))


if __name__ == "__main__":
    main()
