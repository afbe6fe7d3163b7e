"""Issue 13 item 8: a channel's secrets (an SMTP password, a webhook URL's login, path
token and query token, an apprise URL) never appear in what `wk alerts channels
list/test` print (tables and --json), in their log records, in the audit log or in the
store's other rows, even when the delivery fails and the receiver echoes what it was sent."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from notify_listeners import smtp_server

SMTP_PASSWORD = "smtp-Pa55-secret-1"
HOOK_PASSWORD = "hook-Pa55-secret-2"
PATH_TOKEN = "T0KEN-in-the-path-3"
QUERY_TOKEN = "T0KEN-in-the-query-4"
APPRISE_TOKEN = "apprise-T0KEN-5"
SECRETS = (SMTP_PASSWORD, HOOK_PASSWORD, PATH_TOKEN, QUERY_TOKEN, APPRISE_TOKEN)


@contextmanager
def echoing_server() -> Iterator[int]:
    """Answers every POST 404 with the path it was sent in the body and reason (as a
    careless receiver would)."""

    class Echo(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = f"no hook at {self.path}".encode()
            self.send_response(404, f"unknown {self.path}")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _secret_file(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o600)
    return str(path)


def test_no_secret_in_any_output_log_audit_row_or_table(
        wk: Any, store_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("WK_TEST_APPRISE_URL", f"json://127.0.0.1:9/{APPRISE_TOKEN}")
    assert wk("init").code == 0
    creds = _secret_file(tmp_path / "smtp", f"oncall\n{SMTP_PASSWORD}\n")
    shown: list[str] = []
    with echoing_server() as port, smtp_server(user="oncall", password="the-right-one") as mail:
        adds = [
            ("hook-login", "--kind", "webhook", "--url",
             f"http://wk:{HOOK_PASSWORD}@127.0.0.1:{port}/services/{PATH_TOKEN}?token={QUERY_TOKEN}"),
            ("hook-token", "--kind", "webhook", "--url",
             f"http://127.0.0.1:{port}/services/{PATH_TOKEN}?token={QUERY_TOKEN}"),
            ("mail", "--kind", "smtp", "--host", mail.host, "--port", str(mail.port),
             "--from", "wk@example.com", "--to", "oncall@example.com", "--credentials-file", creds),
            ("push", "--kind", "apprise", "--url-env", "WK_TEST_APPRISE_URL"),
        ]
        for name, *options in adds:
            for extra in ((), ("--json",)):
                result = wk("alerts", "channels", "add", name, *options, *extra)
                shown += [result.out, result.err]
                if not extra:
                    assert result.code == 0, result.err
        for verb in (("list",), ("list", "--json")):
            result = wk("alerts", "channels", *verb)
            assert result.code == 0, result.err
            shown += [result.out, result.err]
        for name, *_ in adds:
            for extra in ((), ("--json",)):
                result = wk("alerts", "channels", "test", name, *extra)
                assert result.code == 1, (name, result.out, result.err)  # every delivery fails
                shown += [result.out, result.err]
    audit = wk("audit", "--jsonl")
    assert audit.code == 0 and "channel." in audit.out
    shown += [audit.out, caplog.text, *(r.getMessage() for r in caplog.records)]
    # every row of the store but the channel's own settings (a webhook's URL is its setting,
    # kept in the owner-only database; the channel table is the one place it may be)
    rows = sqlite3.connect(store_dir / "watchkeeper.db").iterdump()
    shown.append("\n".join(r for r in rows if not r.startswith('INSERT INTO "channel"')))
    everything = "\n".join(shown)
    assert "127.0.0.1" in everything and "no hook at" in everything  # the failures are told
    for secret in SECRETS:
        assert secret not in everything, f"{secret} was shown"


def test_a_webhook_login_is_sent_as_basic_auth_not_as_the_host(wk: Any, store_dir: Path) -> None:
    import base64

    from notify_listeners import webhook_listener

    assert wk("init").code == 0
    with webhook_listener() as hook:
        url = f"http://wk:{HOOK_PASSWORD}@127.0.0.1:{hook.port}/in"
        assert wk("alerts", "channels", "add", "hook", "--kind", "webhook", "--url", url).code == 0
        result = wk("alerts", "channels", "test", "hook", "--json")
        assert result.code == 0, result.out + result.err
        [got] = hook.wait_for(1)
    assert got.headers["Authorization"] == "Basic " + base64.b64encode(
        f"wk:{HOOK_PASSWORD}".encode()).decode()
    assert HOOK_PASSWORD not in result.out


def test_scrub_masks_each_secret_part_of_a_url() -> None:
    from store.channel_secrets import scrub, url_secrets

    url = f"https://u:{HOOK_PASSWORD}@hooks.example.com/services/{PATH_TOKEN}?token={QUERY_TOKEN}&x=1"
    text = (f"404 at /services/{PATH_TOKEN}?token={QUERY_TOKEN} (token {QUERY_TOKEN}, "
            f"login u:{HOOK_PASSWORD}, quoted {PATH_TOKEN.replace('-', '%2D')})")
    cleaned = scrub(text, url_secrets(url))
    assert all(s not in cleaned for s in (HOOK_PASSWORD, PATH_TOKEN, QUERY_TOKEN))
    assert "hooks.example.com" not in url_secrets(url) and cleaned.startswith("404 at ***")
