"""Approval requests: a retrained version waiting for a person (promotion policy manual).
Functions take an open Session; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from store.job_tables import ApprovalRequest
from store.vocabulary import ApprovalStatus


def add_request(session: Session, request: ApprovalRequest) -> ApprovalRequest:
    session.add(request)
    session.flush()
    return request


def find_request(session: Session, version_id: int) -> ApprovalRequest | None:
    """The request of a version (a version is asked about at most once)."""
    stmt = select(ApprovalRequest).where(col(ApprovalRequest.version_id) == version_id)
    return session.exec(stmt).first()


def pending_of_model(session: Session, model_id: int) -> Sequence[ApprovalRequest]:
    stmt = (select(ApprovalRequest)
            .where(col(ApprovalRequest.model_id) == model_id,
                   col(ApprovalRequest.status) == ApprovalStatus.PENDING)
            .order_by(col(ApprovalRequest.id)))
    return session.exec(stmt).all()


def list_requests(session: Session, *, model_id: int | None = None,
                  status: str | None = None) -> Sequence[ApprovalRequest]:
    """Requests, newest first; `model_id` and `status` narrow them when given."""
    stmt = select(ApprovalRequest).order_by(col(ApprovalRequest.id).desc())
    if model_id is not None:
        stmt = stmt.where(col(ApprovalRequest.model_id) == model_id)
    if status is not None:
        stmt = stmt.where(col(ApprovalRequest.status) == status)
    return session.exec(stmt).all()
