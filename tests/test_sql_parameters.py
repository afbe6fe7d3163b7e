"""Issue 13 item 8: SQL goes through bound parameters only. This scans the code (its AST)
for SQL run as text (sqlalchemy `text(...)`, `exec_driver_sql`, a DB-API `execute`,
`executemany`, `executescript`) whose statement is built from values with an f-string,
`%`, `+` or `.format()` (inline, or in a variable assigned so in the same function), and
fails naming each file:line.

What may be put into a statement's text, because it is never input, is read from the
code (`_safe`): a table name from the schema classes (`X.__tablename__`), a module
constant (an UPPER_CASE name, e.g. a fixed column tuple), a number forced with int(), a
placeholder (`?`/`%s` chosen by the driver's paramstyle, `_marks(...)`), and local names
assigned only from those. Anything else is allowed below one statement at a time, each
with its reason; a new one must be added here, argued, or rewritten to bind its values."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("console", "monitoring", "registry", "sample_models", "scheduler", "serving", "store")
SQL_CALLS = {"text", "exec_driver_sql", "execute", "executemany", "executescript"}

#: (file, the statement's source) -> why the values in it are safe. Keyed by the source,
#: not the line, so an edit elsewhere in the file does not move the allowance.
ALLOWED: dict[tuple[str, str], str] = {
    # the copy's own table names, from its sqlite_master (the schema, not input), quoted
    ("store/backup.py", "f'SELECT count(*) FROM \"{t}\"'"): "schema table names",
    # checked against CHECKPOINT_MODES (PASSIVE, FULL, RESTART, TRUNCATE) just above
    ("store/wal.py", "f'PRAGMA wal_checkpoint({mode})'"): "checked against a fixed tuple",
    # the chunk's shared values rendered by SQLAlchemy's own literal quoting for the
    # column's type (literal_binds), their column names checked against PREDICTION_COLUMNS
    ("store/prediction_log.py",
     "f\"INSERT INTO {Prediction.__tablename__} ({', '.join((*CHUNK_ROW_COLUMNS, *same))}) "
     "VALUES ({_marks(conn, len(CHUNK_ROW_COLUMNS))}, {fixed})\""): "SQLAlchemy literals",
    # `columns` is one of the two fixed column tuples, checked just above
    ("store/prediction_log.py",
     "f\"INSERT INTO {Prediction.__tablename__} ({', '.join(columns)}) "
     "VALUES ({_marks(conn, len(columns))})\""): "one of two fixed column tuples",
    # `table` runs over a fixed tuple of two schema table names
    ("store/prediction_log.py", "f'DELETE FROM {table} WHERE batch_run_id = {_marks(conn, 1)} "
     "AND row_index >= {_marks(conn, 1)}'"): "fixed tuple of table names",
    ("store/prediction_log.py", "f'DELETE FROM {table} WHERE batch_run_id = {_marks(conn, 1)} "
     "AND row_index BETWEEN {_marks(conn, 1)} AND {_marks(conn, 1)}'"): "fixed tuple of table names",
}

PLACEHOLDER_CALLS = {"_marks", "_mark", "int", "len"}


def _safe(node: ast.AST, assigned: dict[str, list[ast.AST]], depth: int = 0) -> bool:
    """Whether a piece of a statement's text is never input (see the module doc)."""
    if depth > 6:
        return False
    def again(n: ast.AST) -> bool:
        return _safe(n, assigned, depth + 1)
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.JoinedStr):
        return all(again(v.value) for v in node.values if isinstance(v, ast.FormattedValue))
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Mult) and isinstance(node.left, ast.List):
            return again(node.left)  # [mark] * n
        return isinstance(node.op, ast.Add | ast.Mod) and again(node.left) and again(node.right)
    if isinstance(node, ast.IfExp):
        return again(node.body) and again(node.orelse)
    if isinstance(node, ast.Attribute):
        return node.attr == "__tablename__"
    if isinstance(node, ast.Name):
        if node.id.isupper():
            return True
        values = assigned.get(node.id, [])
        return bool(values) and all(again(v) for v in values)
    if isinstance(node, ast.List | ast.Tuple):
        return all(again(e) for e in node.elts)
    if isinstance(node, ast.Starred):
        return again(node.value)
    if isinstance(node, ast.Call):
        name = _call_name(node)
        if name in PLACEHOLDER_CALLS and isinstance(node.func, ast.Name):
            return True
        if (name == "join" and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Constant)):
            return all(again(a) for a in node.args)
    return False


