"""Agreement with the peers (issue 10's agreement acceptance point): per-feature drift verdicts
of Watchkeeper and of Evidently's data drift preset run with the same tests and thresholds, on
the sample_models scenarios and on NannyML's synthetic car-loan data; and Watchkeeper's CBPE
estimate beside NannyML's CBPE per chunk of the car-loan analysis data.

Run from the repository root:  .venv/bin/python -m bench.drift_agreement  (or
`make drift-agreement`; uses bench/.venv-peers, made on first use). Prints Markdown tables
for bench/RESULTS.md.

Drift: for each scenario, Watchkeeper fits a profile on the reference
(registry.reference_profile.fit_profile) and checks the current frame with its default rule
(monitoring.drift.check_features); its chosen test and threshold per feature are handed to
Evidently (DataDriftPreset per_column_method / per_column_threshold) on the same two frames.
Until Watchkeeper's side has landed, Evidently runs with KS / chi-squared at 0.05 and the
Watchkeeper columns say "wk side not available". Scenarios:
- credit and demand (sample_models): reference = 5,000 rows (seed 1), current = 5,000 rows
  from the same start (seed 2) with the event from its first row: none (the false-alarm
  check), covariate_drift, new_category, broken_column.
- car-loan (nannyml.load_synthetic_car_loan_dataset, exported by bench/peers/car_loan.py):
  the 50,000-row reference against each 5,000-row chunk of the analysis period, in file
  order as NannyML chunks it (its tutorials document drift from chunk 5 on).
CBPE: both fitted on the car-loan reference (y_pred_proba, y_pred, repaid), estimated per
5,000-row analysis chunk; the analysis labels (shipped apart) give the realised metric.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from bench.drift import FALLBACK_TESTS, watchkeeper_api, wk_config
from bench.peer_env import PEERS_SCRIPTS, ensure_peers_venv, peer_versions, run_peer
from bench.side_venv import REPO
from sample_models import USE_CASES
from sample_models.events import Event, broken_column, covariate_drift, new_category

SCENARIO_ROWS = 5_000
CHUNK_ROWS = 5_000
CAR_LOAN = REPO / "bench" / ".data" / "car_loan"
CAR_LOAN_FEATURES = {"car_value": "numeric", "salary_range": "categorical",
                     "debt_to_income_ratio": "numeric", "loan_length": "numeric",
                     "repaid_loan_on_prev_car": "boolean", "size_of_downpayment": "categorical",
                     "driver_tenure": "numeric"}
CBPE_METRICS = ("roc_auc", "accuracy", "f1", "precision", "recall")
#: |Watchkeeper's estimate - NannyML's| per chunk and metric that counts as agreement: about
#: twice NannyML's own sampling error of these metrics at 5,000 rows (0.002-0.006); the two
#: differ only where they calibrate differently, so more than this is a difference of method
CBPE_TOLERANCE = 0.01
START = datetime(2026, 3, 2, tzinfo=UTC)
NOT_AVAILABLE = "wk side not available"


@dataclass
class Scenario:
    name: str
    reference: pd.DataFrame
    current: pd.DataFrame
    kinds: dict[str, str]  # feature -> numeric | categorical | boolean (the signature)
    note: str = ""
    wk: list[Any] | None = field(default=None)
    config: dict[str, dict[str, Any]] = field(default_factory=dict)


# --- scenarios -------------------------------------------------------------------------------

def sample_events(use_case: str) -> dict[str, list[Event]]:
    if use_case == "credit":
        return {"none": [], "covariate_drift income x0.8": [covariate_drift(START, "income",
                                                                            scale=0.8)],
                "new_category employment_type=gig": [new_category(START, "employment_type",
                                                                  "gig", share=0.1)],
                "broken_column age nulls": [broken_column(START, "age")]}
    return {"none": [], "covariate_drift temperature +5": [covariate_drift(START, "temperature",
                                                                          shift=5.0)],
            "new_category store_region=central": [new_category(START, "store_region",
                                                               "central", share=0.1)],
            "broken_column humidity x1000": [broken_column(START, "humidity", mode="scale")]}


def sample_scenarios() -> list[Scenario]:
    out = []
    for name, case in USE_CASES.items():
        kinds = {f: "categorical" if f in case.schema.categorical else "numeric"
                 for f in case.features}
        reference = case.generate(SCENARIO_ROWS, START, seed=1)[list(case.features)]
        for label, events in sample_events(name).items():
            current = case.generate(SCENARIO_ROWS, START, seed=2, events=events)
            out.append(Scenario(f"{name}: {label}", reference, current[list(case.features)],
                                kinds))
    return out


def car_loan_frames() -> dict[str, pd.DataFrame]:
    """NannyML's car-loan data, exported once to bench/.data/car_loan by the peers' venv."""
    names = ("reference", "analysis", "analysis_labelled")
    if not all((CAR_LOAN / f"{n}.parquet").exists() for n in names):
        venv = ensure_peers_venv()
        subprocess.run([str(venv / "bin" / "python"), str(PEERS_SCRIPTS / "car_loan.py"),
                        str(CAR_LOAN), "--out", str(CAR_LOAN / "summary.json")], check=True)
    return {n: pd.read_parquet(CAR_LOAN / f"{n}.parquet") for n in names}


def car_loan_scenarios(frames: dict[str, pd.DataFrame]) -> list[Scenario]:
    features = list(CAR_LOAN_FEATURES)
    reference, analysis = frames["reference"][features], frames["analysis"][features]
    out = []
    for start in range(0, len(analysis), CHUNK_ROWS):
        chunk = analysis.iloc[start:start + CHUNK_ROWS].reset_index(drop=True)
        out.append(Scenario(f"car-loan: chunk {start // CHUNK_ROWS} "
                            f"[{start}:{start + len(chunk) - 1}]", reference, chunk,
                            dict(CAR_LOAN_FEATURES)))
    return out


# --- the two sides ------------------------------------------------------------------------------

def fallback_config(kinds: dict[str, str]) -> dict[str, dict[str, Any]]:
    config = {}
    for feature, kind in kinds.items():
        side = "numeric" if kind == "numeric" else "categorical"
        test, threshold = FALLBACK_TESTS[side]
        config[feature] = {"kind": side, "test": test, "threshold": threshold}
    return config


def watchkeeper_side(scenarios: list[Scenario], log: Callable[[str], None]) -> bool:
    api = watchkeeper_api()
    if isinstance(api, str):
        log(f"Watchkeeper drift: {NOT_AVAILABLE} ({api}); Evidently runs with KS / chi-squared "
            "at 0.05")
        for s in scenarios:
            s.config = fallback_config(s.kinds)
        return False
    fit_profile, check_features = api
    for s in scenarios:
        profile = fit_profile(s.reference, [{"name": f, "kind": k} for f, k in s.kinds.items()])
        s.wk = check_features(profile, s.current)
        s.config = wk_config(s.wk)
    return True


def evidently_side(scenarios: list[Scenario]) -> list[dict[str, Any]]:
    """Evidently on every scenario, in one process (imported once)."""
    with tempfile.TemporaryDirectory(prefix="wk-agreement-") as tmp:
        jobs = []
        for i, s in enumerate(scenarios):
            ref, cur = Path(tmp) / f"ref-{i}.parquet", Path(tmp) / f"cur-{i}.parquet"
            # Evidently reads booleans as categories; Parquet keeps them bool either way
            s.reference.to_parquet(ref, index=False)
            s.current.to_parquet(cur, index=False)
            jobs.append({"name": s.name, "reference": str(ref), "current": str(cur),
                         "config": s.config, "defaults": False})
        jobs_path = Path(tmp) / "jobs.json"
        jobs_path.write_text(json.dumps(jobs))
        result = run_peer("evidently_drift.py", "--jobs", str(jobs_path))
    jobs_out: list[dict[str, Any]] = result["jobs"]
    return jobs_out


# --- tables -----------------------------------------------------------------------------------

def _g(value: Any) -> str:
    return "-" if value is None else f"{value:.3g}"


def wk_note(v: Any) -> str:
    """Why Watchkeeper's verdict may differ from a bare test at the same threshold."""
    if v.status == "insufficient":
        return "insufficient data"
    p = v.p_value if v.p_value is not None else None
    if v.status == "ok" and v.min_effect is not None and v.effect_size is not None \
            and v.effect_size < v.min_effect and (
            (p is not None and p < v.threshold) or (p is None and v.statistic >= v.threshold)):
        return f"significant, but {v.effect_name} {v.effect_size:.3g} < floor {v.min_effect:g}"
    if v.new_categories:
        return "new: " + ", ".join(f"{k} ({n})" for k, n in v.new_categories.items())
    return ""


