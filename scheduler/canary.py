"""Promotion policy auto: a retrained version that passed its gate goes to a canary share
of the model's traffic for the model's canary period (registry.promotion.canary_settings),
watched by a CanaryWatch row. `decide_watches`, run by the scheduler daemon every few
seconds, ends each watch:

- an alert on that version (its `version`, or a `version` label naming it) firing or
  acknowledged, fired within the period: rolled back at once (challenger out, single on
  production), the alert the reason; the alert is annotated with the rollback;
- the period over with no such alert: promoted (the production alias moves to it, single);
- the deployment changed by hand meanwhile (another challenger, another mode): cancelled,
  with a note of what it is now; nothing is moved.

Each start and decision is one write transaction with its audit event (canary.start,
canary.promote, canary.rollback); a promote or rollback queues its notification to the
channels of the model's alert rules in that transaction (scheduler/canary_notice.py).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from registry import views
from registry.promotion import canary_settings
from scheduler.canary_notice import queue_notice
from serving.traffic import deployments
from store import audit
from store import canary as canary_q
from store import deployments as deployments_q
from store import models as model_store
from store.access import authorize
from store.alert_tables import Alert, AlertEvent, CanaryWatch
from store.errors import StoreUnavailable, WatchkeeperError
from store.markers import no_permission_check, self_recording
from store.roles import Permission
from store.rows import id_of
from store.types import utcnow
from store.vocabulary import AlertEventKind, AuditAction, CanaryWatchStatus, Mode

if TYPE_CHECKING:
    from sqlmodel import Session

    from store.handle import Store
    from store.tables import RegisteredModel

log = logging.getLogger(__name__)

#: who the audit log names for a decision the daemon took
DECIDER = "scheduler:canary"


@dataclass(frozen=True)
class CanaryDecision:
    """How a watch ended."""

    watch_id: int
    model: str
    version: int
    status: str  # promoted | rolled_back | cancelled
    note: str
    alert_id: int | None = None
    channels: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "channels": list(self.channels)}


def watch_view(watch: CanaryWatch, model: str, now: datetime | None = None) -> dict[str, Any]:
    """A watch as `wk models canary --json` and `wk deploy show` give it."""
    now = now or utcnow()
    open_ = watch.status == CanaryWatchStatus.WATCHING
    return {"id": watch.id, "model": model, "version": watch.version, "share": watch.share,
            "status": watch.status, "started_at": views.iso(watch.started_at),
            "ends_at": views.iso(watch.ends_at),
            "ends_in_s": max(0, round((watch.ends_at - now).total_seconds())) if open_ else None,
            "decided_at": views.iso(watch.decided_at), "alert_id": watch.alert_id,
            "job_run_id": watch.job_run_id, "note": watch.note}


def start_canary(store: Store, name: str, version: int, *, reason: str,
                 actor: str | None = None, job_run_id: int | None = None,
                 now: datetime | None = None) -> dict[str, Any]:
    """Put `version` on the model's canary share for its canary period: the deployment
    becomes mode canary with it as challenger, a watch row is written, audited as
    canary.start. A watch still open for the model is cancelled (superseded)."""
    actor = authorize(store, actor, Permission.DEPLOY, model=name)
    now = now or utcnow()
    with store.db.write() as session:
        model = model_store.get_model(session, name)
        share, period_s = canary_settings(model)
        older = [w for w in [canary_q.open_watch_of(session, id_of(model))] if w is not None]
        canary_q.close_watches(session, older, status=CanaryWatchStatus.CANCELLED, at=now,
                               note=f"superseded by the canary of v{version}")
        change = deployments.set_deployment_in(session, model, mode=Mode.CANARY,
                                               challenger=version, share=share, reason=reason,
                                               actor=actor)
        row = deployments_q.find_deployment(session, id_of(model))
        assert row is not None and row.challenger_version_id is not None
        watch = canary_q.add_watch(session, CanaryWatch(
            model_id=id_of(model), version_id=row.challenger_version_id, version=version,
            share=share, started_at=now, ends_at=now + timedelta(seconds=period_s),
            job_run_id=job_run_id))
        view = watch_view(watch, name, now)
        audit.record(session, actor=actor, action=AuditAction.CANARY_START,
                     target=audit.target(name, version),
                     before={"deployment": change.before},
                     after={"watch": watch.id, "share": share, "period_s": period_s,
                            "ends_at": view["ends_at"],
                            "superseded": [w.id for w in older]},
                     reason=reason)
        return {**view, "period_s": period_s, "champion": change.deployment["champion"]}


@no_permission_check("the daemon carries out promotion policy auto, which an operator set "
                     "on the model; each decision is audited as canary.promote or canary.rollback")
def decide_watches(store: Store, now: datetime | None = None, *,
                   actor: str = DECIDER) -> list[CanaryDecision]:
    """End every open watch whose outcome is known by `now`; cheap (one indexed query)
    when no watch is open. Returns the decisions taken."""
    now = now or utcnow()
    with store.db.read() as session:
        due = [id_of(w) for w in canary_q.open_watches(session) if _decidable(session, w, now)]
    decisions = []
    for watch_id in due:
        try:
            decision = _decide_one(store, watch_id, now, actor)
        except StoreUnavailable:
            raise
        except WatchkeeperError as exc:  # e.g. the version was archived meanwhile
            decision = _give_up(store, watch_id, now, exc.message)
        if decision is not None:
            log.info("canary of %s v%s %s: %s", decision.model, decision.version,
                     decision.status, decision.note)
            decisions.append(decision)
    return decisions


def _decide_one(store: Store, watch_id: int, now: datetime,
                actor: str) -> CanaryDecision | None:
    with store.db.write() as session:
        watch = session.get(CanaryWatch, watch_id)
        if watch is None or watch.status != CanaryWatchStatus.WATCHING:
            return None  # another decider got there first
        return _decide(session, watch, now, actor)


@self_recording("the cancelled watch row records that the decision could not be carried out, and why")
def _give_up(store: Store, watch_id: int, now: datetime, why: str) -> CanaryDecision | None:
    """A decision that could not be carried out: the watch is cancelled with the reason,
    so the loop does not try it again every few seconds; nothing else moves."""
    with store.db.write() as session:
        watch = session.get(CanaryWatch, watch_id)
        if watch is None or watch.status != CanaryWatchStatus.WATCHING:
            return None
        model = model_store.models_by_ids(session, [watch.model_id])[watch.model_id]
        log.error("canary of %s v%s could not be decided: %s", model.name, watch.version, why)
        return _close(session, watch, model, now, CanaryWatchStatus.CANCELLED,
                      f"could not be decided: {why}")


def _alert(session: Session, watch: CanaryWatch, now: datetime) -> Alert | None:
    return canary_q.alert_on_version(session, watch.model_id, watch.version, watch.started_at,
                                     min(now, watch.ends_at))


def _decidable(session: Session, watch: CanaryWatch, now: datetime) -> bool:
    return now >= watch.ends_at or _alert(session, watch, now) is not None or \
        _changed_by_hand(session, watch) is not None


def _changed_by_hand(session: Session, watch: CanaryWatch) -> str | None:
    """What the deployment is now, if it is no longer this watch's canary."""
    dep = deployments_q.find_deployment(session, watch.model_id)
    if dep is not None and dep.mode == Mode.CANARY and dep.challenger_version_id == watch.version_id:
        return None
    if dep is None or dep.challenger_version_id is None:
        return f"the deployment was changed by hand to {dep.mode if dep else Mode.SINGLE} " \
               "without a challenger"
    return f"the deployment was changed by hand to {dep.mode} with challenger version id " \
           f"{dep.challenger_version_id}"


