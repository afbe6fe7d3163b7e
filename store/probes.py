"""Probe answers (a server's /readyz asked by a probe job) and the uptime they measure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from store.job_tables import ProbeResult


def add_probe_result(session: Session, result: ProbeResult) -> None:
    session.add(result)


def uptime(session: Session, job_id: int, since: datetime) -> dict[str, Any]:
    """Answers since `since`: how many, how many ready, the share, and the last failure."""
    total, ready = session.exec(
        select(func.count(), func.coalesce(func.sum(case((col(ProbeResult.ok), 1), else_=0)), 0))
        .where(ProbeResult.job_id == job_id, col(ProbeResult.at) >= since)).one()
    last_bad = session.exec(
        select(ProbeResult).where(ProbeResult.job_id == job_id, col(ProbeResult.ok).is_(False))
        .order_by(col(ProbeResult.at).desc()).limit(1)).first()
    return {"since": since, "probes": int(total), "ready": int(ready),
            "uptime": (int(ready) / int(total)) if total else None,
            "last_failure": None if last_bad is None else {
                "at": last_bad.at, "status_code": last_bad.status_code, "error": last_bad.error}}
