"""Lineage: where a version came from (datasets -> run -> version -> aliases)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from registry import views
from registry.datasets import datasets_of_run
from registry.versions import resolve_version
from store import aliases as alias_store
from store import models as model_store
from store import runs as run_store
from store.rows import id_of

if TYPE_CHECKING:
    from store.handle import Store


def lineage(store: Store, name: str, version: str | int) -> dict[str, Any]:
    """Where a version came from: datasets -> run -> version -> aliases."""
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        row = resolve_version(session, model, version)
        run = run_store.get_run(session, row.run_id) if row.run_id else None
        return {
            "model": name,
            "version": row.version,
            "datasets": datasets_of_run(session, row.run_id),
            "run": views.run_view(run, name, row.version) if run else None,
            "artifact": {"sha256": row.artifact_sha256, "source": row.source},
            "aliases": sorted(alias_store.alias_names(session, id_of(row))),
            "code_version": row.code_version,
        }