def drift_table(s: Scenario, peer: dict[str, Any]) -> tuple[list[str], int, int]:
    lines = [f"**{s.name}** ({len(s.reference):,} reference / {len(s.current):,} current rows)",
             "",
             "| feature | wk test | threshold | wk statistic | wk verdict | evidently statistic "
             "| evidently verdict | agree | note |",
             "|---|---|---|---|---|---|---|---|---|"]
    if "error" in peer:
        lines.append(f"| (all) | | | | | | Evidently failed: {peer['error'][:120]} | | |")
        return lines, 0, 0
    wk = {v.feature: v for v in s.wk} if s.wk is not None else {}
    agree = total = 0
    for feature in s.kinds:
        e = peer["features"].get(feature)
        v = wk.get(feature)
        if e is not None and e.get("error"):
            e_verdict, e_stat = "none", e["error"]
            e = None
        else:
            e_verdict = "-" if e is None else ("drift" if e["drifted"] else "ok")
            e_stat = "-" if e is None else f"{e['statistic']:.3g} ({e['statistic_kind']})"
        if v is None:
            cfg = s.config.get(feature, {})
            lines.append(f"| {feature} | {cfg.get('test', '-')} | {_g(cfg.get('threshold'))} | "
                         f"- | {NOT_AVAILABLE} | {e_stat} | {e_verdict} | - | |")
            continue
        wk_stat = v.p_value if v.p_value is not None else v.statistic
        same = "-"
        if e is not None and v.status != "insufficient":
            total += 1
            ok = (v.status == "drift") == e["drifted"]
            agree += ok
            same = "yes" if ok else "**no**"
        lines.append(f"| {feature} | {v.test or '-'} | {_g(v.threshold)} | {_g(wk_stat)} | "
                     f"{v.status} | {e_stat} | {e_verdict} | {same} | {wk_note(v)} |")
    return lines, agree, total


