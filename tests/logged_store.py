"""A store whose log holds seeded predictions of `tiny` (tests/serving_store.py's inputs:
x1, x2, colour; two versions registered with fixed artifact bytes, as tests/console_store.py
does, since nothing here loads a model and scikit-learn costs seconds to import), written the way the serving logger writes them (store.prediction_log.insert_predictions),
with fixed UUIDv7 ids and times: champion rows over several days, a few shadow rows, a few
metadata-only rows (no inputs or outputs), and some labels. `LOGGED` keeps what was written,
so a test compares an export or a queue with it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from console_store import prediction_id
from serving_store import tiny_frame

#: The log's first prediction; rows follow every `STEP`.
START = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


@dataclass
class Logged:
    """What went into the log, one dict per row, in time order."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    model_id: int = 0
    version_ids: dict[int, int] = field(default_factory=dict)  # version number -> id

    def by_id(self) -> dict[str, dict[str, Any]]:
        return {r["prediction_id"]: r for r in self.rows}


def build_logged_store(root: Path, *, rows: int = 600, days: int = 3, seed: int = 7,
                       shadow_every: int = 25, metadata_every: int = 40,
                       label_every: int = 10) -> tuple[Any, Logged]:
    """`tiny` with v1 champion and v2 shadow rows spread over `days` days from START;
    returns the open store and what was logged."""
    from registry.models import ensure_model
    from registry.registration import insert_version
    from registry.signature import infer_signature
    from store.handle import init_store
    from store.prediction_log import db_time, insert_predictions

    store, _ = init_store(root)
    signature = infer_signature(tiny_frame()[0])
    versions: dict[int, int] = {}
    with store.db.write() as session:
        model = ensure_model(session, "tiny", actor="tests", task="classification")
        for number in (1, 2):
            artifact = store.artifacts.put_bytes(f"tiny v{number} (never loaded)\n".encode())
            v = insert_version(session, model, artifact, actor="tests", flavor="sklearn.pipeline.Pipeline",
                               signature=signature, example=None, metrics=None, params=None, run_id=None,
                               source="register", code_version=None, environment=None)
            versions[v.version] = int(v.id)  # type: ignore[arg-type]
        model_id = int(model.id)  # type: ignore[arg-type]
    logged = Logged(model_id=model_id, version_ids=versions)
    rng = np.random.default_rng(seed)
    step = timedelta(days=days) / rows
    tuples = []
    labels = []
    for i in range(rows):
        at = START + step * i
        shadow = i % shadow_every == shadow_every - 1
        metadata_only = not shadow and i % metadata_every == metadata_every - 1
        inputs = {"x1": round(float(rng.normal()), 4), "x2": round(float(rng.normal()), 4),
                  "colour": str(rng.choice(["red", "green", "blue"]))}
        p1 = round(float(rng.uniform(0.02, 0.98)), 4)
        outputs = {"class": int(p1 >= 0.5), "probabilities": {"0": round(1 - p1, 4), "1": p1}}
        pid = prediction_id(at)
        version = 2 if shadow else 1
        route = "shadow" if shadow else "champion"
        request_id = f"req-{i}"
        latency = round(float(rng.uniform(0.5, 5.0)), 3)
        kept_in = None if metadata_only else inputs
        kept_out = None if metadata_only else outputs
        tuples.append((pid, db_time("sqlite", at), logged.model_id, versions[version], route, "api", request_id,
                       0, None, json.dumps(kept_in) if kept_in else None,
                       json.dumps(kept_out) if kept_out else None, latency))
        label = None
        if not shadow and i % label_every == 0:
            label = int(rng.random() < p1)
            labels.append((pid, label))
        logged.rows.append({"prediction_id": pid, "at": at, "version": version, "route": route,
                            "source": "api", "request_id": request_id, "row_index": 0,
                            "latency_ms": latency, "inputs": kept_in, "outputs": kept_out, "label": label})
    with store.db.write_core() as conn:
        insert_predictions(conn, tuples)
    if labels:
        from serving.log.feedback import apply_labels

        apply_labels(store, [{"prediction_id": pid, "label": label} for pid, label in labels])
    return store, logged
