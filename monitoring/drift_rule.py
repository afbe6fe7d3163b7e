"""Which drift test and threshold each feature gets: the tests, the default rule and a
model's overrides (pure).

:data:`TESTS` lists every test with the kinds it fits, its default threshold and whether
it is a p-value test, so a surface can list them. :func:`default_test` is the default rule
(monitoring/DRIFT_RULE.md: the rule and the measurements behind it); :func:`choices`
applies a model's config on top of it and shares the family-wise alpha among the features
(Bonferroni).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from registry.reference_profile import BOOLEAN, CATEGORICAL, NUMERIC
from store.errors import InvalidInput

#: the default family-wise false-alarm rate of the p-value tests over one window: with k
#: features tested, each feature's p-value is compared with FAMILY_ALPHA / k (Bonferroni)
FAMILY_ALPHA = 0.05
#: the default rule's floor on the effect size: a significant difference smaller than this
#: is reported "ok" (too small to matter), so large windows do not flag negligible changes
MIN_EFFECT: Mapping[str, float] = MappingProxyType({"wasserstein/std": 0.1,
                                                    "total variation": 0.01})


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
    most registry.reference_profile.LOW_CARDINALITY values. The sample sizes do not pick the test (both tests account
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


def check_overrides(
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


def format_number(value: float | None) -> str:
    """A number for a reason line: 3 significant digits, scientific when tiny or huge."""
    if value is None:
        return "n/a"
    if value != 0 and (abs(value) < 0.001 or abs(value) >= 10_000):
        return f"{value:.2g}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.3f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Choice:
    """The test and threshold one feature gets, with the words for its reason."""

    test: DriftTest
    threshold: float
    why: str
    threshold_note: str = ""
    min_effect: float | None = None


def choices(features: Mapping[str, Any],
             overrides: Mapping[str, Mapping[str, Any]]) -> dict[str, Choice]:
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
    out: dict[str, Choice] = {}
    for name, (test, threshold, why, min_effect) in chosen.items():
        if threshold is not None:
            note = "" if "config" in why else " (set in the model's config)"
            out[name] = Choice(test, threshold, why, note, min_effect)
        elif test.p_value and len(defaulted) > 1:
            note = f" ({format_number(FAMILY_ALPHA)} / {len(defaulted)} features, Bonferroni)"
            out[name] = Choice(test, FAMILY_ALPHA / len(defaulted), why, note, min_effect)
        else:
            out[name] = Choice(test, test.default_threshold, why, "", min_effect)
    return out
