"""Timeline: one model's changes, runs, reports, alerts (with who acknowledged and the
notes), quarantine bursts and latency or error spikes, oldest first, in one table
(monitoring/timeline.py reads it). Opens on the newest entry. Enter opens what an entry
is about where the console has a screen for it (a drift report, a training or job run, a
version, an approval, the deployments, an alert on the Alerts screen); anything else
opens its detail in a window over the table. `f` keeps only some kinds; `/`
filters the rows' text. Refreshes with the console (every 2 s by default).

`:timeline MODEL [since=7d] [kind=alert,drift]`; `t` opens it from a model's row, its
versions, one version and its monitoring views."""

from __future__ import annotations

from typing import Any

from textual import work

from console.columns import Column
from console.screens.base import TableScreen
from console.screens.time_format import local
from console.widgets.header import StatusHeader
from console.widgets.live_table import TableRow

DEFAULT_SINCE = "7d"
FILTERS = ("since", "kind")


def timeline_filters(args: list[str]) -> tuple[str, dict[str, str]]:
    """`:timeline MODEL [since=7d] [kind=alert,drift]`, checked before the view opens so a
    typo is named at once (ValueError with what is wrong)."""
    from console.cli.common import parse_span
    from console.errors import error_text
    from console.navigation import WrongArguments, key_value_filters
    from monitoring.timeline import parse_kinds
    from store.errors import WatchkeeperError

    if not args or "=" in args[0]:
        raise WrongArguments()
    filters = key_value_filters(args[1:], FILTERS, first="since") if args[1:] else {}
    try:
        parse_span(filters.get("since", DEFAULT_SINCE), "since=")
        parse_kinds(filters["kind"].split(",") if "kind" in filters else None)
    except WatchkeeperError as exc:
        raise ValueError(error_text(exc)) from exc
    return args[0], filters


def alert_text(alert: dict[str, Any], selected_event: int | None = None) -> str:
    """An alert's detail for the window over the table: what, on what, its state and times
    (local), then every step with who and the note; the step the entry is about marked."""
    from console.screens.time_format import local_seconds

    target = " ".join(str(p) for p in (alert["model"], f"v{alert['version']}" if alert["version"] else "",
                                       alert["feature"] or "") if p)
    value = f", value {alert['value']:.4g}" if alert["value"] is not None else ""
    times = [f"started {local_seconds(alert['started_at'])}"]
    if alert["fired_at"]:
        times.append(f"fired {local_seconds(alert['fired_at'])[6:]}")
    if alert["resolved_at"]:
        times.append(f"resolved {local_seconds(alert['resolved_at'])[6:]} "
                     f"{'by ' + alert['resolved_by'] if alert['resolved_by'] else 'by itself'}")
    lines = [f"{alert['kind']}, {alert['severity']}, on {target}",
             f"{alert['state']}{value}: {alert['reason'] or '-'}", ", ".join(times), ""]
    for e in alert["events"]:
        mark = ">" if e["id"] == selected_event else " "
        who = f" {e['actor']}" if e["actor"] else ""
        lines.append(f"{mark} {local_seconds(e['at'])}  {e['event']}{who}" + (f": {e['note']}" if e["note"] else ""))
    if not alert["events"]:
        lines.append("  (no steps recorded)")
    return "\n".join(lines)


def _version(entry: dict[str, Any]) -> str:
    return f"v{entry['version']}" if entry["version"] is not None else "-"


