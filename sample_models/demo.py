"""Build a demo store from the sample use cases: trained versions, aliases, a rollback,
a run that failed its gate, lineage and an audit trail, all made by the real code paths."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sample_models import USE_CASES

DEMO_MARKER = ".wk-demo"


def default_demo_root() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("watchkeeper", appauthor=False)) / "demo"


def _clear_previous_demo(root: Path) -> None:
    from store.errors import Refused

    if not root.exists() or not any(root.iterdir()):
        return
    if not (root / DEMO_MARKER).exists():
        raise Refused(
            f"{root} holds files but is not a demo store (no {DEMO_MARKER} marker); the demo "
            "rebuilds its store from scratch, so give it an empty or demo folder with --store"
        )
    for name in ("watchkeeper.db", "watchkeeper.db-wal", "watchkeeper.db-shm"):
        (root / name).unlink(missing_ok=True)
    shutil.rmtree(root / "artifacts", ignore_errors=True)


#: What build_demo does, step by step (its `progress` is told each as it starts).
DEMO_STEPS = (
    "training credit-default v1",
    "training credit-default v2 (a retrain)",
    "training credit-default (fails its gate)",
    "training store-demand v1",
    "training store-demand v2",
    "an hour of credit-default traffic",
    "an hour of store-demand traffic",
    "checking the hour: drift, quality, performance",
    "summarising",
)


def build_demo(root: Path, actor: str | None = None,
               progress: Callable[[int, int, str], None] | None = None) -> dict[str, Any]:
    """Rebuild the demo store at `root` and return a summary of what it holds. `progress`
    is told (steps done, steps in all, the step now under way) at each of DEMO_STEPS and
    (n, n, "") at the end."""
    from registry.aliases import promote, rollback
    from registry.training import train
    from store.handle import init_store

    steps = iter(enumerate(DEMO_STEPS))

    def step() -> None:
        if progress is not None:
            done, note = next(steps, (len(DEMO_STEPS), ""))
            progress(done, len(DEMO_STEPS), note)

    _clear_previous_demo(root)
    store, _ = init_store(root)
    (root / DEMO_MARKER).write_text("built by 'wk demo'; rebuilt on every run\n")
    try:
        credit, demand = USE_CASES["credit"], USE_CASES["demand"]
        credit_name, demand_name = "credit-default", "store-demand"
        step()
        train(store, str(credit.spec), actor=actor)  # v1
        promote(store, credit_name, 1, "production", reason="initial release", actor=actor)
        step()
        train(store, str(credit.spec), ["C=0.5"], actor=actor)  # v2, a retrain
        promote(store, credit_name, 2, "staging", reason="candidate retrain", actor=actor)
        promote(store, credit_name, 2, "production", reason="retrain passed review", actor=actor)
        rollback(store, credit_name, "production",
                         reason="approval rate moved after release; back to v1", actor=actor)
        step()
        train(store, str(credit.spec), ["C=0.004"], actor=actor)  # fails the gate
        step()
        train(store, str(demand.spec), actor=actor)  # v1
        promote(store, demand_name, 1, "production", reason="initial release", actor=actor)
        step()
        train(store, str(demand.spec), ["learning_rate=0.05"], actor=actor)  # v2
        promote(store, demand_name, 2, "staging", reason="candidate retrain", actor=actor)
        now = _serve_an_hour(store, actor, step)
        step()
        check_the_hour(store, now, actor)
        step()
        summary = summarise(store)
        step()
        return summary
    finally:
        store.close()


def _serve_an_hour(store: Any, actor: str | None, step: Callable[[], None]) -> Any:
    """Deployments (credit: v2 as a 10% canary; demand: v2 in shadow) and an hour of
    simulated online traffic through the real serving code, with labels for half.

    One request is one row, as online traffic is, so the models predict a row at a time
    on one OpenMP thread: a gradient-boosting model's predict opens a parallel region per
    tree, and for a single row waking the thread pool for each of its hundreds of trees
    cost 20 times the work itself (130 ms a row instead of 6 on this 2-core machine with
    another process busy): 277 s of a 287 s demo build."""
    from datetime import UTC, datetime

    from threadpoolctl import threadpool_limits

    from sample_models.traffic import simulate
    from serving.traffic import deployments

    deployments.set_deployment(store, "credit-default", mode="canary", challenger="2", share=0.1,
                               reason="canary the retrain on 10% before promoting", actor=actor)
    deployments.set_deployment(store, "store-demand", mode="shadow", challenger="2",
                               reason="compare the retrain on live traffic", actor=actor)
    now = datetime.now(UTC)
    with threadpool_limits(limits=1, user_api="openmp"):
        step()
        simulate(store, "credit", "credit-default", now=now, seed=11)
        step()
        simulate(store, "demand", "store-demand", now=now, seed=12, per_minute=12)
    return now


#: The demo checks its hour of traffic in windows this long, so the console's drift and
#: performance screens have a short history to draw.
CHECK_WINDOW_MINUTES = 20


def check_the_hour(store: Any, now: Any, actor: str | None) -> None:
    """Drift, quality and performance of each model over the simulated hour, window by
    window, stored as reports (what the scheduler will do on a timetable)."""
    from datetime import timedelta

    from monitoring.drift_check import run_drift
    from monitoring.performance_check import run_performance
    from monitoring.quality_check import run_quality
    from monitoring.windows import Window

    for model in ("credit-default", "store-demand"):
        for k in range(60 // CHECK_WINDOW_MINUTES, 0, -1):
            end = now - timedelta(minutes=(k - 1) * CHECK_WINDOW_MINUTES)
            window = Window(end - timedelta(minutes=CHECK_WINDOW_MINUTES), end)
            run_drift(store, model, window, actor=actor)
            run_quality(store, model, window, actor=actor)
            run_performance(store, model, window, actor=actor)


def summarise(store: Any) -> dict[str, Any]:
    from registry.audit_log import audit_log
    from registry.datasets import list_datasets
    from registry.models import list_models
    from registry.runs import list_runs

    models = list_models(store)
    runs = {m["name"]: list_runs(store, m["name"]) for m in models}
    return {
        "store": str(store.location.root),
        "models": [
            {"name": m["name"], "versions": m["versions"], "aliases": m["aliases"],
             "runs": {status: sum(r["status"] == status for r in runs[m["name"]])
                      for status in sorted({r["status"] for r in runs[m["name"]]})}}
            for m in models
        ],
        "datasets": [{"name": d["name"], "rows": d["rows"], "fingerprint": d["fingerprint"][:16]}
                     for d in list_datasets(store)],
        "audit_events": len(audit_log(store, limit=10_000)),
        "deployments": [{"model": d["model"], "mode": d["mode"], "champion": d["champion"],
                         "challenger": d["challenger"], "share": d["challenger_share"]}
                        for d in _deployments(store)],
        "predictions": _prediction_count(store),
    }


def _deployments(store: Any) -> list[dict[str, Any]]:
    from serving.traffic import deployments

    return deployments.list_deployments(store)


def _prediction_count(store: Any) -> int:
    from store import predictions as predictions_q

    with store.db.read() as session:
        return predictions_q.count_predictions(session)
