"""The SQL of alerting: rules, their per-target state, alerts with their events, and
silences. Functions take an open Session; the caller owns the transaction, so a state
change, its events, its audit row and its outbox rows (store/outbox.py) commit together.

The reads the evaluation pass needs (reports, rollups, runs, probes for every rule at
once) are store/alert_queries.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from store.alert_tables import (
    Alert,
    AlertEvent,
    AlertRule,
    AlertRuleState,
    Notification,
    NotificationAttempt,
    Silence,
)
from store.errors import NotFound
from store.vocabulary import ALERT_OPEN_STATES, AlertState

# --- rules ---------------------------------------------------------------------------------


def find_rule(session: Session, name: str) -> AlertRule | None:
    return session.exec(select(AlertRule).where(AlertRule.name == name)).first()


def get_rule(session: Session, name: str) -> AlertRule:
    rule = find_rule(session, name)
    if rule is None:
        names = [r.name for r in list_rules(session)][:8]
        raise NotFound(f"no alert rule {name!r}" + (f"; the rules: {', '.join(names)}" if names
                                                     else "; no rule exists yet"))
    return rule


def list_rules(session: Session, *, enabled_only: bool = False,
               name: str | None = None) -> Sequence[AlertRule]:
    query = select(AlertRule)
    if enabled_only:
        query = query.where(col(AlertRule.enabled))
    if name is not None:
        query = query.where(AlertRule.name == name)
    return session.exec(query.order_by(col(AlertRule.name))).all()


def add_rule(session: Session, rule: AlertRule) -> AlertRule:
    session.add(rule)
    session.flush()
    return rule


def remove_rule(session: Session, rule: AlertRule) -> None:
    """Delete a rule and its target states; its alerts stay (rule_id set to NULL)."""
    states = session.exec(select(AlertRuleState).where(AlertRuleState.rule_id == rule.id)).all()
    for state in states:
        session.delete(state)
    session.execute(update(Alert).where(col(Alert.rule_id) == rule.id).values(rule_id=None))
    session.delete(rule)
    session.flush()


# --- rule states (the damping windows) -------------------------------------------------------


def rule_states(session: Session, rule_ids: Sequence[int] | None = None
                ) -> dict[tuple[int, str], AlertRuleState]:
    """The target states of the rules, by (rule id, fingerprint)."""
    query = select(AlertRuleState)
    if rule_ids is not None:
        query = query.where(col(AlertRuleState.rule_id).in_(list(rule_ids)))
    return {(s.rule_id, s.fingerprint): s for s in session.exec(query)}


def state_windows(session: Session, rule_ids: Sequence[int] | None = None
                  ) -> dict[tuple[int, str], tuple[int, str]]:
    """(state id, damping window) by (rule id, fingerprint): what a pass needs, read
    without ORM objects (a pass over 2,000 rules reads thousands of them)."""
    table: Any = AlertRuleState.__table__  # type: ignore[attr-defined]
    stmt = select(table.c.id, table.c.rule_id, table.c.fingerprint, table.c.recent)
    if rule_ids is not None:
        stmt = stmt.where(table.c.rule_id.in_(list(rule_ids)))
    return {(r, fp): (i, recent) for i, r, fp, recent in session.execute(stmt).all()}


def save_states(session: Session, new: list[dict[str, Any]], changed: list[dict[str, Any]]) -> None:
    """Insert new target states and update changed ones (by id), each batch one
    executemany (Core: ORM bulk updates cost several times more per row)."""
    from sqlalchemy import bindparam

    table: Any = AlertRuleState.__table__  # type: ignore[attr-defined]
    if new:
        session.connection().execute(table.insert(), new)
    if changed:
        columns = [k for k in changed[0] if k not in ("id", "labels")]
        stmt = (table.update().where(table.c.id == bindparam("state_id"))
                .values({k: bindparam(k) for k in columns}))
        session.connection().execute(stmt, [{"state_id": row["id"],
                                             **{k: row[k] for k in columns}} for row in changed])


# --- alerts and their events -----------------------------------------------------------------


def open_alerts(session: Session, rule_ids: Sequence[int] | None = None) -> dict[str, Alert]:
    """The open (unresolved) alerts, by fingerprint (one each: uq_alert_open)."""
    query = select(Alert).where(col(Alert.state).in_(ALERT_OPEN_STATES))
    if rule_ids is not None:
        query = query.where(col(Alert.rule_id).in_(list(rule_ids)))
    return {a.fingerprint: a for a in session.exec(query)}


def new_alert(session: Session, alert: Alert) -> Alert:
    session.add(alert)
    session.flush()
    return alert


def add_event(session: Session, alert_id: int, event: str, *, at: datetime, actor: str = "",
              note: str = "", details: dict[str, Any] | None = None) -> None:
    session.add(AlertEvent(alert_id=alert_id, event=event, at=at, actor=actor, note=note,
                           details=details))


def get_alert(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        newest = session.exec(select(func.max(Alert.id))).one()
        raise NotFound(f"no alert {alert_id}" + (f" (the newest is {newest})" if newest
                                                 else " (no alert yet)"))
    return alert


def list_alerts(session: Session, *, states: Sequence[str] | None = None,
                model_id: int | None = None, since: datetime | None = None,
                limit: int = 200) -> Sequence[Alert]:
    """Alerts newest first (the view orders them by state)."""
    query = select(Alert)
    if states:
        query = query.where(col(Alert.state).in_(list(states)))
    if model_id is not None:
        query = query.where(Alert.model_id == model_id)
    if since is not None:
        query = query.where(col(Alert.updated_at) >= since)
    return session.exec(query.order_by(col(Alert.id).desc()).limit(limit)).all()


def alert_events(session: Session, alert_id: int) -> Sequence[AlertEvent]:
    return session.exec(select(AlertEvent).where(AlertEvent.alert_id == alert_id)
                        .order_by(col(AlertEvent.at), col(AlertEvent.id))).all()


def alert_notifications(session: Session, alert: Alert
                        ) -> list[tuple[Notification, Sequence[NotificationAttempt]]]:
    """The outbox rows that carried the alert (its group's rows naming its id), oldest
    first, each with its delivery attempts."""
    rows = [n for n in session.exec(select(Notification).where(
        Notification.group_key == alert.group_key).order_by(col(Notification.id)))
        if alert.id in (n.alert_ids or [])]
    if not rows:
        return []
    attempts: dict[int, list[NotificationAttempt]] = {}
    for a in session.exec(select(NotificationAttempt).where(
            col(NotificationAttempt.notification_id).in_([n.id for n in rows]))
            .order_by(col(NotificationAttempt.at))):
        attempts.setdefault(a.notification_id, []).append(a)
    return [(n, attempts.get(n.id or 0, [])) for n in rows]


def open_counts(session: Session) -> list[tuple[int | None, str, str, int]]:
    """(model id, severity, state, count) of the open alerts."""
    stmt = (select(col(Alert.model_id), col(Alert.severity), col(Alert.state), func.count())
            .where(col(Alert.state).in_(ALERT_OPEN_STATES))
            .group_by(col(Alert.model_id), col(Alert.severity), col(Alert.state)))
    return [(m, s, st, int(n)) for m, s, st, n in session.execute(stmt).all()]


# --- silences --------------------------------------------------------------------------------


def add_silence(session: Session, silence: Silence) -> Silence:
    session.add(silence)
    session.flush()
    return silence


def get_silence(session: Session, silence_id: int) -> Silence:
    row = session.get(Silence, silence_id)
    if row is None:
        raise NotFound(f"no silence {silence_id}")
    return row


def active_silences(session: Session, now: datetime) -> Sequence[Silence]:
    """Silences in force at `now` (started, not ended, not ended early)."""
    return session.exec(select(Silence).where(
        col(Silence.starts_at) <= now, col(Silence.ends_at) > now,
        col(Silence.ended_at).is_(None))).all()


def list_silences(session: Session, *, include_ended: bool = False,
                  now: datetime | None = None) -> Sequence[Silence]:
    query = select(Silence)
    if not include_ended and now is not None:
        query = query.where(col(Silence.ends_at) > now, col(Silence.ended_at).is_(None))
    return session.exec(query.order_by(col(Silence.id).desc())).all()


def alerts_with_labels(session: Session, states: Sequence[str] = ALERT_OPEN_STATES
                       ) -> Sequence[Alert]:
    """Open alerts, for matching silences against their labels."""
    return session.exec(select(Alert).where(col(Alert.state).in_(list(states)))).all()


def open_alerts_of_silence(session: Session, silence_id: int) -> Sequence[Alert]:
    return session.exec(select(Alert).where(Alert.silence_id == silence_id,
                                            col(Alert.state) == AlertState.SILENCED)).all()


def detach_state(session: Session, alert_id: int) -> None:
    """The target no longer has this alert open (resolved by hand)."""
    session.execute(update(AlertRuleState).where(col(AlertRuleState.alert_id) == alert_id)
                    .values(alert_id=None))
