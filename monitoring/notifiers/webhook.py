"""Webhook: POST the Alertmanager v4 message as it is (plus Slack's `text`), so receivers
written for Alertmanager work unchanged. The dedup key goes in `Idempotency-Key` and
`X-Watchkeeper-Dedup-Key` for the receiver to drop a repeat delivery.

2xx: delivered. 4xx: failed, not retried (the receiver refuses this message; 408 and 429
are the exceptions: the receiver asks to try later). 5xx, timeouts, refused connections:
retried. A loopback URL is posted directly, never through a proxy from the environment.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from monitoring.notifiers.base import Clock, Delivery, Message
from store.channel_config import DEFAULT_TIMEOUT_S
from store.channel_secrets import redact_url, scrub, url_secrets
from store.outbox_delivery import AttemptOutcome

RETRIED_4XX = frozenset({408, 425, 429})
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
BODY_CHARS = 300


def headers(message: Message) -> dict[str, str]:
    return {"Content-Type": "application/json", "User-Agent": "watchkeeper-alerts",
            "Idempotency-Key": message.dedup_key, "X-Watchkeeper-Dedup-Key": message.dedup_key}


def _opener(url: str) -> urllib.request.OpenerDirector:
    if (urlsplit(url).hostname or "") in LOOPBACK:
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _without_login(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its `user:password@` (urllib would take it for the host) and the
    Basic authorization header carrying it instead."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, {}
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    login = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
    token = base64.b64encode(login.encode()).decode()
    return urlunsplit(parts._replace(netloc=netloc)), {"Authorization": f"Basic {token}"}


def send(config: Mapping[str, Any], message: Message) -> Delivery:
    url, auth = _without_login(str(config["url"]))
    secrets = url_secrets(str(config["url"]))  # a receiver may echo the path or query back
    body = json.dumps(dict(message.payload)).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={**headers(message), **auth})
    timeout = float(config.get("timeout_s") or DEFAULT_TIMEOUT_S)
    clock = Clock()
    try:
        with _opener(url).open(request, timeout=timeout) as answer:
            code = int(answer.status)
    except urllib.error.HTTPError as exc:
        text = exc.read(BODY_CHARS).decode(errors="replace").strip()
        outcome = (AttemptOutcome.FAILED if 400 <= exc.code < 500 and exc.code not in RETRIED_4XX
                   else AttemptOutcome.RETRY)
        return Delivery(outcome, exc.code, scrub(f"HTTP {exc.code} {exc.reason}"
                                                 + (f": {text}" if text else ""), secrets), clock.ms)
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Delivery(AttemptOutcome.RETRY, None,
                        f"POST to {redact_url(url)} failed: "
                        + scrub(str(reason or type(exc).__name__), secrets), clock.ms)
    if 200 <= code < 300:
        return Delivery(AttemptOutcome.DELIVERED, code, "", clock.ms)
    return Delivery(AttemptOutcome.RETRY, code, f"HTTP {code}: not a success answer", clock.ms)
