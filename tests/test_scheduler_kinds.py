"""The job kinds that run the store's own work, called the way a run's child calls them
(a real store, a real job and run row): score, drift / quality / performance, probe."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from serving_store import build_store, free_port, tiny_frame

from scheduler.jobs_service import JobSettings, add_job
from scheduler.kinds import kind_spec
from scheduler.kinds.base import RunContext
from store import jobs as job_rows
from store.errors import InvalidInput
from store.handle import open_store
from store.vocabulary import JobTrigger


def context(store: Any, name: str, kind: str, args: dict[str, Any], model: str | None = None) -> RunContext:
    add_job(store, name, kind, JobSettings(every="1h", model=model, args=args))
    with store.db.write() as session:
        job = job_rows.get_job(session, name)
        run = job_rows.queue_run(session, job, trigger=JobTrigger.RUN_NOW)
        session.expunge_all()
    return RunContext(store=store, job=job, run=run, args=job.args or {}, model=model,
                      log=logging.getLogger("test"))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Any]:
    store = open_store(build_store(tmp_path / "store"))
    yield store
    store.close()


def test_score_then_drift_and_quality_store_reports(served: Any, tmp_path: Path) -> None:
    X, _ = tiny_frame(rows=300, seed=11)
    X.to_csv(tmp_path / "new.csv", index=False)
    ctx = context(served, "nightly-score", "score",
                  {"source": str(tmp_path / "new.csv"), "sink": str(tmp_path / "out-{date}.csv")},
                  model="tiny")
    scored = kind_spec("score").run_function()(ctx)
    assert scored.rows == 300 and scored.result["rows_scored"] == 300
    written = list(tmp_path.glob("out-*.csv"))
    assert len(written) == 1 and len(written[0].read_text().splitlines()) == 301

    for kind in ("drift", "quality"):
        check = context(served, f"hourly-{kind}", kind, {"window": "1h"}, model="tiny")
        outcome = kind_spec(kind).run_function()(check)
        assert outcome.rows == 300, outcome
        (report_id,) = outcome.result["reports"]
        assert isinstance(report_id, int)
        assert outcome.summary.startswith(kind)
        from monitoring import reading

        assert [r["id"] for r in reading.reports(served, "tiny", kind)] == [report_id]


def test_score_sink_placeholders_are_checked(served: Any) -> None:
    with pytest.raises(InvalidInput, match=r"\{day\}"):
        add_job(served, "bad", "score", JobSettings(every="1d", model="tiny", args={
            "source": "a.csv", "sink": "out-{day}.csv"}))


class _Ready(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook
        self.send_response(self.status if self.path == "/readyz" else 404)
        self.end_headers()
        self.wfile.write(b'{"ready": false, "why": "model tiny failed to load"}'
                         if self.status != 200 else b'{"ready": true}')

    def log_message(self, *args: Any) -> None:
        pass


def _server(status: int) -> tuple[ThreadingHTTPServer, str]:
    handler = type("Handler", (_Ready,), {"status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def test_probe_records_each_answer_and_uptime_follows(store: Any) -> None:
    from scheduler.jobs_view import show_job

    ready, ready_url = _server(200)
    down, down_url = _server(503)
    try:
        run = kind_spec("probe").run_function()
        up = context(store, "probe-up", "probe", {"url": ready_url})
        assert run(up).result["ok"] is True
        bad = context(store, "probe-bad", "probe", {"url": down_url + "/readyz"})
        outcome = run(bad)
        assert outcome.result == {**outcome.result, "ok": False, "status_code": 503}
        assert "model tiny failed to load" in outcome.summary
    finally:
        ready.shutdown()
        down.shutdown()
    silent = context(store, "probe-silent", "probe", {"url": f"http://127.0.0.1:{free_port()}",
                                                      "probe_timeout": 1})
    assert run(silent).result["status_code"] is None
    run(up)  # its server is gone now: the second answer is a failure
    assert show_job(store, "probe-up")["uptime"]["24h"]["uptime"] == 0.5
    shown = show_job(store, "probe-bad")["uptime"]["24h"]
    assert shown["probes"] == 1 and shown["ready"] == 0 and shown["last_failure"]["status_code"] == 503


def test_probe_url_is_checked(store: Any) -> None:
    with pytest.raises(InvalidInput, match="not an http"):
        add_job(store, "p", "probe", JobSettings(every="30s", args={"url": "localhost:8000"}))
