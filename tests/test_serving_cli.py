"""The serving commands as a user runs them: exit codes, --json, stderr messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import snapshot_store
from serving_store import TINY_ROW, build_store


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = build_store(tmp_path / "store", numeric=False)
    monkeypatch.setenv("WK_STORE", str(path))
    return path


def test_predict_example_row_file_and_show(root: Path, wk: Any, tmp_path: Path) -> None:
    example = wk("predict", "tiny", "--example", "--json")
    assert example.code == 0 and set(example.json()["row"]) == {"x1", "x2", "colour"}
    r = wk("predict", "tiny", "--row", example.out, "--request-id", "cli-1", "--json")
    assert r.code == 0, r.err
    p = r.json()["predictions"][0]
    assert (p["version"], p["route"]) == (1, "champion")
    shown = wk("predictions", "show", p["prediction_id"][:13], "--json").json()
    assert shown["prediction_id"] == p["prediction_id"] and shown["source"] == "cli"
    assert shown["inputs"] == example.json()["row"] and shown["outputs"]["class"] == p["class"]
    rows = tmp_path / "rows.jsonl"
    rows.write_text("\n".join(json.dumps({**TINY_ROW, "x1": i}) for i in range(3)))
    many = wk("predict", "tiny", "--file", rows, "--version", "2", "--json").json()["predictions"]
    assert [(m["version"], m["route"]) for m in many] == [(2, "challenger")] * 3
    listed = wk("predictions", "list", "--model", "tiny", "--version", "2", "--json").json()
    assert len(listed) == 3 and all(x["version"] == 2 for x in listed)
    table = wk("predictions", "list", "--request-id", "cli-1")
    assert p["prediction_id"] in table.out


def test_predict_bad_input_exits_1_and_quarantines(root: Path, wk: Any) -> None:
    r = wk("predict", "tiny", "--row", json.dumps({**TINY_ROW, "colour": "mauve"}))
    assert r.code == 1 and "field 'colour'" in r.err and "quarantined" in r.err
    assert wk("quarantine", "list", "--model", "tiny", "--json").json()[0]["source"] == "cli"
    r = wk("predict", "tiny", "--row", '{"x1": NaN}')
    assert r.code == 1 and "NaN is not allowed" in r.err
    r = wk("predict", "nope", "--row", "{}")
    assert r.code == 1 and "model 'nope' does not exist" in r.err
    assert wk("predictions", "show", "zzz").code == 1


def test_feedback_file_reports_matches(root: Path, wk: Any, tmp_path: Path) -> None:
    ids = [wk("predict", "tiny", "--row", json.dumps(TINY_ROW), "--json").json()["predictions"][0]["prediction_id"]
           for _ in range(3)]
    wk("predict", "tiny", "--row", json.dumps(TINY_ROW), "--request-id", "r-9")
    labels = tmp_path / "labels.csv"
    labels.write_text("prediction_id,request_id,label\n" + "".join(f"{i},,1\n" for i in ids)
                      + ",r-9,0\n01a20000-0000-7000-8000-000000000000,,1\n")
    r = wk("feedback", "--file", labels, "--model", "tiny", "--json")
    assert r.code == 1  # one label matched nothing: said, and the exit code says so
    assert (r.json()["matched"], r.json()["unmatched"]) == (4, 1)
    assert wk("predictions", "show", ids[0], "--json").json()["label"] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("id,label\nx,1\n")
    r = wk("feedback", "--file", bad)
    assert r.code == 1 and "needs label and prediction_id or request_id" in r.err


def test_deploy_set_show_promote_rollback(root: Path, wk: Any) -> None:
    r = wk("deploy", "set", "tiny", "--mode", "canary", "--challenger", "2", "--share", "10%",
           "--reason", "try v2", "--json")
    assert r.code == 0, r.err
    assert (r.json()["mode"], r.json()["challenger"], r.json()["challenger_share"]) == ("canary", 2, 0.1)
    shown = wk("deploy", "show", "tiny", "--json").json()
    assert shown["champion"] == 1 and shown["challenger"] == 2
    assert "canary" in wk("deploy", "show").out
    promoted = wk("deploy", "promote", "tiny", "--reason", "v2 is better", "--json").json()
    assert (promoted["champion"], promoted["mode"], promoted["from_version"]) == (2, "single", 1)
    back = wk("deploy", "rollback", "tiny", "--reason", "v2 is worse", "--json").json()
    assert back["champion"] == 1 and back["undid"] == "production"
    actions = [e["action"] for e in wk("audit", "--json").json()]
    assert actions[:4] == ["alias.rollback", "deployment.promote", "alias.promote", "deployment.set"]


@pytest.mark.parametrize(("args", "code", "words"), [
    (("deploy", "set", "tiny", "--mode", "canary", "--challenger", "2", "--share", "150%"), 2, "outside 0..1"),
    (("deploy", "set", "tiny", "--mode", "canary"), 1, "needs a challenger"),
    (("deploy", "set", "tiny", "--challenger", "1", "--mode", "shadow"), 1, "already the champion"),
    (("deploy", "set", "tiny", "--challenger", "9", "--mode", "shadow"), 1, "has no version"),
    (("deploy", "set", "tiny"), 2, "nothing to change"),
    (("deploy", "promote", "tiny", "--reason", "x"), 1, "no challenger to promote"),
    (("deploy", "promote", "tiny"), 2, "needs a reason"),
    (("deploy", "rollback", "tiny"), 2, "needs a reason"),
    (("deploy", "set", "tiny", "--log", "metadata", "--sample-rate", "2"), 2, "outside 0..1"),
])
def test_deploy_refusals_leave_the_store_unchanged(root: Path, wk: Any, args: tuple[str, ...], code: int,
                                                   words: str) -> None:
    before = snapshot_store(root)
    r = wk(*args)
    assert r.code == code and words in r.err, r.err
    assert r.err.startswith("wk: error: ")
    assert snapshot_store(root) == before


def test_serve_refuses_a_bad_port_before_opening_anything(root: Path, wk: Any) -> None:
    r = wk("serve", "--port", "70000")
    assert r.code == 2 and "not a TCP port" in r.err


def test_deploy_show_draws_a_chart_on_a_terminal_only(root: Path, wk: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal, `wk deploy show NAME` adds requests/min and p95 of champion and
    challenger over the last 3 hours, within the terminal's width; piped, with --json or
    --no-chart, the output is as before."""
    from console.cli import width

    assert wk("deploy", "set", "tiny", "--mode", "canary", "--challenger", "2", "--share", "50%",
              "--reason", "try v2").code == 0
    for version in ("1", "2", "1"):
        assert wk("predict", "tiny", "--row", json.dumps(TINY_ROW), "--version", version).code == 0
    # the chart ends at the last whole minute: look from two minutes on
    from datetime import timedelta

    from serving.traffic import dashboard
    from store.types import utcnow

    later = utcnow() + timedelta(minutes=2)
    monkeypatch.setattr(dashboard, "utcnow", lambda: later)
    piped = wk("deploy", "show", "tiny")
    assert piped.code == 0 and "requests/min" not in piped.out and "last 3 h" not in piped.out
    monkeypatch.setattr(width, "_is_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", "72")
    monkeypatch.setenv("NO_COLOR", "1")
    shown = wk("deploy", "show", "tiny")
    assert shown.code == 0, shown.err
    assert shown.out.startswith(piped.out.rstrip("\n").split("\ntraffic")[0])  # the fields, unchanged
    chart = shown.out.split("\nlast 3 h (3 min a point)\n")[1]
    assert "requests/min" in chart and "p95 ms" in chart and "now" in chart
    assert "▚ champion v1" in chart and "▚ challenger v2" in chart
    assert max(len(line) for line in shown.out.splitlines()) <= 72 and "\033" not in shown.out
    as_json = wk("deploy", "show", "tiny", "--json")
    assert as_json.code == 0 and "requests/min" not in as_json.out
    traffic = {t["route"]: t for t in as_json.json()["traffic"]}
    assert (traffic["champion"]["requests"], traffic["champion"]["rows"]) == (2, 2)
    monkeypatch.setattr(dashboard, "utcnow", utcnow)  # the requests are in this minute: no chart yet
    assert "(no requests in the last 3 h up to this minute)" in wk("deploy", "show", "tiny").out
    monkeypatch.setattr(dashboard, "utcnow", lambda: later)
    assert "requests/min" not in wk("deploy", "show", "tiny", "--no-chart").out
    monkeypatch.delenv("NO_COLOR")
    assert "\033[" in wk("deploy", "show", "tiny").out  # coloured lines on a terminal
