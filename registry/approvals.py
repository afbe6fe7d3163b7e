"""Approvals: a version that a retrain registered under the `manual` promotion policy
waits as a pending request with a report (scheduler.approval_report writes it); a person
approves it (it becomes `production`, in the same transaction) or rejects it, always with
a reason. Every step is audited. A newer request of the same model supersedes the older
pending ones, so at most one version of a model waits at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from registry.aliases import promote_in, require_reason
from registry.production_guard import guard_production
from registry.views import iso
from store import aliases as alias_store
from store import approvals as approval_store
from store import audit
from store import models as model_store
from store import versions as version_store
from store.access import authorize
from store.errors import Conflict, InvalidInput, Listing, NotFound, see
from store.job_tables import ApprovalRequest
from store.roles import Permission
from store.rows import id_of
from store.types import utcnow
from store.vocabulary import ApprovalStatus, AuditAction

if TYPE_CHECKING:
    from sqlmodel import Session

    from store.handle import Store
    from store.tables import RegisteredModel


def _number(session: Session, version_id: int | None) -> int | None:
    return version_store.version_by_id(session, version_id).version if version_id else None


def approval_view(session: Session, row: ApprovalRequest, model: str) -> dict[str, Any]:
    return {
        "id": row.id, "model": model, "version": _number(session, row.version_id),
        "status": row.status, "against_version": _number(session, row.against_version_id),
        "training_run_id": row.training_run_id, "job_run_id": row.job_run_id,
        "report_md": row.report_md, "report_html": row.report_html,
        "summary": row.summary or {}, "requested_at": iso(row.requested_at),
        "decided_at": iso(row.decided_at), "decided_by": row.decided_by, "reason": row.reason,
    }


def _version_int(version: int | str) -> int:
    try:
        return int(str(version).lstrip("v"))
    except ValueError:
        raise InvalidInput(f"version {version!r} is not a number; give the version's number",
                           field="version", example="3",
                           see=see(Listing.APPROVALS)) from None


def request_approval(store: Store, name: str, version: int, *, report_md: str = "",
                     report_html: str = "", summary: dict[str, Any] | None = None,
                     training_run_id: int | None = None, job_run_id: int | None = None,
                     actor: str | None = None, reason: str = "") -> dict[str, Any]:
    """A pending request for `version` (older pending ones of the model become superseded),
    against the version production holds now; audited as version.approval_request."""
    actor = authorize(store, actor, Permission.PROPOSE, model=name)
    with store.db.write() as session:
        model = model_store.get_model(session, name)
        target = version_store.get_version(session, model, version)
        if approval_store.find_request(session, id_of(target)) is not None:
            raise Conflict(f"{name} v{version} already has an approval request",
                           see=see(Listing.APPROVALS, name))
        superseded = []
        for old in approval_store.pending_of_model(session, id_of(model)):
            old.status, old.decided_at, old.decided_by = ApprovalStatus.SUPERSEDED, utcnow(), actor
            old.reason = f"superseded by v{version}"
            session.add(old)
            superseded.append(_number(session, old.version_id))
        production = alias_store.find_alias(session, id_of(model), "production")
        row = approval_store.add_request(session, ApprovalRequest(
            model_id=id_of(model), version_id=id_of(target), training_run_id=training_run_id,
            job_run_id=job_run_id, against_version_id=production.version_id if production else None,
            report_md=report_md, report_html=report_html, summary=summary or {}))
        audit.record(session, actor=actor, action=AuditAction.APPROVAL_REQUEST,
                     target=audit.target(name, version),
                     after={"version": version, "against": _number(session, row.against_version_id),
                            "report": report_html, "superseded": superseded}, reason=reason)
        return approval_view(session, row, name)


def _pending(session: Session, name: str, version: int | str,
             doing: str) -> tuple[RegisteredModel, ApprovalRequest]:
    model = model_store.get_model(session, name)
    number = _version_int(version)
    target = version_store.get_version(session, model, number)
    row = approval_store.find_request(session, id_of(target))
    if row is None:
        raise NotFound(f"{name} v{number} has no approval request (only versions a retrain "
                       f"registered under the manual policy wait for one); promote it to "
                       f"production directly to make it production anyway")
    if row.status != ApprovalStatus.PENDING:
        when = iso(row.decided_at) or "?"
        raise Conflict(f"cannot {doing} {name} v{number}: its request is {row.status}, not "
                       f"pending (by {row.decided_by or '?'} at {when}: {row.reason!r})")
    return model, row


def _decide(session: Session, row: ApprovalRequest, status: ApprovalStatus, *, reason: str,
            actor: str) -> None:
    row.status, row.reason, row.decided_by, row.decided_at = status, reason, actor, utcnow()
    session.add(row)


def approve(store: Store, name: str, version: int | str, *, reason: str,
            actor: str | None = None) -> dict[str, Any]:
    """The pending version becomes `production` (promote_in, same transaction) and its
    request approved; audited as version.approve. Returns the request with `move`."""
    actor = authorize(store, actor, Permission.APPROVE, model=name)
    require_reason(f"approving {name} v{version}", reason)
    guard_production(store, name, actor, approving=version)
    with store.db.write() as session:
        model, row = _pending(session, name, version, "approve")
        target = version_store.version_by_id(session, row.version_id)
        move = promote_in(session, model, target, "production", actor=actor, reason=reason)
        _decide(session, row, ApprovalStatus.APPROVED, reason=reason, actor=actor)
        audit.record(session, actor=actor, action=AuditAction.VERSION_APPROVE,
                     target=audit.target(name, target.version),
                     before={"status": ApprovalStatus.PENDING, "production": move.from_version},
                     after={"status": ApprovalStatus.APPROVED, "production": target.version},
                     reason=reason)
        out = {**approval_view(session, row, name), "move": move.as_dict()}
        if out["against_version"] != move.from_version:
            out["note"] = (f"the report compared v{target.version} with v{out['against_version']}"
                           f", but production was v{move.from_version} when it was approved")
        return out


def reject(store: Store, name: str, version: int | str, *, reason: str,
           actor: str | None = None) -> dict[str, Any]:
    """The pending version stays as it is (no alias moves) and its request is rejected;
    audited as version.reject."""
    actor = authorize(store, actor, Permission.APPROVE, model=name)
    require_reason(f"rejecting {name} v{version}", reason)
    with store.db.write() as session:
        _model, row = _pending(session, name, version, "reject")
        _decide(session, row, ApprovalStatus.REJECTED, reason=reason, actor=actor)
        number = _number(session, row.version_id)
        audit.record(session, actor=actor, action=AuditAction.VERSION_REJECT,
                     target=audit.target(name, number), before={"status": ApprovalStatus.PENDING},
                     after={"status": ApprovalStatus.REJECTED}, reason=reason)
        return approval_view(session, row, name)


def list_approvals(store: Store, model: str | None = None,
                   status: str | None = ApprovalStatus.PENDING) -> list[dict[str, Any]]:
    """Approval requests, newest first: of one model or all, of one status or (None) all."""
    if status is not None and status not in tuple(ApprovalStatus):
        raise InvalidInput(f"approval status {status!r} is not one of "
                           f"{', '.join(ApprovalStatus)}", field="status", example="pending")
    with store.db.read() as session:
        model_id = id_of(model_store.get_model(session, model)) if model else None
        rows = approval_store.list_requests(session, model_id=model_id, status=status)
        names = model_store.models_by_ids(session, sorted({r.model_id for r in rows}))
        return [approval_view(session, r, names[r.model_id].name) for r in rows]


def show_approval(store: Store, name: str, version: int | str) -> dict[str, Any]:
    """One version's request with its report paths and summary."""
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        number = _version_int(version)
        row = approval_store.find_request(
            session, id_of(version_store.get_version(session, model, number)))
        if row is None:
            raise NotFound(f"{name} v{number} has no approval request",
                           see=see(Listing.APPROVALS, name))
        return approval_view(session, row, name)
