"""Issue 10's acceptance, end to end: for each scripted event of sample_models/, traffic
goes through the real HTTP server (`wk serve` in its own process), labels arrive through
/v1/feedback, the checks run from the CLI, and the right signal shows in their stored
reports. Each scenario has its own window of wall-clock time, so one server and one store
serve them all."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from sample_models import USE_CASES
from sample_models.events import Event, broken_column, concept_drift, covariate_drift, new_category

ROWS = 400  # per scenario: enough for every test's minimum (100) with room for refusals
STREAM_START = datetime(2026, 2, 1, tzinfo=UTC)  # after the shipped training data


class Scenario:
    """Traffic sent for one scenario and the window that covers it."""

    def __init__(self, since: datetime, until: datetime, answered: list[str], refused: int) -> None:
        self.since, self.until, self.answered, self.refused = since, until, answered, refused

    def window(self) -> list[str]:
        return ["--from", self.since.isoformat(), "--to", self.until.isoformat()]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    from serving_store import Server

    from registry.aliases import promote
    from registry.training import train
    from store.handle import init_store

    root = tmp_path_factory.mktemp("monitoring") / "store"
    store, _ = init_store(root)
    try:
        for case in ("credit", "demand"):
            spec = USE_CASES[case].spec
            out = train(store, str(spec))
            promote(store, out["version"]["model"], 1, "production", reason="scenario baseline")
    finally:
        store.close()
    server = Server(root).start()
    try:
        yield root, server.url
    finally:
        server.kill()


def _send(url: str, model: str, case: str, events: list[Event], *, seed: int,
          labels: bool = False, refusals: bool = False) -> Scenario:
    """ROWS rows, 25 to a request; one row a request where rows will be refused (a
    refused row refuses its whole request)."""
    use = USE_CASES[case]
    frame = use.generate(ROWS, STREAM_START, seed=seed, events=events)
    rows = json.loads(frame[list(use.features)].to_json(orient="records"))
    since = datetime.now(UTC) - timedelta(milliseconds=1)
    answered: list[str] = []
    refused = 0
    truth = use.label_for(frame, seed, events) if labels else None
    label_items = []
    per_request = 1 if refusals else 25
    with httpx.Client(base_url=url, timeout=30) as client:
        for first in range(0, len(rows), per_request):
            r = client.post(f"/v1/models/{model}/predict", json={"rows": rows[first:first + per_request]})
            if r.status_code != 200:
                assert refusals and r.status_code in (400, 422), r.text
                refused += 1
                continue
            for i, p in enumerate(r.json()["predictions"], first):
                answered.append(p["prediction_id"])
                if truth is not None:
                    value = truth.iloc[i]
                    label_items.append({"prediction_id": p["prediction_id"],
                                        "label": value.item() if hasattr(value, "item") else value})
        if label_items:
            for start in range(0, len(label_items), 200):
                fb = client.post("/v1/feedback", json={"labels": label_items[start:start + 200]})
                assert fb.status_code == 200, fb.text
    until = datetime.now(UTC) + timedelta(milliseconds=1)
    return Scenario(since, until, answered, refused)


@pytest.fixture(scope="module")
def cli(served: tuple[Path, str]) -> Callable[..., tuple[int, Any]]:
    import contextlib
    import io

    from console.cli import main

    root, _ = served

    def run(*args: str) -> tuple[int, Any]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main(["--store", str(root), "--json", *args])
        return code, json.loads(out.getvalue())

    return run


def _features(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["feature"]: f for f in report["feature_rows"]}


def test_covariate_drift_flags_the_feature_with_its_reason(served: Any, cli: Any) -> None:
    _, url = served
    s = _send(url, "credit-default", "credit", [covariate_drift(STREAM_START, "income", scale=0.5)], seed=21)
    code, report = cli("drift", "credit-default", *s.window())
    assert code == 1 and report["status"] == "drift"
    income = _features(report)["income"]
    assert income["status"] == "drift"
    assert income["test"] in income["reason"] and str(income["n_current"]) in income["reason"].replace(",", "")
    assert "income" in report["reason"]


def test_a_new_category_is_named_with_its_count(served: Any, cli: Any) -> None:
    _, url = served
    s = _send(url, "credit-default", "credit",
              [new_category(STREAM_START, "employment_type", "gig_worker", share=0.3)], seed=22,
              refusals=True)
    assert s.refused > 50  # the credit spec rejects unseen categories: they are in quarantine
    code, report = cli("drift", "credit-default", *s.window())
    assert code == 1
    employment = _features(report)["employment_type"]
    assert employment["status"] == "drift"
    assert employment["detail"]["new_categories"]["gig_worker"] == s.refused
    assert "gig_worker" in employment["reason"]


def test_concept_drift_lowers_realised_performance_but_not_the_estimate(served: Any, cli: Any) -> None:
    """CBPE assumes P(label | inputs) is unchanged: under concept drift the inputs and the
    model's confidence are as before, so its estimate stays while the realised metric falls."""
    _, url = served
    s = _send(url, "credit-default", "credit", [concept_drift(STREAM_START, "debt_ratio", factor=-1.0)],
              seed=23, labels=True)
    code, drift = cli("drift", "credit-default", *s.window())
    assert drift["status"] == "ok", drift  # the inputs did not move
    code, reports = cli("perf", "credit-default", *s.window())
    (report,) = reports
    assert report["labelled"] == len(s.answered) and report["coverage"] == 1.0
    realised, estimated, training = report["realised"], report["estimated"], report["training"]
    print(realised, estimated, training)
    assert realised["roc_auc"] < training["roc_auc"] - 0.05
    assert abs(estimated["roc_auc"] - training["roc_auc"]) < 0.05
    assert code == 1 and report["status"] == "failed"
    assert "no concept drift" in estimated["assumptions"]


