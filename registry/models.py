"""Registered models: their names, their creation, the list of them and one in full."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from registry import views
from registry.datasets import datasets_of_run
from store import aliases as alias_store
from store import audit
from store import models as model_store
from store import runs as run_store
from store import versions as version_store
from store.names import check_name
from store.rows import id_of
from store.tables import RegisteredModel
from store.types import utcnow
from store.vocabulary import AuditAction

if TYPE_CHECKING:
    from sqlmodel import Session

    from store.handle import Store


def check_model_name(name: str) -> None:
    check_name(name, what="model name", example="churn")

def ensure_model(
    session: Session,
    name: str,
    *,
    actor: str,
    owner: str = "",
    description: str = "",
    tags: list[str] | None = None,
    task: str = "",
) -> RegisteredModel:
    """The model row, created (and audited) on first use."""
    model = model_store.find_model(session, name)
    if model is not None:
        if task and not model.task:
            model.task = task
            session.add(model)
        return model
    check_model_name(name)
    model = RegisteredModel(
        name=name, owner=owner or actor, description=description, tags=tags or [], task=task,
        created_by=actor,
    )
    session.add(model)
    session.flush()
    audit.record(session, actor=actor, action=AuditAction.MODEL_CREATE, target=audit.target(name),
                 after=views.model_view(model))
    return model

def list_models(store: Store) -> list[dict[str, Any]]:
    """Every model with its version count, latest version, aliases and last run; reads
    summary columns only (no version metadata), so it stays fast with many versions."""
    with store.db.read() as session:
        stats = version_store.version_stats(session)
        aliases: dict[int, dict[str, int]] = {}
        for mid, alias, number in alias_store.alias_numbers(session):
            aliases.setdefault(mid, {})[alias] = number
        runs = run_store.last_run_summaries(session)
        out = []
        for mid, name, owner, task, created_at, team in model_store.model_list_rows(session):
            count, latest, newest = stats.get(mid, (0, None, None))
            out.append({
                "name": name,
                "owner": owner,
                "team": team,
                "task": task,
                "versions": count,
                "latest_version": latest,
                "aliases": dict(sorted(aliases.get(mid, {}).items())),
                "last_run": views.last_run_view(runs.get(mid)),
                "updated_at": views.iso(newest or created_at),
            })
        return out

def show_model(store: Store, name: str) -> dict[str, Any]:
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        model_id = id_of(model)
        rows = list(version_store.list_versions(session, model_id))
        by_id = {v.id: v for v in rows}
        alias_rows = alias_store.aliases_of_model(session, model_id)
        held = alias_store.names_by_version(alias_rows)
        runs = run_store.runs_of_model(session, model_id, limit=10)
        version_of_run = {v.run_id: v.version for v in rows if v.run_id}
        latest = rows[0] if rows else None
        detail = None
        if latest is not None:
            detail = views.version_view(latest, name, held.get(id_of(latest), []))
            detail["datasets"] = datasets_of_run(session, latest.run_id)
        return {
            **views.model_view(model),
            "aliases": {a.name: by_id[a.version_id].version for a in alias_rows},
            "versions": [views.version_row(v, name, held.get(id_of(v), [])) for v in rows],
            "latest_version": detail,
            "runs": [views.run_view(r, name, version_of_run.get(id_of(r))) for r in runs],
        }

def overview(store: Store, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per model: production and staging versions, their age, the last training run and
    its result, and gate failures in the last 30 days. Reads only summary columns."""
    now = now or utcnow()
    with store.db.read() as session:
        # Column reads only: no ORM rows, JSON columns or run logs. On 200 models with
        # 2,000 versions this took the refresh from about 50 ms to about 12 ms
        # (bench/console_paint.py, bench/RESULTS.md).
        models = model_store.model_heads(session)
        counts = version_store.version_counts(session)
        held: dict[int, dict[str, tuple[int, Any] | None]] = {}
        for mid, alias, number, created in alias_store.alias_targets(session, ("production", "staging")):
            held.setdefault(mid, {})[alias] = (number, created) if number is not None else None
        runs = run_store.last_run_summaries(session)
        failures = run_store.failed_gate_counts(session, now - timedelta(days=30))
        out = []
        for mid, name, owner in models:
            prod = held.get(mid, {}).get("production")
            staging = held.get(mid, {}).get("staging")
            out.append({
                "name": name,
                "owner": owner,
                "versions": counts.get(mid, 0),
                "production": prod[0] if prod else None,
                "production_since": views.iso(prod[1]) if prod else None,
                "staging": staging[0] if staging else None,
                "last_run": views.last_run_view(runs.get(mid)),
                "gate_failures_30d": failures.get(mid, 0),
            })
        return out
