"""Training-data expectations: what a spec's `[expectations]` table declares, checked on
the loaded data before anything is trained or written.

    [expectations]
    row_count = { min = 1000, max = 1_000_000 }       # either bound may be left out
    freshness = { column = "ts", max_age = "30d" }    # newest row at most 30 days old,
                                                      # relative to now, or to as_of = ...
    [expectations.columns.income]
    not_null = true
    range = { min = 0 }                               # min and/or max, inclusive
    [expectations.columns.employment_type]
    allowed = ["salaried", "self_employed", "contractor", "unemployed", "retired"]
    [expectations.columns.id]
    unique = true

Parsing is pure and light (no pandera); the spec keeps the parsed expectations as plain
data, so a run records them. The check translates them into a pandera schema, imported
only here and only when a spec has expectations (about 0.2 s on top of pandas), and
validates lazily so that every failing column and check is reported at once, each with
the number of failing rows and the first few row labels and values (pandera's failure
cases).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from store.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

COLUMN_CHECKS = ("not_null", "range", "allowed", "unique")
TABLE_CHECKS = ("row_count", "freshness", "columns")
AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
EXAMPLES = 5  # failing rows shown per check

Fail = Callable[[str], InvalidInput]


# -- parsing ----------------------------------------------------------------------------


def parse_age(text: str) -> float | None:
    """'30d', '12h', '90m', '2w', '45s' as seconds (None if it is not one)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    return float(match.group(1)) * AGE_UNITS[match.group(2)] if match else None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _bounds(value: Any, where: str, fail: Fail, *, integer: bool) -> dict[str, Any]:
    example = "{ min = 1000 }" if integer else "{ min = 0, max = 100 }"
    if not isinstance(value, dict) or not value:
        raise fail(f"{where} must be a table like {example}, not {value!r}")
    unknown = sorted(set(value) - {"min", "max"})
    if unknown:
        raise fail(f"{where} has unknown key(s) {', '.join(unknown)}; use min and/or max, "
                   f"as in {example}")
    out: dict[str, Any] = {"min": None, "max": None}
    for key in ("min", "max"):
        if key in value:
            bound = value[key]
            ok = isinstance(bound, int) and not isinstance(bound, bool) if integer else _number(bound)
            if not ok:
                kind = "a whole number" if integer else "a number"
                raise fail(f"{where} {key} must be {kind}, not {bound!r}")
            out[key] = bound
    if out["min"] is not None and out["max"] is not None and out["min"] > out["max"]:
        raise fail(f"{where} min {out['min']} is above max {out['max']}; swap them")
    return out


