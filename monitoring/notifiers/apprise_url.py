"""Apprise: one URL reaches Slack, Teams, Discord, PagerDuty, Opsgenie, ntfy, Matrix and
many more (apprise's clients, not ours). The URL carries tokens, so it is read at send
time from the channel's 0600 file or environment variable, and shown only as `scheme://***`.

apprise answers with a boolean: True is delivered, False is retried (apprise does not
say whether the service refused the message or was down; its log, at warning level,
says which, with the URL's secrets masked by apprise).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitoring.alert_message import subject
from monitoring.notifiers.base import Clock, Delivery, Message, alerts_table, message_text
from store.channel_secrets import (
    read_secret_env,
    read_secret_file,
    redact_url,
    scrubbed_logs,
    url_secrets,
)
from store.errors import InvalidInput
from store.outbox_delivery import AttemptOutcome


def apprise_url(config: Mapping[str, Any]) -> str:
    if config.get("url_file"):
        return read_secret_file(str(config["url_file"]), field="url_file")
    return read_secret_env(str(config.get("url_env", "")), field="url_env")


def send(config: Mapping[str, Any], message: Message) -> Delivery:
    import apprise

    clock = Clock()
    try:
        url = apprise_url(config)
    except InvalidInput as exc:  # fixable while the message waits: retried
        return Delivery(AttemptOutcome.RETRY, None, exc.message, clock.ms)
    notifier = apprise.Apprise()
    with scrubbed_logs("apprise", url_secrets(url)):
        added = notifier.add(url)
    if not added:
        return Delivery(AttemptOutcome.FAILED, None,
                        f"apprise does not know the URL {redact_url(url, keep_host=False)}: "
                        "see apprise's list of services for its form", clock.ms)
    table = alerts_table(message.payload)
    body = message_text(message.payload) + ("\n\n" + table if table else "")
    with scrubbed_logs("apprise", url_secrets(url)):  # apprise logs the URL at debug level
        sent = notifier.notify(title=subject(message.payload), body=body)
    if sent:
        return Delivery(AttemptOutcome.DELIVERED, None, "", clock.ms)
    return Delivery(AttemptOutcome.RETRY, None,
                    f"apprise could not deliver to {redact_url(url, keep_host=False)} (its "
                    "warning in the log says why)", clock.ms)
