"""Deployments: how each model is served, and the actions that change it. The CLI
(`wk deploy`), the console and tests call these; each change is one write transaction
with its audit event. A running server picks changes up within its poll interval.

The champion is the model's `production` alias, so `wk models promote ... production`
and `wk models rollback ... production` change what is served too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from registry import aliases as registry_aliases
from registry import views
from registry.aliases import AliasMove
from registry.production_guard import guard_production
from registry.versions import resolve_version
from serving.traffic.guardrails_config import view as guardrails_view
from serving.traffic.router import mode_problem
from store import audit
from store import deployments as deployments_q
from store import models as model_store
from store import rollups as rollups_q
from store import versions as version_store
from store.access import authorize
from store.deployments import CHAMPION_ALIAS
from store.errors import InvalidInput, Listing, NotFound, Refused, see
from store.roles import Permission
from store.rows import id_of
from store.tables import Deployment
from store.types import utcnow
from store.vocabulary import AuditAction, LogMode, Mode, Route, VersionStatus

if TYPE_CHECKING:
    from sqlmodel import Session

    from store.handle import Store
    from store.tables import ModelVersion, RegisteredModel

LOG_MODES = tuple(LogMode)


def version_to_use(session: Session, model: RegisteredModel, version: str | int | None,
                   doing: str) -> tuple[ModelVersion, Route]:
    """The version a CLI prediction or a batch run uses: the one given, else production;
    and the route it counts as (champion if it is production, else challenger)."""
    champion = deployments_q.champion_version(session, id_of(model))
    if version is not None:
        row = resolve_version(session, model, version)
    elif champion is not None:
        row = champion
    else:
        raise NotFound(f"model {model.name!r} has no production version to {doing} with; promote one "
                       "to production, or give the version", field="version", example="VERSION",
                       see=see(Listing.VERSIONS, model.name))
    return row, (Route.CHAMPION if champion is not None and champion.id == row.id else Route.CHALLENGER)


class Undid(StrEnum):
    """What a deployment rollback undid."""

    CHALLENGER = "challenger"  # the challenger was taken out
    PRODUCTION = "production"  # the production alias went back a version


@dataclass(frozen=True)
class DeploymentChange:
    """A deployment after a change: its view, whether it changed, its settings before,
    and for a promote or a production rollback the move of the production alias."""

    deployment: dict[str, Any]
    changed: bool
    before: dict[str, Any] | None = None
    undid: Undid | None = None
    alias_move: AliasMove | None = None

    @property
    def model(self) -> str:
        return str(self.deployment["model"])

    def as_dict(self) -> dict[str, Any]:
        """The shape `wk deploy ... --json` prints: the deployment's view with the change."""
        out = {**self.deployment, "changed": self.changed}
        if self.before is not None:
            out["before"] = self.before
        if self.undid is not None:
            out["undid"] = self.undid
        if self.alias_move is not None:
            out.update(alias=self.alias_move.alias, from_version=self.alias_move.from_version,
                       to_version=self.alias_move.to_version)
        return out


def _view(session: Session, model: RegisteredModel, dep: Deployment | None) -> dict[str, Any]:
    champion = deployments_q.champion_version(session, id_of(model))
    challenger = (version_store.version_by_id(session, dep.challenger_version_id)
                  if dep is not None and dep.challenger_version_id is not None else None)
    return {
        "model": model.name,
        "mode": dep.mode if dep else Mode.SINGLE,
        "champion": champion.version if champion else None,
        "challenger": challenger.version if challenger else None,
        "challenger_share": dep.challenger_share if dep else 0.0,
        "log_mode": dep.log_mode if dep else LogMode.FULL,
        "input_sample_rate": dep.input_sample_rate if dep else 1.0,
        "updated_at": views.iso(dep.updated_at) if dep else None,
        "updated_by": dep.updated_by if dep else None,
        "reason": dep.reason if dep else "",
        "guardrails": guardrails_view(dep.guardrails if dep else None),
    }


def _settings(view: dict[str, Any]) -> dict[str, Any]:
    keys = ("mode", "champion", "challenger", "challenger_share", "log_mode", "input_sample_rate")
    return {k: view[k] for k in keys}


def show(store: Store, name: str) -> dict[str, Any]:
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        return _view(session, model, deployments_q.find_deployment(session, id_of(model)))


def list_deployments(store: Store) -> list[dict[str, Any]]:
    """Every served model (a production alias or a deployment row)."""
    with store.db.read() as session:
        out = []
        for model_id, *_rest in deployments_q.serving_state(session):
            model = model_store.models_by_ids(session, [model_id])[model_id]
            out.append(_view(session, model, deployments_q.find_deployment(session, model_id)))
        return out


