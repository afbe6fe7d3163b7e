"""A channel's settings, checked per kind before they are stored, and shown without secrets.

The settings (Channel.config) by kind; the keys are the neutral field names each surface
words its own way:
- webhook: url (http or https), timeout_s
- smtp: host, port, starttls, ca_file (the CA that signed a private relay's certificate,
  instead of the system's; with starttls only), from, to (a list), timeout_s, and the
  login, if any, as
  credentials_file (a 0600 file: the user on its first line, the password on its second)
  or user_env and password_env (names of environment variables of the sender)
- shell: command (an argv list, run without a shell), timeout_s
- apprise: url_file (a 0600 file holding the apprise URL) or url_env: apprise URLs carry
  tokens, so the URL itself is never stored (its timeouts are the URL's cto and rto)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from store.channel_secrets import redact_url, secret_file_problem
from store.errors import InvalidInput
from store.vocabulary import ChannelKind

DEFAULT_TIMEOUT_S = 10.0
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")
KEYS: dict[str, frozenset[str]] = {
    ChannelKind.WEBHOOK: frozenset({"url", "timeout_s"}),
    ChannelKind.SMTP: frozenset({"host", "port", "starttls", "ca_file", "from", "to", "timeout_s",
                                 "credentials_file", "user_env", "password_env"}),
    ChannelKind.SHELL: frozenset({"command", "timeout_s"}),
    ChannelKind.APPRISE: frozenset({"url_file", "url_env"}),  # timeouts: apprise's cto/rto
}


def check_config(kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings to store for a channel of `kind` (defaults filled in); InvalidInput
    naming the setting that is missing or wrong."""
    if kind not in KEYS:
        raise InvalidInput(f"channel kind {kind!r} is unknown; the kinds: "
                           + ", ".join(str(k) for k in ChannelKind), field="kind",
                           example="webhook")
    given = {key: value for key, value in config.items() if value not in (None, "", [])}
    unknown = sorted(set(given) - KEYS[kind])
    if unknown:
        raise InvalidInput(f"a {kind} channel has no setting {unknown[0]!r}; its settings: "
                           + ", ".join(sorted(KEYS[kind])), field=unknown[0])
    out: dict[str, Any] = {}
    if "timeout_s" in KEYS[kind]:
        out["timeout_s"] = _timeout(given.get("timeout_s", DEFAULT_TIMEOUT_S))
    if kind == ChannelKind.WEBHOOK:
        out["url"] = _http_url(given.get("url"))
    elif kind == ChannelKind.SMTP:
        out.update(_smtp(given))
    elif kind == ChannelKind.SHELL:
        out["command"] = _command(given.get("command"))
    else:
        out.update(_one_secret(given, "url_file", "url_env", what="the apprise URL",
                               example="~/.config/watchkeeper/apprise-url"))
    return out


