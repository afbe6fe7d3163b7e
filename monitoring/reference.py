"""Pinning a version's reference on other data: a data file (the version's model scores
it, so the reference predictions are its own) or a window of logged traffic (inputs,
outputs and the labels that arrived). Checks then use the newest profile of the version;
the training-time profile stays on record."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from monitoring.drift_check import prediction_frame
from monitoring.windows import Window
from registry.datasource import load_source
from registry.reference_data import build_reference
from registry.spec import DataSource, TrainingSpec
from registry.versions import load_model, resolve_version
from store import audit
from store import models as model_store
from store import profiles as profile_store
from store import runs as run_store
from store.access import authorize
from store.errors import InvalidInput, UsageError
from store.logged_window import read_window
from store.roles import Permission
from store.rows import id_of
from store.vocabulary import AuditAction, ProfileSource

if TYPE_CHECKING:
    from store.handle import Store

#: A window-pinned reference needs at least this many logged rows with inputs.
MIN_REFERENCE_ROWS = 100


def _spec_of(store: Store, run_id: int | None) -> TrainingSpec | None:
    if run_id is None:
        return None
    with store.db.read() as session:
        run = run_store.get_run(session, run_id)
        return TrainingSpec.from_dict(run.spec) if run.spec else None


def fit_reference(store: Store, model: str, version: str | int, *, data: str | None = None,
                  window: Window | None = None, actor: str | None = None) -> dict[str, Any]:
    """Fit and store a new reference profile for the version; returns its summary."""
    if (data is None) == (window is None):
        raise UsageError("give --data FILE or a window (--from and --to), one of them",
                         field="data", example="reference.csv")
    actor = authorize(store, actor, Permission.CHECK, model=model)
    started = time.perf_counter()
    with store.db.read() as session:
        row = model_store.get_model(session, model)
        chosen = resolve_version(session, row, version)
        model_id, version_id, number = id_of(row), id_of(chosen), chosen.version
        columns = list((chosen.signature or {}).get("columns", []))
        run_id = chosen.run_id
    if not columns:
        raise InvalidInput(f"{model} v{number} has no input signature (registered without training "
                           "data), so there is nothing to profile; register it with its data")
    spec = _spec_of(store, run_id)
    config = dict(spec.monitoring) if spec else {}
    names = [c["name"] for c in columns]
    if data is not None:
        inputs, predictions, scores, labels, positive, detail = _from_file(store, model, number, data,
                                                                           names, spec)
    else:
        assert window is not None
        inputs, predictions, scores, labels, positive, detail = _from_window(store, model_id, version_id,
                                                                             window, columns)
    profile = build_reference(inputs, columns, config=config, predictions=predictions, scores=scores,
                              labels=labels, positive=positive)
    seconds = round(time.perf_counter() - started, 3)
    source = ProfileSource.FILE if data is not None else ProfileSource.WINDOW
    with store.db.write() as session:
        profile_id = profile_store.add_profile(session, model_id=model_id, version_id=version_id,
                                               source=source, detail=detail, rows=len(inputs),
                                               profile=profile, seconds=seconds, actor=actor)
        audit.record(session, actor=actor, action=AuditAction.REFERENCE_PIN,
                     target=audit.target(model, version=number),
                     after={"profile_id": profile_id, "source": source, **detail, "rows": len(inputs)})
    return {"model": model, "version": number, "profile_id": profile_id, "source": str(source),
            "rows": len(inputs), "features": len(names), "labelled": "labelled" in profile,
            "seconds": seconds, **detail}


def _from_file(store: Store, model: str, number: int, data: str, names: list[str],
               spec: TrainingSpec | None) -> tuple[Any, ...]:
    from registry.reference_data import model_outputs

    path = Path(data).expanduser().absolute()
    if path.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InvalidInput(f"--data {data}: a reference must be a .csv or .parquet file", field="data",
                           example="reference.csv")
    if not path.is_file():
        raise InvalidInput(f"--data {data}: no such file; check the path", field="data")
    frame = load_source(DataSource(name=path.stem, path=str(path))).frame
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise InvalidInput(f"--data {data} lacks the version's input columns {', '.join(missing)} "
                           f"(it has {', '.join(map(str, frame.columns[:12]))})", field="data")
    inputs = frame[names]
    estimator = load_model(store, model, number)
    predictions, scores, positive = model_outputs(estimator, inputs)
    target = spec.target if spec else None
    labels = frame[target].astype(str) if target and target in frame.columns else None
    return inputs, predictions, scores, labels, positive, {"file": str(path)}


def _from_window(store: Store, model_id: int, version_id: int, window: Window,
                 columns: list[dict[str, Any]]) -> tuple[Any, ...]:
    import orjson

    from monitoring.subject import JSON_TYPES

    types = {c["name"]: JSON_TYPES.get(c["kind"], "string") for c in columns}
    with store.db.read_core() as conn:
        logged = read_window(conn, model_id, window.start, window.end, version_id=version_id,
                             input_types=types)
    if len(logged.input_rows) < MIN_REFERENCE_ROWS:
        raise InvalidInput(
            f"the window {window.label} has {len(logged.input_rows):,} logged rows with inputs for this "
            f"version; a reference needs at least {MIN_REFERENCE_ROWS}: choose a longer window",
            field="from")
    predictions = prediction_frame(logged.outputs) if len(logged.outputs) else None
    scores = labels = positive = None
    if predictions is not None and "score" in predictions:
        probas = sorted(c for c in logged.outputs.columns if c.startswith("proba:"))
        positive = probas[1][len("proba:"):]
        label_of = [logged.labels[r] for r in logged.output_rows]
        known = np.flatnonzero([x is not None for x in label_of])
        if len(known):
            scores = predictions["score"].to_numpy(float)[known]
            labels = pd.Series([str(orjson.loads(label_of[i])) for i in known])
    detail = {"from": window.start.isoformat(), "to": window.end.isoformat()}
    return logged.inputs, predictions, scores, labels, positive, detail