def set_deployment(store: Store, name: str, *, mode: str | None = None, challenger: str | int | None = None,
                   share: float | None = None, log_mode: str | None = None,
                   sample_rate: float | None = None, clear_challenger: bool = False,
                   reason: str = "", actor: str | None = None) -> DeploymentChange:
    """Change any of the settings; the others keep their values."""
    actor = authorize(store, actor, Permission.DEPLOY, model=name)
    with store.db.write() as session:
        return set_deployment_in(session, model_store.get_model(session, name), mode=mode,
                                 challenger=challenger, share=share, log_mode=log_mode,
                                 sample_rate=sample_rate, clear_challenger=clear_challenger,
                                 reason=reason, actor=actor)


def set_deployment_in(session: Session, model: RegisteredModel, *, mode: str | None = None,
                      challenger: str | int | None = None, share: float | None = None,
                      log_mode: str | None = None, sample_rate: float | None = None,
                      clear_challenger: bool = False, reason: str = "",
                      actor: str) -> DeploymentChange:
    """`set_deployment` inside the caller's write transaction (a canary start uses it with
    its watch row, scheduler/canary.py)."""
    if log_mode is not None and log_mode not in LOG_MODES:
        raise InvalidInput(f"log mode {log_mode!r} is not one of {', '.join(LOG_MODES)}", field="log_mode")
    if sample_rate is not None and not 0.0 <= sample_rate <= 1.0:
        raise InvalidInput(f"input sample rate {sample_rate} is outside 0..1 (e.g. 0.1 keeps one row in ten)",
                           field="sample_rate", example="0.1")
    name = model.name
    dep = deployments_q.find_deployment(session, id_of(model))
    before = _view(session, model, dep)
    if dep is None:
        dep = Deployment(model_id=id_of(model))
    if challenger is not None:
        version = resolve_version(session, model, challenger)
        if version.status == VersionStatus.ARCHIVED:
            raise Refused(f"{name} v{version.version} is archived; it cannot take traffic",
                          field="challenger", see=see(Listing.VERSIONS, name))
        champion = deployments_q.champion_version(session, id_of(model))
        if champion is not None and champion.id == version.id:
            raise InvalidInput(
                f"{name} v{version.version} is already the champion (production); choose "
                "another version as challenger", field="challenger", see=see(Listing.VERSIONS, name))
        dep.challenger_version_id = version.id
    if clear_challenger:
        dep.challenger_version_id = None
        dep.mode, dep.challenger_share = Mode.SINGLE, 0.0
    if mode is not None:
        dep.mode = mode
    if share is not None:
        dep.challenger_share = share
    if log_mode is not None:
        dep.log_mode = log_mode
    if sample_rate is not None:
        dep.input_sample_rate = sample_rate
    problem = mode_problem(dep.mode, dep.challenger_share, dep.challenger_version_id is not None)
    if problem:
        message, field = problem
        raise InvalidInput(f"deployment of {name}: {message}", field=field,
                           example={"challenger": "VERSION", "share": "0.1"}.get(field),
                           see=see(Listing.VERSIONS, name) if field == "challenger" else None)
    if dep.mode != Mode.SINGLE and deployments_q.champion_version(session, id_of(model)) is None:
        raise Refused(f"{name} has no production version to act as champion; promote one to "
                      "production first", see=see(Listing.VERSIONS, name))
    dep.updated_at, dep.updated_by, dep.reason = utcnow(), actor, reason
    session.add(dep)
    session.flush()
    after = _view(session, model, dep)
    if _settings(after) != _settings(before):
        audit.record(session, actor=actor, action=AuditAction.DEPLOYMENT_SET,
                     target=f"model/{name}/deployment", before=_settings(before),
                     after=_settings(after), reason=reason)
    return DeploymentChange(after, _settings(after) != _settings(before), _settings(before))


def _challenger_out(session: Session, model: RegisteredModel, dep: Deployment, before: dict[str, Any],
                    action: str, actor: str, reason: str) -> DeploymentChange:
    """Mode single, no challenger: written and audited as `action` in the caller's transaction."""
    dep.challenger_version_id, dep.mode, dep.challenger_share = None, Mode.SINGLE, 0.0
    dep.updated_at, dep.updated_by, dep.reason = utcnow(), actor, reason
    session.add(dep)
    session.flush()
    after = _view(session, model, dep)
    audit.record(session, actor=actor, action=action, target=f"model/{model.name}/deployment",
                 before=_settings(before), after=_settings(after), reason=reason)
    return DeploymentChange(after, True, _settings(before))


