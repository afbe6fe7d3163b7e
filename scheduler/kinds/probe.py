"""`probe`: ask a server's /readyz and record the answer (status, latency, error), so a
server's uptime is measured from its answers, not assumed. Schedule it often
(`--every 30s`); `wk jobs show` gives the uptime over the last day and week.

An answer that is not ready is recorded and the run still succeeds: the probe did its
job, the server is what failed (the alerts issue's probe rule reads these answers).
"""

from __future__ import annotations

from typing import Any

from scheduler.kinds.base import JobKindSpec, KindOption, Outcome, RunContext
from store.errors import InvalidInput
from store.vocabulary import JobKind


def validate(args: dict[str, Any]) -> dict[str, Any]:
    from urllib.parse import urlsplit

    url = urlsplit(args["url"])
    if url.scheme not in ("http", "https") or not url.netloc:
        raise InvalidInput(f"the server's address {args['url']!r} is not an http(s) URL",
                           field="url", example="http://127.0.0.1:8000")
    if args["probe_timeout"] <= 0:
        raise InvalidInput("the probe's timeout must be above 0 seconds", field="probe_timeout",
                           example="5")
    return args


def readyz_url(base: str) -> str:
    base = base.rstrip("/")
    return base if base.endswith("/readyz") else base + "/readyz"


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
        with opener.open(url, timeout=float(ctx.args["probe_timeout"])) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        status, error = exc.code, (exc.read(500).decode("utf-8", "replace") or str(exc.reason))
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        error = str(getattr(exc, "reason", exc))
    latency_ms = (time.perf_counter() - started) * 1000
    ok = status == 200
    with ctx.store.db.write() as session:
        add_probe_result(session, ProbeResult(job_id=ctx.job.id, url=url, ok=ok,
                                              status_code=status, latency_ms=latency_ms,
                                              error=error[:2000]))
    said = f"{status}" if status is not None else "no answer"
    summary = (f"ready ({said}) in {latency_ms:.0f} ms" if ok
               else f"NOT ready: {said}{': ' + error.splitlines()[0][:200] if error else ''}")
    ctx.log.info("probe %s: %s", url, summary)
    return Outcome(summary=summary, result={"url": url, "ok": ok, "status_code": status,
                                            "latency_ms": round(latency_ms, 1)})


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
    ),
)
