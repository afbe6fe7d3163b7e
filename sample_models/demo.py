"""Build a demo store from the sample use cases: trained versions, aliases, a rollback,
a run that failed its gate, lineage and an audit trail, all made by the real code paths."""

from __future__ import annotations

import shutil
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


def build_demo(root: Path, actor: str | None = None) -> dict[str, Any]:
    """Rebuild the demo store at `root` and return a summary of what it holds."""
    from registry.aliases import promote, rollback
    from registry.training import train
    from store.handle import init_store

    _clear_previous_demo(root)
    store, _ = init_store(root)
    (root / DEMO_MARKER).write_text("built by 'wk demo'; rebuilt on every run\n")
    try:
        credit, demand = USE_CASES["credit"], USE_CASES["demand"]
        credit_name, demand_name = "credit-default", "store-demand"
        train(store, str(credit.spec), actor=actor)  # v1
        promote(store, credit_name, 1, "production", reason="initial release", actor=actor)
        train(store, str(credit.spec), ["C=0.5"], actor=actor)  # v2, a retrain
        promote(store, credit_name, 2, "staging", reason="candidate retrain", actor=actor)
        promote(store, credit_name, 2, "production", reason="retrain passed review", actor=actor)
        rollback(store, credit_name, "production",
                         reason="approval rate moved after release; back to v1", actor=actor)
        train(store, str(credit.spec), ["C=0.004"], actor=actor)  # fails the gate
        train(store, str(demand.spec), actor=actor)  # v1
        promote(store, demand_name, 1, "production", reason="initial release", actor=actor)
        train(store, str(demand.spec), ["learning_rate=0.05"], actor=actor)  # v2
        promote(store, demand_name, 2, "staging", reason="candidate retrain", actor=actor)
        _serve_an_hour(store, actor)
        return summarise(store)
    finally:
        store.close()


def _serve_an_hour(store: Any, actor: str | None) -> None:
    """Deployments (credit: v2 as a 10% canary; demand: v2 in shadow) and an hour of
    simulated online traffic through the real serving code, with labels for half."""
    from datetime import UTC, datetime

    from sample_models.traffic import simulate
    from serving.traffic import deployments

    deployments.set_deployment(store, "credit-default", mode="canary", challenger="2", share=0.1,
                               reason="canary the retrain on 10% before promoting", actor=actor)
    deployments.set_deployment(store, "store-demand", mode="shadow", challenger="2",
                               reason="compare the retrain on live traffic", actor=actor)
    now = datetime.now(UTC)
    simulate(store, "credit", "credit-default", now=now, seed=11)
    simulate(store, "demand", "store-demand", now=now, seed=12, per_minute=12)


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
