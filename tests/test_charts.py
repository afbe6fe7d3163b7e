"""Text charts (console/charts.py): sparklines, the trend panel under the Overview and
Deployments tables, and the plotext chart of `wk deploy show`; pure, no Textual."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from console.charts import BLOCKS, plot_routes, sparkline, trend_cell, trend_panel
from serving.traffic.rollup import BUCKETS, bucket_of
from store.rollups import TrafficPoint

T0 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def point(minute: int, requests: int, rows: int | None = None, errors: int = 0, ms: float = 2.0,
          minutes: int = 1) -> TrafficPoint:
    answered = (rows if rows is not None else requests) - errors
    buckets = [0] * BUCKETS
    buckets[bucket_of(ms)] += answered
    return TrafficPoint(T0 + timedelta(minutes=minute), minutes, requests, answered, errors, tuple(buckets))


def test_sparkline_scales_from_zero_to_the_top() -> None:
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7, 8]) == "▁▁▂▃▄▅▆▇█"
    assert sparkline([8, 8, 8]) == "███"  # a flat line reads as its level, not as noise
    assert sparkline([4, 4], top=8) == "▄▄"  # a shared scale
    assert sparkline([0, 0]) == "▁▁" and sparkline([]) == ""


def test_sparkline_leaves_a_gap_where_there_is_no_value() -> None:
    assert sparkline([None, 2.0, None, 4.0]) == " ▄ █"
    assert sparkline([float("nan"), 1.0]) == " █"
    assert set(sparkline([i / 7 for i in range(50)])) <= set(BLOCKS)


def test_trend_cell_merges_to_its_width() -> None:
    points = [point(m, m) for m in range(60)]
    cell = trend_cell(points, 12)
    assert len(cell) == 12 and cell[0] == "▁" and cell[-1] == "█"
    assert trend_cell([], 12) == "-"


def test_trend_panel_fits_its_width_shares_the_scale_and_shows_rows_where_they_differ() -> None:
    champion = [point(m, 40, ms=3.0) for m in range(45)]
    challenger = [point(m, 4, rows=12, errors=1 if m == 44 else 0, ms=40.0) for m in range(45)]
    for width in (60, 78, 118):
        lines = trend_panel([("champion v1", champion), ("challenger v2", challenger)], width)
        assert all(len(line) <= width for line in lines), (width, lines)
        heading, requests, p95, errors = lines
        assert "champion v1" in heading and "challenger v2" in heading
        assert requests.startswith("req/min") and p95.startswith("p95 ms") and errors.startswith("err %")
        assert " 40 " in requests and requests.endswith(" 4 (12 rows)")  # the challenger's rows differ
        # one scale per line: the challenger's 4 req/min is the lowest block beside 40
        assert "▁" * 5 in requests and "█" * 5 in requests
        assert "█" in p95 and errors.endswith("8.3%")
    wide = trend_panel([("", champion)], 118)[1]
    assert wide.count("█") == 90  # 45 points, two cells each at this width


def test_plot_routes_draws_both_routes_within_the_width() -> None:
    champion = [point(m, 30 + m % 5, ms=3.0, minutes=3) for m in range(0, 180, 3)]
    challenger = [point(m, 3, ms=7.0, minutes=3) for m in range(0, 180, 3)]
    for width in (60, 79, 100):
        text = plot_routes([("champion v1", champion), ("challenger v2", challenger)], width, 12, colour=False)
        lines = text.splitlines()
        assert all(len(line) <= width for line in lines), (width, max(len(line) for line in lines))
        assert "requests/min" in lines[0] and "p95 ms" in lines[0]
        assert "now" in text and "-180" in text
        assert "▚ champion v1" in text and "▚ challenger v2" in text
        assert "\033" not in text
    coloured = plot_routes([("champion v1", champion)], 80, 12, colour=True)
    assert "\033[" in coloured


@pytest.mark.parametrize("module", ["console.charts", "console.cli.deploy"])
def test_charts_import_neither_textual_nor_plotext(module: str) -> None:
    """The CLI draws with them: `wk deploy show` piped must not pay for plotext, and
    nothing outside the console's screens may load Textual."""
    code = (f"import sys, {module}; bad = [m for m in ('textual', 'plotext') if m in sys.modules]; "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
