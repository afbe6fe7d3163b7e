"""A small, deterministic store for the console's snapshot tests.

Built through the real service code (ensure_model, insert_version, promote, rollback,
archive, each with its audit event), then every timestamp is rewritten to a fixed UTC
time, so the rows and the text the console renders are the same on every run and
machine. Artifacts are fixed bytes (the console never loads a model).

What it holds (times relative to the snapshot clock, 2026-11-21 09:00 UTC):

- credit-default: v1 production (after a rollback from v2), v2 staging, v3 archived;
  runs #1, #2, #4 registered v1-v3, run #6 failed its gate with a reason and a log.
- store-demand: v1 (no alias), v2 production (promoted over v1), runs #3 and #5.
- churn-risk: v1 registered from a file (no run); run #7 failed in the entry point.
- datasets: two snapshots of credit-applications, a credit holdout, store-demand-hourly
  and churn-accounts.
- serving: credit-default runs a canary (v1 champion, v2 challenger at 10%), store-demand
  is served by v2 alone; the 5 minutes before the clock hold 551 logged predictions with
  their rollups (credit-default 45/min on v1 and 5/min on v2 with one quarantined request,
  store-demand 60/min), written the way the serving logger writes them, with fixed ids,
  times and latencies; the first minute of credit-default's champion rows has labels.
  DETAIL_PREDICTION is the first of them. Before them, three hours of history for the
  charts (history_entries), and store-demand's planner sends one request of 20 rows a
  minute throughout, so its requests and rows differ.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import select

from registry.views import iso
from store import audit
from store.handle import Store, init_store
from store.tables import (
    Alias,
    AliasChange,
    AuditEvent,
    Dataset,
    Deployment,
    ModelVersion,
    RegisteredModel,
    TrainingRun,
)

ACTOR = "oncall"
#: The clock the snapshot tests freeze the console at.
SNAPSHOT_NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
#: Every stored time is this plus a fixed offset per row.
BASE = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
#: Logged predictions fill the 5 minutes before the clock (the console's traffic window).
TRAFFIC_START = SNAPSHOT_NOW - timedelta(minutes=5)

ENVIRONMENT: dict[str, Any] = {
    "python": "3.11.9",
    "implementation": "CPython",
    "platform": "Linux-6.8.0-x86_64-with-glibc2.39",
    "executable": "/opt/watchkeeper/.venv/bin/python",
    "packages": {"scikit-learn": "1.5.2", "numpy": "2.1.3", "pandas": "2.2.3", "skops": "0.10.0"},
}


def _code(commit: str, source: str, dirty: bool = False) -> dict[str, Any]:
    return {"git_commit": commit, "dirty": dirty, "repository": "/srv/ml/models",
            "source_file": f"/srv/ml/models/{source}"}


def _fingerprint(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def _num(name: str, lo: float, hi: float, dtype: str = "float64") -> dict[str, Any]:
    return {"name": name, "dtype": dtype, "kind": "numeric", "nullable": False, "min": lo, "max": hi}


def _cat(name: str, categories: list[str]) -> dict[str, Any]:
    return {"name": name, "dtype": "object", "kind": "categorical", "nullable": False,
            "categories": categories, "categories_truncated": False}


CREDIT_SIG_V1 = {"columns": [
    _num("income", 8000.0, 412000.0),
    _num("age", 18, 79, "int64"),
    _cat("purpose", ["car", "education", "home"]),
]}
CREDIT_SIG_V2 = {"columns": [
    _num("income", 8000.0, 455000.0),
    _num("age", 18, 79, "int64"),
    _cat("purpose", ["car", "education", "home", "medical"]),
    _num("debt_ratio", 0.0, 3.2),
]}
DEMAND_SIG = {"columns": [
    _num("hour", 0, 23, "int64"),
    _num("temperature", -12.5, 38.0),
    _cat("store", ["berlin-01", "hamburg-02", "munich-03"]),
]}
CHURN_SIG = {"columns": [_num("tenure_months", 0, 120, "int64"), _num("monthly_fee", 4.99, 89.0)]}

CREDIT_COLUMNS = [{"name": c["name"], "dtype": c["dtype"]} for c in CREDIT_SIG_V2["columns"]] + [
    {"name": "default", "dtype": "int64"}]
DEMAND_COLUMNS = [{"name": c["name"], "dtype": c["dtype"]} for c in DEMAND_SIG["columns"]] + [
    {"name": "units", "dtype": "float64"}]

FAILED_GATE_REASON = ("roc_auc 0.7012 is below the minimum 0.75; roc_auc 0.7012 is worse than "
                      "production v1 (0.8134) by more than 0.01")
FAILED_GATE_LOG = "\n".join([
    "train rows 9984, holdout rows 2496, split time",
    "warning: ConvergenceWarning: lbfgs failed to converge (status=1)",
    "metrics roc_auc=0.7012, accuracy=0.7420, f1=0.4105",
    "production v1 on the same rows: roc_auc=0.8134, accuracy=0.8010, f1=0.5322",
    f"gate failed: {FAILED_GATE_REASON}",
])
FAILED_RUN_REASON = ("the entry point churn.train:fit raised ValueError: Input X contains NaN "
                     "(column monthly_fee)")


def _dataset(session: Any, name: str, label: str, rows: int, uri: str,
             columns: list[dict[str, Any]]) -> int:
    row = Dataset(name=name, uri=uri, fingerprint=_fingerprint(label), rows=rows, columns=columns)
    session.add(row)
    session.flush()
    return row.id  # type: ignore[return-value]


def _run(store: Store, model: str, *, params: dict[str, Any], code: dict[str, Any],
         train_ds: int, eval_ds: int, spec_path: str) -> int:
    """A started training run with its run.start audit event (as registry.training writes)."""
    from registry.models import ensure_model

    with store.db.write() as session:
        m = ensure_model(session, model, actor=ACTOR)
        run = TrainingRun(model_id=m.id, kind="train", status="running",  # type: ignore[arg-type]
                          spec={"model": model, "params": params}, spec_path=spec_path,
                          params=params, code_version=code, environment=ENVIRONMENT,
                          train_dataset_id=train_ds, eval_dataset_id=eval_ds, created_by=ACTOR)
        session.add(run)
        session.flush()
        audit.record(session, actor=ACTOR, action="run.start", target=f"model/{model}/run/{run.id}",
                     after={"run_id": run.id, "spec": spec_path, "params": params})
        return run.id  # type: ignore[return-value]


def _finish(store: Store, model: str, run_id: int, *, status: str, reason: str, log: str,
            metrics: dict[str, float] | None = None, champion: dict[str, float] | None = None,
            register: dict[str, Any] | None = None) -> None:
    """End a run; a succeeded run registers its version in the same transaction."""
    from registry.registration import insert_version
    from store import models as model_store
    from store import runs as run_store

    with store.db.write() as session:
        run = run_store.get_run(session, run_id)
        run.metrics, run.champion_metrics = metrics, champion
        run.split = {"method": "time", "train_rows": 9984, "eval_rows": 2496}
        version = None
        if register is not None:
            m = model_store.get_model(session, model)
            artifact = store.artifacts.put_bytes(
                f"watchkeeper console fixture: {model} run {run_id}\n".encode())
            version = insert_version(
                session, m, artifact, actor=ACTOR, flavor=register["flavor"],
                signature=register["signature"], example=None, metrics=metrics,
                params=run.params, run_id=run_id, source="train", code_version=run.code_version,
                environment=ENVIRONMENT, description=register.get("description", ""),
            ).version
            reason = f"registered v{version}"
        run.status, run.reason, run.log = status, reason, log
        session.add(run)
        audit.record(session, actor=ACTOR, action="run.finish", target=f"model/{model}/run/{run_id}",
                     after={"run_id": run_id, "status": status, "reason": reason, "version": version})


def _train(store: Store, model: str, *, params: dict[str, Any], metrics: dict[str, float],
           champion: dict[str, float] | None, code: dict[str, Any], train_ds: int, eval_ds: int,
           flavor: str, signature: dict[str, Any], spec_path: str) -> None:
    run_id = _run(store, model, params=params, code=code, train_ds=train_ds, eval_ds=eval_ds,
                  spec_path=spec_path)
    log = "\n".join([
        "train rows 9984, holdout rows 2496, split time",
        "metrics " + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items()),
        "gate passed",
    ])
    _finish(store, model, run_id, status="succeeded", reason="", log=log, metrics=metrics,
            champion=champion, register={"flavor": flavor, "signature": signature})


LOGREG = "sklearn.linear_model._logistic.LogisticRegression"
HGB = "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor"


def build_console_store(root: Path) -> Store:
    """Create the store at `root` (WK_DATABASE_URL must be unset) and return it open."""
    from registry.aliases import promote, rollback
    from registry.models import ensure_model
    from registry.registration import insert_version
    from registry.versions import archive

    store, created = init_store(root)
    if not created or not store.db.is_sqlite:
        store.close()
        raise RuntimeError(f"build_console_store needs a fresh SQLite store, not {root}")

    with store.db.write() as session:
        ensure_model(session, "credit-default", actor=ACTOR, owner="risk-ml",
                             description="probability of default on new credit applications",
                             tags=["credit", "tier-1"], task="classification")
        ensure_model(session, "store-demand", actor=ACTOR, owner="forecasting",
                             description="hourly units per store", tags=["retail"],
                             task="regression")
        credit_oct = _dataset(session, "credit-applications", "credit-applications-2026-10", 12480,
                              "file:///srv/data/credit/applications-2026-10.parquet", CREDIT_COLUMNS)
        credit_nov = _dataset(session, "credit-applications", "credit-applications-2026-11", 13105,
                              "file:///srv/data/credit/applications-2026-11.parquet", CREDIT_COLUMNS)
        holdout = _dataset(session, "credit-holdout", "credit-holdout-2026-q3", 2496,
                           "file:///srv/data/credit/holdout-2026-q3.parquet", CREDIT_COLUMNS)
        demand = _dataset(session, "store-demand-hourly", "store-demand-hourly-2026-11", 8760,
                          "postgresql://warehouse/retail?table=demand_hourly", DEMAND_COLUMNS)
        churn = _dataset(session, "churn-accounts", "churn-accounts-2026-11", 50211,
                         "file:///srv/data/churn/accounts-2026-11.csv",
                         [{"name": "tenure_months", "dtype": "int64"},
                          {"name": "monthly_fee", "dtype": "float64"}])

    credit_spec = "/srv/ml/models/credit/spec.toml"
    demand_spec = "/srv/ml/models/demand/spec.toml"
    # run 1 -> credit-default v1
    _train(store, "credit-default", params={"C": 1.0, "max_iter": 500}, champion=None,
           metrics={"roc_auc": 0.8134, "accuracy": 0.801, "f1": 0.5322},
           code=_code("4f1c2e9a7b3d5e6f708192a3b4c5d6e7f8091a2b", "credit/train.py"),
           train_ds=credit_oct, eval_ds=holdout, flavor=LOGREG, signature=CREDIT_SIG_V1,
           spec_path=credit_spec)
    promote(store, "credit-default", 1, "production", reason="initial release", actor=ACTOR)
    promote(store, "credit-default", 1, "staging", reason="first candidate", actor=ACTOR)
    # run 2 -> credit-default v2
    _train(store, "credit-default", params={"C": 0.5, "max_iter": 500},
           champion={"roc_auc": 0.8134, "accuracy": 0.801, "f1": 0.5322},
           metrics={"roc_auc": 0.8291, "accuracy": 0.8127, "f1": 0.5518},
           code=_code("a9e03b71c2d4f5061728394a5b6c7d8e9f0a1b2c", "credit/train.py", dirty=True),
           train_ds=credit_nov, eval_ds=holdout, flavor=LOGREG, signature=CREDIT_SIG_V2,
           spec_path=credit_spec)
    promote(store, "credit-default", 2, "staging", reason="candidate retrain", actor=ACTOR)
    promote(store, "credit-default", 2, "production", reason="retrain passed review",
                    actor=ACTOR)
    rollback(store, "credit-default", "production",
                     reason="approval rate moved after release; back to v1", actor=ACTOR)
    # run 3 -> store-demand v1
    _train(store, "store-demand", params={"learning_rate": 0.1, "max_iter": 200}, champion=None,
           metrics={"mae": 3.412, "rmse": 5.087},
           code=_code("0c7d9e1f2a3b4c5d6e7f8091a2b3c4d5e6f70819", "demand/train.py"),
           train_ds=demand, eval_ds=demand, flavor=HGB, signature=DEMAND_SIG, spec_path=demand_spec)
    promote(store, "store-demand", 1, "production", reason="initial release", actor=ACTOR)
    # run 4 -> credit-default v3 (archived below)
    _train(store, "credit-default", params={"C": 2.0, "max_iter": 500},
           champion={"roc_auc": 0.8134, "accuracy": 0.801, "f1": 0.5322},
           metrics={"roc_auc": 0.9712, "accuracy": 0.9404, "f1": 0.8831},
           code=_code("b1c2d3e4f5a697881234567890abcdef12345678", "credit/train.py"),
           train_ds=credit_nov, eval_ds=holdout, flavor=LOGREG, signature=CREDIT_SIG_V2,
           spec_path=credit_spec)
    archive(store, "credit-default", 3, reason="label leak: default_flag in features",
                    actor=ACTOR)
    # run 5 -> store-demand v2, promoted to production over v1
    _train(store, "store-demand", params={"learning_rate": 0.05, "max_iter": 400},
           champion={"mae": 3.412, "rmse": 5.087}, metrics={"mae": 3.118, "rmse": 4.902},
           code=_code("0c7d9e1f2a3b4c5d6e7f8091a2b3c4d5e6f70819", "demand/train.py"),
           train_ds=demand, eval_ds=demand, flavor=HGB, signature=DEMAND_SIG, spec_path=demand_spec)
    promote(store, "store-demand", 2, "production", reason="lower mae on the holdout",
                    actor=ACTOR)
    # run 6: credit-default fails its gate
    run6 = _run(store, "credit-default", params={"C": 0.004, "max_iter": 500},
                code=_code("c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6", "credit/train.py"),
                train_ds=credit_nov, eval_ds=holdout, spec_path=credit_spec)
    _finish(store, "credit-default", run6, status="failed_gate", reason=FAILED_GATE_REASON,
            log=FAILED_GATE_LOG, metrics={"roc_auc": 0.7012, "accuracy": 0.742, "f1": 0.4105},
            champion={"roc_auc": 0.8134, "accuracy": 0.801, "f1": 0.5322})
    # churn-risk: v1 registered from a file (no run), then run 7 fails in the user's code
    artifact = store.artifacts.put_bytes(b"watchkeeper console fixture: churn-risk v1\n")
    with store.db.write() as session:
        model = ensure_model(session, "churn-risk", actor=ACTOR, owner="growth",
                                     description="accounts likely to cancel", task="classification")
        insert_version(
            session, model, artifact, actor=ACTOR,
            flavor="sklearn.ensemble._forest.RandomForestClassifier", signature=CHURN_SIG,
            example=None, metrics={"roc_auc": 0.7765}, params={"n_estimators": 300, "max_depth": 8},
            run_id=None, source="register",
            code_version={"git_commit": None, "dirty": None, "repository": None,
                          "note": "no source file"},
            environment=ENVIRONMENT, reason="imported from the old scoring box",
        )
    run7 = _run(store, "churn-risk", params={"n_estimators": 500, "max_depth": 12},
                code=_code("d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607", "churn/train.py"),
                train_ds=churn, eval_ds=churn, spec_path="/srv/ml/models/churn/spec.toml")
    _finish(store, "churn-risk", run7, status="failed", reason=FAILED_RUN_REASON,
            log="train rows 40168, holdout rows 10043, split random\n"
                "Traceback (most recent call last):\n"
                '  File "/srv/ml/models/churn/train.py", line 31, in fit\n'
                "ValueError: Input X contains NaN (column monthly_fee)")

    # serving: a canary of credit-default v2, then five minutes of traffic
    from serving.traffic import deployments

    deployments.set_deployment(store, "credit-default", challenger=2, mode="canary", share=0.1,
                               reason="v2 again, with the approval-rate fix", actor=ACTOR)
    log_traffic(store)

    normalise_times(store)
    from monitoring_reports import add_monitoring_reports  # drift, quality and performance reports

    add_monitoring_reports(store)
    return store


def prediction_id(at: datetime, row: int = 0) -> str:
    """A UUIDv7 for a fixed time (serving.scoring.ids' layout), its random part from the time
    (and the row of a request of several), so the ids are the same on every build."""
    ms = int(at.timestamp() * 1000)
    seed = str(ms) if row == 0 else f"{ms}/{row}"
    tail = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8]) & ((1 << 62) - 1)
    return str(uuid.UUID(int=ms << 80 | 0x7 << 76 | 0b10 << 62 | tail))


#: The first labelled prediction (credit-default v1, champion, 08:55:00 UTC).
DETAIL_PREDICTION = prediction_id(TRAFFIC_START)

#: (model, version, route, requests per minute, median latency ms, ms offset in the second)
STREAMS = (("credit-default", 1, "champion", 45, 2.4, 0), ("credit-default", 2, "challenger", 5, 3.6, 7),
           ("store-demand", 2, "champion", 60, 6.5, 13))


def _inputs(model: str, version: int, rng: random.Random) -> dict[str, Any]:
    if model == "store-demand":
        return {"hour": rng.randrange(24), "temperature": round(rng.uniform(-5, 30), 1),
                "store": rng.choice(["berlin-01", "hamburg-02", "munich-03"])}
    row: dict[str, Any] = {"income": round(rng.uniform(12000, 180000), -2), "age": rng.randrange(19, 75),
                           "purpose": rng.choice(["car", "education", "home"])}
    if version == 2:
        row["debt_ratio"] = round(rng.uniform(0, 1.4), 2)
    return row


def log_traffic(store: Store) -> None:
    """Five minutes of answered requests (one row each) and one refused request, committed
    with their rollups by serving.log.logger.commit_entries, as the server does; then labels
    for credit-default's first minute, as /v1/feedback writes them (at a fixed time)."""
    from serving.log.logger import LogEntry, commit_entries
    from serving.scoring.core import rejection_entry
    from serving.scoring.validation import RowError
    from store import predictions as predictions_q
    from store.prediction_log import db_time

    rng = random.Random(20261121)
    with store.db.read() as session:
        ids = {(name, number): (model_id, version_id) for name, number, model_id, version_id in session.exec(
            select(RegisteredModel.name, ModelVersion.version, ModelVersion.model_id, ModelVersion.id)
            .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)).all()}
    entries, labels = [], []
    for model, version, route, per_minute, median, offset in STREAMS:
        model_id, version_id = ids[(model, version)]
        for i in range(per_minute * 5):
            at = TRAFFIC_START + timedelta(milliseconds=i * 60_000 // per_minute + offset)
            latency = round(median * rng.lognormvariate(0, 0.35), 3)
            row = _inputs(model, version, rng)
            if model == "store-demand":
                score = round(max(0.0, 18 + 0.9 * row["hour"] + rng.gauss(0, 4)), 2)
                outputs: dict[str, Any] = {"value": score}
            else:
                score = round(min(0.97, max(0.02, rng.betavariate(2, 6))), 4)
                outputs = {"class": int(score >= 0.5), "probabilities": {"0": round(1 - score, 4), "1": score}}
            pid = prediction_id(at)
            entry = LogEntry(model_id=model_id)
            entry.rows.append((pid, db_time("sqlite", at), model_id, version_id, route, "api", None, 0, None,
                               json_text(row), json_text(outputs), latency))
            entry.records.append((model_id, version_id, route, at, latency, score, False))
            entries.append(entry)
            if model == "credit-default" and route == "champion" and i < per_minute:
                labels.append((pid, "1" if rng.random() < score + 0.1 else "0"))
    model_id, version_id = ids[("credit-default", 2)]
    entries.append(rejection_entry(
        model_id=model_id, version_id=version_id, route="challenger", source="api", request_id=None,
        errors=[RowError(0, "age", "131 is above the training maximum 79")],
        rows=[{"income": 52000.0, "age": 131, "purpose": "car", "debt_ratio": 0.4}], raw=None,
        at=TRAFFIC_START + timedelta(minutes=3, seconds=20), keep_payload=True))
    commit_entries(store.db, entries)
    commit_entries(store.db, history_entries(ids))
    with store.db.write() as session:
        for pid, label in labels:
            predictions_q.label_by_prediction_id(session, pid, label, TRAFFIC_START + timedelta(minutes=3))


#: The charts' window: three hours before the clock.
HISTORY_START = SNAPSHOT_NOW - timedelta(hours=3)
#: store-demand's planner sends one request of this many rows at second 30 of every minute.
PLANNER_ROWS = 20


def history_entries(ids: dict[tuple[str, int], tuple[int, int]]) -> list[Any]:
    """The three hours the charts show (a random stream of its own, so the rows of the last
    five minutes stay as they were): credit-default's champion ramps from 10 to 40 requests
    a minute with a slow spell 07:30-07:50 (latency three times as high) and no traffic
    07:00-07:10; its challenger has 4 a minute from 08:30 (the canary) to the last five
    minutes; store-demand's planner sends one request of PLANNER_ROWS rows every minute of the
    three hours, the last five included (its requests and rows differ)."""
    from serving.log.logger import LogEntry
    from store.prediction_log import db_time

    rng = random.Random(3)
    out = []

    def request(model: str, version: int, route: str, at: datetime, rows: int, median: float) -> None:
        model_id, version_id = ids[(model, version)]
        entry = LogEntry(model_id=model_id)
        latency = round(median * rng.lognormvariate(0, 0.35), 3)
        for r in range(rows):
            row = _inputs(model, version, rng)
            score = round(rng.uniform(0.05, 0.9), 4) if model == "credit-default" else round(rng.uniform(10, 40), 2)
            outputs: dict[str, Any] = ({"value": score} if model == "store-demand" else
                                       {"class": int(score >= 0.5), "probabilities": {"0": round(1 - score, 4), "1": score}})
            entry.rows.append((prediction_id(at, r), db_time("sqlite", at), model_id, version_id, route, "api", None, r,
                               None, json_text(row), json_text(outputs), latency))
            entry.records.append((model_id, version_id, route, at, latency, score, False))
        out.append(entry)

    minutes = int((TRAFFIC_START - HISTORY_START).total_seconds() // 60)
    for m in range(minutes):
        start = HISTORY_START + timedelta(minutes=m)
        if not 60 <= m < 70:
            per_minute = 10 + 30 * m // minutes
            slow = 90 <= m < 110
            for i in range(per_minute):
                request("credit-default", 1, "champion", start + timedelta(milliseconds=i * 60_000 // per_minute + 3),
                        1, 7.2 if slow else 2.4)
        if m >= 150:
            for i in range(4):
                request("credit-default", 2, "challenger", start + timedelta(milliseconds=i * 15_000 + 11), 1, 3.6)
    for m in range(minutes + 5):
        request("store-demand", 2, "champion", HISTORY_START + timedelta(minutes=m, seconds=30, milliseconds=17),
                PLANNER_ROWS, 9.0)
    return out


def json_text(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()


def _timeline(events: list[tuple[int, str]]) -> dict[int, datetime]:
    """A fixed time for every audit event, in id order: the end of a run (and the version
    it registers) comes 4 minutes after its start; anything else 3 hours after the last."""
    times: dict[int, datetime] = {}
    when = BASE
    for event_id, action in events:
        when += timedelta(minutes=4) if action in {"version.register", "run.finish"} else timedelta(hours=3)
        times[event_id] = when
    return times


def normalise_times(store: Store) -> None:
    """Replace every wall-clock time the build wrote with a fixed one.

    The audit log is the timeline (see _timeline); each row takes the time of the event
    written in its transaction: a model its model.create, a run its run.start and
    run.finish, a version its version.register and version.archive, an alias change the
    matching alias event, an alias its last change. Datasets date from the first event.
    """
    with store.db.write() as session:
        events = session.exec(
            select(AuditEvent.id, AuditEvent.action, AuditEvent.target).order_by(AuditEvent.id)
        ).all()
        times = _timeline([(i, action) for i, action, _ in events])
        by_target: dict[tuple[str, str], datetime] = {(a, t): times[i] for i, a, t in events}
        alias_events = [times[i] for i, a, _ in events if a in {"alias.promote", "alias.rollback"}]

        for i in times:
            session.execute(update(AuditEvent).where(AuditEvent.id == i).values(at=times[i]))
        for i, name in session.exec(select(RegisteredModel.id, RegisteredModel.name)).all():
            session.execute(update(RegisteredModel).where(RegisteredModel.id == i)
                            .values(created_at=by_target[("model.create", f"model/{name}")]))
        # model.create records the model's row, created_at included
        for event in session.exec(select(AuditEvent).where(AuditEvent.action == "model.create")).all():
            if event.after and "created_at" in event.after:
                when = times[event.id]  # type: ignore[index]
                event.after = {**event.after, "created_at": iso(when)}
                session.add(event)
        for i in session.exec(select(Dataset.id)).all():
            session.execute(update(Dataset).where(Dataset.id == i)
                            .values(created_at=BASE + timedelta(minutes=i)))
        names = dict(session.exec(select(RegisteredModel.id, RegisteredModel.name)).all())
        for i, model_id in session.exec(select(TrainingRun.id, TrainingRun.model_id)).all():
            target = f"model/{names[model_id]}/run/{i}"
            session.execute(update(TrainingRun).where(TrainingRun.id == i).values(
                started_at=by_target[("run.start", target)],
                ended_at=by_target.get(("run.finish", target))))
        rows = session.exec(select(ModelVersion.id, ModelVersion.model_id, ModelVersion.version)).all()
        for i, model_id, number in rows:
            target = f"model/{names[model_id]}/v{number}"
            session.execute(update(ModelVersion).where(ModelVersion.id == i).values(
                created_at=by_target[("version.register", target)],
                archived_at=by_target.get(("version.archive", target))))
        changes = session.exec(
            select(AliasChange.id, AliasChange.model_id, AliasChange.alias).order_by(AliasChange.id)
        ).all()
        if len(changes) != len(alias_events):
            raise RuntimeError(f"{len(changes)} alias changes but {len(alias_events)} alias events")
        last: dict[tuple[int, str], datetime] = {}
        for (i, model_id, alias), when in zip(changes, alias_events, strict=True):
            session.execute(update(AliasChange).where(AliasChange.id == i).values(at=when))
            last[(model_id, alias)] = when
        for (model_id, alias), when in last.items():
            session.execute(update(Alias).where(Alias.model_id == model_id, Alias.name == alias)
                            .values(updated_at=when))
        # a deployment dates from its last deployment event
        for model_id, name in names.items():
            target = f"model/{name}/deployment"
            when = max((times[i] for i, _a, t in events if t == target), default=None)
            if when is not None:
                session.execute(update(Deployment).where(Deployment.model_id == model_id)
                                .values(updated_at=when))


def utc_time_zone() -> Iterator[None]:
    """Times in tables are local time: render them in UTC, then restore the zone (a
    module's autouse fixture: `utc_time_zone = pytest.fixture(...)(console_store.utc_time_zone)`)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()
