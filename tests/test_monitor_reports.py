"""The stored monitoring reports read back: the read service (monitoring/reading.py),
`wk monitor reports` (--json and its table at 80 columns), and the console's Drift,
Quality and Performance screens driven as a person would, at 80x24.

The store is the console's snapshot store (tests/console_store.py) with the reports of
tests/monitoring_reports.py, written through store/reports.py as the checks write them."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import console_store
import pytest
from console_store import SNAPSHOT_NOW, build_console_store
from monitoring_reports import CBPE_ASSUMPTIONS, INCOME_REASON, PURPOSE_REASON
from textual.pilot import Pilot

from console.app import make_app
from console.screens.base import WkScreen
from console.widgets.live_table import LiveTable
from monitoring import reading
from store.errors import NotFound, UsageError
from store.handle import Store


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("WK_DATABASE_URL", raising=False)
        store = build_console_store(tmp_path_factory.mktemp("monitor") / "store")
    yield store
    store.close()


utc_time_zone = pytest.fixture(scope="module", autouse=True)(console_store.utc_time_zone)


# --- the read service ---------------------------------------------------------------

def test_reports_are_newest_first_with_names_numbers_and_iso_times(monitored: Store) -> None:
    drift = reading.reports(monitored, "credit-default", "drift")
    assert [r["window_end"] for r in drift] == sorted((r["window_end"] for r in drift), reverse=True)
    newest = drift[0]
    assert newest["model"] == "credit-default" and newest["version"] == 1 and newest["kind"] == "drift"
    assert newest["window_end"] == "2026-11-21T09:00:00Z" and "model_id" not in newest
    assert newest["status"] == "drift" and newest["drifted"] == 2 and newest["domain_auc"] == 0.81
    json.dumps(drift)  # JSON-safe as it is
    v2 = reading.reports(monitored, "credit-default", "performance", version="v2")
    assert {r["version"] for r in v2} == {2} and len(v2) == 2
    assert reading.reports(monitored, "credit-default", "performance", version="production")[0]["version"] == 1
    since = reading.reports(monitored, "credit-default", "drift", since=SNAPSHOT_NOW)
    assert [r["window_end"] for r in since] == ["2026-11-21T09:00:00Z"]


def test_a_drift_reports_features_come_by_severity(monitored: Store) -> None:
    report = reading.latest(monitored, "credit-default", "drift")
    assert report is not None
    rows = report["feature_rows"]
    assert [f["feature"] for f in rows] == ["income", "purpose", "prediction", "debt_ratio", "age"]
    assert rows[0]["reason"] == INCOME_REASON and rows[1]["detail"]["new_categories"] == {"crypto": 41}
    assert reading.feature_order({"feature": "x", "status": "insufficient", "effect_size": None}) < \
        reading.feature_order({"feature": "y", "status": "ok", "effect_size": 0.9})


def test_a_performance_report_names_its_metric_and_whether_it_is_thin(monitored: Store) -> None:
    rows = reading.reports(monitored, "credit-default", "performance", version=1)
    assert {r["metric"] for r in rows} == {"roc_auc"}
    assert [r["thin"] for r in rows] == [True, False, False, False, False, False]
    demand = reading.reports(monitored, "store-demand", "performance")
    assert demand[0]["metric"] == "mae" and demand[0]["estimated"] is None


def test_latest_states_per_model(monitored: Store) -> None:
    states = reading.latest_states(monitored)
    assert set(states) == {"credit-default", "store-demand", "churn-risk"}
    credit = states["credit-default"]
    assert credit["drift"]["status"] == "drift" and credit["drift"]["drifted"] == 2
    assert credit["quality"]["status"] == "failed" and credit["quality"]["errors"] == 1
    latest = {p["version"]: p for p in credit["performance"]}
    assert set(latest) == {1, 2}
    assert latest[1]["realised"] == 0.705 and latest[1]["estimated"] == 0.8011 and latest[1]["thin"]
    assert latest[2]["coverage"] == pytest.approx(131 / 505) and not latest[2]["thin"]
    assert states["store-demand"]["drift"]["status"] == "insufficient"
    assert states["churn-risk"]["drift"]["status"] == "not_logged" and states["churn-risk"]["performance"] == []


def test_trends_are_oldest_first(monitored: Store) -> None:
    drift = reading.drift_trend(monitored, "credit-default")
    assert [t["drift_share"] for t in drift] == [None, 0.0, 0.0, 0.2, 0.0, 0.2, 0.4]
    assert drift[0]["status"] == "insufficient" and drift[-1]["domain_auc"] == 0.81
    perf = reading.performance_trend(monitored, "credit-default")
    assert perf["metric"] == "roc_auc" and [v["version"] for v in perf["versions"]] == [2, 1]
    v1 = perf["versions"][1]["points"]
    assert [p["realised"] for p in v1] == [0.8102, 0.7988, 0.771, 0.7402, 0.7135, 0.705]
    assert all(abs(p["estimated"] - 0.80) < 0.01 for p in v1)  # the estimate holds: concept drift


def test_bad_requests_name_the_problem(monitored: Store) -> None:
    with pytest.raises(UsageError, match="'drfit' is not a kind of report"):
        reading.reports(monitored, "credit-default", "drfit")
    with pytest.raises(UsageError, match="outside 1..1000"):
        reading.reports(monitored, "credit-default", "drift", limit=0)
    with pytest.raises(NotFound, match="model 'credit' does not exist"):
        reading.reports(monitored, "credit", "drift")
    with pytest.raises(NotFound, match="no version 9"):
        reading.reports(monitored, "credit-default", "drift", version=9)
    with pytest.raises(NotFound, match="no quality report 999"):
        reading.report(monitored, "quality", 999)
    other = reading.reports(monitored, "store-demand", "drift")[0]["id"]
    with pytest.raises(NotFound, match="is of model 'store-demand', not 'credit-default'"):
        reading.report(monitored, "drift", other, model="credit-default")


# --- wk monitor reports -------------------------------------------------------------

def wk(capsys: pytest.CaptureFixture[str], store: Store, *args: str) -> tuple[int, str, str]:
    from console.cli import main

    capsys.readouterr()
    code = main(["--store", str(store.location.root), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_json_lists_every_kind(monitored: Store, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = wk(capsys, monitored, "monitor", "reports", "credit-default", "--json")
    assert code == 0
    doc = json.loads(out)
    kinds = [r["kind"] for r in doc]
    assert kinds.count("drift") == 7 and kinds.count("quality") == 1 and kinds.count("performance") == 8
    perf = [r for r in doc if r["kind"] == "performance"]
    assert perf[0]["estimated"]["assumptions"] == CBPE_ASSUMPTIONS
    code, out, _err = wk(capsys, monitored, "monitor", "reports", "credit-default", "--kind", "drift",
                         "--limit", "2", "--json")
    assert [r["id"] for r in json.loads(out)] == [r["id"] for r in
                                                   reading.reports(monitored, "credit-default", "drift")[:2]]


def test_cli_tables_fit_80_columns(monitored: Store, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _err = wk(capsys, monitored, "monitor", "reports", "credit-default")
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0] == "drift reports" and "quality reports" in lines and "performance reports" in lines
    drift = lines[1:3]
    assert drift[0].split()[:5] == ["ID", "WINDOW", "END", "VER", "STATUS"]
    assert drift[1].split()[2:5] == ["v1", "drift", "2/5"]
    perf = lines[lines.index("performance reports") + 1:]
    thin = next(line for line in perf if "insufficient" in line)
    assert "0.7050" in thin and "0.8011" in thin and "0.2%" in thin  # realised, estimate, coverage
    code, out, _err = wk(capsys, monitored, "monitor", "reports", "store-demand", "--kind", "quality", "--wide")
    assert out.splitlines()[1].split()[2:4] == ["v2", "ok"]


def test_cli_errors_and_empty_kinds(monitored: Store, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = wk(capsys, monitored, "monitor", "reports", "credit-defualt")
    assert code == 1 and "model 'credit-defualt' does not exist" in err and "wk models list" in err
    code, out, _err = wk(capsys, monitored, "monitor", "reports", "churn-risk", "--kind", "performance")
    assert code == 0 and out.strip() == "no performance reports for churn-risk"
    code, _out, err = wk(capsys, monitored, "monitor", "reports", "credit-default", "--limit", "0")
    assert code == 2 and "outside 1..1000" in err and "add --limit 50" in err


# --- the screens, as a person uses them at 80x24 --------------------------------------

def screen_text(app: Any) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def settle(pilot: Pilot[Any], until: Callable[[Any], bool]) -> None:
    deadline = time.monotonic() + 20
    while True:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if until(pilot.app.screen):
            break
        assert time.monotonic() < deadline, f"did not settle: {pilot.app.screen!r}"
    await pilot.pause()


def loaded(view: str) -> Callable[[Any], bool]:
    return lambda s: isinstance(s, WkScreen) and s.VIEW == view and s._loaded_once


def run_80x24(store: Store, start: str, scenario: Callable[[Pilot[Any]], Awaitable[None]]) -> None:
    async def main() -> None:
        app = make_app(store, clock=lambda: SNAPSHOT_NOW, refresh_interval=3600, start=start)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, lambda s: isinstance(s, WkScreen) and s._loaded_once)
            await scenario(pilot)

    asyncio.run(main())


def test_drift_opens_from_a_model_and_shows_the_selected_features_histogram(monitored: Store) -> None:
    """On the Overview, j to credit-default, i: its Drift, income first (drifted, largest
    effect) with its reason; j to purpose: its reason, the new category, and the
    histogram's categories with crypto; [ goes to the report before."""

    async def scenario(pilot: Pilot[Any]) -> None:
        table = pilot.app.screen.query_one(LiveTable)
        while table.selected_key() != "credit-default":
            await pilot.press("j")
        await pilot.press("i")
        await settle(pilot, loaded("drift"))
        screen = pilot.app.screen
        assert screen.model == "credit-default"
        text = " ".join(screen_text(pilot.app).split())
        assert "drift 2 of 5 features (40%); domain AUC 0.81" in text
        assert INCOME_REASON in text and "8k" in text and "162k" in text  # income's bins
        assert screen.query_one(LiveTable).shown_keys[:2] == ["income", "purpose"]
        await pilot.press("j")
        await settle(pilot, lambda s: s.query_one(LiveTable).selected_key() == "purpose")
        lines = screen_text(pilot.app).splitlines()
        text = " ".join(" ".join(lines).split())
        assert PURPOSE_REASON in text and "new crypto (41)" in text
        axis = next(line for line in lines if "education" in line)
        assert axis.split() == ["car", "education", "home", "crypto"]
        assert "▒ reference █ current" in text
        assert any("drift share" in line and line.rstrip().endswith("40%") for line in lines)
        assert max(len(line.rstrip()) for line in lines) <= 80
        newest = screen.report["id"]
        await pilot.press("left_square_bracket")
        await settle(pilot, lambda s: s.report is not None and s.report["id"] != newest)
        assert screen.report["drift_share"] == 0.2 and "drift 1 of 5 features" in " ".join(
            screen_text(pilot.app).split())

    run_80x24(monitored, "overview", scenario)


