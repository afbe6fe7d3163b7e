"""Issue 13 item 8 (and reliability.md SCH-09, ART-07): a store's files are its owner's
only, or its owner's and one group's where configured, including files created later by
other processes (a server's WAL, a report, a backup), checked with a second OS account
the test creates."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import FIXTURES
from make_tiny import make_tiny
from os_accounts import (
    NOT_ROOT,
    accounts,
    as_user,
    can_make_accounts,
    can_read,
    open_parent,
    python_for,
)

from console.cli import main
from store.errors import InvalidInput
from store.handle import init_store, open_store
from store.modes import Modes, create_file, mode_problems, secure_store

needs_root = pytest.mark.skipif(not can_make_accounts(), reason=NOT_ROOT)

LATER_FILE = """
import sys
from pathlib import Path
from store.handle import open_store
store = open_store(sys.argv[1])
folder = store.location.root / "reports" / "later"
folder.mkdir(parents=True, exist_ok=True)
(folder / "v1.md").write_text("a report written by another process")
"""


def _trained(root: Path, spec_folder: Path, *init_args: str) -> None:
    spec = make_tiny(spec_folder)
    shutil.copy(FIXTURES / "tiny_model.py", spec_folder / "tiny_model.py")
    assert main(["init", "--store", str(root), *init_args]) == 0
    assert main(["train", str(spec), "--store", str(root)]) == 0


def _later_process(root: Path) -> None:
    """Another process, started with a loose umask (022), writes a file into the store."""
    code = subprocess.run(["sh", "-c", f'umask 022; exec "{sys.executable}" -c "$0" "$1"',
                           LATER_FILE, str(root)], capture_output=True, text=True, timeout=120)
    assert code.returncode == 0, code.stderr


@needs_root
def test_another_account_reads_nothing_in_a_new_store(tmp_path: Path) -> None:
    with open_parent() as parent, accounts("wko", ["other"], group=False) as (made, _group):
        other = made["other"]
        root = parent / "store"
        _trained(root, tmp_path / "project")
        store = open_store(root)
        try:
            with store.db.write() as session:  # a writer holds the database open: WAL and shm exist
                from store import audit

                audit.record(session, actor="tests", action="test.write", target="store")
                session.flush()
                wal, shm = root / "watchkeeper.db-wal", root / "watchkeeper.db-shm"
                assert wal.exists() and shm.exists()
                assert stat.S_IMODE(wal.stat().st_mode) == 0o600 == stat.S_IMODE(shm.stat().st_mode)
                assert not can_read(other, wal)
            backup = parent / "backup"
            assert main(["store", "backup", str(backup), "--store", str(root)]) == 0
        finally:
            store.close()
        _later_process(root)
        control = parent / "open.txt"  # the test can fail: a 0644 file beside the store is readable
        control.write_text("anyone")
        control.chmod(0o644)
        assert can_read(other, control)
        [artifact] = list((root / "artifacts").glob("*.skops"))
        files = [root / "watchkeeper.db", artifact, root / "reports" / "later" / "v1.md",
                 backup / "watchkeeper.db", *(backup / "artifacts").glob("*.skops"),
                 backup / "backup-manifest.json"]
        assert len(files) == 6
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
            assert not can_read(other, path), f"{other} could read {path}"
        assert as_user(other, "ls", str(root)).returncode != 0
        # nor write (reliability.md SCH-09: the job table lives in this database; the
        # daemon keeps no job store of its own): appending and replacing both refused
        before = (root / "watchkeeper.db").read_bytes()
        for words in (f"echo x >> {root / 'watchkeeper.db'}", f"echo x > {root / 'jobs.db'}"):
            assert as_user(other, "sh", "-c", words).returncode != 0, words
        assert (root / "watchkeeper.db").read_bytes() == before and not (root / "jobs.db").exists()
        control_dir = parent / "writable"  # the test can fail: an open folder takes the write
        control_dir.mkdir(mode=0o777)
        control_dir.chmod(0o777)
        assert as_user(other, "sh", "-c", f"echo x > {control_dir / 'f'}").returncode == 0
        assert mode_problems(root, Modes()) == [] and mode_problems(backup, Modes()) == []


@needs_root
def test_a_group_member_reads_the_store_and_others_do_not(tmp_path: Path) -> None:
    with open_parent() as parent, accounts("wkg", ["member"], outside=["other"]) as (made, group):
        member, other = made["member"], made["other"]
        root = parent / "store"
        _trained(root, tmp_path / "project", "--group", group)
        assert tomllib.loads((root / "watchkeeper.toml").read_text())["store"]["group"] == group
        opened = open_store(root)
        try:
            with opened.db.read() as session:
                from store import audit

                [event] = audit.list_events(session, action="store.group")
            assert event.after == {"group": group, "dirs": "2770", "files": "660"}
        finally:
            opened.close()
        _later_process(root)
        info = root.stat()
        assert stat.S_IMODE(info.st_mode) == 0o2770 and info.st_gid == __import__("grp").getgrnam(group).gr_gid
        [artifact] = list((root / "artifacts").glob("*.skops"))
        for path in (root / "watchkeeper.db", artifact, root / "reports" / "later" / "v1.md"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o660, path
            assert path.stat().st_gid == info.st_gid, path
            assert can_read(member, path) and not can_read(other, path), path
        # the member reads the registry itself (WAL mode: it needs the -shm, so write too)
        query = ("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                 "print([r[0] for r in c.execute('select name from registered_model')])")
        python = python_for(member)
        assert python is not None, "no Python interpreter the member may run"
        read = as_user(member, python, "-c", query, str(root / "watchkeeper.db"))
        assert read.returncode == 0 and "tiny" in read.stdout, read.stderr
        assert as_user(other, python, "-c", query, str(root / "watchkeeper.db")).returncode != 0
        if python == sys.executable:  # the test's interpreter is reachable: `wk` itself as the member
            listed = as_user(member, sys.executable, "-m", "console.cli", "models", "list",
                             "--store", str(root), "--json")
            assert listed.returncode == 0 and "tiny" in listed.stdout, listed.stderr


def test_an_unknown_group_is_refused_before_anything_is_created(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is not a group on this machine"):
        init_store(tmp_path / "store", group="wk-no-such-group-xyz")
    assert not (tmp_path / "store").exists()


def test_init_tightens_an_older_store_and_leaves_other_files_alone(tmp_path: Path) -> None:
    store, _ = init_store(tmp_path / "store")
    store.close()
    root = tmp_path / "store"
    (root / "watchkeeper.db").chmod(0o644)
    (root / "reports").mkdir()
    (root / "reports").chmod(0o755)
    (root / "reports" / "old.md").write_text("x")
    (root / "reports" / "old.md").chmod(0o644)
    (root / "notes.txt").write_text("not ours")
    (root / "notes.txt").chmod(0o644)
    root.chmod(0o755)
    assert len(mode_problems(root, Modes())) == 5  # root, db, reports, old.md, notes.txt
    again, created = init_store(root)
    again.close()
    assert not created
    assert stat.S_IMODE((root / "watchkeeper.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((root / "reports" / "old.md").stat().st_mode) == 0o600
    assert stat.S_IMODE((root / "notes.txt").stat().st_mode) == 0o644  # not the store's to change
    assert secure_store(root, Modes()) == 0


def test_create_file_ignores_a_loose_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        create_file(tmp_path / "export.jsonl")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "export.jsonl").stat().st_mode) == 0o600


def test_only_a_maintainer_gives_an_existing_store_a_group(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """`wk init --group` on an existing store by a viewer is refused before the settings
    file or any mode changes; the store's admin then gives it the group, audited."""
    import grp

    from store.errors import PermissionDenied
    from store.users import add_user

    group = grp.getgrgid(os.getgid()).gr_name  # a group this machine surely has
    root = tmp_path / "store"
    store, _ = init_store(root)
    try:
        add_user(store, "nobody", "viewer")
    finally:
        store.close()
    before = {p: stat.S_IMODE(p.stat().st_mode) for p in (root, root / "watchkeeper.db")}
    with monkeypatch.context() as patched:
        patched.setattr("store.access.current_actor", lambda: "nobody")
        with pytest.raises(PermissionDenied, match="maintain"):
            init_store(root, group=group)
    assert not (root / "watchkeeper.toml").exists()
    assert {p: stat.S_IMODE(p.stat().st_mode) for p in before} == before
    again, _ = init_store(root, group=group)
    try:
        assert again.modes.group == group
        from sqlmodel import select

        from store.tables import AuditEvent

        with again.db.read() as session:
            actions = [(e.actor, e.action) for e in session.exec(select(AuditEvent)).all()
                       if e.action in ("access.denied", "store.group")]
    finally:
        again.close()
    assert tomllib.loads((root / "watchkeeper.toml").read_text())["store"]["group"] == group
    assert stat.S_IMODE((root / "watchkeeper.db").stat().st_mode) == 0o660
    assert [a for _, a in actions] == ["access.denied", "store.group"], actions
