"""What a person does with alerts, the same from the CLI and the console: add, edit and
remove rules (validated against the store: an unknown model, version, feature, job or
channel is refused naming the field), acknowledge (with a note and an expiry), unack,
resolve by hand, silence and end a silence. Each action writes its AuditEvent with the
note, and an AlertEvent on the alert, in the same transaction; a hand resolve queues
its resolve notification there too. Views (lists, one alert) are alerts_view.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from monitoring.alert_rules import MODEL_KINDS, PARAM_DEFAULTS
from store import alerts as alert_store
from store import audit
from store.access import authorize
from store.alert_tables import AlertRule, Channel, Silence
from store.errors import Conflict, InvalidInput, Listing, NotFound, UsageError, see
from store.names import check_name
from store.roles import Permission
from store.types import utcnow
from store.vocabulary import (
    ALERT_OPEN_STATES,
    AlertEventKind,
    AlertKind,
    AlertState,
    AuditAction,
    Severity,
)

if TYPE_CHECKING:
    from sqlmodel import Session

    from store.handle import Store

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
#: the rule settings `edit_rule` may change
EDITABLE = ("params", "severity", "channels", "for_n", "of_m", "clear_n", "repeat_s", "enabled",
            "feature", "version")


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    """An audit row's JSON: times as ISO text."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def rule_dict(rule: AlertRule) -> dict[str, Any]:
    return {"id": rule.id, "name": rule.name, "kind": rule.kind, "model_id": rule.model_id,
            "version": rule.version, "feature": rule.feature, "job_id": rule.job_id,
            "params": rule.params or {}, "severity": rule.severity,
            "channels": list(rule.channels or []), "for_n": rule.for_n, "of_m": rule.of_m,
            "clear_n": rule.clear_n, "repeat_s": rule.repeat_s, "enabled": rule.enabled,
            "revision": rule.revision}


