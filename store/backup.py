"""`backup`: a consistent copy of a SQLite store while every process keeps running.

The database is copied by SQLite's online backup API in ONE step: one read transaction
on the source for the whole copy. In WAL mode a reader blocks no writer, so the server
keeps logging meanwhile; the copy is the database as of that transaction's start (every
batch committed before it, none after: reliability.md DB-10). A copy in several steps
lets go of the snapshot between steps, and SQLite restarts a stepped backup from page 1
whenever another connection writes, so under a server logging at full speed it would
never finish. `VACUUM INTO` is the other way (same snapshot, a compacted file); see
METHODS. Then the artifacts named by the copy's registry rows are copied, each hashed
on the way (they are immutable and published before their row commits, so every row of
the snapshot has its file), then the store's other files (watchkeeper.toml, reports),
and a manifest. The copy is a store folder: `open_store(dest)` opens it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store.artifacts import SKOPS_SUFFIX
from store.errors import InvalidInput, Refused
from store.location import ARTIFACTS_DIRNAME, DB_FILENAME
from store.modes import secure_dir
from store.names import check_destination
from store.wal import driver_connection, refuse_unless_sqlite

if TYPE_CHECKING:
    from store.handle import Store

MANIFEST_FILENAME = "backup-manifest.json"
#: "backup-api": sqlite3's Connection.backup, one step (a page copy: the fastest);
#: "vacuum-into": VACUUM INTO (rebuilds every table and index: slower, a compact file).
METHODS = ("backup-api", "vacuum-into")
_DB_SIDE_FILES = (DB_FILENAME, DB_FILENAME + "-wal", DB_FILENAME + "-shm", DB_FILENAME + "-journal")
PG_FIX = ("back its database up with pg_dump (pg_dump -Fc -f watchkeeper.dump DBNAME) and copy "
          "the store folder's artifacts/ beside it")


def backup(store: Store, dest: str | os.PathLike[str], *, method: str = "backup-api",
           verify: bool = True, actor: str | None = None) -> dict[str, Any]:
    """Copy the store into `dest` (a new or empty folder). Returns what was copied, the
    manifest and, with `verify`, the copy's quick check."""
    from store.access import authorize
    from store.roles import Permission

    refuse_unless_sqlite(store, "wk's backup", PG_FIX)
    actor = authorize(store, actor, Permission.MAINTAIN)
    if method not in METHODS:
        raise InvalidInput(f"backup method {method!r} is not one of {', '.join(METHODS)}",
                           field="method", example=METHODS[0])
    target = _empty_destination(store, check_destination(dest, what="backup destination",
                                                         field="dest"))
    created = not target.exists()
    started = time.perf_counter()
    old_umask = os.umask(store.modes.umask)  # like the store: its owner's (and group's) only
    try:
        secure_dir(target, store.modes)
        db_seconds = _copy_database(store, target, method)
        manifest = _describe_copy(target)
        artifacts = _copy_artifacts(store, target, manifest.pop("_artifacts"))
        others = _copy_other_files(store.location.root, target)
        manifest.update({
            "taken_at": _now(), "source": store.location.describe(), "method": method,
            "database_seconds": db_seconds, "database_bytes": (target / DB_FILENAME).stat().st_size,
            "artifacts": artifacts, "other_files": others,
        })
        manifest["seconds"] = round(time.perf_counter() - started, 3)
        _write_json(target / MANIFEST_FILENAME, manifest)
        _fsync_dir(target)
    except BaseException:
        _clear(target, created)  # it was empty: nothing half-written is left to look like a backup
        raise
    finally:
        os.umask(old_umask)
    result = {"dest": str(target), "manifest": str(target / MANIFEST_FILENAME), **manifest}
    if verify:
        result["check"] = _verify(target)
    _audit(store, actor, result)
    return result


def _empty_destination(store: Store, target: Path) -> Path:
    root = store.location.root.resolve()
    resolved = target.resolve()
    if resolved == root or resolved.is_relative_to(root):
        raise Refused(f"the backup destination {target} is inside the store {root}; a backup "
                      "there would be copied into the next one: choose a folder outside it (for "
                      "example /var/backups/watchkeeper/2026-12-01)")
    if target.exists() and not target.is_dir():
        raise InvalidInput(f"the backup destination {target} is a file, not a folder: give a "
                           "new or empty folder")
    if target.is_dir() and any(target.iterdir()):
        raise Refused(f"the backup destination {target} exists and is not empty; a backup goes "
                      f"into a new or empty folder (nothing is overwritten): choose another path "
                      f"(for example {target}-2)")
    return target


