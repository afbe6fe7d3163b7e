"""Reading the prediction log, quarantine and batch runs (for the CLI and the console).
Lists are bounded and page by key (the time-ordered prediction id), so they stay fast
on a log of millions of rows."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from registry import views
from store import batch_runs as batch_runs_q
from store import models as model_store
from store import predictions as predictions_q
from store import quarantine as quarantine_q
from store import versions as version_store
from store.errors import InvalidInput, Listing, NotFound, UsageError, see

if TYPE_CHECKING:
    from store.handle import Store

MAX_LIMIT = 5000


def _json(text: str | None) -> Any:
    return orjson.loads(text) if text else None


def _row(r: dict[str, Any]) -> dict[str, Any]:
    out = dict(r)
    out["at"] = views.iso(r["at"])
    out["label_at"] = views.iso(r["label_at"])
    out["label"] = _json(r["label"])
    for key in ("inputs", "outputs"):
        if key in out:
            out[key] = _json(out[key])
    return out


def list_predictions(store: Store, *, model: str | None = None, version: str | int | None = None,
                     route: str | None = None, source: str | None = None, since: datetime | None = None,
                     until: datetime | None = None, id_prefix: str | None = None,
                     request_id: str | None = None, before_id: str | None = None, limit: int = 50,
                     with_data: bool = False) -> list[dict[str, Any]]:
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"a limit of {limit} rows is outside 1..{MAX_LIMIT}", field="limit", example="50")
    if version is not None and model is None:
        raise UsageError("a version needs its model (version numbers belong to a model)", field="model",
                         example="MODEL")
    with store.db.read() as session:
        model_id = version_id = None
        if model is not None:
            m = model_store.get_model(session, model)
            model_id = m.id
            if version is not None:
                from registry.versions import resolve_version

                version_id = resolve_version(session, m, version).id
        rows = predictions_q.list_predictions(session, model_id=model_id, version_id=version_id, route=route,
                                   source=source, since=since, until=until, id_prefix=id_prefix,
                                   request_id=request_id, before_id=before_id, limit=limit,
                                   with_data=with_data)
    return [_row(r) for r in rows]


def show_prediction(store: Store, ref: str) -> dict[str, Any]:
    ref = ref.strip().lower()
    if not ref or len(ref) > 36 or any(c not in "0123456789abcdef-" for c in ref):
        raise InvalidInput(f"{ref[:40]!r} is not a prediction id (a UUID such as 0193a1b2-...)",
                           see=see(Listing.PREDICTIONS))
    with store.db.read() as session:
        found = predictions_q.get_prediction(session, ref)
        if found is None:
            matches = predictions_q.predictions_by_prefix(session, ref, limit=2) if len(ref) >= 6 else []
            if len(matches) == 1:
                found = predictions_q.get_prediction(session, matches[0])
            elif len(matches) > 1:
                raise InvalidInput(f"prediction id prefix {ref!r} matches several predictions; give more of it")
        if found is None:
            raise NotFound(f"no prediction {ref!r} in the log (a prefix of 6 or more characters also works)",
                           see=see(Listing.PREDICTIONS))
    return _row(found)


def list_quarantine(store: Store, *, model: str | None = None, run_id: str | None = None,
                    source: str | None = None, since: datetime | None = None, limit: int = 50,
                    before_id: int | None = None) -> list[dict[str, Any]]:
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"a limit of {limit} rows is outside 1..{MAX_LIMIT}", field="limit", example="50")
    with store.db.read() as session:
        model_id = model_store.get_model(session, model).id if model else None
        rows = quarantine_q.list_quarantine(session, model_id=model_id, batch_run_id=run_id, source=source,
                                  since=since, before_id=before_id, limit=limit)
    for r in rows:
        r["at"] = views.iso(r["at"])
    return rows


def batch_run_view(run: Any, model: str, version: int | None) -> dict[str, Any]:
    seconds = (run.ended_at - run.started_at).total_seconds() if run.ended_at else None
    return {
        "run_id": run.id, "model": model, "version": version, "status": run.status, "attempt": run.attempt,
        "source": run.source, "sink": run.sink, "rows_read": run.rows_read, "rows_scored": run.rows_scored,
        "rows_quarantined": run.rows_quarantined, "chunks": run.chunks, "error": run.error,
        "started_at": views.iso(run.started_at), "ended_at": views.iso(run.ended_at),
        "seconds": round(seconds, 3) if seconds is not None else None,
        "rows_per_second": round(run.rows_read / seconds) if seconds else None,
        "created_by": run.created_by,
    }


def list_batch_runs(store: Store, model: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    with store.db.read() as session:
        model_id = model_store.get_model(session, model).id if model else None
        runs = batch_runs_q.list_batch_runs(session, model_id, limit)
        names = model_store.models_by_ids(session, list({r.model_id for r in runs}))
        out = []
        for r in runs:
            version = version_store.version_by_id(session, r.version_id).version
            out.append(batch_run_view(r, names[r.model_id].name, version))
        return out


def show_batch_run(store: Store, run_id: str) -> dict[str, Any]:
    with store.db.read() as session:
        run = batch_runs_q.get_batch_run(session, run_id)
        if run is None:
            raise NotFound(f"no batch run {run_id!r}", see=see(Listing.BATCH_RUNS))
        name = model_store.models_by_ids(session, [run.model_id])[run.model_id].name
        return batch_run_view(run, name, version_store.version_by_id(session, run.version_id).version)
