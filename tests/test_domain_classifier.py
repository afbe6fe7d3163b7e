"""The domain classifier (monitoring.domain_classifier): near 0.5 between windows of the
same stream, above its threshold under covariate drift with the drifted feature on top,
and within its row and time caps."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import pytest
from quality_data import training_frame

from monitoring.domain_classifier import domain_drift
from sample_models import USE_CASES
from sample_models.events import covariate_drift

AT = datetime(2026, 2, 1, tzinfo=UTC)
FEATURES = list(USE_CASES["credit"].features)


def _current(rows: int = 1000, seed: int = 3, events: tuple = ()) -> pd.DataFrame:
    return USE_CASES["credit"].generate(rows, AT, seed=seed, events=list(events))[FEATURES]


@pytest.mark.parametrize("seed", [3, 4])
def test_windows_without_drift_are_not_told_apart(seed: int) -> None:
    result = domain_drift(training_frame("credit"), _current(seed=seed), max_rows=600, folds=3)
    assert result.status == "ok" and not result.drifted
    assert 0.4 < result.auc < 0.6, result.reason
    assert result.folds == 3 and len(result.fold_aucs) == 3
    assert result.reason.startswith(f"domain classifier ROC AUC {result.auc:.3f} (+/- ")
    assert "<= 0.75 over 3 folds, 600 reference / 600 current rows" in result.reason


def test_covariate_drift_on_income_is_found_and_income_separates_most() -> None:
    drifted = _current(events=[covariate_drift(AT, "income", scale=2.0)])
    result = domain_drift(training_frame("credit"), drifted, max_rows=600, folds=3)
    assert result.status == "drifted" and result.drifted and result.auc > 0.75, result.reason
    assert result.top_feature == "income"
    assert result.importances[0].importance > 2 * max(i.importance for i in result.importances[1:])
    assert "; separated by income " in result.reason
    assert sorted(i.feature for i in result.importances) == sorted(FEATURES)


def test_rows_are_capped_on_both_sides_by_seeded_sampling() -> None:
    reference, current = training_frame("credit"), _current(rows=1500)
    result = domain_drift(reference, current, max_rows=300, folds=2)
    assert result.rows_used == {"reference": 300, "current": 300}
    again = domain_drift(reference, current, max_rows=300, folds=2)
    assert again.fold_aucs == result.fold_aucs  # the same sample and folds for the same seed
    other = domain_drift(reference, current, max_rows=300, folds=2, seed=1)
    assert other.fold_aucs != result.fold_aucs
    small = domain_drift(reference.head(200), current, max_rows=300, folds=2)
    assert small.rows_used == {"reference": 200, "current": 300}


def test_the_time_budget_stops_inside_a_fold_and_says_so() -> None:
    result = domain_drift(training_frame("credit"), _current(rows=2000), max_rows=2000,
                          max_seconds=0.05)
    assert result.folds == 1 and result.folds_planned == 3
    # the budget runs out inside the first fold's trees, or (on a fast moment) in its
    # importances just after: either way one fold of three, and the reason says so
    assert ("at the 0.05 s budget; 1 of 3 folds done" in result.reason
            or "importances from 0 folds: the budget ran out" in result.reason), result.reason
    assert result.seconds < 3.0  # the budget, plus one round of trees and the scoring (busy machine)
    assert result.auc is not None


def test_runtime_is_measured_and_the_result_is_plain_data() -> None:
    result = domain_drift(training_frame("credit"), _current(), max_rows=300, folds=2)
    assert 0 < result.seconds < 10
    out = json.loads(json.dumps(result.to_dict()))
    assert out["seconds"] == result.seconds and out["folds"] == 2
    assert set(out) >= {"status", "auc", "drifted", "threshold", "importances", "rows_used",
                        "seconds", "folds", "reason"}


def test_too_few_rows_is_insufficient() -> None:
    result = domain_drift(training_frame("credit"), _current(rows=60))
    assert (result.status, result.auc, result.drifted) == ("insufficient", None, False)
    assert result.reason == "insufficient data: 6000 reference and 60 current rows, need 100 on each side"


def test_time_columns_are_left_out_and_categories_share_codes() -> None:
    use = USE_CASES["credit"]
    reference = use.generate(300, datetime(2026, 1, 1, tzinfo=UTC), seed=1)
    current = use.generate(300, AT, seed=2)
    result = domain_drift(reference[["ts", *FEATURES]], current[["ts", *FEATURES]], folds=2)
    assert result.dropped == {"ts": "a time column"}
    assert result.auc is not None and result.auc < 0.65  # ts alone would give 1.0
