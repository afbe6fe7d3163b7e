"""The condition of each alert kind, as pure functions over plain data (stored reports as
dicts, rollup sums, job runs, probe answers, disk figures): each gives a Verdict — the
condition held, cleared or had too little data to say, the value it looked at, and one
line saying why. Too few rows or no report is INSUFFICIENT, which never fires and never
resolves (monitoring/damping.py).

What a rule's `params` hold, by kind (every bound has a default; see PARAM_DEFAULTS):
drift: scope ("features" one alert per drifted feature, or "input" the whole input),
max_report_age_s; quality: max_report_age_s; performance and performance-estimated:
margin (share of the training metric); latency: p95_ms, window_s, min_requests;
error-rate: rate, window_s, min_requests; traffic: factor, window_s, min_baseline;
model-age: (the model's max_age_days); job-failed: exhausted (only once retries ran out);
heartbeat: max_age_s; probe: uptime, window_s, min_probes; disk: min_free_share;
server-memory: rss_mb, window_s; server-cpu: share, window_s; rate-limited: window_s,
min_limited (refused requests of one token in the window), share (of its requests refused,
0: the count alone), token (one token's name; "": every token); guardrail: count, share,
window_s, min_answers (share 0: fires above `count` flagged answers; else above that share).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from registry.metrics import higher_is_better
from store.rollups import quantile_from_buckets
from store.vocabulary import AlertKind, CheckStatus, Condition, JobRunStatus

#: The bounds a rule uses when its params do not say.
PARAM_DEFAULTS: dict[str, dict[str, Any]] = {
    AlertKind.DRIFT: {"scope": "features", "max_report_age_s": 3 * 86400},
    AlertKind.QUALITY: {"max_report_age_s": 3 * 86400},
    AlertKind.PERFORMANCE: {"margin": 0.05, "max_report_age_s": 7 * 86400},
    AlertKind.PERFORMANCE_ESTIMATED: {"margin": 0.05, "max_report_age_s": 7 * 86400},
    AlertKind.LATENCY: {"p95_ms": 250.0, "window_s": 600, "min_requests": 20},
    AlertKind.ERROR_RATE: {"rate": 0.05, "window_s": 600, "min_requests": 20},
    AlertKind.TRAFFIC: {"factor": 3.0, "window_s": 3600, "min_baseline": 20},
    AlertKind.MODEL_AGE: {},
    AlertKind.JOB_FAILED: {"exhausted": False},
    AlertKind.HEARTBEAT: {"max_age_s": 120},
    AlertKind.PROBE: {"uptime": 0.9, "window_s": 600, "min_probes": 3},
    AlertKind.DISK: {"min_free_share": 0.1},
    AlertKind.SERVER_MEMORY: {"rss_mb": 2048.0, "window_s": 600},
    AlertKind.SERVER_CPU: {"share": 0.9, "window_s": 600},
    AlertKind.RATE_LIMITED: {"window_s": 900, "min_limited": 100, "share": 0.0, "token": ""},
    AlertKind.GUARDRAIL: {"count": 0, "share": 0.0, "window_s": 600, "min_answers": 20},
}
#: Kinds about one model (the others are store-wide: jobs, the scheduler, servers, disk).
MODEL_KINDS = frozenset({AlertKind.DRIFT, AlertKind.QUALITY, AlertKind.PERFORMANCE,
                         AlertKind.PERFORMANCE_ESTIMATED, AlertKind.LATENCY,
                         AlertKind.ERROR_RATE, AlertKind.TRAFFIC, AlertKind.MODEL_AGE,
                         AlertKind.GUARDRAIL})
PRIMARY = {"classification": ("roc_auc", "accuracy", "f1"), "regression": ("rmse", "mae", "r2")}
BAD_RUNS = frozenset({JobRunStatus.FAILED, JobRunStatus.TIMED_OUT, JobRunStatus.ABANDONED})


@dataclass(frozen=True)
class Verdict:
    condition: Condition
    value: float | None
    reason: str


def params_of(kind: str, given: Mapping[str, Any] | None) -> dict[str, Any]:
    return {**PARAM_DEFAULTS.get(kind, {}), **(given or {})}


def _insufficient(reason: str, value: float | None = None) -> Verdict:
    return Verdict(Condition.INSUFFICIENT, value, f"insufficient data: {reason}")


def _verdict(holds: bool, value: float | None, reason: str) -> Verdict:
    return Verdict(Condition.HOLDS if holds else Condition.CLEAR, value, reason)


def _stale(report: Mapping[str, Any], now: datetime, max_age_s: float | None) -> str | None:
    end = report.get("window_end")
    if max_age_s is None or end is None:
        return None
    age = (now - end).total_seconds()
    return f"the newest report ended {age / 3600:.1f} h ago (older than {max_age_s / 3600:.0f} h)" \
        if age > float(max_age_s) else None


def drift_input(report: Mapping[str, Any] | None, now: datetime, params: Mapping[str, Any]) -> Verdict:
    """The whole input: the newest drift report's verdict (domain classifier and features)."""
    if report is None:
        return _insufficient("no drift report yet")
    stale = _stale(report, now, params.get("max_report_age_s"))
    if stale:
        return _insufficient(stale)
    status = report["status"]
    share = report.get("drift_share")
    if status in (CheckStatus.INSUFFICIENT, CheckStatus.NOT_LOGGED):
        return _insufficient(report.get("reason") or status, share)
    auc = report.get("domain_auc")
    said = (f"{report.get('drifted', 0)} of {report.get('features', 0)} features drifted"
            + (f", domain AUC {auc:.2f}" if auc is not None else ""))
    return _verdict(status == CheckStatus.DRIFT, share, said)


