"""wk jobs: what a user types, what the store then holds, and the errors for bad input
(nothing written when a command is refused)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import snapshot_store


def test_add_list_show_pause_resume_run_now_remove(wk: Callable[..., Any]) -> None:
    assert wk("init").code == 0
    added = wk("jobs", "add", "nightly", "--kind", "command", "--cron", "0 3 * * *",
               "--command", "echo hi", "--retries", "2", "--timeout", "10m", "--json")
    assert added.code == 0, added.err
    job = added.json()
    assert (job["cron"], job["retries"], job["timeout_s"], job["args"]) == \
        ("0 3 * * *", 2, 600, {"command": "echo hi"})
    assert wk("jobs", "add", "after-nightly", "--kind", "command", "--after", "nightly",
              "--command", "true").code == 0

    listed = wk("jobs", "list", "--json").json()
    assert [j["name"] for j in listed["jobs"]] == ["after-nightly", "nightly"]
    assert listed["scheduler"]["state"] == "never"
    nightly = next(j for j in listed["jobs"] if j["name"] == "nightly")
    assert nightly["next_run"].endswith("03:00:00Z") or "T03:00:00" in nightly["next_run"]
    table = wk("jobs", "list").out
    assert "never ran on this store" in table and "after nightly" in table

    assert wk("jobs", "pause", "nightly", "--reason", "data late").code == 0
    assert wk("jobs", "show", "nightly", "--json").json()["next_run"] is None
    again = wk("jobs", "pause", "nightly")
    assert again.code == 0 and "already paused" in again.err
    assert wk("jobs", "resume", "nightly").code == 0

    queued = wk("jobs", "run-now", "nightly", "--json").json()
    runs = wk("jobs", "runs", "--json").json()
    assert [(r["id"], r["job"], r["trigger"], r["status"]) for r in runs] == \
        [(queued["run"], "nightly", "run-now", "queued")]
    assert wk("jobs", "run-now", "nightly").code == 1  # one request waits already

    refused = wk("jobs", "remove", "nightly", "--yes")
    assert refused.code == 1 and "after-nightly" in refused.err
    assert wk("jobs", "remove", "after-nightly", "--yes").code == 0
    assert wk("jobs", "remove", "nightly", "--yes").code == 0
    assert wk("jobs", "runs", "--job", "nightly", "--json").json()[0]["id"] == queued["run"]

    actions = [e["action"] for e in wk("audit", "--json").json()]
    for action in ("job.add", "job.pause", "job.resume", "job.run_now", "job.remove"):
        assert action in actions


def test_bad_input_is_refused_with_the_fix_and_writes_nothing(wk: Callable[..., Any],
                                                              store_dir: Path) -> None:
    assert wk("init").code == 0
    assert wk("jobs", "add", "a", "--kind", "command", "--every", "1h", "--command", "true").code == 0
    before = snapshot_store(store_dir)
    cases = [
        (("b", "--kind", "command", "--every", "1x", "--command", "true"), "give --every 1h"),
        (("b", "--kind", "command", "--every", "1h"), "give --command"),
        (("b", "--kind", "nope", "--every", "1h"), "no job kind 'nope'"),
        (("b", "--kind", "drift", "--every", "1h"), "give --model"),
        (("b", "--kind", "drift", "--every", "1h", "--model", "ghost"), "no model 'ghost'"),
        (("b", "--kind", "command", "--cron", "61 * * * *", "--command", "true"), "crontab"),
        (("b", "--kind", "command", "--command", "true"), "needs a schedule"),
        (("a", "--kind", "command", "--every", "1h", "--command", "true"), "exists already"),
        (("b c", "--kind", "command", "--every", "1h", "--command", "true"), "not allowed"),
        (("b", "--kind", "command", "--after", "ghost", "--command", "true"), "no job 'ghost'"),
        (("b", "--kind", "command", "--every", "1h", "--command", "true", "--timeout", "1h",
          "--deadline", "30m"), "shorter than one attempt"),
    ]
    for args, words in cases:
        result = wk("jobs", "add", *args)
        assert result.code != 0 and words in result.err, (args, result.err)
    cycle = wk("jobs", "edit", "a", "--after", "a")
    assert cycle.code == 1 and "cycle" in cycle.err
    assert snapshot_store(store_dir) == before