def _decide(session: Session, watch: CanaryWatch, now: datetime,
            actor: str) -> CanaryDecision | None:
    model = model_store.models_by_ids(session, [watch.model_id])[watch.model_id]
    by_hand = _changed_by_hand(session, watch)
    if by_hand is not None:
        return _close(session, watch, model, now, CanaryWatchStatus.CANCELLED, by_hand)
    alert = _alert(session, watch, now)
    if alert is not None:
        return _roll_back(session, watch, model, alert, now, actor)
    if now >= watch.ends_at:
        return _promote(session, watch, model, now, actor)
    return None


def _close(session: Session, watch: CanaryWatch, model: RegisteredModel, now: datetime,
           status: str, note: str, alert_id: int | None = None) -> CanaryDecision:
    watch.status, watch.decided_at, watch.note, watch.alert_id = status, now, note, alert_id
    session.add(watch)
    return CanaryDecision(id_of(watch), model.name, watch.version, status, note, alert_id)


def _roll_back(session: Session, watch: CanaryWatch, model: RegisteredModel, alert: Alert,
               now: datetime, actor: str) -> CanaryDecision:
    alert_id = id_of(alert)
    reason = (f"alert {alert_id} ({alert.rule_name}) fired on v{watch.version} during its "
              f"canary" + (f": {alert.reason}" if alert.reason else ""))
    dep = deployments_q.find_deployment(session, watch.model_id)
    assert dep is not None
    change = deployments.challenger_out_in(session, model, dep, reason=reason, actor=actor)
    decision = _close(session, watch, model, now, CanaryWatchStatus.ROLLED_BACK, reason, alert_id)
    audit.record(session, actor=actor, action=AuditAction.CANARY_ROLLBACK,
                 target=audit.target(model.name, watch.version),
                 before={"watch": watch.id, "deployment": change.before},
                 after={"status": watch.status, "alert_id": alert_id, "rule": alert.rule_name,
                        "champion": change.deployment["champion"]}, reason=reason)
    session.add(AlertEvent(alert_id=alert_id, at=now, event=AlertEventKind.ANNOTATED,
                           actor=actor,
                           note=f"the canary of {model.name} v{watch.version} was rolled back "
                                f"because of this alert (watch {watch.id})",
                           details={"action": str(AuditAction.CANARY_ROLLBACK),
                                    "watch_id": watch.id, "version": watch.version}))
    channels = queue_notice(session, watch, model.name, summary=f"{model.name} v{watch.version} "
                            f"rolled back from its canary: {reason}", at=now, alert_id=alert_id)
    return CanaryDecision(**{**asdict(decision), "channels": tuple(channels)})