def drift_feature(report: Mapping[str, Any] | None, row: Mapping[str, Any] | None, feature: str,
                  now: datetime, params: Mapping[str, Any]) -> Verdict:
    """One feature's verdict in the newest drift report."""
    if report is None:
        return _insufficient("no drift report yet")
    stale = _stale(report, now, params.get("max_report_age_s"))
    if stale:
        return _insufficient(stale)
    if report["status"] in (CheckStatus.INSUFFICIENT, CheckStatus.NOT_LOGGED):
        return _insufficient(report.get("reason") or report["status"])
    if row is None:
        return _insufficient(f"the newest drift report has no feature {feature!r}")
    value = row.get("statistic")
    if row["status"] != CheckStatus.DRIFT and row["status"] != CheckStatus.OK:
        return _insufficient(row.get("reason") or row["status"], value)
    return _verdict(row["status"] == CheckStatus.DRIFT, value,
                    f"{feature}: {row.get('reason') or row['status']}")


def quality(report: Mapping[str, Any] | None, now: datetime, params: Mapping[str, Any]) -> Verdict:
    if report is None:
        return _insufficient("no quality report yet")
    stale = _stale(report, now, params.get("max_report_age_s"))
    if stale:
        return _insufficient(stale)
    status = report["status"]
    if status in (CheckStatus.INSUFFICIENT, CheckStatus.NOT_LOGGED):
        return _insufficient(f"the newest quality report is {status} ({report.get('rows', 0)} rows)")
    errors = int(report.get("errors") or 0)
    first = next((f.get("reason") or f.get("check") for f in report.get("findings") or []
                  if f.get("severity") == "error"), None)
    said = f"{errors} error finding(s), {report.get('warnings', 0)} warning(s)" + (
        f": {first}" if first else "")
    return _verdict(status == CheckStatus.FAILED, float(errors), said)


def worse_by(metric: str, value: float, training: float) -> float:
    """How much worse `value` is than the training value, as a share of it (> 0: worse)."""
    scale = abs(training) or 1.0
    return ((training - value) if higher_is_better(metric) else (value - training)) / scale


