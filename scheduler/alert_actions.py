"""Acting from an alert: what it is about, the actions that fit it, and doing one.

`alert_subject` says what to open for an alert: for drift the drift report that made it
fire and the feature with its reason; for quality and performance the newest report; for
latency, error rate and traffic the model's charts; for a failed job its run; for model
age the version and its lineage. `actions_for` lists what fits: roll the deployment back
(the challenger out, else production back a version), pause a job, or retrain (a run now
of the model's retrain job). `act` does one through the same service as the CLI and the
console (serving.traffic.deployments.rollback, scheduler.jobs_service), so it is audited
as it always is, then annotates the alert in one transaction of its own: an `annotated`
alert event, the action appended to the alert's `annotations["actions"]`, and an
alert.action audit event. The services open their own write transactions, so the
annotation comes right after the action, never before it: an action that fails leaves
the alert as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from store.access import authorize
from store.errors import InvalidInput, Listing, Refused, UsageError, see
from store.roles import Permission
from store.vocabulary import AlertKind, JobKind

if TYPE_CHECKING:
    from store.handle import Store

ROLLBACK, PAUSE_JOB, RETRAIN = "rollback", "pause-job", "retrain"
ACTIONS = (ROLLBACK, PAUSE_JOB, RETRAIN)
#: kinds whose subject is the model's traffic charts (the rollups)
CHART_KINDS = frozenset({AlertKind.LATENCY, AlertKind.ERROR_RATE, AlertKind.TRAFFIC})
REPORT_KINDS = {AlertKind.QUALITY: "quality", AlertKind.PERFORMANCE: "performance",
                AlertKind.PERFORMANCE_ESTIMATED: "performance"}
#: kinds where a bad release is the likely cause: rolling back fits
ROLLBACK_KINDS = frozenset({AlertKind.DRIFT, AlertKind.QUALITY, AlertKind.PERFORMANCE,
                            AlertKind.PERFORMANCE_ESTIMATED, *CHART_KINDS})
#: kinds where new data is the likely cure: retraining fits
RETRAIN_KINDS = frozenset({AlertKind.DRIFT, AlertKind.PERFORMANCE,
                           AlertKind.PERFORMANCE_ESTIMATED, AlertKind.MODEL_AGE})


@dataclass(frozen=True)
class Action:
    """One fitting action: its name (rollback, pause-job, retrain), what it acts on (a
    model or a job) and one line saying what it does."""

    name: str
    target: str
    does: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def actions_for(alert: Mapping[str, Any], *, retrain_job: str | None = None) -> list[Action]:
    """The actions that fit an alert (as alerts_view.show_alert gives it), most fitting
    first; `retrain_job` is the model's retrain job, if it has one."""
    kind, model = alert["kind"], alert.get("model")
    job = (alert.get("labels") or {}).get("job")
    out: list[Action] = []
    if model and kind in ROLLBACK_KINDS:
        out.append(Action(ROLLBACK, model, f"roll {model} back: the challenger out, else "
                                           "production back to the version before"))
    if job and kind == AlertKind.JOB_FAILED:
        out.append(Action(PAUSE_JOB, job, f"pause job {job}: no new runs until it is resumed"))
    if model and retrain_job and kind in RETRAIN_KINDS:
        out.append(Action(RETRAIN, retrain_job, f"run {retrain_job} now (retrain {model})"))
    return out


def _before(report: Mapping[str, Any], moment: datetime | None) -> bool:
    if moment is None:
        return True
    made = report.get("created_at")
    if not isinstance(made, str):
        return True
    return datetime.fromisoformat(made.replace("Z", "+00:00")) <= moment


def _drift_subject(store: Store, alert: Mapping[str, Any]) -> dict[str, Any]:
    """The drift report that made the alert fire (the newest made before it fired), and
    the feature: the alert's own, else the report's most drifted one."""
    from monitoring import reading

    rows = reading.reports(store, alert["model"], "drift", limit=50)
    fired = alert.get("fired_at") or alert.get("started_at")
    chosen = next((r for r in rows if _before(r, fired)), rows[0] if rows else None)
    if chosen is None:
        return {"kind": "drift", "report": None, "version": alert.get("version"),
                "feature": alert.get("feature"), "reason": alert.get("reason") or ""}
    report = reading.report(store, "drift", chosen["id"])
    features = report["feature_rows"]  # by severity: the most drifted first
    feature = alert.get("feature") or (features[0]["feature"] if features else None)
    row = next((f for f in features if f["feature"] == feature), None)
    version = report["version"] or alert.get("version") or _production(store, alert["model"])
    return {"kind": "drift", "report": report["id"], "version": version,
            "feature": feature, "status": row["status"] if row else None,
            "reason": (row or {}).get("reason") or report.get("reason") or "",
            "window_start": report.get("window_start"), "window_end": report.get("window_end")}


def _report_subject(store: Store, alert: Mapping[str, Any], kind: str) -> dict[str, Any]:
    from monitoring import reading

    newest = reading.reports(store, alert["model"], kind, limit=1)
    report = newest[0] if newest else None
    return {"kind": kind, "report": report["id"] if report else None,
            "version": report["version"] if report else alert.get("version"),
            "status": report["status"] if report else None,
            "reason": (report or {}).get("reason") or alert.get("reason") or ""}


def _job_subject(store: Store, alert: Mapping[str, Any]) -> dict[str, Any]:
    from store import jobs as job_rows

    job = (alert.get("labels") or {}).get("job")
    with store.db.read() as session:
        runs = job_rows.list_runs(session, job_name=job, limit=1) if job else []
        run = runs[0] if runs else None
        return {"kind": "job-run", "job": job, "run": run.id if run else None,
                "status": run.status if run else None,
                "reason": (run.error if run else "") or alert.get("reason") or ""}


