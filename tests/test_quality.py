"""Data quality per window (monitoring.quality): broken feeds and unit changes are errors
that name the column and the figures; windows without an event give none."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from quality_data import reference, windows

from monitoring.quality import check_quality
from sample_models import USE_CASES
from sample_models.events import broken_column, covariate_drift

AT = datetime(2026, 1, 20, tzinfo=UTC)


def _window(case: str, rows: int = 500, seed: int = 7, events: tuple = ()) -> pd.DataFrame:
    use = USE_CASES[case]
    return use.generate(rows, AT, seed=seed, events=list(events))[list(use.features)]


def _errors(report, column: str | None = None) -> dict[str, str]:
    return {f.check: f.reason for f in report.findings
            if f.severity == "error" and (column is None or f.column == column)}


@pytest.mark.parametrize("case", ["credit", "demand"])
@pytest.mark.parametrize("with_profile", [True, False], ids=["profile", "signature-only"])
def test_100_windows_without_an_event_give_no_error(case: str, with_profile: bool) -> None:
    _, signature, profile = reference(case)
    errors = []
    for number, window in enumerate(windows(case, 100, 500)):
        report = check_quality(window, signature, profile if with_profile else None)
        errors += [(number, f.reason) for f in report.errors]
        assert report.status == "ok", report.reason
    assert errors == []


BROKEN = [("demand", "temperature"), ("credit", "income"), ("credit", "age")]


@pytest.mark.parametrize(("case", "column"), BROKEN)
def test_a_column_turned_null_is_a_broken_feed(case: str, column: str) -> None:
    _, signature, profile = reference(case)
    window = _window(case, events=[broken_column(AT, column, mode="nulls")])
    for prof in (profile, None):
        report = check_quality(window, signature, prof)
        assert report.status == "failed"
        errors = _errors(report, column)
        assert set(errors) == {"all_null"}  # not a second finding for the missing share
        assert errors["all_null"].startswith(f"{column}: all 500 values are null")
        assert _errors(report).keys() == {"all_null"}  # the other columns are fine


@pytest.mark.parametrize(("case", "column"), BROKEN)
def test_values_times_1000_are_a_unit_change(case: str, column: str) -> None:
    _, signature, profile = reference(case)
    window = _window(case, events=[broken_column(AT, column, mode="scale")])
    for prof in (profile, None):
        report = check_quality(window, signature, prof)
        errors = _errors(report, column)
        assert {"unit_change", "range"} <= set(errors), report.findings
        assert errors["unit_change"].startswith(f"{column}: ")
        assert "x1000" in errors["unit_change"]
    # with a profile the reason gives the medians, before and after
    reason = _errors(check_quality(window, signature, profile), column)["unit_change"]
    median = profile["features"][column]["quantiles"]["0.5"]
    assert reason.startswith(f"{column}: median ")
    assert abs(float(reason.split("median ")[1].split(" ")[0].replace(",", "")) - median) < 0.05 * abs(median) + 0.1


@pytest.mark.parametrize(("case", "column"), BROKEN)
def test_celsius_turned_fahrenheit_is_a_unit_change(case: str, column: str) -> None:
    _, signature, profile = reference(case)
    window = _window(case, events=[broken_column(AT, column, mode="fahrenheit")])
    report = check_quality(window, signature, profile)
    errors = _errors(report, column)
    assert "Celsius -> Fahrenheit" in errors["unit_change"], report.findings
    if column != "income":
        # without a profile only the range says it, and x1.8 + 32 keeps most incomes in range
        errors = _errors(check_quality(window, signature, None), column)
        assert "Celsius -> Fahrenheit" in errors["unit_change"]


def test_covariate_drift_is_not_taken_for_a_unit_change() -> None:
    _, signature, profile = reference("credit")
    for change in ({"scale": 0.8}, {"scale": 1.3}, {"shift": 15000.0}):
        window = _window("credit", events=[covariate_drift(AT, "income", **change)])
        assert "unit_change" not in _errors(check_quality(window, signature, profile))


@pytest.mark.parametrize(("share", "severity"), [(0.005, None), (0.04, "warning"), (0.15, "error")])
def test_a_rise_of_the_missing_share_is_flagged_by_its_size(share: float, severity: str | None) -> None:
    _, signature, profile = reference("credit")
    window = _window("credit", rows=1000)
    rows = np.random.default_rng(0).choice(len(window), size=int(share * len(window)), replace=False)
    window.loc[rows, "debt_ratio"] = np.nan
    found = [f for f in check_quality(window, signature, profile).findings if f.column == "debt_ratio"]
    if severity is None:
        assert found == []
        return
    assert [(f.check, f.severity, f.count) for f in found] == [("missing_share", severity, len(rows))]
    assert found[0].reason == (f"debt_ratio: {share:.1%} missing ({len(rows)} of 1000 rows), "
                               f"0.0% in the reference (+{share * 100:.1f} points)")


def test_strings_in_a_numeric_column_are_type_violations_not_range_ones() -> None:
    _, signature, profile = reference("credit")
    window = _window("credit").astype({"age": object})
    window.loc[[3, 10, 11, 40, 41, 42], "age"] = ["n/a", "unknown", "", "forty", "-", "?"]
    window.loc[[5], "age"] = 500  # and one number out of range
    report = check_quality(window, signature, profile)
    by_check = {f.check: f for f in report.findings if f.column == "age"}
    assert by_check["type"].count == 6 and by_check["type"].severity == "error"
    assert by_check["type"].reason == ("age: 6 of 500 values (1.2%) are not numeric "
                                       "(training dtype int64)")
    assert by_check["range"].count == 1 and by_check["range"].severity == "warning"
    assert "1 above 87 (highest 500)" in by_check["range"].reason
    stats = next(c for c in report.columns if c.name == "age")
    assert (stats.type_violations, stats.range_violations) == (6, 1)


def test_a_number_in_a_categorical_column_is_a_type_violation() -> None:
    _, signature, profile = reference("credit")
    window = _window("credit").astype({"region": object})
    window.loc[range(10), "region"] = 3
    finding = next(f for f in check_quality(window, signature, profile).findings if f.column == "region")
    assert (finding.check, finding.count, finding.severity) == ("type", 10, "error")


def test_range_violations_beyond_one_percent_are_errors() -> None:
    _, signature, profile = reference("credit")
    window = _window("credit")
    window.loc[range(8), "debt_ratio"] = -0.5
    finding = next(f for f in check_quality(window, signature, profile).findings
                   if f.column == "debt_ratio")
    assert (finding.check, finding.severity, finding.count) == ("range", "error", 8)
    low = signature["columns"][2]["min"]
    assert finding.reason.startswith(
        f"debt_ratio: 8 of 500 rows (1.6%) outside the training range [{low:.3g}, 2.5]: "
        f"8 below {low:.3g} (lowest -0.5)")


def test_a_column_stuck_at_a_rare_value_is_a_broken_feed_but_a_quiet_flag_is_not() -> None:
    _, signature, profile = reference("credit")
    window = _window("credit")
    window["employment_type"] = "retired"  # 3% of the training rows
    errors = _errors(check_quality(window, signature, profile), "employment_type")
    assert errors["constant"].startswith("employment_type: all 500 values are 'retired', a value on ")

    _, signature, profile = reference("demand")
    quiet = _window("demand")
    quiet["is_holiday"] = 0  # no holiday this week: the flag's usual value
    assert not [f for f in check_quality(quiet, signature, profile).findings if f.column == "is_holiday"]
    unknown = [f for f in check_quality(quiet, signature, None).findings if f.column == "is_holiday"]
    assert [(f.check, f.severity) for f in unknown] == [("constant", "warning")]


def test_quarantined_rows_are_reported_per_reason() -> None:
    _, signature, profile = reference("credit")
    window = _window("credit", rows=400)
    refused = {"unknown category 'crypto' in employment_type": 90, "missing field 'age'": 3}
    report = check_quality(window, signature, profile, quarantined=refused)
    found = [(f.check, f.column, f.severity, f.count, round(f.share, 4)) for f in report.findings]
    assert found == [("quarantined", None, "error", 90, 0.1826), ("quarantined", None, "warning", 3, 0.0061)]
    assert report.findings[0].reason == ("90 of 493 rows (18.3%) quarantined: unknown category "
                                         "'crypto' in employment_type")
    assert report.status == "failed"


def test_too_few_rows_is_insufficient_not_a_pass_and_not_an_alarm() -> None:
    _, signature, profile = reference("credit")
    window = _window("credit", rows=37, events=[broken_column(AT, "age", mode="nulls")])
    report = check_quality(window, signature, profile)
    assert (report.status, report.reason, report.findings) == (
        "insufficient", "insufficient data: 37 rows, need 100", ())
    # quarantine counts are exact, so they are reported even then: a feed whose rows are
    # mostly refused (a column turned null) has failed, whatever the few logged rows show
    report = check_quality(window, signature, profile, quarantined={"age is null": 400},
                           quarantine_fields={"age is null": "age"})
    assert report.status == "failed" and [(f.column, f.count) for f in report.findings] == [("age", 400)]
    assert report.reason.startswith("400 of 437 rows quarantined")


def test_a_missing_column_is_an_error_and_the_report_is_plain_data() -> None:
    _, signature, profile = reference("demand")
    window = _window("demand").drop(columns=["humidity"])
    report = check_quality(window, signature, profile)
    assert _errors(report) == {"missing_column": "humidity: the column is missing from all 500 rows"}
    out = json.loads(json.dumps(report.to_dict()))
    assert out["status"] == "failed" and out["rows"] == 500
    assert set(out["columns"]) == set(USE_CASES["demand"].features) - {"humidity"}
    assert out["columns"]["temperature"]["missing_share"] == 0.0
    assert out["findings"][0]["check"] == "missing_column"
    assert "1 error(s) in 500 rows: missing_column humidity" in out["reason"]


@pytest.mark.parametrize(("case", "column"), BROKEN)
def test_the_registry_s_own_profile_gives_the_same_verdicts(case: str, column: str) -> None:
    from registry.reference_profile import fit_profile

    frame, signature, _ = reference(case)
    profile = fit_profile(frame, signature["columns"])
    expected = {"nulls": {"all_null"}, "scale": {"unit_change"}, "fahrenheit": {"unit_change"}}
    for mode, checks in expected.items():
        window = _window(case, events=[broken_column(AT, column, mode=mode)])
        assert checks <= set(_errors(check_quality(window, signature, profile), column)), mode
    assert not check_quality(windows(case, 100, 500)[0], signature, profile).errors