def _as_of(value: Any, where: str, fail: Fail) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise fail(f"{where} as_of {value!r} is not an ISO-8601 time; write e.g. "
                       "as_of = 2026-02-01T00:00:00Z") from None
    if not isinstance(value, datetime):
        raise fail(f"{where} as_of must be a time like 2026-02-01T00:00:00Z, not {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _freshness(value: Any, fail: Fail) -> dict[str, Any]:
    where = "[expectations] freshness"
    example = '{ column = "ts", max_age = "30d" }'
    if not isinstance(value, dict):
        raise fail(f"{where} must be a table like {example}, not {value!r}")
    unknown = sorted(set(value) - {"column", "max_age", "as_of"})
    if unknown:
        raise fail(f"{where} has unknown key(s) {', '.join(unknown)}; known: column, max_age, as_of")
    column = value.get("column")
    if not isinstance(column, str) or not column:
        raise fail(f"{where} needs column = \"...\" (the time column), as in {example}")
    age = value.get("max_age")
    seconds = parse_age(age) if isinstance(age, str) else None
    if not isinstance(age, str) or seconds is None or seconds <= 0:
        raise fail(f"{where} max_age {age!r} must be a duration like \"30d\", \"12h\", \"90m\", "
                   "\"2w\" or \"45s\"")
    as_of = _as_of(value["as_of"], where, fail) if "as_of" in value else None
    return {"column": column, "max_age": age.strip(), "max_age_seconds": seconds, "as_of": as_of}


def _column(name: str, value: Any, fail: Fail) -> dict[str, Any]:
    where = f"[expectations.columns.{name}]"
    if not isinstance(value, dict):
        raise fail(f"{where} must be a table (not_null, range, allowed, unique), not {value!r}")
    unknown = sorted(set(value) - set(COLUMN_CHECKS))
    if unknown:
        raise fail(f"{where} has unknown check(s) {', '.join(unknown)}; known: "
                   f"{', '.join(COLUMN_CHECKS)}")
    if not value:
        raise fail(f"{where} declares no check; add one of {', '.join(COLUMN_CHECKS)} or remove it")
    out: dict[str, Any] = {}
    for key in ("not_null", "unique"):
        if key in value:
            if not isinstance(value[key], bool):
                raise fail(f"{where} {key} must be true or false, not {value[key]!r}")
            out[key] = value[key]
    if "range" in value:
        out["range"] = _bounds(value["range"], f"{where} range", fail, integer=False)
    if "allowed" in value:
        allowed = value["allowed"]
        if (not isinstance(allowed, list) or not allowed
                or not all(isinstance(v, str) or _number(v) for v in allowed)):
            raise fail(f'{where} allowed must be a non-empty list of values, like '
                       f'["salaried", "retired"], not {allowed!r}')
        out["allowed"] = list(allowed)
    return out


def parse_expectations(table: Any, fail: Fail) -> dict[str, Any]:
    """The spec's [expectations] table as plain data (raising `fail(message)` on an error)."""
    if not isinstance(table, dict):
        raise fail(f"expectations must be a table ([expectations]), not {type(table).__name__}")
    unknown = sorted(set(table) - set(TABLE_CHECKS))
    if unknown:
        hint = (" (column checks go under [expectations.columns.NAME])"
                if set(unknown) & set(COLUMN_CHECKS) else "")
        raise fail(f"[expectations] has unknown key(s) {', '.join(unknown)}; known: "
                   f"{', '.join(TABLE_CHECKS)}{hint}")
    out: dict[str, Any] = {}
    if "row_count" in table:
        out["row_count"] = _bounds(table["row_count"], "[expectations] row_count", fail, integer=True)
    if "freshness" in table:
        out["freshness"] = _freshness(table["freshness"], fail)
    columns = table.get("columns", {})
    if not isinstance(columns, dict):
        raise fail("[expectations] columns must be tables: [expectations.columns.NAME]")
    out["columns"] = {str(name): _column(str(name), value, fail) for name, value in columns.items()}
    return out


# -- the report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectationFailure:
    column: str | None  # None for a check on the whole table (row_count)
    check: str  # not_null, range, allowed, unique, present, row_count, freshness
    failing_rows: int | None  # None where the check is about the table, not rows
    examples: tuple[tuple[str, Any], ...]  # (row label, value), the first few
    detail: str  # one line: the expectation and what the data holds

    def line(self) -> str:
        where = f"{self.column}: " if self.column else ""
        shown = ", ".join(f"{label}: {value!r}" for label, value in self.examples)
        rows = "" if self.failing_rows is None else (
            f"; {self.failing_rows} {'row fails' if self.failing_rows == 1 else 'rows fail'}"
            + (f" ({shown}{', ...' if self.failing_rows > len(self.examples) else ''})"
               if shown else ""))
        return f"{where}{self.check}: {self.detail}{rows}"

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "check": self.check, "failing_rows": self.failing_rows,
                "examples": [{"row": label, "value": value} for label, value in self.examples],
                "detail": self.detail}


@dataclass(frozen=True)
class ExpectationReport:
    rows: int
    checked: int  # how many expectations were checked
    failures: tuple[ExpectationFailure, ...]

    @property
    def passed(self) -> bool:
        return not self.failures

    def lines(self) -> list[str]:
        return [f.line() for f in self.failures]

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "rows": self.rows, "checked": self.checked,
                "failures": [f.to_dict() for f in self.failures]}


class ExpectationsFailed(InvalidInput):
    """Training data that breaks its spec's expectations; `report` says where."""

    def __init__(self, message: str, report: ExpectationReport) -> None:
        super().__init__(message)  # about the data, not an argument: no field to name
        self.report = report

    @classmethod
    def of(cls, spec_path: str, data_name: str, report: ExpectationReport) -> ExpectationsFailed:
        n = len(report.failures)
        head = (f"spec {spec_path}: the data {data_name!r} ({report.rows} rows) breaks {n} "
                f"of its {report.checked} expectation{'s' if report.checked != 1 else ''}; "
                "nothing was trained or stored. Fix the data or the [expectations] table:")
        return cls("\n".join([head, *(f"  - {line}" for line in report.lines())]), report)


# -- checking -----------------------------------------------------------------------------


def _bounds_text(bounds: dict[str, Any]) -> str:
    parts = []
    if bounds.get("min") is not None:
        parts.append(f">= {bounds['min']}")
    if bounds.get("max") is not None:
        parts.append(f"<= {bounds['max']}")
    return " and ".join(parts)


def _cutoff(freshness: dict[str, Any], now: datetime | None) -> tuple[datetime, str]:
    if freshness.get("as_of"):
        anchor, label = datetime.fromisoformat(freshness["as_of"]), f"as_of {freshness['as_of']}"
    else:
        anchor = now or datetime.now(UTC)
        label = f"now ({anchor.astimezone(UTC).isoformat(timespec='seconds')})"
    return anchor - timedelta(seconds=float(freshness["max_age_seconds"])), label


def _newest(series: pd.Series) -> Any:
    import pandas as pd

    return pd.to_datetime(series, utc=True, errors="coerce", format="mixed").max()