def _production(store: Store, model: str) -> int | None:
    from registry.models import show_model

    version = show_model(store, model)["aliases"].get("production")
    return int(version) if version is not None else None


def _version_subject(store: Store, alert: Mapping[str, Any]) -> dict[str, Any]:
    version = alert.get("version") or _production(store, alert["model"])
    return {"kind": "version", "version": version, "reason": alert.get("reason") or ""}


def _retrain_job(store: Store, model: str | None) -> str | None:
    """The model's retrain job (the first by name), if it has one."""
    if not model:
        return None
    from store import jobs as job_rows
    from store import models as model_store

    with store.db.read() as session:
        found = model_store.find_model(session, model)
        if found is None:
            return None
        names = sorted(j.name for j in job_rows.list_jobs(session)
                       if j.kind == JobKind.RETRAIN and j.model_id == found.id)
    return names[0] if names else None


def alert_subject(store: Store, alert_id: int) -> dict[str, Any]:
    """What an alert is about and what fits doing: {"alert": the alert (as show_alert
    gives it), "subject": {"kind": drift | quality | performance | charts | job-run |
    version | store, ...the ids to open}, "actions": [Action dicts]}."""
    from monitoring.alerts_view import show_alert

    alert = show_alert(store, alert_id)
    kind, model = alert["kind"], alert["model"]
    subject: dict[str, Any]
    if kind == AlertKind.DRIFT and model:
        subject = _drift_subject(store, alert)
    elif kind in REPORT_KINDS and model:
        subject = _report_subject(store, alert, REPORT_KINDS[AlertKind(kind)])
    elif kind in CHART_KINDS and model:
        subject = {"kind": "charts", "version": alert.get("version"),
                   "chart": "performance" if kind == AlertKind.LATENCY else "predictions",
                   "reason": alert.get("reason") or ""}
    elif kind == AlertKind.JOB_FAILED:
        subject = _job_subject(store, alert)
    elif kind == AlertKind.MODEL_AGE and model:
        subject = _version_subject(store, alert)
    else:
        subject = {"kind": "store", "reason": alert.get("reason") or ""}
    subject["model"] = model
    actions = actions_for(alert, retrain_job=_retrain_job(store, model))
    return {"alert": alert, "subject": subject, "actions": [a.as_dict() for a in actions]}


def _check(action: str, reason: str) -> str:
    if action not in ACTIONS:
        raise InvalidInput(f"unknown action {action!r}: one of {', '.join(ACTIONS)}",
                           field="action", example=ROLLBACK)
    if not reason.strip():  # a usage error, as a rollback's missing reason is everywhere
        raise UsageError(f"acting on an alert ({action}) needs a reason: it is kept with the "
                           "alert and in the audit log", field="reason",
                           example='"drift on income since 03:10, back to v1"')
    return reason.strip()


def _perform(store: Store, action: Action, reason: str, actor: str) -> dict[str, Any]:
    if action.name == ROLLBACK:
        from serving.traffic import deployments

        return deployments.rollback(store, action.target, reason=reason, actor=actor).as_dict()
    from scheduler import jobs_service

    if action.name == PAUSE_JOB:
        return jobs_service.set_paused(store, action.target, True, reason=reason, actor=actor)
    return jobs_service.run_now(store, action.target, reason=reason, actor=actor)


def _plain(value: Any) -> Any:
    """JSON-safe: times as ISO text, enums as their value."""
    import json

    return json.loads(json.dumps(value, default=str))


def act(store: Store, alert_id: int, action: str, *, reason: str,
        actor: str | None = None) -> dict[str, Any]:
    """Do `action` (rollback, pause-job, retrain) for an alert, through the service that
    does it anyway (audited as ever), then annotate the alert with what was done and why
    (an `annotated` event, annotations["actions"], an alert.action audit event)."""
    from store import alerts as alert_store
    from store import audit
    from store.types import utcnow
    from store.vocabulary import AlertEventKind, AuditAction

    reason = _check(action, reason)
    actor = authorize(store, actor, Permission.RESPOND)
    about = alert_subject(store, alert_id)
    fitting = {a["name"]: Action(**a) for a in about["actions"]}
    if action not in fitting:
        offered = ", ".join(fitting) or "none"
        raise Refused(f"{action} does not fit alert {alert_id} ({about['alert']['kind']}"
                      f"{' on ' + about['alert']['model'] if about['alert']['model'] else ''}); "
                      f"the actions that fit it: {offered}",
                      see=see(Listing.JOBS) if action != ROLLBACK else None)
    chosen = fitting[action]
    result = _plain(_perform(store, chosen, f"alert #{alert_id}: {reason}", actor))
    now = utcnow()
    done = {"action": action, "target": chosen.target, "reason": reason, "actor": actor,
            "at": now.isoformat(), "result": result}
    with store.db.write() as session:
        alert = alert_store.get_alert(session, alert_id)
        annotations = dict(alert.annotations or {})
        annotations["actions"] = [*annotations.get("actions", []), done]
        alert.annotations = annotations
        alert.updated_at = now
        session.add(alert)
        alert_store.add_event(session, alert_id, AlertEventKind.ANNOTATED, at=now, actor=actor,
                              note=reason, details={"action": action, "target": chosen.target,
                                                    "result": result})
        audit.record(session, actor=actor, action=AuditAction.ALERT_ACTION,
                     target=f"alert/{alert_id}", after={"action": action,
                                                        "target": chosen.target},
                     reason=reason)
    return {"alert": alert_id, **done}
