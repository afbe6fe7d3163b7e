"""Helpers on stored rows, and on the typing of the queries that read them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, TypeVarTuple, cast

from sqlalchemy import Table
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import SQLModel, col

if TYPE_CHECKING:
    from sqlalchemy import Row, Select
    from sqlalchemy.orm import Mapped

_Ts = TypeVarTuple("_Ts")


class _HasId(Protocol):
    @property
    def id(self) -> int | None: ...


def id_of(row: _HasId) -> int:
    """The primary key of a row that has been flushed (SQLModel types it `int | None`)."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} row has no id yet: flush it first")
    return row.id


def pk(column: int | None) -> Mapped[int]:
    """A table's `id` column in a query, typed int: SQLModel types it `int | None` (None
    until the row is flushed), but a stored row's id is never NULL."""
    return cast("Mapped[int]", col(column))


def table_of(model: type[SQLModel]) -> Table:
    """The Core table a SQLModel table class maps (SQLModel declares no `__table__`)."""
    table = sa_inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


def all_rows(session: OrmSession, stmt: Select[*_Ts]) -> Sequence[Row[*_Ts]]:
    """Every row of a select of columns, typed from the statement. For selects of more
    columns than sqlmodel's select() types (four); sqlmodel's Session.execute, which
    only calls SQLAlchemy's, types every row as Any."""
    return OrmSession.execute(session, stmt).all()
