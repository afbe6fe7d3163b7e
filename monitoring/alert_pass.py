"""One evaluation pass over the enabled alert rules (or one rule) at a time `now`: each
target's verdict, its damping step, the alert's change by the notification policy, and
the outbox rows, all in ONE write transaction, so a change and its notifications commit
or vanish together (a pass re-run after a crash finds the change made, or not at all).

Grouping: every change of one pass for one group (a model; store-wide rules group by
kind) and one channel goes into one message (Alertmanager v4 with several alerts).
Silences about to end are warned once (`silence-ending`), SILENCE_WARN_S before.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from monitoring.alert_message import MessageAlert, build_message
from monitoring.alert_policy import AlertNow, Plan, group_kind, matches, plan
from monitoring.alert_rules import Verdict
from monitoring.alert_targets import Target, evaluate_rule
from monitoring.damping import Damping, Step, decide
from store import alerts as alert_store
from store import outbox
from store.alert_queries import AlertInputs
from store.alert_tables import Alert, AlertRule, Silence
from store.markers import self_recording
from store.types import utcnow
from store.vocabulary import AlertEventKind, AlertState, Condition

if TYPE_CHECKING:
    from sqlmodel import Session

    from store.handle import Store

log = logging.getLogger(__name__)
#: a silence's end is warned this long before (a rule's params cannot change it: it is
#: the silence's, so the pass's `silence_warn_s` argument sets it)
SILENCE_WARN_S = 600


@dataclass
class PassSummary:
    at: datetime
    rules: int = 0
    targets: int = 0
    insufficient: int = 0
    transitions: dict[str, int] = field(default_factory=dict)
    notifications: int = 0
    duration_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at, "rules": self.rules, "targets": self.targets,
                "insufficient": self.insufficient, "transitions": dict(self.transitions),
                "notifications": self.notifications, "duration_s": round(self.duration_s, 3)}

    def line(self) -> str:
        moved = ", ".join(f"{n} {k}" for k, n in sorted(self.transitions.items())) or "no change"
        return (f"{self.rules} rules, {self.targets} targets ({self.insufficient} insufficient): "
                f"{moved}; {self.notifications} notifications queued in {self.duration_s:.2f} s")


@dataclass
class _Out:
    """What goes to one channel for one group in this pass."""

    alerts: list[tuple[Alert, str, str]] = field(default_factory=list)  # alert, kind, dedup


def _group_labels(labels: dict[str, Any]) -> dict[str, str]:
    return {"model": str(labels["model"])} if labels.get("model") else {
        "kind": str(labels.get("kind", ""))}


def message_alert(alert: Alert, kind: str) -> MessageAlert:
    annotations = {"summary": f"{alert.rule_name}: {alert.reason}"[:500],
                   "state": str(alert.state), "alert_id": str(alert.id)}
    if alert.value is not None:
        annotations["value"] = f"{alert.value:.6g}"
    if kind == "silence-ending":
        annotations["silence"] = f"silence {alert.silence_id} ends soon"
    return MessageAlert(status="resolved" if kind == "resolved" else "firing",
                        labels={k: str(v) for k, v in (alert.labels or {}).items()},
                        annotations=annotations, starts_at=alert.fired_at or alert.started_at,
                        ends_at=alert.resolved_at, fingerprint=alert.fingerprint)


class _Pass:
    def __init__(self, session: Session, store: Store, now: datetime, rules: list[AlertRule],
                 every_rule: bool):
        self.session, self.store, self.now, self.rules = session, store, now, rules
        ids = None if every_rule else [r.id for r in rules if r.id is not None]
        self.states = alert_store.state_windows(session, ids)
        self.open = alert_store.open_alerts(session, ids)
        self.open_by_rule: dict[int | None, list[Alert]] = {}
        for alert in self.open.values():
            self.open_by_rule.setdefault(alert.rule_id, []).append(alert)
        self.silences = list(alert_store.active_silences(session, now))
        self.out: dict[tuple[str, str, str], _Out] = {}
        self.new_states: list[dict[str, Any]] = []
        self.changed_states: list[dict[str, Any]] = []
        self.summary = PassSummary(at=now, rules=len(rules))

    def silence_for(self, labels: dict[str, Any]) -> Silence | None:
        return next((s for s in self.silences if matches(s.matchers, labels)), None)

    def apply(self, rule: AlertRule, target: Target, verdict: Verdict) -> None:
        fp = target.fingerprint
        self.summary.targets += 1
        if verdict.condition == Condition.INSUFFICIENT:
            self.summary.insufficient += 1
        state = self.states.get((rule.id or 0, fp))
        alert = self.open.get(fp)
        opened = None if alert is None else (
            "pending" if alert.state == AlertState.PENDING else str(alert.state))
        decision = decide(state[1] if state else "", verdict.condition,
                          Damping(rule.for_n, rule.of_m, rule.clear_n), open_alert=opened)
        silence = self.silence_for(target.labels)
        now = self.now
        if alert is None and decision.step in (Step.PENDING, Step.FIRES):
            alert = alert_store.new_alert(self.session, Alert(
                rule_id=rule.id, rule_name=rule.name, kind=rule.kind, fingerprint=fp,
                group_key=target.group_key, model_id=target.model_id, version=target.version,
                feature=target.feature, severity=rule.severity, labels=target.labels,
                annotations={}, state=AlertState.PENDING, value=verdict.value,
                reason=verdict.reason, started_at=now, updated_at=now))
            current = None
        else:
            current = None if alert is None else AlertNow(
                id=alert.id or 0, state=alert.state,
                notified_channels=tuple(alert.notified_channels or ()),
                next_notify_at=alert.next_notify_at, ack_until=alert.ack_until)
        if alert is not None:
            if decision.step != Step.INSUFFICIENT:
                alert.value, alert.reason = verdict.value, verdict.reason
            self._change(rule, alert, plan(current, decision.step, silenced=silence is not None,
                                           channels=rule.channels or [], repeat_s=rule.repeat_s,
                                           now=now, new_id=alert.id or 0), silence)
        row = {"recent": decision.recent, "condition": str(verdict.condition),
               "value": verdict.value, "reason": verdict.reason, "evaluated_at": now,
               "labels": target.labels,
               "alert_id": None if alert is None or alert.state == AlertState.RESOLVED
               else alert.id}
        if state is None:
            self.new_states.append({"rule_id": rule.id, "fingerprint": fp, **row})
        else:
            self.changed_states.append({"id": state[0], **row})

    def _change(self, rule: AlertRule, alert: Alert, p: Plan, silence: Silence | None) -> None:
        now = self.now
        assert alert.id is not None
        for event in p.events:
            alert_store.add_event(self.session, alert.id, event, at=now,
                                  details={"reason": alert.reason, "value": alert.value,
                                           **({"silence_id": silence.id} if silence and
                                              event == AlertEventKind.SILENCED else {})})
            self.summary.transitions[event] = self.summary.transitions.get(event, 0) + 1
        if p.state is not None and p.state != alert.state:
            alert.state = p.state
            alert.updated_at = now
        if p.state == AlertState.FIRING and alert.fired_at is None:
            alert.fired_at = now
        if p.state == AlertState.RESOLVED:
            alert.resolved_at = now
            alert.next_notify_at = None
        else:
            alert.next_notify_at = p.next_notify_at
        alert.silence_id = silence.id if p.state == AlertState.SILENCED and silence else (
            None if p.state != AlertState.SILENCED else alert.silence_id)
        alert.notified_channels = list(p.notified_channels)
        if p.clear_ack:
            alert.ack_until = None
        if p.send is not None:
            alert.last_notified_at = now
            for channel in p.send.channels:
                self.out.setdefault((alert.group_key, channel, "change"), _Out()).alerts.append(
                    (alert, p.send.kind, p.send.dedup))

    def warn_silences(self, rules_by_id: dict[int, AlertRule], warn_s: int) -> None:
        soon = self.now + timedelta(seconds=warn_s)
        ending = [s for s in self.silences if s.end_warned_at is None and s.ends_at <= soon]
        if not ending:
            return
        alerts = alert_store.alerts_with_labels(self.session)
        for silence in ending:
            silence.end_warned_at = self.now
            for alert in alerts:
                if not matches(silence.matchers, alert.labels or {}):
                    continue
                rule = rules_by_id.get(alert.rule_id or 0)
                for channel in (rule.channels or []) if rule else []:
                    self.out.setdefault((alert.group_key, channel, "silence"), _Out()).alerts.append(
                        (alert, "silence-ending", f"silence:{silence.id}:ending:{alert.id}"))

    def queue(self) -> None:
        names = sorted({channel for _, channel, _ in self.out})
        channels = {c.name: c for c in outbox.channels_named(self.session, names)}
        for (gkey, name, _family), out in sorted(self.out.items()):
            channel = channels.get(name)
            if channel is None:
                log.warning("alert channel %r is gone or disabled: nothing sent to it", name)
                continue
            kinds = [kind for _, kind, _ in out.alerts]
            first = out.alerts[0][0]
            message = build_message([message_alert(a, kind) for a, kind, _ in out.alerts],
                                    group_key_text=gkey,
                                    group_labels=_group_labels(first.labels or {}),
                                    receiver=name)
            digest = hashlib.sha256("\n".join(sorted(d for _, _, d in out.alerts)).encode())
            dedup_key = f"{gkey}|{name}|{digest.hexdigest()[:24]}"
            ids = [a.id for a, _, _ in out.alerts if a.id is not None]
            if outbox.enqueue(self.session, dedup_key=dedup_key, channel=channel, group_key=gkey,
                              kind=group_kind(kinds), alert_ids=ids, payload=message):
                self.summary.notifications += 1
                for alert_id in ids:
                    alert_store.add_event(self.session, alert_id, AlertEventKind.NOTIFIED,
                                          at=self.now, details={"channel": name,
                                                                "kind": group_kind(kinds),
                                                                "dedup_key": dedup_key})

    def vanished(self, rule: AlertRule, seen: set[str]) -> None:
        """An open alert whose target the rule no longer has (a feature gone from the
        reports, a removed job, a version no longer served): evaluated as clear."""
        for alert in list(self.open_by_rule.get(rule.id, [])):
            if alert.fingerprint in seen:
                continue
            labels = dict(alert.labels or {})
            target = Target(labels, _group_labels(labels), model_id=alert.model_id,
                            version=alert.version, feature=alert.feature)
            self.apply(rule, target, Verdict(Condition.CLEAR, None,
                                             "the target is no longer evaluated by its rule"))


def queue_one(session: Session, alert: Alert, kind: str, channels: list[str], dedup: str,
              now: datetime) -> int:
    """Queue one alert's message (a hand resolve) to each channel; returns rows queued."""
    out = 0
    for channel in outbox.channels_named(session, channels):
        message = build_message([message_alert(alert, kind)], group_key_text=alert.group_key,
                                group_labels=_group_labels(alert.labels or {}),
                                receiver=channel.name)
        dedup_key = f"{alert.group_key}|{channel.name}|{dedup}"
        if outbox.enqueue(session, dedup_key=dedup_key, channel=channel,
                          group_key=alert.group_key, kind=kind, alert_ids=[alert.id or 0],
                          payload=message):
            out += 1
            alert_store.add_event(session, alert.id or 0, AlertEventKind.NOTIFIED, at=now,
                                  details={"channel": channel.name, "kind": kind,
                                           "dedup_key": dedup_key})
    return out


