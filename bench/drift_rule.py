"""The evidence behind monitoring/DRIFT_RULE.md: false alarms and detections per rule.

For each candidate default rule and window size, over seeded windows of the sample
models' streams: the share of windows without an event in which ANY feature is flagged
(false alarm per window), and the share of windows with a scripted event in which the
event's feature is flagged (detection). Run:

    .venv/bin/python -m bench.drift_rule [--windows 100] [--sizes 200,1000,10000,100000]

Prints a Markdown table (a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from monitoring import drift_stats
from monitoring.drift import DRIFT, check_features
from monitoring.drift_rule import tested_as
from registry.reference_profile import bin_counts_sorted, category_counts, fit_profile
from registry.signature import infer_signature
from sample_models import USE_CASES
from sample_models.events import Event, broken_column, covariate_drift, new_category

Rule = Callable[[dict[str, Any], int], dict[str, dict[str, Any]]]
START = datetime(2026, 3, 1, tzinfo=UTC)


def _numeric_names(profile: dict[str, Any]) -> list[str]:
    return [n for n, f in profile["features"].items() if f["kind"] == "numeric"]


def rule_default(profile: dict[str, Any], window: int) -> dict[str, dict[str, Any]]:
    """monitoring.drift's default rule (no overrides)."""
    return {}


def rule_evidently(profile: dict[str, Any], window: int) -> dict[str, dict[str, Any]]:
    """Evidently's rule for references above 1,000 rows: normalised Wasserstein 0.1 for a
    numeric feature, Jensen-Shannon 0.1 for a categorical one (and numeric with few values)."""
    return {name: {"test": "wasserstein" if tested_as(f) == "numeric" else "jensenshannon"}
            for name, f in profile["features"].items()}


def rule_no_low_cardinality(profile: dict[str, Any], window: int) -> dict[str, dict[str, Any]]:
    """Evidently's rule with every numeric feature numeric (Wasserstein)."""
    return {**rule_evidently(profile, window),
            **{n: {"test": "wasserstein"} for n in _numeric_names(profile)}}


def _pvalue_rule(alpha: Callable[[int], float], floor: dict[str, float] | None = None) -> Rule:
    def rule(profile: dict[str, Any], window: int) -> dict[str, dict[str, Any]]:
        features = profile["features"]
        k = len(features)
        out = {}
        for name, feature in features.items():
            numeric = tested_as(feature) == "numeric"
            out[name] = {"test": "ks" if numeric else "chisquare", "threshold": alpha(k)}
        return out
    rule.floor = floor  # type: ignore[attr-defined]
    return rule


def rule_psi(profile: dict[str, Any], window: int) -> dict[str, dict[str, Any]]:
    return {name: {"test": "psi", "threshold": 0.2} for name in profile["features"]}


class NannyRule:
    """NannyML's default: Jensen-Shannon for every feature, threshold mean + 3 std of the
    statistic over reference chunks of the window's size (consecutive rows, in time order)."""

    def __init__(self, reference: pd.DataFrame) -> None:
        self.reference = reference
        self.cache: dict[int, dict[str, dict[str, Any]]] = {}

    def __call__(self, profile: dict[str, Any], window: int) -> dict[str, dict[str, Any]]:
        if window in self.cache:
            return self.cache[window]
        chunks = [self.reference.iloc[i:i + window]
                  for i in range(0, len(self.reference) - window + 1, window)]
        out: dict[str, dict[str, Any]] = {}
        for name, feature in profile["features"].items():
            values = [_js(feature, chunk[name]) for chunk in chunks]
            threshold = float(np.mean(values) + 3 * np.std(values)) if len(values) > 1 else 0.1
            out[name] = {"test": "jensenshannon", "threshold": max(threshold, 1e-6)}
        self.cache[window] = out
        return out


def _js(feature: dict[str, Any], column: pd.Series) -> float:
    if feature["kind"] == "numeric" and feature.get("value_counts") is None:
        edges = np.asarray(feature["bin_edges"])
        values = np.sort(column.to_numpy(dtype=float))
        return drift_stats.jensen_shannon(np.asarray(feature["bin_counts"]),
                                          bin_counts_sorted(edges, values))
    if feature["kind"] == "numeric":
        counts = feature["value_counts"]
        ref = dict(zip([str(int(v)) for v in counts["values"]], counts["counts"], strict=True))
        cur = category_counts(column.astype("int64"))
    else:
        ref, cur = feature["frequencies"], category_counts(column)
    names = list(dict.fromkeys([*ref, *cur]))
    return drift_stats.jensen_shannon(np.array([ref.get(k, 0) for k in names]),
                                      np.array([cur.get(k, 0) for k in names]))


def _events(case: str, at: datetime) -> dict[str, tuple[str, list[Event]]]:
    if case == "credit":
        return {
            "income x0.8": ("income", [covariate_drift(at, "income", scale=0.8)]),
            "income x0.97": ("income", [covariate_drift(at, "income", scale=0.97)]),
            "new employment 10%": ("employment_type",
                                   [new_category(at, "employment_type", "gig", share=0.1)]),
            "new employment 2%": ("employment_type",
                                  [new_category(at, "employment_type", "gig", share=0.02)]),
            "age x12 (units)": ("age", [broken_column(at, "age", mode="scale", scale=12.0)]),
            "age nulls": ("age", [broken_column(at, "age", mode="nulls")]),
        }
    return {
        "temperature F": ("temperature", [broken_column(at, "temperature", mode="fahrenheit")]),
        "humidity +5": ("humidity", [covariate_drift(at, "humidity", shift=5.0)]),
        "new region 10%": ("store_region", [new_category(at, "store_region", "central")]),
    }