def performance(report: Mapping[str, Any] | None, now: datetime, params: Mapping[str, Any], *,
                estimated: bool) -> Verdict:
    """The realised metric (or the label-free estimate) below training by more than margin."""
    which = "estimated" if estimated else "realised"
    if report is None:
        return _insufficient("no performance report yet")
    stale = _stale(report, now, params.get("max_report_age_s"))
    if stale:
        return _insufficient(stale)
    if not estimated and report["status"] == CheckStatus.INSUFFICIENT:
        return _insufficient(report.get("reason") or "too few labels")
    values = report.get(which) or {}
    training = report.get("training") or {}
    metric = next((m for m in PRIMARY.get(report.get("task") or "", tuple(values))
                   if isinstance(values.get(m), int | float) and
                   isinstance(training.get(m), int | float)), None)
    if metric is None:
        return _insufficient(f"no {which} metric beside a training one")
    margin = float(params["margin"])
    worse = worse_by(metric, float(values[metric]), float(training[metric]))
    return _verdict(worse > margin, float(values[metric]),
                    f"{which} {metric} {values[metric]:.3f} vs {training[metric]:.3f} in "
                    f"training: worse by {worse:.1%} (bound {margin:.0%})")


def latency(requests: int, buckets: Sequence[int], params: Mapping[str, Any]) -> Verdict:
    if requests < int(params["min_requests"]):
        return _insufficient(f"{requests} requests in the window, need {params['min_requests']}")
    p95 = quantile_from_buckets(list(buckets), 0.95)
    if p95 is None:
        return _insufficient("no latency recorded in the window")
    bound = float(params["p95_ms"])
    return _verdict(p95 > bound, p95, f"p95 latency {p95:.1f} ms over {requests} requests "
                                      f"(bound {bound:g} ms)")


def error_rate(answered: int, errors: int, params: Mapping[str, Any]) -> Verdict:
    rows = answered + errors
    if rows < int(params["min_requests"]):
        return _insufficient(f"{rows} rows in the window, need {params['min_requests']}")
    rate = errors / rows
    bound = float(params["rate"])
    return _verdict(rate > bound, rate, f"{errors} of {rows} rows refused ({rate:.1%}, "
                                        f"bound {bound:.1%})")


def guardrail(flagged: int, rows: int, params: Mapping[str, Any]) -> Verdict:
    """Answers flagged by the deployment's guardrails in the window: above `count`, or,
    with a `share` set, above that share of the rows answered and refused."""
    share = float(params["share"])
    if share <= 0:
        bound = int(params["count"])
        return _verdict(flagged > bound, float(flagged),
                        f"{flagged} answer(s) outside the guardrails in the window (fires above {bound})")
    if rows < int(params["min_answers"]):
        return _insufficient(f"{rows} rows in the window, need {params['min_answers']}", float(flagged))
    rate = flagged / rows
    return _verdict(rate > share, rate, f"{flagged} of {rows} answers outside the guardrails ({rate:.1%}, "
                                        f"bound {share:.1%})")


def traffic(current: int, day_before: int, params: Mapping[str, Any]) -> Verdict:
    """Requests stopped, or fell by `factor` against the same window a day earlier."""
    factor = float(params["factor"])
    if day_before < int(params["min_baseline"]):
        return _insufficient(f"{day_before} requests in the same window a day earlier, "
                             f"need {params['min_baseline']} to compare")
    ratio = current / day_before
    said = ("traffic stopped: 0 requests" if current == 0 else f"{current} requests")
    return _verdict(current == 0 or ratio < 1 / factor, ratio,
                    f"{said} against {day_before} a day earlier ({ratio:.0%}; "
                    f"fires below 1/{factor:g})")


def model_age(version: int | None, created_at: datetime | None, max_age_days: int | None,
              now: datetime) -> Verdict:
    if not max_age_days:
        return _insufficient("the model has no maximum age")
    if version is None or created_at is None:
        return _insufficient("the model has no production version")
    days = (now - created_at).total_seconds() / 86400
    return _verdict(days > max_age_days, days, f"production v{version} is {days:.1f} days old "
                                               f"(max {max_age_days})")


def job_failed(run: Mapping[str, Any] | None, retries: int, params: Mapping[str, Any]) -> Verdict:
    """`run`: the job's newest finished run (status, attempt, error, id)."""
    if run is None:
        return _insufficient("the job has not finished a run yet")
    bad = run["status"] in BAD_RUNS
    exhausted = int(run.get("attempt") or 1) > retries
    if params.get("exhausted") and bad and not exhausted:
        return _verdict(False, float(run.get("attempt") or 1),
                        f"run {run['id']} {run['status']}, attempt {run.get('attempt')} of "
                        f"{retries + 1}: retries left")
    error = (run.get("error") or "").splitlines()
    return _verdict(bad, float(run.get("attempt") or 1),
                    f"run {run['id']} {run['status']}" + (f": {error[0][:160]}" if bad and error
                                                          else ""))


