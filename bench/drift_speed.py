"""Time the drift statistics on the issue's bench shape (a script, not a test):

    .venv/bin/python -m bench.drift_speed [--rows 1000000] [--reference 100000]

25 features (20 numeric, 5 categorical), a reference of 100,000 rows fitted into a
profile once, then check_features over a current window of 1,000,000 rows (half the
numeric features shifted, so both verdicts occur). Prints the fit and check times and
the process's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from monitoring.drift import DRIFT, check_features
from registry.reference_profile import fit_profile
from registry.signature import infer_signature

CATEGORIES = [f"c{i}" for i in range(12)]


def frame(rows: int, seed: int, shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    for i in range(20):
        values = rng.lognormal(3.0, 0.6, rows) if i % 2 else rng.normal(50.0, 10.0, rows)
        data[f"num{i}"] = np.round(values * (1 + shift * (i < 10)), 2)
    for i in range(5):
        p = np.linspace(1.0, 3.0, len(CATEGORIES))
        data[f"cat{i}"] = rng.choice(CATEGORIES, size=rows, p=p / p.sum())
    return pd.DataFrame(data)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reference", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    reference = frame(args.reference, 1, 0.0)
    current = frame(args.rows, 2, 0.05)
    t0 = time.perf_counter()
    profile = fit_profile(reference, infer_signature(reference)["columns"])
    fit = time.perf_counter() - t0
    checks = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        verdicts = check_features(profile, current)
        checks.append(time.perf_counter() - t0)
    drifted = sum(v.status == DRIFT for v in verdicts)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"fit_profile on {args.reference:,} rows x 25 features: {fit:.2f} s")
    print(f"check_features on {args.rows:,} rows x 25 features: "
          f"{', '.join(f'{c:.2f}' for c in checks)} s (best {min(checks):.2f} s); "
          f"{drifted} of {len(verdicts)} drifted; peak RSS {peak_mib:,.0f} MiB "
          f"(the frames themselves included)")


if __name__ == "__main__":
    main()
