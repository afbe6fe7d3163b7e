"""A version's reference, built from data (pure apart from calling the model): the input
profile (registry.reference_profile), the reference predictions' own profile (for
prediction drift), a bounded sample of (score, label) pairs (to calibrate the label-free
performance estimate) and the spec's [monitoring] settings."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: At most this many (score, label) pairs are kept for the label-free estimate's calibration.
LABELLED_SAMPLE = 5000


def prediction_columns(frame: pd.DataFrame) -> list[dict[str, Any]]:
    from registry.signature import infer_signature

    return list(infer_signature(frame)["columns"])


def model_outputs(estimator: Any, X: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray | None, str | None]:
    """The model's answers on X as features: `prediction` (the class as text, or the
    value) and, for a binary classifier, `score` (the positive class's probability, the
    same number serving logs). Returns the frame, the scores and the positive class
    (None where there are no scores)."""
    if hasattr(estimator, "predict_proba") and hasattr(estimator, "classes_"):
        proba = np.asarray(estimator.predict_proba(X), dtype=float)
        classes = [str(c) for c in estimator.classes_]
        frame = pd.DataFrame({"prediction": pd.Series([classes[i] for i in proba.argmax(axis=1)],
                                                      dtype=object)})
        scores = proba[:, 1] if len(classes) == 2 else None
        if scores is not None:
            frame["score"] = scores
        return frame, scores, classes[1] if scores is not None else None
    values = np.asarray(estimator.predict(X))
    if values.dtype.kind in "fiu" and not hasattr(estimator, "classes_"):
        return pd.DataFrame({"prediction": values.astype(float)}), None, None
    return pd.DataFrame({"prediction": pd.Series([str(v) for v in values], dtype=object)}), None, None


def build_reference(inputs: pd.DataFrame, columns: list[dict[str, Any]], *, config: dict[str, Any],
                    predictions: pd.DataFrame | None = None, scores: np.ndarray | None = None,
                    labels: pd.Series | None = None, positive: str | None = None,
                    seed: int = 0) -> dict[str, Any]:
    """The profile stored for a version. `predictions` (with `scores` and `labels` on the
    same rows) are the model's answers on reference rows it was not trained on."""
    from registry.reference_profile import fit_profile

    profile = fit_profile(inputs, columns, seed=seed)
    if predictions is not None and len(predictions):
        profile["prediction"] = fit_profile(predictions, prediction_columns(predictions), seed=seed)
    if scores is not None and labels is not None and positive is not None and len(labels):
        rng = np.random.default_rng(seed)
        keep = np.arange(len(labels))
        if len(keep) > LABELLED_SAMPLE:
            keep = np.sort(rng.choice(keep, LABELLED_SAMPLE, replace=False))
        label_values = [str(v) for v in np.asarray(labels)[keep].tolist()]
        profile["labelled"] = {"scores": [float(s) for s in np.asarray(scores)[keep]],
                               "labels": [1 if v == positive else 0 for v in label_values],
                               "positive": positive, "rows": int(len(labels))}
    profile["config"] = dict(config)
    return profile
