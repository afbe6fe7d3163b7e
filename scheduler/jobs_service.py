"""The job actions the CLI and the console share: add, edit, pause, resume, remove,
run now. Each checks its input, writes only the `job` and `job_run` tables (the daemon
picks the change up from there within a few seconds) and its audit event, in one
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from scheduler.kinds import kind_spec
from scheduler.schedule import (
    EVERY_EXAMPLE,
    check_timezone,
    cron_trigger,
    parse_every,
)
from store import audit
from store import jobs as job_rows
from store.access import authorize, authorize_principal, owner_of_work
from store.errors import Conflict, InvalidInput, NotFound
from store.job_tables import Job
from store.models import find_model, model_name
from store.names import check_name
from store.roles import Permission
from store.rows import id_of
from store.vocabulary import AuditAction, CatchUp, JobKind, JobTrigger

if TYPE_CHECKING:
    from sqlmodel import Session

    from store.handle import Store

JOB_NAME_EXAMPLE = "nightly-retrain"


@dataclass
class JobSettings:
    """What `wk jobs add` and `edit` set besides the name and kind. In `edit`, None
    leaves a setting as it is."""

    cron: str | None = None
    every: str | None = None  # '1h'
    after: str | None = None  # the name of the job this one follows
    model: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    timezone: str | None = None
    catch_up: str | None = None
    catch_up_limit: int | None = None
    misfire_grace_s: int | None = None
    timeout_s: int | None = None
    deadline_s: int | None = None
    retries: int | None = None
    backoff_s: int | None = None
    memory_mb: int | None = None


def check_job_name(name: str) -> None:
    check_name(name, what="job name", example=JOB_NAME_EXAMPLE)


def _positive(name: str, value: int | None, *, zero: bool = False) -> None:
    if value is not None and (value < 0 or (value == 0 and not zero)):
        raise InvalidInput(f"{name.replace('_', ' ')} must be {'0 or more' if zero else 'above 0'}, "
                           f"not {value}", field=name)


def _apply(session: Session, job: Job, settings: JobSettings, *, new: bool) -> None:
    schedules = [s for s in (settings.cron, settings.every, settings.after) if s]
    if len(schedules) > 1:
        raise InvalidInput("a job has one schedule: a crontab line, an interval or a job to follow, not "
                           "several", field="every", example=EVERY_EXAMPLE)
    if new and not schedules:
        raise InvalidInput("a job needs a schedule: a crontab line, an interval or a job to follow",
                           field="every", example=EVERY_EXAMPLE)
    if settings.timezone is not None:
        job.timezone = check_timezone(settings.timezone)
    if settings.cron:
        cron_trigger(settings.cron, job.timezone)
        job.cron, job.every_s, job.after_job_id = settings.cron, None, None
    elif settings.every:
        job.cron, job.every_s, job.after_job_id = None, parse_every(settings.every), None
    elif settings.after:
        leader = job_rows.get_job(session, settings.after)
        if job.id is not None and id_of(job) in job_rows.after_chain(session, id_of(leader)):
            raise Conflict(f"job {job.name!r} cannot run after {leader.name!r}: "
                           f"{leader.name!r} already runs after {job.name!r} (a cycle)",
                           field="after")
        job.cron, job.every_s, job.after_job_id = None, None, id_of(leader)
    spec = kind_spec(job.kind)
    if settings.model is not None:
        model = find_model(session, settings.model)
        if model is None:
            raise NotFound(f"no model {settings.model!r}", field="model")
        job.model_id = model.id
    if spec.needs_model and job.model_id is None:
        raise InvalidInput(f"a {job.kind} job is about a model: name it", field="model",
                           example="credit")
    if settings.args or new:
        job.args = spec.checked_args({**(job.args or {}), **settings.args} if not new
                                     else settings.args)
    if settings.catch_up is not None:
        if settings.catch_up not in tuple(CatchUp):
            raise InvalidInput(f"the catch-up policy is one of {', '.join(CatchUp)}, not "
                               f"{settings.catch_up!r}", field="catch_up", example="latest")
        job.catch_up = settings.catch_up
    for name in ("catch_up_limit", "misfire_grace_s", "timeout_s", "deadline_s", "backoff_s",
                 "memory_mb"):
        value = getattr(settings, name)
        _positive(name, value)
        if value is not None:
            setattr(job, name, value)
    _positive("retries", settings.retries, zero=True)
    if settings.retries is not None:
        job.retries = settings.retries
    if new and settings.timeout_s is None:
        job.timeout_s = spec.timeout_s
    if job.deadline_s is not None and job.deadline_s < job.timeout_s:
        raise InvalidInput(f"the deadline ({job.deadline_s} s) is shorter than one attempt's "
                           f"timeout ({job.timeout_s} s)", field="deadline")


def describe(session: Session, job: Job) -> dict[str, Any]:
    out = job_rows.job_summary(job)
    out["model"] = model_name(session, job.model_id) if job.model_id else None
    leader = session.get(Job, job.after_job_id) if job.after_job_id else None
    out["after"] = leader.name if leader else None
    out["schedule"] = schedule_text(job, out["after"])
    return out


def schedule_text(job: Job, after: str | None) -> str:
    from scheduler.schedule import format_every

    if job.cron:
        return f"cron {job.cron}" + (f" ({job.timezone})" if job.timezone != "UTC" else "")
    if job.every_s:
        return f"every {format_every(job.every_s)}"
    return f"after {after}" if after else "(no schedule)"


def add_job(store: Store, name: str, kind: str, settings: JobSettings, *, paused: bool = False,
            actor: str | None = None) -> dict[str, Any]:
    # a prune job deletes history when it runs: adding one needs what pruning needs
    principal = authorize_principal(store, actor, Permission.RETENTION if kind == JobKind.PRUNE
                                    else Permission.JOBS)
    actor = principal.name
    check_job_name(name)
    kind_spec(kind)
    with store.db.write() as session:
        # the job acts with its owner's role when it runs (store.access.resolve)
        job = Job(name=name, kind=kind, paused=paused, created_by=owner_of_work(principal),
                  updated_by=actor)
        _apply(session, job, settings, new=True)
        job_rows.add_job(session, job)
        after = describe(session, job)
        audit.record(session, actor=actor, action=AuditAction.JOB_ADD, target=f"job/{name}",
                     after=after)
    return after


def edit_job(store: Store, name: str, settings: JobSettings, *, reason: str = "",
             actor: str | None = None) -> dict[str, Any]:
    actor = authorize(store, actor, Permission.JOBS)
    with store.db.write() as session:
        job = job_rows.get_job(session, name)
        before = describe(session, job)
        _apply(session, job, settings, new=False)
        job_rows.touch(job, actor)
        session.add(job)
        session.flush()
        after = describe(session, job)
        audit.record(session, actor=actor, action=AuditAction.JOB_EDIT, target=f"job/{name}",
                     before=before, after=after, reason=reason)
    return after


def set_paused(store: Store, name: str, paused: bool, *, reason: str = "",
               actor: str | None = None) -> dict[str, Any]:
    """Pause or resume; pausing a paused job (or resuming a running one) changes nothing
    and says so in `changed`."""
    actor = authorize(store, actor, Permission.JOBS)
    with store.db.write() as session:
        job = job_rows.get_job(session, name)
        changed = job.paused != paused
        if changed:
            job.paused = paused
            job_rows.touch(job, actor)
            session.add(job)
            audit.record(session, actor=actor,
                         action=AuditAction.JOB_PAUSE if paused else AuditAction.JOB_RESUME,
                         target=f"job/{name}", before={"paused": not paused},
                         after={"paused": paused}, reason=reason)
        return {**describe(session, job), "changed": changed}


def remove_job(store: Store, name: str, *, reason: str = "", actor: str | None = None) -> dict[str, Any]:
    actor = authorize(store, actor, Permission.JOBS)
    with store.db.write() as session:
        job = job_rows.get_job(session, name)
        following = [f.name for f in job_rows.followers(session, id_of(job))]
        if following:
            raise Conflict(f"job {name!r} has jobs that run after it ({', '.join(following)}): "
                           "remove them or give them another schedule first")
        before = describe(session, job)
        job_rows.remove_job(session, job)
        audit.record(session, actor=actor, action=AuditAction.JOB_REMOVE, target=f"job/{name}",
                     before=before, reason=reason)
    return before


def run_now(store: Store, name: str, *, reason: str = "", actor: str | None = None) -> dict[str, Any]:
    """Queue a run of the job for the daemon to start at once (paused or not: a person
    asked). A second request while one waits is refused."""
    actor = authorize(store, actor, Permission.JOBS)
    with store.db.write() as session:
        job = job_rows.get_job(session, name)
        waiting = job_rows.pending_run_now(session, id_of(job))
        if waiting is not None:
            raise Conflict(f"job {name!r} already has a run-now request waiting (run "
                           f"{waiting.id}); the scheduler starts it within seconds while it "
                           "runs")
        run = job_rows.queue_run(session, job, trigger=JobTrigger.RUN_NOW, requested_by=actor)
        audit.record(session, actor=actor, action=AuditAction.JOB_RUN_NOW, target=f"job/{name}",
                     after={"run": run.id}, reason=reason)
        return {"job": name, "run": run.id, "status": run.status}


def settings_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(JobSettings))
