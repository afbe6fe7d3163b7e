"""Time the console's first paint of the Overview and one refresh cycle's queries.

Run from the repository root:  .venv/bin/python -m bench.console_paint [--runs 5]

The store: 200 models with 10 versions each (2,000 versions), each version trained by a
run on the model's dataset, a production alias on every model and staging on half,
two failed-gate runs on a quarter of the models, and 100,000 audit events. Written
through the registry's own insert path, the audit events with Core bulk inserts, then
ANALYZE.

Printed figures:
- first paint in process: from just before `app.run_test(size=(120, 40))` until the
  Overview has shown its 200 rows and a `pilot.pause()` has let it render; one warm-up
  run (first imports of the screens) is shown apart, then median/min/max of --runs;
- first paint from a fresh process: a new Python process that imports the app, opens
  the store and reaches the same point (imports included), timed from its launch;
  median of --cold-runs, with the bytecode cached (a user's second start; the cache
  lives in a temporary folder) and, where the shell sets PYTHONDONTWRITEBYTECODE, also
  as the shell runs it (the project's own modules compiled on every start);
- refresh queries: median and p95 of 20 calls of each screen's refresh query.
Targets (the console issue): first paint <= 1 s (median), refresh query <= 100 ms (p95).

`--store PATH` keeps the built store at PATH and reuses it on the next run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

MODELS = 200
VERSIONS_PER_MODEL = 10
AUDIT_EVENTS = 100_000
AUDIT_BATCH = 5_000
PAINT_TARGET_S = 1.0
QUERY_TARGET_MS = 100.0
SIZE = (120, 40)
REPO = Path(__file__).resolve().parents[1]


# --- the store ----------------------------------------------------------------------

def _training_log(model: str, version: int) -> str:
    lines = [f"loading data/{model}.parquet: 48,000 rows x 24 columns",
             "split: time-ordered, holdout 20% (9,600 rows)"]
    lines += [f"epoch {i}: loss={0.7 - i * 0.01:.4f} val_loss={0.72 - i * 0.009:.4f}" for i in range(30)]
    lines += [f"v{version}: roc_auc=0.91 accuracy=0.87 on holdout", "gate passed"]
    return "\n".join(lines)


def build_store(root: Path) -> None:
    """The store described in the module docstring."""
    from sklearn.linear_model import LogisticRegression
    from sqlalchemy import insert, text

    from registry.aliases import promote
    from registry.environment import environment
    from registry.models import ensure_model
    from registry.registration import flavor_of, insert_version
    from store.handle import init_store
    from store.tables import AuditEvent, Dataset, TrainingRun

    store, _ = init_store(root)
    estimator = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    artifact = store.artifacts.put_estimator(estimator)
    flavor = flavor_of(estimator)
    columns = [{"name": f"f{i:02d}", "dtype": "float64", "kind": "numeric", "min": 0.0, "max": 1.0}
               for i in range(24)]
    signature = {"columns": columns}
    example = [{c["name"]: 0.5 for c in columns}]
    env = environment()
    code = {"git_commit": "0123456789abcdef0123456789abcdef01234567", "dirty": False,
            "repository": "/srv/models", "source_file": "/srv/models/train.py"}
    now = datetime.now(UTC)
    for m in range(MODELS):
        name = f"model-{m:03d}"
        with store.db.write() as session:
            model = ensure_model(session, name, actor="bench", task="classification",
                                         owner=f"team-{m % 12}")
            dataset = Dataset(name=f"data-{name}", uri=f"file:///srv/data/{name}.parquet",
                              fingerprint=f"{m:064x}", rows=48_000, columns=columns)
            session.add(dataset)
            session.flush()
            for v in range(1, VERSIONS_PER_MODEL + 1):
                started = now - timedelta(days=3 * (VERSIONS_PER_MODEL - v) + 2, minutes=m)
                metrics = {"roc_auc": 0.9 + v / 1000, "accuracy": 0.87}
                run = TrainingRun(
                    model_id=model.id, kind="train", status="succeeded",  # type: ignore[arg-type]
                    spec={"model": name, "entry_point": "train:fit", "data": f"data/{name}.parquet"},
                    spec_path=f"/srv/models/{name}.toml", params={"C": 1.0, "max_iter": 200},
                    code_version=code, environment=env, train_dataset_id=dataset.id,
                    eval_dataset_id=dataset.id, split={"kind": "time", "holdout": 0.2},
                    metrics=metrics, champion_metrics={"roc_auc": 0.9}, gate={"passed": True, "reasons": []},
                    reason=f"registered v{v}", log=_training_log(name, v), started_at=started,
                    ended_at=started + timedelta(minutes=4), created_by="bench",
                )
                session.add(run)
                session.flush()
                version = insert_version(
                    session, model, artifact, actor="bench", flavor=flavor, signature=signature,
                    example=example, metrics=metrics, params={"C": 1.0, "max_iter": 200},
                    run_id=run.id, source="train", code_version=code, environment=env,
                )
                version.created_at = started + timedelta(minutes=4)
                session.add(version)
            if m % 4 == 0:  # a quarter of the models: two failed gates in the last 30 days
                for days in (5, 1):
                    started = now - timedelta(days=days, minutes=m)
                    session.add(TrainingRun(
                        model_id=model.id, kind="train", status="failed_gate",  # type: ignore[arg-type]
                        spec={"model": name}, spec_path=f"/srv/models/{name}.toml",
                        params={"C": 1.0}, code_version=code, environment=env,
                        train_dataset_id=dataset.id, eval_dataset_id=dataset.id,
                        metrics={"roc_auc": 0.85}, champion_metrics={"roc_auc": 0.91},
                        gate={"passed": False, "reasons": ["roc_auc 0.85 < champion 0.91"]},
                        reason="roc_auc 0.85 < champion 0.91", log=_training_log(name, 0),
                        started_at=started, ended_at=started + timedelta(minutes=4),
                        created_by="bench",
                    ))
        promote(store, name, VERSIONS_PER_MODEL - 1, "production", reason="bench", actor="bench")
        if m % 2 == 0:
            promote(store, name, VERSIONS_PER_MODEL, "staging", actor="bench")

    with store.db.read() as session:
        written = session.exec(text("SELECT count(*) FROM audit_event")).one()[0]  # type: ignore[call-overload]
    actions = ("version.register", "alias.promote", "alias.rollback", "run.start", "run.finish",
               "version.archive", "model.create")
    remaining = AUDIT_EVENTS - written
    start = now - timedelta(days=90)
    step = timedelta(days=90) / max(remaining, 1)
    for first in range(0, remaining, AUDIT_BATCH):
        batch = []
        for i in range(first, min(first + AUDIT_BATCH, remaining)):
            model = f"model-{i % MODELS:03d}"
            batch.append({
                "at": start + step * i, "actor": f"user{i % 17}", "action": actions[i % len(actions)],
                "target": f"model/{model}/v{i % VERSIONS_PER_MODEL + 1}",
                "before": {"version": i % VERSIONS_PER_MODEL}, "after": {"version": i % VERSIONS_PER_MODEL + 1},
                "reason": "scheduled retrain" if i % 3 else "",
            })
        with store.db.write() as session:
            session.execute(insert(AuditEvent), batch)
    with store.db.write() as session:
        session.exec(text("ANALYZE"))  # type: ignore[call-overload]
    store.close()


def store_counts(root: Path) -> dict[str, int]:
    con = sqlite3.connect(root / "watchkeeper.db")
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("registered_model", "model_version", "alias", "training_run", "dataset",
                          "audit_event")}
    finally:
        con.close()


# --- first paint --------------------------------------------------------------------

async def _paint_once(store: Any, size: tuple[int, int] = SIZE, rows: int | None = MODELS) -> float:
    """Seconds from entering run_test to the Overview showing its rows (`rows` of them, or
    any when None), rendered."""
    from console.app import make_app
    from console.screens.overview import OverviewScreen
    from console.widgets.live_table import LiveTable

    def shown(screen: Any) -> bool:
        if not (isinstance(screen, OverviewScreen) and screen._loaded_once):
            return False
        count = screen.query_one(LiveTable).row_count
        return bool(count == rows or (rows is None and count))

    return await paint_until(make_app(store, refresh_interval=3600), size, shown, "the Overview")


async def paint_until(app: Any, size: tuple[int, int], ready: Any, what: str) -> float:
    """Seconds from entering run_test to `ready(app.screen)`, then rendered."""
    start = time.perf_counter()
    async with app.run_test(size=size) as pilot:
        while not ready(app.screen):
            if time.perf_counter() - start > 60:
                raise RuntimeError(f"{what} did not show within 60 s")
            await asyncio.sleep(0.002)
        await pilot.pause()
        elapsed = time.perf_counter() - start
        app.exit()
    return elapsed


def paint_in_process(root: Path, runs: int) -> tuple[float, list[float]]:
    """(warm-up, measured): a new app on a newly opened store each time."""
    from store.handle import open_store

    times = []
    for _ in range(runs + 1):
        store = open_store(root)
        try:
            times.append(asyncio.run(_paint_once(store)))
        finally:
            store.close()
    return times[0], times[1:]


def child_paint(root: str, launched: float) -> None:
    """In a fresh process: import the app, open the store, paint; print the seconds from
    the parent's launch (wall clock) to first paint."""
    from store.handle import open_store

    store = open_store(root)
    asyncio.run(_paint_once(store))
    print(f"{time.time() - launched:.6f}")
    store.close()


