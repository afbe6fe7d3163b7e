"""What every notifier takes and gives back, and the alert fields they all render."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from store.outbox_delivery import AttemptOutcome


@dataclass(frozen=True)
class Message:
    """One queued notification as a notifier sees it: the Alertmanager v4 payload
    (monitoring/alert_message.py) under its dedup key."""

    dedup_key: str
    group_key: str
    kind: str  # firing, resolved, repeat, test ...
    payload: Mapping[str, Any]
    channel: str = ""


@dataclass(frozen=True)
class Delivery:
    """The outcome of one attempt: `status_code` is the HTTP status, the SMTP reply code
    or the exit code; `error` says what went wrong, without secrets."""

    outcome: str  # store.outbox_delivery.AttemptOutcome
    status_code: int | None = None
    error: str = ""
    duration_ms: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def delivered(self) -> bool:
        return self.outcome == AttemptOutcome.DELIVERED


class Clock:
    """The time an attempt took, in milliseconds."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    @property
    def ms(self) -> float:
        return round((time.monotonic() - self.start) * 1000.0, 1)


ALERT_FIELDS = ("status", "alertname", "model", "version", "feature", "severity", "summary")


def alert_rows(payload: Mapping[str, Any]) -> list[dict[str, str]]:
    """Each alert of the message as flat fields: status, name, model, version, feature,
    severity and summary ("" where the alert has none)."""
    rows = []
    for alert in payload.get("alerts") or []:
        labels = alert.get("labels") or {}
        annotations = alert.get("annotations") or {}
        rows.append({
            "status": str(alert.get("status", "")),
            "alertname": str(labels.get("alertname", "")),
            "model": str(labels.get("model", "")),
            "version": str(labels.get("version", "")),
            "feature": str(labels.get("feature", "")),
            "severity": str(labels.get("severity", "")),
            "summary": str(annotations.get("summary", "")),
            "fingerprint": str(alert.get("fingerprint", "")),
            "starts_at": str(alert.get("startsAt", "")),
        })
    return rows


def alerts_table(payload: Mapping[str, Any]) -> str:
    """A plain-text table of the alerts (an email's body under the text)."""
    rows = alert_rows(payload)
    if not rows:
        return ""
    widths = {name: max(len(name), *(len(row[name]) for row in rows)) for name in ALERT_FIELDS}
    line = "  ".join(name.ljust(widths[name]) for name in ALERT_FIELDS)
    out = [line.rstrip(), "  ".join("-" * widths[name] for name in ALERT_FIELDS)]
    for row in rows:
        out.append("  ".join(row[name].ljust(widths[name]) for name in ALERT_FIELDS).rstrip())
    return "\n".join(out)


def message_text(payload: Mapping[str, Any]) -> str:
    """The Slack-compatible text of the message, rebuilt if the payload has none."""
    from monitoring.alert_message import slack_text

    return str(payload.get("text") or slack_text(payload))
