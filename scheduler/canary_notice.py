"""The notification of a canary's outcome: one pseudo-alert (alertname canary-promoted or
canary-rolled-back, with the model and version) in the Alertmanager v4 message, queued to
the channels of the model's alert rules in the deciding transaction. A model without
rules, or whose rules name no channel, gets none."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from monitoring.alert_message import MessageAlert, build_message, fingerprint, group_key
from store import canary as canary_q
from store import outbox
from store.vocabulary import CanaryWatchStatus, Severity

if TYPE_CHECKING:
    from sqlmodel import Session

    from store.alert_tables import CanaryWatch

ALERTNAMES = {CanaryWatchStatus.PROMOTED: "canary-promoted",
              CanaryWatchStatus.ROLLED_BACK: "canary-rolled-back"}
NOTICE_KIND = "canary"


def queue_notice(session: Session, watch: CanaryWatch, model: str, *, summary: str,
                 at: datetime, alert_id: int | None = None) -> list[str]:
    """Queue the outcome of `watch` (promoted or rolled back) to each channel of the
    model's rules; returns the channel names it was queued to."""
    alertname = ALERTNAMES[CanaryWatchStatus(watch.status)]
    labels = {"alertname": alertname, "model": model, "version": str(watch.version),
              "severity": Severity.WARNING if alert_id is not None else Severity.INFO}
    annotations = {"summary": summary}
    if alert_id is not None:
        annotations["alert_id"] = str(alert_id)
    groups = {"model": model}
    key = group_key(groups)
    message = build_message(
        [MessageAlert(status="firing", labels=labels, annotations=annotations,
                      starts_at=at, fingerprint=fingerprint(labels))],
        group_key_text=key, group_labels=groups)
    queued = []
    for channel in outbox.channels_named(session, canary_q.rule_channels(session, watch.model_id)):
        outbox.enqueue(session, dedup_key=f"canary:{watch.id}:{watch.status}:{channel.name}",
                       channel=channel, group_key=key, kind=NOTICE_KIND,
                       alert_ids=[alert_id] if alert_id is not None else [],
                       payload={**message, "receiver": channel.name})
        queued.append(channel.name)
    return queued
