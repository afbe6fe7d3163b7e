"""Opening and creating a store: the database plus the artifact folder."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from store.engine import Database
from store.errors import Listing, StoreUnavailable, see
from store.location import StoreLocation, resolve_location
from store.modes import PRIVATE, Modes

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
    #: who may read its files (store/modes.py)
    modes: Modes = PRIVATE
    #: the schema revision the store had when opened, if opening upgraded it
    upgraded_from: str | None = None

    @property
    def artifacts(self) -> ArtifactStore:
        if self._artifacts is None:
            from store.artifacts import ArtifactStore

            self._artifacts = ArtifactStore(self.location.artifacts_dir,
                                            file_mode=self.modes.file_mode)
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

    modes = _apply_modes(location)
    db = Database(location.database_url)
    try:
        before = ensure_current(db, location.describe())
    except Exception:
        db.dispose()
        raise
    return Store(location=location, db=db, modes=modes,
                 upgraded_from=before if before != HEAD_REVISION else None)


def _apply_modes(location: StoreLocation) -> Modes:
    """The store's modes, and this process's umask set from them (store/modes.py says
    why a umask: every file the process creates later gets the store's modes)."""
    from store.modes import apply_umask, store_modes

    modes = store_modes(location.root) if location.root.is_dir() else PRIVATE
    apply_umask(modes)
    return modes


def init_store(store: str | os.PathLike[str] | None = None, *,
               group: str | None = None) -> tuple[Store, bool]:
    """Create the store (or upgrade an existing one). Returns (store, created).

    Its folders and files are made the owner's only, or the owner's and `group`'s (which
    is then recorded in watchkeeper.toml, so later processes keep to it): store/modes.py.
    Giving an existing store a group needs the maintain permission, checked before the
    settings file or any mode changes (a new store's creator is its admin)."""
    from store.modes import apply_umask, group_id, secure_dir, secure_store, store_modes
    from store.schema import current_revision, ensure_current, upgrade_to_head

    location = resolve_location(store)
    wants_group = False
    if group is not None:
        group_id(group)  # refuse an unknown group before anything is created
        wants_group = group_to_record(location.root, group)  # a conflicting [store] too
    os.umask(0o077)  # until the settings are read: nothing is ever created open
    try:
        location.root.mkdir(parents=True, exist_ok=True)
        modes = store_modes(location.root)
        apply_umask(modes)
        secure_dir(location.root, modes)
        secure_dir(location.artifacts_dir, modes)
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
        if not location.db_path.exists():
            # SQLite gives the -wal and -shm files the database file's mode (whatever the
            # umask), so the database file is created with the store's file mode first.
            from store.modes import create_file

            create_file(location.db_path, modes)
    db = Database(location.database_url)
    before: str | None = None
    try:
        if current_revision(db) is None:
            upgrade_to_head(db)
            created = True
        else:
            before = ensure_current(db, location.describe())
            created = False
    except Exception:
        db.dispose()
        raise
    from store.schema import HEAD_REVISION

    opened = Store(location=location, db=db, modes=modes,
                   upgraded_from=before if before not in (None, HEAD_REVISION) else None)
    if group is not None and wants_group:
        try:
            _give_group(opened, group)
        except Exception:
            db.dispose()
            raise
    secure_store(location.root, opened.modes)  # an older store, or one given a group now
    return opened, created


def _give_group(store: Store, group: str) -> None:
    """Record `group` in the store's settings and take its modes, audited; refused (with
    nothing written) unless the caller may maintain the store."""
    from store import audit
    from store.access import authorize
    from store.modes import apply_umask, secure_dir, store_modes
    from store.roles import Permission
    from store.vocabulary import AuditAction

    actor = authorize(store, None, Permission.MAINTAIN)
    write_group(store.location.root, group)
    store.modes = modes = store_modes(store.location.root)
    apply_umask(modes)
    secure_dir(store.location.root, modes)
    secure_dir(store.location.artifacts_dir, modes)
    with store.db.write() as session:
        audit.record(session, actor=actor, action=AuditAction.STORE_GROUP,
                     target="store", after={"group": modes.group, "dirs": f"{modes.dir_mode:o}",
                                            "files": f"{modes.file_mode:o}"})


def group_to_record(root: Path, group: str) -> bool:
    """Whether `[store] group = "NAME"` must still be written into the store's
    watchkeeper.toml (False: it already names that group). A file that sets another
    [store] table is refused: it is the user's to edit."""
    from store.config import config_path, read_config
    from store.errors import Conflict

    current = read_config(root).get("store", {})
    if isinstance(current, dict) and current.get("group") == group:
        return False
    if isinstance(current, dict) and current:
        raise Conflict(f"{config_path(root)} already has a [store] table ({current}); set "
                       f"group = {group!r} in it by hand", field="group", example=f'group = "{group}"')
    return True


def write_group(root: Path, group: str) -> None:
    """Add `[store] group = "NAME"` to the store's watchkeeper.toml (created if missing)."""
    from store.config import config_path

    path = config_path(root)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    path.write_text(text + f'[store]\ngroup = "{group}"\n', encoding="utf-8")
