"""The permission matrix (issue 13): every action as every role, through the service layer
and through the CLI, against the table in the README.

The expected cells come from README.md's table ("Users, roles and permissions"), parsed
here, never from store/roles.py: the code must behave as the README promises, and the
README table must list exactly the code's permissions. Allowed cells must succeed and
write their audit row with the actor; denied cells must refuse (PermissionDenied in the
service layer, exit 5 with the needed role from the CLI) and write an access.denied row.

Service-layer cells act as API tokens of each role (actor "token:NAME", resolved by the
same check); CLI cells run `wk` as real OS accounts created by the test, each a user of
the store with its role, sharing the store through a group.
"""

from __future__ import annotations

import re
import shutil
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from os_accounts import accounts, reachable_python, run_as, share_with_group
from permission_cases import CASES, Case, World, spare_accounts

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

README = Path(__file__).resolve().parent.parent / "README.md"
ROLES = ("viewer", "scientist", "operator", "admin")
#: permissions whose actions are on the HTTP API (tests/test_api_tokens.py covers them)
HTTP_ONLY = {"predict"}
#: cases whose command depends on, or sets up, the model's aliases and deployment
STATEFUL = {"propose", "promote", "rollback", "approve", "deploy", "register", "train"}


def readme_table() -> dict[str, dict[str, bool]]:
    text = README.read_text()
    section = text.split("## Users, roles and permissions", 1)[1].split("\n## ", 1)[0]
    table: dict[str, dict[str, bool]] = {}
    header: list[str] = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| permission"):
            header = cells
        elif header and line.startswith("| `"):
            name = cells[0].strip("`")
            table[name] = {role: cells[header.index(role)] == "yes" for role in ROLES}
    return table


TABLE = readme_table()


def test_the_readme_table_is_the_codes_table() -> None:
    from store.roles import Permission, allows

    assert set(TABLE) == {str(p) for p in Permission}, "README lists other permissions than the code"
    for name, cells in TABLE.items():
        for role, allowed in cells.items():
            assert allows(role, Permission(name)) is allowed, f"README says {role} {name}: {allowed}"


def test_every_permission_has_a_case() -> None:
    covered = {str(c.permission) for c in CASES} | HTTP_ONLY
    assert covered == set(TABLE), f"no matrix case for {sorted(set(TABLE) - covered)}"


def _world(root: Path, work: Path) -> World:
    from make_tiny import make_tiny
    from serving_store import build_store, tiny_frame
    from skops.io import dump
    from tiny_model import train

    from store.handle import open_store

    build_store(root, versions=3, numeric=False)
    work.mkdir(parents=True, exist_ok=True)
    spec = make_tiny(work / "spec")
    X, y = tiny_frame(rows=150, seed=9)
    data = work / "rows.csv"
    X.to_csv(data, index=False)
    skops_file = work / "tiny.skops"
    dump(train(X, y, {"C": 0.5}), skops_file)
    return World(open_store(root), root, work, spec, skops_file, data, spare_accounts(6))


def _tokens(world: World) -> dict[str, str]:
    import hashlib
    import secrets

    from store.access_tables import ApiToken

    actors = {}
    with world.store.db.write() as session:
        for role in ROLES:
            secret = secrets.token_hex(16)
            session.add(ApiToken(name=f"matrix-{role}", prefix=secret[:6], role=role,
                                 secret_sha256=hashlib.sha256(secret.encode()).hexdigest(),
                                 created_by="tests"))
            actors[role] = f"token:matrix-{role}"
    return actors


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("matrix")
    w = _world(base / "store", base / "work")
    yield w
    w.store.close()


def _newest_audit(world: World) -> Any:
    from sqlmodel import col, select

    from store.tables import AuditEvent

    with world.store.db.read() as session:
        return session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()


CELLS = [(case, role) for case in CASES for role in ROLES]


@pytest.mark.parametrize(("case", "role"), CELLS,
                         ids=[f"{c.permission}-{r}" for c, r in CELLS])
def test_service_layer_cell(world: World, case: Case, role: str) -> None:
    from store.errors import PermissionDenied

    if not hasattr(world, "actors"):
        world.actors = _tokens(world)  # type: ignore[attr-defined]
    actor = world.actors[role]  # type: ignore[attr-defined]
    n = CELLS.index((case, role))
    allowed = TABLE[str(case.permission)][role]
    if allowed:
        if case.prepare:
            case.prepare(world, n)
        case.service(world, actor, n)
        if case.audit:
            event = _newest_audit(world)
            assert (event.action, event.actor) == (case.audit, actor), \
                f"{role} {case.permission}: the newest audit row is {event.action} by {event.actor}"
    else:
        with pytest.raises(PermissionDenied) as raised:
            case.service(world, actor, n)
        assert "needs the role" in str(raised.value)
        event = _newest_audit(world)
        assert (event.action, event.actor) == ("access.denied", actor)
        assert event.after["permission"] == str(case.permission)


def test_cli_matrix_as_os_accounts(tmp_path: Path) -> None:
    """Every case as every role through `wk`, run as four real OS accounts (in parallel
    per role: the cells of one role run in order)."""
    from store.users import add_user

    world = _world(tmp_path / "store", tmp_path / "work")
    with accounts("wkm", ROLES) as (made, group), reachable_python():
        for role, account in made.items():
            add_user(world.store, account, role)
        world.store.close()
        share_with_group(world.root, group)
        share_with_group(world.work, group)
        world.store = _reopen(world)

        stateful = threading.Lock()  # a cell that reads or sets up shared state runs alone

        def run_role(role: str) -> list[str]:
            problems = []
            for i, case in enumerate(CASES):
                n = 100 * (ROLES.index(role) + 1) + i
                allowed = TABLE[str(case.permission)][role]
                with stateful if case.permission in STATEFUL else nullcontext():
                    if allowed and case.prepare:
                        case.prepare(world, n)  # as the store's admin (this process)
                    argv = [*case.cli(world, n), "--store", str(world.root)]
                    done = run_as(made[role], argv, cwd=world.work)
                said = done.stderr.strip().splitlines()[-1:] or [""]
                if allowed and done.returncode != 0:
                    problems.append(f"{role} {case.permission}: exit {done.returncode}: {said[0]}")
                if not allowed and (done.returncode != 5 or "needs the role" not in done.stderr):
                    problems.append(f"{role} {case.permission}: expected a refusal (exit 5), got "
                                    f"exit {done.returncode}: {said[0]}")
            return problems

        with ThreadPoolExecutor(len(ROLES)) as pool:
            problems = [p for found in pool.map(run_role, ROLES) for p in found]
    assert not problems, "\n".join(problems)
    denied = _denials(world)
    expected = sum(not TABLE[str(c.permission)][r] for c in CASES for r in ROLES)
    assert denied == expected, f"{denied} access.denied rows for {expected} denied cells"
    world.store.close()
    shutil.rmtree(tmp_path, ignore_errors=True)


def _reopen(world: World) -> Any:
    from store.handle import open_store

    return open_store(world.root)


def _denials(world: World) -> int:
    from sqlmodel import func, select

    from store.tables import AuditEvent

    with world.store.db.read() as session:
        return int(session.exec(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action == "access.denied")).one())


def test_a_denial_names_the_role_and_who_asked() -> None:
    from store.roles import Permission, denial

    text = denial("ana", "viewer", Permission.PROMOTE)
    assert re.search(r"needs the role operator or admin; ana is a viewer", text), text
