"""Who may read the store's files: its owner only, or its owner and one group.

Private (the default): folders 0700, files 0600. With a group in watchkeeper.toml
(`[store] group = "NAME"`, written by init with a group): folders 2770 (setgid, so what is
created inside belongs to the group), files 0660.

How files created later get the same modes, by whichever process creates them:

- Every process that writes to the store opens it through store.handle (the CLI, the
  server, the scheduler daemon and its children, the console), and opening it sets the
  process's umask from these modes (077, or 007 with a group). A umask covers every file
  the process creates, including those made by code that takes no mode argument
  (pyarrow's writers, shutil, the SQLite driver's new database), where a chmod after
  each create would have to be added, and remembered, at every call site.
- Where the creator ignores the umask, the mode is set explicitly: tempfile.mkstemp makes
  0600 files (the artifacts: 0660 with a group), and SQLite gives the -wal and -shm files
  the database file's own mode, so the database file's mode is set on init.
- Exports and audit exports, files a user names outside the store, are created with the
  mode explicitly (create_file), so they do not depend on the umask at all.
"""

from __future__ import annotations

import grp
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from store.config import read_config
from store.errors import InvalidInput

GROUP_EXAMPLE = '[store]\ngroup = "mlops"'


@dataclass(frozen=True)
class Modes:
    """The modes of a store's folders and files; `group` None means the owner's only."""

    group: str | None = None
    gid: int | None = None

    @property
    def dir_mode(self) -> int:
        return 0o2770 if self.group else 0o700

    @property
    def file_mode(self) -> int:
        return 0o660 if self.group else 0o600

    @property
    def umask(self) -> int:
        return 0o007 if self.group else 0o077

    def describe(self) -> str:
        return f"owner and group {self.group}" if self.group else "owner only"


PRIVATE = Modes()


def group_id(name: str, *, source: str = "the group") -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise InvalidInput(f"{source} {name!r} is not a group on this machine; create it "
                           "(groupadd NAME) or give an existing one", field="group",
                           example=GROUP_EXAMPLE) from None


def store_modes(root: Path) -> Modes:
    """The modes the store at `root` asks for in its settings ([store] group)."""
    table = read_config(root).get("store", {})
    if not isinstance(table, dict):
        raise InvalidInput(f"'store' in {root / 'watchkeeper.toml'} must be a table",
                           field="store", example=GROUP_EXAMPLE)
    name = table.get("group")
    if name is None or name == "":
        return PRIVATE
    if not isinstance(name, str):
        raise InvalidInput(f"[store] group in {root / 'watchkeeper.toml'} must be a group name, "
                           f"not {name!r}", field="group", example=GROUP_EXAMPLE)
    return Modes(group=name, gid=group_id(name, source=f"[store] group in {root / 'watchkeeper.toml'}"))


def apply_umask(modes: Modes) -> None:
    """Set this process's umask for the store (see the module doc for why a umask)."""
    os.umask(modes.umask)


def secure_dir(path: Path, modes: Modes) -> None:
    """Create `path` if needed and give it the store's folder mode and group."""
    path.mkdir(parents=True, exist_ok=True, mode=modes.dir_mode & 0o777)
    _own(path, modes, modes.dir_mode)


def secure_file(path: Path, modes: Modes) -> None:
    _own(path, modes, modes.file_mode)


def _own(path: Path, modes: Modes, mode: int) -> None:
    """Set the mode (and group); an entry another account owns is its owner's to change
    (a group member opening or upgrading a shared store leaves the owner's files alone)."""
    info = path.lstat()
    if os.geteuid() not in (0, info.st_uid):
        return
    if modes.gid is not None and info.st_gid != modes.gid:
        os.chown(path, -1, modes.gid, follow_symlinks=False)
    os.chmod(path, mode)


#: What a store folder holds that Watchkeeper made: secure_store changes only these, so a
#: store pointed at a folder with other things in it (a home folder) leaves them alone.
STORE_FILES = ("watchkeeper.db", "watchkeeper.db-wal", "watchkeeper.db-shm",
               "watchkeeper.db-journal", "watchkeeper.toml")
STORE_FOLDERS = ("artifacts", "reports", "logs")


def secure_store(root: Path, modes: Modes) -> int:
    """Give the store folder, its database files, settings and its own folders (and what
    is in them, links left alone) the store's modes; the number of entries changed."""
    entries = [root, *(root / name for name in STORE_FILES)]
    for name in STORE_FOLDERS:
        for folder, dirs, files in os.walk(root / name):
            here = Path(folder)
            entries += [here, *(here / f for f in files)]
            dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
    changed = 0
    for entry in entries:
        try:
            info = entry.lstat()
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(info.st_mode):
            want = modes.dir_mode
        elif stat.S_ISREG(info.st_mode):
            want = modes.file_mode
        else:
            continue
        group_ok = modes.gid is None or info.st_gid == modes.gid
        if stat.S_IMODE(info.st_mode) != want or not group_ok:
            _own(entry, modes, want)
            changed += 1
    return changed


def create_file(path: Path, modes: Modes = PRIVATE) -> None:
    """Create `path` empty with the file mode (whatever the umask), or truncate it and set
    the mode when it exists; a writer opening it afterwards keeps that mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0),
                 modes.file_mode)
    try:
        os.fchmod(fd, modes.file_mode)
        if modes.gid is not None:
            os.fchown(fd, -1, modes.gid)
    finally:
        os.close(fd)


def mode_problems(root: Path, modes: Modes) -> list[str]:
    """Entries under `root` readable, writable or searchable beyond what `modes` allow."""
    allowed_dir, allowed_file = modes.dir_mode & 0o777, modes.file_mode
    problems = []
    for folder, _dirs, files in os.walk(root):
        here = Path(folder)
        for entry in [here, *(here / f for f in files)]:
            info = entry.lstat()
            if stat.S_ISLNK(info.st_mode):
                continue
            allowed = allowed_dir if stat.S_ISDIR(info.st_mode) else allowed_file
            extra = stat.S_IMODE(info.st_mode) & 0o777 & ~allowed
            if extra:
                problems.append(f"{entry} is mode {stat.S_IMODE(info.st_mode):04o}")
    return problems