def _window(case: str, size: int, seed: int, events: list[Event]) -> pd.DataFrame:
    use_case = USE_CASES[case]
    start = START
    if case == "demand":  # windows inside the training period's season where they fit
        hours = (56 * 24 - size / use_case.rows_per_hour)
        offset = max(0.0, hours) * np.random.default_rng(seed).random()
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=float(offset))
        events = [Event.from_dict({**e.to_dict(), "at": start.isoformat()}) for e in events]
    return use_case.generate(size, start, seed=seed, events=events)


def run(case: str, reference: pd.DataFrame, rules: dict[str, Rule], sizes: list[int],
        windows: int, event_windows: int) -> list[dict[str, Any]]:
    features = list(USE_CASES[case].features)
    signature = infer_signature(reference[features])
    profile = fit_profile(reference, signature["columns"])
    rows: list[dict[str, Any]] = []
    for size in sizes:
        n_quiet = windows if size <= 10_000 else max(10, windows // 5)
        quiet = [_window(case, size, 1000 + s, []) for s in range(n_quiet)]
        eventful = {
            label: (feature, [_window(case, size, 2000 + s, events)
                              for s in range(event_windows)])
            for label, (feature, events) in _events(case, START).items()
        }
        for rule_name, rule in rules.items():
            overrides = rule(profile, size)
            t0 = time.perf_counter()
            alarms = 0
            per_feature: dict[str, int] = {}
            floor = getattr(rule, "floor", None)

            def drifted(v: Any, floor: dict[str, float] | None = floor) -> bool:
                if v.status != DRIFT:
                    return False
                return floor is None or v.effect_size >= floor[v.effect_name]

            for frame in quiet:
                flagged = [v.feature for v in check_features(profile, frame, overrides=overrides)
                           if drifted(v)]
                alarms += bool(flagged)
                for f in flagged:
                    per_feature[f] = per_feature.get(f, 0) + 1
            row: dict[str, Any] = {
                "case": case, "reference": len(reference), "window": size, "rule": rule_name,
                "false_alarm": alarms / len(quiet), "n_quiet": len(quiet),
                "noisy": ", ".join(f"{k} {v}" for k, v in sorted(per_feature.items(),
                                                                 key=lambda kv: -kv[1])[:3]),
            }
            for label, (feature, frames) in eventful.items():
                hits = 0
                for frame in frames:
                    verdict = next(v for v in check_features(profile, frame, overrides=overrides)
                                   if v.feature == feature)
                    hits += drifted(verdict)
                row[label] = hits / len(frames)
            row["seconds"] = time.perf_counter() - t0
            rows.append(row)
            print(row, flush=True)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    events = [k for k in rows[0] if k not in ("case", "reference", "window", "rule",
                                              "false_alarm", "n_quiet", "noisy", "seconds")]
    head = ["reference", "window", "rule", "false alarm / window", *events, "noisiest"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [f"{r['reference']:,}", f"{r['window']:,}", r["rule"],
                 f"{r['false_alarm']:.0%} ({r['n_quiet']})",
                 *(f"{r[e]:.0%}" for e in events), r["noisy"] or "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=100)
    parser.add_argument("--event-windows", type=int, default=20)
    parser.add_argument("--sizes", default="200,1000,10000,100000")
    parser.add_argument("--case", default="credit")
    parser.add_argument("--reference", default="shipped", help="shipped or a row count")
    parser.add_argument("--rules", default="", help="a substring of the rules to run")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    case = USE_CASES[args.case]
    if args.reference == "shipped":
        reference = pd.read_csv(case.data)
    else:
        reference = case.generate(int(args.reference), datetime(2025, 1, 1, tzinfo=UTC),
                                  seed=99)
    rules: dict[str, Rule] = {
        "default (KS/chi2 p < 0.05/k, effect >= 0.1 W/std or 0.01 TV)": rule_default,
        "evidently (W/JS 0.1, ints <= 10 values as categories)": rule_evidently,
        "evidently, ints numeric": rule_no_low_cardinality,
        "KS/chi2 p < 0.05": _pvalue_rule(lambda k: 0.05),
        "KS/chi2 p < 0.05/k": _pvalue_rule(lambda k: 0.05 / k),
        "KS/chi2 p < 0.05/k, effect >= 0.05 W/std or 0.02 TV": _pvalue_rule(
            lambda k: 0.05 / k, {"wasserstein/std": 0.05, "total variation": 0.02}),
        "KS/chi2 p < 0.05/k, effect >= 0.1 W/std or 0.05 TV": _pvalue_rule(
            lambda k: 0.05 / k, {"wasserstein/std": 0.1, "total variation": 0.05}),
        "PSI 0.2": rule_psi,
        "nannyml (JS, mean+3sd of ref chunks)": NannyRule(reference),
    }
    rules = {k: v for k, v in rules.items() if args.rules in k}
    rows = run(args.case, reference, rules, sizes, args.windows, args.event_windows)
    print(table(rows))


if __name__ == "__main__":
    main()
