"""Time `wk --help` and `wk models list --json` on a store with 1,000 versions.

Run from the repository root:  .venv/bin/python -m bench.cli_startup [--runs 15]
Prints the median, p90 and minimum wall time of each command, run as a fresh process
the way a user or a cron job runs it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


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


def time_command(args: list[str], runs: int, env: dict[str, str]) -> list[float]:
    times = []
    subprocess.run(args, env=env, capture_output=True, check=True)  # warm the page cache
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return (f"median {statistics.median(times) * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms   "
            f"min {ordered[0] * 1000:7.1f} ms   (n={len(times)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--versions-per-model", type=int, default=20)
    args = parser.parse_args()
    wk = str(Path(sys.executable).parent / "wk")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "store"
        start = time.perf_counter()
        build_store(root, args.models, args.versions_per_model)
        built = time.perf_counter() - start
        env = {**os.environ, "WK_STORE": str(root)}
        listed = subprocess.run([wk, "models", "list", "--json"], env=env, capture_output=True,
                                text=True, check=True)
        import json

        rows = json.loads(listed.stdout)
        total = sum(r["versions"] for r in rows)
        print(f"machine: {os.cpu_count()} cores, {platform.python_implementation()} "
              f"{platform.python_version()}, {platform.machine()}")
        print(f"store: {len(rows)} models, {total} versions (built in {built:.1f} s)")
        print(f"wk --help              {summary(time_command([wk, '--help'], args.runs, env))}")
        print(f"wk models list --json  {summary(time_command([wk, 'models', 'list', '--json'], args.runs, env))}")


if __name__ == "__main__":
    main()