class TimelineScreen(TableScreen):
    VIEW = "timeline"
    #: At 80 columns: when, what kind, which version and what happened; who where it fits
    #: (else in the detail line with the rest of a cut title).
    COLUMNS = (Column("time"), Column("kind"), Column("ver", 1), Column("what", min_width=24),
               Column("by", 2, min_width=8))

    def __init__(self, model: str, filters: dict[str, str] | None = None) -> None:
        super().__init__()
        self.model = model
        self.filters = dict(filters or {})
        self._at_newest = False

    def title_text(self) -> str:
        kinds = f" kind={self.filters['kind']}" if self.filters.get("kind") else ""
        return f"timeline {self.model} since={self.filters.get('since', DEFAULT_SINCE)}{kinds}"

    def fetch(self) -> Any:
        from console.cli.common import parse_span
        from monitoring.timeline import entry_view, model_timeline

        since = parse_span(self.filters.get("since", DEFAULT_SINCE), "since=")
        kinds = self.filters["kind"].split(",") if self.filters.get("kind") else None
        entries = model_timeline(self.wk.store, self.model, since, self.wk.clock(), kinds)
        return [entry_view(e) for e in entries]

    def rows_from(self, data: list[dict[str, Any]]) -> list[TableRow]:
        rows = []
        for e in data:
            ids = ",".join(f"{k}={v}" for k, v in sorted(e["ids"].items()))
            rows.append(TableRow(f"{e['at']}|{e['kind']}|{ids}", (
                local(e["at"])[5:], e["kind"], _version(e), e["title"], e["actor"] or "-"), e))
        return rows

    def show(self, data: Any) -> None:
        super().show(data)
        if not self._at_newest and self.rows:  # the first load: the newest entry, at the bottom
            self._at_newest = True
            self.table.move_cursor(row=len(self.table.shown_rows) - 1, animate=False)

    # --- enter: what the entry is about --------------------------------------------------
    def on_data_table_row_selected(self, event: Any) -> None:
        row = self.selected()
        if row is None:
            return
        entry: dict[str, Any] = row.raw
        command = self.command_for(entry)
        if command is not None:
            self.wk.run_command(command)
        elif "alert" in entry["ids"]:
            self._show_alert(int(entry["ids"]["alert"]), entry)
        else:
            self._show_text(entry)

    def command_for(self, entry: dict[str, Any]) -> str | None:
        """The `:` command that opens what `entry` is about, or None where the console has
        no screen for it (a spike, a burst, a silence)."""
        ids, kind, version, model = entry["ids"], entry["kind"], entry["version"], self.model
        if kind == "drift" and "report" in ids:
            return f"drift {model} {ids['report']}"
        if kind in {"quality", "performance"}:
            return f"{kind} {model}"
        if kind == "training" and "run" in ids:
            return f"run {ids['run']}"
        if kind == "job" and "job_run" in ids:
            return f"jobrun {ids['job_run']}"
        if kind == "approval" and version is not None:
            return f"approval {model} {version}"
        if kind == "deployment":
            return "deployments"
        if kind in {"alias", "canary"} and version is not None:
            return f"version {model} {version}"
        if "alert" in ids:
            return f"alerts {ids['alert']}"
        return None

    def _show_text(self, entry: dict[str, Any]) -> None:
        from console.widgets.text_modal import TextModal

        lines = [f"{local(entry['at'])}  {entry['kind']}  {_version(entry)}", entry["title"]]
        if entry["detail"]:
            lines.append(entry["detail"])
        if entry["actor"]:
            lines.append(f"by {entry['actor']}")
        self.app.push_screen(TextModal(f"{self.model}: {entry['kind']}", "\n".join(lines)))

    @work(thread=True, exit_on_error=False, group="alert")
    def _show_alert(self, alert_id: int, entry: dict[str, Any]) -> None:
        """Read the alert and its history in a worker, then show it over the table."""
        from console.errors import error_text
        from monitoring.timeline import alert_detail

        try:
            alert = alert_detail(self.wk.store, alert_id)
        except Exception as exc:  # said on screen; nothing changed
            self.app.call_from_thread(self.notify, error_text(exc), title=f"alert #{alert_id}",
                                      severity="error", timeout=6)
            return
        self.app.call_from_thread(self._push_alert, alert, entry)

    def _push_alert(self, alert: dict[str, Any], entry: dict[str, Any]) -> None:
        from console.widgets.text_modal import TextModal

        self.app.push_screen(TextModal(f"alert #{alert['id']} {alert['rule']}",
                                       alert_text(alert, entry["ids"].get("event"))))

    # --- f: only some kinds --------------------------------------------------------------
    def action_timeline_kinds(self) -> None:
        from console.widgets.ask_modal import AskModal
        from monitoring.timeline import KINDS

        def chosen(answer: str | None) -> None:
            from console.errors import error_text
            from monitoring.timeline import parse_kinds
            from store.errors import WatchkeeperError

            if answer is None:
                return
            try:
                kinds = parse_kinds(answer.replace(" ", ",").split(","))
            except WatchkeeperError as exc:
                self.notify(error_text(exc), title="kinds", severity="error", timeout=6)
                return
            if set(kinds) == set(KINDS) or answer.strip() in {"", "all"}:
                self.filters.pop("kind", None)
            else:
                self.filters["kind"] = ",".join(kinds)
            self.query_one(StatusHeader).view_title = self.title_text()
            self.reload()

        current = self.filters.get("kind", "")
        self.app.push_screen(AskModal(f"kinds to show (all: {', '.join(KINDS)}), comma-separated; "
                                      "'all' for every kind", current or "alert,drift,alias"), chosen)
