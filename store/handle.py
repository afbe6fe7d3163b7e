"""Opening and creating a store: the database plus the artifact folder."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from store.engine import Database
from store.errors import Listing, StoreUnavailable, see
from store.location import StoreLocation, resolve_location

if TYPE_CHECKING:
    from store.artifacts import ArtifactStore

#: File systems where SQLite's WAL locking does not work (wal.html, howtocorrupt.html).
NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "ncpfs", "fuse", "fuse.sshfs", "9p",
     "afs", "ceph", "glusterfs", "lustre", "beegfs", "gpfs", "davfs"}
)
#: Prefixes of the same families (fuse.<helper>, nfs/nfsd variants, smb/cifs dialects).
NETWORK_FS_PREFIXES = ("fuse.", "nfs", "smb", "cifs")


@dataclass
class Store:
    location: StoreLocation
    db: Database
    _artifacts: ArtifactStore | None = field(default=None, repr=False)
    #: the schema revision the store had when opened, if opening upgraded it
    upgraded_from: str | None = None

    @property
    def artifacts(self) -> ArtifactStore:
        if self._artifacts is None:
            from store.artifacts import ArtifactStore

            self._artifacts = ArtifactStore(self.location.artifacts_dir)
        return self._artifacts

    def close(self) -> None:
        self.db.dispose()


def filesystem_type(path: Path, mounts_file: Path = Path("/proc/mounts")) -> str | None:
    """The type of the file system holding `path` (None where /proc/mounts is absent)."""
    try:
        lines = mounts_file.read_text().splitlines()
    except OSError:
        return None
    target = str(path.resolve())
    best, best_type = "", None
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        mount_point = parts[1].replace("\\040", " ")
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, best_type = mount_point, parts[2]
    return best_type


def refuse_network_filesystem(path: Path, mounts_file: Path = Path("/proc/mounts")) -> None:
    fs = filesystem_type(path, mounts_file)
    if fs and (fs in NETWORK_FILESYSTEMS or fs.startswith(NETWORK_FS_PREFIXES)):
        raise StoreUnavailable(
            f"the store at {path} is on a {fs} file system; SQLite's WAL mode needs a local "
            "disk (locks and shared memory do not work over a network file system): put the "
            "store on a local disk (or set WK_STORE there), or use WK_DATABASE_URL for PostgreSQL",
            field="store", example="DIR",
        )


def open_store(store: str | os.PathLike[str] | None = None) -> Store:
    """Open an existing store, upgrading an older schema in place."""
    from store.schema import ensure_current

    location = resolve_location(store)
    if location.is_sqlite_file:
        if not location.db_path.exists():
            raise StoreUnavailable(
                f"no Watchkeeper store at {location.root} (no {location.db_path.name} there); "
                "create one, or point the store location (or WK_STORE) at an existing store",
                field="store", example="DIR", see=see(Listing.INIT, str(location.root) if store else None),
            )
        refuse_network_filesystem(location.root)
    from store.schema import HEAD_REVISION

    db = Database(location.database_url)
    try:
        before = ensure_current(db, location.describe())
    except Exception:
        db.dispose()
        raise
    return Store(location=location, db=db,
                 upgraded_from=before if before != HEAD_REVISION else None)


def init_store(store: str | os.PathLike[str] | None = None) -> tuple[Store, bool]:
    """Create the store (or upgrade an existing one). Returns (store, created)."""
    from store.schema import current_revision, ensure_current, upgrade_to_head

    location = resolve_location(store)
    old_umask = os.umask(0o077)  # the database and model files are the service user's only
    try:
        try:
            location.root.mkdir(parents=True, exist_ok=True)
            location.artifacts_dir.mkdir(exist_ok=True)
            probe = location.root / ".wk-write-probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise StoreUnavailable(
                f"cannot create the store at {location.root}: {exc.strerror or exc} "
                f"({exc.filename or location.root}); choose a writable folder (or set WK_STORE)",
                field="store", example="DIR",
            ) from exc
        if location.is_sqlite_file:
            refuse_network_filesystem(location.root)
        db = Database(location.database_url)
        try:
            before: str | None = None
            if current_revision(db) is None:
                upgrade_to_head(db)
                created = True
            else:
                before = ensure_current(db, location.describe())
                created = False
        except Exception:
            db.dispose()
            raise
    finally:
        os.umask(old_umask)
    from store.schema import HEAD_REVISION

    return Store(location=location, db=db,
                 upgraded_from=before if before not in (None, HEAD_REVISION) else None), created
