"""Drift check speed: Watchkeeper's per-feature drift statistics against Evidently's data drift
report and a plain scipy floor, on the same 100,000-row reference and 1,000,000-row current
window of 20 numeric and 5 categorical features (issue 10's speed acceptance point).

Run from the repository root:  .venv/bin/python -m bench.drift   (or `make bench-drift`)
(`--reference-rows 100000 --current-rows 1000000 --seed 0` are the defaults; the first run
makes bench/.venv-peers with Evidently and NannyML, about five minutes, and writes the data
to bench/.data/, reused while the generator and sizes are unchanged.)

Timed side by side in one run, each on the same frames:
(a) Evidently 0.7's DataDriftPreset, in bench/.venv-peers (bench/peers/evidently_drift.py), twice:
    with its own default tests (normalised Wasserstein for numeric, Jensen-Shannon for
    categorical at this reference size) and with the tests and thresholds Watchkeeper chose
    (KS and chi-squared when Watchkeeper's side is not there yet). The figure is the report's
    own time inside the subprocess (Dataset.from_pandas + Report.run + reading the
    snapshot), after an untimed warm-up report on 200 rows; interpreter start-up, imports and
    the Parquet read are excluded and printed apart, with the subprocess's wall time.
(b) the floor: scipy.stats.ks_2samp per numeric column and scipy's chi-squared test
    (chi2_contingency, reference against current counts) per categorical column on the same
    frames, already in memory: what a plain implementation of these tests costs.
(c) Watchkeeper: monitoring.drift.check_features(profile, current) on a profile fitted once by
    registry.reference_profile.fit_profile (fitting is timed apart: it runs at registration,
    not per check). Peak memory of the check: tracemalloc's peak during a second, traced run
    (numpy reports its buffers to tracemalloc) and the process's peak RSS before and after.
(d) the whole check reading the 1M-row window from a store: see whole_check_from_store below
    (left for the owner of the store-reading side; printed as not available until then).

Ratios printed: Evidently (same tests, and defaults) / Watchkeeper, Watchkeeper / scipy floor.
Targets (issue 10): the statistics >= 10x faster than Evidently with the same tests; the
whole check from the store under 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bench.peer_env import PEERS_SCRIPTS, ensure_peers_venv, peer_versions
from bench.side_venv import REPO

DATA = REPO / "bench" / ".data"
#: bump when generate() changes, so cached Parquet files are made again
GENERATOR_VERSION = 1
N_NUMERIC = 20
N_CATEGORICAL = 5
NUMERIC = [f"num_{i:02d}" for i in range(N_NUMERIC)]
CATEGORICAL = [f"cat_{i}" for i in range(N_CATEGORICAL)]
#: features drifted by design in the current window, and how (the rest are drawn alike)
DRIFTED = {
    "num_00": "normal, mean +0.25 sd",
    "num_01": "lognormal, spread about 20 x1.3",
    "num_02": "uniform, values x1.1",
    "num_03": "exponential, +0.02 sd (KS significant at 1M rows; far below any effect floor)",
    "cat_0": "shares of 'a' and 'b' swapped (0.4 / 0.25)",
    "cat_1": "new category 'zz' on 2% of rows",
}
TARGET_SPEEDUP_OVER_EVIDENTLY = 10.0
TARGET_WHOLE_CHECK_SECONDS = 10.0
#: the tests the issue's own measurement used for "Evidently with the same tests" (29 s),
#: used for Evidently when Watchkeeper's check is not importable yet
FALLBACK_TESTS = {"numeric": ("ks", 0.05), "categorical": ("chisquare", 0.05)}


# --- data ------------------------------------------------------------------------------------

def _categories(k: int) -> list[str]:
    return [chr(ord("a") + i) for i in range(k)]


def generate(n: int, seed: int, drifted: bool) -> pd.DataFrame:
    """n rows of the 25 features, vectorised (1M rows in about a second); `drifted` applies
    DRIFTED. Numeric columns cycle through normal, lognormal, uniform, exponential and
    Poisson-count shapes with their own location and scale; num_04 and num_09 miss 1%."""
    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {}
    for i, name in enumerate(NUMERIC):
        loc, scale = 10.0 * (i + 1), 1.0 + i % 4
        shape = i % 5
        if shape == 0:
            x = rng.normal(loc, scale, n)
        elif shape == 1:
            x = np.exp(rng.normal(np.log(loc), 0.3, n))
        elif shape == 2:
            x = rng.uniform(loc - 3 * scale, loc + 3 * scale, n)
        elif shape == 3:
            x = loc + rng.exponential(scale, n)
        else:
            x = rng.poisson(3.0 + i, n).astype(np.float64)
        cols[name] = x
    if drifted:  # DRIFTED; the scale of num_00 is 1, of num_03 4 (exponential: sd = scale)
        cols["num_00"] = cols["num_00"] + 0.25
        cols["num_01"] = 20.0 + (cols["num_01"] - 20.0) * 1.3
        cols["num_02"] = cols["num_02"] * 1.1
        cols["num_03"] = cols["num_03"] + 0.02 * 4.0
    for name in ("num_04", "num_09"):
        cols[name][rng.random(n) < 0.01] = np.nan
    for i, name in enumerate(CATEGORICAL):
        k = 3 + 2 * i  # 3, 5, 7, 9, 11 categories
        names = _categories(k)
        p = np.linspace(2.0, 1.0, k)
        p /= p.sum()
        if name == "cat_0":
            p = np.array([0.25, 0.4, 0.35]) if drifted else np.array([0.4, 0.25, 0.35])
        codes = rng.choice(k, size=n, p=p)
        values = np.asarray(names, dtype=object)[codes]
        if name == "cat_1" and drifted:
            values[rng.random(n) < 0.02] = "zz"
        cols[name] = values
    return pd.DataFrame(cols)


def columns() -> list[dict[str, str]]:
    """The signature, as registry.reference_profile.fit_profile reads it."""
    return ([{"name": c, "kind": "numeric"} for c in NUMERIC]
            + [{"name": c, "kind": "categorical"} for c in CATEGORICAL])


def cached_frames(reference_rows: int, current_rows: int, seed: int, log: Callable[[str], None]
                  ) -> tuple[Path, Path]:
    """The reference and current Parquet files under bench/.data, made when missing."""
    DATA.mkdir(parents=True, exist_ok=True)
    tag = f"v{GENERATOR_VERSION}-s{seed}"
    ref_path = DATA / f"drift-reference-{reference_rows}-{tag}.parquet"
    cur_path = DATA / f"drift-current-{current_rows}-{tag}.parquet"
    for path, rows, drifted, part_seed in ((ref_path, reference_rows, False, seed),
                                           (cur_path, current_rows, True, seed + 1)):
        if not path.exists():
            started = time.perf_counter()
            frame = generate(rows, part_seed, drifted)
            partial = path.with_suffix(".partial")
            frame.to_parquet(partial, index=False)
            partial.rename(path)
            log(f"wrote {path.relative_to(REPO)} ({rows:,} rows, "
                f"{time.perf_counter() - started:.1f} s)")
    return ref_path, cur_path


# --- (a) Evidently, in the peers' venv ----------------------------------------------------------

@dataclass
class PeerRun:
    seconds: float  # the report's own time, inside the subprocess
    cpu_seconds: float  # the same span in the subprocess's CPU time (all its threads)
    read_seconds: float
    warmup_seconds: float
    wall_seconds: float  # the whole subprocess: start-up, imports, read, warm-up, report
    features: dict[str, dict[str, Any]]


def evidently_run(reference: Path, current: Path, config: dict[str, dict[str, Any]],
                  defaults: bool) -> PeerRun:
    venv = ensure_peers_venv()
    with tempfile.TemporaryDirectory(prefix="wk-bench-drift-") as tmp:
        jobs, out = Path(tmp) / "jobs.json", Path(tmp) / "out.json"
        jobs.write_text(json.dumps([{"name": "current", "reference": str(reference),
                                     "current": str(current), "config": config,
                                     "defaults": defaults}]))
        started = time.perf_counter()
        done = subprocess.run([str(venv / "bin" / "python"),
                               str(PEERS_SCRIPTS / "evidently_drift.py"),
                               "--jobs", str(jobs), "--out", str(out)],
                              capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"bench/peers/evidently_drift.py failed:\n{done.stderr[-4000:]}")
        result = json.loads(out.read_text())
    job = result["jobs"][0]
    return PeerRun(job["seconds"], job.get("cpu_seconds", float("nan")), job["read_seconds"],
                   result["warmup_seconds"], wall, job["features"])


# --- (b) the scipy floor -------------------------------------------------------------------------

def scipy_floor(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, float]:
    """p-value per column: ks_2samp on numeric, the chi-squared test of homogeneity
    (scipy.stats.chi2_contingency of the 2 x k table of counts) on categorical.

    Not scipy.stats.chisquare against the reference shares, Evidently's form: that treats
    the reference shares as exact, and with a reference 10x smaller than the window their
    sampling noise alone makes p ~ 0 for a column drawn from the same distribution (here
    cat_2..cat_4); the two-sample test counts both sides' noise."""
    out: dict[str, float] = {}
    for name in NUMERIC:
        ref = reference[name].to_numpy()
        cur = current[name].to_numpy()
        out[name] = float(stats.ks_2samp(ref[~np.isnan(ref)], cur[~np.isnan(cur)]).pvalue)
    for name in CATEGORICAL:
        ref_counts = reference[name].value_counts()
        cur_counts = current[name].value_counts()
        keys = ref_counts.index.union(cur_counts.index)
        table = np.vstack([ref_counts.reindex(keys, fill_value=0).to_numpy(),
                           cur_counts.reindex(keys, fill_value=0).to_numpy()])
        out[name] = float(stats.chi2_contingency(table, correction=False).pvalue)
    return out


