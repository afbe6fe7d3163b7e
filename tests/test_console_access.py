"""Issue 13's console acceptance: who uses the console decides what it offers.

The console runs in tmux at 80x24 as two other OS accounts, each a user of the store: a
viewer, for whom promote and rollback are shown disabled and their keys say why (the
store's denial words) while production stays where it was; and an operator, for whom
both work and each is audited under the operator's name.

The test runs as root (the store's creator, so its admin): it creates the two accounts
and a group holding both (tests/os_accounts.py: removed again at the end, with anything
left running as them), and gives the group the store's folder tree (read and write:
SQLite's WAL readers write its -shm file). Each console starts as `runuser -u ACCOUNT --
.venv/bin/wk ui` with a HOME of its own; the folders above the venv's interpreter get
search permission for the test's duration (`reachable_python`).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from console_store import build_console_store
from os_accounts import WK, open_parent, reachable_python, share_with_group
from os_accounts import accounts as os_accounts

REPO = Path(__file__).resolve().parents[1]
MODEL = "credit-default"  # v1 production, v2 staging (tests/console_store.py)

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(shutil.which("tmux") is None,
                       reason="drives the console in tmux, which is not installed"),
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="creates OS accounts (useradd) to be a viewer and an operator: "
                              "run as root"),
    pytest.mark.skipif(not WK.exists(), reason=f"needs the wk script at {WK} (make install)"),
]


@dataclass(frozen=True)
class Accounts:
    viewer: str
    operator: str
    group: str  # holds both: the store's tree is shared with it


@pytest.fixture
def accounts() -> Iterator[Accounts]:
    with os_accounts("wka", ["viewer", "operator"]) as (made, group), reachable_python():
        yield Accounts(made["viewer"], made["operator"], group)


@pytest.fixture
def shared_dir(accounts: Accounts) -> Iterator[Path]:
    """A folder the two accounts can reach (pytest's tmp folders are root's only)."""
    with open_parent() as folder:
        yield folder


class Console:
    """`wk ui` as `account`, in a detached tmux session at 80x24."""

    def __init__(self, root: Path, account: str, home: Path, view: str) -> None:
        self.name = f"wkacc{os.getpid()}{secrets.token_hex(2)}"
        # a console that fails to start leaves its error on the pane, for wait_for to show
        shell = (f"umask 002; export HOME={home}; {WK} ui --store {root} "
                 f"--refresh 1 --view '{view}'; echo \"wk ui exited: $?\"; sleep 60")
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", "80", "-y", "24",
                        "-c", str(REPO), "runuser", "-u", account, "--", "sh", "-c", shell],
                       check=True)

    def key(self, key: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, key], check=True)

    def type(self, text: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-J", "-t", self.name],
                              capture_output=True, text=True, check=False).stdout

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in (shown := self.screen()):
                return shown
            time.sleep(0.2)
        raise AssertionError(f"still waiting after {timeout:.0f} s for {text!r}; the console "
                             f"shows:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], check=False,
                       capture_output=True)


def _production(root: Path) -> int | None:
    from registry.models import show_model
    from store.handle import open_store

    store = open_store(root)
    try:
        return show_model(store, MODEL)["aliases"].get("production")
    finally:
        store.close()


def _audit_by(root: Path, actor: str) -> list[tuple[str, str]]:
    from sqlmodel import select

    from store.handle import open_store
    from store.tables import AuditEvent

    store = open_store(root)
    try:
        with store.db.read() as session:
            rows = session.exec(select(AuditEvent).where(AuditEvent.actor == actor)).all()
            return [(str(r.action), r.target) for r in rows]
    finally:
        store.close()


def _joined(screen: str) -> str:
    """The pane's text as one line: a notice wraps the reason over several lines."""
    return " ".join(line.strip(" │▌▐") for line in screen.splitlines())



def _wait_for_production(root: Path, version: int, failure: str, pane: Console) -> None:
    """Until production holds `version` (20 s), else fail with what the console shows."""
    deadline = time.monotonic() + 20
    while _production(root) != version:
        assert time.monotonic() < deadline, f"{failure}; the console shows:\n{pane.screen()}"
        time.sleep(0.2)

def test_a_viewer_sees_why_and_an_operator_acts(accounts: Accounts, shared_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from store.users import add_user

    monkeypatch.delenv("WK_DATABASE_URL", raising=False)
    root = shared_dir / "store"
    store = build_console_store(root)
    try:
        add_user(store, accounts.viewer, "viewer")
        add_user(store, accounts.operator, "operator")
    finally:
        store.close()
    share_with_group(root, accounts.group)
    assert _production(root) == 1

    homes = {}
    for name in (accounts.viewer, accounts.operator):
        homes[name] = shared_dir / f"home-{name}"
        homes[name].mkdir()
        shutil.chown(homes[name], name, accounts.group)

    # --- the viewer: promote and rollback shown, disabled; their keys say why -----------
    viewer = Console(root, accounts.viewer, homes[accounts.viewer], f"versions {MODEL}")
    try:
        viewer.wait_for(f"{accounts.viewer} (viewer)")
        viewer.wait_for("v2")
        viewer.key("Down")  # v2 (staging): the newest version is listed first
        viewer.key("P")
        shown = viewer.wait_for("not allowed")
        assert ("permission denied: to promote a version to production (promote) needs the "
                "role operator or admin" in _joined(shown)), shown
        assert "Promote credit-default" not in shown  # no confirmation opened
        viewer.key("B")
        deadline = time.monotonic() + 20
        while "roll production back (rollback)" not in _joined(shown := viewer.screen()):
            assert time.monotonic() < deadline, f"no rollback denial; the console shows:\n{shown}"
            time.sleep(0.2)
        assert f"{accounts.viewer} is a viewer" in _joined(shown)
        assert "Roll back" not in shown
    finally:
        viewer.close()
    assert _production(root) == 1  # the alias did not move
    assert not [a for a in _audit_by(root, accounts.viewer) if a[0] != "access.denied"]

    # --- the operator: both work, audited under the operator's name ---------------------
    operator = Console(root, accounts.operator, homes[accounts.operator], f"versions {MODEL}")
    try:
        operator.wait_for(f"{accounts.operator} (operator)")
        operator.wait_for("v2")
        operator.key("Down")
        operator.key("P")
        operator.wait_for("Promote credit-default v2")
        operator.type("the operator promotes v2")
        operator.key("Enter")
        operator.wait_for("production: v1 -> v2")
        _wait_for_production(root, 2, "not promoted", operator)
        # the row must show the move before B: a B pressed before the refresh acts on the
        # row as it was (v2 holding staging only), as it would for a person
        operator.wait_for("production staging")
        operator.key("B")
        operator.wait_for("Roll back credit-default production")
        operator.type("the operator rolls back")
        operator.key("Enter")
        _wait_for_production(root, 1, "not rolled back", operator)
    finally:
        operator.close()
    actions = [action for action, target in _audit_by(root, accounts.operator)
               if target.startswith(f"model/{MODEL}")]
    assert "alias.promote" in actions and "alias.rollback" in actions, actions
