"""Alerts: firing first, then acknowledged, silenced, pending, and the last day's resolved
ones; per alert its state, severity, rule, what it is on (model, version, feature or job),
since when and its next notification (the worst severity first within a state) (monitoring.alerts_view reads them). Enter opens
what the alert is about (scheduler.alert_actions.alert_subject): the Drift screen on the
report that fired it with the feature selected, the version with its lineage, the job
run, the charts. `a` acknowledges (a note and an expiry), `s` silences alerts like it,
`x` resolves it by hand, `b` rolls back, `P` pauses its job, `R` retrains, `t` opens the
model's timeline; every change confirmed with a reason. `:alerts [ID]` opens it on one
alert. Refreshes with the console (every 2 s by default)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from console.columns import Column
from console.screens.alert_actions import ALERT_ACTIONS
from console.screens.base import TableScreen
from console.screens.cells import owner_text
from console.screens.time_format import age, relative
from console.widgets.live_table import TableRow
from store.vocabulary import AlertState

#: resolved alerts stay on the screen this long
RESOLVED_FOR = timedelta(days=1)
SEVERITIES = ("critical", "warning", "info")
SEVERITY_SHORT = {"critical": "crit", "warning": "warn", "info": "info"}


def target_text(alert: dict[str, Any]) -> str:
    """"credit v2 income", "job nightly", or "store"."""
    job = (alert.get("labels") or {}).get("job")
    parts = [alert.get("model") or "", f"v{alert['version']}" if alert.get("version") else "",
             alert.get("feature") or "", f"job {job}" if job else ""]
    return " ".join(p for p in parts if p) or "store"


def next_text(alert: dict[str, Any], now: Any) -> str:
    """When it notifies next: "in 3h", "silenced", "-" (resolved, or acknowledged without
    an expiry)."""
    if alert["state"] == AlertState.SILENCED:
        return "silenced"
    if alert["state"] in (AlertState.RESOLVED, AlertState.PENDING):
        return "-"
    return relative(alert["next_notify_at"], now) if alert["next_notify_at"] else "-"


def since_of(alert: dict[str, Any]) -> Any:
    if alert["state"] == AlertState.RESOLVED:
        return alert["resolved_at"]
    return alert["fired_at"] or alert["started_at"]


class AlertsScreen(TableScreen):
    VIEW = "alerts"
    ACTION_RESULTS = ALERT_ACTIONS
    #: At 80 columns: what state, how bad, which rule on what, since when, next notice;
    #: the reason in the detail line.
    COLUMNS = (Column("state"), Column("sev"), Column("rule", min_width=10),
               Column("on", min_width=10), Column("since"), Column("next", 1),
               Column("reason", 2, min_width=12), Column("#", 3), Column("owner", 4))

    def __init__(self, alert_id: int | None = None) -> None:
        super().__init__()
        self.focus_alert = alert_id

    def title_text(self) -> str:
        return "alerts"

    def fetch(self) -> Any:
        from monitoring.alerts_view import STATE_ORDER, list_alerts
        from registry.models import model_owners

        now = self.wk.clock()
        owners = model_owners(self.wk.store)  # read with the alerts: the column is never late
        opened = list_alerts(self.wk.store)
        resolved = list_alerts(self.wk.store, state=AlertState.RESOLVED, since=now - RESOLVED_FOR)
        # within a state (list_alerts keeps the on-call order of states), the worst first
        found = sorted(opened, key=lambda a: (STATE_ORDER.index(a["state"]),
                                              SEVERITIES.index(a["severity"])
                                              if a["severity"] in SEVERITIES else 9)) + resolved
        for a in found:
            a["owner_of_model"] = owners.get((a.get("labels") or {}).get("model", ""))
        return found

    def rows_from(self, data: list[dict[str, Any]]) -> list[TableRow]:
        now = self.wk.clock()
        return [TableRow(str(a["id"]), (
            a["state"], SEVERITY_SHORT.get(a["severity"], a["severity"]), a["rule"],
            target_text(a), age(since_of(a), now), next_text(a, now), a["reason"] or "-",
            f"#{a['id']}", owner_text(a.get("owner_of_model"))),
            a) for a in data]

    def show(self, data: Any) -> None:
        super().show(data)
        if self.focus_alert is not None:
            keys = [r.key for r in self.table.shown_rows]
            if str(self.focus_alert) in keys:
                self.table.move_cursor(row=keys.index(str(self.focus_alert)), animate=False)
            self.focus_alert = None

    def _alert(self) -> dict[str, Any] | None:
        row = self.selected()
        if row is None:
            self.notify("no alert selected: none is open", title="alerts", timeout=4)
            return None
        alert: dict[str, Any] = row.raw
        return alert

    # --- enter: what the alert is about ----------------------------------------------------
    def on_data_table_row_selected(self, event: Any) -> None:
        if (alert := self._alert()) is not None:
            from console.screens.alert_subject import open_subject

            open_subject(self, alert["id"])

    # --- changes ---------------------------------------------------------------------------
    def action_ack_alert(self) -> None:
        from console.screens.alert_actions import start_ack

        if (alert := self._alert()) is not None:
            start_ack(self, alert)

    def action_silence_alert(self) -> None:
        from console.screens.alert_actions import start_silence

        if (alert := self._alert()) is not None:
            start_silence(self, alert)

    def action_resolve_alert(self) -> None:
        from console.screens.alert_actions import start_resolve

        if (alert := self._alert()) is not None:
            start_resolve(self, alert)

    def _act(self, action: str) -> None:
        from console.screens.alert_subject import act_from_alert

        if (alert := self._alert()) is not None:
            act_from_alert(self, alert["id"], action)

    def action_alert_rollback(self) -> None:
        self._act("rollback")

    def action_alert_pause_job(self) -> None:
        self._act("pause-job")

    def action_alert_retrain(self) -> None:
        self._act("retrain")

    def action_timeline(self) -> None:
        if (alert := self._alert()) is not None:
            if alert["model"]:
                self.wk.run_command(f"timeline {alert['model']}")
            else:
                self.notify(f"alert #{alert['id']} is about the store, not a model: no timeline",
                            title="timeline", timeout=4)
