"""Receivers for the alert channels' tests, each on 127.0.0.1 at a free port, started by
the test and stopped after it:

- WebhookListener: records every POST (path, headers, JSON body); answers 500 to a given
  share of them (seeded), a fixed status per path, or late (to time a sender out).
- SmtpServer: aiosmtpd with an optional login (AUTH without TLS, for a local test),
  recording every mail.
"""

from __future__ import annotations

import json
import random
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    status: int  # what the listener answered

    @property
    def dedup_key(self) -> str:
        return self.headers.get("X-Watchkeeper-Dedup-Key", "")


@dataclass
class WebhookListener:
    fail_share: float = 0.0  # this share of POSTs is answered 500
    seed: int = 0
    status_by_path: dict[str, int] = field(default_factory=dict)  # a fixed answer per path
    delay_s: float = 0.0  # answer this late
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self.lock = threading.Lock()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors="replace")
                status = listener.answer(self.path)
                if listener.delay_s:
                    time.sleep(listener.delay_s)
                with listener.lock:
                    listener.received.append(Received(self.path, dict(self.headers), body,
                                                      status))
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender timed out or was killed: the message still arrived

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)

    def answer(self, path: str) -> int:
        if path in self.status_by_path:
            return self.status_by_path[path]
        with self.lock:
            return 500 if self.random.random() < self.fail_share else 200

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def delivered(self, path: str | None = None) -> list[Received]:
        """The POSTs answered 2xx (to `path`)."""
        with self.lock:
            return [r for r in self.received
                    if 200 <= r.status < 300 and (path is None or r.path == path)]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.delivered()) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.delivered()


@contextmanager
def webhook_listener(**settings: Any) -> Iterator[WebhookListener]:
    listener = WebhookListener(**settings)
    listener.thread.start()
    try:
        yield listener
    finally:
        listener.server.shutdown()
        listener.server.server_close()


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: Message
    login: str  # the user that logged in, "" without a login
    tls: bool = False  # it came over a STARTTLS session

    @property
    def body(self) -> str:
        part = self.message.get_payload(decode=True)
        return part.decode() if isinstance(part, bytes) else str(self.message.get_payload())


@dataclass
class SmtpServer:
    host: str
    port: int
    mails: list[Mail]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Mail]:
        deadline = time.monotonic() + timeout
        while len(self.mails) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.mails


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (its own CA) and its key, made by openssl."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@contextmanager
def smtp_server(user: str = "", password: str = "",
                tls: tuple[Path, Path] | None = None) -> Iterator[SmtpServer]:
    """aiosmtpd on 127.0.0.1 (a free port); with `user`, AUTH PLAIN/LOGIN is offered
    and only that login is accepted: without TLS (a local test only), or, given `tls`
    (certificate, key), only after STARTTLS, which the server then requires before mail."""
    import socket

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    mails: list[Mail] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            who = session.auth_data.login.decode() if session.auth_data else ""
            mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos),
                              message_from_bytes(envelope.content), who,
                              tls=session.ssl is not None))
            return "250 OK"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options: dict[str, Any] = {}
    if user:
        options = {"authenticator": authenticate, "auth_require_tls": tls is not None}
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls)
        options.update(tls_context=context, require_starttls=True)
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, mails)
    finally:
        controller.stop()
