"""Where a model came from: the training code's git commit and the Python environment."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("watchkeeper", "scikit-learn", "numpy", "scipy", "pandas", "skops", "pyarrow")


def environment() -> dict[str, Any]:
    packages: dict[str, str] = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "executable": sys.executable,
        "packages": packages,
    }


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def code_version(source_file: str | Path | None) -> dict[str, Any]:
    """The git commit and dirty flag of the repository holding `source_file`."""
    if source_file is None:
        return {"git_commit": None, "dirty": None, "repository": None, "note": "no source file"}
    folder = Path(source_file).resolve().parent
    top = _git(["rev-parse", "--show-toplevel"], folder)
    if top is None:
        return {
            "git_commit": None,
            "dirty": None,
            "repository": None,
            "source_file": str(source_file),
            "note": "the training code is not in a git repository",
        }
    commit = _git(["rev-parse", "HEAD"], folder)
    status = _git(["status", "--porcelain", "--untracked-files=no"], folder)
    return {
        "git_commit": commit,
        "dirty": bool(status) if status is not None else None,
        "repository": top,
        "source_file": str(Path(source_file).resolve()),
    }