def _promote(session: Session, watch: CanaryWatch, model: RegisteredModel, now: datetime,
             actor: str) -> CanaryDecision:
    period = round((watch.ends_at - watch.started_at).total_seconds())
    reason = (f"no alert fired on v{watch.version} in its {period} s canary at "
              f"{watch.share:.0%}")
    dep = deployments_q.find_deployment(session, watch.model_id)
    assert dep is not None
    change = deployments.promote_in(session, model, dep, reason=reason, actor=actor)
    decision = _close(session, watch, model, now, CanaryWatchStatus.PROMOTED, reason)
    move = change.alias_move
    audit.record(session, actor=actor, action=AuditAction.CANARY_PROMOTE,
                 target=audit.target(model.name, watch.version),
                 before={"watch": watch.id, "production": move.from_version if move else None},
                 after={"status": watch.status, "production": watch.version}, reason=reason)
    channels = queue_notice(session, watch, model.name, summary=f"{model.name} v{watch.version} "
                            f"is production: {reason}", at=now)
    return CanaryDecision(**{**asdict(decision), "channels": tuple(channels)})


def open_watch(store: Store, name: str, now: datetime | None = None) -> dict[str, Any] | None:
    """The model's open watch, if any (what `wk deploy show` mentions)."""
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        watch = canary_q.open_watch_of(session, id_of(model))
        return watch_view(watch, name, now) if watch is not None else None


def list_watches(store: Store, name: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """The model's watches with their outcomes, newest first."""
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        return [watch_view(w, name, now) for w in canary_q.watches_of(session, id_of(model))]
