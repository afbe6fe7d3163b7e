"""CLI tables fit the terminal (issue 9, item 3): no line wider than COLUMNS, cut cells
marked with an ellipsis, --wide and piped output in full, --json untouched."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, Result
from hypothesis import given
from hypothesis import strategies as st
from make_tiny import make_tiny

from console.cli import tables, width
from console.cli.tables import ELLIPSIS, Column

LONG = ("the champion's error rate doubled after the upstream schema change of the night "
        "before, so traffic goes back to the version that held for three weeks (ticket OPS-4711)")
RUN_ID = "nightly-rescore-2026-12-01"


# --- the layout, as pure functions ---------------------------------------------------

def test_cut_keeps_the_head_or_the_tail_and_marks_the_cut() -> None:
    assert tables.cut("production=v1", 20) == "production=v1"
    assert tables.cut("production=v1", 8) == "product…"
    assert tables.cut("01a230ec-6c6a-7000-b927-555ce0e1cf37", 13, "tail") == "…555ce0e1cf37"
    assert tables.cut("abcdef", 4, ellipsis="...") == "a..."
    assert tables.cut("abcdef", 1) == "…"


def test_free_text_gives_room_before_names_and_times_stop_at_the_minute() -> None:
    columns = [tables.time("at"), tables.name("model"), tables.text("reason")]
    rows = [["2026-12-01T09:24:41.960827Z", "credit-default", "x" * 100]]
    plan = tables.layout(columns, rows, 60)
    assert plan.total() <= 60
    at, model, reason = plan.widths
    assert (at, model) == (17, len("credit-default")) and reason == 60 - 17 - 14 - 4
    assert tables.layout(columns, rows, None).widths == (27, 14, 100)
    assert tables.layout(columns, rows, 200).widths == (27, 14, 100)
    # a little short: the time loses its fraction of a second only
    assert tables.layout(columns, rows, 27 + 14 + 100 + 4 - 3).widths[0] == 20


def test_columns_are_left_out_in_drop_order_when_the_cut_widths_do_not_fit() -> None:
    columns = [Column("id", drop=2), tables.name("model"), tables.text("reason"),
               tables.name("by", 8, drop=1)]
    rows = [["12345", "credit-default", "y" * 80, "someone-long"]]
    assert tables.layout(columns, rows, 47).shown == (0, 1, 2, 3)  # every column at its floor
    plan = tables.layout(columns, rows, 46)
    assert plan.shown == (1, 2, 3) and plan.total() <= 46  # the id goes first
    assert tables.layout(columns, rows, 35).shown == (1, 2)  # then "by"


def test_cells_are_one_line() -> None:
    lines = tables.render(["reason"], [["first\nsecond\tthird"]], None)
    assert lines == ["REASON", "first second third"]


cell = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Mn", "Me")),
               max_size=60)


@given(width=st.integers(min_value=1, max_value=160),
       rows=st.lists(st.lists(cell, min_size=5, max_size=5), min_size=1, max_size=6))
def test_no_line_is_ever_wider_than_the_width(width: int, rows: list[list[str]]) -> None:
    columns = [Column("id", drop=1), tables.time("at"), tables.name("model"), tables.payload("change"),
               tables.text("reason")]
    for line in tables.render(columns, rows, width):
        assert len(line) <= width


# --- where the width comes from ------------------------------------------------------

class _Tty:
    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def test_width_on_a_terminal_piped_and_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    width.use_full_width(False)
    assert width.current() is None  # pytest's stdout is not a terminal: in full, as scripts read it
    monkeypatch.setenv("COLUMNS", "90")
    assert width.current() == 90  # a width given on purpose
    monkeypatch.setattr(sys, "stdout", _Tty())
    assert width.current() == 90
    monkeypatch.delenv("COLUMNS")
    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback=(80, 24): __import__("os").terminal_size((100, 30)))
    assert width.current() == 100
    width.use_full_width(True)
    try:
        assert width.current() is None
    finally:
        width.use_full_width(False)


def test_ellipsis_falls_back_to_dots_where_stdout_cannot_encode_it(monkeypatch: pytest.MonkeyPatch) -> None:
    class Ascii:
        encoding = "ascii"

    monkeypatch.setattr(sys, "stdout", Ascii())
    assert width.ellipsis() == "..."


# --- the commands on a store with long values ----------------------------------------

@pytest.fixture(scope="module")
def long_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """tiny v1 trained, a run that failed its gate, promotions and a canary with long
    reasons, and quarantined rows from a CLI prediction and a named batch run."""
    from console.cli import main

    # a short folder: `models show` prints the data file's URI whole (a path is never cut), and
    # pytest's own temporary paths grow with its worker names (popen-gw0) past 80 columns
    folder = Path(tempfile.mkdtemp(prefix="wk-tables-"))
    store = folder / "store"
    spec = make_tiny(folder / "project")
    shutil.copy(FIXTURES / "tiny_model.py", folder / "project" / "tiny_model.py")
    mp = pytest.MonkeyPatch()
    mp.setenv("WK_STORE", str(store))
    mp.delenv("WK_DATABASE_URL", raising=False)
    mp.delenv("COLUMNS", raising=False)
    try:
        def run(*args: Any) -> None:
            assert main([str(a) for a in args]) in (0, 1)

        run("init")
        run("train", spec)
        run("train", spec, "--param", "C=0.5")
        run("train", spec, "--param", 'drop=["x1"]')  # fails the gate with a long reason
        run("models", "promote", "tiny", "1", "production", "--reason", LONG)
        run("models", "promote", "tiny", "2", "staging", "--reason", LONG)
        run("deploy", "set", "tiny", "--challenger", "2", "--mode", "canary", "--share", "10%",
            "--reason", LONG)
        bad = {"x1": 0.5, "x2": -0.25, "colour": "a-colour-nobody-has-seen-in-training-" * 3}
        run("predict", "tiny", "--row", json.dumps(bad))
        rows = folder / "rows.csv"
        good = "".join(f"0.{i},0.2,red\n" for i in range(5))  # one batch: ids made in the same ms
        rows.write_text("x1,x2,colour\n" + good + "0.3,0.4,mauve-with-a-very-long-name\n")
        run("score", "tiny", "--source", rows, "--sink", folder / "scored.csv", "--run-id", RUN_ID)
        yield store
    finally:
        mp.undo()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def wk80(wk: Callable[..., Result], long_store: Path,
         monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.setenv("WK_STORE", str(long_store))
    monkeypatch.setenv("COLUMNS", "80")
    return wk


TABLE_COMMANDS = [
    ("audit",),
    ("models", "runs", "tiny"),
    ("quarantine", "list"),
    ("models", "list"),
    ("models", "show", "tiny"),
    ("models", "show", "tiny", "1"),
    ("models", "versions", "tiny"),
    ("models", "run", "3"),
    ("models", "compare", "tiny", "1", "2"),
    ("data", "list"),
    ("data", "show", "tiny-data"),
    ("predictions", "list"),
    ("deploy", "show"),
    ("deploy", "show", "tiny"),
    ("batch", "list"),
    ("batch", "show", RUN_ID),
]


def _widest(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


@pytest.mark.parametrize("command", TABLE_COMMANDS, ids=" ".join)
def test_every_table_command_fits_80_columns(wk80: Callable[..., Result], command: tuple[str, ...]) -> None:
    r = wk80(*command)
    assert r.code == 0, r.err
    if command == ("models", "run", "3"):  # the run's log is printed as it was written
        r = Result(r.code, r.out.split("\nlog\n")[0], r.err)
    assert _widest(r.out) <= 80, r.out


@pytest.mark.parametrize("command", [("audit",), ("models", "runs", "tiny"), ("quarantine", "list")],
                         ids=" ".join)
def test_cut_cells_end_with_an_ellipsis_and_wide_shows_them_in_full(
        wk80: Callable[..., Result], command: tuple[str, ...]) -> None:
    reasons = [r["reason"] for r in wk80(*command, "--json").json() if len(r["reason"] or "") > 80]
    assert reasons, "the store has long reasons"
    fitted = wk80(*command)
    assert fitted.code == 0 and _widest(fitted.out) <= 80
    for reason in reasons:
        assert reason not in fitted.out
        # the cell holds the reason's start, and ends with the ellipsis
        assert any(reason[:k] + ELLIPSIS in fitted.out for k in range(12, len(reason))), fitted.out
    wide = wk80(*command, "--wide")  # (a reason may hold an ellipsis of its own: a value cut at the source)
    assert wide.code == 0 and all(reason in wide.out for reason in reasons)


def test_the_gate_reason_and_the_audit_reason_read_at_80(wk80: Callable[..., Result]) -> None:
    gate = next(r["reason"] for r in wk80("models", "runs", "tiny", "--json").json()
                if r["status"] == "failed_gate")
    runs = wk80("models", "runs", "tiny").out
    failed = next(line for line in runs.splitlines() if "failed_gate" in line)
    assert gate[:40] in failed and failed.endswith(ELLIPSIS)
    audit = wk80("audit", "--action", "alias.promote").out.splitlines()
    assert all("the champion" in line for line in audit[1:]), audit


def test_prediction_ids_keep_their_distinguishing_tail(wk80: Callable[..., Result]) -> None:
    ids = [p["prediction_id"] for p in wk80("predictions", "list", "--json").json()]
    shown = wk80("predictions", "list").out.splitlines()[1:]
    assert len(ids) == len(shown) >= 2
    for full, line in zip(ids, shown, strict=True):
        cell_text = line.split("  ")[0]
        assert cell_text.startswith(ELLIPSIS) and full.endswith(cell_text[1:])
        assert len(cell_text) >= 13
    assert len({line.split("  ")[0] for line in shown}) == len(ids)


@pytest.mark.parametrize("command", [("audit",), ("models", "runs", "tiny"), ("quarantine", "list"),
                                     ("models", "show", "tiny"), ("predictions", "list")], ids=" ".join)
def test_json_is_the_same_at_any_width(wk80: Callable[..., Result], monkeypatch: pytest.MonkeyPatch,
                                       command: tuple[str, ...]) -> None:
    narrow = wk80(*command, "--json").out
    monkeypatch.delenv("COLUMNS")
    assert narrow == wk80(*command, "--json").out
    json.loads(narrow)


def test_piped_output_is_in_full_without_columns(wk80: Callable[..., Result],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS")
    for command in (("audit",), ("models", "runs", "tiny"), ("quarantine", "list")):
        out = wk80(*command).out
        assert out == wk80(*command, "--wide").out
    assert LONG in wk80("audit").out
