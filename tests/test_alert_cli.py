"""`wk alerts` end to end in process with --json (rules, evaluate, list, show, ack, silence,
unsilence, resolve; errors naming the flag), and the `alerts` job kind run by a real
scheduler daemon's child."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alert_store import add_drift, build_alert_store

from store.types import utcnow


def test_cli_round_trip(wk: Callable[..., Any], store_dir: Path) -> None:
    store, ids = build_alert_store(store_dir)
    add = wk("alerts", "rules", "add", "credit-drift", "--kind", "drift", "--model", "credit",
             "--channel", "hook", "--set", "max_report_age_s=86400", "--json")
    assert add.code == 0, add.err
    assert add.json()["channels"] == ["hook"] and add.json()["params"] == {"max_report_age_s": 86400}
    bad = wk("alerts", "rules", "add", "x", "--kind", "drift", "--model", "credit",
             "--channel", "pager")
    assert bad.code == 1 and "no alert channel 'pager'" in bad.err and "--channel hook" in bad.err
    bad = wk("alerts", "rules", "add", "x", "--kind", "latency", "--model", "credit",
             "--set", "p99_ms=3")
    assert bad.code == 1 and "--set" in bad.err and "p95_ms" in bad.err
    bad = wk("alerts", "rules", "add", "x", "--kind", "drift", "--model", "credit",
             "--feature", "salary")
    assert bad.code == 1 and "no feature 'salary'" in bad.err and "--feature" in bad.err

    add_drift(store, ids, utcnow(), {"income", "purpose"})
    evaluated = wk("alerts", "evaluate", "--json")
    assert evaluated.code == 0, evaluated.err
    assert evaluated.json()["notifications"] == 1 and evaluated.json()["targets"] == 5
    listed = wk("alerts", "list", "--json").json()
    assert [a["state"] for a in listed] == ["firing", "firing"]
    first = listed[0]["id"]
    no_note = wk("alerts", "ack", first)
    assert no_note.code == 1 and "--note" in no_note.err
    acked = wk("alerts", "ack", first, "--note", "on it", "--for", "30m", "--json")
    assert acked.code == 0 and acked.json()["state"] == "acknowledged"
    assert wk("alerts", "list", "--json").json()[0]["state"] == "firing"  # firing first
    shown = wk("alerts", "show", first, "--json").json()
    assert ("acknowledged", "on it") in [(e["event"], e["note"]) for e in shown["events"]]
    assert shown["notifications"][0]["channel"] == "hook"
    assert wk("alerts", "show", first).code == 0

    silenced = wk("alerts", "silence", "--match", "model=credit", "--for", "1h",
                  "--comment", "release", "--json")
    assert silenced.code == 0 and silenced.json()["matched"] == 2
    assert wk("alerts", "silence", "--match", "model", "--for", "1h", "--comment", "x").code == 2
    silences = wk("alerts", "silences", "--json").json()
    assert [s["matches"] for s in silences] == ["2 open alert(s)"]
    assert wk("alerts", "unsilence", silences[0]["id"], "--json").code == 0
    resolved = wk("alerts", "resolve", first, "--note", "fixed upstream", "--json")
    assert resolved.code == 0 and resolved.json()["state"] == "resolved"
    again = wk("alerts", "resolve", first, "--note", "again")
    assert again.code == 1 and "resolved" in again.err

    edited = wk("alerts", "rules", "edit", "credit-drift", "--for", "3", "--of", "5",
                "--clear", "3", "--json")
    assert edited.code == 0 and edited.json()["revision"] == 2
    assert wk("alerts", "rules", "edit", "credit-drift", "--for", "6", "--of", "5").code == 1
    rules = wk("alerts", "rules", "list", "--json").json()
    assert rules[0]["targets"] == 5 and rules[0]["conditions"]["holds"] == 2
    assert wk("alerts", "rules", "list").code == 0 and wk("alerts", "list").code == 0
    assert wk("alerts", "rules", "remove", "credit-drift", "--json").code == 0
    assert wk("alerts", "list", "--since", "1d", "--json").json()[0]["rule"] == "credit-drift"


def test_alerts_job_kind_runs_in_a_scheduler_child(wk: Callable[..., Any], store_dir: Path) -> None:
    from scheduler_harness import running_daemon, runs, wait_for

    store, ids = build_alert_store(store_dir)
    assert wk("alerts", "rules", "add", "credit-drift", "--kind", "drift", "--model", "credit",
              "--channel", "hook").code == 0
    add_drift(store, ids, utcnow(), {"income"})
    added = wk("jobs", "add", "checks-alerts", "--kind", "alerts", "--every", "30s")
    assert added.code == 0, added.err
    assert wk("jobs", "run-now", "checks-alerts").code == 0
    with running_daemon(store_dir) as daemon:
        run = wait_for("the alerts run", lambda: [r for r in runs(store, "checks-alerts")
                                                  if r.ended_at is not None],
                       timeout=15, daemon=daemon)[0]
    assert run.status == "succeeded", run.error
    assert run.result is not None and run.result["transitions"] == {"pending": 1, "firing": 1}
    assert wk("alerts", "list", "--json").json()[0]["feature"] == "income"
