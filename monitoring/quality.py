"""Data quality of one window of inputs (logged predictions or a batch), against the
version's signature and, when there is one, its reference profile (pure).

Checks, each a `Finding` with a one-line reason that names the column and the figures:

- ``missing_column``: a signature column the window does not have at all (error).
- ``all_null``: a column whose every value is null where the reference was not (error:
  a broken upstream feed); it replaces the missing-share finding for that column.
- ``missing_share``: the null share rose above the reference's by more than chance
  allows (5 binomial standard errors) and by at least 2 points; an error from 10 points on.
- ``type``: values of the wrong type for the signature's kind (a string in a numeric
  column, a number in a categorical one, an unparseable time).
- ``range``: numeric values outside the signature's training min/max.
- ``constant``: a column that varied in the reference turns constant, at a value the
  reference held on fewer than half of its rows (a flag that sits at its usual 0 for a
  quiet week is not a broken feed). Without a profile the reference share is unknown and
  a constant column is a warning.
- ``unit_change``: the values match a unit conversion of the reference (x10, x1000,
  /1000, Celsius -> Fahrenheit, ...) far better than the reference as it is. With a
  profile, the reference quantiles are transformed and compared with the window's; without
  one, the share of values inside the signature's range is compared with the share inside
  the converted range (weaker: x1.8 + 32 on a wide column such as income stays mostly in
  range and is seen only with a profile). A conversion is recognised by its effect, so a
  covariate shift of exactly x1.8 + 32 would read as Celsius -> Fahrenheit; the reason
  names the conversion that matched, for a person to judge.
- ``quarantined``: rows refused before scoring, one finding per reason.

``type``, ``range`` and ``quarantined`` are errors from 1% of the window's rows on,
warnings below. A window with fewer than ``min_rows`` rows is "insufficient": its
per-column figures would be noise, so only the (exact) quarantine counts are reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from monitoring.quality_findings import ERROR, WARNING, Finding, fmt, pct, severity
from monitoring.unit_change import quantiles, unit_finding

__all__ = ["ERROR", "WARNING", "ColumnQuality", "Finding", "QualityReport", "check_quality"]

OK, FAILED, INSUFFICIENT = "ok", "failed", "insufficient"

#: a rise of the missing share smaller than this is not reported, however significant
MIN_MISSING_RISE = 0.02
#: a rise of the missing share from which it is an error
ERROR_MISSING_RISE = 0.10
#: a rise this many binomial standard errors above the reference share is not chance
MISSING_Z = 5.0
#: the reference share assumed for that standard error when the reference had no nulls
MISSING_FLOOR = 1e-3
#: a constant value the reference held on fewer rows than this share is a broken feed
CONSTANT_USUAL_SHARE = 0.5




@dataclass(frozen=True)
class ColumnQuality:
    """One column's figures in the window (whether or not a check fired)."""

    name: str
    kind: str
    missing: int
    missing_share: float
    reference_missing_share: float | None
    type_violations: int
    range_violations: int
    range_share: float
    distinct: int
    mean: float | None
    median: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class QualityReport:
    status: str
    rows: int
    min_rows: int
    reason: str
    findings: tuple[Finding, ...]
    columns: tuple[ColumnQuality, ...]
    quarantined: Mapping[str, int]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "rows": self.rows,
            "min_rows": self.min_rows,
            "reason": self.reason,
            "findings": [f.to_dict() for f in self.findings],
            "columns": {c.name: c.to_dict() for c in self.columns},
            "quarantined": dict(self.quarantined),
        }



def _profile_feature(profile: Mapping[str, Any] | None, name: str) -> Mapping[str, Any] | None:
    if not profile:
        return None
    features = profile.get("features") or {}
    entry = features.get(name)
    return entry if isinstance(entry, Mapping) else None



# -- types ----------------------------------------------------------------------------


def _numeric_values(series: pd.Series) -> tuple[np.ndarray, int]:
    """The present values as a float array, and how many present values are not numbers.
    (numpy from here on: a window's checks are many small reductions, and each pandas call
    costs more than the arithmetic.)"""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        return values[~np.isnan(values)], 0
    present = series.dropna()
    is_text = present.map(lambda v: isinstance(v, str | bytes)).astype(bool)
    numbers = pd.to_numeric(present.where(~is_text), errors="coerce")
    bad = is_text | numbers.isna()
    return numbers[~bad].to_numpy(dtype=float), int(bad.sum())


def _categorical_violations(series: pd.Series, categories: list[str]) -> int:
    present = series.dropna()
    if present.empty or pd.api.types.is_string_dtype(present.dtype) and present.dtype != object:
        return 0  # a string column holds strings only
    known = set(categories)
    bad = present.map(lambda v: not isinstance(v, str) and str(v) not in known).astype(bool)
    return int(bad.sum())


def _boolean_violations(series: pd.Series) -> int:
    present = series.dropna()
    if pd.api.types.is_bool_dtype(present):
        return 0
    bad = present.map(lambda v: not (isinstance(v, bool | np.bool_) or v in (0, 1))).astype(bool)
    return int(bad.sum())


