"""Notification channels: add (settings checked per kind), list, get by name, remove;
each change audited in the caller's transaction. Secrets are never stored (the settings
name a file or an environment variable: store/channel_config.py).

Functions take an open Session; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session, select

from store import audit
from store.alert_tables import Channel
from store.channel_config import check_config, shown_config
from store.errors import Conflict, NotFound
from store.names import check_name
from store.vocabulary import AuditAction

NAME_EXAMPLE = "oncall-slack"


def channel_target(name: str) -> str:
    """What an audit event about a channel is about."""
    return f"channel/{name}"


def check_channel_name(name: str) -> None:
    check_name(name, what="channel name", example=NAME_EXAMPLE)


def find_channel(session: Session, name: str) -> Channel | None:
    return session.exec(select(Channel).where(Channel.name == name)).first()


def get_channel(session: Session, name: str) -> Channel:
    channel = find_channel(session, name)
    if channel is None:
        known = [c.name for c in list_channels(session)]
        raise NotFound(f"no channel named {name!r}; the channels: "
                       + (", ".join(known) if known else "none yet (add one first)"))
    return channel


def list_channels(session: Session) -> Sequence[Channel]:
    return session.exec(select(Channel).order_by(Channel.name)).all()


def add_channel(session: Session, *, name: str, kind: str, config: Mapping[str, Any],
                actor: str) -> Channel:
    """A new channel with its settings checked (InvalidInput naming the setting); Conflict
    when the name is taken."""
    check_channel_name(name)
    settings = check_config(kind, config)
    if find_channel(session, name) is not None:
        raise Conflict(f"a channel named {name!r} exists already: choose another name, or "
                       "remove that channel first")
    channel = Channel(name=name, kind=kind, config=settings, created_by=actor)
    session.add(channel)
    session.flush()
    audit.record(session, actor=actor, action=AuditAction.CHANNEL_ADD,
                 target=channel_target(name),
                 after={"kind": kind, "config": shown_config(kind, settings)})
    return channel


def set_enabled(session: Session, name: str, enabled: bool, *, actor: str,
                reason: str = "") -> bool:
    """Turn a channel off (nothing new is queued to it; what is queued waits, held by the
    sender) or back on (the held rows go out at their next due time). Whether it changed;
    audited only then."""
    channel = get_channel(session, name)
    if channel.enabled == enabled:
        return False
    channel.enabled = enabled
    session.add(channel)
    audit.record(session, actor=actor,
                 action=AuditAction.CHANNEL_ENABLE if enabled else AuditAction.CHANNEL_DISABLE,
                 target=channel_target(name), before={"enabled": not enabled},
                 after={"enabled": enabled}, reason=reason)
    return True


def remove_channel(session: Session, name: str, *, actor: str, reason: str = "") -> Channel:
    """Delete a channel. Its queued notifications keep their channel name (the sender
    records them failed: the channel is gone); rules naming it simply stop sending to it."""
    channel = get_channel(session, name)
    audit.record(session, actor=actor, action=AuditAction.CHANNEL_REMOVE,
                 target=channel_target(name),
                 before={"kind": channel.kind,
                         "config": shown_config(channel.kind, channel.config)},
                 reason=reason)
    session.delete(channel)
    session.flush()
    return channel
