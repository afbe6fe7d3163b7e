"""SQLModel tables: the data model of DESIGN.md, as far as the built features need it.

JSON columns hold structured metadata (signature, metrics, environment) that is read
whole and never queried inside. Every table change comes with an Alembic migration in
``store/migrations/versions``; a test checks the two agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime, utcnow


def _json(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=nullable))


def _time(nullable: bool = False, index: bool = False) -> Any:
    return Field(
        default_factory=utcnow if not nullable else None,
        sa_column=Column(UTCDateTime(), nullable=nullable, index=index),
    )


class RegisteredModel(SQLModel, table=True):
    __tablename__ = "registered_model"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    owner: str = ""
    team: str = ""
    description: str = ""
    tags: list[str] | None = _json()
    criticality: str = "normal"
    max_age_days: int | None = None
    task: str = ""
    created_at: datetime = _time()
    created_by: str = ""


class Dataset(SQLModel, table=True):
    __tablename__ = "dataset"
    __table_args__ = (UniqueConstraint("name", "fingerprint", name="uq_dataset_name_fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    uri: str
    fingerprint: str = Field(index=True)
    rows: int
    columns: list[dict[str, Any]] | None = _json()
    created_at: datetime = _time()


class TrainingRun(SQLModel, table=True):
    __tablename__ = "training_run"

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id", index=True)
    kind: str = "train"  # train | reproduce
    status: str = "running"  # running | succeeded | failed_gate | failed
    spec: dict[str, Any] | None = _json()
    spec_path: str = ""
    params: dict[str, Any] | None = _json()
    code_version: dict[str, Any] | None = _json()
    environment: dict[str, Any] | None = _json()
    train_dataset_id: int | None = Field(default=None, foreign_key="dataset.id", index=True)
    eval_dataset_id: int | None = Field(default=None, foreign_key="dataset.id", index=True)
    split: dict[str, Any] | None = _json()
    metrics: dict[str, Any] | None = _json()
    champion_metrics: dict[str, Any] | None = _json()
    gate: dict[str, Any] | None = _json()
    reason: str = ""
    log: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    reproduces_version_id: int | None = None  # the version a reproduce run re-trained
    host: str | None = None  # where the training process ran, and its pid: a run left
    pid: int | None = None  # `running` by a dead process is found and closed by these
    started_at: datetime = _time(index=True)
    ended_at: datetime | None = _time(nullable=True)
    created_by: str = ""


class ModelVersion(SQLModel, table=True):
    __tablename__ = "model_version"
    __table_args__ = (UniqueConstraint("model_id", "version", name="uq_model_version"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id", index=True)
    version: int
    status: str = "active"  # active | archived
    approval_status: str = "none"  # none | pending | approved | rejected
    artifact_sha256: str = Field(index=True)
    artifact_format: str = "skops"
    artifact_size: int = 0
    flavor: str = ""
    signature: dict[str, Any] | None = _json()
    input_example: list[dict[str, Any]] | None = _json()
    metrics: dict[str, Any] | None = _json()
    params: dict[str, Any] | None = _json()
    run_id: int | None = Field(default=None, foreign_key="training_run.id", index=True)
    description: str = ""
    tags: list[str] | None = _json()
    source: str = "train"  # train | register | import-trusted
    code_version: dict[str, Any] | None = _json()
    environment: dict[str, Any] | None = _json()
    created_at: datetime = _time()
    created_by: str = ""
    archived_at: datetime | None = _time(nullable=True)


class Alias(SQLModel, table=True):
    __tablename__ = "alias"
    __table_args__ = (UniqueConstraint("model_id", "name", name="uq_alias_model_name"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id", index=True)
    name: str
    version_id: int = Field(foreign_key="model_version.id", index=True)
    updated_at: datetime = _time()


class AliasChange(SQLModel, table=True):
    """Every move of an alias, so rollback can return it to its previous holder."""

    __tablename__ = "alias_change"
    __table_args__ = (Index("ix_alias_change_model_alias", "model_id", "alias", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id")
    alias: str
    action: str  # promote | rollback
    from_version_id: int | None = Field(default=None, foreign_key="model_version.id")
    to_version_id: int = Field(foreign_key="model_version.id")
    at: datetime = _time()
    actor: str = ""
    reason: str = ""


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_target", "target"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _time(index=True)
    actor: str = Field(index=True)
    action: str = Field(index=True)
    target: str
    before: dict[str, Any] | None = _json()
    after: dict[str, Any] | None = _json()
    reason: str = ""
