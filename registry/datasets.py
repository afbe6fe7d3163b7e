"""Datasets: the data snapshots runs trained and evaluated on, and what was built on them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from registry import views
from store import aliases as alias_store
from store import datasets as dataset_store
from store import models as model_store
from store import runs as run_store
from store import versions as version_store
from store.errors import Listing, NotFound, see
from store.rows import id_of
from store.tables import Dataset

if TYPE_CHECKING:
    from sqlmodel import Session

    from store.handle import Store


def datasets_of_run(session: Session, run_id: int | None) -> dict[str, Any]:
    """The views of a run's datasets by role ("train", "eval"); {} without a run."""
    if run_id is None:
        return {}
    run = run_store.get_run(session, run_id)
    out: dict[str, Any] = {}
    for role, ds_id in (("train", run.train_dataset_id), ("eval", run.eval_dataset_id)):
        if ds_id is not None and (ds := dataset_store.dataset_by_id(session, ds_id)) is not None:
            out[role] = views.dataset_view(ds)
    return out


def find_datasets(session: Session, ref: str) -> list[Dataset]:
    """The datasets a reference names: a name, else a fingerprint prefix, else an id."""
    rows = list(dataset_store.datasets_named(session, ref))
    if not rows and re.fullmatch(r"[0-9a-f]{6,64}", ref):
        rows = list(dataset_store.datasets_by_fingerprint_prefix(session, ref))
    if not rows and ref.isdigit() and (ds := dataset_store.dataset_by_id(session, int(ref))):
        rows = [ds]
    if not rows:
        known = sorted({d.name for d in dataset_store.list_datasets(session)})
        raise NotFound(
            f"dataset {ref!r} does not exist (datasets: {', '.join(known[:10]) or 'none yet'}); "
            "give a name, a fingerprint prefix or an id",
            see=see(Listing.DATASETS),
        )
    return rows


def list_datasets(store: Store) -> list[dict[str, Any]]:
    with store.db.read() as session:
        rows = list(dataset_store.list_datasets(session))
        runs = run_store.runs_using_datasets(session, [id_of(d) for d in rows])
        versions = version_store.versions_of_runs(session, [id_of(r) for r in runs])
        run_ds = {r.id: {r.train_dataset_id, r.eval_dataset_id} for r in runs}
        count: dict[int, int] = {}
        for v in versions:
            for ds in run_ds.get(v.run_id, set()):
                if ds is not None:
                    count[ds] = count.get(ds, 0) + 1
        return [{**views.dataset_view(d), "versions_trained": count.get(id_of(d), 0)} for d in rows]


def dataset_usage(store: Store, ref: str) -> dict[str, Any]:
    """What was built on a dataset: runs, the versions they registered, and the aliases
    pointing at those versions (the question asked when data must be deleted)."""
    with store.db.read() as session:
        datasets = find_datasets(session, ref)
        ids = [id_of(d) for d in datasets]
        runs = list(run_store.runs_using_datasets(session, ids))
        versions = list(version_store.versions_of_runs(session, [id_of(r) for r in runs]))
        models = model_store.models_by_ids(session, list({r.model_id for r in runs}))
        alias_of = alias_store.names_by_version(
            alias_store.aliases_pointing_at(session, [id_of(v) for v in versions]))
        version_of_run = {v.run_id: v for v in versions}
        trained = []
        for r in runs:
            v = version_of_run.get(r.id)
            role = "train" if r.train_dataset_id in ids else "eval"
            trained.append({
                "model": models[r.model_id].name,
                "run_id": r.id,
                "run_status": r.status,
                "role": role,
                "dataset_id": r.train_dataset_id if role == "train" else r.eval_dataset_id,
                "version": v.version if v else None,
                "version_status": v.status if v else None,
                "aliases": sorted(alias_of.get(id_of(v), [])) if v else [],
            })
        return {
            "datasets": [views.dataset_view(d) for d in datasets],
            "used_by": trained,
            "versions": [t for t in trained if t["version"] is not None],
        }
