"""The alerting tables: rules, their per-target evaluation state, alerts (one row per
episode, from pending to resolved) with their event history, silences, channels, the
notification outbox with every delivery attempt, and auto-promotion canary watches.

An alert's state change and the outbox rows it causes are written in one transaction
(store/alerts.py); a sender delivers outbox rows later, with retries that survive
restarts, under each row's unique dedup key (store/outbox.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, text
from sqlmodel import Field, SQLModel

from store.fields import json_field as _json
from store.fields import set_null_reference
from store.fields import text_field as _text
from store.fields import time_field as _time
from store.vocabulary import AlertState, CanaryWatchStatus, NotificationStatus, Severity


class AlertRule(SQLModel, table=True):
    """A condition over stored reports, rollups, job runs, probes or the host, for a
    target (a model, optionally one version and one feature; or none for store-wide
    rules), with a severity, channels and damping: it fires when the condition held in
    `for_n` of the last `of_m` evaluations and resolves after `clear_n` clear ones."""

    __tablename__ = "alert_rule"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    kind: str  # store.vocabulary.AlertKind
    model_id: int | None = Field(default=None, foreign_key="registered_model.id", index=True)
    version: int | None = None  # one version of the model; None: the served ones
    feature: str | None = None  # drift: one feature; None: any feature (one alert each)
    job_id: int | None = set_null_reference("job.id")
    params: dict[str, Any] | None = _json()  # threshold, margin, factor, window_s, bound ...
    severity: str = Severity.WARNING
    channels: list[str] | None = _json()  # channel names
    for_n: int = 1
    of_m: int = 1
    clear_n: int = 1
    repeat_s: int = 4 * 3600  # a still-firing alert is notified again this often
    enabled: bool = True
    revision: int = 1
    created_at: datetime = _time()
    created_by: str = ""
    updated_at: datetime = _time()
    updated_by: str = ""


class AlertRuleState(SQLModel, table=True):
    """What the last evaluations of a rule said about one target (its fingerprint):
    the damping window, newest last, as a string of '1' (condition held), '0' (clear)
    and '?' (insufficient data)."""

    __tablename__ = "alert_rule_state"
    __table_args__ = (Index("uq_alert_rule_state", "rule_id", "fingerprint", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    rule_id: int = Field(
        sa_column=Column(Integer, ForeignKey("alert_rule.id", ondelete="CASCADE"),
                         nullable=False))
    fingerprint: str
    labels: dict[str, Any] | None = _json()
    recent: str = ""
    condition: str = ""  # the last evaluation: holds | clear | insufficient
    value: float | None = None
    reason: str = _text()
    evaluated_at: datetime | None = _time(nullable=True)
    alert_id: int | None = None  # the open alert of this target, if any


class Alert(SQLModel, table=True):
    """One episode of a rule's condition on one target, from pending to resolved. At
    most one open (unresolved) alert per fingerprint; history is kept."""

    __tablename__ = "alert"
    __table_args__ = (
        Index("uq_alert_open", "fingerprint", unique=True,
              sqlite_where=text("state != 'resolved'"),
              postgresql_where=text("state != 'resolved'")),
        Index("ix_alert_state", "state", "updated_at"),
        Index("ix_alert_model_time", "model_id", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rule_id: int | None = set_null_reference("alert_rule.id")
    rule_name: str  # kept when the rule is removed
    kind: str
    fingerprint: str = Field(index=True)
    group_key: str  # one message per group (per model) and channel
    model_id: int | None = Field(default=None, foreign_key="registered_model.id")
    version: int | None = None
    feature: str | None = None
    severity: str = Severity.WARNING
    labels: dict[str, Any] | None = _json()  # Alertmanager labels
    annotations: dict[str, Any] | None = _json()  # summary, description, actions taken
    state: str = AlertState.PENDING
    value: float | None = None
    reason: str = _text()  # the one line the condition gave, last evaluation
    started_at: datetime = _time()  # became pending
    fired_at: datetime | None = _time(nullable=True)
    resolved_at: datetime | None = _time(nullable=True)
    resolved_by: str = ""  # "" when it resolved by itself
    ack_by: str = ""
    ack_note: str = _text()
    ack_until: datetime | None = _time(nullable=True)
    silence_id: int | None = None
    last_notified_at: datetime | None = _time(nullable=True)
    next_notify_at: datetime | None = _time(nullable=True)
    notified_channels: list[str] | None = _json()  # channels that got its firing message
    updated_at: datetime = _time()


class AlertEvent(SQLModel, table=True):
    """Everything that happened to an alert: state changes, acknowledgements, notes,
    actions taken from it (a rollback), notifications queued."""

    __tablename__ = "alert_event"
    __table_args__ = (Index("ix_alert_event_alert", "alert_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(
        sa_column=Column(Integer, ForeignKey("alert.id", ondelete="CASCADE"), nullable=False))
    at: datetime = _time(index=True)
    event: str  # store.vocabulary.AlertEventKind
    actor: str = ""
    note: str = _text()
    details: dict[str, Any] | None = _json()


class Silence(SQLModel, table=True):
    """Suppresses notifications of alerts whose labels match every matcher, between
    `starts_at` and `ends_at`. Alerts still change state and are shown."""

    __tablename__ = "silence"

    id: int | None = Field(default=None, primary_key=True)
    matchers: dict[str, Any] | None = _json()  # label -> value (exact match)
    starts_at: datetime = _time()
    ends_at: datetime = _time(index=True)
    created_at: datetime = _time()
    created_by: str = ""
    comment: str = _text()
    ended_at: datetime | None = _time(nullable=True)  # ended early by hand
    ended_by: str = ""
    end_warned_at: datetime | None = _time(nullable=True)  # "ends soon" was sent


class Channel(SQLModel, table=True):
    """Where notifications go: a webhook (Alertmanager v4 JSON), SMTP, a shell command
    or an apprise URL. Secrets are never stored here: `config` names a file or an
    environment variable that holds them."""

    __tablename__ = "channel"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    kind: str  # store.vocabulary.ChannelKind
    config: dict[str, Any] | None = _json()
    enabled: bool = True
    created_at: datetime = _time()
    created_by: str = ""


class Notification(SQLModel, table=True):
    """An outbox row: one message for one channel, written in the same transaction as
    the alert state change that causes it. `dedup_key` is unique: the same change is
    never queued twice, and receivers can drop a repeat delivery by it."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(unique=True)
    channel_id: int | None = set_null_reference("channel.id")
    channel_name: str
    group_key: str
    kind: str  # firing | resolved | repeat | ack-expired | silence-ending | test | canary
    alert_ids: list[int] | None = _json()
    payload: dict[str, Any] | None = _json()  # Alertmanager v4 message (alerts, status ...)
    status: str = NotificationStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime = _time()
    claimed_until: datetime | None = _time(nullable=True)  # a sender holds it until then
    claimed_by: str = _text()  # "host:pid" of the sender that claimed it last
    created_at: datetime = _time(index=True)
    delivered_at: datetime | None = _time(nullable=True)
    last_error: str = _text()


