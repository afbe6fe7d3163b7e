"""Canary watches of promotion policy auto, and what deciding them reads: the open
watches (one indexed query, so the scheduler's loop is cheap when none is open), the
alerts that fired on a watched version, and the channels of a model's alert rules.

Functions take an open Session; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from store.alert_tables import Alert, AlertRule, CanaryWatch
from store.vocabulary import AlertState, CanaryWatchStatus

#: the alert states that roll a watched version back (it fired; a person may have it)
ROLLBACK_STATES = (AlertState.FIRING, AlertState.ACKNOWLEDGED)


def open_watches(session: Session) -> list[CanaryWatch]:
    """Every watch still watching, the soonest to end first (ix_canary_watch_status)."""
    stmt = (select(CanaryWatch).where(col(CanaryWatch.status) == CanaryWatchStatus.WATCHING)
            .order_by(col(CanaryWatch.ends_at), col(CanaryWatch.id)))
    return list(session.exec(stmt).all())


def open_watch_of(session: Session, model_id: int) -> CanaryWatch | None:
    """The model's watch still watching, if any (the newest, should there be more)."""
    stmt = (select(CanaryWatch).where(col(CanaryWatch.model_id) == model_id,
                                      col(CanaryWatch.status) == CanaryWatchStatus.WATCHING)
            .order_by(col(CanaryWatch.id).desc()))
    return session.exec(stmt).first()


def watches_of(session: Session, model_id: int, limit: int = 50) -> list[CanaryWatch]:
    """The model's watches, newest first."""
    stmt = (select(CanaryWatch).where(col(CanaryWatch.model_id) == model_id)
            .order_by(col(CanaryWatch.id).desc()).limit(limit))
    return list(session.exec(stmt).all())


def _names_version(alert: Alert, version: int) -> bool:
    if alert.version == version:
        return True
    named = (alert.labels or {}).get("version")
    return named is not None and str(named).removeprefix("v") == str(version)


def alert_on_version(session: Session, model_id: int, version: int, since: datetime,
                     until: datetime) -> Alert | None:
    """The first alert on this model and version (its `version`, or a `version` label
    naming it) that fired between `since` and `until` and is firing or acknowledged."""
    stmt = (select(Alert).where(col(Alert.model_id) == model_id,
                                col(Alert.state).in_(list(ROLLBACK_STATES)),
                                col(Alert.fired_at).is_not(None),
                                col(Alert.fired_at) >= since, col(Alert.fired_at) <= until)
            .order_by(col(Alert.fired_at), col(Alert.id)))
    return next((a for a in session.exec(stmt).all() if _names_version(a, version)), None)


def rule_channels(session: Session, model_id: int) -> list[str]:
    """The channel names of the model's alert rules, each once, in the rules' order."""
    stmt = (select(AlertRule.channels).where(col(AlertRule.model_id) == model_id)
            .order_by(col(AlertRule.id)))
    names: list[str] = []
    for channels in session.exec(stmt).all():
        for name in channels or ():
            if name not in names:
                names.append(name)
    return names


def add_watch(session: Session, watch: CanaryWatch) -> CanaryWatch:
    session.add(watch)
    session.flush()
    return watch


def close_watches(session: Session, watches: Sequence[CanaryWatch], *, status: str,
                  at: datetime, note: str) -> None:
    """Decide watches without an alert (superseded by a newer canary, changed by hand)."""
    for watch in watches:
        watch.status, watch.decided_at, watch.note = status, at, note
        session.add(watch)
