"""Regenerate (or check) the shipped training CSVs.

python -m sample_models.generate          # rewrite the CSVs
python -m sample_models.generate --check  # exit 1 if a shipped file differs
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from sample_models import USE_CASES
from sample_models._common import to_csv_bytes

SEED = 42
START = datetime(2026, 1, 1, tzinfo=UTC)
# Rows per shipped file: credit ~25 days of applications; demand 8 weeks x 24 h x 4.
N_ROWS: MappingProxyType[str, int] = MappingProxyType({"credit": 6000, "demand": 5376})


def render(name: str) -> bytes:
    """The exact bytes of the shipped CSV for use case ``name``."""
    case = USE_CASES[name]
    frame = case.generate(N_ROWS[name], START, SEED)
    return to_csv_bytes(frame)


def is_current(name: str, path: Path | None = None) -> bool:
    """True if ``path`` (default: the shipped CSV of ``name``) holds exactly ``render(name)``."""
    path = USE_CASES[name].data if path is None else path
    return path.is_file() and path.read_bytes() == render(name)


def stale_files() -> list[Path]:
    """Shipped CSVs that are missing or differ from what the generator produces."""
    return [USE_CASES[name].data for name in N_ROWS if not is_current(name)]


def write_all() -> list[Path]:
    written = []
    for name in N_ROWS:
        path = USE_CASES[name].data
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render(name))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sample_models.generate", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--check", action="store_true", help="only compare; exit 1 if a shipped file differs"
    )
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(
                f"sample_models: {path} differs from the generator; "
                "run 'python -m sample_models.generate'",
                file=sys.stderr,
            )
        if not stale:
            print("sample_models: shipped data is up to date")
        return 1 if stale else 0
    for path in write_all():
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
