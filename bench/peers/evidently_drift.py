"""Evidently's data drift preset on a reference and a current Parquet file (runs in
bench/.venv-peers, never imports Watchkeeper).

    python evidently_drift.py --reference REF.parquet --current CUR.parquet --config CFG.json \
        [--defaults] --out RESULT.json
    python evidently_drift.py --jobs JOBS.json --out RESULT.json

JOBS.json: [{"name", "reference", "current", "config" (the dict below), "defaults": bool}],
run in one process so Evidently is imported once (the agreement harness runs many pairs).

CFG.json: {feature: {"kind": "numeric"|"categorical",
                     "test": "ks"|"wasserstein"|"psi"|"chisquare"|"jensenshannon",
                     "threshold": x}}
Only the features named in it are checked. Without --defaults, DataDriftPreset runs with
exactly those tests and thresholds per column (per_column_method, per_column_threshold);
with --defaults, "test" and "threshold" are ignored and Evidently picks its own (see below).

RESULT.json: {"evidently", "warmup_seconds", "jobs": [{"name", "mode", "rows": {"reference",
"current"}, "read_seconds", "seconds" (Dataset.from_pandas + Report.run + reading the
snapshot: the report's own time; Python start-up, imports and the Parquet read excluded),
"cpu_seconds" (the same span in CPU time of this process, all threads: the figure to read
on a busy machine), "features": {feature: {"test", "threshold", "statistic", "statistic_kind":
"p_value"|"distance", "drifted"}}}]}. "drifted" is Evidently's own verdict (the test's FAIL
status), not recomputed here. Before the first job a report on 200 rows of it runs untimed
("warmup_seconds"): Evidently imports plotly and its legacy metrics lazily inside the first
Report.run, an import cost that is not the report's.

Evidently 0.7.23 semantics, read in evidently/legacy/calculations/stattests/ (the things a
comparison with another implementation must know):
- ks: drift when p_value <= threshold (default 0.05); chisquare: drift when p_value <
  threshold (strict; default 0.05). The score reported is the p-value, not the statistic.
- chisquare: expected counts are the reference counts scaled to the current size over the
  union of categories; a category absent from the reference has expected 0, so the
  statistic is inf and p = 0 (scipy warns "divide by zero"): a new category always drifts.
- wasserstein: scipy's wasserstein_distance / max(std(reference), 0.001) (numpy std, ddof
  0); drift when >= threshold (default 0.1). Numeric only.
- psi and jensenshannon: for a numeric column with more than 20 distinct reference values,
  the bins are np.histogram_bin_edges(reference + current, "sturges"), i.e. equal-width
  bins over the COMBINED range (not reference quantiles, despite the docstring; the n_bins=30
  argument is never used there): with 1.1M rows that is 22 bins, and one outlier in the
  current window stretches every bin. Otherwise one bin per category (union of both).
  psi replaces empty bins by a small value (1e-4, or min/1e6); jensenshannon does not.
  jensenshannon is scipy's distance (natural log, so in [0, sqrt(ln 2)] ~ [0, 0.83]).
  Both drift when >= threshold (default 0.1).
- Defaults (--defaults), per column: reference <= 1000 rows: numeric ks (chisquare / z-test
  when <= 5 distinct values), categorical chisquare (z-test when binary); above 1000 rows:
  numeric wasserstein (jensenshannon when <= 5 distinct values), categorical
  jensenshannon. Distinct values are counted over reference and current together.
- Missing values: Evidently drops NaN in each column before the test; a column with no value
  at all on one side makes it raise for the whole report (left out here, with "error").
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import evidently
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

KINDS = ("numeric", "categorical")
TESTS = ("ks", "wasserstein", "psi", "chisquare", "jensenshannon")
P_VALUE_TESTS = ("ks", "chisquare", "z")
#: a method Evidently picked itself comes back under its display name: mapped to its name
DISPLAY_NAMES = {"K-S p_value": "ks", "chi-square p_value": "chisquare", "Z-test p_value": "z",
                 "Wasserstein distance (normed)": "wasserstein", "PSI": "psi",
                 "Jensen-Shannon distance": "jensenshannon"}


def drift_report(reference: pd.DataFrame, current: pd.DataFrame,
                 config: dict[str, dict[str, Any]], defaults: bool) -> dict[str, dict[str, Any]]:
    # Evidently raises "An empty column 'x' was provided for drift calculation" for a column
    # with no value on one side (a broken feed), failing the whole report: such a column is
    # left out of the report and returned with the reason, so the other columns still count
    empty = {f: side for f in config for side, frame in (("reference", reference),
                                                          ("current", current))
             if frame[f].isna().all()}
    features = [f for f in config if f not in empty]
    numeric = [f for f in features if config[f]["kind"] == "numeric"]
    categorical = [f for f in features if config[f]["kind"] == "categorical"]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    if defaults:
        preset = DataDriftPreset(columns=features)
    else:
        preset = DataDriftPreset(
            columns=features,
            per_column_method={f: config[f]["test"] for f in features},
            per_column_threshold={f: float(config[f]["threshold"]) for f in features},
        )
    # include_tests: each ValueDrift then carries Evidently's own pass/fail, read below
    report = Report(metrics=[preset], include_tests=True)
    snapshot = report.run(
        current_data=Dataset.from_pandas(current[features], data_definition=definition),
        reference_data=Dataset.from_pandas(reference[features], data_definition=definition),
    )
    out = read_snapshot(snapshot.dict())
    for feature, side in empty.items():
        out[feature] = {"test": None if defaults else config[feature]["test"],
                        "threshold": None if defaults else config[feature]["threshold"],
                        "statistic": None, "statistic_kind": None, "drifted": None,
                        "error": f"no value in the {side} data: Evidently refuses an empty column"}
    return out


def read_snapshot(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per column: the ValueDrift metric (score, method, threshold) and its test's status."""
    status = {test["metric_config"]["metric_id"]: test["status"] for test in snapshot["tests"]
              if test.get("id") == "drift"}
    features: dict[str, dict[str, Any]] = {}
    for metric in snapshot["metrics"]:
        config = metric["config"]
        if not config["type"].endswith(":ValueDrift"):
            continue
        method = DISPLAY_NAMES.get(config["method"], config["method"])
        features[config["column"]] = {
            "test": method,
            "threshold": config["threshold"],
            "statistic": float(metric["value"]),
            "statistic_kind": "p_value" if method in P_VALUE_TESTS else "distance",
            "drifted": status[metric["id"]] == "FAIL",
        }
    return features


