"""Column helpers the table modules share: a JSON column, a UTC time column and a text
column that is never NULL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, Text
from sqlmodel import Field

from store.types import UTCDateTime, utcnow


def json_field(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=nullable))


def time_field(nullable: bool = False, index: bool = False) -> Any:
    """Now by default; None by default when nullable."""
    return Field(
        default_factory=utcnow if not nullable else None,
        sa_column=Column(UTCDateTime(), nullable=nullable, index=index),
    )


def text_field() -> Any:
    return Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


def set_null_reference(target: str, index: bool = False) -> Any:
    """A nullable reference to `target` ("job.id") that goes NULL when its row is deleted,
    so a history row outlives what it pointed at."""
    return Field(default=None, sa_column=Column(Integer, ForeignKey(target, ondelete="SET NULL"),
                                                nullable=True, index=index))
