"""The Alerts screen's changes: acknowledge (a note and an expiry), silence (matchers
from the alert, a duration, a comment), resolve by hand (a note), and the actions that fit
an alert (roll back, pause its job, retrain), each shown exactly and confirmed with a
reason in the one confirmation every dangerous action uses, then done by the same
service as `wk alerts ...` (monitoring.alert_service, scheduler.alert_actions), which
writes the audit event and annotates the alert."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.permissions import ALERT_ACTION_IDS
from console.screens.alias_actions import confirm_after_preview
from console.widgets.confirm_modal import ConfirmModal

if TYPE_CHECKING:
    from console.screens.base import WkScreen

#: the labels a silence from an alert matches on (its rule and target; never severity)
SILENCE_LABELS = ("alertname", "model", "version", "feature", "job")


def _span_problem(text: str) -> str | None:
    from console.cli.common import parse_span
    from store.errors import WatchkeeperError

    try:
        parse_span(text, "")
    except WatchkeeperError:
        return f"{text!r} is not a length of time; use 30m, 2h or 1d"
    return None


def _seconds(text: str) -> int:
    from console.cli.common import parse_span

    return int(parse_span(text, "").total_seconds())


def matchers_of(alert: dict[str, Any]) -> dict[str, str]:
    labels = alert.get("labels") or {}
    return {key: str(labels[key]) for key in SILENCE_LABELS if labels.get(key)}


def _run(screen: WkScreen, modal: ConfirmModal, what: str, call: Any) -> None:
    """Open `modal`; on confirm run `call(store, field, reason)` in a worker."""

    def done(result: dict[str, str] | None) -> None:
        if result is not None:
            screen.run_service_action(what, call, result.get("alias", ""), result["reason"])

    screen.app.push_screen(modal, done)


def start_ack(screen: WkScreen, alert: dict[str, Any]) -> None:
    from monitoring.alert_service import ack

    if not screen.allowed("acknowledge", "ack_alert"):
        return
    alert_id = alert["id"]

    def describe(span: str) -> str:
        until = f"until {span} from now" if span else "until it resolves"
        return f"alert #{alert_id} {alert['rule']}: {alert['state']} -> acknowledged ({until})"

    def call(store: Any, span: str, note: str) -> Any:
        return ack(store, alert_id, note, for_s=_seconds(span) if span else None)

    modal = ConfirmModal(f"Acknowledge alert #{alert_id}", describe, action="acknowledge",
                         alias="1h", field_label="expires after (30m, 2h; empty: when it resolves)",
                         check=lambda span: _span_problem(span) if span else None)
    _run(screen, modal, "acknowledge", call)


def start_silence(screen: WkScreen, alert: dict[str, Any]) -> None:
    from monitoring.alert_service import add_silence

    if not screen.allowed("silence", "silence_alert"):
        return
    matchers = matchers_of(alert)
    shown = ", ".join(f"{k}={v}" for k, v in matchers.items())

    def call(store: Any, span: str, comment: str) -> Any:
        return add_silence(store, matchers, comment=comment, duration_s=_seconds(span))

    modal = ConfirmModal(f"Silence alerts like #{alert['id']}",
                         lambda span: f"silence {shown} for {span or '?'} (no notifications; "
                                      "alerts still show)",
                         action="silence", alias="2h", field_label="for (30m, 2h, 1d)",
                         check=_span_problem)
    _run(screen, modal, "silence", call)


def start_resolve(screen: WkScreen, alert: dict[str, Any]) -> None:
    from monitoring.alert_service import resolve

    if not screen.allowed("resolve", "resolve_alert"):
        return
    alert_id = alert["id"]
    change = (f"alert #{alert_id} {alert['rule']}: {alert['state']} -> resolved by hand "
              "(a resolve goes to the channels that got it)")
    modal = ConfirmModal(f"Resolve alert #{alert_id}", lambda _field: change, action="resolve")
    _run(screen, modal, "resolve", lambda store, _f, note: resolve(store, alert_id, note))


def start_alert_action(screen: WkScreen, alert_id: int, action: str, target: str) -> None:
    """Roll back, pause the job or retrain, from an alert: the exact change first (a read,
    in a worker), then a confirmation with a reason; the alert is annotated with it."""
    from scheduler.alert_actions import PAUSE_JOB, ROLLBACK, act

    if not screen.allowed(action, ALERT_ACTION_IDS.get(action, "alert_rollback")):
        return

    def preview() -> str:
        if action == ROLLBACK:
            from serving.traffic.deployments import rollback_preview

            return f"{rollback_preview(screen.wk.store, target)}  (from alert #{alert_id})"
        if action == PAUSE_JOB:
            return f"{target}: active -> paused (from alert #{alert_id})"
        return f"{target}: queue a run now (retrain, from alert #{alert_id})"

    confirm_after_preview(screen, f"{action.capitalize()} from alert #{alert_id}", preview, action,
                          act, alert_id, action)


def acted(result: dict[str, Any]) -> str:
    """The notice after an action from an alert."""
    r = result["result"]
    if "to_version" in r:
        done = f"{r['model']} production v{r['from_version']} -> v{r['to_version']}"
    elif r.get("undid") == "challenger":
        done = f"{r['model']}: challenger out"
    else:
        done = result["target"]
    return f"alert #{result['alert']}: {result['action']} done ({done}); the alert is annotated"


def alert_changed(result: dict[str, Any]) -> str:
    return f"alert #{result['id']} {result['state']}"


def silence_added(result: dict[str, Any]) -> str:
    return f"silence #{result['id']} until {result['ends_at']:%H:%M} UTC: {result['matched']} alert(s)"


#: the alerts (and drift, version) screens' changes from an alert
ALERT_ACTIONS = {"acknowledge": alert_changed, "resolve": alert_changed, "silence": silence_added,
                 "rollback": acted, "pause-job": acted, "retrain": acted}
