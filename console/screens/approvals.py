"""Approvals: versions a retrain left waiting for a person (promotion policy `manual`),
each with its report's summary: the main metric beside production's on the same holdout,
the gate, the training features that drifted against production's. Enter opens one:
every metric side by side, the Markdown report shown in the console and the path of its
HTML page for a browser. `a` approves (the version becomes production), `x` rejects;
each asks for a reason, shows the exact change and is audited as `wk models approve`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from console.action_results import APPROVAL_ACTIONS
from console.columns import Column
from console.screens.base import TableScreen, WkScreen
from console.screens.time_format import age
from console.widgets.live_table import TableRow

#: the metrics a summary's table leads with (the gate's metric is usually first)
MAIN_FIRST = ("roc_auc", "mae", "rmse", "accuracy", "f1", "r2")


def _v(version: int | None) -> str:
    return f"v{version}" if version else "(none)"


def number(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def main_metric(metrics: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    if not metrics:
        return None
    name = next((m for m in MAIN_FIRST if m in metrics), next(iter(metrics)))
    return name, metrics[name]


def metric_cell(metrics: dict[str, Any]) -> str:
    """"roc_auc 0.8291 vs 0.8134" (production's on the same rows), or the candidate's alone."""
    main = main_metric(metrics)
    if main is None:
        return "-"
    name, m = main
    against = f" vs {number(m['production'])}" if m.get("production") is not None else ""
    return f"{name} {number(m['candidate'])}{against}"


def gate_cell(summary: dict[str, Any]) -> str:
    passed = summary.get("gate_passed")
    return "-" if passed is None else "passed" if passed else "FAILED"


def drift_cell(summary: dict[str, Any]) -> str:
    """"2: income, age", "none", or why it was not compared."""
    drifted = summary.get("drifted") or []
    if drifted:
        return f"{len(drifted)}: {', '.join(drifted)}"
    status = summary.get("drift_status") or "-"
    return "none" if status == "compared" else status


class ApprovalsScreen(TableScreen):
    VIEW = "approvals"
    ACTION_RESULTS = APPROVAL_ACTIONS
    #: At 80 columns: the model, the version against production, the main metric beside
    #: production's, the gate, what drifted and how long it has waited.
    COLUMNS = (Column("model", min_width=12), Column("version"), Column("metric", min_width=14),
               Column("gate", 1), Column("drifted", 2, min_width=8), Column("waiting", 1))

    def __init__(self, model: str | None = None) -> None:
        super().__init__()
        self.model = model

    def title_text(self) -> str:
        return f"approvals of {self.model}" if self.model else "approvals"

    def fetch(self) -> Any:
        from registry.approvals import list_approvals

        return list_approvals(self.wk.store, self.model)

    def rows_from(self, data: list[dict[str, Any]]) -> list[TableRow]:
        now = self.wk.clock()
        return [TableRow(f"{a['model']} {a['version']}", (
            a["model"], f"{_v(a['version'])} vs {_v(a['against_version'])}",
            metric_cell(a["summary"].get("metrics") or {}), gate_cell(a["summary"]),
            drift_cell(a["summary"]), age(a["requested_at"], now),
        ), a) for a in data]

    def on_data_table_row_selected(self, event: Any) -> None:
        if (row := self.selected()) is not None:
            self.wk.run_command(f"approval {row.key}")

    def _approval(self) -> dict[str, Any] | None:
        row = self.selected()
        if row is None:
            self.notify("no version waits for approval", title="approvals", timeout=4)
            return None
        approval: dict[str, Any] = row.raw
        return approval

    def action_approve(self) -> None:
        from console.screens.approval_actions import start_decision

        if (approval := self._approval()) is not None:
            start_decision(self, approval, approve=True)

    def action_reject(self) -> None:
        from console.screens.approval_actions import start_decision

        if (approval := self._approval()) is not None:
            start_decision(self, approval, approve=False)


class ApprovalPage(VerticalScroll):
    pass


class ApprovalScreen(WkScreen):
    VIEW = "approval"
    ACTION_RESULTS = APPROVAL_ACTIONS

    def __init__(self, model: str, version: int) -> None:
        super().__init__()
        self.model, self.version = model, version
        self.approval: dict[str, Any] | None = None
        self._shown_report: str | None = None

    def title_text(self) -> str:
        return f"approval {self.model} v{self.version}"

    def compose_body(self) -> ComposeResult:
        with ApprovalPage():
            yield Static("loading ...", id="approval-summary")
            yield Markdown("", id="approval-report")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(ApprovalPage).focus()

    def fetch(self) -> Any:
        from registry.approvals import show_approval

        approval = show_approval(self.wk.store, self.model, self.version)
        path = Path(approval["report_md"]) if approval["report_md"] else None
        try:
            report = path.read_text(encoding="utf-8") if path else ""
        except OSError as exc:  # said on the page: the decision can still be made on the summary
            report = f"*the report {path} cannot be read: {exc.strerror or exc}*"
        return {"approval": approval, "report": report}

    def show(self, data: dict[str, Any]) -> None:
        self.approval = data["approval"]
        self.query_one("#approval-summary", Static).update(summary_text(data["approval"]))
        if data["report"] != self._shown_report:  # a refresh does not re-render (or scroll)
            self._shown_report = data["report"]
            self.query_one(Markdown).update(data["report"] or "*no Markdown report was written*")

    def action_approve(self) -> None:
        from console.screens.approval_actions import start_decision

        if self.approval is not None:
            start_decision(self, self.approval, approve=True)

    def action_reject(self) -> None:
        from console.screens.approval_actions import start_decision

        if self.approval is not None:
            start_decision(self, self.approval, approve=False)


def summary_text(approval: dict[str, Any]) -> Table:
    """The decision at a glance: status, the metrics side by side with production, the
    gate, the drifted training features and where the HTML report is."""
    summary = approval["summary"]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")  # a long report path folds, whole, never cut
    status = Text(approval["status"], style="yellow" if approval["status"] == "pending" else "")
    if approval["decided_by"]:
        status.append(f" by {approval['decided_by']}: {approval['reason']}")
    grid.add_row("status", status)
    made_by = [f"{what} #{approval[key]}" for what, key in
               (("job run", "job_run_id"), ("training run", "training_run_id")) if approval.get(key)]
    if made_by:  # :jobrun N and :run N open them
        grid.add_row("from", ", ".join(made_by))
    grid.add_row("against", f"production {_v(approval['against_version'])} on "
                            f"{summary.get('holdout_rows', '?')} holdout rows")
    metrics = Table(box=None, padding=(0, 1), show_edge=False, pad_edge=False)
    for label in ("metric", f"v{approval['version']}", f"prod {_v(approval['against_version'])}",
                  "delta"):
        metrics.add_column(label, justify="left" if label == "metric" else "right")
    for name, m in (summary.get("metrics") or {}).items():
        delta = Text(number(m.get("delta")) if m.get("delta") is None else f"{m['delta']:+.4f}",
                     style={True: "green", False: "red"}.get(m.get("better"), ""))
        metrics.add_row(name, number(m.get("candidate")), number(m.get("production")), delta)
    grid.add_row("metrics", metrics)
    gate = gate_cell(summary)
    grid.add_row("gate", Text(gate, style="green" if gate == "passed" else "bold red"))
    grid.add_row("drifted", Text(drift_cell(summary), style="yellow" if summary.get("drifted") else ""))
    grid.add_row("html", Text.assemble(approval["report_html"] or "(no HTML report)",
                                       (" (open it in a browser)", "dim") if approval["report_html"] else ""))
    return grid