# --- (c) Watchkeeper -------------------------------------------------------------------------------

def watchkeeper_api() -> tuple[Callable[..., Any], Callable[..., Any]] | str:
    """(fit_profile, check_features), or why they are not available yet."""
    try:
        from monitoring.drift import check_features
        from registry.reference_profile import fit_profile
    except ImportError as exc:
        return f"{exc} (monitoring.drift / registry.reference_profile not on this branch yet)"
    return fit_profile, check_features


def wk_config(verdicts: list[Any]) -> dict[str, dict[str, Any]]:
    """Evidently's per-column config from Watchkeeper's verdicts: its test and threshold for
    each feature (a numeric feature Watchkeeper tests by chi-squared over its few values is
    given to Evidently as categorical, since Evidently's chisquare takes only those)."""
    config: dict[str, dict[str, Any]] = {}
    for v in verdicts:
        if v.test is None or v.threshold is None:
            continue
        numeric = v.kind == "numeric" and v.test != "chisquare"
        config[v.feature] = {"kind": "numeric" if numeric else "categorical",
                             "test": v.test, "threshold": float(v.threshold)}
    return config


def fallback_config() -> dict[str, dict[str, Any]]:
    config: dict[str, dict[str, Any]] = {}
    for name in NUMERIC + CATEGORICAL:
        kind = "numeric" if name in NUMERIC else "categorical"
        test, threshold = FALLBACK_TESTS[kind]
        config[name] = {"kind": kind, "test": test, "threshold": threshold}
    return config


def timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds of this process): on a shared machine the CPU
    figure is the one that does not grow with the other processes' load."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - started, time.process_time() - cpu_started


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


@dataclass
class WkRun:
    fit_seconds: float
    check_seconds: float
    check_cpu_seconds: float
    traced_peak_mb: float
    rss_before_mb: float
    rss_after_mb: float
    verdicts: list[Any]


def watchkeeper_run(api: tuple[Callable[..., Any], Callable[..., Any]],
                    reference: pd.DataFrame, current: pd.DataFrame) -> WkRun:
    fit_profile, check_features = api
    profile, fit_seconds, _ = timed(lambda: fit_profile(reference, columns()))
    rss_before = max_rss_mb()
    verdicts, check_seconds, check_cpu = timed(lambda: check_features(profile, current))
    rss_after = max_rss_mb()
    tracemalloc.start()
    check_features(profile, current)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return WkRun(fit_seconds, check_seconds, check_cpu, peak / 2**20, rss_before, rss_after,
                 verdicts)


# --- (d) the whole check, from the store ------------------------------------------------------------

BENCH_MODEL = "bench-drift"


def _bench_estimator(reference: pd.DataFrame) -> Any:
    """A small real model on the 25 features (one-hot categories, gradient boosting, which
    takes the 1% missing values as they are), fitted on the reference with a target drawn
    from two of its columns: what the logged predictions and their outputs come from."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(7)
    y = ((reference["num_00"] - reference["num_00"].mean()) + rng.normal(0, 1, len(reference))
         + (reference["cat_0"] == "a") > 0.5).astype(int)
    prep = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)],
                             remainder="passthrough")
    model = Pipeline([("prep", prep), ("hgb", HistGradientBoostingClassifier(max_iter=20, random_state=0))])
    return model.fit(reference, y)


def bench_store(reference: pd.DataFrame, current_path: Path, log: Callable[[str], None]) -> Path:
    """A store (cached under bench/.data) whose production version was registered with the
    reference as its training data (so its profile was fitted at registration), and whose
    log holds the current rows, scored by `wk score` (the batch path logs every row with
    its inputs and outputs in chunks, and quarantines the unseen category's rows)."""
    from console.cli import main as wk
    from registry.aliases import promote
    from registry.registration import register_estimator
    from store.handle import init_store

    root = DATA / f"drift-store-{current_path.stem}"
    marker = root / ".complete"
    if marker.exists():
        return root
    if root.exists():
        import shutil

        shutil.rmtree(root)
    started = time.perf_counter()
    store, _ = init_store(root)
    try:
        register_estimator(store, BENCH_MODEL, _bench_estimator(reference), training_data=reference,
                           reason="drift bench")
        promote(store, BENCH_MODEL, 1, "production", reason="drift bench")
    finally:
        store.close()
    log(f"(d) building the store: model registered with its reference in "
        f"{time.perf_counter() - started:.1f} s; scoring the current rows into the log ...")
    code = wk(["--store", str(root), "score", BENCH_MODEL, "--source", str(current_path),
               "--sink", str(root / "scored.parquet"), "--run-id", "bench", "--no-progress",
               "--chunk-size", "50000"])
    if code != 0:
        raise RuntimeError(f"wk score exited {code} building the drift bench store")
    (root / "scored.parquet").unlink(missing_ok=True)
    marker.write_text("complete\n")
    log(f"(d) store built in {time.perf_counter() - started:.1f} s")
    return root


@dataclass
class WholeCheck:
    seconds: float
    cpu_seconds: float
    read_seconds: float
    rows: int
    refused: int
    status: str
    drifted: list[str]
    peak_rss_mb: float


def whole_check_from_store(reference: pd.DataFrame, current_path: Path,
                           log: Callable[[str], None]) -> WholeCheck:
    """The public entry point wk drift uses (read the window from the log, the tests, the
    domain classifier, store the DriftReport), timed end to end on the bench store; and
    the window read alone, timed separately, to show where the time goes."""
    from datetime import UTC, datetime, timedelta

    from monitoring.drift_check import run_drift
    from monitoring.subject import resolve_subject
    from monitoring.windows import Window
    from store.handle import open_store
    from store.logged_window import read_window

    root = bench_store(reference, current_path, log)
    window = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(hours=1))
    store = open_store(root)
    try:
        subject = resolve_subject(store, BENCH_MODEL)
        started = time.perf_counter()
        with store.db.read_core() as conn:
            logged = read_window(conn, subject.model_id, window.start, window.end,
                                 input_types=subject.input_types)
        read_seconds = time.perf_counter() - started
        rows = logged.rows
        del logged
        report, seconds, cpu = timed(lambda: run_drift(store, BENCH_MODEL, window))
    finally:
        store.close()
    refused = 0
    for f in report["feature_rows"]:
        refused = max(refused, sum((f.get("detail") or {}).get("new_categories", {}).values() or [0]))
    return WholeCheck(seconds, cpu, read_seconds, rows, refused, report["status"],
                      [f["feature"] for f in report["feature_rows"] if f["status"] == "drift"],
                      max_rss_mb())