def _datetime_violations(series: pd.Series) -> int:
    present = series.dropna()
    if pd.api.types.is_datetime64_any_dtype(present) or present.empty:
        return 0
    parsed = pd.to_datetime(present, errors="coerce", utc=True, format="mixed")
    return int(parsed.isna().sum())


# -- the per-column checks -----------------------------------------------------------


@dataclass
class _Column:
    """What the checks of one column share."""

    name: str
    kind: str
    spec: Mapping[str, Any]
    feature: Mapping[str, Any] | None
    series: pd.Series
    rows: int

    @property
    def reference_missing(self) -> float | None:
        if self.feature is not None and self.feature.get("missing_share") is not None:
            return float(self.feature["missing_share"])
        if self.spec.get("nullable") is False:
            return 0.0
        return None


def _missing_findings(col: _Column, missing: int) -> list[Finding]:
    share = missing / col.rows
    ref = col.reference_missing
    if missing == col.rows and (ref is None or ref < 1.0):
        was = f"{pct(ref)} in the reference" if ref is not None else "not all null in training"
        return [Finding("all_null", col.name, ERROR, missing, 1.0,
                        f"{col.name}: all {missing} values are null (was {was}): "
                        "a broken upstream feed")]
    if ref is None:
        return []
    rise = share - ref
    if rise < MIN_MISSING_RISE:
        return []
    expected = max(ref, MISSING_FLOOR)
    z = (missing - expected * col.rows) / math.sqrt(col.rows * expected * (1 - expected))
    if z < MISSING_Z:
        return []
    severity = ERROR if rise >= ERROR_MISSING_RISE else WARNING
    return [Finding("missing_share", col.name, severity, missing, share,
                    f"{col.name}: {pct(share)} missing ({missing} of {col.rows} rows), "
                    f"{pct(ref)} in the reference (+{rise * 100:.1f} points)")]


def _range_finding(col: _Column, values: np.ndarray) -> tuple[int, Finding | None]:
    low, high = col.spec.get("min"), col.spec.get("max")
    if not len(values) or (low is None and high is None):
        return 0, None
    below = int((values < low).sum()) if low is not None else 0
    above = int((values > high).sum()) if high is not None else 0
    count = below + above
    if not count:
        return 0, None
    share = count / col.rows
    parts = []
    if below and low is not None:
        parts.append(f"{below} below {fmt(float(low))} (lowest {fmt(float(values.min()))})")
    if above and high is not None:
        parts.append(f"{above} above {fmt(float(high))} (highest {fmt(float(values.max()))})")
    return count, Finding("range", col.name, severity(share), count, share,
                          f"{col.name}: {count} of {col.rows} rows ({pct(share)}) outside the "
                          f"training range [{fmt(low)}, {fmt(high)}]: " + ", ".join(parts))


def _reference_share_of(col: _Column, value: Any) -> float | None:
    """How often the reference held `value` (None when no profile says)."""
    if col.feature is None:
        return None
    frequencies = col.feature.get("frequencies")
    if frequencies:
        total = float(sum(frequencies.values())) or 1.0
        return float(frequencies.get(str(value), 0.0)) / total
    pairs = quantiles(col.feature)
    if not pairs:
        return None
    try:
        target = float(value)
    except (TypeError, ValueError):
        return 0.0
    levels = [lv for lv, v in pairs if math.isclose(v, target, rel_tol=1e-9, abs_tol=1e-12)]
    if not levels:
        return 0.0
    return max(levels) - min(levels) + (pairs[1][0] - pairs[0][0] if len(pairs) > 1 else 0.0)


def _reference_varied(col: _Column) -> bool:
    feature = col.feature
    if feature is not None:
        if feature.get("frequencies"):
            return sum(1 for v in feature["frequencies"].values() if v) > 1
        low, high = feature.get("min"), feature.get("max")
        if low is not None and high is not None:
            return float(low) < float(high)
    if col.spec.get("categories") is not None:
        return len(col.spec["categories"]) > 1
    low, high = col.spec.get("min"), col.spec.get("max")
    return low is not None and high is not None and low < high


def _constant_finding(col: _Column, present: pd.Series | np.ndarray) -> Finding | None:
    if len(present) < 2 or not _reference_varied(col):
        return None
    if isinstance(present, np.ndarray):
        if present.min() != present.max():
            return None
        value: Any = present[0]
    else:
        uniques = present.astype(str).unique()
        if len(uniques) != 1:
            return None
        value = uniques[0]
    usual = _reference_share_of(col, value)
    shown = repr(value) if isinstance(value, str) else fmt(float(value))
    if usual is None:
        return Finding("constant", col.name, WARNING, len(present), len(present) / col.rows,
                       f"{col.name}: all {len(present)} values are {shown}, where training "
                       "varied (no reference profile says how usual that value is)")
    if usual >= CONSTANT_USUAL_SHARE:
        return None
    return Finding("constant", col.name, ERROR, len(present), len(present) / col.rows,
                   f"{col.name}: all {len(present)} values are {shown}, a value on "
                   f"{pct(usual)} of the reference rows: a broken upstream feed")



