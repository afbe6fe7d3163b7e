"""Notifiers: one module per channel kind, each turning a queued message into one delivery
attempt. A notifier returns a Delivery (delivered, retry or failed, with the status code
and the error) and never raises for a failure it can expect: a refused connection, a
timeout, an error answer, a secret file that cannot be read. Errors name no secret.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from monitoring.notifiers.base import Delivery, Message
from store.outbox_delivery import AttemptOutcome
from store.vocabulary import ChannelKind

Notifier = Callable[[Mapping[str, Any], Message], Delivery]


def notifier(kind: str) -> Notifier | None:
    """The delivery function of a channel kind (imported when first used)."""
    if kind == ChannelKind.WEBHOOK:
        from monitoring.notifiers.webhook import send
    elif kind == ChannelKind.SMTP:
        from monitoring.notifiers.smtp import send
    elif kind == ChannelKind.SHELL:
        from monitoring.notifiers.shell import send
    elif kind == ChannelKind.APPRISE:
        from monitoring.notifiers.apprise_url import send
    else:
        return None
    return send


def deliver(kind: str | None, config: Mapping[str, Any], message: Message) -> Delivery:
    """One attempt at delivering `message` over a channel of `kind` with `config`."""
    if kind is None:
        return Delivery(AttemptOutcome.FAILED,
                        error=f"the channel {message.channel!r} was removed")
    send = notifier(kind)
    if send is None:
        return Delivery(AttemptOutcome.FAILED, error=f"no notifier for channel kind {kind!r}")
    return send(config, message)


__all__ = ["Delivery", "Message", "deliver", "notifier"]