def shown_config(kind: str, config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The settings as every surface shows them: secrets are never stored, and a webhook
    URL (Slack's carry a token in the path) shows only its scheme and host."""
    shown = dict(config or {})
    if kind == ChannelKind.WEBHOOK and shown.get("url"):
        shown["url"] = redact_url(str(shown["url"]))
    return shown


def env_notes(config: Mapping[str, Any]) -> list[str]:
    """Environment variables the channel reads that this process does not have (the
    sender's environment may differ: a note, not an error)."""
    return [f"the environment variable {config[key]} is not set here; the sender (the "
            "scheduler daemon or the sender command) must have it"
            for key in ("user_env", "password_env", "url_env")
            if config.get(key) and not os.environ.get(str(config[key]))]


def _timeout(value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 < seconds <= 300:
        raise InvalidInput(f"timeout {value!r} must be a number of seconds above 0, at most 300",
                           field="timeout_s", example="10")
    return seconds


def _http_url(value: Any) -> str:
    url = str(value or "")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"webhook URL {redact_url(url)!r} must be an http or https URL "
                           "with a host", field="url", example="https://hooks.example.com/alerts")
    return url


def _command(value: Any) -> list[str]:
    if isinstance(value, str):
        import shlex

        value = shlex.split(value)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise InvalidInput("a shell channel needs a command: the program and its arguments",
                           field="command", example='"/usr/local/bin/page-oncall ml-team"')
    return list(value)


def _smtp(given: Mapping[str, Any]) -> dict[str, Any]:
    host = str(given.get("host") or "")
    if not host:
        raise InvalidInput("an smtp channel needs the mail server's host", field="host",
                           example="smtp.example.com")
    starttls = bool(given.get("starttls", False))
    try:
        port = int(given.get("port") or (587 if starttls else 25))
    except (TypeError, ValueError):
        port = 0
    if not 0 < port < 65536:
        raise InvalidInput(f"smtp port {given.get('port')!r} must be 1-65535", field="port",
                           example="587")
    sender = str(given.get("from") or "")
    to = given.get("to") or []
    to = [to] if isinstance(to, str) else list(to)
    for address in [sender, *to]:
        if not _ADDRESS.fullmatch(str(address)):
            field = "from" if address == sender else "to"
            raise InvalidInput(f"{address!r} is not an email address", field=field,
                               example="oncall@example.com")
    if not to:
        raise InvalidInput("an smtp channel needs at least one recipient", field="to",
                           example="oncall@example.com")
    out: dict[str, Any] = {"host": host, "port": port, "starttls": starttls, "from": sender,
                           "to": [str(a) for a in to]}
    if given.get("ca_file"):
        out["ca_file"] = _ca_file(str(given["ca_file"]), starttls)
    if given.get("credentials_file") and (given.get("user_env") or given.get("password_env")):
        raise InvalidInput("give the login either as a credentials file or as environment "
                           "variables, not both", field="credentials_file")
    if given.get("credentials_file"):
        out.update(_one_secret(given, "credentials_file", None, what="the SMTP login",
                               example="~/.config/watchkeeper/smtp-login"))
    elif given.get("user_env") or given.get("password_env"):
        for key in ("user_env", "password_env"):
            out[key] = _env_name(given.get(key), key)
    return out


def _ca_file(path: str, starttls: bool) -> str:
    """A readable PEM file of CA certificates, for a STARTTLS channel."""
    if not starttls:
        raise InvalidInput("a CA file checks the relay's certificate, which only a STARTTLS "
                           "channel is shown: turn starttls on too", field="ca_file",
                           example="/etc/ssl/relay-ca.pem")
    full = os.path.abspath(os.path.expanduser(path))
    try:
        with open(full, encoding="ascii", errors="replace") as handle:
            head = handle.read(65536)
    except OSError as exc:
        raise InvalidInput(f"the CA file {full} cannot be read: {exc.strerror or exc}",
                           field="ca_file", example="/etc/ssl/relay-ca.pem") from None
    if "-----BEGIN CERTIFICATE-----" not in head:
        raise InvalidInput(f"the CA file {full} holds no PEM certificate (-----BEGIN "
                           "CERTIFICATE-----)", field="ca_file", example="/etc/ssl/relay-ca.pem")
    return full


def _one_secret(given: Mapping[str, Any], file_key: str, env_key: str | None, *, what: str,
                example: str) -> dict[str, str]:
    path, env = given.get(file_key), given.get(env_key) if env_key else None
    if path and env:
        raise InvalidInput(f"give {what} either in a file or in an environment variable, not "
                           "both", field=file_key)
    if env and env_key:
        return {env_key: _env_name(env, env_key)}
    if not path:
        raise InvalidInput(f"{what} is a secret: give the file that holds it"
                           + (" or the environment variable" if env_key else ""),
                           field=file_key, example=example)
    problem = secret_file_problem(str(path))
    if problem:
        raise InvalidInput(problem, field=file_key, example=example)
    return {file_key: os.path.abspath(os.path.expanduser(str(path)))}


def _env_name(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
        raise InvalidInput(f"{value!r} is not an environment variable name (the name, not "
                           "its value: secrets are never stored)", field=field,
                           example="WK_SMTP_PASSWORD")
    return value
