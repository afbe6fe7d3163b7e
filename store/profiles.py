"""Reference profiles: written once per version (at registration or on demand), read by
every check. Functions take an open Session; the caller owns the transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from store.report_tables import ReferenceProfile

PROFILE_KEYS = ("id", "model_id", "version_id", "source", "detail", "rows", "seconds", "created_at",
                "created_by")


def add_profile(session: Session, *, model_id: int, version_id: int, source: str, detail: dict[str, Any],
                rows: int, profile: dict[str, Any], seconds: float, actor: str) -> int:
    row = ReferenceProfile(model_id=model_id, version_id=version_id, source=source, detail=detail,
                           rows=rows, profile=profile, seconds=seconds, created_by=actor)
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def latest_profile(session: Session, version_id: int, *, with_profile: bool = True) -> dict[str, Any] | None:
    """The newest profile of a version (the one checks use), or None."""
    columns = [getattr(ReferenceProfile, k) for k in PROFILE_KEYS]
    if with_profile:
        columns.append(ReferenceProfile.profile)
    stmt = (select(*columns).where(col(ReferenceProfile.version_id) == version_id)
            .order_by(col(ReferenceProfile.id).desc()).limit(1))
    row = session.execute(stmt).first()
    if row is None:
        return None
    keys = PROFILE_KEYS + (("profile",) if with_profile else ())
    return dict(zip(keys, row, strict=True))


def list_profiles(session: Session, version_ids: list[int]) -> list[dict[str, Any]]:
    """Every profile of these versions, newest first, without the profile bodies."""
    columns = [getattr(ReferenceProfile, k) for k in PROFILE_KEYS]
    stmt = (select(*columns).where(col(ReferenceProfile.version_id).in_(version_ids))
            .order_by(col(ReferenceProfile.id).desc()))
    return [dict(zip(PROFILE_KEYS, row, strict=True)) for row in session.execute(stmt).all()]
