"""The 3am test (issue 12's acceptance): a live stack started here, `wk serve` on
127.0.0.1 under simulated traffic (the credit generator's rows POSTed as they come),
`wk scheduler` running a drift check every interval and the `alerts` job after each
check, a webhook listener and a local SMTP server with a channel each, and a drift rule on the model.

Covariate drift (sample_models.events.covariate_drift on income) goes into the live
traffic; the alert reaches the webhook and the mailbox within two check intervals,
exactly once. Then the console, in tmux at 80x24, goes from the alert to the drifted
feature, to the version, to a confirmed rollback with a reason, the alert acknowledged on
the way, in at most 10 steps. `wk timeline` then shows the drift report, the alert, the
acknowledgement and the rollback in that order. The drift stops; the resolve reaches the
webhook once when a clean window clears it.

Counting rule for keystrokes: every key sent to tmux is counted (`keys_sent`), and a
typed note or reason also counts as ONE step (`steps`: a key is a step, typing a text is
one step). The acceptance's "at most 10" is asserted on steps; keys_sent is asserted
against its exact figure so a change in the path shows.

The interval is WK_3AM_INTERVAL_S (default 15 s here, so the test stays near 90 s; the
acceptance's 30 s is run by setting it to 30). The path from injection to the channels is
the wait for the next check (up to one interval), the drift child and the alerts child
that follows it (3-5 s each on a loaded 2-core machine) and the send: at 10 s the suite's
two workers pushed the mail to 20.0 s of its 20 s bound, so 15 s it is. Measured on this
2-core machine: at 10 s, alert to webhook 16.0 s and to mailbox 16.2 s, drift stopped to
resolve 19.3 s, the whole test 66 s; at 30 s (before the alerts job ran after each check),
50.6 s, 50.8 s and 79.0 s, the whole test 160 s. Both: 8 steps, 46 keys."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from notify_listeners import smtp_server, webhook_listener
from scheduler_harness import running_daemon
from serving_store import FIXTURES, REPO, Server

INTERVAL_S = float(os.environ.get("WK_3AM_INTERVAL_S", "15"))
MODEL = "credit"
T = TypeVar("T")

pytestmark = [pytest.mark.acceptance,
              pytest.mark.skipif(shutil.which("tmux") is None,
                                 reason="the 3am test drives the console in tmux, which is not "
                                        "installed (apt-get install tmux)")]


def _build(root: Path) -> None:
    """credit v1 then v2 in production (so a rollback goes back to v1), each registered
    with its training data (the drift reference), the two channels and the drift rule."""
    sys.path.insert(0, str(FIXTURES))
    from tiny_model import train

    from registry.aliases import promote
    from registry.registration import register_estimator
    from sample_models import USE_CASES
    from store.handle import init_store

    case = USE_CASES[MODEL]
    store, _ = init_store(root)
    try:
        for seed, c in ((1, 1.0), (2, 0.5)):
            frame = case.generate(1500, datetime(2026, 1, 1, tzinfo=UTC), seed=seed)
            X = frame[list(case.features)]
            register_estimator(store, MODEL, train(X, frame[case.target], {"C": c}),
                               training_data=X)
        promote(store, MODEL, 1, "production", reason="first release")
        promote(store, MODEL, 2, "production", reason="retrained")
    finally:
        store.close()


class Traffic:
    """The credit generator's rows POSTed to the server in small batches, a steady ~40
    rows a second; `drift` switches to rows with income scaled down (the same generator
    with covariate_drift), `clean` back."""

    def __init__(self, url: str) -> None:
        from sample_models import USE_CASES
        from sample_models.events import covariate_drift

        case = USE_CASES[MODEL]
        start = datetime(2026, 2, 1, tzinfo=UTC)
        self.rows = {
            False: case.generate(6000, start, seed=7)[list(case.features)].to_dict("records"),
            True: case.generate(6000, start, seed=8, events=[
                covariate_drift(start, "income", scale=0.35)])[list(case.features)].to_dict("records")}
        self.url, self.drifted, self.sent, self.errors = url, False, 0, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=5) as client:
            i = 0
            while not self.stop.is_set():
                pool = self.rows[self.drifted]
                batch = [pool[(i + k) % len(pool)] for k in range(8)]
                i += 8
                try:
                    answer = client.post(f"{self.url}/v1/models/{MODEL}/predict",
                                         json={"rows": batch})
                    self.sent += 8 if answer.status_code == 200 else 0
                    self.errors += answer.status_code != 200
                except httpx.HTTPError:
                    self.errors += 1
                self.stop.wait(0.2)

    def __enter__(self) -> Traffic:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join(5)


def _poll(what: str, check: Callable[[], T | None], timeout: float, step: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (found := check()):
            return found
        time.sleep(step)
    raise AssertionError(f"still waiting after {timeout:.0f} s for {what}")


class Tmux:
    """The console in a detached tmux session at 80x24; every key sent is counted."""

    def __init__(self, root: Path, name: str) -> None:
        self.name, self.keys_sent, self.steps = name, 0, 0
        command = (f"WK_STORE={root} {sys.executable} -m console.cli ui --view alerts "
                   "--refresh 1")
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "80", "-y", "24",
                        "-c", str(REPO), command], check=True)

    def key(self, key: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, key], check=True)
        self.keys_sent += 1
        self.steps += 1

    def type(self, text: str) -> None:
        """A note or reason: one step, len(text) keys."""
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)
        self.keys_sent += len(text)
        self.steps += 1

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], check=True,
                              capture_output=True, text=True).stdout

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        def shown() -> str | None:
            screen = self.screen()
            return screen if text in screen else None

        try:
            return _poll(f"{text!r} on the console", shown, timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the console shows:\n{self.screen()}") from None

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], check=False)


@pytest.fixture
def tmux_name() -> Iterator[str]:
    name = f"wk3am{os.getpid()}"
    yield name
    subprocess.run(["tmux", "kill-session", "-t", name], check=False, capture_output=True)


def _wk(root: Path, *args: str) -> Any:
    out = subprocess.run([sys.executable, "-m", "console.cli", "--store", str(root), *args,
                          "--json"], cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_3am(tmp_path: Path, tmux_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from monitoring import alert_service
    from monitoring.channel_service import add_channel
    from scheduler.jobs_service import JobSettings, add_job
    from store.handle import open_store

    monkeypatch.delenv("WK_DATABASE_URL", raising=False)
    began = time.monotonic()
    root = tmp_path / "store"
    _build(root)
    (root / "watchkeeper.toml").write_text("[outbox]\ninterval_s = 0.2\n")
    every = f"{INTERVAL_S:g}s"
    with webhook_listener() as hook, smtp_server() as mail:
        store = open_store(root)
        try:
            add_channel(store, "hook", "webhook", {"url": hook.url()})
            add_channel(store, "mail", "smtp", {"host": mail.host, "port": mail.port,
                                                "from": "wk@example.org",
                                                "to": ["oncall@example.org"]})
            alert_service.add_rule(store, name="income-drift", kind="drift", model=MODEL,
                                   feature="income", severity="critical",
                                   channels=["hook", "mail"])
            add_job(store, "drift-check", "drift", JobSettings(every=every, model=MODEL,
                                                               args={"window": every}))
            # the rules are evaluated right after each check (as a team would set it up):
            # on its own timetable the evaluation could wait up to one more interval
            add_job(store, "alerts", "alerts", JobSettings(after="drift-check"))
        finally:
            store.close()
        server = Server(root).start()
        try:
            with Traffic(server.url) as traffic, running_daemon(root):
                _poll("traffic logged", lambda: traffic.sent >= 200, 30)
                # --- inject the drift; the alert reaches both channels, once ---------------
                traffic.drifted = True
                injected = time.monotonic()
                firing = hook.wait_for(1, timeout=2 * INTERVAL_S + 10)
                to_webhook = time.monotonic() - injected
                mails = mail.wait_for(1, timeout=max(1.0, 2 * INTERVAL_S + 10 - to_webhook))
                to_mailbox = time.monotonic() - injected
                assert len(firing) == 1 and firing[0].body["status"] == "firing", firing
                (alert,) = firing[0].body["alerts"]
                assert alert["labels"]["feature"] == "income" and alert["labels"]["model"] == MODEL
                assert len(mails) == 1 and "income" in str(mails[0].message["Subject"]) + mails[0].body
                assert to_webhook <= 2 * INTERVAL_S and to_mailbox <= 2 * INTERVAL_S, (
                    to_webhook, to_mailbox)

                # --- the console: alert -> feature -> version -> confirmed rollback --------
                console = Tmux(root, tmux_name)
                console.wait_for("FIRING")
                console.key("a")  # acknowledge
                console.wait_for("Acknowledge alert")
                console.type("on it")
                console.key("Enter")
                console.wait_for("alert #1 acknowledged")  # the notice, not the dialog
                console.key("Enter")  # what the alert is about: the drifted feature
                console.wait_for("drift credit")
                drift_screen = console.wait_for(" income ")  # its row, once the report is read
                assert "effect" in drift_screen
                console.key("v")  # the report's version, with its lineage
                console.wait_for("credit v2")
                console.key("B")  # roll back, as the alert's action
                console.wait_for("credit production: v2 -> v1")
                console.type("income drift since the last release")
                console.key("Enter")
                console.wait_for("rollback done")
                console.close()
                assert console.steps <= 10, console.steps
                assert (console.steps, console.keys_sent) == (8, 6 + len("on it")
                                                             + len("income drift since the "
                                                                   "last release"))
                assert _wk(root, "models", "show", MODEL)["aliases"]["production"] == 1

                # --- the timeline: report, alert, acknowledgement, rollback in order --------
                entries = _wk(root, "timeline", MODEL, "--since", "1h")["entries"]
                order = [_first(entries, test) for test in (
                    lambda e: e["kind"] == "drift" and e["title"].startswith("drift:"),
                    lambda e: e["kind"] == "alert" and "income-drift firing" in e["title"],
                    lambda e: e["kind"] == "alert" and "acknowledged" in e["title"]
                    and "on it" in e["title"],
                    lambda e: e["kind"] == "alias" and e["title"].startswith(
                        "rollback production v2 -> v1"))]
                assert order == sorted(order), (order, entries)

                # --- the drift stops; the resolve reaches the webhook once ------------------
                traffic.drifted = False
                cleared = time.monotonic()
                resolved = _poll("the resolve at the webhook", lambda: [
                    r for r in hook.delivered() if r.body["status"] == "resolved"],
                    3 * INTERVAL_S + 10)
                to_resolve = time.monotonic() - cleared
                time.sleep(1.0)  # a second resolve would come with the same pass
                statuses = [r.body["status"] for r in hook.delivered()]
                assert statuses == ["firing", "resolved"], statuses
                assert resolved[0].body["alerts"][0]["labels"]["feature"] == "income"
                assert traffic.errors == 0
        finally:
            server.kill()
    total = time.monotonic() - began
    print(f"\n3am figures (interval {INTERVAL_S:g} s): alert to webhook {to_webhook:.1f} s, "
          f"to mailbox {to_mailbox:.1f} s, drift stopped to resolve {to_resolve:.1f} s; "
          f"{console.steps} steps, {console.keys_sent} keys; the whole test {total:.1f} s")


def _first(entries: list[dict[str, Any]], test: Callable[[dict[str, Any]], Any]) -> int:
    """The index of the first entry that passes `test` (the timeline is oldest first)."""
    return next(i for i, e in enumerate(entries) if test(e))
