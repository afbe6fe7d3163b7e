"""Real OS accounts for the access and file-mode tests: identity is the process's uid, so
acting as a viewer or an operator, or proving another account cannot read a file, means
running a command as another account. Created by the test (root only: tests skip with the
reason otherwise) and removed afterwards, with anything still running as them.

The test's Python may live under a folder other accounts cannot enter (pyenv under
/root, 0700): `reachable_python()` gives the folders on the way search permission
(o+x, not read) for the test's duration, so the other account can run the same venv.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
WK = REPO / ".venv" / "bin" / "wk"
NOT_ROOT = "needs root with useradd and runuser, to create the OS accounts it acts as"


def can_make_accounts() -> bool:
    return os.geteuid() == 0 and all(shutil.which(t) for t in ("useradd", "userdel", "runuser"))


def need_root() -> None:
    if not can_make_accounts():
        pytest.skip(NOT_ROOT)


def _ancestors(path: Path) -> list[Path]:
    return [p for p in [path, *path.parents] if p != Path("/")]


@contextmanager
def reachable_python() -> Iterator[None]:
    """Search permission for others on every folder above the interpreter and the repo."""
    targets: set[Path] = set()
    for start in (Path(os.path.realpath(sys.executable)).parent, REPO):
        targets.update(_ancestors(start))
    changed: list[tuple[Path, int]] = []
    try:
        for folder in sorted(targets):
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH:
                os.chmod(folder, stat.S_IMODE(mode) | stat.S_IXOTH)
                changed.append((folder, stat.S_IMODE(mode)))
        yield
    finally:
        for folder, mode in reversed(changed):
            os.chmod(folder, mode)


@contextmanager
def accounts(prefix: str, names: Sequence[str], group: bool = True,
             outside: Sequence[str] = ()) -> Iterator[tuple[dict[str, str], str]]:
    """OS accounts `<prefix><name><random>` (short enough for useradd): `names` all in
    one new group when `group`, `outside` in none; yields ({name: account}, group) and
    deletes them afterwards."""
    need_root()
    tag = secrets.token_hex(2)
    group_name = f"{prefix}g{tag}"
    made: dict[str, str] = {}
    if group:
        subprocess.run(["groupadd", group_name], check=True)
    try:
        for name in [*names, *outside]:
            account = f"{prefix}{name[:4]}{tag}"
            cmd = ["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", account]
            if group and name not in outside:
                cmd[1:1] = ["-G", group_name]
            subprocess.run(cmd, check=True, capture_output=True)
            made[name] = account
        yield made, group_name
    finally:
        for account in made.values():  # nothing of theirs may outlive the test
            _remove_account(account)
        if group:
            subprocess.run(["groupdel", group_name], check=False, capture_output=True)


def _remove_account(account: str) -> None:
    """Kill what runs as `account`, wait for it to be gone (userdel refuses an account a
    process still uses: a console killed a moment before left accounts behind), then
    delete the account and the group useradd made for it."""
    import time

    deadline = time.monotonic() + 10
    while True:
        subprocess.run(["pkill", "-KILL", "-u", account], check=False, capture_output=True)
        alive = subprocess.run(["pgrep", "-u", account], capture_output=True).returncode == 0
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for _ in range(20):
        if subprocess.run(["userdel", account], capture_output=True).returncode in (0, 6):
            break  # 6: no such account
        time.sleep(0.1)
    subprocess.run(["groupdel", account], check=False, capture_output=True)


def share_with_group(root: Path, group: str) -> None:
    """Give `group` read and write on the store tree (SQLite readers write -shm), with
    setgid folders so files made later keep the group."""
    gid = int(subprocess.run(["getent", "group", group], capture_output=True, text=True,
                             check=True).stdout.split(":")[2])
    for folder, _dirs, files in os.walk(root):
        os.chown(folder, -1, gid)
        os.chmod(folder, 0o2770)
        for f in files:
            path = os.path.join(folder, f)
            os.chown(path, -1, gid)
            os.chmod(path, 0o660)


def as_user(user: str, *command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["runuser", "-u", user, "--", *command], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def can_read(user: str, path: Path) -> bool:
    return subprocess.run(["runuser", "-u", user, "--", "cat", str(path)], capture_output=True,
                          timeout=30, stdin=subprocess.DEVNULL).returncode == 0  # bytes: a database


def python_for(user: str) -> str | None:
    """A Python interpreter `user` may run: the tests' own when its folders are open to
    others, else the system's (which has sqlite3 but not Watchkeeper); None if neither."""
    for python in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        if Path(python).exists() and as_user(user, python, "-c", "pass").returncode == 0:
            return python
    return None


@contextmanager
def open_parent() -> Iterator[Path]:
    """A folder every account can pass through (pytest's own tmp folders are root's
    only, which would make any "cannot read" trivially true): only the modes of what is
    made in it then stand between another account and its files."""
    folder = Path(tempfile.mkdtemp(prefix="wk-accounts-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        subprocess.run(["rm", "-rf", str(folder)], check=False)