def heartbeat(beat_at: datetime | None, stopped_at: datetime | None, now: datetime,
              params: Mapping[str, Any]) -> Verdict:
    if beat_at is None:
        return _insufficient("no scheduler has run on this store")
    age = (now - beat_at).total_seconds()
    bound = float(params["max_age_s"])
    said = f"the scheduler's heartbeat is {age:.0f} s old (bound {bound:.0f} s)"
    if stopped_at is not None:
        said += f"; it stopped at {stopped_at:%Y-%m-%d %H:%M} UTC"
    return _verdict(age > bound, age, said)


def probe(total: int, ready: int, params: Mapping[str, Any]) -> Verdict:
    if total < int(params["min_probes"]):
        return _insufficient(f"{total} probe answers in the window, need {params['min_probes']}")
    share = ready / total
    bound = float(params["uptime"])
    return _verdict(share < bound, share, f"ready in {ready} of {total} probes ({share:.0%}, "
                                          f"bound {bound:.0%})")


def disk(free_bytes: int | None, total_bytes: int | None, params: Mapping[str, Any]) -> Verdict:
    if not total_bytes or free_bytes is None:
        return _insufficient("the store's file system could not be measured")
    share = free_bytes / total_bytes
    bound = float(params["min_free_share"])
    return _verdict(share < bound, share, f"{free_bytes / 2**30:.1f} GiB free of "
                                          f"{total_bytes / 2**30:.1f} GiB ({share:.0%}, bound "
                                          f"{bound:.0%})")


def server_memory(samples: Sequence[tuple[datetime, float | None, float | None]],
                  params: Mapping[str, Any]) -> Verdict:
    """`samples`: (at, rss_mb, cpu_s) of the probe answers in the window, oldest first."""
    rss = [(at, mb) for at, mb, _ in samples if mb is not None]
    if not rss:
        return _insufficient("no memory figure from the server's /metrics in the window")
    at, mb = rss[-1]
    bound = float(params["rss_mb"])
    return _verdict(mb > bound, mb, f"resident memory {mb:.0f} MB at {at:%H:%M:%S} "
                                    f"(bound {bound:g} MB)")


def server_cpu(samples: Sequence[tuple[datetime, float | None, float | None]],
               params: Mapping[str, Any]) -> Verdict:
    """CPU share = CPU seconds used / wall seconds between the window's first and last
    answers; a restart (the counter going down) starts over from the restart."""
    cpu = [(at, s) for at, _, s in samples if s is not None]
    start = 0
    for i in range(1, len(cpu)):
        if cpu[i][1] < cpu[i - 1][1]:
            start = i
    cpu = cpu[start:]
    if len(cpu) < 2 or (cpu[-1][0] - cpu[0][0]).total_seconds() <= 0:
        return _insufficient("fewer than two CPU figures from the server's /metrics in the window")
    wall = (cpu[-1][0] - cpu[0][0]).total_seconds()
    share = (cpu[-1][1] - cpu[0][1]) / wall
    bound = float(params["share"])
    return _verdict(share > bound, share, f"CPU {share:.0%} of one core over {wall:.0f} s "
                                          f"(bound {bound:.0%})")


def rate_limited(requests: int, limited: int, params: Mapping[str, Any]) -> Verdict:
    """A token's requests and rate-limit refusals over the window: it holds when the
    refusals reach min_limited and their share of its requests reaches `share`. A token
    that made no request is clear (it is not hitting its limit), so the alert resolves
    when a caller stops."""
    window = int(params["window_s"])
    bound = int(params["min_limited"])
    share_bound = float(params["share"])
    if requests <= 0:
        return _verdict(False, 0.0, f"no request in the last {window // 60} min")
    share = limited / requests
    said = (f"{limited} of {requests} requests refused by the rate limit in the last "
            f"{window // 60} min ({share:.0%}; fires at {bound}"
            + (f" and {share_bound:.0%})" if share_bound > 0 else ")"))
    return _verdict(limited >= max(bound, 1) and share >= share_bound, float(limited), said)
