"""Stores for promotion policy auto: the credit model with v1 in production and v2
registered (both trained from retrain_store's small spec), alert rules with channels, and
alert rows as the alert evaluator writes them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from retrain_store import credit_spec, trained_in_production

MODEL = "credit-default"


def two_versions(store: Any, folder: Path) -> Path:
    """v1 in production and v2 registered (no alias); returns the spec."""
    from registry.training import train

    spec = credit_spec(folder)
    trained_in_production(store, spec)
    credit_spec(folder, seed=2)
    result = train(store, str(spec), actor="tests")
    assert result["registered"] and result["version"]["version"] == 2, result["gate"]
    return spec


def model_id(store: Any, name: str = MODEL) -> int:
    from store import models as model_store

    with store.db.read() as session:
        return int(model_store.get_model(session, name).id)


def rule_with_channels(store: Any, name: str, channels: list[str], *,
                       model: str = MODEL) -> None:
    """An alert rule on the model sending to webhook channels of these names."""
    from store.alert_tables import AlertRule, Channel
    from store.vocabulary import AlertKind, ChannelKind

    mid = model_id(store, model)
    with store.db.write() as session:
        for channel in channels:
            session.add(Channel(name=channel, kind=ChannelKind.WEBHOOK,
                                config={"url": f"http://127.0.0.1:9/{channel}"}))
        session.add(AlertRule(name=name, kind=AlertKind.LATENCY, model_id=mid,
                              channels=channels, params={"bound": 300}))


def firing_alert(store: Any, version: int, at: datetime, *, by_label: bool = False,
                 state: str = "firing", rule: str = "credit-latency") -> int:
    """An alert on the model and `version` (the column, or only a `version` label), fired
    at `at`, as the alert evaluator writes it; returns its id."""
    from store.alert_tables import Alert

    mid = model_id(store)
    labels = {"alertname": rule, "model": MODEL, "version": str(version)}
    fingerprint = f"{rule}-{version}-{int(at.timestamp())}"
    with store.db.write() as session:
        alert = Alert(rule_name=rule, kind="latency", fingerprint=fingerprint,
                      group_key='{}:{model="credit-default"}', model_id=mid,
                      version=None if by_label else version, labels=labels, state=state,
                      value=450.0, reason="p95 450 ms above 300 ms", started_at=at,
                      fired_at=at)
        session.add(alert)
        session.flush()
        return int(alert.id or 0)


def notifications(store: Any) -> list[Any]:
    from sqlmodel import select

    from store.alert_tables import Notification

    with store.db.read() as session:
        return list(session.exec(select(Notification).order_by(Notification.id)).all())
