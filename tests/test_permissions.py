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

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from os_accounts import REPO, accounts, reachable_python, share_with_group
from permission_cases import CASES, Case, World, spare_accounts

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

README = Path(__file__).resolve().parent.parent / "README.md"
FIXTURES = Path(__file__).parent / "fixtures"
ROLES = ("viewer", "scientist", "operator", "admin")
#: permissions whose only action is on the HTTP API (the HTTP matrix below runs it)
HTTP_ONLY = {"predict"}


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
    shutil.copy(FIXTURES / "tiny_model.py", spec.parent)  # the spec's entry point, beside it
    X, y = tiny_frame(rows=150, seed=9)
    data = work / "rows.csv"
    X.to_csv(data, index=False)
    skops_file = work / "tiny.skops"
    dump(train(X, y, {"C": 0.5}), skops_file)
    from serving.batch.io import parse_sink, parse_source
    from serving.batch.run import score_batch
    from store.users import add_user

    world = World(open_store(root), root, work, spec, skops_file, data, predictions=[],
                  accounts=spare_accounts(6))
    add_user(world.store, world.accounts[-1], "viewer")  # a user a model can be handed to
    # logged predictions (with inputs) to label and to check for drift
    score_batch(world.store, "tiny", parse_source(str(data), None),
                parse_sink(str(work / "first.csv"), None))
    world.predictions = _prediction_ids(world)
    return world


def _prediction_ids(world: World) -> list[str]:
    from sqlmodel import select

    from store.tables import Prediction

    with world.store.db.read() as session:
        return list(session.exec(select(Prediction.prediction_id).limit(200)))


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


class Account:
    """`wk` commands as an OS account, through tests/cli_as_account.py (one process)."""

    def __init__(self, account: str, cwd: Path) -> None:
        home = Path("/tmp") / f"home-{account}"
        home.mkdir(exist_ok=True)
        shutil.chown(home, account)
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).parent / "cli_as_account.py"), account],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=cwd,
            env={**os.environ, "COLUMNS": "200", "PYTHONPATH": str(REPO)})
        self.home = home

    def run(self, argv: list[str]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(argv) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the account's process ended (exit {self.process.wait()})"
        return dict(json.loads(line))

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)
        shutil.rmtree(self.home, ignore_errors=True)


def test_cli_matrix_as_os_accounts() -> None:
    """Every case as every role through `wk`'s CLI, run as four real OS accounts, each a
    user of the store with its role and sharing the store through a group."""
    from store.users import add_user

    base = Path(tempfile.mkdtemp(prefix="wk-matrix-", dir="/tmp"))
    os.chmod(base, 0o711)  # other accounts pass through; the store below is the group's
    world = _world(base / "store", base / "work")
    problems: list[str] = []
    umask = os.umask(0o007)  # what this process adds (model files, ...) stays the group's
    try:
        with accounts("wkm", ROLES) as (made, group), reachable_python():
            for role, account in made.items():
                add_user(world.store, account, role)
            world.store.close()
            world.store = _share_store(world.root, group)  # as `wk init --group` does
            share_with_group(world.work, group)
            for r, role in enumerate(ROLES):
                shell = Account(made[role], world.work)
                try:
                    for i, case in enumerate(CASES):
                        n = 100 * (r + 1) + i
                        allowed = TABLE[str(case.permission)][role]
                        if allowed and case.prepare:
                            case.prepare(world, n)  # as the store's admin (this process)
                        done = shell.run([*case.cli(world, n), "--store", str(world.root)])
                        said = (done["stderr"].strip().splitlines() or [""])[-1]
                        if allowed and done["code"] not in case.ok_codes:
                            problems.append(f"{role} {case.permission}: exit {done['code']}: {said}")
                        if not allowed and (done["code"] != 5 or "needs the role" not in said):
                            problems.append(f"{role} {case.permission}: expected a refusal "
                                            f"(exit 5), got exit {done['code']}: {said}")
                finally:
                    shell.close()
        assert not problems, "\n".join(problems)
        expected = sum(not TABLE[str(c.permission)][r] for c in CASES for r in ROLES)
        assert _denials(world) == expected, f"{_denials(world)} access.denied rows, {expected} denied cells"
    finally:
        os.umask(umask)
        world.store.close()
        shutil.rmtree(base, ignore_errors=True)


def _share_store(root: Path, group: str) -> Any:
    from store.handle import init_store

    store, _ = init_store(root, group=group)
    return store


def _denials(world: World) -> int:
    from sqlmodel import func, select

    from store.tables import AuditEvent

    with world.store.db.read() as session:
        return int(session.exec(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action == "access.denied")).one())


#: the HTTP API's actions: (permission, method, path, body)
HTTP_CELLS = [
    ("read", "GET", "/v1/models", None),
    ("predict", "POST", "/v1/models/tiny/predict", {"row": {"x1": 0.5, "x2": -0.2, "colour": "red"}}),
    ("label", "POST", "/v1/feedback", {"labels": [{"prediction_id": "?", "label": 1}]}),
]


def test_http_matrix_with_a_token_of_each_role(world: World) -> None:
    """Every HTTP action as every role's token, against the README's table; a refusal is
    403 and audited, and no action answers without a token (401)."""
    from fastapi.testclient import TestClient

    from serving.http.api import ServerConfig
    from serving.http.app import make_app
    from store.tokens import create_token

    secrets = {role: create_token(world.store, f"http-{role}", role)["secret"] for role in ROLES}
    app = make_app(world.store, ServerConfig(timeout_s=5.0, auth=True))
    problems = []
    with TestClient(app) as client:
        app.state.api.gate.refresh()
        for permission, method, path, body in HTTP_CELLS:
            if body and "labels" in body:
                body = {"labels": [{"prediction_id": world.predictions[0], "label": 1}]}
            anonymous = client.request(method, path, json=body)
            if anonymous.status_code != 401:
                problems.append(f"{permission} without a token: {anonymous.status_code}")
            for role in ROLES:
                answer = client.request(method, path, json=body,
                                        headers={"Authorization": f"Bearer {secrets[role]}"})
                allowed = TABLE[permission][role]
                if allowed and answer.status_code != 200:
                    problems.append(f"{role} {permission}: {answer.status_code} {answer.text[:200]}")
                if not allowed:
                    event = _newest_audit(world)
                    if answer.status_code != 403 or (event.action, event.actor) != \
                            ("access.denied", f"token:http-{role}"):
                        problems.append(f"{role} {permission}: {answer.status_code}, newest audit "
                                        f"{event.action} by {event.actor}")
    assert not problems, "\n".join(problems)
    assert {p for p, *_ in HTTP_CELLS} >= HTTP_ONLY


def test_a_denial_names_the_role_and_who_asked() -> None:
    from store.roles import Permission, denial

    text = denial("ana", "viewer", Permission.PROMOTE)
    assert re.search(r"needs the role operator or admin; ana is a viewer", text), text
