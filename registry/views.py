"""Plain-dict views of registry rows: the stable shapes `--json` prints and the console
shows. Times are ISO-8601 UTC strings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from store.tables import Alias, AuditEvent, Dataset, ModelVersion, RegisteredModel, TrainingRun


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def model_view(model: RegisteredModel) -> dict[str, Any]:
    return {
        "name": model.name,
        "owner": model.owner,
        "team": model.team,
        "approval_by": model.approval_by,
        "store_explanations": model.store_explanations,
        "description": model.description,
        "tags": model.tags or [],
        "task": model.task,
        "criticality": model.criticality,
        "max_age_days": model.max_age_days,
        "created_at": iso(model.created_at),
        "created_by": model.created_by,
    }


def version_view(version: ModelVersion, model_name: str, aliases: list[str] | None = None) -> dict[str, Any]:
    return {
        "model": model_name,
        "version": version.version,
        "status": version.status,
        "approval_status": version.approval_status,
        "aliases": sorted(aliases or []),
        "artifact": {
            "sha256": version.artifact_sha256,
            "format": version.artifact_format,
            "size": version.artifact_size,
            "flavor": version.flavor,
        },
        "source": version.source,
        "run_id": version.run_id,
        "code_version": version.code_version,
        "environment": version.environment,
        "params": version.params or {},
        "metrics": version.metrics or {},
        "signature": version.signature,
        "input_example": version.input_example,
        "description": version.description,
        "tags": version.tags or [],
        "created_at": iso(version.created_at),
        "created_by": version.created_by,
        "archived_at": iso(version.archived_at),
    }


def version_row(version: ModelVersion, model_name: str, aliases: list[str]) -> dict[str, Any]:
    """The short form used in lists."""
    return {
        "model": model_name,
        "version": version.version,
        "status": version.status,
        "aliases": sorted(aliases),
        "metrics": version.metrics or {},
        "sha256": version.artifact_sha256,
        "run_id": version.run_id,
        "created_at": iso(version.created_at),
        "created_by": version.created_by,
    }


def last_run_view(summary: tuple[int, str, str, datetime] | None) -> dict[str, Any] | None:
    """The short form of a model's newest run, from (id, status, reason, started_at)."""
    if summary is None:
        return None
    run_id, status, reason, started_at = summary
    return {"id": run_id, "status": status, "reason": reason, "started_at": iso(started_at)}


def dataset_view(dataset: Dataset) -> dict[str, Any]:
    return {
        "id": dataset.id,
        "name": dataset.name,
        "uri": dataset.uri,
        "fingerprint": dataset.fingerprint,
        "rows": dataset.rows,
        "columns": dataset.columns or [],
        "created_at": iso(dataset.created_at),
    }


def run_view(run: TrainingRun, model_name: str, version: int | None = None, with_log: bool = False) -> dict[str, Any]:
    out = {
        "id": run.id,
        "model": model_name,
        "kind": run.kind,
        "status": run.status,
        "reason": run.reason,
        "version": version,
        "params": run.params or {},
        "metrics": run.metrics or {},
        "champion_metrics": run.champion_metrics,
        "gate": run.gate,
        "split": run.split,
        "train_dataset_id": run.train_dataset_id,
        "eval_dataset_id": run.eval_dataset_id,
        "code_version": run.code_version,
        "spec_path": run.spec_path,
        "reproduces_version_id": run.reproduces_version_id,
        "started_at": iso(run.started_at),
        "ended_at": iso(run.ended_at),
        "created_by": run.created_by,
    }
    if with_log:
        out["log"] = run.log
    return out


def alias_view(alias: Alias, version: int) -> dict[str, Any]:
    return {"alias": alias.name, "version": version, "updated_at": iso(alias.updated_at)}


def audit_view(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": iso(event.at),
        "actor": event.actor,
        "action": event.action,
        "target": event.target,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
    }


def datasets_with_roles(datasets: dict[str, dict[str, Any]]) -> list[tuple[dict[str, Any], list[str]]]:
    """A run's datasets by role ({"train": ds, "eval": ds}) as (dataset, roles) pairs, one
    per dataset, so a dataset used for both is shown once as (train, eval)."""
    out: dict[int, tuple[dict[str, Any], list[str]]] = {}
    for role, ds in datasets.items():
        out.setdefault(ds["id"], (ds, []))[1].append(role)
    return list(out.values())
