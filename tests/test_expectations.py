"""Training-data expectations ([expectations] in a spec, registry.expectations): a spec whose
data breaks one stops before training with a report naming the column, the check and
the rows, and the store is unchanged; a spec whose data keeps them trains as before."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import snapshot_store

from registry.expectations import ExpectationsFailed, check_expectations, parse_age
from registry.spec import TrainingSpec, load_spec
from store.errors import InvalidInput

# the tiny data keep these: 400 hourly rows from 2026-01-01, x1 and x2 standard normal
KEPT = """
[expectations]
row_count = { min = 300, max = 1000 }
freshness = { column = "ts", max_age = "30d", as_of = 2026-02-01T00:00:00Z }
[expectations.columns.x1]
not_null = true
range = { min = -10, max = 10 }
[expectations.columns.colour]
allowed = ["red", "green", "blue"]
[expectations.columns.ts]
unique = true
"""


def _with(spec: Path, text: str) -> Path:
    spec.write_text(spec.read_text() + text)
    return spec


def _tiny(spec: Path) -> pd.DataFrame:
    return pd.read_csv(spec.parent / "tiny.csv")


def _lines(frame: pd.DataFrame, mask: pd.Series, column: str, n: int = 5) -> str:
    """The examples a CSV's failing rows show: its line numbers (header = line 1) and values."""
    return ", ".join(f"line {i + 2}: {frame[column].tolist()[i]!r}" for i in frame.index[mask][:n])


# -- parsing: every error names the file, the key and the fix -------------------------------


@pytest.mark.parametrize(("toml", "words"), [
    ("[expectations]\nrows = 5\n", "[expectations] has unknown key(s) rows; known: row_count, freshness, columns"),
    ("[expectations]\nnot_null = true\n", "(column checks go under [expectations.columns.NAME])"),
    ("[expectations]\nrow_count = 1000\n", "[expectations] row_count must be a table like { min = 1000 }, not 1000"),
    ("[expectations]\nrow_count = { least = 5 }\n", "row_count has unknown key(s) least; use min and/or max"),
    ("[expectations]\nrow_count = { min = 5.5 }\n", "row_count min must be a whole number, not 5.5"),
    ("[expectations]\nrow_count = { min = 9, max = 3 }\n", "min 9 is above max 3; swap them"),
    ("[expectations]\nfreshness = { column = \"ts\", max_age = \"a month\" }\n",
     "freshness max_age 'a month' must be a duration like \"30d\""),
    ("[expectations]\nfreshness = { max_age = \"3d\" }\n", "freshness needs column = \"...\""),
    ("[expectations]\nfreshness = { column = \"ts\", max_age = \"3d\", as_of = \"yesterday\" }\n",
     "as_of 'yesterday' is not an ISO-8601 time"),
    ("[expectations.columns.x1]\nnotnull = true\n",
     "[expectations.columns.x1] has unknown check(s) notnull; known: not_null, range, allowed, unique"),
    ("[expectations.columns.x1]\nnot_null = \"yes\"\n", "[expectations.columns.x1] not_null must be true or false"),
    ("[expectations.columns.x1]\nrange = { min = \"zero\" }\n", "[expectations.columns.x1] range min must be a number"),
    ("[expectations.columns.x1]\nrange = [0, 1]\n", "range must be a table like { min = 0, max = 100 }"),
    ("[expectations.columns.colour]\nallowed = []\n", "allowed must be a non-empty list of values"),
    ("[expectations.columns.colour]\n", "[expectations.columns.colour] declares no check"),
])
def test_a_bad_expectations_table_is_named_with_its_fix(tiny_spec: Path, toml: str, words: str) -> None:
    _with(tiny_spec, "\n" + toml)
    with pytest.raises(InvalidInput) as caught:
        load_spec(tiny_spec)
    assert caught.value.message.startswith(f"spec {tiny_spec}: ")
    assert words in caught.value.message, caught.value.message


