"""`wk predictions export` on a log of N rows (default 100,000): the whole command as a fresh
process per format (start-up included), beside one `wk predictions show`, which was the way to
read the log before (one id at a time). The store is built here: one classifier with 8 numeric
and 2 categorical inputs, every row logged with inputs and outputs, one in ten labelled.

    .venv/bin/python -m bench.export_log [--rows 100000] [--store DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

NUMERIC = [f"x{i}" for i in range(8)]
CATEGORICAL = {"region": ["north", "south", "east", "west"], "channel": ["web", "branch", "phone"]}


def build(root: Path, rows: int, seed: int = 0) -> str:
    """The store, and one prediction id in it (for `wk predictions show`)."""
    import uuid

    from registry.models import ensure_model
    from registry.registration import insert_version
    from store.handle import init_store
    from store.prediction_log import db_time, insert_predictions

    store, _ = init_store(root)
    columns = ([{"name": n, "dtype": "float64", "kind": "numeric", "nullable": False, "min": -5.0, "max": 5.0}
                for n in NUMERIC]
               + [{"name": n, "dtype": "object", "kind": "categorical", "nullable": False, "categories": c,
                   "categories_truncated": False} for n, c in CATEGORICAL.items()])
    with store.db.write() as session:
        model = ensure_model(session, "bench", actor="bench", task="classification")
        version = insert_version(session, model, store.artifacts.put_bytes(b"bench (never loaded)\n"),
                                 actor="bench", flavor="bench", signature={"columns": columns}, example=None,
                                 metrics=None, params=None, run_id=None, source="register",
                                 code_version=None, environment=None)
        model_id, version_id = model.id, version.id
    rng = np.random.default_rng(seed)
    start = datetime.now(UTC) - timedelta(days=1)
    step = timedelta(days=1) / rows
    first = ""
    for chunk in range(0, rows, 50_000):
        batch = []
        for i in range(chunk, min(rows, chunk + 50_000)):
            at = start + step * i
            ms = int(at.timestamp() * 1000)
            pid = str(uuid.UUID(int=ms << 80 | 0x7 << 76 | 0b10 << 62 | int(rng.integers(1 << 62))))
            first = first or pid
            row = {n: round(float(v), 4) for n, v in zip(NUMERIC, rng.normal(size=len(NUMERIC)), strict=True)}
            row.update({n: str(rng.choice(c)) for n, c in CATEGORICAL.items()})
            p = round(float(rng.uniform()), 4)
            outputs = {"class": int(p >= 0.5), "probabilities": {"0": round(1 - p, 4), "1": p}}
            batch.append((pid, db_time("sqlite", at), model_id, version_id, "champion", "api", None, 0, None,
                          json.dumps(row), json.dumps(outputs), 1.0))
        with store.db.write_core() as conn:
            insert_predictions(conn, batch)
            conn.exec_driver_sql("UPDATE prediction SET label = '1', label_at = at WHERE id % 10 = 0")
    store.close()
    return first


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds and peak memory (MB, the child's own maxrss) of `wk ARGS` in a fresh process."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "console.cli", *args], env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"wk {' '.join(args)} exited with {proc.returncode}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--store", type=Path, help="where to build it (default: a temporary folder)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="wk-bench-export-"))
    root = args.store or folder / "store"
    os.environ.pop("WK_DATABASE_URL", None)
    started = time.perf_counter()
    pid = build(root, args.rows)
    print(f"built {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
    env = {**os.environ, "WK_STORE": str(root)}
    seconds, peak = timed(["predictions", "show", pid], env)
    print(f"wk predictions show ID: {seconds:.2f} s for one id, peak {peak:.0f} MB")
    for fmt in ("parquet", "csv", "jsonl"):
        out = folder / f"log.{fmt}"
        seconds, peak = timed(["predictions", "export", "bench", "--output", str(out)], env)
        print(f"wk predictions export --format {fmt}: {seconds:.2f} s for {args.rows:,} rows "
              f"({args.rows / seconds:,.0f} rows/s), peak {peak:.0f} MB, file {out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