def test_too_few_rows_and_inputs_not_logged_are_never_ok(monitored: Store) -> None:
    async def insufficient(pilot: Pilot[Any]) -> None:
        text = " ".join(screen_text(pilot.app).split())
        assert "insufficient data 37 rows, need 100" in text and "no feature verdicts" in text
        assert " ok " not in text

    run_80x24(monitored, "drift store-demand", insufficient)

    async def not_logged(pilot: Pilot[Any]) -> None:
        text = " ".join(screen_text(pilot.app).split())
        assert "inputs not logged the deployment logs metadata only" in text and " ok " not in text

    run_80x24(monitored, "drift churn-risk", not_logged)


def test_quality_and_performance_at_80x24(monitored: Store) -> None:
    async def quality(pilot: Pilot[Any]) -> None:
        lines = screen_text(pilot.app).splitlines()
        rows = [line.split()[0] for line in lines if line.split()[:1] in (["error"], ["warning"])]
        assert rows == ["error", "warning", "warning"]  # errors first
        text = " ".join(" ".join(lines).split())
        assert "failed 1 error, 2 warnings, 1 quarantined" in text
        assert "debt_ratio is null in every row since 2026-11-20 11:00" in text
        assert "quarantined 1: age: 131 is above the training maximum 79 (1)" in text
        await pilot.press("m")  # to the same model's performance
        await settle(pilot, loaded("performance"))
        lines = screen_text(pilot.app).splitlines()
        text = " ".join(" ".join(lines).split())
        assert "estimate " + CBPE_ASSUMPTIONS in text and "1 thin window" in text
        thin = next(line for line in lines if line.split()[:1] == ["11-21"] and " thin " in line)
        assert thin.split()[2:7] == ["v1", "thin", "0.7050", "0.8011", "0.2%"]  # realised beside estimate
        panel = {line.split()[0] + " " + line.split()[1]: line for line in lines
                 if line.split()[:1] in (["v1"], ["v2"]) and len(line.split()) == 4}
        assert panel["v1 roc_auc"].rstrip().endswith("0.7050")
        assert panel["v1 estimate"].rstrip().endswith("0.8011")
        assert panel["v1 coverage"].rstrip().endswith("0.2%")

    run_80x24(monitored, "quality credit-default", quality)


