"""One model's timeline: in one chronological list what an on-call engineer otherwise
pieces together from five places: alias and deployment changes, training and job runs,
approval requests, canary watches, drift, quality and performance reports, alerts with
every step of their life (pending, firing, acknowledged with who and the note, silenced,
annotated with what was done, resolved), silences on the model, quarantine bursts, and
spikes in latency or errors found in the per-minute rollups.

The spike rule (monitoring/spikes.py, pure): per version over the window asked for, a
minute with at least 20 rows is a latency spike when its p95 (from the rollup's
histogram) is at least 3 times the median minute's p95 and 5 ms above it, an error spike
when its refused share is at least 5 points above the median share and 3 times it, with
5 refused rows; consecutive minutes at least halfway there around such a minute are one
spike. A quarantine burst is consecutive minutes of 10 or more refused online rows each;
a batch run's refused rows are one entry.

Entries are oldest first. Entries at the same time keep one order on every read: by
kind (KIND_ORDER: the change before what it caused, so a rollback comes before the
alert annotated with it), then by the stored row's id. Reports, and runs of a job, that
repeat the one before them of the same kind (the same version and status, the same job
and status) are one entry with a count, from the first to the last: a check every 30 s
would otherwise bury the one report that changed.

`model_timeline` is the service the CLI (`wk timeline`) and the console's Timeline
screen call; `entry_view` is its JSON form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from monitoring.spikes import QuarantineRule, SpikeRule
from store.errors import InvalidInput
from store.handle import Store
from store.types import utcnow


class TimelineKind(StrEnum):
    TRAINING = "training"  # a training or reproduce run
    APPROVAL = "approval"  # a retrained version waits for a person; approved or rejected
    ALIAS = "alias"  # an alias moved (promote, rollback)
    DEPLOYMENT = "deployment"  # a challenger set, promoted or taken out
    CANARY = "canary"  # automatic promotion: a canary share, then promoted or rolled back
    JOB = "job"  # a scheduled job's run
    DRIFT = "drift"
    QUALITY = "quality"
    PERFORMANCE = "performance"
    QUARANTINE = "quarantine"  # a burst of refused rows, or a batch run's refused rows
    SPIKE = "spike"  # latency or errors well above the window's usual
    ALERT = "alert"  # a step in an alert's life
    SILENCE = "silence"  # a silence on the model added or ended


#: The order of entries at the same time (the module docstring).
KIND_ORDER: dict[str, int] = {kind: rank for rank, kind in enumerate(TimelineKind)}
KINDS: tuple[str, ...] = tuple(TimelineKind)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime  # UTC
    kind: str  # TimelineKind
    title: str  # one line
    version: int | None = None
    detail: str = ""
    actor: str = ""
    #: what to open: {"report": 12}, {"alert": 3, "event": 9}, {"run": 5}, {"job_run": 40} ...
    ids: dict[str, Any] = field(default_factory=dict)
    until: datetime | None = None  # the end of an entry that spans time (merged, a spike)
    count: int = 1  # stored rows (reports, runs) the entry stands for
    seq: int = field(default=0, compare=False)  # the stored row's id: the order at equal times

    def sort_key(self) -> tuple[datetime, int, int]:
        return (self.at, KIND_ORDER.get(self.kind, 99), self.seq)


@dataclass(frozen=True)
class TimelineRules:
    spikes: SpikeRule = SpikeRule()
    quarantine: QuarantineRule = QuarantineRule()


def parse_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    """The kinds asked for (all when None or empty), each checked."""
    asked = [k.strip() for k in kinds or () if k.strip()]
    wrong = [k for k in asked if k not in KINDS]
    if wrong:
        raise InvalidInput(f"unknown timeline kind {', '.join(map(repr, wrong))}; the kinds are "
                           f"{', '.join(KINDS)}", field="kind", example="alert,drift")
    return tuple(dict.fromkeys(asked)) if asked else KINDS


def window(since: timedelta | datetime, until: datetime | None = None,
           now: datetime | None = None) -> tuple[datetime, datetime]:
    """[since, until) in UTC: `since` a length of time back from `until` (default now) or a
    time; a time without a zone is UTC."""
    def utc(moment: datetime) -> datetime:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    end = utc(until) if until is not None else (now or utcnow())
    if isinstance(since, timedelta):
        if since <= timedelta(0):
            raise InvalidInput(f"the timeline's length {since} is not positive", field="since",
                               example="7d")
        return end - since, end
    start = utc(since)
    if start >= end:
        raise InvalidInput(f"the timeline starts at {start.isoformat()}, not before its end "
                           f"{end.isoformat()}", field="since", example="7d")
    return start, end


def model_timeline(store: Store, model_name: str, since: timedelta | datetime,
                   until: datetime | None = None, kinds: Iterable[str] | None = None, *,
                   rules: TimelineRules | None = None, now: datetime | None = None) -> list[TimelineEntry]:
    """Everything that happened to `model_name` in [since, until), oldest first (module
    docstring). NotFound names the model and the models there are."""
    from monitoring import timeline_entries as build
    from store import models as model_store
    from store.rows import id_of

    wanted = set(parse_kinds(kinds))
    start, end = window(since, until, now)
    rules = rules or TimelineRules()
    entries: list[TimelineEntry] = []
    with store.db.read() as session:
        model = model_store.get_model(session, model_name)
        model_id = id_of(model)
        sources: list[tuple[TimelineKind, Callable[[], list[TimelineEntry]]]] = [
            (TimelineKind.TRAINING, lambda: build.training(session, model_id, start, end)),
            (TimelineKind.APPROVAL, lambda: build.approvals(session, model_id, start, end)),
            (TimelineKind.ALIAS, lambda: build.aliases(session, model_id, start, end)),
            (TimelineKind.DEPLOYMENT, lambda: build.deployments(session, model_id, model_name, start, end)),
            (TimelineKind.CANARY, lambda: build.canaries(session, model_id, start, end)),
            (TimelineKind.JOB, lambda: build.jobs(session, model_id, start, end)),
            (TimelineKind.DRIFT, lambda: build.reports(session, "drift", model_id, start, end)),
            (TimelineKind.QUALITY,
             lambda: build.reports(session, "quality", model_id, start, end)),
            (TimelineKind.PERFORMANCE,
             lambda: build.reports(session, "performance", model_id, start, end)),
            (TimelineKind.QUARANTINE,
             lambda: build.quarantine(session, model_id, start, end, rules.quarantine)),
            (TimelineKind.SPIKE, lambda: build.spikes(session, model_id, start, end, rules.spikes)),
            (TimelineKind.ALERT, lambda: build.alerts(session, model_id, start, end)),
            (TimelineKind.SILENCE, lambda: build.silences(session, model_name, start, end)),
        ]
        for kind, read in sources:
            if kind in wanted:
                entries += read()
    return sorted(entries, key=TimelineEntry.sort_key)


def said_merged(entry: TimelineEntry) -> TimelineEntry:
    """A folded entry's title and detail say how many rows it stands for."""
    if entry.count == 1:
        return entry
    what = "reports" if entry.kind in {TimelineKind.DRIFT, TimelineKind.QUALITY,
                                       TimelineKind.PERFORMANCE} else "runs"
    return replace(entry, title=f"{entry.title} (x{entry.count})",
                   detail=f"{entry.count} {what} alike, the last #{entry.ids['last']}"
                          + (f"; {entry.detail}" if entry.detail else ""))