def test_expectations_are_parsed_into_plain_data_the_run_records(tiny_spec: Path) -> None:
    spec = load_spec(_with(tiny_spec, KEPT))
    assert spec.expectations == {
        "row_count": {"min": 300, "max": 1000},
        "freshness": {"column": "ts", "max_age": "30d", "max_age_seconds": 30 * 86400.0,
                      "as_of": "2026-02-01T00:00:00+00:00"},
        "columns": {"x1": {"not_null": True, "range": {"min": -10, "max": 10}},
                    "colour": {"allowed": ["red", "green", "blue"]}, "ts": {"unique": True}},
    }
    recorded = json.loads(json.dumps(spec.to_dict()))
    assert TrainingSpec.from_dict(recorded) == spec
    assert parse_age("12h") == 43200 and parse_age("2w") == 14 * 86400 and parse_age("3 days") is None


# -- checking -------------------------------------------------------------------------------


def test_each_failing_check_is_reported_with_its_rows_and_values() -> None:
    frame = pd.DataFrame({"income": [10.0, -5.0, None, 3.0, -1.0, 7.0],
                          "kind": ["a", "b", "zz", "a", None, "a"],
                          "id": [1, 2, 2, 3, 4, 5]})
    expectations = {"row_count": {"min": 10, "max": None},
                    "columns": {"income": {"not_null": True, "range": {"min": 0, "max": None}},
                                "kind": {"allowed": ["a", "b"]}, "id": {"unique": True},
                                "score": {"range": {"min": 0, "max": 1}}}}
    report = check_expectations(frame, expectations)
    assert not report.passed and report.rows == 6 and report.checked == 6
    assert report.lines() == [
        "row_count: 6 rows; expected >= 10",
        "id: unique: values must be unique (every occurrence of a repeated value is counted); "
        "2 rows fail (row 1: 2, row 2: 2)",
        "income: not_null: must not be null; 1 row fails (row 2: None)",
        "income: range: must be >= 0; 2 rows fail (row 1: -5.0, row 4: -1.0)",
        "kind: allowed: must be one of a, b; 1 row fails (row 2: 'zz')",
        "score: present: the column is not in the data",
    ]
    as_data = json.loads(json.dumps(report.to_dict()))
    assert as_data["failures"][3] == {"column": "income", "check": "range", "failing_rows": 2,
                                      "examples": [{"row": "row 1", "value": -5.0},
                                                   {"row": "row 4", "value": -1.0}],
                                      "detail": "must be >= 0"}


def test_freshness_is_relative_to_now_or_to_as_of() -> None:
    frame = pd.DataFrame({"ts": ["2026-01-01T00:00:00Z", "2026-01-20T06:00:00Z"]})
    fresh = {"column": "ts", "max_age": "7d", "max_age_seconds": 7 * 86400.0, "as_of": None}
    assert check_expectations(frame, {"freshness": fresh},
                              now=datetime(2026, 1, 25, tzinfo=UTC)).passed
    stale = check_expectations(frame, {"freshness": fresh}, now=datetime(2026, 2, 1, tzinfo=UTC))
    assert stale.lines() == [
        "ts: freshness: newest value 2026-01-20T06:00:00+00:00; expected one at or after "
        "2026-01-25T00:00:00+00:00 (max_age 7d before now (2026-02-01T00:00:00+00:00))"]
    pinned = {**fresh, "as_of": "2026-01-26T00:00:00+00:00"}
    assert check_expectations(frame, {"freshness": pinned}).passed  # whatever the clock says
    assert "no value is a time" in check_expectations(
        pd.DataFrame({"ts": ["soon", None]}), {"freshness": pinned}).lines()[0]


def test_many_failing_rows_show_the_first_five() -> None:
    frame = pd.DataFrame({"x": range(100)})
    report = check_expectations(frame, {"columns": {"x": {"range": {"min": None, "max": 89}}}},
                                row_label=lambda i: f"line {i + 2}")
    assert report.lines() == ["x: range: must be <= 89; 10 rows fail (line 92: 90, line 93: 91, "
                              "line 94: 92, line 95: 93, line 96: 94, ...)"]


