"""What a check is about: the model, the version whose reference it compares against,
the signature, the reference profile and whether the deployment logs inputs. One read
transaction; the checks then only read the window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from registry.versions import resolve_version
from store import deployments as deployments_q
from store import models as model_store
from store import profiles as profile_store
from store.errors import Listing, NotFound, see
from store.rows import id_of
from store.vocabulary import LogMode

if TYPE_CHECKING:
    from store.handle import Store

#: JSON types of logged input values, by signature kind.
JSON_TYPES = {"numeric": "number", "boolean": "number", "categorical": "string", "datetime": "string"}


@dataclass(frozen=True)
class Subject:
    model: str
    model_id: int
    task: str
    version: int
    version_id: int
    filter_version_id: int | None  # the window's rows: this version's only, or every version's
    signature: dict[str, Any]
    metrics: dict[str, Any]
    log_mode: str
    profile_id: int | None
    profile: dict[str, Any] | None

    @property
    def columns(self) -> list[dict[str, Any]]:
        return list(self.signature.get("columns", []))

    @property
    def input_types(self) -> dict[str, str]:
        return {c["name"]: JSON_TYPES.get(c["kind"], "string") for c in self.columns}

    @property
    def logs_inputs(self) -> bool:
        return self.log_mode != LogMode.METADATA

    def need_profile(self) -> dict[str, Any]:
        if self.profile is None:
            raise NotFound(
                f"{self.model} v{self.version} has no reference profile to compare against; fit "
                f"one: wk monitor reference {self.model} {self.version} --data FILE (or --from/--to "
                "for a window of logged traffic)",
                field="version", example=f"wk monitor reference {self.model} {self.version} --data train.csv",
                see=see(Listing.VERSIONS, self.model),
            )
        return self.profile


def resolve_subject(store: Store, model: str, version: str | int | None = None) -> Subject:
    """The version given (its rows only), else production (every version's rows: the
    inputs are the same traffic whichever version answered)."""
    with store.db.read() as session:
        row = model_store.get_model(session, model)
        if version is not None:
            chosen = resolve_version(session, row, version)
        else:
            champion = deployments_q.champion_version(session, id_of(row))
            if champion is None:
                raise NotFound(
                    f"model {model!r} has no production version to check against; give --version, "
                    "or promote one to production", field="version", example="--version 1",
                    see=see(Listing.VERSIONS, model))
            chosen = champion
        deployment = deployments_q.find_deployment(session, id_of(row))
        profile = profile_store.latest_profile(session, id_of(chosen))
        return Subject(
            model=row.name, model_id=id_of(row), task=row.task or "", version=chosen.version,
            version_id=id_of(chosen), filter_version_id=id_of(chosen) if version is not None else None,
            signature=chosen.signature or {"columns": []}, metrics=dict(chosen.metrics or {}),
            log_mode=deployment.log_mode if deployment else LogMode.FULL,
            profile_id=profile["id"] if profile else None,
            profile=profile["profile"] if profile else None,
        )