def paint_cold(root: Path, runs: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    """(seconds from launch to first paint, seconds of the whole process) per run."""
    to_paint, total = [], []
    for _ in range(runs):
        launched = time.time()
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "bench.console_paint", "--child", str(root), f"{launched:.6f}"],
            capture_output=True, text=True, check=True, env=env, cwd=REPO,
        )
        total.append(time.perf_counter() - start)
        to_paint.append(float(out.stdout.strip().splitlines()[-1]))
    return to_paint, total


def cold_environments(tmp: Path) -> list[tuple[str, dict[str, str]]]:
    """The child's environments: bytecode cached (as on a user's machine after the first
    start; one unmeasured run fills the cache, kept in `tmp`, not in the working tree),
    and, where this shell sets PYTHONDONTWRITEBYTECODE, the shell's own environment (the
    project's modules are compiled on every start)."""
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    out = [("bytecode cached", cached)]
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        out.append(("PYTHONDONTWRITEBYTECODE=1 (as this shell runs it)", dict(os.environ)))
    return out


# --- refresh queries ----------------------------------------------------------------

def time_queries(root: Path, calls: int = 20) -> dict[str, list[float]]:
    from registry.audit_log import audit_log
    from registry.models import list_models, overview
    from registry.runs import recent_runs
    from registry.versions import list_versions
    from store.handle import open_store

    store = open_store(root)
    queries = {
        "overview(store)": lambda: overview(store),
        "list_models(store)": lambda: list_models(store),
        "list_versions(store, 'model-000')": lambda: list_versions(store, "model-000"),
        "recent_runs(store)": lambda: recent_runs(store),
        "audit_log(store, limit=1000)": lambda: audit_log(store, limit=1000),
    }
    out = {}
    try:
        for label, call in queries.items():
            call()  # warm the connection and the statement caches
            times = []
            for _ in range(calls):
                start = time.perf_counter()
                call()
                times.append((time.perf_counter() - start) * 1000)
            out[label] = times
    finally:
        store.close()
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child_paint(sys.argv[2], float(sys.argv[3]))
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--build":
        build_store(Path(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="in-process first paints (after a warm-up)")
    parser.add_argument("--cold-runs", type=int, default=3, help="first paints from a fresh process")
    parser.add_argument("--store", type=Path, default=None, help="keep the store here and reuse it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = args.store or Path(tmp) / "store"
        built = None
        if not (root / "watchkeeper.db").exists():
            # In its own process, so that the measuring process's heap holds what a
            # console holds (not scikit-learn and the build's garbage).
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "bench.console_paint", "--build", str(root)],
                           check=True, cwd=REPO)
            built = time.perf_counter() - start
        counts = store_counts(root)
        print(f"machine: {os.cpu_count()} cores, {platform.python_implementation()} "
              f"{platform.python_version()}, {platform.machine()}, SQLite {sqlite3.sqlite_version}")
        print(f"store: {counts['registered_model']} models, {counts['model_version']} versions, "
              f"{counts['alias']} aliases, {counts['training_run']} runs, "
              f"{counts['dataset']} datasets, {counts['audit_event']} audit events"
              + (f" (built in {built:.1f} s)" if built is not None else " (reused)"))

        warm_up, paints = paint_in_process(root, args.runs)
        median = statistics.median(paints)
        print(f"\nfirst paint of the Overview, in process, {SIZE[0]}x{SIZE[1]} "
              f"(warm-up run {warm_up * 1000:.0f} ms, not counted):")
        print(f"  median {median * 1000:7.1f} ms   min {min(paints) * 1000:7.1f} ms   "
              f"max {max(paints) * 1000:7.1f} ms   (n={len(paints)})   "
              f"target <= {PAINT_TARGET_S * 1000:.0f} ms: {verdict(median <= PAINT_TARGET_S)}")

        print("first paint from a fresh process (imports + open store + paint):")
        for label, env in cold_environments(Path(tmp)):
            if "PYTHONPYCACHEPREFIX" in env:
                paint_cold(root, 1, env)  # fills the bytecode cache; not counted
            to_paint, total = paint_cold(root, args.cold_runs, env)
            cold = statistics.median(to_paint)
            print(f"  {label}:")
            print(f"    launch to paint: median {cold * 1000:7.1f} ms   min {min(to_paint) * 1000:7.1f} ms   "
                  f"max {max(to_paint) * 1000:7.1f} ms   (n={len(to_paint)})   "
                  f"target <= {PAINT_TARGET_S * 1000:.0f} ms: {verdict(cold <= PAINT_TARGET_S)}")
            print(f"    whole process:   median {statistics.median(total) * 1000:7.1f} ms   "
                  f"min {min(total) * 1000:7.1f} ms   max {max(total) * 1000:7.1f} ms")

        print("\nrefresh queries (20 calls each, after one warm-up call):")
        for label, times in time_queries(root).items():
            med = statistics.median(times)
            high = p95(times)
            print(f"  {label:36s} median {med:7.1f} ms   p95 {high:7.1f} ms   "
                  f"target p95 <= {QUERY_TARGET_MS:.0f} ms: {verdict(high <= QUERY_TARGET_MS)}")


if __name__ == "__main__":
    main()
