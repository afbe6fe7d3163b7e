"""Model versions: finding one by number or alias, listing, showing, comparing, loading
and archiving them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from registry import views
from registry.datasets import datasets_of_run
from store import aliases as alias_store
from store import audit
from store import models as model_store
from store import versions as version_store
from store.access import authorize
from store.errors import Listing, NotFound, Refused, see
from store.roles import Permission
from store.rows import id_of
from store.tables import ModelVersion, RegisteredModel
from store.types import utcnow
from store.vocabulary import AuditAction, VersionStatus

if TYPE_CHECKING:
    from sqlmodel import Session

    from store.handle import Store

def resolve_version(session: Session, model: RegisteredModel, ref: str | int) -> ModelVersion:
    """A version by number ('3', 'v3') or by an alias that points at it ('production')."""
    text = str(ref).strip()
    number = text[1:] if text[:1] in "vV" and text[1:].isdigit() else text
    if number.isdigit():
        return version_store.get_version(session, model, int(number))
    alias = alias_store.find_alias(session, id_of(model), text)
    if alias is None:
        names = [a.name for a in alias_store.aliases_of_model(session, id_of(model))]
        raise NotFound(
            f"model {model.name!r} has no version or alias {text!r} (aliases: "
            f"{', '.join(names) or 'none'}); give a version number",
            see=see(Listing.VERSIONS, model.name),
        )
    return version_store.version_by_id(session, alias.version_id)

def list_versions(store: Store, name: str) -> list[dict[str, Any]]:
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        rows = version_store.list_versions(session, id_of(model))
        held = alias_store.names_by_version(alias_store.aliases_of_model(session, id_of(model)))
        return [views.version_row(v, name, held.get(id_of(v), [])) for v in rows]

def show_version(store: Store, name: str, version: str | int) -> dict[str, Any]:
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        row = resolve_version(session, model, version)
        out = views.version_view(row, name, alias_store.alias_names(session, id_of(row)))
        out["datasets"] = datasets_of_run(session, row.run_id)
        return out

def load_model(store: Store, name: str, version: str | int) -> Any:
    """The fitted estimator of a version, after its hash check."""
    with store.db.read() as session:
        model = model_store.get_model(session, name)
        row = resolve_version(session, model, version)
        sha = row.artifact_sha256
    return store.artifacts.load(sha)

@dataclass(frozen=True)
class VersionStatusChange:
    """A version's status after an archive; `changed` is False when it already was."""

    model: str
    version: int
    status: VersionStatus
    changed: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def change(self) -> str:
        return f"{self.model} v{self.version} is {self.status}"


def archive(store: Store, name: str, version: str | int, *, reason: str = "",
            actor: str | None = None) -> VersionStatusChange:
    actor = authorize(store, actor, Permission.REGISTER, model=name)
    with store.db.write() as session:
        model = model_store.get_model(session, name)
        row = resolve_version(session, model, version)
        holders = alias_store.alias_names(session, id_of(row))
        if holders:
            raise Refused(
                f"{name} v{row.version} is held by alias {', '.join(holders)}; promote another "
                "version to it (or roll it back) before archiving",
                see=see(Listing.MODEL, name),
            )
        if row.status == VersionStatus.ARCHIVED:
            return VersionStatusChange(name, row.version, VersionStatus.ARCHIVED, changed=False)
        row.status, row.archived_at = VersionStatus.ARCHIVED, utcnow()
        session.add(row)
        audit.record(session, actor=actor, action=AuditAction.VERSION_ARCHIVE,
                     target=audit.target(name, row.version), before={"status": VersionStatus.ACTIVE},
                     after={"status": VersionStatus.ARCHIVED}, reason=reason)
        return VersionStatusChange(name, row.version, VersionStatus.ARCHIVED, changed=True)

def _numeric_delta(a: Any, b: Any) -> Any:
    """compare's delta: from `a` to `b`, so above 0 means `b` is the higher (see delta_order)."""
    return b - a if isinstance(a, int | float) and isinstance(b, int | float) else None


def delta_order(a: str, b: str) -> str:
    """How compare's delta is taken, for a surface to name beside it: "v1 - v2" for
    `compare M 2 1` (`a`, `b` as that surface names the two versions). ASCII, so a
    terminal that cannot show a minus sign reads it too."""
    return f"{b} - {a}"


def signed_delta(delta: Any) -> str:
    """A compare delta as every surface prints it: its sign always shown (+0.0157, -0.0117,
    +3), "-" when there is none."""
    if isinstance(delta, bool) or not isinstance(delta, int | float):
        return "-"
    return f"{delta:+.4f}" if isinstance(delta, float) else f"{delta:+d}"


def compare(store: Store, name: str, a: str | int, b: str | int) -> dict[str, Any]:
    from registry.signature import compare_signatures

    with store.db.read() as session:
        model = model_store.get_model(session, name)
        va, vb = resolve_version(session, model, a), resolve_version(session, model, b)
        ma, mb = va.metrics or {}, vb.metrics or {}
        metrics = {m: {"a": ma.get(m), "b": mb.get(m), "delta": _numeric_delta(ma.get(m), mb.get(m))}
                   for m in sorted(set(ma) | set(mb))}
        pa, pb = va.params or {}, vb.params or {}
        params = {p: {"a": pa.get(p), "b": pb.get(p)}
                  for p in sorted(set(pa) | set(pb)) if pa.get(p) != pb.get(p)}
        fields = ("artifact_sha256", "flavor", "status", "source", "created_by", "run_id")
        metadata = {f: {"a": getattr(va, f), "b": getattr(vb, f)}
                    for f in fields if getattr(va, f) != getattr(vb, f)}
        for key in ("git_commit", "dirty"):
            ca, cb = (va.code_version or {}).get(key), (vb.code_version or {}).get(key)
            if ca != cb:
                metadata[f"code.{key}"] = {"a": ca, "b": cb}
        da, db_ = datasets_of_run(session, va.run_id), datasets_of_run(session, vb.run_id)
        for role in ("train", "eval"):
            fa = da.get(role, {}).get("fingerprint")
            fb = db_.get(role, {}).get("fingerprint")
            if fa != fb:
                metadata[f"dataset.{role}"] = {"a": fa, "b": fb}
        return {
            "model": name,
            "a": va.version,
            "b": vb.version,
            "metadata": metadata,
            "metrics": metrics,
            "params": params,
            "signature": compare_signatures(va.signature, vb.signature),
        }