class NotificationAttempt(SQLModel, table=True):
    """One try at delivering a notification, whatever came of it."""

    __tablename__ = "notification_attempt"
    __table_args__ = (Index("ix_notification_attempt", "notification_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(
        sa_column=Column(Integer, ForeignKey("notification.id", ondelete="CASCADE"),
                         nullable=False))
    at: datetime = _time()
    attempt: int = 1
    outcome: str  # delivered | retry | failed (not retried)
    status_code: int | None = None  # HTTP status, SMTP reply code or exit code
    duration_ms: float | None = None
    error: str = _text()
    sender_pid: int | None = None


class CanaryWatch(SQLModel, table=True):
    """A retrained version under promotion policy `auto`: on a canary share until
    `ends_at`; production by itself if no alert fired on it, rolled back at once if
    one did (the alert is the reason)."""

    __tablename__ = "canary_watch"
    __table_args__ = (Index("ix_canary_watch_status", "status", "ends_at"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id")
    version_id: int = Field(foreign_key="model_version.id")
    version: int
    share: float = 0.1
    started_at: datetime = _time()
    ends_at: datetime = _time()
    status: str = CanaryWatchStatus.WATCHING
    alert_id: int | None = None  # the alert that rolled it back
    decided_at: datetime | None = _time(nullable=True)
    job_run_id: int | None = None
    note: str = _text()

