"""Drift: one model's newest drift report (or a chosen one, `:drift MODEL ID`, or with
[ and ] the one before or after), a row per feature sorted by severity (drifted first,
then too few rows, then by effect size), the prediction a feature of its own. Under the
table the selected feature's one-line reason with its summary statistics and new
categories, its reference against current histogram, and the drift share and the domain
classifier's AUC over the model's last reports. Too few rows and inputs not logged are
states of their own, never ok."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from console.columns import Column
from console.report_charts import histogram_bins, latest_text
from console.screens.cells import percent
from console.screens.report_screens import (
    ReportScreen,
    SummaryLine,
    state_text,
    summary,
    window_text,
)
from console.widgets.header import StatusHeader
from console.widgets.live_table import LiveTable, TableRow
from console.widgets.report_panels import HistogramPanel, Series, SeriesPanel
from store.vocabulary import CheckStatus


def _number(value: Any, digits: int = 4) -> str:
    return "-" if not isinstance(value, int | float) else f"{value:.{digits}f}"


def _stat(value: Any) -> str:
    if not isinstance(value, int | float):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def feature_summary(row: dict[str, Any]) -> str:
    """Reference -> current summary statistics and new categories, on one line."""
    detail = row.get("detail") or {}
    summ = detail.get("summary") or {}
    ref, cur = summ.get("reference") or {}, summ.get("current") or {}
    parts = []
    new = detail.get("new_categories") or {}
    if new:
        parts.append("new " + ", ".join(f"{name} ({count})" for name, count in new.items()))
    for key, name in (("mean", "mean"), ("median", "median"), ("std", "std")):
        if key in cur:
            parts.append(f"{name} {_stat(ref.get(key))} -> {_stat(cur.get(key))}")
    if "missing_share" in cur:
        parts.append(f"missing {percent(ref.get('missing_share'))} -> {percent(cur.get('missing_share'))}")
    for key, name in (("out_of_range_share", "outside training range"), ("outlier_share", "outliers")):
        if cur.get(key):
            parts.append(f"{name} {percent(cur[key])}")
    return "  ".join(parts)


class FeatureDetail(Static):
    DEFAULT_CSS = """
    FeatureDetail { height: auto; max-height: 5; padding: 0 1; background: $boost; }
    """


class DriftScreen(ReportScreen):
    VIEW = "drift"
    DEFAULT_CSS = """
    DriftScreen LiveTable { height: 1fr; min-height: 4; }
    """
    COLUMNS = (Column("feature", min_width=12), Column("status"), Column("effect"), Column("test", 1),
               Column("statistic", 2), Column("p value", 3), Column("rows", 3), Column("kind", 4))

    def __init__(self, model: str, report_id: int | None = None) -> None:
        super().__init__(model)
        self.report_id = report_id
        self.report: dict[str, Any] | None = None
        self.report_ids: list[int] = []  # the trend's reports, oldest first
        #: opened from an alert (console/screens/alert_subject.py): the feature to select
        #: first, and the alert, so `v` opens the version with it (its rollback annotates it)
        self.focus_feature: str | None = None
        self.alert_id: int | None = None
        #: the alert's version, for a report over every version (the production one)
        self.alert_version: int | None = None

    def title_text(self) -> str:
        return f"drift {self.model}" + (f" #{self.report_id}" if self.report_id else "")

    def compose_body(self) -> ComposeResult:
        yield SummaryLine(id="summary")
        yield LiveTable(self.COLUMNS, id="table")
        yield FeatureDetail(id="feature-detail")
        yield HistogramPanel(id="histogram")
        yield SeriesPanel(id="trend")

    def fetch(self) -> Any:
        import plotext  # noqa: F401  (imported here, in the worker: the UI thread draws with it next)

        from monitoring import reading

        trend = reading.drift_trend(self.wk.store, self.model)
        report: dict[str, Any] | None
        if self.report_id is not None:
            report = reading.report(self.wk.store, "drift", self.report_id, model=self.model)
        else:
            report = reading.latest(self.wk.store, self.model, "drift")
        return {"report": report, "trend": trend}

    def rows_from(self, data: dict[str, Any]) -> list[TableRow]:
        self.report = report = data["report"]
        trend = data["trend"]
        self.report_ids = [t["id"] for t in trend]
        self.query_one(SummaryLine).update(self._summary(report))
        self.query_one(SeriesPanel).show(
            "", [
                Series("drift share", [t["drift_share"] for t in trend],
                       percent(next((t["drift_share"] for t in reversed(trend) if t["drift_share"] is not None),
                                    None))),
                Series("domain AUC", [t["domain_auc"] for t in trend],
                       latest_text([t["domain_auc"] for t in trend], ".2f"), from_zero=False)],
            empty="no drift reports yet")
        if report is None:
            return []
        return [TableRow(f["feature"], (
            f["feature"], state_text(f["status"]), _number(f["effect_size"]), f["test"] or "-",
            _stat(f["statistic"]), _number(f["p_value"]), f"{f['n_current']:,}", f["kind"],
        ), f) for f in report["feature_rows"]]

    def show(self, data: Any) -> None:
        super().show(data)
        if self.focus_feature is not None:
            keys = [r.key for r in self.table.shown_rows]
            if self.focus_feature in keys:
                self.table.move_cursor(row=keys.index(self.focus_feature), animate=False)
                self.show_detail()
            self.focus_feature = None

    def action_open_version(self) -> None:
        """The report's version with its lineage (from an alert: its rollback is the alert's)."""
        from console.screens.version import VersionScreen

        version = (self.report or {}).get("version") or self.alert_version
        if version is None:
            self.notify("this report covers all versions: open one from :versions", timeout=4)
            return
        screen = VersionScreen(self.model, str(version))
        screen.alert_id = self.alert_id
        self.wk.open_screen(screen, f"version {self.model} {version}")

    def _summary(self, report: dict[str, Any] | None) -> Text:
        if report is None:
            return Text(f"no drift report for {self.model} yet: a drift check of a window stores one",
                        style="dim")
        status = report["status"]
        version = f"v{report['version']}" if report["version"] else "all versions"
        where = f"#{report['id']} {version}, {window_text(report)}, {report['rows']:,} rows"
        if status in (CheckStatus.INSUFFICIENT, CheckStatus.NOT_LOGGED):
            return summary(status, f"{report['reason']}  ({where})")
        domain = report.get("domain") or {}
        auc = report["domain_auc"]
        threshold = domain.get("threshold")
        line = (f"{report['drifted']} of {report['features']} features ({percent(report['drift_share'])}); "
                f"domain AUC {_number(auc, 2)}" + (f" (drift above {threshold:.2f})" if threshold else "")
                + f"  {where}")
        return summary(status, line)

    def show_detail(self) -> None:
        row = self.selected()
        detail = self.query_one(FeatureDetail)
        panel = self.query_one(HistogramPanel)
        if row is None:
            empty = ("no feature verdicts: " + state_text(self.report["status"])) if self.report else ""
            detail.update(Text(empty, style="dim"))
            panel.show("", [], [], [], "")
            return
        f = row.raw
        text = Text(f["feature"], style="bold")
        text.append(f" {f['reason'] or state_text(f['status'])}")
        if (extra := feature_summary(f)):
            text.append("\n" + extra, style="dim")
        detail.update(text)
        stored = (f.get("detail") or {}).get("histogram") or {}
        labels, reference, current = histogram_bins(stored)
        panel.show(f"{f['feature']}: share of rows per {'category' if 'categories' in stored else 'bin'}",
                   labels, reference, current, "no histogram stored for this feature",
                   categories="categories" in stored)

    def _step(self, by: int) -> None:
        ids = self.report_ids
        if not ids:
            return
        current = self.report["id"] if self.report else ids[-1]
        index = ids.index(current) + by if current in ids else len(ids) - 1
        if not 0 <= index < len(ids):
            self.notify("no older report" if by < 0 else "this is the newest report", timeout=2)
            return
        self.report_id = None if index == len(ids) - 1 else ids[index]
        self.query_one(StatusHeader).view_title = self.title_text()
        self.reload()

    def action_older_report(self) -> None:
        self._step(-1)

    def action_newer_report(self) -> None:
        self._step(1)
