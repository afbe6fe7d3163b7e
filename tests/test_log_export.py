"""`wk predictions export`: a window of the log read back with pandas equals what was logged
(Parquet, CSV, JSON lines), shadow rows included with their route, metadata-only rows with
empty inputs; written in pages (memory bounded by a page, not the window); errors name the
problem."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import Result
from logged_store import START, Logged, build_logged_store

from console.cli.errors import ExitCode
from serving.log.export import export_log


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Logged, Path]]:
    root = tmp_path_factory.mktemp("export") / "store"
    store, what = build_logged_store(root, rows=600, days=3)
    yield store, what, root
    store.close()


def read_back(path: Path, fmt: str) -> pd.DataFrame:
    if fmt == "parquet":
        return pd.read_parquet(path)
    if fmt == "csv":
        return pd.read_csv(path, dtype={"label": "string", "request_id": "string"})
    return pd.read_json(path, lines=True, dtype={"label": "string"})


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as Python objects, a missing one as None (pandas' string and nullable dtypes
    differ by reader; the values must not)."""
    frame = frame.reset_index(drop=True).astype(object)
    return frame.where(frame.notna(), None)


def expected(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The logged rows as the export lays them out: inputs and outputs flattened."""
    out = []
    for r in rows:
        inputs, outputs = r["inputs"] or {}, r["outputs"] or {}
        probabilities = outputs.get("probabilities", {})
        out.append({
            "prediction_id": r["prediction_id"], "version": r["version"], "route": r["route"],
            "source": r["source"], "request_id": r["request_id"], "row_index": r["row_index"],
            "latency_ms": r["latency_ms"], "input.x1": inputs.get("x1"), "input.x2": inputs.get("x2"),
            "input.colour": inputs.get("colour"), "output.class": outputs.get("class"),
            "output.proba.0": probabilities.get("0"), "output.proba.1": probabilities.get("1"),
            "label": None if r["label"] is None else str(r["label"]),
        })
    return pd.DataFrame(out)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_an_export_reads_back_equal_to_the_logged_rows(logged: tuple[Any, Logged, Path], tmp_path: Path,
                                                       fmt: str) -> None:
    store, what, _ = logged
    path = tmp_path / f"log.{fmt}"
    result = export_log(store, "tiny", fmt=fmt, output=str(path), page_rows=64)
    assert result.rows == len(what.rows) == 600
    assert result.pages == -(-600 // 64)  # ten pages of at most 64 rows
    frame = read_back(path, fmt)
    assert list(frame.columns) == result.columns
    assert frame["prediction_id"].tolist() == [r["prediction_id"] for r in what.rows]  # oldest first
    at = pd.to_datetime(frame["at"], utc=True)
    assert at.tolist() == [pd.Timestamp(r["at"]) for r in what.rows]
    want = plain(expected(what.rows))
    got = plain(frame[list(want.columns)])
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    labelled = frame[frame["label"].notna()]
    assert len(labelled) == sum(r["label"] is not None for r in what.rows) > 0
    assert pd.to_datetime(labelled["label_at"], utc=True).notna().all()


def test_shadow_rows_carry_their_route_and_metadata_only_rows_have_empty_inputs(
        logged: tuple[Any, Logged, Path], tmp_path: Path) -> None:
    store, what, _ = logged
    path = tmp_path / "log.parquet"
    export_log(store, "tiny", fmt="parquet", output=str(path))
    frame = pd.read_parquet(path)
    shadow = frame[frame["route"] == "shadow"]
    assert len(shadow) == sum(r["route"] == "shadow" for r in what.rows) > 0
    assert (shadow["version"] == 2).all()
    bare_ids = {r["prediction_id"] for r in what.rows if r["inputs"] is None}
    bare = frame[frame["prediction_id"].isin(bare_ids)]
    assert len(bare) == len(bare_ids) > 0
    assert bare[[c for c in frame.columns if c.startswith(("input.", "output."))]].isna().all().all()
    assert bare["latency_ms"].notna().all() and bare["request_id"].notna().all()


def test_a_window_and_a_version_select_their_rows(logged: tuple[Any, Logged, Path], tmp_path: Path) -> None:
    store, what, _ = logged
    since, until = START + timedelta(days=1), START + timedelta(days=2)
    path = tmp_path / "day.parquet"
    result = export_log(store, "tiny", since=since, until=until, version=2, fmt="parquet", output=str(path))
    want = [r["prediction_id"] for r in what.rows if since <= r["at"] < until and r["version"] == 2]
    assert result.rows == len(want) > 0
    assert pd.read_parquet(path)["prediction_id"].tolist() == want


def test_pages_bound_the_memory_of_an_export(logged: tuple[Any, Logged, Path], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """No page handed to a writer holds more than `page_rows` rows, so a window of millions
    is never in memory at once (the writers take page after page)."""
    import store.log_export as log_export

    sizes: list[int] = []
    real = log_export._page_table

    def counting(page: Any, plan: Any, schema: Any) -> Any:
        sizes.append(len(page))
        return real(page, plan, schema)

    monkeypatch.setattr(log_export, "_page_table", counting)
    store, _, _ = logged
    for fmt in ("parquet", "csv", "jsonl"):
        sizes.clear()
        export_log(store, "tiny", fmt=fmt, output=str(tmp_path / f"p.{fmt}"), page_rows=50)
        assert max(sizes) == 50 and sum(sizes) == 600 and len(sizes) == 12


def test_cli_export_to_a_file_and_to_stdout(wk: Callable[..., Result], logged: tuple[Any, Logged, Path],
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, what, root = logged
    monkeypatch.setenv("WK_STORE", str(root))
    out = tmp_path / "log.csv"
    r = wk("predictions", "export", "tiny", "--output", out, "--json")  # csv from the extension
    assert r.code == 0, r.err
    summary = r.json()
    assert summary["rows"] == 600 and summary["format"] == "csv" and summary["file"] == str(out)
    assert summary["seconds"] >= 0
    assert len(pd.read_csv(out)) == 600
    r = wk("predictions", "export", "tiny", "--output", "-", "--since", "2026-11-03")  # jsonl on stdout
    assert r.code == 0, r.err
    lines = [json.loads(line) for line in r.out.splitlines()]
    assert [x["prediction_id"] for x in lines] == [
        w["prediction_id"] for w in what.rows if w["at"] >= START + timedelta(days=2)]
    assert "written to -" in r.err


@pytest.mark.parametrize(("args", "words"), [
    (("nosuch", "--output", "x.parquet"), "model 'nosuch' does not exist (models: tiny)"),
    (("tiny", "--since", "2026-11-03", "--until", "2026-11-02", "--output", "x.csv"),
     "the window starts at 2026-11-03T00:00:00+00:00, not before its end 2026-11-02T00:00:00+00:00"),
    (("tiny", "--output", "x.xlsx"), "cannot tell the format of 'x.xlsx' from its extension"),
    (("tiny", "--format", "parquet", "--output", "-"), "Parquet is written to a file"),
    (("tiny", "--version", "9", "--output", "x.csv"), "version 9"),
    (("tiny", "--output", "no/such/folder/x.csv"), "the folder of no/such/folder/x.csv does not exist"),
])
def test_export_errors_name_the_problem(wk: Callable[..., Result], logged: tuple[Any, Logged, Path],
                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        args: tuple[str, ...], words: str) -> None:
    _, _, root = logged
    monkeypatch.setenv("WK_STORE", str(root))
    monkeypatch.chdir(tmp_path)
    r = wk("predictions", "export", *args)
    assert r.code in (ExitCode.FAILED, ExitCode.USAGE), r
    assert r.err.startswith("wk: error: ") and words in r.err, r.err
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a partial file


def test_a_bad_format_is_refused_by_the_parser(wk: Callable[..., Result], logged: tuple[Any, Logged, Path],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, root = logged
    monkeypatch.setenv("WK_STORE", str(root))
    with pytest.raises(SystemExit) as exited:
        wk("predictions", "export", "tiny", "--format", "xlsx")
    assert exited.value.code == ExitCode.USAGE