def watchkeeper_cbpe(reference: pd.DataFrame, analysis: pd.DataFrame
                     ) -> list[dict[str, Any]] | str:
    try:
        from monitoring.cbpe import estimate, fit_cbpe
    except ImportError as exc:
        return f"{NOT_AVAILABLE} ({exc})"
    calibrator = fit_cbpe(reference["y_pred_proba"].to_numpy(),
                          reference["repaid"].to_numpy().astype(int), threshold=0.5)
    out = []
    for start in range(0, len(analysis), CHUNK_ROWS):
        chunk = analysis.iloc[start:start + CHUNK_ROWS]
        est = estimate(calibrator, chunk["y_pred_proba"].to_numpy(),
                       predicted_positive=chunk["y_pred"].to_numpy() == 1)
        out.append(dict(est))
    return out


def cbpe_tables(frames: dict[str, pd.DataFrame], log: Callable[[str], None]) -> None:
    with tempfile.TemporaryDirectory(prefix="wk-cbpe-") as tmp:
        ref, ana = Path(tmp) / "reference.parquet", Path(tmp) / "analysis.parquet"
        frames["reference"].to_parquet(ref, index=False)
        frames["analysis_labelled"].to_parquet(ana, index=False)
        nml = run_peer("nannyml_cbpe.py", "--reference", str(ref), "--analysis", str(ana),
                       "--score", "y_pred_proba", "--prediction", "y_pred", "--label", "repaid",
                       "--chunk-size", str(CHUNK_ROWS))
    chunks = [c for c in nml["chunks"] if c["period"] == "analysis"]
    wk = watchkeeper_cbpe(frames["reference"], frames["analysis"])
    log(f"### CBPE on the car-loan analysis data, chunks of {CHUNK_ROWS:,} rows")
    log("")
    log(f"NannyML {nml['nannyml']}: fit + estimate {nml['seconds']:.1f} s, isotonic calibration "
        f"{'used' if nml['needs_calibration'] else 'not used'}. Tolerance "
        f"|wk - nannyml| <= {CBPE_TOLERANCE}." + ("" if not isinstance(wk, str) else f" {wk}."))
    log("")
    log("| chunk | metric | wk estimate | nannyml estimate | abs diff | nannyml sampling error "
        "| realised | within tolerance |")
    log("|---|---|---|---|---|---|---|---|")
    worst = 0.0
    for i, c in enumerate(chunks):
        for metric in CBPE_METRICS:
            n = c[metric]
            w = None if isinstance(wk, str) else wk[i].get(metric)
            diff = None if w is None or n["estimate"] is None else abs(w - n["estimate"])
            worst = max(worst, diff or 0.0)
            within = "-" if diff is None else ("yes" if diff <= CBPE_TOLERANCE else "**no**")
            log(f"| {i} {c['key']} | {metric} | {_g(w) if w is not None else NOT_AVAILABLE} | "
                f"{_g(n['estimate'])} | {_g(diff)} | {_g(n['sampling_error'])} | "
                f"{_g(n['realized'])} | {within} |")
    if not isinstance(wk, str):
        log("")
        log(f"largest |wk - nannyml|: {worst:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-cbpe", action="store_true")
    args = parser.parse_args()

    def log(text: str) -> None:
        print(text, flush=True)

    log("peers: " + ", ".join(f"{k} {v}" for k, v in peer_versions().items()))
    frames = car_loan_frames()
    scenarios = sample_scenarios() + car_loan_scenarios(frames)
    wk_available = watchkeeper_side(scenarios, log)
    peers = evidently_side(scenarios)
    log("")
    log("### Drift verdicts: Watchkeeper and Evidently with the same tests and thresholds")
    summary = []
    for s, peer in zip(scenarios, peers, strict=True):
        log("")
        lines, agree, total = drift_table(s, peer)
        for line in lines:
            log(line)
        summary.append((s.name, agree, total, peer.get("seconds")))
    if wk_available:
        log("")
        log("| scenario | verdicts agreeing |")
        log("|---|---|")
        for name, agree, total, _ in summary:
            log(f"| {name} | {agree} of {total} |")
        log(f"\nall scenarios: {sum(a for _, a, _, _ in summary)} of "
            f"{sum(t for _, _, t, _ in summary)} verdicts agree")
    if not args.skip_cbpe:
        log("")
        cbpe_tables(frames, log)


if __name__ == "__main__":
    main()
