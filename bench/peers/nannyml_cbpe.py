"""NannyML's CBPE (confidence-based performance estimation) of a binary classifier, fitted on
a reference Parquet file (scores, predictions, labels) and estimated per chunk of an analysis
Parquet file (runs in bench/.venv-peers, never imports Watchkeeper).

    python nannyml_cbpe.py --reference REF.parquet --analysis ANA.parquet \
        --score y_pred_proba --prediction y_pred --label repaid \
        (--chunk-size 5000 | --chunk-period M --timestamp timestamp) --out RESULT.json

RESULT.json: {"nannyml", "metrics", "chunking", "seconds" (fit + estimate + to_df, imports
and the Parquet read excluded), "cpu_seconds" (the same in this process's CPU time), "needs_calibration", "chunks": [{"period": "reference" |
"analysis", "key", "start_index", "end_index", "start_date", "end_date", "rows",
metric: {"estimate", "realized", "sampling_error", "lower", "upper", "alert"}}]}.

NannyML 0.13.1 behaviour a comparison must match (read in nannyml/chunk.py,
nannyml/performance_estimation/confidence_based/):
- Chunks are made separately for the reference and for the analysis data, each from row 0.
  By size: consecutive rows in file order (not sorted by time); a last chunk shorter than
  the size is kept as a chunk of its own (SizeBasedChunker incomplete="keep", the default
  CBPE uses), so 10,001 rows in chunks of 5000 give chunks of 5000, 5000 and 1. By period:
  rows grouped by pd.to_datetime(timestamp).dt.to_period(PERIOD) ("M" calendar months,
  "W" weeks, "D" days), so the first and last chunks may be partial. Neither gives a
  chunk "key" shared between reference and analysis: match chunks by period and index.
- Calibration: isotonic regression (sklearn IsotonicRegression, increasing,
  out_of_bounds="clip") fitted on the whole reference (score, label), used only when
  needs_calibration says so: 10 stratified 90/10 splits of the reference (random_state=42),
  10-bin expected calibration error before and after on each test split, calibrate only if
  it helps on EVERY split; never when the reference ROC AUC > 0.999 or has one class.
- Estimates: accuracy, precision, recall and F1 from the expected confusion matrix (the
  calibrated score is the probability that a row is positive); ROC AUC from the cumulative
  expected true and false positives with rows sorted by the UNcalibrated score. The prediction y_pred is read from the data,
  not re-thresholded.
- "realized" is filled only where the data carries labels (the reference here; the
  car-loan analysis ships its labels separately, join them in for a realised column).
- Alerts use thresholds from the spread across reference chunks (3 standard deviations).
- Usage analytics: NannyML posts to segment.io on each fit/estimate and, offline, waits on
  retries (seconds per call); NML_DISABLE_USAGE_LOGGING=1 is set below before the import.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")

import nannyml  # noqa: E402
import pandas as pd  # noqa: E402

METRICS = ("roc_auc", "accuracy", "f1", "precision", "recall")
FIELDS = {"value": "estimate", "realized": "realized", "sampling_error": "sampling_error",
          "lower_confidence_boundary": "lower", "upper_confidence_boundary": "upper",
          "alert": "alert"}


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        return _plain(value.item())
    return value


def estimate(reference: pd.DataFrame, analysis: pd.DataFrame, args: argparse.Namespace
             ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    chunking: dict[str, Any] = ({"chunk_size": args.chunk_size} if args.chunk_size
                                else {"chunk_period": args.chunk_period})
    estimator = nannyml.CBPE(
        y_pred_proba=args.score, y_pred=args.prediction, y_true=args.label,
        timestamp_column_name=args.timestamp, metrics=list(METRICS),
        problem_type="classification_binary", **chunking,
    )
    estimator.fit(reference)
    frame = estimator.estimate(analysis).to_df()
    chunks = []
    for _, row in frame.iterrows():
        chunk: dict[str, Any] = {
            "period": row[("chunk", "period")], "key": row[("chunk", "key")],
            "start_index": _plain(row[("chunk", "start_index")]),
            "end_index": _plain(row[("chunk", "end_index")]),
            "start_date": _plain(row[("chunk", "start_date")]),
            "end_date": _plain(row[("chunk", "end_date")]),
        }
        chunk["rows"] = chunk["end_index"] - chunk["start_index"] + 1
        for metric in METRICS:
            chunk[metric] = {name: _plain(row[(metric, field)]) for field, name in FIELDS.items()}
        chunks.append(chunk)
    return {"chunking": chunking, "needs_calibration": bool(estimator.needs_calibration)}, chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, required=True)
    parser.add_argument("--analysis", type=Path, required=True)
    parser.add_argument("--score", required=True, help="column of the predicted probability")
    parser.add_argument("--prediction", required=True, help="column of the predicted class")
    parser.add_argument("--label", required=True, help="column of the true class (reference)")
    parser.add_argument("--timestamp", default=None, help="time column (needed by --chunk-period)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--chunk-size", type=int)
    group.add_argument("--chunk-period", help="pandas frequency: D, W, M")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.chunk_period and not args.timestamp:
        parser.error("--chunk-period needs --timestamp COLUMN (e.g. --timestamp timestamp)")
    started = time.perf_counter()
    reference = pd.read_parquet(args.reference)
    analysis = pd.read_parquet(args.analysis)
    read_seconds = time.perf_counter() - started
    started, cpu_started = time.perf_counter(), time.process_time()
    facts, chunks = estimate(reference, analysis, args)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    args.out.write_text(json.dumps({
        "nannyml": nannyml.__version__, "metrics": list(METRICS), **facts,
        "rows": {"reference": len(reference), "analysis": len(analysis)},
        "read_seconds": read_seconds, "seconds": seconds, "cpu_seconds": cpu_seconds,
        "chunks": chunks,
    }, indent=1))


if __name__ == "__main__":
    main()
