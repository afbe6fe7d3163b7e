"""Dependency direction (import-linter's contracts in pyproject.toml) and lazy imports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("console", "scheduler", "monitoring", "serving", "registry", "store", "sample_models")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\n"
                          "print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter's contracts from pyproject.toml, over the packages under `root`."""
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(exe), "--no-cache", "--config", str(root / "pyproject.toml")],
                          cwd=root, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(root)})


def _copy_of_tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "__snapshots__", "*.csv"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_import_contracts_hold() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("store/engine.py", "import serving.traffic.router", "Layers point down"),
    ("registry/spec.py", "from serving.scoring import ids", "Layers point down"),
    ("monitoring/__init__.py", "import serving", "Layers point down"),
    ("serving/scoring/ids.py", "import console", "Layers point down"),
    ("sample_models/__init__.py", "import console", "Nothing imports the console"),
    ("registry/gate.py", "import textual", "Textual is imported by the console only"),
])
def test_a_broken_rule_breaks_its_contract(tmp_path: Path, module: str, line: str, contract: str) -> None:
    """The contracts are not vacuous: one wrong import in a copy of the tree breaks the
    contract that forbids it (and make test, which runs the same check, fails)."""
    root = _copy_of_tree(tmp_path)
    with open(root / module, "a") as f:
        f.write(f"\n{line}  # noqa\n")
    result = _lint_imports(root)
    assert result.returncode != 0
    broken = result.stdout[result.stdout.index("Broken contracts"):]
    assert contract in broken, result.stdout


def test_cli_help_loads_no_heavy_library() -> None:
    loaded = _modules_after(
        "from console.cli import build_parser\nbuild_parser().format_help()")
    heavy = {"pandas", "sklearn", "sqlalchemy", "sqlmodel", "textual", "skops", "alembic", "numpy", "pandera",
             "fastapi", "uvicorn", "orjson", "prometheus_client"}
    assert not heavy & loaded
