"""Second OS accounts for the file-mode tests: a user (optionally in a new group) created
for the test and removed after it, and commands run as that user with runuser.

Only root can create accounts (the tests and CI run as root); elsewhere the tests that
need them are skipped with the reason."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

NOT_ROOT = "creating a second OS account needs root (the tests and CI run as root)"


def can_make_accounts() -> bool:
    return os.geteuid() == 0 and all(
        Path(p).exists() for p in ("/usr/sbin/useradd", "/usr/sbin/userdel", "/usr/sbin/runuser"))


@contextmanager
def os_group() -> Iterator[str]:
    name = f"wk-grp-{secrets.token_hex(3)}"
    subprocess.run(["groupadd", name], check=True, capture_output=True)
    try:
        yield name
    finally:
        subprocess.run(["groupdel", name], capture_output=True)


@contextmanager
def os_user(group: str | None = None) -> Iterator[str]:
    name = f"wk-other-{secrets.token_hex(3)}"
    extra = ["-G", group] if group else []
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", *extra, name],
                   check=True, capture_output=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], capture_output=True)


def as_user(user: str, *command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["runuser", "-u", user, "--", *command], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def python_for(user: str) -> str | None:
    """A Python interpreter `user` may run: the tests' own when its folders are open to
    others, else the system's (which has sqlite3 but not Watchkeeper); None if neither."""
    for python in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        if Path(python).exists() and as_user(user, python, "-c", "pass").returncode == 0:
            return python
    return None


def can_read(user: str, path: Path) -> bool:
    return subprocess.run(["runuser", "-u", user, "--", "cat", str(path)], capture_output=True,
                          timeout=30, stdin=subprocess.DEVNULL).returncode == 0


@contextmanager
def open_parent() -> Iterator[Path]:
    """A folder every account can pass through (pytest's own tmp folders are root's
    only, which would make any "cannot read" trivially true): only the store's own
    modes then stand between the other account and its files."""
    folder = Path(tempfile.mkdtemp(prefix="wk-modes-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        subprocess.run(["rm", "-rf", str(folder)], check=False)
