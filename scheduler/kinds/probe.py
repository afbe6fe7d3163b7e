"""`probe`: ask a server's /readyz and record the answer (status, latency, error), so a
server's uptime is measured from its answers, not assumed; and read its /metrics for the
process's resident memory and CPU seconds (the server-memory and server-cpu rules). Schedule it often
(`--every 30s`); `wk jobs show` gives the uptime over the last day and week.

A server with API tokens on answers 401 to a probe without one: `token_env` names the
environment variable (of the scheduler's process) that holds a token; only the name is
stored with the job, the token is sent as `Authorization: Bearer ...` and never logged.

An answer that is not ready is recorded and the run still succeeds: the probe did its
job, the server is what failed (the alerts issue's probe rule reads these answers).
"""

from __future__ import annotations

from typing import Any

from scheduler.kinds.base import JobKindSpec, KindOption, Outcome, RunContext
from store.errors import InvalidInput
from store.markers import self_recording
from store.vocabulary import JobKind


def validate(args: dict[str, Any]) -> dict[str, Any]:
    from urllib.parse import urlsplit

    url = urlsplit(args["url"])
    if url.scheme not in ("http", "https") or not url.netloc:
        raise InvalidInput(f"the server's address {args['url']!r} is not an http(s) URL",
                           field="url", example="http://127.0.0.1:8000")
    if args.get("token_env") and not args["token_env"].replace("_", "").isalnum():
        raise InvalidInput(f"{args['token_env']!r} is not an environment variable's name",
                           field="token_env", example="WK_PROBE_TOKEN")
    if args["probe_timeout"] <= 0:
        raise InvalidInput("the probe's timeout must be above 0 seconds", field="probe_timeout",
                           example="5")
    return args


def readyz_url(base: str) -> str:
    base = base.rstrip("/")
    return base if base.endswith("/readyz") else base + "/readyz"


def metrics_url(base: str) -> str:
    base = base.rstrip("/")
    return (base[: -len("/readyz")] if base.endswith("/readyz") else base) + "/metrics"


def process_figures(text: str) -> tuple[float | None, float | None]:
    """(resident memory in MB, CPU seconds) from a Prometheus text exposition, read with
    prometheus_client's parser (the format's escaping and types as Prometheus defines
    them); None for a figure the server does not expose."""
    from prometheus_client.parser import text_string_to_metric_families

    rss = cpu = None
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "process_resident_memory_bytes":
                    rss = float(sample.value) / 2**20
                elif sample.name == "process_cpu_seconds_total":
                    cpu = float(sample.value)
    except ValueError:
        return None, None
    return rss, cpu


def _request(url: str, token_env: str | None) -> Any:
    """A GET of `url`, with the API token from the variable `token_env` when there is one."""
    import os
    import urllib.request

    token = os.environ.get(token_env) if token_env else None
    return urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})


def _read_metrics(opener: Any, base: str, timeout: float,
                  token_env: str | None = None) -> tuple[float | None, float | None]:
    """The server's process figures from its /metrics; (None, None) when it has none."""
    import urllib.error

    try:
        with opener.open(_request(metrics_url(base), token_env), timeout=timeout) as answer:
            return process_figures(answer.read(4_000_000).decode("utf-8", "replace"))
    except (urllib.error.URLError, OSError, TimeoutError, ValueError):
        return None, None


@self_recording("a probe's answer is a probe_result row with its time")
def run(ctx: RunContext) -> Outcome:
    import time
    import urllib.error
    import urllib.request

    from store.job_tables import ProbeResult
    from store.probes import add_probe_result

    url = readyz_url(ctx.args["url"])
    started = time.perf_counter()
    status: int | None = None
    error = ""
    # straight to the server, never through a proxy from the environment: a probe measures
    # the server, and a proxy in between would answer (or fail) for it
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(_request(url, ctx.args.get("token_env")),
                         timeout=float(ctx.args["probe_timeout"])) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        status, error = exc.code, (exc.read(500).decode("utf-8", "replace") or str(exc.reason))
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        error = str(getattr(exc, "reason", exc))
    latency_ms = (time.perf_counter() - started) * 1000
    ok = status == 200
    # the server's memory and CPU for the server-memory and server-cpu alert rules
    rss_mb, cpu_s = (_read_metrics(opener, ctx.args["url"], float(ctx.args["probe_timeout"]),
                                   ctx.args.get("token_env"))
                     if status is not None else (None, None))
    with ctx.store.db.write() as session:
        add_probe_result(session, ProbeResult(job_id=ctx.job.id, url=url, ok=ok,
                                              status_code=status, latency_ms=latency_ms,
                                              error=error[:2000], rss_mb=rss_mb, cpu_s=cpu_s))
    said = f"{status}" if status is not None else "no answer"
    summary = (f"ready ({said}) in {latency_ms:.0f} ms" if ok
               else f"NOT ready: {said}{': ' + error.splitlines()[0][:200] if error else ''}")
    ctx.log.info("probe %s: %s", url, summary)
    return Outcome(summary=summary, result={"url": url, "ok": ok, "status_code": status,
                                            "latency_ms": round(latency_ms, 1),
                                            "rss_mb": rss_mb, "cpu_s": cpu_s})


KIND = JobKindSpec(
    kind=JobKind.PROBE,
    help="ask a server's /readyz and record the answer, so uptime is measured",
    run=f"{__name__}:run",
    validate=f"{__name__}:validate",
    timeout_s=60,
    options=(
        KindOption("url", "the server's address (its /readyz is asked)", required=True,
                   example="http://127.0.0.1:8000"),
        KindOption("probe_timeout", "seconds to wait for an answer", type=float, default=5.0,
                   example="5"),
        KindOption("token_env", "the environment variable holding an API token for the server "
                   "(its name is stored, never the token)", example="WK_PROBE_TOKEN"),
    ),
)