def _copy_database(store: Store, target: Path, method: str) -> float:
    partial = target / (DB_FILENAME + ".partial")
    started = time.perf_counter()
    with driver_connection(store.db) as source:
        if method == "vacuum-into":
            source.execute("VACUUM INTO ?", (str(partial),))
        else:
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy, pages=-1)  # one step: one snapshot (see the module doc)
            finally:
                copy.close()
    seconds = round(time.perf_counter() - started, 3)
    with open(partial, "rb") as fh:
        os.fsync(fh.fileno())
    partial.rename(target / DB_FILENAME)
    return seconds


def _describe_copy(target: Path) -> dict[str, Any]:
    """The copy's schema revision, rows per table and the artifacts its versions name."""
    conn = sqlite3.connect(f"file:{target / DB_FILENAME}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        counts = {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables}
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        shas = sorted({r[0] for r in conn.execute("SELECT artifact_sha256 FROM model_version")})
    finally:
        conn.close()
    return {"schema_revision": revision[0] if revision else None,
            "sqlite_version": sqlite3.sqlite_version, "counts": counts, "_artifacts": shas}


def _copy_artifacts(store: Store, target: Path, shas: list[str]) -> dict[str, Any]:
    source_dir, dest_dir = store.location.artifacts_dir, target / ARTIFACTS_DIRNAME
    secure_dir(dest_dir, store.modes)
    copied = size = 0
    missing: list[str] = []
    mismatched: list[str] = []
    for sha in shas:
        name = f"{sha}{SKOPS_SUFFIX}"
        try:
            actual, length = _copy_hashing(source_dir / name, dest_dir / name)
        except FileNotFoundError:
            missing.append(sha)
            continue
        if actual != sha:  # not carried into the copy: its check would then name it missing
            (dest_dir / name).unlink()
            mismatched.append(sha)
            continue
        copied, size = copied + 1, size + length
    _fsync_dir(dest_dir)
    return {"copied": copied, "bytes": size, "missing": missing, "mismatched": mismatched}


def _copy_hashing(source: Path, dest: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    length = 0
    with open(source, "rb") as src, open(dest, "wb") as out:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            digest.update(chunk)
            out.write(chunk)
            length += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), length


def _copy_other_files(root: Path, target: Path) -> list[str]:
    """Everything else in the store folder (its settings, report files), symbolic links
    and special files left out."""
    copied: list[str] = []
    for path in sorted(root.iterdir()):
        if path.name in _DB_SIDE_FILES or path.name == ARTIFACTS_DIRNAME or path.name.startswith(".wk-"):
            continue
        mode = path.lstat().st_mode
        if stat.S_ISREG(mode):
            shutil.copy2(path, target / path.name)
        elif stat.S_ISDIR(mode):
            shutil.copytree(path, target / path.name, symlinks=True)
        else:
            continue
        copied.append(path.name)
    return copied


def _verify(target: Path) -> dict[str, Any]:
    from store.handle import open_store
    from store.integrity import check

    copy = open_store(target)
    try:
        found = check(copy, quick=True)
    finally:
        copy.close()
    return {"ok": found["ok"], "problems": found["problems"], "seconds": found["seconds"]}


def _audit(store: Store, actor: str | None, result: dict[str, Any]) -> None:
    from store import audit
    from store.identity import current_actor
    from store.vocabulary import AuditAction

    after = {"dest": result["dest"], "method": result["method"], "seconds": result["seconds"],
             "database_bytes": result["database_bytes"],
             "artifacts": result["artifacts"]["copied"],
             "predictions": result["counts"].get("prediction")}
    with store.db.write() as session:
        audit.record(session, actor=actor or current_actor(), action=AuditAction.STORE_BACKUP,
                     target="store", after=after)


def _clear(target: Path, created: bool) -> None:
    if not target.is_dir():
        return
    for child in target.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
    if created:
        target.rmdir()


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        value = json.loads((folder / MANIFEST_FILENAME).read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _write_json(path: Path, value: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(value, fh, indent=2, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _now() -> str:
    from store.types import utcnow

    return utcnow().isoformat()
