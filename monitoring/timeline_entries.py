"""The timeline's entries of each source (monitoring/timeline.py assembles them): one
store read each (store/timeline.py), worded as one line a title, with who did it and the
ids that open it."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import Session

from monitoring.spikes import (
    Minute,
    QuarantineRule,
    SpikeKind,
    SpikeRule,
    find_spikes,
    merge_bursts,
)
from monitoring.timeline import TimelineEntry, TimelineKind, said_merged
from store import timeline as reads
from store.vocabulary import AlertEventKind, AliasAction, AuditAction, CheckStatus, JobRunStatus

Row = TypeVar("Row", reads.JobRunRow, reads.ReportRow)


def _v(version: int | None) -> str:
    return f"v{version}" if version is not None else "-"


def _when(start: datetime, end: datetime | None) -> str:
    """How long from `start` to `end`, in its two largest units: "4m 12s", "38s", "2h", "1d 3h"."""
    if end is None:
        return ""
    left = max(int((end - start).total_seconds()), 0)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size or (unit == "s" and not parts):
            parts.append(f"{left // size}{unit}")
            left %= size
    kept = parts[:2]
    return " ".join(p for i, p in enumerate(kept) if i == 0 or not p.startswith("0"))


def training(session: Session, model_id: int, since: datetime, until: datetime) -> list[TimelineEntry]:
    out = []
    for r in reads.training_runs(session, model_id, since, until):
        took = _when(r.started_at, r.ended_at)
        outcome = f"registered v{r.version}" if r.version is not None else (r.reason or r.status)
        title = f"{r.kind} run #{r.id} {r.status}" + (f": {outcome}" if r.ended_at else "")
        out.append(TimelineEntry(
            at=r.ended_at or r.started_at, kind=TimelineKind.TRAINING, title=title, version=r.version,
            detail=f"started {r.started_at.isoformat()}" + (f", took {took}" if took else "")
            + (f"; {r.reason}" if r.reason and r.reason != outcome else ""),
            actor=r.actor, ids={"run": r.id}, seq=r.id))
    return out


def approvals(session: Session, model_id: int, since: datetime, until: datetime) -> list[TimelineEntry]:
    out = []
    for a in reads.approval_requests(session, model_id, since, until):
        ids = {"approval": a.id, **({"run": a.training_run_id} if a.training_run_id else {}),
               **({"job_run": a.job_run_id} if a.job_run_id else {})}
        if since <= a.requested_at < until:
            out.append(TimelineEntry(a.requested_at, TimelineKind.APPROVAL,
                                     f"v{a.version} waits for approval", a.version, ids=ids, seq=a.id * 2))
        if a.decided_at is not None and since <= a.decided_at < until:
            out.append(TimelineEntry(a.decided_at, TimelineKind.APPROVAL,
                                     f"v{a.version} {a.status}" + (f": {a.reason}" if a.reason else ""),
                                     a.version, actor=a.decided_by, ids=ids, seq=a.id * 2 + 1))
    return out


def aliases(session: Session, model_id: int, since: datetime, until: datetime) -> list[TimelineEntry]:
    out = []
    for c in reads.alias_changes(session, model_id, since, until):
        verb = "rollback" if c.action == AliasAction.ROLLBACK else "promote"
        moved = f"v{c.from_version} -> v{c.to_version}" if c.from_version is not None else f"-> v{c.to_version}"
        title = f"{verb} {c.alias} {moved}"
        out.append(TimelineEntry(c.at, TimelineKind.ALIAS, title + (f": {c.reason}" if c.reason else ""),
                                 c.to_version, detail=c.reason, actor=c.actor,
                                 ids={"alias_change": c.id, "alias": c.alias}, seq=c.id))
    return out


def _serving(settings: dict[str, Any] | None) -> str:
    """"canary v1+v2 10%", "single v1"."""
    s = settings or {}
    if s.get("challenger") is None:
        return f"{s.get('mode', 'single')} {_v(s.get('champion'))}"
    share = s.get("challenger_share") or 0.0
    return f"{s.get('mode')} {_v(s.get('champion'))}+{_v(s.get('challenger'))} {share:.0%}"


DEPLOYMENT_VERBS: dict[str, str] = {AuditAction.DEPLOYMENT_SET: "set", AuditAction.DEPLOYMENT_PROMOTE: "challenger promoted",
                    AuditAction.DEPLOYMENT_ROLLBACK: "rolled back"}


def deployments(session: Session, model_id: int, model: str, since: datetime,
                until: datetime) -> list[TimelineEntry]:
    out = []
    events = reads.deployment_events(session, model, since, until)
    for e in events:
        verb = DEPLOYMENT_VERBS.get(e.action, e.action)
        after = e.after or {}
        title = f"{verb}: {_serving(e.before)} -> {_serving(after)}"
        out.append(TimelineEntry(e.at, TimelineKind.DEPLOYMENT, title, after.get("challenger") or after.get("champion"),
                                 detail=e.reason, actor=e.actor, ids={"audit": e.id}, seq=e.id))
    now = reads.deployment_now(session, model_id)
    # a deployment row changed without its audit event (written before the audit log kept
    # deployments, or by hand): its last change still shows
    if now is not None and since <= now.updated_at < until and not any(
            abs((e.at - now.updated_at).total_seconds()) < 1 for e in events):
        challenger = f", challenger v{now.challenger} at {now.share:.0%}" if now.challenger else ""
        out.append(TimelineEntry(now.updated_at, TimelineKind.DEPLOYMENT,
                                 f"changed: {now.mode}{challenger}", now.challenger,
                                 detail=now.reason, actor=now.updated_by, ids={"deployment": model}))
    return out


def canaries(session: Session, model_id: int, since: datetime, until: datetime) -> list[TimelineEntry]:
    out = []
    for c in reads.canary_watches(session, model_id, since, until):
        ids = {"canary": c.id, **({"job_run": c.job_run_id} if c.job_run_id else {})}
        if since <= c.started_at < until:
            out.append(TimelineEntry(c.started_at, TimelineKind.CANARY,
                                     f"canary v{c.version} at {c.share:.0%} for {_when(c.started_at, c.ends_at)}",
                                     c.version, ids=ids, seq=c.id * 2))
        if c.decided_at is not None and since <= c.decided_at < until:
            why = f" by alert #{c.alert_id}" if c.alert_id else ""
            out.append(TimelineEntry(c.decided_at, TimelineKind.CANARY,
                                     f"canary v{c.version} {c.status.replace('_', ' ')}{why}"
                                     + (f": {c.note}" if c.note else ""), c.version,
                                     ids={**ids, **({"alert": c.alert_id} if c.alert_id else {})},
                                     seq=c.id * 2 + 1))
    return out


def _folded(rows: Iterable[Row], key: Callable[[Row], Hashable]) -> Iterator[tuple[Row, Row, int]]:
    """(first, last, count) of each run of consecutive rows with the same key: a check
    every 30 s is one entry until its outcome changes (built once, not per row)."""
    first: Row | None = None
    last: Row | None = None
    count, current = 0, None
    for row in rows:
        k = key(row)
        if first is not None and k == current:
            last, count = row, count + 1
            continue
        if first is not None and last is not None:
            yield first, last, count
        first, last, count, current = row, row, 1, k
    if first is not None and last is not None:
        yield first, last, count


def _merged(entry: TimelineEntry, last_at: datetime, last_id: int, count: int) -> TimelineEntry:
    if count == 1:
        return entry
    return said_merged(replace(entry, count=count, until=last_at, ids={**entry.ids, "last": last_id}))


def _said(r: reads.JobRunRow) -> str:
    return r.error.splitlines()[0] if r.error else r.note


def jobs(session: Session, model_id: int, since: datetime, until: datetime) -> list[TimelineEntry]:
    out = []
    rows = reads.job_runs(session, model_id, since, until)
    for r, last, count in _folded(rows, lambda r: (r.job_id or r.job, r.status, _said(r))):
        at = r.ended_at or r.started_at or r.queued_at
        took = _when(r.started_at, r.ended_at) if r.started_at else ""
        said = _said(r)
        title = f"{r.job} ({r.kind}) {r.status}" + (f": {said}" if said else "")
        detail = ", ".join(p for p in (f"run #{r.id}", f"attempt {r.attempt}" if r.attempt > 1 else "",
                                       r.trigger, f"took {took}" if took else "") if p)
        entry = TimelineEntry(at, TimelineKind.JOB, title, detail=detail, actor=r.actor, ids={"job_run": r.id},
                              seq=r.id, until=at if r.status != JobRunStatus.RUNNING else None)
        out.append(_merged(entry, last.ended_at or last.started_at or last.queued_at, last.id, count))
    return out


def _report_title(r: reads.ReportRow) -> str:
    f = r.figures
    if r.kind == "drift" and r.status in {CheckStatus.DRIFT, CheckStatus.OK} and not r.reason:
        said = f"{f['drifted']} of {f['features']} features drifted"
        if f.get("domain_auc") is not None:
            said += f", domain AUC {f['domain_auc']:.2f}"
        return f"{r.status}: {said}"
    if r.kind == "quality" and r.status in {CheckStatus.OK, CheckStatus.FAILED}:
        return (f"{r.status}: {f['errors']} errors, {f['warnings']} warnings"
                + (f", {f['quarantined']} quarantined" if f["quarantined"] else ""))
    if r.kind == "performance" and (f.get("realised") or f.get("estimated")):
        metrics = f.get("realised") or {}
        name = next(iter(metrics), None) or next(iter(f.get("estimated") or {}), "")
        value = metrics.get(name)
        estimate = (f.get("estimated") or {}).get(name)
        training = (f.get("training") or {}).get(name)
        parts = [f"{name} {value:.3f}" if isinstance(value, float) else f"{name} -"]
        if isinstance(estimate, float):
            parts.append(f"est. {estimate:.3f}")
        if isinstance(training, float):
            parts.append(f"training {training:.3f}")
        return f"{r.status}: {', '.join(parts)}, coverage {f['coverage']:.1%}"
    said = r.status.replace("_", " ")
    return f"{said}: {r.reason[len(said):].lstrip(': ')}" if r.reason.startswith(said) else (
        f"{said}: {r.reason}" if r.reason else said)


def reports(session: Session, kind: str, model_id: int, since: datetime, until: datetime) -> list[TimelineEntry]:
    out = []
    rows = reads.reports(session, kind, model_id, since, until)
    for r, last, count in _folded(rows, lambda r: (r.version, r.status)):
        window = f"window {r.window_start.isoformat()} - {r.window_end.isoformat()}"
        entry = TimelineEntry(r.created_at, kind, _report_title(r), r.version,
                              detail=f"{window}; {r.reason}" if r.reason else window, actor=r.actor,
                              ids={"report": r.id}, seq=r.id, until=r.created_at)
        out.append(_merged(entry, last.created_at, last.id, count))
    return out


def quarantine(session: Session, model_id: int, since: datetime, until: datetime,
               rule: QuarantineRule) -> list[TimelineEntry]:
    groups = reads.quarantine_groups(session, model_id, since, until, min_online=rule.min_rows)
    out = []
    batches: dict[str, list[reads.QuarantineGroup]] = {}
    for g in groups:
        if g.batch_run_id is not None:
            batches.setdefault(g.batch_run_id, []).append(g)

    def fields_text(by_field: dict[str, int]) -> str:
        ranked = sorted(by_field.items(), key=lambda kv: (-kv[1], kv[0]))
        return ", ".join(f"{name or 'row'} {rows}" for name, rows in ranked[:4])

    for run, rows in batches.items():
        by_field: dict[str, int] = {}
        for g in rows:
            by_field[g.field or ""] = by_field.get(g.field or "", 0) + g.rows
        total = sum(by_field.values())
        first, last = min(g.first for g in rows), max(g.last for g in rows)
        out.append(TimelineEntry(first, TimelineKind.QUARANTINE,
                                 f"batch run {run} quarantined {total:,} rows ({fields_text(by_field)})",
                                 detail="by field: " + fields_text(by_field), ids={"batch_run": run},
                                 until=last, count=total))
    online = [(g.minute, g.field, g.rows) for g in groups if g.minute is not None]
    for i, burst in enumerate(merge_bursts(online)):
        minutes = int((burst.end - burst.start).total_seconds() // 60)
        out.append(TimelineEntry(burst.start, TimelineKind.QUARANTINE,
                                 f"{burst.rows:,} rows refused in {minutes} min "
                                 f"({fields_text(burst.by_field)})",
                                 detail=f"at least {rule.min_rows} refused rows a minute of online traffic",
                                 until=burst.end, count=burst.rows, seq=i))
    return out


def spikes(session: Session, model_id: int, since: datetime, until: datetime,
           rule: SpikeRule) -> list[TimelineEntry]:
    minutes = [Minute(*m) for m in reads.rollup_minutes(session, model_id, since, until)]
    out = []
    for i, s in enumerate(find_spikes(minutes, rule)):
        span = f"{s.minutes} min"
        if s.kind is SpikeKind.LATENCY:
            title = f"latency for {span}: p95 up to {s.peak:.0f} ms (usual {s.baseline:.1f} ms)"
        else:
            title = f"errors for {span}: up to {s.peak:.1%} refused (usual {s.baseline:.1%})"
        out.append(TimelineEntry(s.start, TimelineKind.SPIKE, title, s.version,
                                 detail=f"peak at {s.peak_at.isoformat()}; {s.rows:,} rows, {s.errors:,} refused",
                                 ids={"spike": s.kind.value}, until=s.end, seq=i))
    return out


#: How each step of an alert's life reads after "alert RULE".
EVENT_WORDS = {AlertEventKind.ACK_EXPIRED: "acknowledgement expired", AlertEventKind.REPEAT: "still firing",
               AlertEventKind.ANNOTATED: "note"}


def _alert_title(a: reads.AlertRow, event: str, actor: str, note: str) -> str:
    word = EVENT_WORDS.get(AlertEventKind(event), event) if event in set(AlertEventKind) else event
    head = f"{a.rule} {word}"
    if event in {AlertEventKind.PENDING, AlertEventKind.FIRING}:
        target = f" {a.feature}" if a.feature else ""
        return f"{head} ({a.severity}){target}: {note or a.reason}"
    if event == AlertEventKind.RESOLVED:
        head += f" by {actor}" if actor else " by itself"
    elif actor and event != AlertEventKind.ANNOTATED:
        head += f" by {actor}"
    return f"{head}: {note}" if note else head


def alerts(session: Session, model_id: int, since: datetime, until: datetime) -> list[TimelineEntry]:
    rows = reads.alerts(session, model_id, since, until)
    events = reads.alert_events(session, [a.id for a in rows], since, until)
    by_alert: dict[int, list[reads.AlertEventRow]] = {}
    for e in events:
        by_alert.setdefault(e.alert_id, []).append(e)
    out = []
    for a in rows:
        mine = by_alert.get(a.id, [])
        for e in mine:
            out.append(TimelineEntry(e.at, TimelineKind.ALERT, _alert_title(a, e.event, e.actor, e.note),
                                     a.version, detail=f"{a.kind} alert #{a.id}: {a.reason}" if a.reason else "",
                                     actor=e.actor, ids={"alert": a.id, "event": e.id}, seq=e.id))
        # an alert whose steps were not written as events still shows when it started,
        # fired and resolved (from its own row)
        said = {e.event for e in mine}
        for event, at, actor in ((AlertEventKind.PENDING, a.started_at, ""),
                                 (AlertEventKind.FIRING, a.fired_at, ""),
                                 (AlertEventKind.RESOLVED, a.resolved_at, a.resolved_by)):
            if at is not None and since <= at < until and event not in said and not mine:
                out.append(TimelineEntry(at, TimelineKind.ALERT, _alert_title(a, event, actor, ""),
                                         a.version, detail=a.reason, actor=actor, ids={"alert": a.id}))
    return out


def silences(session: Session, model: str, since: datetime, until: datetime) -> list[TimelineEntry]:
    out = []
    for s in reads.silences(session, since, until):
        matchers = s.matchers or {}
        if matchers.get("model") != model:
            continue
        said = " ".join(f"{k}={v}" for k, v in sorted(matchers.items()))
        if since <= s.created_at < until:
            out.append(TimelineEntry(s.created_at, TimelineKind.SILENCE,
                                     f"silence #{s.id} {said} for {_when(s.starts_at, s.ends_at)}"
                                     + (f": {s.comment}" if s.comment else ""),
                                     detail=f"from {s.starts_at.isoformat()}", actor=s.created_by,
                                     ids={"silence": s.id}, seq=s.id * 2, until=s.ends_at))
        ended = s.ended_at or s.ends_at
        if since <= ended < until:
            by = f" by {s.ended_by}" if s.ended_at and s.ended_by else ""
            out.append(TimelineEntry(ended, TimelineKind.SILENCE,
                                     f"silence #{s.id} {'ended' + by if s.ended_at else 'expired'}",
                                     actor=s.ended_by, ids={"silence": s.id}, seq=s.id * 2 + 1))
    return out
