"""Progress on a terminal (issue 9, item 6): totals and the time left on stderr for
train, reproduce, demo and score; nothing with --json or off a terminal."""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Result

from console.cli import progress as progress_mod
from console.cli.progress import Progress, duration, progress_line


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_line_shows_totals_and_the_time_left() -> None:
    out, clock = Tty(), Clock()
    line = Progress("scoring credit-default", "rows", out, clock=clock, width=200)
    clock.now += 2
    line(2_500, 10_000, "")
    text = out.getvalue()
    assert "[###.........] 2,500/10,000 rows" in text
    assert "2s, ~6s left" in text
    clock.now += 6
    line(10_000, 10_000, "")
    line.close()
    assert out.getvalue().endswith("10,000/10,000 rows · done in 8s\x1b[K\n")


def test_steps_show_the_step_under_way_and_an_expected_duration_guides_the_eta() -> None:
    out, clock = Tty(), Clock()
    line = Progress("training tiny", "steps", out, clock=clock, expected=30, width=200)
    line(0, 4, "reading the data")
    clock.now += 10
    line(1, 4, "fitting")
    last = out.getvalue().split("\r")[-1]
    assert last.startswith("wk: training tiny [###.........] 1/4 steps · fitting · 10s, ~20s left")


def test_unknown_totals_show_the_rate_and_the_line_fits_the_terminal() -> None:
    out, clock = Tty(), Clock()
    line = Progress("building the demo", "steps", out, clock=clock, width=80)
    clock.now += 4
    line(3, 8, "training credit-default (fails its gate, as the demo wants to show)")
    last = out.getvalue().split("\r")[-1].removesuffix("\x1b[K")
    assert len(last) <= 79 and last.endswith("· 4s, ~7s left")  # the note is cut, not the time
    assert "· training cred" in last and "… · 4s" in last
    narrow = Progress("scoring m", "rows", Tty(), clock=clock, width=20)
    narrow(4_000, None)
    assert len(narrow.line()) <= 19 and narrow.line().endswith("…")
    wide = Progress("scoring m", "rows", Tty(), clock=clock, width=200)
    clock.now += 2
    wide(4_000, None)
    assert "4,000 rows · 2s, 2,000 rows/s" in wide.line()


def test_redraws_are_throttled_but_a_new_step_always_shows() -> None:
    out, clock = Tty(), Clock()
    line = Progress("x", "rows", out, clock=clock, width=200)
    for done in range(100):
        line(done, 1000, "")
    assert out.getvalue().count("\r") == 1
    line(101, 1000, "next step")
    assert out.getvalue().count("\r") == 2


def test_durations_read_as_people_say_them() -> None:
    assert [duration(s) for s in (4.4, 65, 7380)] == ["4s", "1m05s", "2h03m"]


@pytest.mark.parametrize(("json", "tty", "shown"), [(False, True, True), (True, True, False),
                                                    (False, False, False)])
def test_progress_only_for_a_person_at_a_terminal(json: bool, tty: bool, shown: bool) -> None:
    out = Tty() if tty else io.StringIO()
    with progress_line(argparse.Namespace(json=json), "demo", "steps", stream=out) as line:
        assert (line is not None) == shown
        if line is not None:
            line(1, 2, "half")
    assert bool(out.getvalue()) == shown


@pytest.fixture
def tty_stderr(monkeypatch: pytest.MonkeyPatch) -> Tty:
    """stderr as a terminal for the progress line only (the `wk` fixture reads the real one)."""
    fake = Tty()
    monkeypatch.setenv("COLUMNS", "200")
    original = progress_mod.progress_line

    def on_tty(args: argparse.Namespace, what: str, unit: str, **kw: object):  # type: ignore[no-untyped-def]
        return original(args, what, unit, expected=kw.get("expected"), stream=fake)  # type: ignore[arg-type]

    for module in ("train", "reproduce", "score", "demo"):
        monkeypatch.setattr(f"console.cli.{module}.progress_line", on_tty)
    monkeypatch.setattr("console.cli.train.wanted", lambda args, stream: not args.json)
    monkeypatch.setattr("console.cli.reproduce.wanted", lambda args, stream: not args.json)
    return fake


def test_train_and_reproduce_show_their_steps_on_a_terminal(
        wk: Callable[..., Result], trained: Path, tty_stderr: Tty) -> None:
    assert wk("train", trained).code == 0
    text = tty_stderr.getvalue()
    assert "wk: training tiny" in text and "/4 steps · fitting" in text and "left" in text
    assert "4/4 steps · done in" in text
    tty_stderr.seek(0)
    tty_stderr.truncate(0)
    assert wk("reproduce", "tiny", "1").code == 0
    assert "wk: reproducing tiny v1" in tty_stderr.getvalue()
    assert "comparing predictions" in tty_stderr.getvalue()


def test_score_shows_rows_on_a_terminal(wk: Callable[..., Result], trained: Path,
                                        tty_stderr: Tty, tmp_path: Path) -> None:
    import csv

    data = next(trained.parent.rglob("*.csv"))
    with open(data) as f:
        rows = list(csv.reader(f))
    (tmp_path / "in.csv").write_text("\n".join(",".join(r) for r in rows) + "\n")
    r = wk("score", "tiny", "--version", "1", "--source", tmp_path / "in.csv",
           "--sink", tmp_path / "out.csv")
    assert r.code == 0, r.err
    assert f"{len(rows) - 1:,}/{len(rows) - 1:,} rows · done in" in tty_stderr.getvalue()


def test_nothing_on_stderr_with_json_or_off_a_terminal(
        wk: Callable[..., Result], trained: Path, tty_stderr: Tty) -> None:
    r = wk("train", trained, "--json")
    assert r.code == 0 and tty_stderr.getvalue() == ""
    assert "\r" not in r.err and "steps" not in r.err
    r = wk("reproduce", "tiny", "1", "--json")
    assert r.code == 0 and tty_stderr.getvalue() == ""


def test_off_a_terminal_the_commands_print_no_progress(wk: Callable[..., Result],
                                                       trained: Path) -> None:
    r = wk("train", trained)  # pytest's captured stderr is not a terminal
    assert r.code == 0 and "\r" not in r.err and "steps" not in r.err
