"""Every mutating service function asks the permission check and writes an audit event in
its own write transaction (issue 13, item 9).

The test finds the mutating functions itself: every function in the service layer
(registry/, serving/, monitoring/, scheduler/ and store/'s service modules) that opens a
write transaction (`with ....db.write()`). Each must either
- call the permission check (`authorize`) and, inside that `with` block, something that
  records an audit event (`audit.record`, or a function that does, found by following
  calls across the code), or
- say why its writes are records of their own (`@self_recording("...")`: job runs,
  reports, alert events, logged predictions carry who and when themselves).
A new writing function that does neither fails here, with its file and line.

The permission matrix (tests/test_permissions.py) then runs every action and checks the
audit rows they write, and the denials'.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICE_PACKAGES = ("registry", "serving", "monitoring", "scheduler", "store")
#: store/ modules below the service layer: the engine and the check itself
NOT_SERVICES = {"store/access.py", "store/engine.py", "store/schema.py", "store/migrations"}


@dataclass
class Fn:
    path: str
    name: str
    line: int
    node: ast.FunctionDef | ast.AsyncFunctionDef
    calls: set[str] = field(default_factory=set)
    write_blocks: list[ast.With] = field(default_factory=list)
    exempt: str | None = None  # @self_recording: neither check nor audit
    system: str | None = None  # @no_permission_check: audited, run by the system


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _is_write(item: ast.withitem) -> bool:
    call = item.context_expr
    return (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.attr == "write" and isinstance(call.func.value, ast.Attribute)
            and call.func.value.attr == "db")


def _exemption(node: ast.FunctionDef | ast.AsyncFunctionDef,
               marker: str = "self_recording") -> str | None:
    for deco in node.decorator_list:
        if isinstance(deco, ast.Call) and _called_name(deco) == marker:
            arg = deco.args[0] if deco.args else None
            return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else "?"
    return None


def _functions() -> list[Fn]:
    found: list[Fn] = []
    for package in SERVICE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if any(rel == n or rel.startswith(n + "/") for n in NOT_SERVICES):
                continue
            tree = ast.parse(path.read_text(), rel)
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    fn = Fn(rel, node.name, node.lineno, node, exempt=_exemption(node),
                            system=_exemption(node, "no_permission_check"))
                    for sub in ast.walk(node):
                        if isinstance(sub, ast.Call) and (name := _called_name(sub)):
                            fn.calls.add(name)
                        if isinstance(sub, ast.With) and any(_is_write(i) for i in sub.items):
                            fn.write_blocks.append(sub)
                    found.append(fn)
    return found


FUNCTIONS = _functions()


def _is_audit_record(call: ast.Call) -> bool:
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr == "record" \
        and isinstance(func.value, ast.Name) and func.value.id == "audit"


def _passes(call: ast.Call, session: str) -> bool:
    """Whether the call hands over the transaction's session (by position or keyword)."""
    values = [*call.args, *(k.value for k in call.keywords)]
    return any(isinstance(v, ast.Name) and v.id == session for v in values)


