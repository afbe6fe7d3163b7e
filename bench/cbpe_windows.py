"""CBPE estimate against realised metrics on seeded credit windows, with and without
events: ``.venv/bin/python -m bench.cbpe_windows [--windows 10] [--rows 1000]``.

The credit sample model is trained on the first 75 % (by time) of the shipped data; its
CBPE calibrator is fitted on the last 25 % (the holdout the registry judges it on, as the
reference would be). Each window is a fresh seeded stream from 2026-02-01 with the event
active from its first row; labels come from the generator itself (the same draw as
``label_for``), predictions and scores from the model.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from monitoring import cbpe
from monitoring.performance import realised_metrics
from sample_models import USE_CASES
from sample_models.credit.train import DEFAULT_PARAMS, train
from sample_models.events import Event, concept_drift, covariate_drift

CASE = USE_CASES["credit"]
WINDOW_START = datetime(2026, 2, 1, tzinfo=UTC)
SCENARIOS: dict[str, list[Event]] = {
    "none": [],
    # the model's strongest feature: its effect on the default risk reverses
    "concept_drift debt_ratio x-1": [concept_drift(WINDOW_START, "debt_ratio", factor=-1.0)],
    # more indebted applicants; the relation holds
    "covariate_drift debt_ratio x1.6": [covariate_drift(WINDOW_START, "debt_ratio", scale=1.6)],
}


METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")


def trained_model(class_weight: str = "none") -> tuple[Any, dict[str, Any]]:
    """The credit model on the first 75 % of the shipped data and its CBPE calibrator on
    the rest. ``class_weight="balanced"`` makes a model whose scores overstate the
    default risk (calibration then matters)."""
    data = pd.read_csv(CASE.data, parse_dates=["ts"]).sort_values("ts", kind="stable")
    cut = int(len(data) * 0.75)
    fit, holdout = data.iloc[:cut], data.iloc[cut:]
    features = list(CASE.features)
    model = train(fit[features], fit[CASE.target], {**DEFAULT_PARAMS, "class_weight": class_weight})
    scores = model.predict_proba(holdout[features])[:, 1]
    labels = holdout[CASE.target].to_numpy()
    return model, dict(cbpe.fit_cbpe(scores, labels))


def window(model: Any, seed: int, events: Sequence[Event], rows: int) -> tuple[
        np.ndarray, np.ndarray, np.ndarray]:
    """(labels, predictions, positive-class scores) of one seeded window."""
    frame = CASE.generate(rows, WINDOW_START, seed=seed, events=list(events))
    proba = model.predict_proba(frame[list(CASE.features)])
    predictions = model.classes_[proba.argmax(axis=1)]
    return frame[CASE.target].to_numpy(), predictions, proba[:, 1]


def compare(model: Any, calibrator: dict[str, Any], seed: int, events: Sequence[Event],
            rows: int) -> dict[str, float]:
    labels, predictions, scores = window(model, seed, events, rows)
    classes = [int(c) for c in model.classes_]
    realised = realised_metrics("classification", labels.tolist(), predictions.tolist(),
                                probabilities=scores, classes=classes)
    estimated: dict[str, Any] = dict(
        cbpe.estimate(calibrator, scores, predicted_positive=predictions == classes[1]))
    out: dict[str, float] = {}
    for metric in METRICS:
        r, e = realised[metric], estimated[metric]
        assert r is not None and e is not None
        out[f"{metric}_realised"], out[f"{metric}_estimated"] = r, e
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=10)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--class-weight", choices=("none", "balanced"), default="none")
    args = parser.parse_args(argv)
    model, calibrator = trained_model(args.class_weight)
    shown = ("accuracy", "roc_auc")
    lines = [f"model class_weight={args.class_weight}; calibrator: {calibrator['kind']} "
             f"({calibrator['reason']}); windows of {args.rows} rows", "",
             "| scenario | seed | " + " | ".join(f"{m} realised | estimated | diff" for m in shown)
             + " |", "|---|---|" + "---|---|---|" * len(shown)]
    summary = ["", "| scenario | metric | mean realised | mean estimated | mean diff | "
               "max abs diff |", "|---|---|---|---|---|---|"]
    for name, events in SCENARIOS.items():
        rows = [compare(model, calibrator, 1000 + seed, events, args.rows)
                for seed in range(args.windows)]
        for seed, row in enumerate(rows):
            cells = [name, str(1000 + seed)]
            for m in shown:
                r, e = row[f"{m}_realised"], row[f"{m}_estimated"]
                cells += [f"{r:.3f}", f"{e:.3f}", f"{e - r:+.3f}"]
            lines.append("| " + " | ".join(cells) + " |")
        for m in METRICS:
            r_all = np.array([row[f"{m}_realised"] for row in rows])
            e_all = np.array([row[f"{m}_estimated"] for row in rows])
            summary.append(f"| {name} | {m} | {r_all.mean():.3f} | {e_all.mean():.3f} | "
                           f"{(e_all - r_all).mean():+.3f} | {np.abs(e_all - r_all).max():.3f} |")
    print("\n".join(lines + summary))  # noqa: T201 (a bench command's output)


if __name__ == "__main__":
    main()
