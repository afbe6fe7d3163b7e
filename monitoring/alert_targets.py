"""A rule's targets and their verdicts for one pass: the model (optionally one version and
one feature; a drift rule without a feature has one target per feature of the newest
report), a job, a probe job (a server), an API token, the scheduler or the store's disk,
each with its Alertmanager labels, a stable fingerprint and its group (per model;
store-wide rules group under their kind). The data comes from store/alert_queries.AlertInputs; the
conditions are monitoring/alert_rules.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitoring import alert_rules as rules
from monitoring.alert_message import fingerprint, group_key
from monitoring.alert_rules import Verdict
from store.alert_queries import AlertInputs
from store.alert_tables import AlertRule
from store.vocabulary import AlertKind, JobKind

#: the free and total bytes of the store's file system (shutil.disk_usage of its folder)
DiskUsage = Callable[[], tuple[int | None, int | None]]


@dataclass(frozen=True)
class Target:
    labels: dict[str, str]
    group_labels: dict[str, str]
    model_id: int | None = None
    version: int | None = None
    feature: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return fingerprint({k: v for k, v in self.labels.items() if k != "severity"})

    @property
    def group_key(self) -> str:
        return group_key(self.group_labels)


def _labels(rule: AlertRule, **more: Any) -> dict[str, str]:
    labels = {"alertname": rule.name, "kind": rule.kind, "severity": rule.severity}
    labels.update({k: str(v) for k, v in more.items() if v is not None})
    return labels


def _model_target(rule: AlertRule, model: str, version: int | None = None,
                  feature: str | None = None) -> Target:
    return Target(_labels(rule, model=model, version=rule.version, feature=feature),
                  {"model": model}, model_id=rule.model_id, version=version, feature=feature)


def _store_target(rule: AlertRule, **more: Any) -> Target:
    return Target(_labels(rule, **more), {"kind": rule.kind}, extra=dict(more))


def evaluate_rule(rule: AlertRule, data: AlertInputs, now: datetime,
                  disk_usage: DiskUsage) -> list[tuple[Target, Verdict]]:
    """Every target of the rule with its verdict at `now`."""
    params = rules.params_of(rule.kind, rule.params)
    kind = rule.kind
    if kind in rules.MODEL_KINDS:
        return _model_rule(rule, data, now, params)
    if kind == AlertKind.HEARTBEAT:
        beat, stopped = data.daemon()
        return [(_store_target(rule, target="scheduler"),
                 rules.heartbeat(beat, stopped, now, params))]
    if kind == AlertKind.DISK:
        free, total = disk_usage()
        return [(_store_target(rule, target="store"), rules.disk(free, total, params))]
    if kind == AlertKind.JOB_FAILED:
        jobs = data.jobs()
        runs = data.last_finished_runs()
        ids = [rule.job_id] if rule.job_id is not None else sorted(jobs)
        return [(_store_target(rule, job=jobs[j]["name"]),
                 rules.job_failed(runs.get(j), int(jobs[j]["retries"] or 0), params))
                for j in ids if j in jobs]
    if kind in (AlertKind.PROBE, AlertKind.SERVER_MEMORY, AlertKind.SERVER_CPU):
        jobs = data.jobs()
        ids = ([rule.job_id] if rule.job_id is not None
               else sorted(j for j, job in jobs.items() if job["kind"] == JobKind.PROBE))
        answers = data.probes(int(params["window_s"]))
        out = []
        for j in ids:
            if j not in jobs:
                continue
            rows = answers.get(j, [])
            if kind == AlertKind.PROBE:
                verdict = rules.probe(len(rows), sum(1 for r in rows if r[1]), params)
            else:
                samples = [(at, rss, cpu) for at, _ok, rss, cpu in rows]
                verdict = (rules.server_memory(samples, params) if kind == AlertKind.SERVER_MEMORY
                           else rules.server_cpu(samples, params))
            out.append((_store_target(rule, job=jobs[j]["name"]), verdict))
        return out
    if kind == AlertKind.RATE_LIMITED:
        usage = data.token_usage(int(params["window_s"]))
        names = [params["token"]] if params.get("token") else sorted(usage)
        return [(_store_target(rule, token=name), rules.rate_limited(*usage.get(name, (0, 0)),
                                                                     params))
                for name in names]
    return []


def _model_rule(rule: AlertRule, data: AlertInputs, now: datetime,
                params: dict[str, Any]) -> list[tuple[Target, Verdict]]:
    models = data.models()
    if rule.model_id is None or rule.model_id not in models:
        return []
    model = models[rule.model_id]["name"]
    model_id = rule.model_id
    pinned = (data.version_ids().get((model_id, rule.version))
              if rule.version is not None else None)
    key = (model_id, pinned)
    kind = rule.kind
    if kind == AlertKind.DRIFT:
        report = data.drift(key)
        if params.get("scope") == "input":
            return [(_model_target(rule, model), rules.drift_input(report, now, params))]
        features = data.drift_features(report["id"]) if report else {}
        names = [rule.feature] if rule.feature else sorted(
            f for f in features if f)  # one target per feature of the newest report
        if not names:
            return [(_model_target(rule, model, feature=rule.feature),
                     rules.drift_feature(report, None, rule.feature or "any", now, params))]
        return [(_model_target(rule, model, feature=name),
                 rules.drift_feature(report, features.get(name), name, now, params))
                for name in names]
    if kind == AlertKind.QUALITY:
        return [(_model_target(rule, model), rules.quality(data.quality(key), now, params))]
    production = data.production().get(model_id)
    if kind in (AlertKind.PERFORMANCE, AlertKind.PERFORMANCE_ESTIMATED):
        version_id = pinned if rule.version is not None else (
            production["version_id"] if production else None)
        number = rule.version if rule.version is not None else (
            production["version"] if production else None)
        report = data.performance((model_id, version_id)) if version_id is not None else None
        return [(_model_target(rule, model, version=number),
                 rules.performance(report, now, params,
                                   estimated=kind == AlertKind.PERFORMANCE_ESTIMATED))]
    if kind == AlertKind.MODEL_AGE:
        return [(_model_target(rule, model, version=production["version"] if production else None),
                 rules.model_age(production["version"] if production else None,
                                 production["created_at"] if production else None,
                                 models[model_id]["max_age_days"], now))]
    window = int(params["window_s"])

    def sums(days_back: int = 0) -> tuple[int, int, int, list[int]]:
        answered = errors = requests = 0
        buckets: list[int] = []
        for t in data.model_rollups(model_id, window, days_back):
            if rule.version is not None and t.version != rule.version:
                continue
            answered, errors, requests = answered + t.answered, errors + t.errors, requests + t.requests
            hist = [int(b or 0) for b in t.buckets]
            buckets = [a + b for a, b in zip(buckets, hist, strict=True)] if buckets else hist
        return answered, errors, requests, buckets

    answered, errors, requests, buckets = sums()
    if kind == AlertKind.LATENCY:
        verdict = rules.latency(requests, buckets, params)
    elif kind == AlertKind.ERROR_RATE:
        verdict = rules.error_rate(answered, errors, params)
    elif kind == AlertKind.GUARDRAIL:
        shadowless = [t for t in data.model_rollups(model_id, window)
                      if t.route != "shadow" and (rule.version is None or t.version == rule.version)]
        verdict = rules.guardrail(data.flagged(model_id, window, pinned),
                                  sum(t.answered + t.errors for t in shadowless), params)
    else:
        verdict = rules.traffic(requests, sums(days_back=1)[2], params)
    return [(_model_target(rule, model), verdict)]
