"""Store upkeep on a log of N rows (default 100,000; the store of bench.export_log: 8
numeric and 2 categorical inputs a row): wk store backup by each method, idle and while a
writer thread commits 50-row batches as fast as it can (its commits during the copy and
its slowest commit), a stepped backup under the same writer, the checks, usage, and
prune's rate with the writer going.

    .venv/bin/python -m bench.upkeep [--rows 100000]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench.export_log import build

PRUNE_BATCHES = (5000, 2000)


class Writer:
    """Commits 50-row batches in a loop; records each commit's time."""

    def __init__(self, store: Any) -> None:
        self.store, self.stop, self.times = store, threading.Event(), []
        self.tag = uuid.uuid4().hex[:8]
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        from store.prediction_log import db_time, insert_predictions
        from store.types import utcnow

        k = 0
        while not self.stop.is_set():
            at = db_time("sqlite", utcnow())
            rows = [(uuid.uuid4().hex, at, 1, 1, "champion", "api", f"{self.tag}-{k}", i, None, '{"x0": 1}',
                     '{"class": 1}', 1.0) for i in range(50)]
            started = time.perf_counter()
            with self.store.db.write_core() as conn:
                insert_predictions(conn, rows)
            self.times.append(time.perf_counter() - started)
            k += 1

    def __enter__(self) -> Writer:
        self.thread.start()
        time.sleep(0.3)
        self.times.clear()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join()

    def figures(self, seconds: float) -> str:
        return (f"writer: {len(self.times)} commits ({len(self.times) / seconds:.0f}/s), slowest "
                f"{max(self.times, default=0) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    from store.backup import backup
    from store.handle import open_store
    from store.integrity import check
    from store.prune import prune_before
    from store.types import utcnow

    work = Path(tempfile.mkdtemp(prefix="wk-bench-upkeep-"))
    try:
        build(work / "store", args.rows)
        store = open_store(work / "store")
        db = store.location.db_path.stat().st_size
        print(f"store: {args.rows:,} predictions, database {db / 2**20:.1f} MB, SQLite "
              f"{sqlite3.sqlite_version}")
        for n, (method, busy) in enumerate([(m, b) for b in (False, True)
                                             for m in ("backup-api", "vacuum-into")]):
            dest = work / f"copy{n}"
            if busy:
                with Writer(store) as writer:
                    started = time.perf_counter()
                    result = backup(store, dest, method=method)
                    seconds = time.perf_counter() - started
                note = writer.figures(seconds)
            else:
                result, note = backup(store, dest, method=method), "idle"
            print(f"backup {method:12s} {note}: database copy {result['database_seconds']:.2f} s, "
                  f"whole {result['seconds']:.2f} s, copy {result['database_bytes'] / 2**20:.1f} MB, "
                  f"verify {result['check']['seconds']:.2f} s, ok={result['check']['ok']}")
        with Writer(store):
            src = sqlite3.connect(store.location.db_path)
            dst = sqlite3.connect(work / "stepped.db")
            started, restarts, last = time.perf_counter(), 0, None

            def progress(status: int, remaining: int, total: int) -> None:
                nonlocal restarts, last
                if last is not None and remaining > last:
                    restarts += 1
                last = remaining
                if time.perf_counter() - started > 10:
                    raise TimeoutError
            try:
                src.backup(dst, pages=100, progress=progress, sleep=0.001)
                print(f"stepped backup (100 pages) under the writer: done in "
                      f"{time.perf_counter() - started:.1f} s, {restarts} restarts")
            except TimeoutError:
                print(f"stepped backup (100 pages) under the writer: not done after 10 s, "
                      f"{restarts} restarts from page 1")
            src.close()
            dst.close()
        for quick in (False, True):
            found = check(store, quick=quick)
            print(f"check quick={quick}: {found['seconds']:.2f} s, ok={found['ok']}")
        from scheduler.cost_report import usage_report

        started = time.perf_counter()
        usage_report(store)
        print(f"usage_report: {time.perf_counter() - started:.2f} s")
        with Writer(store) as writer:
            time.sleep(3)
        print(f"alone, the {writer.figures(3)}")
        copies = [work / f"prune{n}" for n in range(len(PRUNE_BATCHES))]
        for copy in copies:  # the same rows for each batch size
            backup(store, copy, verify=False)
        for batch_rows, copy in zip(PRUNE_BATCHES, copies, strict=True):
            pruned_store = open_store(copy)
            now = utcnow()
            with Writer(pruned_store) as writer:
                pruned = prune_before(pruned_store, now, now=now, batch_rows=batch_rows)
            rows = pruned["deleted"]["prediction"]
            print(f"prune {rows:,} rows, {batch_rows:,} a batch ({pruned['batches']} batches): "
                  f"{pruned['seconds']:.2f} s ({rows / pruned['seconds']:,.0f} rows/s) with the "
                  f"{writer.figures(pruned['seconds'])}")
            pruned_store.close()
        store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
