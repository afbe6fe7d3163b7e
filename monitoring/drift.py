"""Per-feature drift of a current window against a reference profile (pure).

``check_features(profile, current)`` gives one :class:`FeatureDrift` per feature of the
profile (datetime features have no test and are left out): a status ("drift", "ok" or
"insufficient"), the test and its statistic, threshold, p-value and effect size, new
categories by name and count, a one-line reason, the summary statistics of both sides
(monitoring.summary) and a histogram of both sides for a chart.

The tests are listed in :data:`TESTS`; which one a feature gets by default is
:func:`default_test` (the rule and the measurements behind it: monitoring/DRIFT_RULE.md).
A model's config overrides test and threshold per feature.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from monitoring import drift_stats
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

DRIFT = "drift"
OK = "ok"
INSUFFICIENT = "insufficient"
STATUSES: tuple[str, ...] = (DRIFT, OK, INSUFFICIENT)

#: the default family-wise false-alarm rate of the p-value tests over one window: with k
#: features tested, each feature's p-value is compared with FAMILY_ALPHA / k (Bonferroni)
FAMILY_ALPHA = 0.05
#: the default rule's floor on the effect size: a significant difference smaller than this
#: is reported "ok" (too small to matter), so large windows do not flag negligible changes
MIN_EFFECT: Mapping[str, float] = MappingProxyType({"wasserstein/std": 0.1,
                                                    "total variation": 0.01})
#: a numeric feature with at most this many distinct reference values is tested as a
#: categorical over its values (registry.reference_profile.LOW_CARDINALITY keeps them)
LOW_CARDINALITY = 10
#: categories shown in a categorical histogram (the rest summed as "other")
HISTOGRAM_CATEGORIES = 20
OTHER = "(other)"


@dataclass(frozen=True)
class DriftTest:
    """One drift test: which kinds it fits and when it says drift."""

    name: str
    kinds: tuple[str, ...]
    default_threshold: float
    #: True: drift when the p-value is below the threshold; False: when the statistic is
    #: above it
    p_value: bool
    statistic: str
    description: str

    @property
    def higher_is_drift(self) -> bool:
        return not self.p_value


_CATEGORY_KINDS = (CATEGORICAL, BOOLEAN)
TESTS: Mapping[str, DriftTest] = MappingProxyType({
    "ks": DriftTest(
        "ks", (NUMERIC,), 0.05, True, "D",
        "two-sample Kolmogorov-Smirnov against the reference sample; drift when p < threshold",
    ),
    "wasserstein": DriftTest(
        "wasserstein", (NUMERIC,), 0.1, False, "W/std",
        "Wasserstein distance to the reference sample divided by the reference standard "
        "deviation; drift when above the threshold",
    ),
    "psi": DriftTest(
        "psi", (NUMERIC, *_CATEGORY_KINDS), 0.2, False, "PSI",
        "population stability index over the reference decile bins or the categories; drift "
        "when above the threshold (0.1 small, 0.2 moderate, 0.25 large shift)",
    ),
    "chisquare": DriftTest(
        "chisquare", (*_CATEGORY_KINDS, NUMERIC), 0.05, True, "chi2",
        "chi-squared test of the category counts (a numeric feature: over its distinct "
        "values, when it has at most 10); drift when p < threshold",
    ),
    "jensenshannon": DriftTest(
        "jensenshannon", (*_CATEGORY_KINDS, NUMERIC), 0.1, False, "JS",
        "Jensen-Shannon distance (natural log) of the category shares (a numeric feature: of "
        "its decile bins); drift when above the threshold",
    ),
})


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


# -- the default rule -------------------------------------------------------------------


def tested_as(feature: Mapping[str, Any]) -> str:
    """The kind a feature is tested as: booleans and numeric features with few distinct
    values (``value_counts`` in the profile) as categorical."""
    kind = str(feature["kind"])
    if kind == BOOLEAN:
        return CATEGORICAL
    if kind == NUMERIC and feature.get("value_counts") is not None:
        return CATEGORICAL
    return kind


def default_test(feature: Mapping[str, Any]) -> tuple[str, str]:
    """(test name, why) for a feature by its kind and number of distinct values: KS for a
    numeric feature, chi-squared for a categorical, a boolean and a numeric feature with at
    most LOW_CARDINALITY values. The sample sizes do not pick the test (both tests account
    for them): the Bonferroni threshold and the effect floor (MIN_EFFECT) make the two fit
    windows from 100 to 1,000,000 rows (monitoring/DRIFT_RULE.md has the measurements)."""
    kind = str(feature["kind"])
    distinct = feature.get("distinct")
    if tested_as(feature) == CATEGORICAL:
        what = (f"numeric with {distinct} distinct values, tested as categories"
                if kind == NUMERIC else f"{kind}, {distinct} categories")
        return "chisquare", what
    capped = "+" if feature.get("distinct_capped") else ""
    return "ks", f"numeric, {distinct:,}{capped} distinct values"


# -- overrides --------------------------------------------------------------------------


def _allowed_tests(kind: str) -> list[str]:
    return [name for name, test in TESTS.items() if kind in test.kinds]


def _check_overrides(
    profile_features: Mapping[str, Any], overrides: Mapping[str, Mapping[str, Any]]
) -> None:
    for name, override in overrides.items():
        if name not in profile_features:
            raise InvalidInput(
                f"drift override for unknown feature {name!r}; the reference profile has: "
                f"{', '.join(profile_features) or '(none)'}",
                field="overrides", example=repr(next(iter(profile_features), "income")),
            )
        if not isinstance(override, Mapping):
            raise InvalidInput(
                f"drift override for {name!r} must be a table with test and threshold, "
                f"got {override!r}", field="overrides", example='{test = "psi", threshold = 0.2}',
            )
        unknown = sorted(set(override) - {"test", "threshold"})
        if unknown:
            raise InvalidInput(
                f"drift override for {name!r} has unknown key(s) {', '.join(unknown)}; "
                "allowed: test, threshold", field="overrides", example='test = "psi"',
            )
        kind = str(profile_features[name]["kind"])
        allowed = _allowed_tests(kind)
        if kind == NUMERIC and profile_features[name].get("value_counts") is None:
            allowed = [t for t in allowed if t != "chisquare"]
        test = override.get("test")
        if not allowed:
            raise InvalidInput(
                f"drift override for {name!r}: no drift test applies to a {kind} feature",
                field="overrides", example=repr(next(iter(profile_features))),
            )
        if test is not None and test not in allowed:
            known = "unknown test" if test not in TESTS else f"test {test!r} does not fit"
            raise InvalidInput(
                f"drift override for {name!r} ({kind}): {known} {test!r}; "
                f"allowed tests for it: {', '.join(allowed)}",
                field="overrides", example=repr(allowed[0]),
            )
        threshold = override.get("threshold")
        if threshold is not None:
            chosen = TESTS[test if test is not None else default_test(profile_features[name])[0]]
            if (isinstance(threshold, bool) or not isinstance(threshold, int | float)
                    or not math.isfinite(threshold) or threshold <= 0
                    or (chosen.p_value and threshold >= 1)):
                raise InvalidInput(
                    f"drift override for {name!r}: threshold must be a number > 0 "
                    f"(a p-value threshold below 1), got {threshold!r}",
                    field="overrides", example="0.1",
                )


# -- one feature ------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value != 0 and (abs(value) < 0.001 or abs(value) >= 10_000):
        return f"{value:.2g}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.3f}".rstrip("0").rstrip(".")


def _value_key(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True)
class _Choice:
    test: DriftTest
    threshold: float
    why: str
    threshold_note: str = ""
    min_effect: float | None = None


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


def _reason(name: str, choice: _Choice, n_ref: int, n_cur: int, outcome: _Outcome,
            significant: bool) -> str:
    test = choice.test
    head = f"{test.name} ({choice.why}; {n_ref:,} ref / {n_cur:,} cur rows): "
    if test.p_value:
        op = "<" if significant else ">="
        body = (f"p {_fmt(outcome.p_value)} {op} {_fmt(choice.threshold)}{choice.threshold_note}"
                f", {test.statistic} {_fmt(outcome.statistic)}")
    else:
        op = ">" if significant else "<="
        body = (f"{_fmt(outcome.statistic)} {op} {_fmt(choice.threshold)}"
                f"{choice.threshold_note}")
    body += f", effect {_fmt(outcome.effect)} {outcome.effect_name}"
    if choice.min_effect is not None:
        small = outcome.effect < choice.min_effect
        body += (f" {'<' if small else '>='} {_fmt(choice.min_effect)}"
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


def _verdict(name: str, feature: Mapping[str, Any], choice: _Choice, n_ref: int, n_cur: int,
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
                   column: pd.Series | None, choice: _Choice, min_rows: int) -> FeatureDrift:
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
                    choice: _Choice, min_rows: int) -> FeatureDrift:
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


def _choices(features: Mapping[str, Any],
             overrides: Mapping[str, Mapping[str, Any]]) -> dict[str, _Choice]:
    """Test and threshold per feature: the model's config where it sets them, else the
    default rule, whose p-value thresholds share FAMILY_ALPHA among the features tested
    (Bonferroni) and whose verdicts need an effect of at least MIN_EFFECT."""
    chosen: dict[str, tuple[DriftTest, float | None, str, float | None]] = {}
    for name, feature in features.items():
        override = overrides.get(name, {})
        test_name, why = default_test(feature)
        effect_name = "wasserstein/std" if feature["kind"] == NUMERIC else "total variation"
        min_effect: float | None = MIN_EFFECT[effect_name]
        if override.get("test") is not None:
            test_name, why, min_effect = str(override["test"]), "set in the model's config", None
        threshold = override.get("threshold")
        chosen[name] = (TESTS[test_name], None if threshold is None else float(threshold), why,
                        min_effect)
    defaulted = [n for n, (test, threshold, _, _) in chosen.items()
                 if test.p_value and threshold is None]
    out: dict[str, _Choice] = {}
    for name, (test, threshold, why, min_effect) in chosen.items():
        if threshold is not None:
            note = "" if "config" in why else " (set in the model's config)"
            out[name] = _Choice(test, threshold, why, note, min_effect)
        elif test.p_value and len(defaulted) > 1:
            note = f" ({_fmt(FAMILY_ALPHA)} / {len(defaulted)} features, Bonferroni)"
            out[name] = _Choice(test, FAMILY_ALPHA / len(defaulted), why, note, min_effect)
        else:
            out[name] = _Choice(test, test.default_threshold, why, "", min_effect)
    return out


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
    _check_overrides(profile["features"], overrides)
    choices = _choices(features, overrides)
    verdicts: list[FeatureDrift] = []
    for name, feature in features.items():
        column = current[name] if name in current.columns else None
        if tested_as(feature) == CATEGORICAL and feature["kind"] != NUMERIC:
            verdicts.append(_check_category(name, feature, column, choices[name], min_rows))
        else:
            verdicts.append(_check_numeric(name, feature, profile, column, choices[name],
                                           min_rows))
    return verdicts
