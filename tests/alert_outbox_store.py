"""Outbox rows for the sender's tests: channels added through store/channels.py and
notifications queued through store/outbox.py with real Alertmanager v4 messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from monitoring.alert_message import MessageAlert, build_message, fingerprint, group_key
from store import channels, outbox
from store.handle import Store

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def add_channel(store: Store, name: str, kind: str, **config: Any) -> None:
    with store.db.write() as session:
        channels.add_channel(session, name=name, kind=kind, config=config, actor="test")


def message(model: str, feature: str, *, status: str = "firing") -> dict[str, Any]:
    labels = {"alertname": "drift", "model": model, "version": "3", "feature": feature,
              "severity": "critical"}
    alert = MessageAlert(status=status, labels=labels,
                         annotations={"summary": f"{feature} drifted on {model} v3"},
                         starts_at=T0, fingerprint=fingerprint(labels))
    return build_message([alert], group_key_text=group_key({"model": model}),
                         group_labels={"model": model}, receiver="test")


def queue(store: Store, channel: str, dedup_key: str, payload: dict[str, Any],
          at: datetime = T0) -> None:
    with store.db.write() as session:
        (row,) = outbox.channels_named(session, [channel])
        assert outbox.enqueue(session, dedup_key=dedup_key, channel=row,
                              group_key=str(payload["groupKey"]), kind="firing", alert_ids=[1],
                              payload=payload, not_before=at)


def set_outbox(store: Store, **settings: float) -> None:
    """[outbox] settings in the store's watchkeeper.toml."""
    lines = ["[outbox]", *(f"{key} = {value}" for key, value in settings.items())]
    (store.location.root / "watchkeeper.toml").write_text("\n".join(lines) + "\n")


def senders_at_once(store: Store, policy: Any, count: int = 2, now: datetime = T0) -> list[list[Any]]:
    """`count` outbox senders (monitoring.outbox_sender.run_once) started together on
    threads; what each delivered."""
    import threading

    from monitoring.outbox_sender import run_once

    results: list[list[Any]] = [[] for _ in range(count)]
    senders = [threading.Thread(target=lambda out: out.extend(run_once(store, now, policy=policy)),
                                args=(results[n],)) for n in range(count)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=30)
    return results