def _value(value: Any) -> Any:
    """A failure case as a plain JSON-safe value."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _count_expectations(expectations: dict[str, Any]) -> int:
    return (("row_count" in expectations) + ("freshness" in expectations)
            + sum(len(c) for c in expectations.get("columns", {}).values()))


def check_expectations(frame: pd.DataFrame, expectations: dict[str, Any], *,
                       row_label: Callable[[int], str] = lambda i: f"row {i}",
                       now: datetime | None = None) -> ExpectationReport:
    """Validate `frame` against parsed expectations with a pandera schema (lazily: every
    failure at once)."""
    import pandera.pandas as pa

    names: dict[tuple[str | None, int], str] = {}  # (column, check number) -> expectation
    columns: dict[str, Any] = {}
    for name, spec in expectations.get("columns", {}).items():
        checks: list[Any] = []
        if "range" in spec:
            for key, make in (("min", pa.Check.ge), ("max", pa.Check.le)):
                if spec["range"].get(key) is not None:
                    names[(name, len(checks))] = "range"
                    checks.append(make(spec["range"][key]))
        if "allowed" in spec:
            names[(name, len(checks))] = "allowed"
            checks.append(pa.Check.isin(spec["allowed"]))
        columns[name] = pa.Column(nullable=not spec.get("not_null", False),
                                  unique=spec.get("unique", False), checks=checks)
    freshness = expectations.get("freshness")
    if freshness:
        cutoff, anchor = _cutoff(freshness, now)
        fresh = pa.Check(lambda s: bool(_newest(s) >= cutoff), name="freshness")
        column = freshness["column"]
        if column in columns:
            names[(column, len(columns[column].checks))] = "freshness"
            columns[column] = columns[column].set_checks([*columns[column].checks, fresh])
        else:
            names[(column, 0)] = "freshness"
            columns[column] = pa.Column(nullable=True, checks=[fresh])
    frame_checks = []
    row_count = expectations.get("row_count")
    if row_count:
        low, high = row_count.get("min"), row_count.get("max")
        names[(None, 0)] = "row_count"
        frame_checks.append(pa.Check(
            lambda df: (low is None or len(df) >= low) and (high is None or len(df) <= high),
            name="row_count"))
    schema = pa.DataFrameSchema(columns, checks=frame_checks, strict=False)
    checked = _count_expectations(expectations)
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return ExpectationReport(len(frame), checked, ())

    failures: list[ExpectationFailure] = []
    grouped: dict[tuple[str | None, str], list[tuple[Any, Any]]] = {}
    for case in cases.to_dict("records"):
        column = case.get("column")
        column = None if column is None or (isinstance(column, float) and math.isnan(column)) else str(column)
        check = str(case.get("check"))
        number = case.get("check_number")
        if check == "column_in_dataframe":
            column, what = str(case.get("failure_case")), "present"
        elif check == "not_nullable":
            what = "not_null"
        elif check == "field_uniqueness":
            what = "unique"
        elif number is not None and not (isinstance(number, float) and math.isnan(number)):
            what = names.get((column, int(number)), check)
        else:
            what = check
        grouped.setdefault((column, what), []).append((case.get("index"), case.get("failure_case")))

    for (column, what), found in grouped.items():
        rows = [(i, v) for i, v in found if i is not None and not (isinstance(i, float) and math.isnan(i))]
        examples = tuple((row_label(int(i)), _value(v)) for i, v in rows[:EXAMPLES])
        count: int | None = len({int(i) for i, _ in rows})
        spec = expectations.get("columns", {}).get(column or "", {})
        if what == "present":
            detail, count = "the column is not in the data", None
        elif what == "not_null":
            detail = "must not be null"
        elif what == "unique":
            detail = "values must be unique (every occurrence of a repeated value is counted)"
        elif what == "range":
            detail = f"must be {_bounds_text(spec.get('range', {}))}"
        elif what == "allowed":
            allowed = spec.get("allowed", [])
            detail = f"must be one of {', '.join(map(str, allowed))}"
        elif what == "row_count" and row_count:
            detail, count = f"{len(frame)} rows; expected {_bounds_text(row_count)}", None
        elif what == "freshness" and freshness:
            newest = _newest(frame[freshness["column"]])
            shown = "no value is a time" if newest is None or str(newest) == "NaT" else (
                f"newest value {newest.isoformat()}")
            detail = (f"{shown}; expected one at or after {cutoff.isoformat(timespec='seconds')} "
                      f"(max_age {freshness['max_age']} before {anchor})")
            count = None
        else:
            detail = f"pandera's check {what} failed"
        if not rows and what in ("not_null", "unique", "range", "allowed") or what not in (
                "present", "not_null", "unique", "range", "allowed", "row_count", "freshness"):
            # a check that could not run at all (a range on text): pandera's error says why
            detail = f"{detail}, but the check could not run: {found[0][1]}"
            count = None
        failures.append(ExpectationFailure(column, what, count, examples if count else (), detail))
    failures.sort(key=lambda f: (f.column is not None, f.column or "", f.check))
    return ExpectationReport(len(frame), checked, tuple(failures))
