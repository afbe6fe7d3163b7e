"""Alert evaluation at size, and the time from a condition becoming true to the webhook.

    .venv/bin/python -m bench.alerts [--predictions 10000000] [--interval 30] [--trials 5]

The store: 200 models with a production version each, 10,000,000 logged predictions over
7 days (a real prediction table with its indexes: the pass must never read it), 7 days of
daily drift, quality and performance reports per model, an hour of per-minute rollups now
and a day ago, and 2,000 rules (10 per model: drift per feature, drift of the whole input,
drift of one feature, quality, performance, estimated performance, latency, error rate,
traffic, model age), each with a webhook channel. Built once and cached in bench/.data/.

1. One evaluation pass (monitoring.alert_pass.evaluate): the first (it writes every
   target's state), then the median and max of 10 more, 30 s apart. Floor in the same run:
   the grouped reads of store.alert_queries.AlertInputs alone. Target: under 2 s.
2. Condition -> webhook: a real `wk scheduler` daemon runs an `alerts` job every INTERVAL
   and delivers the outbox; at a random moment a drifted drift report is written for one
   model, and the time to the webhook's receipt is measured. Floor in the same run: a bare
   POST of the same body to the same receiver. Target: under INTERVAL + 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MODELS = 200
FEATURES = ("income", "age", "debt_ratio", "region", "employment_type")
RULE_KINDS: tuple[tuple[str, str | None, dict[str, Any]], ...] = (
    ("drift", None, {}), ("drift", None, {"scope": "input"}), ("drift", "income", {}),
    ("quality", None, {}), ("performance", None, {}), ("performance-estimated", None, {}),
    ("latency", None, {}), ("error-rate", None, {}), ("traffic", None, {}), ("model-age", None, {}))
DATA = Path(__file__).parent / ".data"


def _feature_rows(drifted_feature: str | None) -> list[dict[str, Any]]:
    rows = []
    for name in FEATURES:
        drift = name == drifted_feature
        rows.append({"feature": name, "kind": "numeric", "status": "drift" if drift else "ok",
                     "test": "ks", "statistic": 0.18 if drift else 0.02, "threshold": 0.1,
                     "p_value": 1e-5 if drift else 0.4, "effect_size": 0.4 if drift else 0.03,
                     "n_reference": 25000, "n_current": 4800,
                     "reason": f"{name}: ks statistic {'0.18 > 0.1' if drift else '0.02 <= 0.1'}"})
    return rows


def _drift_report(model_id: int, end: datetime, drifted: bool) -> dict[str, Any]:
    return {"model_id": model_id, "version_id": None, "window_start": end - timedelta(days=1),
            "window_end": end, "status": "drift" if drifted else "ok", "rows": 4800,
            "features": len(FEATURES), "drifted": 1 if drifted else 0}


def build(root: Path, predictions: int, hook_url: str) -> None:
    """The store of the module docstring (rules point at `hook_url`, rewritten per run)."""
    from registry.aliases import promote
    from registry.models import ensure_model
    from registry.registration import insert_version
    from store import reports
    from store.alert_tables import AlertRule
    from store.handle import init_store
    from store.tables import MetricRollup

    store, _ = init_store(root)
    now = datetime.now(UTC)
    ids: list[tuple[int, int]] = []
    started = time.perf_counter()
    for m in range(MODELS):
        with store.db.write() as session:
            model = ensure_model(session, f"model-{m:03d}", actor="bench", task="classification")
            version = insert_version(
                session, model, store.artifacts.put_bytes(f"model {m} (never loaded)\n".encode()),
                actor="bench", flavor="bench", signature=None, example=None,
                metrics={"roc_auc": 0.8}, params=None, run_id=None, source="register",
                code_version=None, environment=None)
            session.flush()
            assert model.id is not None and version.id is not None
            ids.append((model.id, version.id))
        promote(store, model.name, version.version, "production", reason="bench", actor="bench")
        with store.db.write() as session:
            for day in range(7):
                end = now - timedelta(days=day)
                drifted = m % 3 == 0 and day > 0  # a third drifted earlier in the week, not now
                reports.add_drift_report(session, _drift_report(model.id, end, drifted),
                                         _feature_rows("income" if drifted else None))
                reports.add_quality_report(session, {
                    "model_id": model.id, "window_start": end - timedelta(days=1),
                    "window_end": end, "status": "ok", "rows": 4800})
                reports.add_performance_report(session, {
                    "model_id": model.id, "version_id": version.id,
                    "window_start": end - timedelta(days=1), "window_end": end, "status": "ok",
                    "task": "classification", "realised": {"roc_auc": 0.79},
                    "estimated": {"roc_auc": 0.78}, "training": {"roc_auc": 0.8}})
            for back in (timedelta(0), timedelta(days=1)):
                for minute in range(60):
                    at = (now - back - timedelta(minutes=minute + 1)).replace(second=0,
                                                                              microsecond=0)
                    session.add(MetricRollup(model_id=model.id, version_id=version.id,
                                             route="champion", minute=at, count=50, requests=50,
                                             lat_b05=50))
            for i, (kind, feature, params) in enumerate(RULE_KINDS):
                session.add(AlertRule(name=f"r{m:03d}-{i}", kind=kind, model_id=model.id,
                                      feature=feature, params=params, channels=["hook"]))
    print(f"  200 models, reports, rollups and 2,000 rules: {time.perf_counter() - started:.1f} s")
    from monitoring.channel_service import add_channel

    add_channel(store, "hook", "webhook", {"url": hook_url})
    started = time.perf_counter()
    _log_predictions(store, predictions, ids, now)
    with store.db.write_core() as conn:
        conn.exec_driver_sql("ANALYZE")
    print(f"  {predictions:,} predictions and ANALYZE: {time.perf_counter() - started:.1f} s")
    store.close()


def _log_predictions(store: Any, count: int, ids: list[tuple[int, int]], now: datetime) -> None:
    """`count` rows over the 7 days before `now`, spread over the models, generated by SQLite
    itself (a Python loop of 10M rows took ten minutes; the rows are alike on purpose: the
    pass never reads them, the table and its indexes only have to be that big)."""
    from store.tables import Prediction

    inputs = json.dumps({name: 0.5 for name in FEATURES})
    outputs = json.dumps({"class": 1, "probabilities": {"0": 0.3, "1": 0.7}})
    with store.db.write_core() as conn:
        conn.exec_driver_sql("CREATE TEMP TABLE bench_ids (k INTEGER PRIMARY KEY, model_id, version_id)")
        conn.exec_driver_sql("INSERT INTO bench_ids VALUES (?, ?, ?)",
                             [(k, m, v) for k, (m, v) in enumerate(ids)])
    first_day = (now - timedelta(days=7)).timestamp() / 86400 + 2440587.5  # julian day
    step_days = 7 / count
    table = Prediction.__tablename__
    for chunk in range(0, count, 1_000_000):
        rows = min(count, chunk + 1_000_000) - chunk
        with store.db.write_core() as conn:
            conn.exec_driver_sql(
                f"WITH RECURSIVE n(i) AS (SELECT {chunk} UNION ALL SELECT i + 1 FROM n "
                f"WHERE i < {chunk + rows - 1}) "
                f"INSERT INTO {table} (prediction_id, at, model_id, version_id, route, source, "
                "request_id, row_index, batch_run_id, inputs, outputs, latency_ms) "
                "SELECT printf('%08x-0000-7000-8000-%012x', i / 65536, i), "
                f"strftime('%Y-%m-%d %H:%M:%S', {first_day} + i * {step_days}) || '.000000', "
                "b.model_id, b.version_id, 'champion', 'api', NULL, 0, NULL, ?, ?, 1.0 "
                f"FROM n JOIN bench_ids b ON b.k = n.i % {len(ids)}", (inputs, outputs))
        print(f"  {chunk + rows:,} predictions", flush=True)


class Sink:
    """A webhook receiver on 127.0.0.1 that notes when each body arrived."""

    def __init__(self) -> None:
        self.received: list[tuple[float, dict[str, Any]]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                sink.received.append((time.monotonic(), json.loads(body or b"{}")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, n: int, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= n:
                return self.received[n - 1][0]
            time.sleep(0.02)
        return None


def _floor_reads(inputs: Any) -> None:
    """The grouped reads a pass makes, once each, with none of its logic."""
    inputs.models()
    inputs.production()
    inputs.version_ids()
    key = next(iter(inputs.production()), None)
    report = inputs.drift((key, None)) if key is not None else None
    if key is not None:
        inputs.quality((key, None))
        inputs.performance((key, None))
    if report is not None:
        inputs.drift_features(report["id"])
    for window_s, days_back in ((600, 0), (3600, 0), (3600, 1)):
        inputs.rollups(window_s, days_back)
    inputs.jobs()
    inputs.last_finished_runs()
    inputs.daemon()


def measure_pass(root: Path) -> dict[str, float]:
    from monitoring.alert_pass import evaluate
    from store.alert_queries import AlertInputs
    from store.handle import open_store

    store = open_store(root)
    now = datetime.now(UTC)
    try:
        cpu, started = time.process_time(), time.perf_counter()
        first = evaluate(store, now=now)
        figures = {"first_s": time.perf_counter() - started, "first_cpu_s": time.process_time() - cpu}
        print(f"  first pass: {first.line()}")
        walls, cpus, floors = [], [], []
        for i in range(1, 11):
            cpu, started = time.process_time(), time.perf_counter()
            evaluate(store, now=now + timedelta(seconds=30 * i))
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
            started = time.perf_counter()
            with store.db.read() as session:
                _floor_reads(AlertInputs(session, now + timedelta(seconds=30 * i)))
            floors.append(time.perf_counter() - started)
        figures.update(median_s=statistics.median(walls), max_s=max(walls),
                       median_cpu_s=statistics.median(cpus), floor_s=statistics.median(floors))
        return figures
    finally:
        store.close()


def measure_latency(root: Path, sink: Sink, interval: int, trials: int) -> dict[str, Any]:
    from scheduler.jobs_service import JobSettings, add_job
    from store import reports
    from store.handle import open_store
    from store.tables import RegisteredModel

    store = open_store(root)
    add_job(store, "bench-alerts", "alerts", JobSettings(every=f"{interval}s"), actor="bench")
    (root / "watchkeeper.toml").write_text("[outbox]\ninterval_s = 0.2\n")
    env = {**os.environ, "WK_STORE": str(root)}
    daemon = subprocess.Popen([sys.executable, "-m", "console.cli", "scheduler"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    delays: list[float] = []
    try:
        time.sleep(interval + 5)  # the first pass in the daemon writes every state
        received = len(sink.received)
        for trial in range(trials):
            time.sleep(random.uniform(0, interval))
            with store.db.write() as session:
                model = session.get(RegisteredModel, 1 + 3 * trial + 1)  # not drifted before
                assert model is not None and model.id is not None
                reports.add_drift_report(session, _drift_report(model.id, datetime.now(UTC), True),
                                         _feature_rows("age"))
            began = time.monotonic()
            arrived = sink.wait_for(received + 1, interval * 2 + 30)
            if arrived is None:
                raise SystemExit(f"trial {trial}: nothing reached the webhook")
            delays.append(arrived - began)
            time.sleep(1)  # the grouped message has come; let any straggler of the pass land
            received = len(sink.received)
            print(f"  trial {trial + 1}: condition -> webhook {delays[-1]:.2f} s")
    finally:
        daemon.terminate()
        daemon.wait(30)
        store.close()
    import httpx

    body = sink.received[-1][1]
    posts = []
    with httpx.Client(trust_env=False) as client:
        for _ in range(20):
            started = time.perf_counter()
            client.post(sink.url, json=body)
            posts.append(time.perf_counter() - started)
    return {"median_s": statistics.median(delays), "max_s": max(delays),
            "post_floor_ms": statistics.median(posts) * 1000, "trials": trials}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictions", type=int, default=10_000_000)
    parser.add_argument("--interval", type=int, default=30, help="the alerts job's period, s")
    parser.add_argument("--trials", type=int, default=5)
    args = parser.parse_args()
    sink = Sink()
    cached = DATA / f"alerts-{MODELS}m-{args.predictions}p"
    if not (cached / "watchkeeper.db").exists():
        print(f"building {cached} ...")
        shutil.rmtree(cached, ignore_errors=True)
        build(cached, args.predictions, sink.url)
    root = DATA / "alerts-run"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(cached, root)
    from monitoring.channel_service import remove_channel
    from store.handle import open_store

    store = open_store(root)
    remove_channel(store, "hook", reason="bench: this run's receiver")
    from monitoring.channel_service import add_channel

    add_channel(store, "hook", "webhook", {"url": sink.url})
    store.close()
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    p = measure_pass(root)
    print(f"evaluation pass, 2,000 rules / 200 models / {args.predictions:,} predictions: "
          f"first {p['first_s']:.2f} s, then median {p['median_s']:.2f} s "
          f"(CPU {p['median_cpu_s']:.2f} s), max {p['max_s']:.2f} s; floor (the grouped reads "
          f"alone) {p['floor_s']:.3f} s = {p['median_s'] / p['floor_s']:.1f}x floor; "
          f"target < 2 s: {'met' if p['max_s'] < 2 else 'NOT met'}")
    lat = measure_latency(root, sink, args.interval, args.trials)
    print(f"condition -> webhook over {lat['trials']} trials, alerts every {args.interval} s: "
          f"median {lat['median_s']:.2f} s, max {lat['max_s']:.2f} s; bare POST floor "
          f"{lat['post_floor_ms']:.1f} ms; target < {args.interval + 1} s: "
          f"{'met' if lat['max_s'] < args.interval + 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