def read_config_dict(config: dict[str, dict[str, Any]], where: str) -> dict[str, dict[str, Any]]:
    for feature, spec in config.items():
        if spec.get("kind") not in KINDS:
            raise SystemExit(f"{where}: feature {feature!r} has kind {spec.get('kind')!r}; "
                             f"use one of {KINDS}")
        if spec.get("test") not in TESTS:
            raise SystemExit(f"{where}: feature {feature!r} has test {spec.get('test')!r}; "
                             f"use one of {TESTS}")
        if not isinstance(spec.get("threshold"), int | float):
            raise SystemExit(f"{where}: feature {feature!r} needs a numeric threshold, "
                             f"e.g. \"threshold\": 0.05")
    return config


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    config = read_config_dict(job["config"], job.get("name", "config"))
    started = time.perf_counter()
    reference = pd.read_parquet(job["reference"], columns=list(config))
    current = pd.read_parquet(job["current"], columns=list(config))
    read_seconds = time.perf_counter() - started
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        features = drift_report(reference, current, config, bool(job.get("defaults")))
    except Exception as exc:  # one job's failure (e.g. an all-null column,
        # which Evidently cannot test) is reported beside the others, not a crash of all
        return {"name": job.get("name", ""), "error": f"{type(exc).__name__}: {exc}"}
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "name": job.get("name", ""),
        "mode": "defaults" if job.get("defaults") else "same-tests",
        "rows": {"reference": len(reference), "current": len(current)},
        "read_seconds": read_seconds,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "features": features,
    }


def warm_up(job: dict[str, Any]) -> float:
    config = read_config_dict(job["config"], job.get("name", "config"))
    reference = pd.read_parquet(job["reference"], columns=list(config)).head(200)
    current = pd.read_parquet(job["current"], columns=list(config)).head(200)
    started = time.perf_counter()
    drift_report(reference, current, config, bool(job.get("defaults")))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=Path, help="a JSON list of jobs (see above)")
    parser.add_argument("--reference", type=Path)
    parser.add_argument("--current", type=Path)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--defaults", action="store_true",
                        help="Evidently's own choice of test and threshold per column")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.jobs:
        jobs = json.loads(args.jobs.read_text())
    elif args.reference and args.current and args.config:
        jobs = [{"name": args.current.stem, "reference": str(args.reference),
                 "current": str(args.current), "config": json.loads(args.config.read_text()),
                 "defaults": args.defaults}]
    else:
        parser.error("give --jobs JOBS.json, or --reference, --current and --config")
    warmup = warm_up(jobs[0]) if jobs else 0.0
    results = [run_job(job) for job in jobs]
    args.out.write_text(json.dumps({"evidently": evidently.__version__,
                                    "warmup_seconds": warmup, "jobs": results}, indent=1))


if __name__ == "__main__":
    main()
