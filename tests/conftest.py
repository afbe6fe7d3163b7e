"""Shared fixtures: a fresh store, a tiny training spec, and `wk` run in-process."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIXTURES))

from make_tiny import make_tiny  # noqa: E402


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def store_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "store"
    monkeypatch.setenv("WK_STORE", str(path))
    monkeypatch.delenv("WK_DATABASE_URL", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)  # tables in full, whatever the shell exports
    return path


@pytest.fixture
def store(tmp_path: Path) -> Any:
    """A new, empty store opened from Python."""
    from store.handle import init_store

    opened, created = init_store(tmp_path / "store")
    assert created
    yield opened
    opened.close()


@pytest.fixture
def wk(capsys: pytest.CaptureFixture[str], store_dir: Path) -> Callable[..., Result]:
    """Run `wk ARGS` in this process against the test store."""
    from console.cli import main

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def tiny_spec(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    spec = make_tiny(folder)
    shutil.copy(FIXTURES / "tiny_model.py", folder / "tiny_model.py")
    return spec


@pytest.fixture
def trained(wk: Callable[..., Result], tiny_spec: Path) -> Path:
    """A store with tiny v1 trained."""
    assert wk("init").code == 0
    result = wk("train", tiny_spec)
    assert result.code == 0, result.err
    return tiny_spec


def snapshot_store(store: Path) -> dict[str, Any]:
    """Everything a failed command must not change: every table's rows and the artifacts."""
    import sqlite3

    db = store / "watchkeeper.db"
    out: dict[str, Any] = {"artifacts": sorted(p.name for p in (store / "artifacts").iterdir())}
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            out[table] = conn.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()
    return out


@pytest.fixture(scope="module")
def pg_url() -> Any:
    """A PostgreSQL server on 127.0.0.1 for one test module (tests/postgres_server.py);
    the modules that use it skip when the machine has no PostgreSQL."""
    from postgres_server import postgres_server

    with postgres_server() as url:
        yield url
