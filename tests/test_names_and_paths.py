"""Issue 13 item 8 and reliability.md ART-05: names that may become part of a path, a URL
or a command line (models, channels, jobs, alert rules) are refused with the precise
reason when they could traverse or mislead, and destinations (exports, backups, audit
exports) are refused when they hold a NUL or lie inside the store folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitoring.alert_service import add_rule
from registry.models import check_model_name
from scheduler.approval_report import report_folder
from scheduler.jobs_service import check_job_name
from store.channels import check_channel_name
from store.errors import InvalidInput, Refused
from store.names import check_destination, check_name, join_inside, name_problem

BAD = {
    "..": "contains '..'",
    "../../etc/passwd": "path separator",
    "a/b": "path separator",
    "a\\b": "path separator",
    "/etc": "path separator",
    "a\x00b": "NUL",
    "-rf": "starts with '-'",
    "a..b": "contains '..'",
    "line\nbreak": "control character",
    "%2e%2e%2f": "characters other than",
    "..;": "contains '..'",
    ".hidden": "characters other than",
    "": "is empty",
    "x" * 101: "longer than 100",
}


@pytest.mark.parametrize("check", [check_model_name, check_channel_name, check_job_name],
                         ids=["model", "channel", "job"])
@pytest.mark.parametrize("name", list(BAD), ids=[repr(n)[:20] for n in BAD])
def test_each_kind_of_name_refuses_traversal_with_the_reason(check, name: str) -> None:
    with pytest.raises(InvalidInput, match="is not allowed") as raised:
        check(name)
    assert BAD[name] in str(raised.value)


@pytest.mark.parametrize("name", ["churn", "credit-default", "m_1", "v2.1", "A9", "x" * 100])
def test_ordinary_names_pass(name: str) -> None:
    assert name_problem(name) == "" and check_name(name, what="model name") == name


def test_a_rule_name_with_a_trailing_newline_is_refused(store) -> None:
    """The old pattern used match() with `$`, which also matches before a final newline."""
    with pytest.raises(InvalidInput, match="control character"):
        add_rule(store, name="drift\n", kind="drift", model="m")


def test_a_report_folder_stays_in_the_store(store) -> None:
    assert report_folder(store, "credit").parent == store.location.root / "reports" / "approvals"
    for name in ("..", "../../x", "a/b"):
        with pytest.raises(InvalidInput):
            report_folder(store, name)


def test_join_inside_refuses_a_planted_link(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "out").symlink_to(tmp_path)
    with pytest.raises(Refused, match="resolves outside"):
        join_inside(tmp_path / "root", "out", "x")


def test_destinations_refuse_nul_and_the_store_folder(store, tmp_path: Path) -> None:
    root = store.location.root
    with pytest.raises(InvalidInput, match="NUL"):
        check_destination("out\x00.jsonl", what="export file", field="output")
    for inside in (root, root / "watchkeeper.db", root / "artifacts" / "x.skops"):
        with pytest.raises(Refused, match="inside the store folder"):
            check_destination(inside, what="export file", field="output", store_root=root)
    assert check_destination(tmp_path / "out.csv", what="export file", field="output",
                             store_root=root) == tmp_path / "out.csv"


def test_cli_names_the_problem(wk, store_dir: Path, tmp_path: Path) -> None:
    assert wk("init").code == 0
    added = wk("alerts", "channels", "add", "../x", "--kind", "webhook", "--url",
               "http://127.0.0.1:9/h")
    assert added.code != 0 and "path separator" in added.err
    backup = wk("store", "backup", "a\x00b")
    assert backup.code != 0 and "NUL" in backup.err
    inside = wk("store", "backup", str(store_dir / "copy"))
    assert inside.code != 0 and "inside the store" in inside.err


@pytest.mark.parametrize("name", ["../train", "a/b", "-x", "a\x00b"])
def test_a_spec_dataset_name_is_checked(tiny_spec: Path, name: str) -> None:
    import json

    from registry.spec import load_spec

    text = tiny_spec.read_text()
    assert 'name = "tiny-data"' in text
    tiny_spec.write_text(text.replace('name = "tiny-data"', f"name = {json.dumps(name)}"))
    with pytest.raises(InvalidInput, match=r"\[data\] name .* is not allowed"):
        load_spec(tiny_spec)