def _check_column(col: _Column) -> tuple[ColumnQuality, list[Finding]]:
    series = col.series
    missing = int(series.isna().sum())
    findings = _missing_findings(col, missing)
    violations, range_count = 0, 0
    values: np.ndarray | None = None
    present: pd.Series | np.ndarray
    if col.kind == "numeric":
        values, violations = _numeric_values(series)
        present = values
    else:
        present = series.dropna()
    if col.kind == "categorical":
        violations = _categorical_violations(series, list(col.spec.get("categories") or []))
    elif col.kind == "boolean":
        violations = _boolean_violations(series)
    elif col.kind == "datetime":
        violations = _datetime_violations(series)
    if violations:
        share = violations / col.rows
        findings.append(Finding("type", col.name, severity(share), violations, share,
                                f"{col.name}: {violations} of {col.rows} values "
                                f"({pct(share)}) are not {col.kind} (training dtype "
                                f"{col.spec.get('dtype', '?')})"))
    if values is not None:
        range_count, found = _range_finding(col, values)
        if found is not None:
            findings.append(found)
    if missing < col.rows:
        for extra in (_constant_finding(col, present),
                      unit_finding(col, values) if values is not None else None):
            if extra is not None:
                findings.append(extra)
    numbers = values if values is not None and len(values) else None
    stats = ColumnQuality(
        name=col.name, kind=col.kind, missing=missing, missing_share=missing / col.rows,
        reference_missing_share=col.reference_missing, type_violations=violations,
        range_violations=range_count, range_share=range_count / col.rows,
        distinct=(len(np.unique(present)) if isinstance(present, np.ndarray)
                  else int(present.nunique())) if len(present) else 0,
        mean=float(numbers.mean()) if numbers is not None else None,
        median=float(np.median(numbers)) if numbers is not None else None,
    )
    return stats, findings


def _quarantine_findings(quarantined: Mapping[str, int], rows: int,
                         fields: Mapping[str, str | None]) -> list[Finding]:
    total = rows + sum(quarantined.values())
    out = []
    for reason, count in sorted(quarantined.items(), key=lambda kv: (-kv[1], kv[0])):
        if count <= 0:
            continue
        share = count / total
        column = fields.get(reason)
        about = f"{column} " if column and not reason.startswith(column) else ""
        out.append(Finding("quarantined", column, severity(share), count, share,
                           f"{count} of {total} rows ({pct(share)}) quarantined: {about}{reason}"))
    return out


def check_quality(current: pd.DataFrame, signature: dict[str, Any],
                  profile: dict[str, Any] | None, *, quarantined: dict[str, int] | None = None,
                  quarantine_fields: Mapping[str, str | None] | None = None,
                  min_rows: int = 100) -> QualityReport:
    """Check one window of inputs against the signature (and the reference profile).
    `quarantined` counts refused rows by reason; `quarantine_fields` names the input
    field each reason is about, where it is one."""
    rows = len(current)
    refused = {str(k): int(v) for k, v in (quarantined or {}).items()}
    findings = _quarantine_findings(refused, rows, quarantine_fields or {})
    if rows < min_rows:
        # Too few logged rows to judge their columns; but refusals are exact counts, and a
        # feed whose rows are mostly refused (a column turned null) has failed, not "too few".
        if any(f.severity == ERROR for f in findings):
            reason = (f"{sum(refused.values())} of {rows + sum(refused.values())} rows quarantined; "
                      f"too few logged rows ({rows}, need {min_rows}) to check their columns")
            return QualityReport(FAILED, rows, min_rows, reason, tuple(findings), (), refused)
        reason = f"insufficient data: {rows} rows, need {min_rows}"
        if findings:
            reason += f"; {sum(refused.values())} rows quarantined"
        return QualityReport(INSUFFICIENT, rows, min_rows, reason, tuple(findings), (), refused)
    columns: list[ColumnQuality] = []
    for spec in signature.get("columns", []):
        name = str(spec["name"])
        if name not in current.columns:
            findings.append(Finding("missing_column", name, ERROR, rows, 1.0,
                                    f"{name}: the column is missing from all {rows} rows"))
            continue
        col = _Column(name, str(spec.get("kind", "categorical")), spec,
                      _profile_feature(profile, name), current[name], rows)
        stats, found = _check_column(col)
        columns.append(stats)
        findings.extend(found)
    errors = [f for f in findings if f.severity == ERROR]
    warnings = len(findings) - len(errors)
    if errors:
        named = sorted({f"{f.check} {f.column}" if f.column else f.check for f in errors})
        reason = (f"{len(errors)} error(s) in {rows} rows: {', '.join(named)}"
                  + (f"; {warnings} warning(s)" if warnings else ""))
    else:
        reason = f"{rows} rows, {len(columns)} columns checked, no error" + (
            f"; {warnings} warning(s)" if warnings else "")
    return QualityReport(FAILED if errors else OK, rows, min_rows, reason, tuple(findings),
                         tuple(columns), refused)
