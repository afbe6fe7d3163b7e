"""`check`: is the store whole? SQLite's own checks of the file (integrity_check, or the
faster quick_check, and foreign_key_check), every artifact's sha256 against the registry
rows that name it (missing, changed and orphan files listed), the linked SQLite library
(a warning below 3.51.3, which fixed the WAL-reset corruption that needs two processes
checkpointing at once) and the WAL's size.

`problems` fail the check (the CLI exits 1); `warnings` are worth reading but do not."""

from __future__ import annotations

import sqlite3
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store.artifacts import _SHA256, SKOPS_SUFFIX, sha256_file
from store.engine import sqlite_version_waiver
from store.wal import WAL_WARN_BYTES, driver_connection, file_bytes, wal_path

if TYPE_CHECKING:
    from store.handle import Store

#: rows of each kind of finding kept in the result (the count is always whole)
LISTED = 50


def check(store: Store, *, quick: bool = False) -> dict[str, Any]:
    """The store's checks; `quick` runs PRAGMA quick_check (no index cross-checks: about
    a third of the time) instead of integrity_check."""
    started = time.perf_counter()
    problems: list[str] = []
    warnings: list[str] = []
    result: dict[str, Any] = {"store": store.location.describe(), "quick": quick,
                              "sqlite_version": sqlite3.sqlite_version}
    if store.db.is_sqlite:
        result.update(_database_checks(store, quick, problems, warnings))
    else:
        result["database"] = "not checked here (PostgreSQL checks its own pages: use amcheck)"
    result["artifacts"] = _artifact_checks(store, problems, warnings)
    result["problems"], result["warnings"] = problems, warnings
    result["ok"] = not problems
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result


def _database_checks(store: Store, quick: bool, problems: list[str],
                     warnings: list[str]) -> dict[str, Any]:
    pragma = "quick_check" if quick else "integrity_check"
    with driver_connection(store.db) as raw:
        integrity = [str(row[0]) for row in raw.execute(f"PRAGMA {pragma}").fetchall()]
        orphan_rows = raw.execute("PRAGMA foreign_key_check").fetchall()
    if integrity != ["ok"]:
        problems.append(f"{pragma} found {len(integrity)} problem(s) in the database file, "
                        f"first: {integrity[0]}; restore the store from a backup")
    foreign = [{"table": t, "rowid": r, "parent": p} for t, r, p, _fk in orphan_rows[:LISTED]]
    if orphan_rows:
        tables = sorted({row[0] for row in orphan_rows})
        problems.append(f"{len(orphan_rows)} row(s) point at rows that do not exist "
                        f"(tables {', '.join(tables)})")
    if waiver := sqlite_version_waiver():
        warnings.append(waiver)
    wal = file_bytes(wal_path(store))
    if wal > WAL_WARN_BYTES:
        warnings.append(f"the WAL is {wal / 2**20:.1f} MB, past its {WAL_WARN_BYTES // 2**20} MB "
                        "bound: a reader has held a transaction open for long (a console screen "
                        "or a stuck process) or the checkpoint has not run")
    return {"integrity": integrity[:LISTED], "integrity_errors": 0 if integrity == ["ok"]
            else len(integrity), "foreign_keys": foreign, "foreign_key_errors": len(orphan_rows),
            "wal_bytes": wal, "wal_bound_bytes": WAL_WARN_BYTES,
            "sqlite_wal_reset_fixed": waiver is None}


def registered_artifacts(store: Store) -> dict[str, list[str]]:
    """sha256 -> the versions naming it ('credit-default v3'), from the registry."""
    from sqlmodel import col, select

    from store.tables import ModelVersion, RegisteredModel

    with store.db.read() as session:
        rows = session.exec(select(ModelVersion.artifact_sha256, RegisteredModel.name,
                                   ModelVersion.version)
                            .join(RegisteredModel, col(RegisteredModel.id) == col(ModelVersion.model_id)))
        named: dict[str, list[str]] = {}
        for sha, model, version in rows:
            named.setdefault(sha, []).append(f"{model} v{version}")
    return named


def _artifact_checks(store: Store, problems: list[str], warnings: list[str]) -> dict[str, Any]:
    root = store.location.artifacts_dir
    named = registered_artifacts(store)
    missing: list[dict[str, Any]] = []
    mismatched: list[dict[str, Any]] = []
    checked = total = 0
    for sha, versions in sorted(named.items()):
        path = root / f"{sha}{SKOPS_SUFFIX}"
        try:
            info = path.lstat()
        except FileNotFoundError:
            missing.append({"sha256": sha, "versions": versions, "path": str(path)})
            continue
        if not stat.S_ISREG(info.st_mode):
            mismatched.append({"sha256": sha, "versions": versions, "path": str(path),
                               "actual": "not a regular file"})
            continue
        actual = sha256_file(path)
        checked += 1
        total += info.st_size
        if actual != sha:
            mismatched.append({"sha256": sha, "versions": versions, "path": str(path),
                               "actual": actual})
    orphans, leftovers = _unreferenced(root, set(named))
    if missing:
        problems.append(f"{len(missing)} artifact file(s) missing: "
                        f"{_versions(missing)}; restore them from a backup")
    if mismatched:
        problems.append(f"{len(mismatched)} artifact file(s) changed since they were registered "
                        f"(sha256 differs): {_versions(mismatched)}; restore them from a backup")
    if orphans:
        warnings.append(f"{len(orphans)} file(s) in {root} that no version names (left by a "
                        "registration that did not commit); harmless, removable")
    if leftovers:
        warnings.append(f"{len(leftovers)} unfinished upload(s) (.incoming-*) in {root}; "
                        "removable when nothing is registering a model")
    return {"folder": str(root), "registered": len(named), "checked": checked, "bytes": total,
            "missing": missing[:LISTED], "mismatched": mismatched[:LISTED],
            "orphans": orphans[:LISTED], "incoming": leftovers[:LISTED]}


def _unreferenced(root: Path, named: set[str]) -> tuple[list[str], list[str]]:
    orphans: list[str] = []
    leftovers: list[str] = []
    if not root.is_dir():
        return orphans, leftovers
    for path in sorted(root.iterdir()):
        if path.name.startswith(".incoming-"):
            leftovers.append(path.name)
            continue
        stem = path.name.removesuffix(SKOPS_SUFFIX)
        if not (path.name.endswith(SKOPS_SUFFIX) and _SHA256.fullmatch(stem) and stem in named):
            orphans.append(path.name)
    return orphans, leftovers


def _versions(findings: list[dict[str, Any]]) -> str:
    names = [v for f in findings for v in f["versions"]]
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
