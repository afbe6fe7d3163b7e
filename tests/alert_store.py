"""A small store for the alert tests: model `credit` (v1 production, v2) with the credit
features of tests/monitoring_reports.py, two channels, and writers for what the rules
read (drift, quality and performance reports through store/reports.py as the checks
write them, rollup minutes, job runs, the daemon's heartbeat, probe answers), each at a
time the test gives, so passes run at explicit `now` values and nothing sleeps."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from store.alert_tables import Channel
from store.handle import Store
from store.job_tables import Job, JobRun, ProbeResult, SchedulerDaemon
from store.tables import MetricRollup
from store.vocabulary import ChannelKind

SIGNATURE = {"columns": [{"name": n, "kind": k} for n, k in (
    ("income", "numeric"), ("age", "numeric"), ("purpose", "categorical"),
    ("debt_ratio", "numeric"))]}
CHANNELS = ("hook", "mail")


def build_alert_store(root: Path) -> tuple[Store, dict[str, int]]:
    """(store, ids: model, v1, v2 version ids)."""
    from registry.aliases import promote
    from registry.models import ensure_model
    from registry.registration import insert_version
    from store.handle import init_store

    store, _ = init_store(root)
    ids: dict[str, int] = {}
    with store.db.write() as session:
        model = ensure_model(session, "credit", actor="tests", task="classification")
        ids["model"] = int(model.id)  # type: ignore[arg-type]
        for number in (1, 2):
            artifact = store.artifacts.put_bytes(f"credit v{number} (never loaded)\n".encode())
            v = insert_version(session, model, artifact, actor="tests",
                               flavor="sklearn.pipeline.Pipeline", signature=SIGNATURE,
                               example=None, metrics={"roc_auc": 0.82}, params=None, run_id=None,
                               source="register", code_version=None, environment=None)
            ids[f"v{number}"] = int(v.id)  # type: ignore[arg-type]
        session.add(Channel(name="hook", kind=ChannelKind.WEBHOOK,
                            config={"url": "http://127.0.0.1:9/hook"}))
        session.add(Channel(name="mail", kind=ChannelKind.SMTP,
                            config={"host": "127.0.0.1", "port": 25, "to": ["oncall@example.org"]}))
    promote(store, "credit", 1, "production", reason="first release", actor="tests")
    return store, ids


def add_drift(store: Store, ids: dict[str, int], now: datetime, drifted: set[str],
              *, rows: int = 4812, status: str | None = None) -> int:
    from monitoring_reports import credit_features

    from store import reports

    features = []
    for row in credit_features(False):
        if row["feature"] in drifted:
            row = {**row, "status": "drift", "reason": f"drift: {row['feature']} moved"}
        features.append(row)
    verdict = status or ("drift" if drifted else "ok")
    with store.db.write() as session:
        return reports.add_drift_report(session, {
            "model_id": ids["model"], "version_id": None, "window_start": now - timedelta(hours=1),
            "window_end": now, "status": verdict, "rows": rows, "features": len(features),
            "drifted": len(drifted), "drift_share": len(drifted) / len(features),
            "domain_auc": 0.8 if drifted else 0.5, "reason": verdict}, features)


def add_quality(store: Store, ids: dict[str, int], now: datetime, status: str) -> None:
    from store import reports

    findings = ([{"check": "missing", "column": "debt_ratio", "severity": "error", "count": 40,
                  "share": 1.0, "reason": "debt_ratio all null"}] if status == "failed" else [])
    with store.db.write() as session:
        reports.add_quality_report(session, {
            "model_id": ids["model"], "version_id": None, "window_start": now - timedelta(hours=1),
            "window_end": now, "status": status, "rows": 400, "errors": len(findings),
            "warnings": 0, "findings": findings})


def add_performance(store: Store, ids: dict[str, int], now: datetime, realised: float,
                    estimated: float, status: str = "ok") -> None:
    from store import reports

    with store.db.write() as session:
        reports.add_performance_report(session, {
            "model_id": ids["model"], "version_id": ids["v1"], "window_start": now - timedelta(hours=1),
            "window_end": now, "status": status, "task": "classification", "predictions": 500,
            "labelled": 200, "coverage": 0.4, "realised": {"roc_auc": realised},
            "estimated": {"roc_auc": estimated}, "training": {"roc_auc": 0.82}})


def add_rollups(store: Store, ids: dict[str, int], end: datetime, minutes: int, *,
                per_minute: int, errors: int = 0, bucket: int = 5) -> None:
    """`minutes` rollup minutes before `end` for v1's champion, every row's latency in
    histogram bucket `bucket`."""
    start = end.replace(second=0, microsecond=0)
    with store.db.write() as session:
        for m in range(1, minutes + 1):
            session.add(MetricRollup(model_id=ids["model"], version_id=ids["v1"], route="champion",
                                     minute=start - timedelta(minutes=m), count=per_minute,
                                     errors=errors, requests=per_minute + errors,
                                     latency_sum_ms=per_minute * 3.0,
                                     **{f"lat_b{bucket:02d}": per_minute}))


def add_job(store: Store, name: str, kind: str = "command", retries: int = 0,
            args: dict[str, Any] | None = None) -> int:
    with store.db.write() as session:
        job = Job(name=name, kind=kind, args=args or {"argv": ["true"]}, every_s=60,
                  retries=retries)
        session.add(job)
        session.flush()
        return int(job.id)  # type: ignore[arg-type]


def add_run(store: Store, job_id: int, name: str, at: datetime, status: str,
            attempt: int = 1) -> None:
    with store.db.write() as session:
        session.add(JobRun(job_id=job_id, job_name=name, kind="command", status=status,
                           attempt=attempt, queued_at=at, started_at=at, ended_at=at,
                           error="exit 1: boom" if status == "failed" else ""))


def set_heartbeat(store: Store, at: datetime) -> None:
    with store.db.write() as session:
        row = session.get(SchedulerDaemon, 1) or SchedulerDaemon(id=1, host="h", pid=1)
        row.heartbeat_at = at
        session.add(row)


def add_probes(store: Store, job_id: int, end: datetime, answers: list[tuple[bool, float, float]],
               every_s: int = 30) -> None:
    """(ok, rss_mb, cpu_s) answers, the last at `end`, `every_s` apart."""
    with store.db.write() as session:
        for i, (ok, rss, cpu) in enumerate(answers):
            at = end - timedelta(seconds=every_s * (len(answers) - 1 - i))
            session.add(ProbeResult(job_id=job_id, url="http://127.0.0.1:8000/readyz", at=at,
                                    ok=ok, status_code=200 if ok else 503, rss_mb=rss, cpu_s=cpu))


def conditions(store: Store) -> dict[str, list[str]]:
    """Each rule's target conditions after the last pass, by rule name."""
    from store import alerts as alert_store

    with store.db.read() as session:
        rules = {r.id: r.name for r in alert_store.list_rules(session)}
        out: dict[str, list[str]] = {}
        for (rule_id, _), state in sorted(alert_store.rule_states(session).items()):
            out.setdefault(rules[rule_id], []).append(state.condition)
    return out


def notifications(store: Store) -> list[Any]:
    from sqlmodel import col, select

    from store.alert_tables import Notification

    with store.db.read() as session:
        rows = session.exec(select(Notification).order_by(col(Notification.id))).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def add_token_usage(store: Store, token: str, end: datetime, minutes: int, *,
                    requests: int, limited: int, role: str = "viewer") -> None:
    """`minutes` token_usage minutes before `end` for API token `token` (created with
    `role` when it does not exist yet), as the server's flush writes them."""
    import hashlib

    from sqlmodel import select

    from store.access_tables import ApiToken, TokenUsage

    start = end.replace(second=0, microsecond=0)
    with store.db.write() as session:
        row = session.exec(select(ApiToken).where(ApiToken.name == token)).first()
        if row is None:
            secret = hashlib.sha256(token.encode()).hexdigest()
            row = ApiToken(name=token, prefix=secret[:8], secret_sha256=secret, role=role)
            session.add(row)
            session.flush()
        for m in range(1, minutes + 1):
            session.add(TokenUsage(token_id=row.id, minute=start - timedelta(minutes=m),
                                   requests=requests, limited=limited))
