"""What the monitoring screens (Drift, Quality, Performance) share: one model's reports,
a summary line over the table, the keys that move between the three for that model, and
how a report's state reads. A state that is not a verdict (too few rows, inputs not
logged) is said as such, never as ok."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from console.screens.base import TableScreen
from console.screens.cells import percent
from console.screens.time_format import local
from store.vocabulary import CheckStatus

#: How a report's or a feature's status reads on screen.
STATE_TEXT: dict[str, str] = {
    CheckStatus.OK: "ok",
    CheckStatus.DRIFT: "drift",
    CheckStatus.FAILED: "failed",
    CheckStatus.INSUFFICIENT: "insufficient data",
    CheckStatus.NOT_LOGGED: "inputs not logged",
}
STATE_STYLE: dict[str, str] = {CheckStatus.OK: "green", CheckStatus.DRIFT: "bold red", CheckStatus.FAILED: "bold red",
               CheckStatus.INSUFFICIENT: "yellow", CheckStatus.NOT_LOGGED: "yellow"}


def state_text(status: str) -> str:
    return STATE_TEXT.get(status, status)


def window_text(report: dict[str, Any]) -> str:
    """"11-20 09:00 - 11-21 09:00" (local time; the year is in the raw report, y)."""
    return f"{local(report['window_start'])[5:]} - {local(report['window_end'])[5:]}"


def summary(status: str, rest: str) -> Text:
    """`status` in its colour, then the rest of the line (a reason that starts with the
    state's own words, "insufficient data: 37 rows, need 100", does not say them twice)."""
    said = state_text(status)
    text = Text(said, style=STATE_STYLE.get(status, ""))
    rest = rest[len(said):].lstrip(": ") if rest.startswith(said) else rest
    text.append(f"  {rest}")
    return text


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def share_text(share: float | None) -> str:
    """A share of rows: 0.0002 -> "<0.1%", never a "0%" that hides a finding."""
    if share is not None and 0 < share < 0.001:
        return "<0.1%"
    return percent(share)


class SummaryLine(Static):
    DEFAULT_CSS = """
    SummaryLine { height: auto; padding: 0 1; }
    """


class ReportScreen(TableScreen):
    """One model's reports of a kind. i, u and m open its Drift, Quality and Performance."""

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model

    def title_text(self) -> str:
        return f"{self.VIEW} {self.model}"

    def action_drift(self) -> None:
        self.wk.run_command(f"drift {self.model}")

    def action_quality(self) -> None:
        self.wk.run_command(f"quality {self.model}")

    def action_performance(self) -> None:
        self.wk.run_command(f"performance {self.model}")

    def action_timeline(self) -> None:
        self.wk.run_command(f"timeline {self.model}")
