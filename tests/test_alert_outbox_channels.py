"""The email, shell and apprise channels against real local receivers, through `wk`:
the SMTP server gets the mail with its subject, text and table, logged in with the file's
credentials, which never show in a log or in --json output; a shell command gets the
ALERT_* variables and its nonzero exit is retried; apprise posts to a local listener."""

from __future__ import annotations

import json
import logging
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from alert_outbox_store import message, queue
from notify_listeners import self_signed_cert, smtp_server, webhook_listener

from monitoring.alert_message import subject
from monitoring.notifiers.smtp import message_id

PASSWORD = "hunter2-n0t-in-any-log"


def _secret_file(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_smtp_delivers_subject_and_body_and_never_shows_the_password(
        wk: Any, store: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    creds = _secret_file(tmp_path / "smtp-login", f"oncall\n{PASSWORD}\n")
    caplog.set_level(logging.DEBUG)
    with smtp_server(user="oncall", password=PASSWORD) as mailbox:
        added = wk("alerts", "channels", "add", "mail", "--kind", "smtp", "--host", mailbox.host,
                   "--port", str(mailbox.port), "--from", "wk@example.com", "--to",
                   "oncall@example.com", "--credentials-file", str(creds), "--json")
        assert added.code == 0, added.err
        assert added.json()["config"]["credentials_file"] == str(creds)
        payload = message("credit", "income")
        queue(store, "mail", "k-mail", payload)
        sent = wk("alerts", "send", "--once", "--json")
        assert sent.code == 0, sent.err
        (mail,) = mailbox.wait_for(1)
        shown = wk("alerts", "channels", "list", "--json")
        tested = wk("alerts", "channels", "test", "mail", "--json")
        assert tested.json()["outcome"] == "delivered", tested.out
    assert sent.json()[0]["outcome"] == "delivered"
    assert mail.login == "oncall" and mail.recipients == ["oncall@example.com"]
    assert mail.message["Subject"] == subject(payload) == "[FIRING:1] model=credit"
    assert mail.message["Message-ID"] == message_id("k-mail")
    assert "income drifted on credit v3" in mail.body and "severity" in mail.body  # the table
    everything = added.out + added.err + sent.out + sent.err + shown.out + tested.out \
        + tested.err + caplog.text
    assert PASSWORD not in everything
    assert "notification 1 (firing, dedup k-mail) to mail: attempt 1 delivered" in caplog.text


def test_smtp_refused_login_is_not_retried_and_the_error_names_no_secret(
        wk: Any, store: Any, tmp_path: Path) -> None:
    creds = _secret_file(tmp_path / "smtp-login", f"oncall\n{PASSWORD}-wrong\n")
    with smtp_server(user="oncall", password=PASSWORD) as mailbox:
        wk("alerts", "channels", "add", "mail", "--kind", "smtp", "--host", mailbox.host,
           "--port", str(mailbox.port), "--from", "wk@example.com", "--to", "a@example.com",
           "--credentials-file", str(creds))
        out = wk("alerts", "channels", "test", "mail", "--json")
    assert out.code == 1 and out.json()["outcome"] == "failed"
    assert out.json()["status_code"] == 535 and PASSWORD not in out.out + out.err


def test_an_unreadable_secret_file_says_so_and_is_retried(wk: Any, store: Any,
                                                          tmp_path: Path) -> None:
    creds = _secret_file(tmp_path / "smtp-login", "oncall\npw\n")
    wk("alerts", "channels", "add", "mail", "--kind", "smtp", "--host", "127.0.0.1", "--from",
       "wk@example.com", "--to", "a@example.com", "--credentials-file", str(creds))
    creds.chmod(0o644)  # opened up after the channel was added
    out = wk("alerts", "channels", "test", "mail", "--json").json()
    assert out["outcome"] == "retry" and "readable by others" in out["error"]
    assert out["status"] == "pending" and out["next_attempt_at"] is not None


def test_shell_gets_alert_variables_and_a_nonzero_exit_is_retried(wk: Any, store: Any,
                                                                 tmp_path: Path) -> None:
    seen, marker = tmp_path / "env.json", tmp_path / "failed-once"
    script = tmp_path / "page.py"
    script.write_text(
        "import json, os, pathlib, sys\n"
        f"marker = pathlib.Path({str(marker)!r})\n"
        "if not marker.exists():\n"
        "    marker.touch(); print('pager busy'); sys.exit(3)\n"
        f"pathlib.Path({str(seen)!r}).write_text(json.dumps(\n"
        "    {k: v for k, v in os.environ.items() if k.startswith('ALERT_')}))\n")
    added = wk("alerts", "channels", "add", "page", "--kind", "shell", "--command",
               f"{sys.executable} {script}")
    assert added.code == 0, added.err
    payload = message("credit", "income")
    queue(store, "page", "k-shell", payload)
    first = wk("alerts", "send", "--once", "--json").json()
    assert [(s["outcome"], s["status_code"]) for s in first] == [("retry", 3)]
    assert "exited with 3: pager busy" in first[0]["error"]
    from datetime import datetime, timedelta

    from monitoring.outbox_sender import run_once
    from store.outbox_settings import DeliveryPolicy

    after = datetime.fromisoformat(first[0]["next_attempt_at"]) + timedelta(seconds=1)
    (second,) = run_once(store, after, policy=DeliveryPolicy())
    assert (second.attempt, second.outcome) == (2, "delivered")
    env = json.loads(seen.read_text())
    assert env["ALERT_STATUS"] == "firing" and env["ALERT_DEDUP_KEY"] == "k-shell"
    assert env["ALERT_GROUP_KEY"] == '{}:{model="credit"}' and env["ALERT_COUNT"] == "1"
    assert (env["ALERT_1_NAME"], env["ALERT_1_MODEL"], env["ALERT_1_VERSION"],
            env["ALERT_1_FEATURE"], env["ALERT_1_SEVERITY"]) == (
        "drift", "credit", "3", "income", "critical")
    assert env["ALERT_1_SUMMARY"] == env["ALERT_SUMMARY"] == "income drifted on credit v3"
    assert json.loads(env["ALERT_PAYLOAD"]) == payload


def test_apprise_posts_to_a_local_listener_and_its_url_is_never_shown(
        wk: Any, store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with webhook_listener(status_by_path={"/down": 500}) as hook:
        monkeypatch.setenv("WK_TEST_APPRISE", f"json://127.0.0.1:{hook.port}/notify")
        monkeypatch.setenv("WK_TEST_APPRISE_DOWN", f"json://127.0.0.1:{hook.port}/down")
        for name, var in (("chat", "WK_TEST_APPRISE"), ("down", "WK_TEST_APPRISE_DOWN")):
            assert wk("alerts", "channels", "add", name, "--kind", "apprise", "--url-env",
                      var).code == 0
        ok = wk("alerts", "channels", "test", "chat", "--json")
        down = wk("alerts", "channels", "test", "down", "--json")
        listed = wk("alerts", "channels", "list", "--json")
        (got,) = hook.delivered("/notify")
    assert ok.json()["outcome"] == "delivered"
    assert got.body["title"] == "[FIRING:1] channel=chat"
    assert "a test message from Watchkeeper to the channel chat" in got.body["message"]
    assert down.json()["outcome"] == "retry" and "json://***" in down.json()["error"]
    assert str(hook.port) not in listed.out + ok.out + down.out


@pytest.mark.skipif(shutil.which("openssl") is None, reason="makes its certificate with openssl")
def test_smtp_starttls_logs_in_only_over_a_verified_tls_session(
        wk: Any, store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private relay that requires STARTTLS: checked against the channel's own CA file
    the mail goes over TLS and logs in there; against the system's CAs (or, process-wide,
    SSL_CERT_FILE) the certificate is refused before the login and retried with the
    reason; a channel without STARTTLS fails at once: with a login, which the relay offers
    only over TLS, saying so; without, refused by the relay (530)."""
    cert, key = self_signed_cert(tmp_path)
    creds = _secret_file(tmp_path / "smtp-login", f"oncall\n{PASSWORD}\n")
    with smtp_server(user="oncall", password=PASSWORD, tls=(cert, key)) as mailbox:
        login = ["--credentials-file", str(creds)]
        for name, extra in (("mail", ["--starttls", "--ca-file", str(cert), *login]),
                            ("system-ca", ["--starttls", *login]), ("plain", login),
                            ("bare", [])):
            added = wk("alerts", "channels", "add", name, "--kind", "smtp", "--host",
                       mailbox.host, "--port", str(mailbox.port), "--from", "wk@example.com",
                       "--to", "oncall@example.com", *extra)
            assert added.code == 0, added.err
        untrusted = wk("alerts", "channels", "test", "system-ca", "--json").json()
        assert untrusted["outcome"] == "retry" and "CERTIFICATE_VERIFY_FAILED" in untrusted["error"]
        plain = wk("alerts", "channels", "test", "plain", "--json").json()
        assert plain["outcome"] == "failed" and "needs STARTTLS turned on for the channel" in plain["error"]
        bare = wk("alerts", "channels", "test", "bare", "--json").json()
        assert (bare["outcome"], bare["status_code"]) == ("failed", 530), bare
        assert mailbox.mails == []
        trusted = wk("alerts", "channels", "test", "mail", "--json")
        assert trusted.json()["outcome"] == "delivered", trusted.out
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the process-wide way, for all
        also = wk("alerts", "channels", "test", "system-ca", "--json").json()
        assert also["outcome"] == "delivered", also
        mails = mailbox.wait_for(2)
    assert [(m.tls, m.login) for m in mails] == [(True, "oncall"), (True, "oncall")]
    assert PASSWORD not in untrusted["error"] + plain["error"] + trusted.out + trusted.err


@pytest.mark.skipif(shutil.which("openssl") is None, reason="makes its certificate with openssl")
def test_a_ca_file_is_checked_when_the_channel_is_added(wk: Any, store: Any, tmp_path: Path) -> None:
    common = ["alerts", "channels", "add", "mail", "--kind", "smtp", "--host", "127.0.0.1",
              "--from", "wk@example.com", "--to", "a@example.com"]
    missing = wk(*common, "--starttls", "--ca-file", str(tmp_path / "nope.pem"))
    assert missing.code != 0 and "cannot be read" in missing.err
    (tmp_path / "not.pem").write_text("hello")
    junk = wk(*common, "--starttls", "--ca-file", str(tmp_path / "not.pem"))
    assert junk.code != 0 and "holds no PEM certificate" in junk.err
    cert, _key = self_signed_cert(tmp_path)
    without = wk(*common, "--ca-file", str(cert))
    assert without.code != 0 and "turn starttls on" in without.err
    added = wk(*common, "--starttls", "--ca-file", str(cert), "--json")
    assert added.code == 0 and added.json()["config"]["ca_file"] == str(cert)


def test_a_disabled_channel_keeps_its_queue_until_it_is_enabled(wk: Any, store: Any) -> None:
    """`wk alerts channels disable` holds what is queued; a test message still goes, so
    the channel can be checked before `enable` lets the held rows out. Both changes
    audited with their reason, a repeated disable not at all."""
    from store.audit import list_events

    with webhook_listener() as hook:
        assert wk("alerts", "channels", "add", "pager", "--kind", "webhook", "--url",
                  hook.url("/p")).code == 0
        queue(store, "pager", "k-held", message("credit", "income"))
        off = wk("alerts", "channels", "disable", "pager", "--reason", "pager vendor outage")
        assert off.code == 0, off.err
        assert "1 notification(s) queued for it wait until it is enabled" in off.err
        assert "pager (off)" in wk("alerts", "channels", "list").out
        assert wk("alerts", "send", "--once", "--json").json() == []  # held
        tested = wk("alerts", "channels", "test", "pager", "--json").json()
        assert tested["outcome"] == "delivered"
        assert [r.dedup_key for r in hook.delivered()] == [tested["dedup_key"]]
        again = wk("alerts", "channels", "disable", "pager", "--json").json()
        assert again["changed"] is False
        on = wk("alerts", "channels", "enable", "pager", "--reason", "vendor back")
        assert on.code == 0, on.err
        sent = wk("alerts", "send", "--once", "--json").json()
        assert [(s["dedup_key"], s["outcome"]) for s in sent] == [("k-held", "delivered")]
    with store.db.read() as session:
        events = [(e.action, e.reason) for e in list_events(session, action="channel.")]
    assert ("channel.disable", "pager vendor outage") in events
    assert ("channel.enable", "vendor back") in events
    assert len([a for a, _ in events if a == "channel.disable"]) == 1  # the no-op wrote nothing
