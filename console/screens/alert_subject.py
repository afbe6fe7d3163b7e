"""From an alert to what it is about, and to the action that fits, for the Alerts
screen (and the Drift and Version screens opened from an alert, which remember it so
their rollback annotates the alert). The alert's subject is read in a worker
(scheduler.alert_actions.alert_subject), then the screen for it opens: the Drift screen
on the report with the feature selected, the version with its lineage, the job run, the
model's charts; an alert about the store shows its detail over the table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.errors import error_text

if TYPE_CHECKING:
    from textual.screen import Screen

    from console.screens.base import WkScreen


def subject_screen(subject: dict[str, Any], alert_id: int) -> Screen[Any] | str | None:
    """The screen (or `:` command) that shows `subject`; None: the console has none."""
    kind, model = subject["kind"], subject.get("model")
    if kind == "drift":
        from console.screens.drift import DriftScreen

        screen = DriftScreen(model or "", subject.get("report"))
        screen.focus_feature, screen.alert_id = subject.get("feature"), alert_id
        screen.alert_version = subject.get("version")
        return screen
    if kind == "version" and subject.get("version") is not None:
        from console.screens.version import VersionScreen

        version = VersionScreen(model or "", str(subject["version"]))
        version.alert_id = alert_id
        return version
    if kind in ("quality", "performance"):
        return f"{kind} {model}"
    if kind == "charts":
        return f"performance {model}" if subject["chart"] == "performance" else \
            f"predictions model={model}"
    if kind == "job-run" and subject.get("run") is not None:
        return f"jobrun {subject['run']}"
    return None


def _read(screen: WkScreen, alert_id: int) -> dict[str, Any] | None:
    """The alert's subject (in a worker); an error is said on screen, None returned."""
    from scheduler.alert_actions import alert_subject

    try:
        return alert_subject(screen.wk.store, alert_id)
    except Exception as exc:  # said on screen; nothing changed
        screen.app.call_from_thread(screen.notify, error_text(exc), title=f"alert #{alert_id}",
                                    severity="error", timeout=6)
        return None


def open_subject(screen: WkScreen, alert_id: int) -> None:
    def work() -> None:
        about = _read(screen, alert_id)
        if about is not None:
            screen.app.call_from_thread(_open, screen, about)

    screen.run_worker(work, thread=True, group="subject", exit_on_error=False)


def _open(screen: WkScreen, about: dict[str, Any]) -> None:
    from console.screens.base import WkScreen

    alert = about["alert"]
    target = subject_screen(about["subject"], alert["id"])
    if isinstance(target, str):
        screen.wk.run_command(target)
    elif isinstance(target, WkScreen):
        screen.wk.open_screen(target, target.title_text())
    else:
        from console.screens.timeline import alert_text
        from console.widgets.text_modal import TextModal

        events = [{**e, "id": None} for e in alert.get("events", [])]
        screen.app.push_screen(TextModal(f"alert #{alert['id']} {alert['rule']}",
                                         alert_text({**alert, "events": events})))


def act_from_alert(screen: WkScreen, alert_id: int, action: str) -> None:
    """Offer `action` if it fits the alert (a read in a worker), else say what fits."""
    from console.screens.alert_actions import start_alert_action

    def work() -> None:
        about = _read(screen, alert_id)
        if about is None:
            return
        fitting = {a["name"]: a for a in about["actions"]}
        if action not in fitting:
            offered = ", ".join(fitting) or "none (acknowledge or resolve it)"
            screen.app.call_from_thread(
                screen.notify, f"{action} does not fit alert #{alert_id} "
                f"({about['alert']['kind']}); what fits: {offered}", title=action,
                severity="warning", timeout=6)
            return
        screen.app.call_from_thread(start_alert_action, screen, alert_id, action,
                                    fitting[action]["target"])

    screen.run_worker(work, thread=True, group="subject", exit_on_error=False)