def _check_params(kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
    known = PARAM_DEFAULTS[kind]
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key not in known:
            names = ", ".join(sorted(known)) or "none"
            raise InvalidInput(f"a {kind} rule has no setting {key!r}; its settings: {names}",
                               field="params", example=f"{next(iter(known), 'bound')}="
                                                       f"{next(iter(known.values()), 1)}")
        default = known[key]
        if isinstance(default, bool):
            out[key] = value if isinstance(value, bool) else str(value).lower() in (
                "1", "true", "yes")
        elif isinstance(default, int | float):
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise InvalidInput(f"the {kind} rule's {key} must be a number, not {value!r}",
                                   field="params", example=f"{key}={default}") from None
            if number < 0:
                raise InvalidInput(f"the {kind} rule's {key} must not be negative",
                                   field="params", example=f"{key}={default}")
            out[key] = int(number) if isinstance(default, int) else number
        else:
            if key == "scope" and value not in ("features", "input"):
                raise InvalidInput(f"a drift rule's scope is 'features' or 'input', not {value!r}",
                                   field="params", example="scope=input")
            out[key] = str(value)
    return out


def _resolve_target(session: Session, kind: str, model: str | None, version: int | None,
                    feature: str | None, job: str | None) -> dict[str, Any]:
    from store import jobs as job_store
    from store import models as model_store
    from store import versions as version_store

    out: dict[str, Any] = {"model_id": None, "version": None, "feature": None, "job_id": None}
    if kind in MODEL_KINDS:
        if not model:
            raise InvalidInput(f"a {kind} rule is about a model: name it", field="model",
                               example="credit-default", see=see(Listing.MODELS))
        row = model_store.get_model(session, model)
        out["model_id"] = row.id
        if version is not None:
            version_store.get_version(session, row, version)
            out["version"] = version
        if feature is not None:
            if kind != AlertKind.DRIFT:
                raise InvalidInput(f"only drift rules watch one feature, not {kind} rules",
                                   field="feature")
            names = {c.get("name") for v in version_store.list_versions(session, row.id or 0)
                     for c in (v.signature or {}).get("columns", [])}
            if names and feature not in names and feature != "prediction":
                raise InvalidInput(f"model {model!r} has no feature {feature!r}; its features: "
                                   f"{', '.join(sorted(n for n in names if n))}", field="feature",
                                   example=sorted(n for n in names if n)[0])
            out["feature"] = feature
    elif model or feature or version is not None:
        raise InvalidInput(f"a {kind} rule is store-wide: it takes no model, version or feature",
                           field="model")
    if job is not None:
        if kind not in (AlertKind.JOB_FAILED, AlertKind.PROBE, AlertKind.SERVER_MEMORY,
                        AlertKind.SERVER_CPU):
            raise InvalidInput(f"a {kind} rule watches no job", field="job")
        out["job_id"] = job_store.get_job(session, job).id
    return out


def _check_channels(session: Session, names: Sequence[str]) -> list[str]:
    from sqlmodel import select

    known = {c.name for c in session.exec(select(Channel))}
    for name in names:
        if name not in known:
            listing = ", ".join(sorted(known)) or "none yet"
            raise NotFound(f"no alert channel {name!r} (the channels: {listing})",
                           field="channels", example=next(iter(sorted(known)), "oncall-webhook"))
    return list(dict.fromkeys(names))


def _check_damping(for_n: int, of_m: int, clear_n: int, repeat_s: int) -> None:
    if not 1 <= for_n <= of_m <= 100:
        raise InvalidInput(f"damping fires on N of the last M evaluations with 1 <= N <= M <= 100, "
                           f"not {for_n} of {of_m}", field="for_n", example="3")
    if not 1 <= clear_n <= 100:
        raise InvalidInput(f"clear_n must be 1 to 100, not {clear_n}", field="clear_n", example="3")
    if repeat_s < 60:
        raise InvalidInput(f"the repeat interval must be at least 60 s, not {repeat_s}",
                           field="repeat_s", example="4h")


def add_rule(store: Store, *, name: str, kind: str, model: str | None = None,
             version: int | None = None, feature: str | None = None, job: str | None = None,
             params: Mapping[str, Any] | None = None, severity: str = Severity.WARNING,
             channels: Sequence[str] = (), for_n: int = 1, of_m: int = 1, clear_n: int = 1,
             repeat_s: int = 4 * 3600, enabled: bool = True, reason: str = "",
             actor: str | None = None) -> dict[str, Any]:
    check_name(name, what="rule name", example="credit-drift", max_len=80)
    if kind not in set(AlertKind):
        raise InvalidInput(f"no alert kind {kind!r}; the kinds: {', '.join(AlertKind)}",
                           field="kind", example="drift")
    if severity not in set(Severity):
        raise InvalidInput(f"no severity {severity!r}; use {', '.join(Severity)}",
                           field="severity", example="critical")
    _check_damping(for_n, of_m, clear_n, repeat_s)
    actor = authorize(store, actor, Permission.RULES, model=model)
    with store.db.write() as session:
        if alert_store.find_rule(session, name) is not None:
            raise Conflict(f"an alert rule named {name!r} exists already", field="name")
        target = _resolve_target(session, kind, model, version, feature, job)
        rule = alert_store.add_rule(session, AlertRule(
            name=name, kind=kind, params=_check_params(kind, params or {}), severity=severity,
            channels=_check_channels(session, channels), for_n=for_n, of_m=of_m,
            clear_n=clear_n, repeat_s=repeat_s, enabled=enabled, created_by=actor,
            updated_by=actor, **target))
        out = rule_dict(rule)
        audit.record(session, actor=actor, action=AuditAction.RULE_ADD,
                     target=f"alert_rule/{name}", after=_plain(out), reason=reason)
    return out


def edit_rule(store: Store, name: str, changes: Mapping[str, Any], *,
              reason: str = "", actor: str | None = None) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidInput(f"a rule's {unknown[0]} cannot be changed; remove the rule and add it "
                           f"again (changeable: {', '.join(EDITABLE)})", field=unknown[0])
    actor = authorize(store, actor, Permission.RULES)
    with store.db.write() as session:
        rule = alert_store.get_rule(session, name)
        before = rule_dict(rule)
        if "params" in changes:
            rule.params = {**(rule.params or {}), **_check_params(rule.kind, changes["params"])}
        if "channels" in changes:
            rule.channels = _check_channels(session, changes["channels"])
        if "severity" in changes:
            if changes["severity"] not in set(Severity):
                raise InvalidInput(f"no severity {changes['severity']!r}", field="severity",
                                   example="critical")
            rule.severity = changes["severity"]
        if "feature" in changes or "version" in changes:
            model = None
            if rule.model_id is not None:
                from store.models import model_name
                model = model_name(session, rule.model_id)
            target = _resolve_target(session, rule.kind, model,
                                     changes.get("version", rule.version),
                                     changes.get("feature", rule.feature), None)
            rule.version, rule.feature = target["version"], target["feature"]
        for key in ("for_n", "of_m", "clear_n", "repeat_s", "enabled"):
            if key in changes and changes[key] is not None:
                setattr(rule, key, changes[key])
        _check_damping(rule.for_n, rule.of_m, rule.clear_n, rule.repeat_s)
        rule.revision += 1
        rule.updated_at, rule.updated_by = utcnow(), actor
        session.add(rule)
        after = rule_dict(rule)
        audit.record(session, actor=actor, action=AuditAction.RULE_EDIT,
                     target=f"alert_rule/{name}", before=_plain(before), after=_plain(after), reason=reason)
    return after


def remove_rule(store: Store, name: str, *, reason: str = "", actor: str | None = None) -> dict[str, Any]:
    actor = authorize(store, actor, Permission.RULES)
    with store.db.write() as session:
        rule = alert_store.get_rule(session, name)
        before = rule_dict(rule)
        alert_store.remove_rule(session, rule)
        audit.record(session, actor=actor, action=AuditAction.RULE_REMOVE,
                     target=f"alert_rule/{name}", before=_plain(before), reason=reason)
    return before


# --- acting on alerts ----------------------------------------------------------------------


def _open(session: Session, alert_id: int, doing: str) -> Any:
    alert = alert_store.get_alert(session, alert_id)
    if alert.state not in ALERT_OPEN_STATES:
        raise Conflict(f"alert {alert_id} is resolved: nothing to {doing}")
    return alert


def _needs_note(note: str, doing: str, field: str = "note") -> str:
    if not note.strip():
        raise InvalidInput(f"say why you {doing} (a note is kept with the alert and in the "
                           "audit log)", field=field, example='"on it, rolling back"')
    return note.strip()


def ack(store: Store, alert_id: int, note: str, *, until: datetime | None = None,
        for_s: int | None = None, now: datetime | None = None, actor: str | None = None) -> dict[str, Any]:
    """Acknowledge: no repeats until `until` (or now + for_s; neither: until it resolves).
    Past it, a still-firing alert notifies again and fires (the pass does it)."""
    note = _needs_note(note, "acknowledge it")
    now = now or utcnow()
    if until is None and for_s is not None:
        until = now + timedelta(seconds=for_s)
    if until is not None and until <= now:
        raise InvalidInput("an acknowledgement's expiry must be in the future", field="until",
                           example="2h")
    actor = authorize(store, actor, Permission.RESPOND)
    with store.db.write() as session:
        alert = _open(session, alert_id, "acknowledge")
        if alert.state == AlertState.PENDING:
            raise Conflict(f"alert {alert_id} is pending: it has not fired yet")
        before = {"state": alert.state, "ack_until": alert.ack_until}
        alert.state, alert.ack_by, alert.ack_note, alert.ack_until = (
            AlertState.ACKNOWLEDGED, actor, note, until)
        alert.next_notify_at = until
        alert.updated_at = now
        alert_store.add_event(session, alert_id, AlertEventKind.ACKNOWLEDGED, at=now, actor=actor,
                              note=note, details={"until": until.isoformat() if until else None})
        audit.record(session, actor=actor, action=AuditAction.ALERT_ACK,
                     target=f"alert/{alert_id}", before=_plain(before),
                     after=_plain({"state": alert.state, "ack_until": until}), reason=note)
        return _short(alert)


def unack(store: Store, alert_id: int, note: str = "", *,
          now: datetime | None = None, actor: str | None = None) -> dict[str, Any]:
    now = now or utcnow()
    actor = authorize(store, actor, Permission.RESPOND)
    with store.db.write() as session:
        alert = _open(session, alert_id, "unacknowledge")
        if alert.state != AlertState.ACKNOWLEDGED:
            raise Conflict(f"alert {alert_id} is {alert.state}, not acknowledged")
        alert.state, alert.ack_until, alert.updated_at = AlertState.FIRING, None, now
        alert.next_notify_at = now
        alert_store.add_event(session, alert_id, AlertEventKind.UNACKNOWLEDGED, at=now,
                              actor=actor, note=note)
        audit.record(session, actor=actor, action=AuditAction.ALERT_UNACK,
                     target=f"alert/{alert_id}", before=_plain({"state": AlertState.ACKNOWLEDGED}),
                     after=_plain({"state": alert.state}), reason=note)
        return _short(alert)


def resolve(store: Store, alert_id: int, note: str, *,
            now: datetime | None = None, actor: str | None = None) -> dict[str, Any]:
    """Resolve by hand. The resolve goes to every channel that got the firing (and the
    rule's current ones); if the condition still holds, the next pass opens a new alert."""
    from monitoring.alert_pass import queue_one

    note = _needs_note(note, "resolve it by hand")
    now = now or utcnow()
    actor = authorize(store, actor, Permission.RESPOND)
    with store.db.write() as session:
        alert = _open(session, alert_id, "resolve")
        before = {"state": alert.state}
        notified = list(alert.notified_channels or [])
        rule = session.get(AlertRule, alert.rule_id) if alert.rule_id else None
        alert.state, alert.resolved_at, alert.resolved_by = AlertState.RESOLVED, now, actor
        alert.next_notify_at, alert.updated_at = None, now
        alert_store.add_event(session, alert_id, AlertEventKind.RESOLVED, at=now, actor=actor,
                              note=note)
        alert_store.detach_state(session, alert_id)
        if notified:
            channels = list(dict.fromkeys([*notified, *((rule.channels or []) if rule else [])]))
            queue_one(session, alert, "resolved", channels, f"{alert_id}:resolved", now)
        audit.record(session, actor=actor, action=AuditAction.ALERT_RESOLVE,
                     target=f"alert/{alert_id}", before=_plain(before), after=_plain({"state": alert.state}),
                     reason=note)
        return _short(alert)


def _short(alert: Any) -> dict[str, Any]:
    return {"id": alert.id, "rule": alert.rule_name, "state": alert.state,
            "ack_by": alert.ack_by, "ack_until": alert.ack_until,
            "next_notify_at": alert.next_notify_at, "resolved_at": alert.resolved_at}


# --- silences ------------------------------------------------------------------------------


def add_silence(store: Store, matchers: Mapping[str, str], *, comment: str,
                starts: datetime | None = None, ends: datetime | None = None,
                duration_s: int | None = None, now: datetime | None = None, actor: str | None = None) -> dict[str, Any]:
    """Silence alerts whose labels match every matcher, from `starts` (default now) to
    `ends` (or starts + duration_s)."""
    from monitoring.alert_policy import matches

    if not matchers:
        raise InvalidInput("a silence needs at least one matcher (label=value)",
                           field="matchers", example="model=credit-default")
    comment = _needs_note(comment, "silence it", "comment")
    now = now or utcnow()
    starts = starts or now
    if ends is None and duration_s is not None:
        ends = starts + timedelta(seconds=duration_s)
    if ends is None:
        raise UsageError("a silence needs an end: a time, or a duration", field="ends",
                         example="2h")
    if ends <= starts or ends <= now:
        raise InvalidInput("a silence must end after it starts, and in the future",
                           field="ends", example="2h")
    actor = authorize(store, actor, Permission.RESPOND)
    with store.db.write() as session:
        silence = alert_store.add_silence(session, Silence(
            matchers={str(k): str(v) for k, v in matchers.items()}, starts_at=starts,
            ends_at=ends, created_at=now, created_by=actor, comment=comment))
        matched = sum(1 for a in alert_store.alerts_with_labels(session)
                      if matches(silence.matchers, a.labels or {}))
        out = {"id": silence.id, "matchers": silence.matchers, "starts_at": starts,
               "ends_at": ends, "comment": comment, "matched": matched}
        audit.record(session, actor=actor, action=AuditAction.SILENCE_ADD,
                     target=f"silence/{silence.id}", after=_plain(out), reason=comment)
    return out


def end_silence(store: Store, silence_id: int, note: str = "", *,
                now: datetime | None = None, actor: str | None = None) -> dict[str, Any]:
    now = now or utcnow()
    actor = authorize(store, actor, Permission.RESPOND)
    with store.db.write() as session:
        silence = alert_store.get_silence(session, silence_id)
        if silence.ended_at is not None or silence.ends_at <= now:
            raise Conflict(f"silence {silence_id} has ended already")
        silence.ended_at, silence.ended_by = now, actor
        session.add(silence)
        audit.record(session, actor=actor, action=AuditAction.SILENCE_END,
                     target=f"silence/{silence_id}", before=_plain({"ends_at": silence.ends_at}),
                     after=_plain({"ended_at": now}), reason=note)
        return {"id": silence_id, "ended_at": now, "ended_by": actor}
