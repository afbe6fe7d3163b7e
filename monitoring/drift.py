"""Per-feature drift of a current window against a reference profile (pure).

``check_features(profile, current)`` gives one :class:`FeatureDrift` per feature of the
profile (datetime features have no test and are left out): a status ("drift", "ok" or
"insufficient"), the test and its statistic, threshold, p-value and effect size, new
categories by name and count, a one-line reason, the summary statistics of both sides
(monitoring.summary) and a histogram of both sides for a chart.

The tests are listed in :data:`TESTS`; which one a feature gets by default is
``monitoring.drift_rule.default_test`` (the rule and the measurements behind it:
monitoring/DRIFT_RULE.md). A model's config overrides test and threshold per feature.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from monitoring import drift_stats
from monitoring.drift_rule import (
    TESTS,
    Choice,
    DriftTest,
    check_overrides,
    choices,
    format_number,
    tested_as,
)
from monitoring.summary import categorical_summary, numeric_summary
from registry.reference_profile import (
    BOOLEAN,
    CATEGORICAL,
    DATETIME,
    MAX_MAGNITUDE,
    NUMERIC,
    bin_counts_sorted,
    category_counts,
    numeric_values,
    sample_column,
)
from store.errors import InvalidInput

__all__ = ["DRIFT", "INSUFFICIENT", "OK", "STATUSES", "TESTS", "DriftTest", "FeatureDrift",
           "check_features", "drift_share"]

DRIFT = "drift"
OK = "ok"
INSUFFICIENT = "insufficient"
STATUSES: tuple[str, ...] = (DRIFT, OK, INSUFFICIENT)

#: categories shown in a categorical histogram (the rest summed as "other")
HISTOGRAM_CATEGORIES = 20
OTHER = "(other)"


@dataclass(frozen=True)
class FeatureDrift:
    """The drift verdict on one feature for one window."""

    feature: str
    kind: str
    status: str
    test: str | None
    statistic: float | None
    threshold: float | None
    p_value: float | None
    effect_size: float | None
    effect_name: str | None
    n_reference: int
    n_current: int
    reason: str
    new_categories: dict[str, int] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    histogram: dict[str, Any] = field(default_factory=dict)
    #: the default rule's floor on effect_size (None when the model's config set the test)
    min_effect: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def drift_share(verdicts: Iterable[FeatureDrift]) -> float:
    """The share of drifted features among those with a verdict (drift or ok); 0.0 when
    no feature has one."""
    judged = [v for v in verdicts if v.status in (DRIFT, OK)]
    return sum(v.status == DRIFT for v in judged) / len(judged) if judged else 0.0


# -- one feature ------------------------------------------------------------------------


def _value_key(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass
class _Outcome:
    statistic: float
    p_value: float | None
    effect: float
    effect_name: str
    histogram: dict[str, Any]
    new_categories: dict[str, int]


def _numeric_histogram(feature: Mapping[str, Any], ref_counts: np.ndarray,
                       cur_counts: np.ndarray, current_sorted: np.ndarray) -> dict[str, Any]:
    low, high = feature["min"], feature["max"]
    if len(current_sorted):
        low, high = min(low, float(current_sorted[0])), max(high, float(current_sorted[-1]))
    return {
        "edges": [low, *feature["bin_edges"], high],
        "reference": drift_stats.shares(ref_counts.astype(np.float64)).tolist(),
        "current": drift_stats.shares(cur_counts.astype(np.float64)).tolist(),
    }


def _category_histogram(names: list[str], ref_counts: np.ndarray,
                        cur_counts: np.ndarray) -> dict[str, Any]:
    ref_shares = drift_stats.shares(ref_counts.astype(np.float64))
    cur_shares = drift_stats.shares(cur_counts.astype(np.float64))
    order = np.argsort(-(ref_shares + cur_shares), kind="stable")
    shown, rest = order[:HISTOGRAM_CATEGORIES], order[HISTOGRAM_CATEGORIES:]
    categories = [names[i] for i in shown]
    reference, current = ref_shares[shown].tolist(), cur_shares[shown].tolist()
    if len(rest):
        categories.append(OTHER)
        reference.append(float(ref_shares[rest].sum()))
        current.append(float(cur_shares[rest].sum()))
    return {"categories": categories, "reference": reference, "current": current}


def _aligned(reference: Mapping[str, int], current: Mapping[str, int],
             other_count: int) -> tuple[list[str], np.ndarray, np.ndarray, dict[str, int]]:
    """Category names, reference and current counts over the union of categories, and the
    current categories the reference never saw (none when its frequencies were truncated:
    an unlisted category may be one of the summed rare ones)."""
    names = list(reference)
    unseen = {k: v for k, v in current.items() if k not in reference}
    ref = [reference[k] for k in names]
    cur = [current.get(k, 0) for k in names]
    if other_count:
        names.append(OTHER)
        ref.append(other_count)
        cur.append(sum(unseen.values()))
        unseen = {}
    else:
        names.extend(unseen)
        ref.extend(0 for _ in unseen)
        cur.extend(unseen.values())
    return names, np.asarray(ref, np.int64), np.asarray(cur, np.int64), unseen


def _run_category_test(test: DriftTest, names: list[str], ref: np.ndarray,
                       cur: np.ndarray) -> tuple[float, float | None]:
    if test.name == "chisquare":
        return drift_stats.chi_squared(ref, cur)
    if test.name == "psi":
        return drift_stats.psi(ref, cur), None
    return drift_stats.jensen_shannon(ref, cur), None


def _numeric_outcome(test: DriftTest, feature: Mapping[str, Any], reference_sorted: np.ndarray,
                     current_sorted: np.ndarray) -> _Outcome:
    edges = np.asarray(feature["bin_edges"], dtype=np.float64)
    ref_bins = np.asarray(feature["bin_counts"], dtype=np.int64)
    cur_bins = bin_counts_sorted(edges, current_sorted)
    std = feature["std"] or 0.0
    scale = std if std > 0 else (abs(feature["mean"]) or 1.0)
    effect = drift_stats.wasserstein(reference_sorted, current_sorted) / scale
    histogram = _numeric_histogram(feature, ref_bins, cur_bins, current_sorted)
    p_value: float | None = None
    new: dict[str, int] = {}
    if test.name == "ks":
        statistic, p_value = drift_stats.ks_two_sample(reference_sorted, current_sorted)
    elif test.name == "wasserstein":
        statistic = effect
    elif test.name == "psi":
        statistic = drift_stats.psi(ref_bins, cur_bins)
    elif test.name == "jensenshannon" and feature.get("value_counts") is None:
        statistic = drift_stats.jensen_shannon(ref_bins, cur_bins)
    else:  # chisquare or jensenshannon over the values of a low-cardinality feature
        counts = feature["value_counts"]
        reference = {_value_key(v): c for v, c in zip(counts["values"], counts["counts"],
                                                      strict=True)}
        values, value_counts = np.unique(current_sorted, return_counts=True)
        current = {_value_key(v): int(c) for v, c in zip(values, value_counts, strict=True)}
        names, ref, cur, new = _aligned(reference, current, 0)
        statistic, p_value = _run_category_test(test, names, ref, cur)
    return _Outcome(statistic, p_value, effect, "wasserstein/std", histogram, new)


def _reason(name: str, choice: Choice, n_ref: int, n_cur: int, outcome: _Outcome,
            significant: bool) -> str:
    test = choice.test
    head = f"{test.name} ({choice.why}; {n_ref:,} ref / {n_cur:,} cur rows): "
    if test.p_value:
        op = "<" if significant else ">="
        body = (f"p {format_number(outcome.p_value)} {op} {format_number(choice.threshold)}{choice.threshold_note}"
                f", {test.statistic} {format_number(outcome.statistic)}")
    else:
        op = ">" if significant else "<="
        body = (f"{format_number(outcome.statistic)} {op} {format_number(choice.threshold)}"
                f"{choice.threshold_note}")
    body += f", effect {format_number(outcome.effect)} {outcome.effect_name}"
    if choice.min_effect is not None:
        small = outcome.effect < choice.min_effect
        body += (f" {'<' if small else '>='} {format_number(choice.min_effect)}"
                 + (" (significant but too small to matter)" if small and significant else ""))
    if outcome.new_categories:
        listed = sorted(outcome.new_categories.items(), key=lambda item: -item[1])
        shown = ", ".join(f"{k} ({v:,})" for k, v in listed[:5])
        more = f" and {len(listed) - 5} more" if len(listed) > 5 else ""
        body += f"; unseen categories: {shown}{more}"
    return head + body


def _insufficient(name: str, feature: Mapping[str, Any], n_ref: int, n_cur: int, total: int,
                  min_rows: int, summary: dict[str, Any], present: bool) -> FeatureDrift:
    if not present:
        reason = f"insufficient data: {n_cur} rows, need {min_rows:,} (not in the current window)"
    elif n_ref < min_rows:
        reason = f"insufficient reference data: {n_ref:,} rows, need {min_rows:,}"
    else:
        reason = f"insufficient data: {n_cur:,} rows, need {min_rows:,}"
        if total > n_cur:
            reason += f" ({total - n_cur:,} of {total:,} values missing)"
    return FeatureDrift(
        feature=name, kind=str(feature["kind"]), status=INSUFFICIENT, test=None, statistic=None,
        threshold=None, p_value=None, effect_size=None, effect_name=None, n_reference=n_ref,
        n_current=n_cur, reason=reason, summary=summary,
    )


def _verdict(name: str, feature: Mapping[str, Any], choice: Choice, n_ref: int, n_cur: int,
             outcome: _Outcome, summary: dict[str, Any]) -> FeatureDrift:
    test = choice.test
    if test.p_value:
        significant = outcome.p_value is not None and outcome.p_value < choice.threshold
    else:
        significant = outcome.statistic > choice.threshold
    drifted = significant and (choice.min_effect is None or outcome.effect >= choice.min_effect)
    return FeatureDrift(
        feature=name, kind=str(feature["kind"]), status=DRIFT if drifted else OK,
        test=test.name, statistic=outcome.statistic, threshold=choice.threshold,
        p_value=outcome.p_value, effect_size=outcome.effect, effect_name=outcome.effect_name,
        n_reference=n_ref, n_current=n_cur,
        reason=_reason(name, choice, n_ref, n_cur, outcome, significant),
        new_categories=outcome.new_categories, summary=summary, histogram=outcome.histogram,
        min_effect=choice.min_effect,
    )


def _sample_sorted(profile: Mapping[str, Any], name: str) -> np.ndarray:
    column = sample_column(dict(profile), name)
    try:  # numbers and None (as stored): numpy reads None as NaN
        values = np.array(column, dtype=np.float64)
    except (TypeError, ValueError):
        values = numeric_values(pd.Series(column, dtype=object))
    values = values[np.isfinite(values)]
    return np.sort(values[np.abs(values) <= MAX_MAGNITUDE])


def _check_numeric(name: str, feature: Mapping[str, Any], profile: Mapping[str, Any],
                   column: pd.Series | None, choice: Choice, min_rows: int) -> FeatureDrift:
    values = numeric_values(column) if column is not None else np.zeros(0)
    current_sorted = np.sort(values[~np.isnan(values)])
    n_ref, n_cur = int(feature["n"]), len(current_sorted)
    summary = numeric_summary(dict(feature), current_sorted, len(values))
    if n_cur < min_rows or n_ref < min_rows or column is None:
        return _insufficient(name, feature, n_ref, n_cur, len(values), min_rows, summary,
                             column is not None)
    outcome = _numeric_outcome(choice.test, feature, _sample_sorted(profile, name),
                               current_sorted)
    return _verdict(name, feature, choice, n_ref, n_cur, outcome, summary)


_BOOLEAN_TEXT = {"true": "True", "1": "True", "1.0": "True",
                 "false": "False", "0": "False", "0.0": "False"}


def _as_boolean(counts: dict[str, int]) -> dict[str, int]:
    """Counts of a boolean logged as True/False, 1/0 or "true"/"false" under the profile's
    keys "True" and "False" (anything else stays as it is, an unseen category)."""
    out: dict[str, int] = {}
    for key, count in counts.items():
        label = _BOOLEAN_TEXT.get(key.lower(), key)
        out[label] = out.get(label, 0) + count
    return out


def _check_category(name: str, feature: Mapping[str, Any], column: pd.Series | None,
                    choice: Choice, min_rows: int) -> FeatureDrift:
    current = category_counts(column) if column is not None else {}
    if feature["kind"] == BOOLEAN:
        current = _as_boolean(current)
    total = len(column) if column is not None else 0
    n_ref, n_cur = int(feature["n"]), sum(current.values())
    summary = categorical_summary(dict(feature), current, total)
    if n_cur < min_rows or n_ref < min_rows or column is None:
        return _insufficient(name, feature, n_ref, n_cur, total, min_rows, summary,
                             column is not None)
    names, ref, cur, unseen = _aligned(feature["frequencies"], current,
                                       int(feature.get("other_count", 0)))
    statistic, p_value = _run_category_test(choice.test, names, ref, cur)
    outcome = _Outcome(statistic, p_value, drift_stats.total_variation(ref, cur),
                       "total variation", _category_histogram(names, ref, cur), unseen)
    return _verdict(name, feature, choice, n_ref, n_cur, outcome, summary)


# -- the check --------------------------------------------------------------------------


def check_features(
    profile: dict[str, Any],
    current: pd.DataFrame,
    *,
    overrides: dict[str, dict[str, Any]] | None = None,
    min_rows: int = 100,
) -> list[FeatureDrift]:
    """One verdict per (non-datetime) feature of `profile` on the `current` window, in the
    profile's order. A feature absent from `current` is "insufficient" (not logged)."""
    if min_rows < 1:
        raise InvalidInput(f"min_rows must be at least 1, got {min_rows}", field="min_rows",
                           example="100")
    features = {name: feature for name, feature in profile["features"].items()
                if feature["kind"] != DATETIME}
    overrides = overrides or {}
    check_overrides(profile["features"], overrides)
    chosen = choices(features, overrides)
    verdicts: list[FeatureDrift] = []
    for name, feature in features.items():
        column = current[name] if name in current.columns else None
        if tested_as(feature) == CATEGORICAL and feature["kind"] != NUMERIC:
            verdicts.append(_check_category(name, feature, column, chosen[name], min_rows))
        else:
            verdicts.append(_check_numeric(name, feature, profile, column, chosen[name],
                                           min_rows))
    return verdicts
