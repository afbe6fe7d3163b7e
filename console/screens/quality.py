"""Quality: one model's newest data-quality report, a row per finding, errors first
(then by the share of rows it concerns), with the selected finding's reason in full and
its column's missing share and violations; the rows quarantined in the window by reason
under it."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from console.columns import Column
from console.screens.cells import percent
from console.screens.report_screens import (
    ReportScreen,
    SummaryLine,
    plural,
    share_text,
    summary,
    window_text,
)
from console.widgets.live_table import LiveTable, TableRow
from store.vocabulary import CheckStatus

SEVERITY_ORDER = {"error": 0, "warning": 1}


def finding_order(finding: dict[str, Any]) -> tuple[int, float, str]:
    return (SEVERITY_ORDER.get(finding.get("severity", ""), 2), -float(finding.get("share") or 0.0),
            str(finding.get("column") or ""))


class FindingDetail(Static):
    DEFAULT_CSS = """
    FindingDetail { height: auto; max-height: 3; padding: 0 1; background: $boost; }
    """


class QuarantineLine(Static):
    DEFAULT_CSS = """
    QuarantineLine { height: auto; max-height: 4; padding: 0 1; }
    """


class QualityScreen(ReportScreen):
    VIEW = "quality"
    DEFAULT_CSS = """
    QualityScreen LiveTable { height: 1fr; min-height: 4; }
    """
    COLUMNS = (Column("severity"), Column("check", 2), Column("column", min_width=10), Column("rows"),
               Column("share"), Column("reason", 1, min_width=16))

    def __init__(self, model: str) -> None:
        super().__init__(model)
        self.report: dict[str, Any] | None = None

    def compose_body(self) -> ComposeResult:
        yield SummaryLine(id="summary")
        yield LiveTable(self.COLUMNS, id="table")
        yield FindingDetail(id="finding-detail")
        yield QuarantineLine(id="quarantine")

    def fetch(self) -> Any:
        from monitoring import reading

        return reading.latest(self.wk.store, self.model, "quality")

    def rows_from(self, report: dict[str, Any] | None) -> list[TableRow]:
        self.report = report
        self.query_one(SummaryLine).update(self._summary(report))
        self.query_one(QuarantineLine).update(self._quarantine(report))
        if report is None:
            return []
        findings = sorted(report["findings"] or [], key=finding_order)
        return [TableRow(f"{f.get('check')}/{f.get('column')}/{i}", (
            f.get("severity", "-"), f.get("check", "-"), f.get("column") or "-", f"{f.get('count', 0):,}",
            share_text(f.get("share")), f.get("reason") or "-",
        ), f) for i, f in enumerate(findings)]

    def _summary(self, report: dict[str, Any] | None) -> Text:
        if report is None:
            return Text(f"no quality report for {self.model} yet: a quality check of a window stores one",
                        style="dim")
        version = f"v{report['version']}" if report["version"] else "all versions"
        where = f"#{report['id']} {version}, {window_text(report)}, {report['rows']:,} rows"
        if report["status"] in (CheckStatus.INSUFFICIENT, CheckStatus.NOT_LOGGED):
            return summary(report["status"], where)
        return summary(report["status"], f"{plural(report['errors'], 'error')}, "
                                         f"{plural(report['warnings'], 'warning')}, "
                                         f"{report['quarantined']:,} quarantined  {where}")

    def _quarantine(self, report: dict[str, Any] | None) -> Text:
        if report is None:
            return Text("")
        reasons = ((report.get("detail") or {}).get("quarantine") or {})
        if not reasons:
            return Text("no rows quarantined in this window", style="dim")
        text = Text(f"quarantined {report['quarantined']:,}: ", style="bold")
        text.append("; ".join(f"{reason} ({count:,})" for reason, count in
                              sorted(reasons.items(), key=lambda item: -item[1])))
        return text

    def show_detail(self) -> None:
        row = self.selected()
        detail = self.query_one(FindingDetail)
        if row is None:
            findings = self.report is not None and self.report["status"] == CheckStatus.OK
            detail.update(Text("no findings" if findings else "", style="dim"))
            return
        f = row.raw
        text = Text(f"{f.get('column') or '-'}", style="bold")
        text.append(f" {f.get('reason') or f.get('check')}")
        column = ((self.report or {}).get("detail") or {}).get("columns", {}).get(f.get("column"))
        if column:
            text.append(f"\nmissing {percent(column.get('missing_share'))}  type violations "
                        f"{column.get('type_violations', 0):,}  range violations "
                        f"{column.get('range_violations', 0):,}", style="dim")
        detail.update(text)
