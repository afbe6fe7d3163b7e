"""bench.drift's generated data drifts where DRIFTED says and nowhere else, so its speed and
agreement figures compare the tools on a known answer (the benchmark itself is run by hand)."""

from __future__ import annotations

import pandas as pd

from bench.drift import CATEGORICAL, DRIFTED, NUMERIC, generate, scipy_floor


def test_generate_is_seeded_and_has_the_signature() -> None:
    first, again = generate(2_000, 7, drifted=True), generate(2_000, 7, drifted=True)
    pd.testing.assert_frame_equal(first, again)
    assert list(first.columns) == NUMERIC + CATEGORICAL
    assert first["num_04"].isna().mean() > 0  # the missing values the checks must skip
    assert "zz" in set(first["cat_1"])
    assert "zz" not in set(generate(2_000, 7, drifted=False)["cat_1"])


def test_floor_flags_the_designed_drift_only() -> None:
    reference = generate(20_000, 0, drifted=False)
    current = generate(20_000, 1, drifted=True)
    p = scipy_floor(reference, current)
    # num_03's +0.02 sd needs about 1M rows to show (it is there for the effect floor)
    visible = set(DRIFTED) - {"num_03"}
    assert {name for name, value in p.items() if value < 1e-6} == visible
    assert min(value for name, value in p.items() if name not in DRIFTED) > 1e-3