def entry_view(entry: TimelineEntry) -> dict[str, Any]:
    """An entry as JSON (times ISO in UTC)."""
    return {"at": entry.at.isoformat(), "kind": entry.kind, "version": entry.version,
            "title": entry.title, "detail": entry.detail, "actor": entry.actor,
            "ids": dict(entry.ids),
            "until": entry.until.isoformat() if entry.until else None, "count": entry.count}


def timeline_view(model: str, since: datetime, until: datetime, kinds: Sequence[str],
                  entries: Sequence[TimelineEntry]) -> dict[str, Any]:
    """The whole timeline as one JSON document (`wk timeline --json`)."""
    return {"model": model, "since": since.isoformat(), "until": until.isoformat(),
            "kinds": list(kinds), "entries": [entry_view(e) for e in entries]}


def alert_detail(store: Store, alert_id: int) -> dict[str, Any]:
    """One alert in full: what fired, on what, its state and times, and every step of its
    life with who and the note, oldest first (the console's detail of an alert entry,
    until the Alerts screen shows it). NotFound names the alert."""
    from store import timeline as reads
    from store.errors import NotFound

    with store.db.read() as session:
        found = reads.alert_with_events(session, alert_id)
    if found is None:
        raise NotFound(f"alert #{alert_id} does not exist")
    a, model, events = found
    return {"id": a.id, "rule": a.rule, "kind": a.kind, "severity": a.severity, "model": model,
            "version": a.version, "feature": a.feature, "state": a.state, "value": a.value,
            "reason": a.reason, "started_at": a.started_at, "fired_at": a.fired_at,
            "resolved_at": a.resolved_at, "resolved_by": a.resolved_by,
            "events": [{"id": e.id, "at": e.at, "event": e.event, "actor": e.actor, "note": e.note}
                       for e in events]}
