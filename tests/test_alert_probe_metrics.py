"""The probe reads a server's /metrics beside /readyz and keeps its resident memory and
CPU seconds (the server-memory and server-cpu alert rules read them), and the server
exposes them (prometheus_client's process collector)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from test_scheduler_kinds import context

from scheduler.kinds import kind_spec
from scheduler.kinds.probe import process_figures

METRICS = (b"# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
           b"# TYPE process_resident_memory_bytes gauge\n"
           b"process_resident_memory_bytes 3.145728e+08\n"
           b"# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
           b"# TYPE process_cpu_seconds_total counter\n"
           b"process_cpu_seconds_total 12.5\n")


class _Server(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server hook
        self.send_response(200 if self.path in ("/readyz", "/metrics") else 404)
        self.end_headers()
        self.wfile.write(METRICS if self.path == "/metrics" else b'{"ready": true}')

    def log_message(self, *args: Any) -> None:
        pass


def test_probe_keeps_the_servers_memory_and_cpu(store: Any) -> None:
    from sqlmodel import select

    from store.job_tables import ProbeResult

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        outcome = kind_spec("probe").run_function()(context(store, "probe-api", "probe",
                                                            {"url": url}))
    finally:
        server.shutdown()
    assert outcome.result["rss_mb"] == 300.0 and outcome.result["cpu_s"] == 12.5
    with store.db.read() as session:
        row = session.exec(select(ProbeResult)).one()
    assert (row.ok, row.rss_mb, row.cpu_s) == (True, 300.0, 12.5)


def test_process_figures_of_the_real_server_metrics() -> None:
    from serving.http.prometheus import ServerMetrics

    rss, cpu = process_figures(ServerMetrics().render().decode())
    assert rss is not None and rss > 1 and cpu is not None and cpu > 0
    assert process_figures("not { prometheus") == (None, None)
    assert process_figures("") == (None, None)
