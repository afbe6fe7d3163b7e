"""Alerts as the CLI and the console show them (plain dicts): the list in on-call order
(firing, acknowledged, silenced, pending, resolved), one alert with its events,
notifications and their attempts and its next notification time, the open counts per
model and severity (the console's header and Overview), the rules with their targets'
states (insufficient data shown), and the silences with what they match.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitoring.alert_policy import matches
from store import alerts as alert_store
from store.types import utcnow
from store.vocabulary import ALERT_OPEN_STATES, AlertState

if TYPE_CHECKING:
    from store.alert_tables import Alert
    from store.handle import Store

#: the on-call order of the list
STATE_ORDER = (AlertState.FIRING, AlertState.ACKNOWLEDGED, AlertState.SILENCED,
               AlertState.PENDING, AlertState.RESOLVED)


def alert_dict(alert: Alert, models: dict[int, str]) -> dict[str, Any]:
    return {"id": alert.id, "state": alert.state, "severity": alert.severity,
            "rule": alert.rule_name, "kind": alert.kind,
            "model": models.get(alert.model_id or 0), "version": alert.version,
            "feature": alert.feature, "labels": alert.labels or {}, "value": alert.value,
            "reason": alert.reason, "fingerprint": alert.fingerprint,
            "group_key": alert.group_key, "started_at": alert.started_at,
            "fired_at": alert.fired_at, "resolved_at": alert.resolved_at,
            "resolved_by": alert.resolved_by, "ack_by": alert.ack_by, "ack_note": alert.ack_note,
            "ack_until": alert.ack_until, "silence_id": alert.silence_id,
            "last_notified_at": alert.last_notified_at, "next_notify_at": alert.next_notify_at,
            "notified_channels": list(alert.notified_channels or []),
            "updated_at": alert.updated_at}


def _models(session: Any) -> dict[int, str]:
    from store.models import list_models

    return {m.id: m.name for m in list_models(session) if m.id is not None}


def list_alerts(store: Store, *, state: str | None = None, model: str | None = None,
                since: datetime | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Open alerts and (with `since`, or state resolved) resolved ones, in on-call order,
    newest first within a state. Without `state` or `since`: the open ones."""
    from store.models import get_model

    with store.db.read() as session:
        model_id = get_model(session, model).id if model else None
        states = [state] if state else (None if since else list(ALERT_OPEN_STATES))
        rows = alert_store.list_alerts(session, states=states, model_id=model_id, since=since,
                                       limit=limit)
        models = _models(session)
        out = [alert_dict(a, models) for a in rows]
    order = {s: i for i, s in enumerate(STATE_ORDER)}
    return sorted(out, key=lambda a: (order.get(a["state"], 9), -(a["id"] or 0)))


def show_alert(store: Store, alert_id: int) -> dict[str, Any]:
    """One alert: its fields, events, notifications (with every attempt)."""
    with store.db.read() as session:
        alert = alert_store.get_alert(session, alert_id)
        out = alert_dict(alert, _models(session))
        out["annotations"] = alert.annotations or {}
        out["events"] = [{"at": e.at, "event": e.event, "actor": e.actor, "note": e.note,
                          "details": e.details or {}}
                         for e in alert_store.alert_events(session, alert_id)]
        out["notifications"] = [
            {"id": n.id, "channel": n.channel_name, "kind": n.kind, "status": n.status,
             "attempts": n.attempts, "created_at": n.created_at, "delivered_at": n.delivered_at,
             "next_attempt_at": n.next_attempt_at, "last_error": n.last_error,
             "dedup_key": n.dedup_key, "alerts": len(n.alert_ids or []),
             "tries": [{"at": a.at, "attempt": a.attempt, "outcome": a.outcome,
                        "status_code": a.status_code, "duration_ms": a.duration_ms,
                        "error": a.error} for a in attempts]}
            for n, attempts in alert_store.alert_notifications(session, alert)]
    return out


def open_alert_counts(store: Store) -> dict[str, Any]:
    """Open alerts per model and severity, and the totals, for headers and overviews:
    {"total": n, "firing": n, "by_severity": {...}, "models": {name: {"critical": n, ...}},
    "store": {...}} (store-wide alerts under "store")."""
    with store.db.read() as session:
        rows = alert_store.open_counts(session)
        models = _models(session)
    out: dict[str, Any] = {"total": 0, "firing": 0, "by_severity": {}, "models": {}, "store": {}}
    for model_id, severity, state, count in rows:
        out["total"] += count
        if state == AlertState.FIRING:
            out["firing"] += count
        out["by_severity"][severity] = out["by_severity"].get(severity, 0) + count
        place = out["models"].setdefault(models[model_id], {}) if model_id in models else out["store"]
        place[severity] = place.get(severity, 0) + count
    return out


def list_rules(store: Store) -> list[dict[str, Any]]:
    """Every rule with its targets' last evaluations: how many hold, clear or have
    insufficient data, the newest reason, and its open alerts."""
    from monitoring.alert_service import rule_dict

    with store.db.read() as session:
        rules = alert_store.list_rules(session)
        states = alert_store.rule_states(session)
        models = _models(session)
        job_names = _job_names(session)
    out = []
    for rule in rules:
        mine = [s for (rid, _), s in states.items() if rid == rule.id]
        counts = {c: sum(1 for s in mine if s.condition == c)
                  for c in ("holds", "clear", "insufficient")}
        newest = max(mine, key=lambda s: (s.evaluated_at is not None, s.evaluated_at),
                     default=None)
        row = rule_dict(rule)
        row.update(model=models.get(rule.model_id or 0), job=job_names.get(rule.job_id or 0),
                   targets=len(mine), conditions=counts,
                   open_alerts=sum(1 for s in mine if s.alert_id is not None),
                   evaluated_at=newest.evaluated_at if newest else None,
                   last_reason=newest.reason if newest else "",
                   state=("insufficient data" if mine and counts["insufficient"] == len(mine)
                          else "holds" if counts["holds"] else "clear" if mine
                          else "not evaluated yet"))
        row["target_states"] = [{"labels": s.labels or {}, "condition": s.condition,
                                 "recent": s.recent, "value": s.value, "reason": s.reason,
                                 "alert_id": s.alert_id, "evaluated_at": s.evaluated_at}
                                for s in mine]
        out.append(row)
    return out


def _job_names(session: Any) -> dict[int, str]:
    from store.jobs import list_jobs

    return {j.id: j.name for j in list_jobs(session) if j.id is not None}


def list_silences(store: Store, *, include_ended: bool = False,
                  now: datetime | None = None) -> list[dict[str, Any]]:
    """Silences in force or to come (all with include_ended), with the open alerts each
    matches; one matching none says so ("matches nothing")."""
    now = now or utcnow()
    with store.db.read() as session:
        silences = alert_store.list_silences(session, include_ended=include_ended, now=now)
        alerts = alert_store.alerts_with_labels(session)
    out = []
    for s in silences:
        matched = [a.id for a in alerts if matches(s.matchers, a.labels or {})]
        state = ("ended" if s.ended_at is not None or s.ends_at <= now
                 else "active" if s.starts_at <= now else "pending")
        out.append({"id": s.id, "matchers": s.matchers or {}, "starts_at": s.starts_at,
                    "ends_at": s.ends_at, "state": state, "created_by": s.created_by,
                    "comment": s.comment, "ended_at": s.ended_at, "ended_by": s.ended_by,
                    "end_warned_at": s.end_warned_at, "matched": len(matched),
                    "matched_alerts": matched,
                    "matches": f"{len(matched)} open alert(s)" if matched else "matches nothing"})
    return out