def _dynamic(node: ast.AST) -> bool:
    """A string built from something other than constants."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return not (isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "format" and isinstance(node.func.value, ast.Constant):
            return True
        if node.func.attr == "join" and isinstance(node.func.value, ast.Constant):
            return True
    return False


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


class _Scanner(ast.NodeVisitor):
    def __init__(self, rel: str, allowed: dict[tuple[str, str], str]) -> None:
        self.rel = rel
        self.allowed = allowed
        self.scopes: list[dict[str, list[ast.AST]]] = [{}]
        self.found: list[tuple[int, str]] = []

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        assigned: dict[str, list[ast.AST]] = {}
        for sub in ast.walk(node):
            targets = sub.targets if isinstance(sub, ast.Assign) else (
                [sub.target] if isinstance(sub, ast.AnnAssign | ast.AugAssign) and sub.value else [])
            value = getattr(sub, "value", None)
            for target in targets:
                if isinstance(target, ast.Name) and value is not None:
                    if isinstance(sub, ast.AugAssign):
                        value = ast.BinOp(left=ast.Name(id=target.id), op=sub.op, right=value)
                    assigned.setdefault(target.id, []).append(value)
        self.scopes.append(assigned)
        self.generic_visit(node)
        self.scopes.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _function  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        if _call_name(node) in SQL_CALLS and node.args:
            arg = node.args[0]
            built = [arg] if _dynamic(arg) else []
            if isinstance(arg, ast.Name):
                built = [v for v in self.scopes[-1].get(arg.id, []) if _dynamic(v)]
            for statement in built:
                source = ast.unparse(statement)
                if (self.rel, source) not in self.allowed and not _safe(statement, self.scopes[-1]):
                    self.found.append((node.lineno, source))
        self.generic_visit(node)


def _scan(path: Path, allowed: dict[tuple[str, str], str],
          rel: str | None = None) -> tuple[str, list[tuple[int, str]]]:
    rel = rel or path.relative_to(ROOT).as_posix()
    scanner = _Scanner(rel, allowed)
    scanner.visit(_tree(path))
    return rel, scanner.found


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def scan(path: Path, rel: str | None = None) -> list[str]:
    rel, found = _scan(path, ALLOWED, rel)
    return [f"{rel}:{line}: SQL built from values: {source}" for line, source in found]


def _files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def test_sql_binds_its_values() -> None:
    found = [problem for path in _files() for problem in scan(path)]
    assert not found, "bind the values as parameters (or argue an allowance):\n" + "\n".join(found)


def test_every_allowance_is_still_needed() -> None:
    flagged = {(rel, source) for path in _files()
               for rel, found in [_scan(path, {})] for _line, source in found}
    assert not set(ALLOWED) - flagged, "remove the allowances nothing needs"


def test_the_scanner_finds_each_way_of_building_sql(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    code = '''
from sqlalchemy import text
def f(conn, name, cur):
    conn.execute(text(f"SELECT * FROM t WHERE name = '{name}'"))
    conn.exec_driver_sql("DELETE FROM t WHERE id = %s" % name)
    cur.execute("SELECT * FROM " + name)
    q = "UPDATE t SET a = {}".format(name)
    cur.executemany(q, [])
    conn.execute(text("SELECT * FROM t WHERE name = :n"), {"n": name})
    cur.execute("SELECT * FROM t WHERE name = ?", (name,))
'''
    sample.write_text(code)
    found = scan(sample, rel="store/sample.py")
    assert [f.split(":")[1] for f in found] == ["4", "5", "6", "8"], found
