"""Drift statistics, reference profiles and summaries (pure; PBT-03 of reliability.md).

Properties: PSI(x, x) = 0, PSI >= 0 and finite with empty bins, Jensen-Shannon in [0, 1]
and 0 for identical shares, KS and Wasserstein of a sample against itself 0 (and equal to
scipy's on any input), unseen categories named and counted without a crash, no NaN out of
inputs with NaN. Scenarios on the sample models: income drift flagged with a reason
naming the test, a new category named with its count, 37 rows "insufficient", and over
100 seeded windows without an event at most 5% with any drifted feature.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from monitoring import drift_stats
from monitoring.drift import (
    DRIFT,
    INSUFFICIENT,
    OK,
    TESTS,
    FeatureDrift,
    check_features,
    drift_share,
)
from monitoring.summary import summarize
from registry.reference_profile import fit_profile
from registry.signature import infer_signature
from sample_models import USE_CASES
from sample_models.events import covariate_drift, new_category
from store.errors import InvalidInput

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
counts = st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=30)
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
AT = datetime(2026, 3, 1, tzinfo=UTC)


def _profile_of(frame: pd.DataFrame) -> dict:
    return fit_profile(frame, infer_signature(frame)["columns"])


# -- PBT-03: the statistics -------------------------------------------------------------


@PROPERTY
@given(counts)
def test_psi_of_a_distribution_against_itself_is_zero(values: list[int]) -> None:
    c = np.array(values)
    assert drift_stats.psi(c, c) == 0.0


@PROPERTY
@given(st.integers(min_value=1, max_value=30).flatmap(
    lambda k: st.tuples(st.lists(st.integers(0, 1000), min_size=k, max_size=k),
                        st.lists(st.integers(0, 1000), min_size=k, max_size=k))))
def test_psi_is_non_negative_and_finite_with_empty_bins(pair: tuple[list[int], list[int]]) -> None:
    ref, cur = (np.array(v) for v in pair)
    value = drift_stats.psi(ref, cur)
    assert math.isfinite(value) and value >= 0.0


def test_psi_with_an_empty_bin_is_large_but_finite() -> None:
    value = drift_stats.psi(np.array([50, 50, 0]), np.array([30, 30, 40]))
    assert math.isfinite(value) and value > 1.0


@PROPERTY
@given(st.integers(min_value=1, max_value=30).flatmap(
    lambda k: st.tuples(st.lists(st.integers(0, 1000), min_size=k, max_size=k),
                        st.lists(st.integers(0, 1000), min_size=k, max_size=k))))
def test_jensen_shannon_is_in_0_1_and_0_for_identical(pair: tuple[list[int], list[int]]) -> None:
    ref, cur = (np.array(v) for v in pair)
    assert 0.0 <= drift_stats.jensen_shannon(ref, cur) <= 1.0
    assert drift_stats.jensen_shannon(ref, ref) == pytest.approx(0.0, abs=1e-7)
    assert 0.0 <= drift_stats.total_variation(ref, cur) <= 1.0


@PROPERTY
@given(st.lists(finite, min_size=1, max_size=300))
def test_ks_and_wasserstein_of_a_sample_against_itself_are_zero(values: list[float]) -> None:
    x = np.sort(np.array(values))
    statistic, p_value = drift_stats.ks_two_sample(x, x)
    assert statistic == 0.0 and p_value == pytest.approx(1.0)
    assert drift_stats.wasserstein(x, x) == 0.0


@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful")
@PROPERTY
@given(st.lists(finite, min_size=1, max_size=200), st.lists(finite, min_size=1, max_size=200))
def test_wasserstein_and_ks_agree_with_scipy(a: list[float], b: list[float]) -> None:
    x, y = np.sort(np.array(a)), np.sort(np.array(b))
    expected = stats.wasserstein_distance(x, y)
    assert drift_stats.wasserstein(x, y) == pytest.approx(expected, rel=1e-9, abs=1e-6)
    assert drift_stats.ks_two_sample(x, y)[0] == pytest.approx(stats.ks_2samp(x, y).statistic)


def test_ks_above_the_exact_size_matches_scipys_asymptotic_test() -> None:
    rng = np.random.default_rng(3)
    x = np.sort(np.round(rng.normal(size=3_000), 1))
    y = np.sort(np.round(rng.normal(0.05, 1.0, size=40_000), 1))
    expected = stats.ks_2samp(x, y, method="asymp")
    statistic, p_value = drift_stats.ks_two_sample(x, y)
    assert statistic == pytest.approx(expected.statistic)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-6)


categories = st.sampled_from(["a", "b", "c", "d", "e", "f"])


@PROPERTY
@given(st.lists(categories, min_size=1, max_size=60), st.lists(categories, min_size=1,
                                                               max_size=60))
def test_unseen_categories_are_named_and_counted_never_a_crash(ref: list[str],
                                                               cur: list[str]) -> None:
    profile = _profile_of(pd.DataFrame({"c": ref}))
    for test in ("jensenshannon", "chisquare", "psi"):
        (verdict,) = check_features(profile, pd.DataFrame({"c": cur}), min_rows=1,
                                    overrides={"c": {"test": test}})
        expected = {k: cur.count(k) for k in set(cur) - set(ref)}
        assert verdict.new_categories == expected
        assert verdict.status in (DRIFT, OK)
        for name in expected:
            assert name in verdict.reason


# rows drawn as tuples and made a frame: hypothesis.extra.pandas.data_frames takes about
# 0.1-0.3 s per frame here (pandas 3), which would make this one test take minutes
frames = st.lists(
    st.tuples(st.floats(allow_nan=True, allow_infinity=True),
              st.one_of(st.none(), st.sampled_from(["u", "v", "w"])), st.booleans()),
    min_size=1, max_size=40,
).map(lambda rows: pd.DataFrame(rows, columns=["x", "k", "b"]))


def _no_nan(value: object) -> None:
    json.dumps(value, allow_nan=False)  # raises ValueError on NaN or infinity


@PROPERTY
@given(frames, frames)
def test_no_nan_out_for_inputs_with_nan(reference: pd.DataFrame, current: pd.DataFrame) -> None:
    columns = [{"name": "x", "kind": "numeric"}, {"name": "k", "kind": "categorical"},
               {"name": "b", "kind": "boolean"}]
    profile = fit_profile(reference, columns, sample_size=10)
    _no_nan(profile)
    for verdict in check_features(profile, current, min_rows=1):
        _no_nan(verdict.to_dict())
        assert verdict.status in (DRIFT, OK, INSUFFICIENT)


# -- profiles ---------------------------------------------------------------------------


def test_profile_has_what_the_tests_need_and_a_bounded_seeded_sample() -> None:
    frame = pd.read_csv(USE_CASES["credit"].data)
    features = list(USE_CASES["credit"].features)
    columns = infer_signature(frame[features])["columns"]
    profile = fit_profile(frame, columns, sample_size=500, seed=7)
    _no_nan(profile)
    income = profile["features"]["income"]
    assert income["n"] == 6000 and income["missing_share"] == 0.0
    assert {"0.001", "0.01", "0.05", "0.25", "0.5", "0.75", "0.95", "0.99", "0.999"} <= set(
        income["quantiles"])
    assert len(income["bin_counts"]) == len(income["bin_edges"]) + 1
    assert sum(income["bin_counts"]) == 6000
    assert income["min"] == frame["income"].min() and income["max"] == frame["income"].max()
    region = profile["features"]["region"]
    assert sum(region["frequencies"].values()) == 6000 and region["distinct"] == 4
    assert len(profile["sample"]["rows"]) == 500
    assert profile["sample"]["columns"] == features
    assert profile["sample"] == fit_profile(frame, columns, sample_size=500, seed=7)["sample"]
    assert profile["sample"] != fit_profile(frame, columns, sample_size=500, seed=8)["sample"]


def test_a_signature_column_missing_from_the_data_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="no column 'age'") as caught:
        fit_profile(pd.DataFrame({"income": [1.0]}),
                    [{"name": "income", "kind": "numeric"}, {"name": "age", "kind": "numeric"}])
    assert caught.value.field == "columns"


# -- scenarios on the sample models ---------------------------------------------------------


@pytest.fixture(scope="module")
def credit_profile() -> dict:
    frame = pd.read_csv(USE_CASES["credit"].data)
    columns = infer_signature(frame[list(USE_CASES["credit"].features)])["columns"]
    return fit_profile(frame, columns)


def _verdict(verdicts: list[FeatureDrift], feature: str) -> FeatureDrift:
    return next(v for v in verdicts if v.feature == feature)


def test_covariate_drift_on_income_is_flagged_with_a_reason_naming_the_test(
        credit_profile: dict) -> None:
    window = USE_CASES["credit"].generate(1_240, AT, seed=5,
                                          events=[covariate_drift(AT, "income", scale=0.8)])
    verdicts = check_features(credit_profile, window)
    income = _verdict(verdicts, "income")
    assert income.status == DRIFT
    assert income.reason.startswith(f"{income.test} (")
    assert "6,000 ref / 1,240 cur rows" in income.reason
    assert income.effect_size is not None and income.effect_size > 0.15
    assert [v.feature for v in verdicts if v.status == DRIFT] == ["income"]
    assert drift_share(verdicts) == pytest.approx(1 / 7)
    assert income.summary["current"]["mean"] < 0.9 * income.summary["reference"]["mean"]
    histogram = income.histogram
    assert len(histogram["edges"]) == len(histogram["reference"]) + 1 == len(
        histogram["current"]) + 1
    assert sum(histogram["current"]) == pytest.approx(1.0)
    assert histogram["current"][0] > histogram["reference"][0]  # more low incomes


def test_a_new_category_is_named_with_its_count(credit_profile: dict) -> None:
    window = USE_CASES["credit"].generate(
        1_000, AT, seed=6, events=[new_category(AT, "employment_type", "gig", share=0.1)])
    verdict = _verdict(check_features(credit_profile, window), "employment_type")
    count = int((window["employment_type"] == "gig").sum())
    assert count > 50
    assert verdict.new_categories == {"gig": count}
    assert f"gig ({count:,})" in verdict.reason
    assert verdict.status == DRIFT
    assert "gig" in verdict.histogram["categories"]


def test_37_rows_are_insufficient_never_ok_nor_drift(credit_profile: dict) -> None:
    window = USE_CASES["credit"].generate(37, AT, seed=7)
    for verdict in check_features(credit_profile, window):
        assert verdict.status == INSUFFICIENT
        assert verdict.reason == "insufficient data: 37 rows, need 100"
        assert verdict.test is None and verdict.statistic is None
    assert drift_share(check_features(credit_profile, window)) == 0.0


def test_missing_values_count_against_the_rows_a_test_needs(credit_profile: dict) -> None:
    window = USE_CASES["credit"].generate(300, AT, seed=8)
    window.loc[window.index[:250], "age"] = np.nan
    verdict = _verdict(check_features(credit_profile, window), "age")
    assert verdict.status == INSUFFICIENT
    assert verdict.reason == "insufficient data: 50 rows, need 100 (250 of 300 values missing)"


def test_overrides_choose_test_and_threshold_and_refuse_what_does_not_fit(
        credit_profile: dict) -> None:
    window = USE_CASES["credit"].generate(1_000, AT, seed=9)
    verdict = _verdict(check_features(credit_profile, window,
                                      overrides={"income": {"test": "psi", "threshold": 0.5}}),
                       "income")
    assert (verdict.test, verdict.threshold) == ("psi", 0.5)
    assert "set in the model's config" in verdict.reason
    with pytest.raises(InvalidInput, match=r"'income'.*unknown test 'anova'.*ks, wasserstein"):
        check_features(credit_profile, window, overrides={"income": {"test": "anova"}})
    with pytest.raises(InvalidInput, match=r"'region'.*'ks' does not fit.*jensenshannon"):
        check_features(credit_profile, window, overrides={"region": {"test": "ks"}})
    with pytest.raises(InvalidInput, match="'income': threshold must be a number > 0"):
        check_features(credit_profile, window, overrides={"income": {"threshold": 5}})
    with pytest.raises(InvalidInput, match="unknown feature 'salary'"):
        check_features(credit_profile, window, overrides={"salary": {"test": "psi"}})


def test_a_boolean_logged_as_numbers_or_text_is_the_same_boolean() -> None:
    profile = _profile_of(pd.DataFrame({"flag": [True, False] * 100}))
    for logged in ([1, 0] * 100, ["true", "false"] * 100, [True, False] * 100):
        (verdict,) = check_features(profile, pd.DataFrame({"flag": logged}))
        assert verdict.status == OK and verdict.new_categories == {}
        assert verdict.statistic == pytest.approx(0.0)


def test_a_significant_change_too_small_to_matter_is_ok_and_says_so() -> None:
    rng = np.random.default_rng(12)
    profile = _profile_of(pd.DataFrame({"x": rng.normal(0.0, 1.0, 20_000)}))
    small = check_features(profile, pd.DataFrame({"x": rng.normal(0.08, 1.0, 200_000)}))[0]
    assert small.p_value is not None and small.p_value < small.threshold  # significant
    assert small.effect_size is not None and small.effect_size < 0.1
    assert small.status == OK and "too small to matter" in small.reason
    large = check_features(profile, pd.DataFrame({"x": rng.normal(0.3, 1.0, 200_000)}))[0]
    assert large.status == DRIFT and large.min_effect == 0.1


def test_the_test_registry_says_kinds_thresholds_and_direction() -> None:
    assert {"ks", "wasserstein", "psi", "chisquare", "jensenshannon"} <= set(TESTS)
    assert TESTS["ks"].p_value and not TESTS["wasserstein"].p_value
    assert "categorical" in TESTS["chisquare"].kinds and "numeric" in TESTS["ks"].kinds


def test_summary_counts_outliers_and_values_outside_the_training_range() -> None:
    reference = pd.DataFrame({"x": np.random.default_rng(0).normal(10.0, 1.0, 10_000)})
    profile = _profile_of(reference)
    current = pd.Series([10.0] * 90 + [20.0] * 5 + [-5.0] * 5 + [np.nan] * 10)
    summary = summarize(profile["features"]["x"], current)
    now = summary["current"]
    assert now["n"] == 100 and now["missing_share"] == pytest.approx(10 / 110)
    assert now["outside_range_share"] == pytest.approx(0.10)
    assert now["outlier_z_share"] == pytest.approx(0.10)
    assert now["outlier_quantile_share"] == pytest.approx(0.10)
    assert now["median"] == 10.0 and now["iqr"] == 0.0
    ref = summary["reference"]
    assert set(ref) == set(now)
    assert ref["outlier_quantile_share"] == pytest.approx(0.002, abs=0.001)
    assert ref["iqr"] == pytest.approx(1.35, abs=0.1)


def test_over_100_windows_without_an_event_at_most_5_percent_show_drift(
        credit_profile: dict) -> None:
    """The acceptance's false-alarm bound, on the credit model's 7 features: 100 windows of
    1,000 rows from a stream generated without events (seeded), against the profile of the
    shipped training data (fitted once)."""
    stream = USE_CASES["credit"].generate(100_000, AT, seed=11)
    alarms = 0
    for start in range(0, 100_000, 1_000):
        verdicts = check_features(credit_profile, stream.iloc[start:start + 1_000])
        assert all(v.status != INSUFFICIENT for v in verdicts)
        alarms += any(v.status == DRIFT for v in verdicts)
    assert alarms <= 5


@pytest.mark.parametrize("n, m", [(1, 7), (7, 5), (100, 33), (500, 20_000), (3, 1_000)])
def test_wasserstein_by_prefix_sums_agrees_with_scipy(monkeypatch: pytest.MonkeyPatch, n: int,
                                                      m: int) -> None:
    monkeypatch.setattr(drift_stats, "WASSERSTEIN_DIRECT_MAX", 0)
    rng = np.random.default_rng(n * m)
    x = np.sort(np.round(rng.normal(size=n), 1))
    y = np.sort(np.round(rng.lognormal(0.1, 1.1, size=m), 1))
    assert drift_stats.wasserstein(x, y) == pytest.approx(stats.wasserstein_distance(x, y),
                                                          rel=1e-9)
