"""The reads an evaluation pass needs, a few grouped queries for every rule at once (per
kind, all models together), never one query per rule and never the prediction log
(but for guardrail rules: the flagged rows of one model's window, through its index):
the newest report of each model (and version), the production versions, rollup sums
per window, the newest finished run of each job, the daemon's heartbeat, probe answers.

`AlertInputs` reads each thing the first time a rule asks for it, within the caller's
session, and keeps it for the rest of the pass. Everything it returns is plain data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from store.access_tables import ApiToken, TokenUsage
from store.job_tables import Job, JobRun, ProbeResult, SchedulerDaemon
from store.report_tables import DriftFeature, DriftReport, PerformanceReport, QualityReport
from store.reports import REPORT_KEYS
from store.rollups import RollupTotal, rollup_totals
from store.tables import Alias, ModelVersion, Prediction, RegisteredModel
from store.vocabulary import JOB_RUN_FINAL

VersionKey = tuple[int, int | None]
#: what a rule reads of a feature row (not its histograms)
FEATURE_COLUMNS = ("report_id", "feature", "status", "statistic", "threshold", "reason")  # (model id, version id or None: any)


class AlertInputs:
    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self._cache: dict[Any, Any] = {}

    def _once(self, key: Any, read: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]

    # --- models ---------------------------------------------------------------------------

    def models(self) -> dict[int, dict[str, Any]]:
        def read() -> dict[int, dict[str, Any]]:
            rows = self.session.execute(select(col(RegisteredModel.id), col(RegisteredModel.name),
                                               col(RegisteredModel.max_age_days),
                                               col(RegisteredModel.task))).all()
            return {i: {"name": n, "max_age_days": m, "task": t} for i, n, m, t in rows}
        return self._once("models", read)

    def production(self) -> dict[int, dict[str, Any]]:
        """Each model's production version: id, number, registered at."""
        def read() -> dict[int, dict[str, Any]]:
            rows = self.session.execute(
                select(col(Alias.model_id), col(ModelVersion.id), col(ModelVersion.version),
                       col(ModelVersion.created_at))
                .join(ModelVersion, col(ModelVersion.id) == col(Alias.version_id))
                .where(col(Alias.name) == "production")).all()
            return {m: {"version_id": v, "version": n, "created_at": at} for m, v, n, at in rows}
        return self._once("production", read)

    def version_ids(self) -> dict[tuple[int, int], int]:
        """(model id, version number) -> version id, for rules pinned to a version."""
        def read() -> dict[tuple[int, int], int]:
            rows = self.session.execute(select(col(ModelVersion.model_id),
                                               col(ModelVersion.version),
                                               col(ModelVersion.id))).all()
            return {(m, n): i for m, n, i in rows}
        return self._once("version_ids", read)

    # --- reports --------------------------------------------------------------------------

    def _newest(self, kind: str, table: Any) -> dict[VersionKey, dict[str, Any]]:
        """The newest report per (model, version id) and per model (version None)."""
        def read() -> dict[VersionKey, dict[str, Any]]:
            # the newest window of each (model, version), whatever order reports were written in
            rank = func.row_number().over(
                partition_by=(col(table.model_id), col(table.version_id)),
                order_by=(col(table.window_end).desc(), col(table.id).desc())).label("rank")
            ranked = select(col(table.id), rank).subquery()
            newest = select(ranked.c.id).where(ranked.c.rank == 1)
            keys = REPORT_KEYS[kind]
            stmt = select(*[getattr(table, k) for k in keys]).where(col(table.id).in_(newest))
            out: dict[VersionKey, dict[str, Any]] = {}
            for row in self.session.execute(stmt).all():
                report = dict(zip(keys, row, strict=True))
                out[(report["model_id"], report["version_id"])] = report
                mine = out.get((report["model_id"], None))
                if mine is None or (report["window_end"], report["id"]) > (mine["window_end"],
                                                                           mine["id"]):
                    out[(report["model_id"], None)] = report
            return out
        return self._once(("newest", kind), read)

    def drift(self, key: VersionKey) -> dict[str, Any] | None:
        return self._newest("drift", DriftReport).get(key)

    def quality(self, key: VersionKey) -> dict[str, Any] | None:
        return self._newest("quality", QualityReport).get(key)

    def performance(self, key: VersionKey) -> dict[str, Any] | None:
        return self._newest("performance", PerformanceReport).get(key)

    def drift_features(self, report_id: int) -> dict[str, dict[str, Any]]:
        """The feature rows of a drift report; the rows of every newest report are read
        in one query the first time any is asked for."""
        def read() -> dict[int, dict[str, dict[str, Any]]]:
            ids = sorted({r["id"] for r in self._newest("drift", DriftReport).values()})
            out: dict[int, dict[str, dict[str, Any]]] = {}
            if not ids:
                return out
            stmt = select(*[getattr(DriftFeature, k) for k in FEATURE_COLUMNS]).where(
                col(DriftFeature.report_id).in_(ids))
            for row in self.session.execute(stmt).all():
                feature = dict(zip(FEATURE_COLUMNS, row, strict=True))
                out.setdefault(feature["report_id"], {})[feature["feature"]] = feature
            return out
        return self._once("drift_features", read).get(report_id, {})

    # --- rollups --------------------------------------------------------------------------

    def rollups(self, window_s: int, days_back: int = 0) -> list[RollupTotal]:
        """Rollup sums per model, version and route over [now - window, now), shifted back
        `days_back` days (traffic compares with the same window a day earlier)."""
        until = self.now - timedelta(days=days_back)
        since = until - timedelta(seconds=window_s)
        return self._once(("rollups", window_s, days_back),
                          lambda: rollup_totals(self.session, since, until=until))

    def model_rollups(self, model_id: int, window_s: int, days_back: int = 0) -> list[RollupTotal]:
        """`rollups` of one model (indexed once per window)."""
        def read() -> dict[int, list[RollupTotal]]:
            out: dict[int, list[RollupTotal]] = {}
            for total in self.rollups(window_s, days_back):
                out.setdefault(total.model_id, []).append(total)
            return out
        return self._once(("by_model", window_s, days_back), read).get(model_id, [])

    def flagged(self, model_id: int, window_s: int, version_id: int | None = None) -> int:
        """Rows of the model (of one version, if given) its guardrails flagged over
        [now - window, now), shadow rows left out: a count over the prediction log's
        (model_id, at) index, once per model and window, only for guardrail rules."""
        since = self.now - timedelta(seconds=window_s)

        def read() -> int:
            stmt = (select(func.count()).select_from(Prediction)
                    .where(col(Prediction.model_id) == model_id, col(Prediction.at) >= since,
                           col(Prediction.at) < self.now, col(Prediction.guardrail).is_not(None),
                           col(Prediction.route) != "shadow"))
            if version_id is not None:
                stmt = stmt.where(col(Prediction.version_id) == version_id)
            return int(self.session.execute(stmt).scalar_one())
        return int(self._once(("flagged", model_id, window_s, version_id), read))

    # --- jobs, the daemon, probes ---------------------------------------------------------

    def jobs(self) -> dict[int, dict[str, Any]]:
        def read() -> dict[int, dict[str, Any]]:
            rows = self.session.execute(select(col(Job.id), col(Job.name), col(Job.kind),
                                               col(Job.retries), col(Job.model_id))).all()
            return {i: {"name": n, "kind": k, "retries": r, "model_id": m}
                    for i, n, k, r, m in rows}
        return self._once("jobs", read)

    def last_finished_runs(self) -> dict[int, dict[str, Any]]:
        """The newest run of each job that reached a final state (skipped and missed slots
        do not count: they say nothing of the job's health)."""
        def read() -> dict[int, dict[str, Any]]:
            finals = [s for s in JOB_RUN_FINAL if s not in ("skipped", "missed")]
            newest = (select(func.max(col(JobRun.id))).where(col(JobRun.status).in_(finals),
                                                            col(JobRun.job_id).is_not(None))
                      .group_by(col(JobRun.job_id)).scalar_subquery())
            rows = self.session.execute(
                select(col(JobRun.job_id), col(JobRun.id), col(JobRun.status),
                       col(JobRun.attempt), col(JobRun.error), col(JobRun.ended_at))
                .where(col(JobRun.id).in_(newest))).all()
            return {j: {"id": i, "status": s, "attempt": a, "error": e, "ended_at": at}
                    for j, i, s, a, e, at in rows}
        return self._once("runs", read)

    def daemon(self) -> tuple[datetime | None, datetime | None]:
        """(heartbeat at, stopped at) of the scheduler's lease; (None, None): never ran."""
        def read() -> tuple[datetime | None, datetime | None]:
            row = self.session.get(SchedulerDaemon, 1)
            return (None, None) if row is None else (row.heartbeat_at, row.stopped_at)
        return self._once("daemon", read)

    def probes(self, window_s: int) -> dict[int, list[tuple[datetime, bool, float | None,
                                                              float | None]]]:
        """Probe answers in the window per probe job: (at, ok, rss_mb, cpu_s), oldest first."""
        def read() -> dict[int, list[tuple[datetime, bool, float | None, float | None]]]:
            since = self.now - timedelta(seconds=window_s)
            rows = self.session.execute(
                select(col(ProbeResult.job_id), col(ProbeResult.at), col(ProbeResult.ok),
                       col(ProbeResult.rss_mb), col(ProbeResult.cpu_s))
                .where(col(ProbeResult.at) >= since, col(ProbeResult.at) <= self.now,
                       col(ProbeResult.job_id).is_not(None))
                .order_by(col(ProbeResult.at))).all()
            out: dict[int, list[tuple[datetime, bool, float | None, float | None]]] = {}
            for job_id, at, ok, rss, cpu in rows:
                out.setdefault(job_id, []).append((at, bool(ok), rss, cpu))
            return out
        return self._once(("probes", window_s), read)

    # --- API tokens -----------------------------------------------------------------------

    def token_usage(self, window_s: int) -> dict[str, tuple[int, int]]:
        """Per token name: (requests, rate-limited) summed over the minutes in
        [now - window, now); every live token (not revoked, not expired) is there, (0, 0)
        when it made no request, and so is any token with use in the window."""
        def read() -> dict[str, tuple[int, int]]:
            since = self.now - timedelta(seconds=window_s)
            rows = self.session.execute(
                select(col(ApiToken.name), func.sum(col(TokenUsage.requests)),
                       func.sum(col(TokenUsage.limited)))
                .join(ApiToken, col(ApiToken.id) == col(TokenUsage.token_id))
                .where(col(TokenUsage.minute) >= since, col(TokenUsage.minute) < self.now)
                .group_by(col(ApiToken.name))).all()
            out = {n: (0, 0) for n in self.session.execute(
                select(col(ApiToken.name)).where(
                    col(ApiToken.revoked_at).is_(None),
                    col(ApiToken.expires_at).is_(None) | (col(ApiToken.expires_at) > self.now))
            ).scalars()}
            out.update({n: (int(r or 0), int(lim or 0)) for n, r, lim in rows})
            return out
        return self._once(("token_usage", window_s), read)


def model_ids_named(session: Session, names: Sequence[str]) -> dict[str, int]:
    rows = session.execute(select(col(RegisteredModel.name), col(RegisteredModel.id))
                           .where(col(RegisteredModel.name).in_(list(names)))).all()
    return {n: i for n, i in rows}
