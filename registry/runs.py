"""Training and reproduce runs: a model's runs, one run in full, and the newest of all."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from registry import views
from registry.datasets import datasets_of_run
from store import models as model_store
from store import runs as run_store
from store import versions as version_store
from store.rows import id_of

if TYPE_CHECKING:
    from store.handle import Store


def list_runs(store: Store, name: str, limit: int = 50) -> list[dict[str, Any]]:
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        runs = run_store.runs_of_model(session, id_of(model), limit=limit)
        versions = version_store.versions_of_runs(session, [id_of(r) for r in runs])
        version_of_run = {v.run_id: v.version for v in versions}
        return [views.run_view(r, name, version_of_run.get(r.id)) for r in runs]


def show_run(store: Store, run_id: int) -> dict[str, Any]:
    with store.db.read() as session:
        run = run_store.get_run(session, run_id)
        model = model_store.models_by_ids(session, [run.model_id])[run.model_id]
        versions = version_store.versions_of_runs(session, [run_id])
        out = views.run_view(run, model.name, versions[0].version if versions else None, with_log=True)
        out["datasets"] = datasets_of_run(session, run_id)
        return out


def recent_runs(store: Store, limit: int = 500) -> list[dict[str, Any]]:
    """Training runs of every model, newest first, in short form (no logs or metadata)."""
    with store.db.read() as session:
        rows = run_store.run_heads(session, limit)
    return [
        {"id": rid, "model": model, "kind": kind, "status": status, "reason": reason,
         "started_at": views.iso(started), "created_by": by, "version": version}
        for rid, model, kind, status, reason, started, by, version in rows
    ]


def last_duration(store: Store, name: str) -> float | None:
    """Seconds the model's latest finished training run took (a guide to how long the next
    one will take); None for a new model or one with no finished run."""
    from datetime import datetime

    from store.errors import NotFound

    try:
        runs = list_runs(store, name, limit=5)
    except NotFound:
        return None
    for run in runs:
        if (run["ended_at"] and run["started_at"] and run["kind"] == "train"
                and run["status"] in ("succeeded", "failed_gate")):
            took = (datetime.fromisoformat(run["ended_at"])
                    - datetime.fromisoformat(run["started_at"])).total_seconds()
            return took if took > 0 else None
    return None
