"""Email over SMTP: subject the message's first line, body its text and a table of the
alerts, Message-ID derived from the dedup key (a repeat delivery is the same mail to the
receiving side). STARTTLS when the channel asks for it; the login, if any, read at send
time from a 0600 file (user, then password, one per line) or from environment variables,
and never logged.

SMTP 4xx replies, refused connections and timeouts are retried; 5xx replies (a refused
login, an unknown recipient) and a login the server does not offer (AUTH only after
STARTTLS, and the channel has none) are not.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from monitoring.alert_message import subject
from monitoring.notifiers.base import Clock, Delivery, Message, alerts_table, message_text
from store.channel_config import DEFAULT_TIMEOUT_S
from store.channel_secrets import read_secret_env, read_secret_file
from store.errors import InvalidInput
from store.outbox_delivery import AttemptOutcome


def message_id(dedup_key: str) -> str:
    return f"<{hashlib.sha256(dedup_key.encode()).hexdigest()[:32]}@watchkeeper.alerts>"


def build_mail(config: Mapping[str, Any], message: Message) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = subject(message.payload)
    mail["From"] = str(config["from"])
    mail["To"] = ", ".join(config["to"])
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = message_id(message.dedup_key)
    mail["X-Watchkeeper-Dedup-Key"] = message.dedup_key
    table = alerts_table(message.payload)
    mail.set_content(message_text(message.payload) + ("\n\n" + table if table else "") + "\n")
    return mail


def login(config: Mapping[str, Any]) -> tuple[str, str] | None:
    """(user, password) from the channel's credentials file or environment variables."""
    if config.get("credentials_file"):
        lines = read_secret_file(str(config["credentials_file"]),
                                 field="credentials_file").splitlines()
        if len(lines) < 2:
            raise InvalidInput(f"the credentials file {config['credentials_file']} must hold "
                               "the user on its first line and the password on its second",
                               field="credentials_file")
        return lines[0].strip(), lines[1].strip()
    if config.get("user_env"):
        return (read_secret_env(str(config["user_env"]), field="user_env"),
                read_secret_env(str(config["password_env"]), field="password_env"))
    return None


def send(config: Mapping[str, Any], message: Message) -> Delivery:
    clock = Clock()
    try:
        credentials = login(config)
    except InvalidInput as exc:  # fixable while the message waits: retried
        return Delivery(AttemptOutcome.RETRY, None, exc.message, clock.ms)
    mail = build_mail(config, message)
    timeout = float(config.get("timeout_s") or DEFAULT_TIMEOUT_S)
    try:
        with smtplib.SMTP(str(config["host"]), int(config["port"]), timeout=timeout) as server:
            server.ehlo()
            if config.get("starttls"):
                # the channel's own CA (a private relay) instead of the system's, if set
                cafile = str(config["ca_file"]) if config.get("ca_file") else None
                server.starttls(context=ssl.create_default_context(cafile=cafile))
                server.ehlo()
            if credentials:
                server.login(*credentials)
            refused = server.send_message(mail)
    except smtplib.SMTPNotSupportedError as exc:  # a login the server does not offer here
        hint = "" if config.get("starttls") else \
            "; a server that offers it only over TLS needs STARTTLS turned on for the channel"
        return Delivery(AttemptOutcome.FAILED, None,
                        f"SMTP {config['host']}:{config['port']}: {exc}{hint}", clock.ms)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        return Delivery(_by_code(codes[0]), codes[0],
                        "every recipient was refused: " + ", ".join(exc.recipients), clock.ms)
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        return Delivery(_by_code(exc.smtp_code), exc.smtp_code,
                        f"SMTP {exc.smtp_code}: {reply}", clock.ms)
    except (smtplib.SMTPException, OSError) as exc:
        return Delivery(AttemptOutcome.RETRY, None,
                        f"SMTP {config['host']}:{config['port']}: {exc or type(exc).__name__}",
                        clock.ms)
    if refused:
        return Delivery(AttemptOutcome.DELIVERED, 250,
                        "some recipients were refused: " + ", ".join(refused), clock.ms)
    return Delivery(AttemptOutcome.DELIVERED, 250, "", clock.ms)


def _by_code(code: int) -> str:
    return AttemptOutcome.FAILED if code >= 500 else AttemptOutcome.RETRY
