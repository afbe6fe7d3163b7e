"""Alerts and the outbox on PostgreSQL (WK_DATABASE_URL): a rule fires, is acknowledged
and resolved through the CLI (one open alert per fingerprint: the partial unique index),
the outbox's queue insert ignores a repeated dedup key (ON CONFLICT DO NOTHING), and two
senders at once claim with FOR UPDATE SKIP LOCKED so each row is POSTed once."""

from __future__ import annotations

import pytest
from alert_outbox_store import T0, add_channel, message, queue, senders_at_once
from notify_listeners import webhook_listener
from postgres_server import unavailable_reason, use_new_database

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def test_an_alert_fires_is_sent_acknowledged_and_resolved_on_postgresql(
        wk, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlalchemy.exc

    from store.alert_tables import Alert
    from store.handle import open_store

    use_new_database(pg_url, "wk_alerts", monkeypatch)
    assert wk("init").code == 0
    with webhook_listener() as hook:
        assert wk("alerts", "channels", "add", "hook", "--kind", "webhook", "--url",
                  hook.url("/am")).code == 0
        # a disk that is never this free: the condition holds at every evaluation
        added = wk("alerts", "rules", "add", "full", "--kind", "disk", "--set",
                   "min_free_share=0.99999", "--channel", "hook", "--for", "1", "--of", "1")
        assert added.code == 0, added.err
        assert wk("alerts", "evaluate").code == 0
        (alert,) = wk("alerts", "list", "--json").json()
        assert (alert["state"], alert["rule"]) == ("firing", "full"), alert
        sent = wk("alerts", "send", "--once", "--json").json()
        assert [s["outcome"] for s in sent] == ["delivered"]
        assert wk("alerts", "evaluate").code == 0  # still firing: the same alert, no second
        assert [a["id"] for a in wk("alerts", "list", "--json").json()] == [alert["id"]]
        acked = wk("alerts", "ack", str(alert["id"]), "--note", "looking")
        assert acked.code == 0, acked.err
        store = open_store(None)
        try:  # the partial unique index: a second open alert of one fingerprint is refused
            with store.db.read() as session:
                row = session.get(Alert, alert["id"])
                assert row is not None
                twin = Alert(**{k: v for k, v in row.model_dump().items() if k != "id"})
            with pytest.raises(sqlalchemy.exc.IntegrityError), store.db.write() as session:
                session.add(twin)
        finally:
            store.close()
        resolved = wk("alerts", "resolve", str(alert["id"]), "--note", "disk freed")
        assert resolved.code == 0, resolved.err
        assert wk("alerts", "send", "--once", "--json").json()[0]["outcome"] == "delivered"
        statuses = [r.body["status"] for r in hook.delivered()]
    assert statuses == ["firing", "resolved"]
    shown = wk("alerts", "show", str(alert["id"]), "--json").json()
    assert shown["state"] == "resolved"


def test_two_senders_on_postgresql_never_deliver_the_same_row(pg_url: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from store import outbox
    from store.handle import init_store
    from store.outbox_settings import DeliveryPolicy

    use_new_database(pg_url, "wk_outbox", monkeypatch)
    store, _ = init_store(None)
    policy = DeliveryPolicy(backoff_s=5, max_backoff_s=40, max_attempts=6, lease_s=30)
    try:
        with webhook_listener(delay_s=0.02) as hook:
            add_channel(store, "hook", "webhook", url=hook.url())
            for i in range(12):
                queue(store, "hook", f"k-{i}", message("credit", f"f{i}"))
            with store.db.write() as session:  # the same key again: not queued twice
                (channel,) = outbox.channels_named(session, ["hook"])
                payload = message("credit", "f0")
                assert not outbox.enqueue(session, dedup_key="k-0", channel=channel,
                                          group_key=str(payload["groupKey"]), kind="firing",
                                          alert_ids=[1], payload=payload, not_before=T0)
            results = senders_at_once(store, policy)
            keys = sorted(r.dedup_key for r in hook.received)
    finally:
        store.close()
    assert keys == sorted(f"k-{i}" for i in range(12))  # each POSTed once, none twice
    assert len(results[0]) + len(results[1]) == 12