def disk_usage_of(store: Store) -> tuple[int | None, int | None]:
    try:
        usage = shutil.disk_usage(store.location.root)
    except OSError:
        return None, None
    return int(usage.free), int(usage.total)


@self_recording("alert state changes are alert_event rows (rule, time, values); the pass is the system evaluating rules an admin set")
def evaluate(store: Store, *, now: datetime | None = None, rule: str | None = None,
             silence_warn_s: int = SILENCE_WARN_S) -> PassSummary:
    """One pass over the enabled rules (or the one named, enabled or not)."""
    started = time.perf_counter()
    now = now or utcnow()
    with store.db.write() as session:
        if rule is not None:
            rules = [alert_store.get_rule(session, rule)]
        else:
            rules = list(alert_store.list_rules(session, enabled_only=True))
        run = _Pass(session, store, now, rules, every_rule=rule is None)
        data = AlertInputs(session, now)
        for one in rules:
            seen: set[str] = set()
            for target, verdict in evaluate_rule(one, data, now, lambda: disk_usage_of(store)):
                if target.fingerprint in seen:
                    continue
                seen.add(target.fingerprint)
                run.apply(one, target, verdict)
            run.vanished(one, seen)
        everyone = rules if rule is None else list(alert_store.list_rules(session))
        run.warn_silences({r.id: r for r in everyone if r.id is not None}, silence_warn_s)
        run.queue()
        alert_store.save_states(session, run.new_states, run.changed_states)
    run.summary.duration_s = time.perf_counter() - started
    log.info("alert pass: %s", run.summary.line())
    return run.summary