def drift_screen_paint(root: Path, runs: int = 3) -> list[float]:
    """Seconds from starting the console on the bench store (a million logged rows and
    the drift report (d) stored) at `:drift bench-drift` to its feature table shown and
    rendered, in this process, at 80x24."""
    import asyncio

    from bench.console_paint import paint_until
    from console.app import make_app
    from console.screens.drift import DriftScreen

    def shown(screen: Any) -> bool:
        return isinstance(screen, DriftScreen) and screen._loaded_once

    return [asyncio.run(paint_until(make_app(root, refresh_interval=3600, start=f"drift {BENCH_MODEL}"),
                                    (80, 24), shown, "the Drift screen")) for _ in range(runs)]


# --- report ---------------------------------------------------------------------------------------

def machine_facts() -> list[str]:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()
    return [f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {mem:.0f} GiB RAM, "
            f"Python {platform.python_version()}, load average {load[0]:.1f} at start",
            "peers: " + ", ".join(f"{k} {v}" for k, v in peer_versions().items())]


def agreement_line(name: str, peer: PeerRun, wk: dict[str, bool]) -> str:
    same = sum(peer.features[f]["drifted"] == d for f, d in wk.items() if f in peer.features)
    return f"  verdicts agreeing with {name}: {same} of {len(wk)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference-rows", type=int, default=100_000)
    parser.add_argument("--current-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-defaults", action="store_true",
                        help="leave out Evidently with its default tests (saves about a minute)")
    args = parser.parse_args()

    def log(text: str) -> None:
        print(text, flush=True)

    for line in machine_facts():
        log(line)
    ensure_peers_venv()
    ref_path, cur_path = cached_frames(args.reference_rows, args.current_rows, args.seed, log)
    started = time.perf_counter()
    reference = pd.read_parquet(ref_path)
    current = pd.read_parquet(cur_path)
    log(f"data: reference {len(reference):,} rows, current {len(current):,} rows, "
        f"{N_NUMERIC} numeric + {N_CATEGORICAL} categorical features "
        f"(read in {time.perf_counter() - started:.1f} s); drifted by design: "
        + "; ".join(f"{k} {v}" for k, v in DRIFTED.items()))

    api = watchkeeper_api()
    wk: WkRun | None = None
    if isinstance(api, str):
        log(f"(c) Watchkeeper check_features: not available yet: {api}")
        config, chosen_by = fallback_config(), "KS / chi-squared at 0.05 (Watchkeeper's not available)"
    else:
        wk = watchkeeper_run(api, reference, current)
        config, chosen_by = wk_config(wk.verdicts), "the tests and thresholds Watchkeeper chose"

    floor, floor_seconds, floor_cpu = timed(lambda: scipy_floor(reference, current))

    same = evidently_run(ref_path, cur_path, config, defaults=False)
    defaults = None if args.skip_defaults else evidently_run(ref_path, cur_path, config, True)

    log("")
    log(f"drift check, {len(current):,} current rows against {len(reference):,} reference rows "
        f"(wall s / CPU s of the process; load average now {os.getloadavg()[0]:.1f})")
    if defaults is not None:
        tests = sorted({f["test"] for f in defaults.features.values()})
        log(f"(a) Evidently, default tests ({', '.join(tests)}): {defaults.seconds:6.1f} s / "
            f"{defaults.cpu_seconds:.1f} s CPU  (subprocess {defaults.wall_seconds:.1f} s wall: "
            f"read {defaults.read_seconds:.1f} s, warm-up {defaults.warmup_seconds:.1f} s, "
            "the rest start-up and imports)")
    log(f"(a) Evidently, same tests ({chosen_by}): {same.seconds:6.1f} s / "
        f"{same.cpu_seconds:.1f} s CPU  (subprocess {same.wall_seconds:.1f} s wall: "
        f"read {same.read_seconds:.1f} s, warm-up {same.warmup_seconds:.1f} s)")
    log(f"(b) scipy floor (ks_2samp + chi2_contingency per column, frames in memory): "
        f"{floor_seconds:6.1f} s / {floor_cpu:.1f} s CPU")
    if wk is not None:
        log(f"(c) Watchkeeper check_features: {wk.check_seconds:6.2f} s / "
            f"{wk.check_cpu_seconds:.2f} s CPU  (profile fitted once: {wk.fit_seconds:.1f} s)")
        log(f"    peak memory of the check: {wk.traced_peak_mb:.0f} MiB traced (tracemalloc); "
            f"process peak RSS {wk.rss_before_mb:.0f} MiB before, {wk.rss_after_mb:.0f} MiB after")
        speedup = same.seconds / wk.check_seconds
        speedup_cpu = same.cpu_seconds / wk.check_cpu_seconds
        met = min(speedup, speedup_cpu) >= TARGET_SPEEDUP_OVER_EVIDENTLY
        log(f"    Evidently same tests / Watchkeeper: {speedup:.1f}x wall, {speedup_cpu:.1f}x CPU "
            f"(target >= {TARGET_SPEEDUP_OVER_EVIDENTLY:.0f}x: {'met' if met else 'NOT met'})")
        if defaults is not None:
            log(f"    Evidently default tests / Watchkeeper: "
                f"{defaults.seconds / wk.check_seconds:.1f}x wall, "
                f"{defaults.cpu_seconds / wk.check_cpu_seconds:.1f}x CPU")
        log(f"    Watchkeeper / scipy floor: {wk.check_seconds / floor_seconds:.2f}x wall, "
            f"{wk.check_cpu_seconds / floor_cpu:.2f}x CPU")
        verdicts = {v.feature: v.status == "drift" for v in wk.verdicts}
        log(agreement_line("Evidently, same tests", same, verdicts))
    else:
        log("(c) Watchkeeper check_features: not available yet (ratios follow when it lands)")
    log(f"    Evidently same tests / scipy floor: {same.seconds / floor_seconds:.1f}x wall, "
        f"{same.cpu_seconds / floor_cpu:.1f}x CPU")
    whole = whole_check_from_store(reference, cur_path, log)
    log(f"(d) whole check (wk drift's entry point: read {whole.rows:,} logged rows, tests, domain "
        f"classifier, store the report): {whole.seconds:6.1f} s / {whole.cpu_seconds:.1f} s CPU "
        f"(target < {TARGET_WHOLE_CHECK_SECONDS:.0f} s: "
        f"{'met' if whole.seconds < TARGET_WHOLE_CHECK_SECONDS else 'NOT met'}); the window read "
        f"alone {whole.read_seconds:.1f} s; status {whole.status}, drifted: {', '.join(whole.drifted)}; "
        f"process peak RSS {whole.peak_rss_mb:.0f} MiB")
    paints = drift_screen_paint(DATA / f"drift-store-{cur_path.stem}")
    log("(e) the console's Drift screen on that store, first paint at 80x24 (in process): "
        + ", ".join(f"{p:.2f}" for p in paints) + " s (target < 1 s; the first includes imports)")
    log("")
    log("per feature (drifted by design marked *): floor p-value | Evidently same tests | "
        "Evidently defaults")
    for name in NUMERIC + CATEGORICAL:
        s = same.features.get(name, {})
        d = defaults.features.get(name, {}) if defaults else {}
        mark = "*" if name in DRIFTED else " "
        log(f"  {mark}{name:7s} p={floor[name]:9.3g} | {s.get('test', '-'):13s} "
            f"{s.get('statistic', float('nan')):9.3g} {'DRIFT' if s.get('drifted') else 'ok':5s} | "
            f"{d.get('test', '-'):13s} {d.get('statistic', float('nan')):9.3g} "
            f"{'DRIFT' if d.get('drifted') else ('ok' if d else '-')}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