def test_quality_flags_a_broken_column(served: Any, cli: Any) -> None:
    _, url = served
    s = _send(url, "store-demand", "demand", [broken_column(STREAM_START, "humidity", mode="nulls")], seed=24,
              refusals=True)
    code, report = cli("quality", "store-demand", *s.window())
    assert code == 1 and report["status"] == "failed"
    assert any(f["column"] == "humidity" and f["severity"] == "error" for f in report["findings"]), report


def test_quality_flags_a_unit_change(served: Any, cli: Any) -> None:
    _, url = served
    s = _send(url, "store-demand", "demand", [broken_column(STREAM_START, "temperature", mode="fahrenheit")],
              seed=25)
    code, report = cli("quality", "store-demand", *s.window())
    assert code == 1, report
    unit = [f for f in report["findings"] if f["column"] == "temperature"]
    assert unit and any("unit" in f["check"] for f in unit), report["findings"]


def test_a_window_without_events_shows_nothing(served: Any, cli: Any) -> None:
    _, url = served
    s = _send(url, "credit-default", "credit", [], seed=26)
    code, report = cli("drift", "credit-default", *s.window())
    assert code == 0 and report["status"] == "ok", report["reason"]
    code, quality = cli("quality", "credit-default", *s.window())
    assert code == 0, quality["findings"]


def test_metadata_only_says_inputs_not_logged_and_still_reports_performance(served: Any, cli: Any) -> None:
    root, url = served
    code, _ = cli("deploy", "set", "credit-default", "--log", "metadata", "--reason", "pii review")
    assert code == 0
    try:
        import time

        time.sleep(1.5)  # the server reads deployment changes every 0.5 s
        s = _send(url, "credit-default", "credit", [], seed=27, labels=True)
        code, drift = cli("drift", "credit-default", *s.window())
        assert code == 4 and drift["status"] == "not_logged"
        assert "inputs not logged" in drift["reason"]
        code, reports = cli("perf", "credit-default", *s.window())
        (report,) = reports
        assert report["labelled"] == len(s.answered) and report["realised"]["roc_auc"] > 0.6
    finally:
        code, shown = cli("deploy", "set", "credit-default", "--log", "full", "--reason", "review done")
        assert code == 0 and shown["log_mode"] == "full", shown


def test_too_few_rows_is_insufficient_data(served: Any, cli: Any) -> None:
    code, report = cli("drift", "credit-default", "--from", "2020-01-01T00:00", "--to", "2020-01-02T00:00")
    assert code == 4 and report["status"] == "insufficient"
    assert report["reason"].startswith("insufficient data: 0 rows, need 100")


def test_reports_are_stored_and_listed(served: Any, cli: Any) -> None:
    code, rows = cli("monitor", "reports", "credit-default", "--kind", "drift")
    assert code == 0 and len(rows) >= 1