# -- the gate: before anything is written --------------------------------------------------


def test_training_stops_before_writing_with_the_report(store, tmp_path: Path, tiny_spec: Path) -> None:
    from registry.training import train

    assert train(store, str(tiny_spec))["registered"]  # v1, so the store has rows to keep
    before = snapshot_store(tmp_path / "store")
    frame = _tiny(tiny_spec)
    _with(tiny_spec, KEPT.replace("min = -10, max = 10", "min = -2")
          .replace('"red", "green", "blue"', '"red", "green"'))
    with pytest.raises(ExpectationsFailed) as caught:
        train(store, str(tiny_spec))
    low, blue = frame["x1"] < -2, frame["colour"] == "blue"
    assert low.sum() >= 3 and blue.sum() >= 5
    message = caught.value.message
    assert message.splitlines() == [
        f"spec {tiny_spec}: the data 'tiny-data' (400 rows) breaks 2 of its 6 expectations; "
        "nothing was trained or stored. Fix the data or the [expectations] table:",
        f"  - colour: allowed: must be one of red, green; {blue.sum()} rows fail "
        f"({_lines(frame, blue, 'colour')}, ...)",
        f"  - x1: range: must be >= -2; {low.sum()} rows fail ({_lines(frame, low, 'x1')}"
        + (", ...)" if low.sum() > 5 else ")"),
    ]
    failures = {f.column: f for f in caught.value.report.failures}
    assert failures["x1"].failing_rows == int(low.sum())
    assert isinstance(caught.value, InvalidInput) and caught.value.kind == "invalid"
    assert snapshot_store(tmp_path / "store") == before  # no run, no dataset, no audit event


def test_a_spec_whose_data_keeps_its_expectations_trains_as_before(store, tiny_spec: Path) -> None:
    from registry.training import train

    result = train(store, str(_with(tiny_spec, KEPT)))
    assert result["registered"] and result["run"]["status"] == "succeeded"


def test_wk_train_prints_the_report_and_exits_1(wk, trained: Path, store_dir: Path) -> None:
    before = snapshot_store(store_dir)
    frame = _tiny(trained)
    _with(trained, KEPT.replace("min = 300, max = 1000", "min = 1000"))
    result = wk("train", trained)
    assert result.code == 1
    assert result.err.count("wk: error:") == 1
    assert "breaks 1 of its 6 expectations; nothing was trained or stored" in result.err
    assert result.err.rstrip().endswith("  - row_count: 400 rows; expected >= 1000")  # no flag to give
    assert snapshot_store(store_dir) == before

    _with(trained, "[expectations.columns.x2]\nrange = { max = 1.5 }\n")
    result = wk("train", trained)
    high = frame["x2"] > 1.5
    assert result.code == 1
    assert f"  - x2: range: must be <= 1.5; {high.sum()} rows fail ({_lines(frame, high, 'x2')}, ...)" \
        in result.err, result.err
    assert snapshot_store(store_dir) == before


def test_pandera_is_imported_only_for_a_spec_with_expectations(
        tiny_spec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from registry.training import prepare

    kept = tiny_spec.parent / "kept.toml"
    kept.write_text(tiny_spec.read_text() + KEPT)
    for name in ("pandera", "pandera.pandas"):
        monkeypatch.setitem(sys.modules, name, None)  # any import of it now fails
    prepare(load_spec(tiny_spec))  # a spec without expectations never imports it
    spec = load_spec(kept)  # nor does reading expectations
    with pytest.raises(ImportError, match="pandera"):
        prepare(spec)  # checking them does


def test_the_readme_example_is_a_valid_expectations_table(tiny_spec: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = next(b.split("```")[0] for b in readme.split("```toml\n")[1:] if "[expectations]" in b)
    spec = load_spec(_with(tiny_spec, "\n" + block))
    assert set(spec.expectations["columns"]) == {"income", "employment_type", "application_id"}
    assert spec.expectations["freshness"]["max_age_seconds"] == 30 * 86400
