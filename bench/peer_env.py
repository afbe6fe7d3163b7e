"""Evidently and NannyML, the peers issue 10's agreement and speed checks compare against, in
bench/.venv-peers: made on first use (about five minutes: NannyML pulls in a large tree), never
in the project's environment. The scripts under bench/peers/ run there and never import
Watchkeeper; they talk to the project side through Parquet files in and one JSON file out.

Both peers share one venv: Evidently 0.7.23 and NannyML 0.13.1 install together on Python 3.11
with pandas 2.3.3 (Evidently 0.7 does not import with pandas 3, the project's pandas).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.side_venv import REPO, ensure_venv

PEERS_VENV = REPO / "bench" / ".venv-peers"
PEERS_SCRIPTS = REPO / "bench" / "peers"
#: exact pins, so the figures in bench/RESULTS.md name what produced them
PEER_REQUIREMENTS = ("evidently==0.7.23", "nannyml==0.13.1", "pandas==2.3.3", "pyarrow==26.0.1")
_PROBE = ("import evidently, nannyml, pandas, pyarrow; "
          "print(evidently.__version__, nannyml.__version__, pandas.__version__, pyarrow.__version__)")
_WANT = " ".join(req.split("==")[1] for req in PEER_REQUIREMENTS)


def ensure_peers_venv() -> Path:
    """bench/.venv-peers with the pinned Evidently and NannyML (made once, reused)."""
    return ensure_venv(PEERS_VENV, PEER_REQUIREMENTS, probe=_PROBE, want=_WANT,
                       about="about five minutes")


def peer_versions() -> dict[str, str]:
    names = ("evidently", "nannyml", "pandas", "pyarrow")
    return dict(zip(names, _WANT.split(), strict=True))


def run_peer(script: str, *args: str) -> dict[str, Any]:
    """Run bench/peers/`script` in the peers' venv with `args` and `--out FILE`; its JSON."""
    venv = ensure_peers_venv()
    with tempfile.TemporaryDirectory(prefix="wk-peer-") as tmp:
        out = Path(tmp) / "out.json"
        done = subprocess.run([str(venv / "bin" / "python"), str(PEERS_SCRIPTS / script), *args,
                               "--out", str(out)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"bench/peers/{script} failed (exit {done.returncode}):\n"
                               f"{done.stderr[-4000:]}")
        result: dict[str, Any] = json.loads(out.read_text())
    return result
