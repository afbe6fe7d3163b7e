"""wk demo builds a real store from the sample models through the real code paths."""

from __future__ import annotations

from pathlib import Path


def test_demo_builds_and_rebuilds(wk, tmp_path: Path) -> None:
    root = tmp_path / "demo"
    first = wk("demo", "--store", root, "--json")
    assert first.code == 0, first.err
    doc = first.json()
    models = {m["name"]: m for m in doc["models"]}
    assert models["credit-default"]["aliases"] == {"production": 1, "staging": 2}
    assert models["credit-default"]["runs"] == {"failed_gate": 1, "succeeded": 2}
    assert models["store-demand"]["aliases"] == {"production": 1, "staging": 2}
    assert {d["name"] for d in doc["datasets"]} == {"credit-applications", "store-demand-hourly"}
    rollback = wk("audit", "--store", root, "--action", "alias.rollback", "--json").json()
    assert rollback[0]["before"] == {"version": 2} and rollback[0]["after"] == {"version": 1}
    again = wk("demo", "--store", root, "--json")
    assert again.code == 0 and again.json()["audit_events"] == doc["audit_events"]


def test_demo_refuses_a_folder_that_is_not_a_demo_store(wk, tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    result = wk("demo", "--store", precious)
    assert result.code == 5 and "not a demo store" in result.err
    assert (precious / "notes.txt").read_text() == "keep me"
