"""Helpers on stored rows."""

from __future__ import annotations

from typing import Protocol


class _HasId(Protocol):
    @property
    def id(self) -> int | None: ...


def id_of(row: _HasId) -> int:
    """The primary key of a row that has been flushed (SQLModel types it `int | None`)."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} row has no id yet: flush it first")
    return row.id
