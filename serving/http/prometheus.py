"""Prometheus metrics of the server (prometheus_client: the text format, histograms and
label handling as Prometheus defines them, rather than a hand-written exporter).

Requests, errors and latency are labelled by model, version and route; requests for a
model the server does not know are counted without labels, so a client cannot grow
the label set.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)

disable_created_metrics()  # the _created series double the output and nobody graphs them

LATENCY_BUCKETS_S = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1,
                     0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # process_resident_memory_bytes and process_cpu_seconds_total: a probe job records
        # them, for the server-memory and server-cpu alert rules
        ProcessCollector(registry=self.registry)
        labels = ("model", "version", "route")
        self.requests = Counter("wk_requests", "Prediction requests answered or refused",
                                labels, registry=self.registry)
        self.errors = Counter("wk_request_errors", "Prediction requests refused or failed",
                              (*labels, "status"), registry=self.registry)
        self.latency = Histogram("wk_request_latency_seconds",
                                 "Prediction request latency, from the body read to the logged answer",
                                 labels, buckets=LATENCY_BUCKETS_S, registry=self.registry)
        self.rows = Counter("wk_predicted_rows", "Rows scored", labels, registry=self.registry)
        self.unrouted = Counter("wk_unrouted_requests", "Requests that reached no served model "
                                "(unknown model, bad path, oversize body)", ("status",), registry=self.registry)
        self.log_commits = Histogram("wk_prediction_log_commit_seconds",
                                     "Time of one group commit of the prediction log",
                                     buckets=LATENCY_BUCKETS_S, registry=self.registry)
        self.log_rows = Counter("wk_prediction_log_rows", "Rows committed to the prediction log",
                                registry=self.registry)
        self.log_pending = Gauge("wk_prediction_log_pending_rows", "Rows waiting for a commit",
                                 registry=self.registry)
        self.log_failures = Counter("wk_prediction_log_failures", "Group commits that failed",
                                    registry=self.registry)
        self.shadow_failures = Counter("wk_shadow_failures", "Shadow predictions that failed",
                                       ("model", "version"), registry=self.registry)
        self.model_load_errors = Gauge("wk_model_load_errors", "Models whose current version failed to load",
                                       registry=self.registry)
        self.auth_refused = Counter("wk_auth_refused", "Requests refused for their API token "
                                    "(401: missing, unknown, revoked, expired; 403: out of scope)",
                                    ("status",), registry=self.registry)
        self.rate_limited = Counter("wk_rate_limited", "Requests refused with 429 by a token's or a "
                                    "model's rate limit (token: its name, never its secret)",
                                    ("token", "model", "limit"), registry=self.registry)
        self._children: dict[tuple[str, int, str], tuple[Any, Any, Any]] = {}

    def route(self, model: str, version: int, route: str) -> tuple[Any, Any, Any]:
        """(requests, latency, rows) children for the labels, cached (labels() costs a lock)."""
        key = (model, version, route)
        child = self._children.get(key)
        if child is None:
            labels = (model, str(version), route)
            child = self._children[key] = (self.requests.labels(*labels), self.latency.labels(*labels),
                                           self.rows.labels(*labels))
        return child

    def on_commit(self, seconds: float, rows: int) -> None:
        self.log_commits.observe(seconds)
        self.log_rows.inc(rows)

    def render(self) -> bytes:
        return generate_latest(self.registry)