def _audit_calls(node: ast.AST, session: str, auditing: set[str]) -> bool:
    """A call in `node` that records an audit event in `session`'s transaction."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and _passes(sub, session) and (
                _is_audit_record(sub) or _called_name(sub) in auditing):
            return True
    return False


def _session_param(fn: Fn) -> str | None:
    names = [a.arg for a in (*fn.node.args.posonlyargs, *fn.node.args.args, *fn.node.args.kwonlyargs)]
    return "session" if "session" in names else None


def _auditing() -> set[str]:
    """Helpers that record an audit event in the session they are given, directly or
    through other such helpers (a fixpoint over names; only functions taking `session`)."""
    names: set[str] = set()
    while True:
        more = names | {fn.name for fn in FUNCTIONS if (s := _session_param(fn))
                        and _audit_calls(fn.node, s, names)}
        if more == names:
            return names
        names = more


def _block_audits(block: ast.With, auditing: set[str]) -> bool:
    session = next((i.optional_vars.id for i in block.items
                    if _is_write(i) and isinstance(i.optional_vars, ast.Name)), None)
    return session is not None and _audit_calls(block, session, auditing)


AUDITING = _auditing()
MUTATING = [fn for fn in FUNCTIONS if fn.write_blocks]
#: the module's own private helpers a function reaches (the check may sit in its caller)
BY_MODULE: dict[str, dict[str, Fn]] = {}
for _fn in FUNCTIONS:
    BY_MODULE.setdefault(_fn.path, {})[_fn.name] = _fn


def _callers_in_module(fn: Fn) -> list[Fn]:
    """Functions of the same module that call `fn` (for a private helper that writes)."""
    return [other for other in BY_MODULE[fn.path].values() if fn.name in other.calls and other is not fn]


def _authorizes(fn: Fn, seen: frozenset[str] = frozenset()) -> bool:
    if fn.calls & {"authorize", "authorize_principal"} or fn.system:
        return True
    if not fn.name.startswith("_") or fn.name in seen:
        return False
    callers = _callers_in_module(fn)
    return bool(callers) and all(_authorizes(c, seen | {fn.name}) or bool(c.exempt)
                                 for c in callers)


def test_the_enumeration_finds_the_known_mutating_functions() -> None:
    """The scan is not empty-handed: the functions we know write are among those it finds."""
    names = {(fn.path, fn.name) for fn in MUTATING}
    for known in [("registry/aliases.py", "promote"), ("registry/aliases.py", "rollback"),
                  ("serving/traffic/deployments.py", "set_deployment"),
                  ("monitoring/alert_service.py", "ack"), ("scheduler/jobs_service.py", "set_paused"),
                  ("store/users.py", "set_role"), ("registry/approvals.py", "approve")]:
        assert known in names, f"{known} not found among {len(names)} writing functions"
    assert len(MUTATING) >= 40


@pytest.mark.parametrize("fn", [f for f in MUTATING if not f.exempt],
                         ids=lambda f: f"{f.path}:{f.name}")
def test_every_mutating_function_checks_permission_and_audits_in_its_transaction(fn: Fn) -> None:
    where = f"{fn.path}:{fn.line} {fn.name}"
    assert _authorizes(fn), (
        f"{where} opens a write transaction without asking store.access.authorize (directly, "
        "or in every caller of this private helper); add the check, or mark it "
        "@self_recording('why') if its rows are their own record")
    for block in fn.write_blocks:
        assert _block_audits(block, AUDITING), (
            f"{where}: the write at line {block.lineno} records no audit event in its "
            "transaction (audit.record or a function that calls it, inside the with block)")


def test_every_exemption_says_why() -> None:
    marked = [fn for fn in FUNCTIONS if fn.exempt is not None or fn.system is not None]
    assert marked
    for fn in marked:
        why = fn.exempt or fn.system or ""
        assert len(why) > 15, f"{fn.path}:{fn.line} {fn.name}: say why in a sentence"
        assert fn.write_blocks or any(c.write_blocks for c in BY_MODULE[fn.path].values()
                                      if c.name in fn.calls), \
            f"{fn.path}:{fn.line} {fn.name} is marked but writes nothing: drop the mark"


def test_the_rule_catches_a_function_that_writes_without_audit(tmp_path: Path) -> None:
    """The checks fail on a plain writer: parse one and run the same predicates."""
    source = ("def forget(store, name, actor=None):\n"
              "    actor = authorize(store, actor, Permission.DEPLOY)\n"
              "    with store.db.write() as session:\n"
              "        session.delete(name)\n")
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    fn = Fn("x.py", node.name, 1, node)
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and (name := _called_name(sub)):
            fn.calls.add(name)
        if isinstance(sub, ast.With) and any(_is_write(i) for i in sub.items):
            fn.write_blocks.append(sub)
    assert fn.write_blocks and "authorize" in fn.calls
    assert not _block_audits(fn.write_blocks[0], AUDITING)
