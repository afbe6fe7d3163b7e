"""The foundation's acceptance points, driven through the `wk` command line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import snapshot_store


def test_train_registers_v1_with_full_lineage(wk, trained, store_dir: Path) -> None:
    show = wk("models", "show", "tiny", "--json")
    assert show.code == 0
    doc = show.json()
    v = doc["latest_version"]
    assert v["version"] == 1
    sha = v["artifact"]["sha256"]
    assert len(sha) == 64 and (store_dir / "artifacts" / f"{sha}.skops").exists()
    assert "git_commit" in v["code_version"] and "dirty" in v["code_version"]
    assert v["environment"]["python"].count(".") == 2
    assert "scikit-learn" in v["environment"]["packages"]
    train_ds = v["datasets"]["train"]
    assert len(train_ds["fingerprint"]) == 64 and train_ds["rows"] == 400
    columns = {c["name"]: c for c in v["signature"]["columns"]}
    assert set(columns) == {"x1", "x2", "colour"}
    assert columns["colour"]["categories"] == ["blue", "green", "red"]
    assert columns["x1"]["min"] < 0 < columns["x1"]["max"]
    assert set(v["metrics"]) == {"roc_auc", "accuracy", "log_loss"}
    assert len(v["input_example"]) == 5 and set(v["input_example"][0]) == set(columns)


def test_training_code_in_git_records_commit(wk, tiny_spec: Path, tmp_path: Path) -> None:
    import subprocess

    folder = tiny_spec.parent
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    subprocess.run(["git", "add", "."], cwd=folder, check=True)
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"],
                   cwd=folder, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True,
                          text=True, check=True).stdout.strip()
    wk("init")
    import sys

    sys.modules.pop("tiny_model", None)
    sys.path.insert(0, str(folder))
    try:
        assert wk("train", tiny_spec).code == 0
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("tiny_model", None)
    code = wk("models", "show", "tiny", "1", "--json").json()["code_version"]
    assert code["git_commit"] == head
    assert code["dirty"] is False


def test_worse_model_fails_the_gate_and_registers_nothing(wk, trained) -> None:
    result = wk("train", trained, "--param", 'drop=["x1"]', "--json")
    assert result.code == 1
    doc = result.json()
    assert doc["registered"] is False and doc["version"] is None
    assert doc["run"]["status"] == "failed_gate"
    assert "roc_auc" in doc["run"]["reason"] and "worse than" in doc["run"]["reason"]
    assert "failed the gate" in result.err
    assert [v["version"] for v in wk("models", "versions", "tiny", "--json").json()] == [1]
    runs = wk("models", "runs", "tiny", "--json").json()
    assert [(r["status"], r["version"]) for r in runs] == [("failed_gate", None), ("succeeded", 1)]
    assert runs[0]["reason"] == doc["run"]["reason"]
    table = wk("models", "runs", "tiny")
    assert "failed_gate" in table.out and "worse than" in table.out


def test_gate_minimum_threshold(wk, trained) -> None:
    result = wk("train", trained, "--param", 'drop=["x1", "x2"]', "--json")
    assert result.code == 1
    assert "below the minimum 0.75" in result.json()["run"]["reason"]


def test_changed_artifact_byte_fails_loading_with_both_hashes(wk, trained, store_dir: Path) -> None:
    sha = wk("models", "show", "tiny", "1", "--json").json()["artifact"]["sha256"]
    path = store_dir / "artifacts" / f"{sha}.skops"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    import hashlib

    actual = hashlib.sha256(bytes(data)).hexdigest()
    result = wk("reproduce", "tiny", "1")
    assert result.code == 1
    assert f"expected sha256 {sha}" in result.err and f"actual {actual}" in result.err


def test_promote_and_rollback_are_audited_with_actor_and_reason(wk, trained) -> None:
    import getpass

    assert wk("train", trained, "--param", "C=0.5").code == 0  # v2
    assert wk("models", "promote", "tiny", "1", "production", "--reason", "first release").code == 0
    assert wk("models", "promote", "tiny", "2", "production", "--reason", "retrained").code == 0
    rb = wk("models", "rollback", "tiny", "production", "--reason", "v2 misbehaves", "--json")
    assert rb.code == 0 and rb.json() == {"model": "tiny", "alias": "production",
                                          "from_version": 2, "to_version": 1, "changed": True}
    assert wk("models", "show", "tiny", "--json").json()["aliases"] == {"production": 1}
    events = wk("audit", "--action", "alias.", "--json").json()
    assert [(e["action"], e["before"], e["after"], e["reason"]) for e in events] == [
        ("alias.rollback", {"version": 2}, {"version": 1}, "v2 misbehaves"),
        ("alias.promote", {"version": 1}, {"version": 2}, "retrained"),
        ("alias.promote", {"version": None}, {"version": 1}, "first release"),
    ]
    assert {e["actor"] for e in events} == {getpass.getuser()}
    # a second rollback has nothing left to return to
    again = wk("models", "rollback", "tiny", "production", "--reason", "again")
    assert again.code == 5 and "no previous version" in again.err


def test_production_changes_need_a_reason(wk, trained) -> None:
    result = wk("models", "promote", "tiny", "1", "production")
    assert result.code == 2 and "--reason" in result.err
    assert wk("models", "promote", "tiny", "1", "staging").code == 0


def test_rollback_follows_the_alias_history_back(wk, trained) -> None:
    for _ in range(2):
        assert wk("train", trained, "--param", "C=0.7").code == 0  # v2, v3
    for v in (1, 2, 3):
        wk("models", "promote", "tiny", str(v), "staging")
    assert wk("models", "rollback", "tiny", "staging", "--json").json()["to_version"] == 2
    assert wk("models", "rollback", "tiny", "staging", "--json").json()["to_version"] == 1


def test_lineage_and_dataset_usage(wk, trained) -> None:
    wk("models", "promote", "tiny", "1", "production", "--reason", "go")
    lin = wk("models", "lineage", "tiny", "1", "--json").json()
    assert lin["datasets"]["train"]["name"] == "tiny-data"
    assert lin["run"]["status"] == "succeeded" and lin["run"]["version"] == 1
    assert lin["aliases"] == ["production"]
    text = wk("models", "lineage", "tiny", "1").out
    assert text.index("tiny-data") < text.index("run #") < text.index("tiny v1") < text.index("production")
    usage = wk("data", "show", "tiny-data", "--json").json()
    assert [(u["model"], u["version"], u["aliases"]) for u in usage["versions"]] == [
        ("tiny", 1, ["production"])]
    fp = usage["datasets"][0]["fingerprint"]
    assert wk("data", "show", fp[:10], "--json").json()["datasets"][0]["fingerprint"] == fp
    listed = wk("data", "list", "--json").json()
    assert listed[0]["versions_trained"] == 1


def test_reproduce_reports_matching_metrics(wk, trained) -> None:
    result = wk("reproduce", "tiny", "1", "--json")
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["matched"] and doc["metrics_match"] and doc["predictions_match"]
    assert doc["recorded_metrics"] == doc["reproduced_metrics"]
    assert wk("audit", "--action", "run.reproduce", "--json").json()[0]["after"]["matched"] is True


def test_reproduce_refuses_changed_data(wk, trained) -> None:
    csv = trained.parent / "tiny.csv"
    csv.write_text(csv.read_text().replace("red", "RED", 1))
    result = wk("reproduce", "tiny", "1")
    assert result.code == 1 and "changed" in result.err and "fingerprint" in result.err


def test_compare_versions(wk, trained) -> None:
    wk("train", trained, "--param", "C=0.3")
    doc = wk("models", "compare", "tiny", "1", "2", "--json").json()
    assert doc["params"] == {"C": {"a": 1.0, "b": 0.3}}
    assert doc["metrics"]["roc_auc"]["delta"] == pytest.approx(
        doc["metrics"]["roc_auc"]["b"] - doc["metrics"]["roc_auc"]["a"])
    assert "artifact_sha256" in doc["metadata"]
    assert doc["signature"] == []


def test_archive(wk, trained) -> None:
    wk("models", "promote", "tiny", "1", "production", "--reason", "go")
    held = wk("models", "archive", "tiny", "1", "--yes")
    assert held.code == 5 and "held by alias production" in held.err
    wk("train", trained, "--param", "C=0.8")
    no_yes = wk("models", "archive", "tiny", "2")
    assert no_yes.code == 2 and "--yes" in no_yes.err
    assert wk("models", "archive", "tiny", "2", "--yes", "--reason", "old").code == 0
    assert wk("models", "versions", "tiny", "--json").json()[0]["status"] == "archived"
    refused = wk("models", "promote", "tiny", "2", "staging")
    assert refused.code == 5 and "archived" in refused.err


def test_register_skops_file_with_signature(wk, store_dir: Path, tmp_path: Path) -> None:
    import pandas as pd
    import skops.io as sio
    from sklearn.linear_model import LinearRegression

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.5, 0.1, 0.3, 0.2], "y": [1, 2, 3, 4]})
    model = LinearRegression().fit(frame[["a", "b"]], frame["y"])
    sio.dump(model, tmp_path / "m.skops")
    frame.to_csv(tmp_path / "train.csv", index=False)
    wk("init")
    result = wk("models", "register", "lin", tmp_path / "m.skops", "--data", tmp_path / "train.csv",
                "--target", "y", "--owner", "ana", "--tag", "demo", "--json")
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["version"] == 1 and doc["source"] == "register"
    assert [c["name"] for c in doc["signature"]["columns"]] == ["a", "b"]
    assert wk("models", "show", "lin", "--json").json()["owner"] == "ana"


def test_json_lists_are_arrays_even_when_empty(wk) -> None:
    wk("init")
    assert wk("models", "list", "--json").json() == []
    assert wk("data", "list", "--json").json() == []
    assert wk("--json", "models", "list").json() == []


# --- bad input: a specific error, and the store unchanged --------------------------

def _edit_spec(spec: Path, old: str, new: str) -> None:
    text = spec.read_text()
    assert old in text
    spec.write_text(text.replace(old, new))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("features = [\"x1\", \"x2\", \"colour\"]", "features = [\"x1\", \"x9\", \"colour\"]"),
         "features ['x9'] are not columns"),
        (("target = \"label\"", "target = \"lable\""), "target 'lable' is not a column"),
        (("source = \"tiny.csv\"", "source = \"missing.csv\""), "missing.csv does not exist"),
        (("task = \"classification\"", "task = \"clustering\""), "task 'clustering' is not one of"),
        (("entry_point = \"tiny_model:train\"", "entry_point = \"tiny_model:nope\""),
         "has no function 'nope'"),
        (("metrics = [\"roc_auc\", \"accuracy\", \"log_loss\"]", "metrics = [\"rmse\"]"),
         "does not apply to classification"),
    ],
)
def test_bad_spec_gets_specific_error_and_store_unchanged(
    wk, trained, store_dir: Path, change: tuple[str, str], expected: str
) -> None:
    before = snapshot_store(store_dir)
    _edit_spec(trained, *change)
    result = wk("train", trained)
    assert result.code == 1
    assert expected in result.err, result.err
    assert [line for line in result.err.splitlines() if "error" in line][0].startswith("wk: error: ")
    assert result.err.count("wk: error:") == 1
    assert snapshot_store(store_dir) == before


def test_non_numeric_value_in_numeric_column(wk, trained, store_dir: Path) -> None:
    before = snapshot_store(store_dir)
    csv = trained.parent / "tiny.csv"
    lines = csv.read_text().splitlines()
    parts = lines[7].split(",")
    parts[1] = "abc"
    lines[7] = ",".join(parts)
    csv.write_text("\n".join(lines) + "\n")
    result = wk("train", trained)
    assert result.code == 1
    assert "column 'x1'" in result.err and "line 8: 'abc'" in result.err
    assert snapshot_store(store_dir) == before


def test_broken_entry_point_is_recorded_as_failed_run(wk, trained, store_dir: Path) -> None:
    _edit_spec(trained, "tiny_model:train", "tiny_model:broken")
    result = wk("train", trained)
    assert result.code == 1 and "crashed on purpose" in result.err
    run = wk("models", "runs", "tiny", "--json").json()[0]
    assert run["status"] == "failed"
    detail = wk("models", "run", str(run["id"]), "--json").json()
    assert "about to fail" in detail["log"] and "RuntimeError" in detail["log"]
    assert [v["version"] for v in wk("models", "versions", "tiny", "--json").json()] == [1]


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (("models", "show", "nosuch"), 1, "model 'nosuch' does not exist (models: tiny)"),
        (("models", "show", "tiny", "7"), 1, "model 'tiny' has no version 7 (latest is 1)"),
        (("models", "promote", "tiny", "9", "staging"), 1, "has no version 9"),
        (("models", "lineage", "tiny", "canary"), 1, "no version or alias 'canary'"),
        (("models", "rollback", "tiny", "production", "--reason", "x"), 1, "has no alias 'production'"),
        (("reproduce", "nosuch", "1"), 1, "model 'nosuch' does not exist"),
        (("data", "show", "nosuch"), 1, "dataset 'nosuch' does not exist"),
        (("models", "promote", "tiny", "1", "Bad Alias"), 1, "alias 'Bad Alias' is not allowed"),
        (("audit", "--since", "yesterday"), 2, "--since 'yesterday' is not a time"),
    ],
)
def test_unknown_things_get_specific_errors(wk, trained, store_dir: Path, args, code, expected) -> None:
    before = snapshot_store(store_dir)
    result = wk(*args)
    assert result.code == code
    assert expected in result.err, result.err
    assert result.out == ""
    assert snapshot_store(store_dir) == before


def test_usage_errors_exit_2(wk) -> None:
    with pytest.raises(SystemExit) as exc:
        wk("models", "frobnicate")
    assert exc.value.code == 2


def test_missing_store_exits_3(wk, store_dir: Path) -> None:
    result = wk("models", "list")
    assert result.code == 3
    assert f"no Watchkeeper store at {store_dir}" in result.err and "wk init" in result.err


def test_store_path_that_is_not_writable(wk, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = wk("init", "--store", blocker / "store")
    assert result.code == 3
    assert "cannot create the store" in result.err and "Not a directory" in result.err
    assert blocker.read_text() == "not a folder"


def test_store_newer_than_the_code_is_refused(wk, trained, store_dir: Path) -> None:
    with sqlite3.connect(store_dir / "watchkeeper.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    result = wk("models", "list")
    assert result.code == 3 and "newer than this Watchkeeper" in result.err


def test_init_twice_is_harmless(wk, store_dir: Path) -> None:
    first = wk("init", "--json").json()
    second = wk("init", "--json").json()
    assert first["created"] is True and second["created"] is False


def test_wk_runs_as_a_real_command(trained, store_dir: Path) -> None:
    """The installed console script, in a child process, as a user runs it."""
    import os
    import subprocess
    import sys

    exe = Path(sys.executable).parent / "wk"
    env = {**os.environ, "WK_STORE": str(store_dir)}
    out = subprocess.run([str(exe), "models", "list", "--json"], capture_output=True, text=True,
                         env=env, check=False)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["name"] == "tiny"


def test_a_killed_training_run_is_closed_by_the_next_run(wk, trained, store_dir: Path) -> None:
    """SIGKILL a trainer mid-run: the run stays `running` until the next run of the model
    finds its process gone and records it as failed."""
    import os
    import signal
    import subprocess
    import sys
    import time

    _edit_spec(trained, "tiny_model:train", "tiny_model:slow")
    env = {**os.environ, "WK_STORE": str(store_dir)}
    child = subprocess.Popen([str(Path(sys.executable).parent / "wk"), "train", str(trained)],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = wk("models", "runs", "tiny", "--json").json()
            if runs[0]["status"] == "running":
                break
            time.sleep(0.2)
        assert runs[0]["status"] == "running"
        killed_id = runs[0]["id"]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    _edit_spec(trained, "tiny_model:slow", "tiny_model:train")
    assert wk("train", trained, "--param", "C=0.9").code == 0
    runs = {r["id"]: r for r in wk("models", "runs", "tiny", "--json").json()}
    assert runs[killed_id]["status"] == "failed"
    assert f"pid {child.pid}" in runs[killed_id]["reason"]
    finishes = wk("audit", "--action", "run.finish", "--json").json()
    assert any(e["after"]["run_id"] == killed_id and e["after"]["status"] == "failed"
               for e in finishes)
