"""Performance: one model's windows per version, newest first: the realised metric from
late labels beside the label-free estimate and the version's training value, with label
coverage; a thin window (too few labels) is marked. The estimate's assumption (no concept
drift) is said wherever an estimate is shown. Under the table, each version's metric over
time, realised and estimated on one scale, and its coverage."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult

from console.columns import Column
from console.report_charts import latest_text
from console.screens.cells import percent
from console.screens.report_screens import ReportScreen, SummaryLine
from console.screens.time_format import local
from console.widgets.live_table import LiveTable, TableRow
from console.widgets.report_panels import Series, SeriesPanel
from console.widgets.row_detail import RowDetail
from store.vocabulary import CheckStatus

#: The windows read (the table) and drawn (the panel), newest first.
WINDOWS = 60
#: The versions the panel draws (the newest first): three lines each.
PANEL_VERSIONS = 2


def status_cell(report: dict[str, Any]) -> str:
    """A thin window says so: "thin" for too few labels to judge, "failed thin" when the
    check judged it anyway."""
    if not report["thin"]:
        return report["status"]
    return "thin" if report["status"] == CheckStatus.INSUFFICIENT else f"{report['status']} thin"


def _value(part: dict[str, Any] | None, metric: str | None) -> str:
    value = (part or {}).get(metric) if metric else None
    return f"{value:.4f}" if isinstance(value, int | float) else "-"


def assumptions(reports: list[dict[str, Any]]) -> str | None:
    """The estimate's stated assumptions (the newest report that has an estimate)."""
    for r in reports:
        if r["estimated"]:
            return str(r["estimated"].get("assumptions") or "assumes no concept drift")
    return None


class PerformanceScreen(ReportScreen):
    VIEW = "performance"
    DEFAULT_CSS = """
    PerformanceScreen LiveTable { height: 1fr; min-height: 4; }
    """
    COLUMNS = (Column("window end"), Column("ver"), Column("status"), Column("realised"),
               Column("estimate"), Column("coverage"), Column("labelled", 2), Column("training", 1),
               Column("reason", 3, min_width=16))

    def compose_body(self) -> ComposeResult:
        yield SummaryLine(id="summary")
        yield LiveTable(self.COLUMNS, id="table")
        yield RowDetail(id="detail-line")
        yield SeriesPanel(id="trend")

    def fetch(self) -> Any:
        from monitoring import reading

        return {"reports": reading.reports(self.wk.store, self.model, "performance", limit=WINDOWS),
                "trend": reading.performance_trend(self.wk.store, self.model, limit=WINDOWS)}

    def rows_from(self, data: dict[str, Any]) -> list[TableRow]:
        reports, trend = data["reports"], data["trend"]
        metric = trend["metric"]
        self.query_one(SummaryLine).update(self._summary(reports, metric))
        self._panel(trend)
        return [TableRow(str(r["id"]), (
            local(r["window_end"])[5:], f"v{r['version']}", status_cell(r), _value(r["realised"], metric),
            _value(r["estimated"], metric), percent(r["coverage"]), f"{r['labelled']:,}/{r['predictions']:,}",
            _value(r["training"], metric), r["reason"] or "-",
        ), r) for r in reports]

    def _summary(self, reports: list[dict[str, Any]], metric: str | None) -> Text:
        if not reports:
            return Text(f"no performance report for {self.model} yet: labels and a performance check "
                        "of a window store one", style="dim")
        text = Text(metric or "no metric", style="bold")
        text.append(": realised from labels, beside the label-free estimate and training")
        thin = sum(1 for r in reports if r["thin"])
        if thin:
            text.append(f"; {thin} thin window{'s' if thin > 1 else ''} (too few labels)", style="yellow")
        if (assumed := assumptions(reports)) is not None:
            text.append("\nestimate ", style="bold")
            text.append(assumed, style="italic")
        return text

    def _panel(self, trend: dict[str, Any]) -> None:
        metric = trend["metric"] or "metric"
        series: list[Series] = []
        for v in trend["versions"][:PANEL_VERSIONS]:
            points, name = v["points"], f"v{v['version']}"
            realised = [p["realised"] for p in points]
            estimated = [p["estimated"] for p in points]
            series.append(Series(f"{name} {metric}", realised, latest_text(realised, ".4f"), group=name,
                                 from_zero=False))
            if any(e is not None for e in estimated):
                series.append(Series(f"{name} estimate", estimated, latest_text(estimated, ".4f"), group=name,
                                     from_zero=False))
            series.append(Series(f"{name} coverage", [p["coverage"] for p in points],
                                 percent(points[-1]["coverage"]) if points else "-"))
        self.query_one(SeriesPanel).show(f"{metric} over time per version, oldest first", series,
                                         empty="no performance reports yet")