def promote(store: Store, name: str, *, reason: str = "", actor: str | None = None) -> DeploymentChange:
    """The challenger becomes the champion (the production alias moves to it) and takes
    all traffic; the old champion can be brought back with `rollback`."""
    actor = authorize(store, actor, Permission.PROMOTE, model=name)
    registry_aliases.require_reason("promoting a challenger (it changes production)", reason)
    guard_production(store, name, actor)
    with store.db.write() as session:
        model = model_store.get_model(session, name)
        dep = deployments_q.find_deployment(session, id_of(model))
        if dep is None or dep.challenger_version_id is None:
            raise NotFound(f"{name} has no challenger to promote; set one first",
                           see=see(Listing.DEPLOYMENT, name))
        return promote_in(session, model, dep, reason=reason, actor=actor)


def promote_in(session: Session, model: RegisteredModel, dep: Deployment, *, reason: str,
               actor: str) -> DeploymentChange:
    """`promote` inside the caller's write transaction, for a deployment with a challenger."""
    assert dep.challenger_version_id is not None
    before = _view(session, model, dep)
    target = version_store.version_by_id(session, dep.challenger_version_id)
    moved = registry_aliases.promote_in(session, model, target, CHAMPION_ALIAS, actor=actor, reason=reason)
    after = _challenger_out(session, model, dep, before, AuditAction.DEPLOYMENT_PROMOTE, actor, reason)
    return replace(after, alias_move=moved)


def challenger_out_in(session: Session, model: RegisteredModel, dep: Deployment, *, reason: str,
                      actor: str) -> DeploymentChange:
    """The challenger-out half of `rollback` inside the caller's write transaction: mode
    single on the production alias, audited as deployment.rollback."""
    after = _challenger_out(session, model, dep, _view(session, model, dep),
                            AuditAction.DEPLOYMENT_ROLLBACK, actor, reason)
    return replace(after, undid=Undid.CHALLENGER)


def rollback(store: Store, name: str, *, reason: str = "", actor: str | None = None) -> DeploymentChange:
    """All traffic back to the known-good version in one step: with a challenger taking
    traffic (shadow, canary, ab), the challenger is taken out; otherwise the production
    alias returns to the version it held before."""
    actor = authorize(store, actor, Permission.ROLLBACK, model=name)
    registry_aliases.require_reason("rolling back production traffic", reason)
    with store.db.write() as session:
        model = model_store.get_model(session, name)
        dep = deployments_q.find_deployment(session, id_of(model))
        if dep is not None and (dep.mode != Mode.SINGLE or dep.challenger_version_id is not None):
            after = _challenger_out(session, model, dep, _view(session, model, dep),
                                    AuditAction.DEPLOYMENT_ROLLBACK, actor, reason)
            return replace(after, undid=Undid.CHALLENGER)
    moved = registry_aliases.rollback(store, name, CHAMPION_ALIAS, reason=reason, actor=actor)
    return DeploymentChange(show(store, name), True, undid=Undid.PRODUCTION, alias_move=moved)


def rollback_preview(store: Store, name: str) -> str:
    """What `rollback` would do, without doing it, as one line (the console's confirmation)."""
    current = show(store, name)
    if current["mode"] != Mode.SINGLE or current["challenger"] is not None:
        return (f"{name}: {current['mode']} v{current['champion']}+"
                f"v{current['challenger']} -> single v{current['champion']} (challenger out)")
    return registry_aliases.rollback_preview(store, name, CHAMPION_ALIAS).change()


def traffic(store: Store, *, minutes: int = 5, now: Any = None) -> list[dict[str, Any]]:
    """Per model, version and route over the last minutes, from the rollup: requests and
    rows (each per minute too), error rate, p50/p95 latency (ms)."""
    from serving.traffic.rollup import traffic_summary, traffic_window

    now = now or utcnow()
    since, span = traffic_window(now, minutes)
    with store.db.read() as session:
        rows = rollups_q.rollup_totals(session, since)
    out = []
    for t in rows:
        count = t.answered
        out.append({
            "model": t.model, "version": t.version, "route": t.route,
            **traffic_summary(count, t.errors, t.requests, [int(b or 0) for b in t.buckets], span),
            "mean_ms": (t.latency_sum_ms / count) if count else None, "max_ms": t.latency_max_ms,
            "mean_score": (t.out_sum / t.out_count) if t.out_count else None,
        })
    return sorted(out, key=lambda r: (r["model"], r["version"], r["route"]))
