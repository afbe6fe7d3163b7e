"""The message every channel renders from: Alertmanager's webhook payload, version 4, so
receivers written for Alertmanager work as they are, plus a Slack-compatible `text`.

Pure functions over plain data; the outbox stores the dict this builds
(store/outbox.py), and the notifiers read it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of an alert still firing


@dataclass(frozen=True)
class MessageAlert:
    """One alert as a message carries it."""

    status: str  # "firing" | "resolved"
    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    fingerprint: str = ""
    generator_url: str = ""


def fingerprint(labels: Mapping[str, Any]) -> str:
    """A stable id of a rule and target: 16 hex digits of the sorted labels' hash (the
    same labels give the same fingerprint in every process and on every machine)."""
    text = "\x1f".join(f"{key}={labels[key]}" for key in sorted(labels) if labels[key] is not None)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def group_key(group_labels: Mapping[str, Any]) -> str:
    """Alertmanager's groupKey form: `{}:{model="credit"}`."""
    inner = ", ".join(f'{key}="{group_labels[key]}"' for key in sorted(group_labels))
    return "{}:{" + inner + "}"


def _iso(moment: datetime | None) -> str:
    if moment is None:
        return ZERO_TIME
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _common(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first = dict(maps[0])
    return {key: value for key, value in first.items()
            if all(other.get(key) == value for other in maps[1:])}


def build_message(alerts: Sequence[MessageAlert], *, group_key_text: str,
                  group_labels: Mapping[str, str], receiver: str = "",
                  external_url: str = "") -> dict[str, Any]:
    """Alertmanager v4: the group is firing while any of its alerts fires."""
    status = "firing" if any(alert.status == "firing" for alert in alerts) else "resolved"
    message: dict[str, Any] = {
        "version": "4",
        "groupKey": group_key_text,
        "truncatedAlerts": 0,
        "status": status,
        "receiver": receiver,
        "groupLabels": dict(group_labels),
        "commonLabels": _common([alert.labels for alert in alerts]),
        "commonAnnotations": _common([alert.annotations for alert in alerts]),
        "externalURL": external_url,
        "alerts": [
            {
                "status": alert.status,
                "labels": dict(alert.labels),
                "annotations": dict(alert.annotations),
                "startsAt": _iso(alert.starts_at),
                "endsAt": _iso(alert.ends_at) if alert.status == "resolved" else ZERO_TIME,
                "generatorURL": alert.generator_url,
                "fingerprint": alert.fingerprint,
            }
            for alert in alerts
        ],
    }
    message["text"] = slack_text(message)
    return message


def slack_text(message: Mapping[str, Any]) -> str:
    """One line per alert under a header, as Slack's `text` (and an email's body) shows."""
    alerts = message.get("alerts") or []
    firing = sum(1 for alert in alerts if alert.get("status") == "firing")
    group = ", ".join(f"{k}={v}" for k, v in (message.get("groupLabels") or {}).items())
    status = str(message.get("status", "")).upper()
    head = f"[{status}{':' + str(firing) if firing else ''}] {group or 'watchkeeper'}"
    lines = [head]
    for alert in alerts:
        labels = alert.get("labels") or {}
        annotations = alert.get("annotations") or {}
        summary = annotations.get("summary") or labels.get("alertname", "")
        lines.append(f"- {alert.get('status')}: {summary} "
                     f"({labels.get('severity', '')}, since {alert.get('startsAt')})")
    return "\n".join(lines)


def subject(message: Mapping[str, Any]) -> str:
    """The first line of the text: an email's subject."""
    return slack_text(message).splitlines()[0]
