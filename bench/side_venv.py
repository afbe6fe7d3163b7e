"""A virtual environment of its own for a peer tool a benchmark compares against (MLflow,
Evidently, NannyML), made on first use under bench/ and reused, so the peer's packages never
enter the project's environment (Evidently 0.7 does not even import with the project's pandas 3).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def ensure_venv(venv: Path, requirements: Sequence[str], probe: str, want: str,
                about: str = "about a minute") -> Path:
    """`venv` with `requirements` installed: made once, reused while the Python code `probe`
    prints `want` (the versions that matter), remade when it prints anything else or fails."""
    python = venv / "bin" / "python"
    name = venv.relative_to(REPO) if venv.is_relative_to(REPO) else venv
    if python.exists():
        have = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
        if have.returncode == 0 and have.stdout.strip() == want:
            return venv
        print(f"{name} has {have.stdout.strip() or '?'}, not {want}: reinstalling", flush=True)
    print(f"making {name} ({', '.join(requirements)}; {about})", flush=True)
    # the interpreter this venv was made from, not the venv's own python: a venv of a venv
    # would see the project's packages through it on some set-ups
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *requirements], check=True)
    return venv
