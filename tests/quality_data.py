"""Test data for the quality checks and the domain classifier: the sample use cases'
training frames, their signatures, a reference profile of the shape the registry stores
(registry/reference_profile.py owns the real one), and windows of fresh traffic."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

import pandas as pd

from registry.signature import infer_signature
from sample_models import USE_CASES

LEVELS = ("0.001", "0.01", "0.05", "0.1", "0.25", "0.5", "0.75", "0.9", "0.95", "0.99", "0.999")
START = datetime(2026, 1, 1, tzinfo=UTC)


def training_frame(case: str) -> pd.DataFrame:
    use = USE_CASES[case]
    return pd.read_csv(use.data)[list(use.features)]


def profile_of(frame: pd.DataFrame) -> dict[str, Any]:
    """Per-feature statistics of `frame`, keyed as a stored reference profile is."""
    features: dict[str, Any] = {}
    for name in frame.columns:
        series = frame[name]
        entry: dict[str, Any] = {"n": int(len(series)), "missing_share": float(series.isna().mean())}
        if pd.api.types.is_numeric_dtype(series):
            present = series.dropna().astype(float)
            entry |= {"kind": "numeric", "mean": float(present.mean()), "std": float(present.std()),
                      "min": float(present.min()), "max": float(present.max()),
                      "quantiles": {lv: float(present.quantile(float(lv))) for lv in LEVELS}}
        else:
            counts = series.dropna().astype(str).value_counts()
            entry |= {"kind": "categorical",
                      "frequencies": {str(k): int(v) for k, v in counts.items()}}
        features[str(name)] = entry
    return {"features": features, "sample": {"columns": list(frame.columns), "rows": []}}


@cache
def reference(case: str) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
    """The shipped training frame, its signature and its profile (made once: callers must
    not change them)."""
    frame = training_frame(case)
    return frame, infer_signature(frame), profile_of(frame)


@cache
def windows(case: str, count: int, rows: int, seeds: int = 10) -> list[pd.DataFrame]:
    """`count` windows of `rows` rows without an event, cut from `seeds` streams generated
    over the training period (a window of a season the reference never saw would be drift).
    Made once per test session: callers must not change them."""
    use = USE_CASES[case]
    per_stream = -(-count // seeds)
    out = []
    for seed in range(seeds):
        stream = use.generate(per_stream * rows, START, seed=1000 + seed)[list(use.features)]
        out += [stream.iloc[i * rows:(i + 1) * rows].reset_index(drop=True) for i in range(per_stream)]
    return out[:count]
