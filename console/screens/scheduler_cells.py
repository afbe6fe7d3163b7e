"""How the scheduler's state and its runs read in the console: the header's marker, the
Overview's heartbeat line, and a run's status, duration and resources. Pure functions
over the plain data of scheduler.jobs_view, so a test can call them directly."""

from __future__ import annotations

import signal
from datetime import datetime
from typing import Any

from rich.text import Text

from console.screens.time_format import age, parse_iso, relative
from store.vocabulary import JobRunStatus

#: how a run's status is coloured (the theme's names: readable on 16 colours)
STATUS_STYLE: dict[str, str] = {
    JobRunStatus.SUCCEEDED: "green", JobRunStatus.FAILED: "bold red",
    JobRunStatus.TIMED_OUT: "bold red", JobRunStatus.ABANDONED: "bold red",
    JobRunStatus.RUNNING: "cyan", JobRunStatus.QUEUED: "", JobRunStatus.SKIPPED: "yellow",
    JobRunStatus.MISSED: "yellow",
}
#: the Overview names at most this many failed runs (and counts the rest)
FAILED_NAMED = 3


def when(value: str | datetime | None, now: datetime) -> str:
    """A time as the header says it: "08:12" today, "11-20 08:12" on another day (local)."""
    moment = parse_iso(value)
    if moment is None:
        return "-"
    local, today = moment.astimezone(), now.astimezone()
    return local.strftime("%H:%M" if local.date() == today.date() else "%m-%d %H:%M")


def daemon_mark(state: dict[str, Any] | None, now: datetime) -> tuple[str, str]:
    """The header's marker and its level: ("SCHEDULER DOWN since 08:12", "down") when the
    heartbeat went silent, ("scheduler stopped 08:12", "stopped") after a clean stop,
    ("", "") when it is up or no scheduler ever ran on the store (nothing to say)."""
    if state is None or state["state"] in ("never", "up"):
        return "", ""
    if state["state"] == "down":
        return f"SCHEDULER DOWN since {when(state['heartbeat_at'], now)}", "down"
    return f"scheduler stopped {when(state['stopped_at'], now)}", "stopped"


def daemon_line(state: dict[str, Any], now: datetime) -> tuple[Text, str]:
    """The Overview's heartbeat: its headline (up with the beat's age, down since, stopped,
    or never) and the detail after it (who holds the store)."""
    name = state["state"]
    if name == "never":
        return Text("no scheduler has run on this store", style="dim"), ""
    holder = f"{state['host']} pid {state['pid']}"
    if name == "up":
        return (Text(f"scheduler up, beat {age(state['heartbeat_at'], now)} ago", style="green"),
                f"{state['jobs']} jobs, {state['running']} running · {holder}")
    if name == "down":
        return (Text(f"scheduler DOWN since {when(state['heartbeat_at'], now)}", style="bold red"),
                f"last beat {age(state['heartbeat_at'], now)} ago from {holder}")
    return (Text(f"scheduler stopped {when(state['stopped_at'], now)}", style="yellow"),
            f"a clean stop of {holder}")


def failed_count(runs: list[dict[str, Any]], window_s: int) -> Text:
    """"failed in 24h: none" (green) or "failed in 24h: 2" (red)."""
    text = Text(f"failed in {window_s // 3600}h: ")  # "24h", as on-call says it
    text.append(str(len(runs)) if runs else "none", style="bold red" if runs else "green")
    return text


def failed_names(runs: list[dict[str, Any]], now: datetime) -> str:
    """The newest few failed runs: "nightly #12 failed 2h ago, probe #9 timed_out 5h ago"."""
    named = [f"{r['job']} #{r['id']} {r['status']} {relative(r['ended_at'] or r['queued_at'], now)}"
             for r in runs[:FAILED_NAMED]]
    more = f", +{len(runs) - FAILED_NAMED} more (:jobruns)" if len(runs) > FAILED_NAMED else ""
    return ", ".join(named) + more


def overview_lines(health: dict[str, Any], now: datetime) -> Text:
    """The Overview's lines over its table (scheduler.health.scheduler_health): the
    heartbeat and the count of failed runs, then (if any) the failed runs by name."""
    headline, detail = daemon_line(health["scheduler"], now)
    runs = health["failed_runs"]
    line = Text.assemble(headline, " · ", failed_count(runs, health["window_s"]))
    if detail:
        line.append(f" · {detail}", style="dim")
    if runs:
        line.append("\n" + failed_names(runs, now))
    return line


def seconds(value: float | None) -> str:
    """A duration in seconds: "0.42", "12.3", "1,804"."""
    if value is None:
        return "-"
    if value < 10:
        return f"{value:.2f}"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def megabytes(value: float | None) -> str:
    return "-" if value is None else (f"{value:.1f}" if value < 100 else f"{value:,.0f}")


def count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def exit_text(run: dict[str, Any]) -> str:
    """"0", "1", "killed by SIGKILL (9)" or "-" (not ended)."""
    if run.get("signal"):
        try:
            name = signal.Signals(run["signal"]).name
        except ValueError:
            name = "signal"
        return f"killed by {name} ({run['signal']})"
    return "-" if run.get("exit_code") is None else str(run["exit_code"])


def next_run_text(job: dict[str, Any], now: datetime) -> str:
    """A job's next slot: "09:43 (in 43m)" today, "11-22 02:00 (in 17h)" another day;
    "paused", or the job it follows ("after nightly-retrain")."""
    if job["paused"]:
        return "paused"
    if job["next_run"] is None:
        return job["schedule"]
    return f"{when(job['next_run'], now)} ({relative(job['next_run'], now)})"


def last_run_text(last: dict[str, Any] | None, now: datetime) -> str:
    """A job's last run: "failed 2h ago", "running 3m", "-"."""
    if last is None:
        return "-"
    if last["status"] == JobRunStatus.RUNNING:
        return f"running {age(last['started_at'], now)}"
    at = last["ended_at"] or last["started_at"] or last["queued_at"]
    return f"{last['status']} {relative(at, now)}"