def test_the_help_screen_lists_the_monitoring_keys_and_views(monitored: Store) -> None:
    from console.actions import SCREEN_ACTIONS
    from console.navigation import VIEWS

    keys = {a.id: a.key for a in SCREEN_ACTIONS}
    assert (keys["drift"], keys["quality"], keys["performance"]) == ("i", "u", "m")
    assert {"drift", "quality", "performance"} <= {v.name for v in VIEWS}

    async def scenario(pilot: Pilot[Any]) -> None:
        from textual.containers import VerticalScroll

        await pilot.press("question_mark")
        await pilot.pause()
        pages = [screen_text(pilot.app)]
        scroll = pilot.app.screen.query_one(VerticalScroll)
        while scroll.scroll_y < scroll.max_scroll_y:  # every page of the help, at 80x24
            scroll.scroll_page_down(animate=False)
            await pilot.pause()
            await pilot.pause()
            pages.append(screen_text(pilot.app))
        text = " ".join(" ".join(pages).split())
        assert ":drift MODEL [ID]" in text and ":performance MODEL" in text

    run_80x24(monitored, "overview", scenario)


def test_a_bad_report_number_is_refused_before_the_view_opens(monitored: Store, tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        pilot.app.run_command("drift credit-default 999")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert pilot.app.screen.VIEW == "overview"
        with pytest.raises(ValueError, match="usage: :drift MODEL"):
            pilot.app.screen_for("drift")

    run_80x24(monitored, "overview", scenario)


# --- the charts, pure ----------------------------------------------------------------

def test_a_histogram_draws_reference_and_current_apart_within_its_width() -> None:
    from console.report_charts import CURRENT_MARK, REFERENCE_MARK, histogram, histogram_bins

    labels, reference, current = histogram_bins(
        {"edges": [0.0, 0.2, 0.4, 0.6], "reference": [0.6, 0.3, 0.1], "current": [0.1, 0.3, 0.6]})
    assert labels == ["0", "0.2", "0.4"]
    lines = histogram(labels, reference, current, 60, 8, colour=False).splitlines()
    assert len(lines) <= 8 and max(len(line) for line in lines) <= 60
    assert lines[-1].split() == ["0", "0.2", "0.4"]
    top = lines[1]  # the highest row: the reference of the first bin, the current of the last
    assert REFERENCE_MARK in top[:len(top) // 2] and CURRENT_MARK in top[len(top) // 2:]
    assert CURRENT_MARK not in top[:len(top) // 2] and REFERENCE_MARK not in top[len(top) // 2:]
    # lengths that disagree (a damaged row) draw nothing rather than a wrong chart
    assert histogram_bins({"categories": ["a", "b"], "reference": [1.0], "current": [0.5, 0.5]}) == ([], [], [])


def test_a_series_line_fits_its_width_and_keeps_the_newest_values() -> None:
    from console.report_charts import scale, series_line

    values = [0.5 + i / 100 for i in range(100)]
    line = series_line("domain AUC", values, "1.49", 40, top=max(values))
    assert len(line) == 40 and line.endswith(" 1.49") and line[14:-5][-1] == "█"
    assert series_line("share", [None, 0.0, 0.4], "40%", 40).split()[1] == "▁▁▁███"  # None: blank
    bottom, top = scale([0.81, 0.71], from_zero=False)
    assert bottom < 0.71 and top == 0.81  # a fall from 0.81 to 0.71 shows, not two full bars
