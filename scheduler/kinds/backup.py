"""`backup`: a consistent copy of the store (store/backup.py) into a timestamped folder
under `dest` (wk-backup-20261201T030000Z), keeping the newest `keep` of them. A copy is
written under a hidden name and renamed when complete, so a run killed half way leaves
nothing that looks like a backup (its leftover is removed by the next run)."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

from scheduler.kinds.base import JobKindSpec, KindOption, Outcome, RunContext, RunFailed
from store.errors import InvalidInput
from store.modes import secure_dir
from store.vocabulary import JobKind

PREFIX = "wk-backup-"
PARTIAL = ".partial-"
_NAME = re.compile(rf"^{PREFIX}\d{{8}}T\d{{6}}Z(-\d+)?$")
#: a partial copy older than this is a leftover of a killed run (never one in progress)
STALE_PARTIAL_S = 24 * 3600


def validate(args: dict[str, Any]) -> dict[str, Any]:
    if args["keep"] < 1:
        raise InvalidInput(f"the backup's keep must be 1 or more, not {args['keep']}",
                           field="keep", example="7")
    # absolute now: the daemon does not run in the folder the job was added from
    return {**args, "dest": str(Path(args["dest"]).expanduser().absolute())}


def backups_in(dest: Path) -> list[Path]:
    """The complete backups in `dest`, oldest first (their names sort by time)."""
    from store.backup import read_manifest

    if not dest.is_dir():
        return []
    return sorted(p for p in dest.iterdir()
                  if p.is_dir() and _NAME.fullmatch(p.name) and read_manifest(p) is not None)


def run(ctx: RunContext) -> Outcome:
    from store.backup import backup
    from store.types import utcnow

    dest = Path(ctx.args["dest"]).expanduser()
    secure_dir(dest, ctx.store.modes)
    name = PREFIX + utcnow().strftime("%Y%m%dT%H%M%SZ")
    final, n = dest / name, 1
    while final.exists():
        n += 1
        final = dest / f"{name}-{n}"
    partial = dest / (PARTIAL + final.name)
    try:
        result = backup(ctx.store, partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    partial.rename(final)
    result["dest"] = str(final)
    removed = _remove_old(dest, ctx.args["keep"])
    check = result.get("check", {})
    figures = {"dest": str(final), "seconds": result["seconds"],
               "database_bytes": result["database_bytes"], "artifacts": result["artifacts"],
               "check_ok": check.get("ok"), "removed": [p.name for p in removed]}
    if not check.get("ok", True):
        raise RunFailed(f"the backup {final} was written but fails its check: "
                        f"{'; '.join(check['problems'])}")
    ctx.log.info("backup written to %s in %.1f s; removed %d older", final, result["seconds"],
                 len(removed))
    return Outcome(summary=f"backup {final.name} ({result['database_bytes'] / 2**20:.1f} MB, "
                   f"{result['artifacts']['copied']} artifacts), {len(removed)} older removed",
                   result=figures)


def _remove_old(dest: Path, keep: int) -> list[Path]:
    complete = backups_in(dest)
    old = complete[:-keep] if len(complete) > keep else []
    for path in old:
        shutil.rmtree(path)
    for path in dest.glob(PARTIAL + PREFIX + "*"):
        if time.time() - path.stat().st_mtime > STALE_PARTIAL_S:
            shutil.rmtree(path, ignore_errors=True)
    return old


KIND = JobKindSpec(
    kind=JobKind.BACKUP,
    help="a consistent copy of the store (database and artifacts) while everything runs",
    run=f"{__name__}:run",
    validate=f"{__name__}:validate",
    options=(
        KindOption("dest", "the folder that holds the backups (each run writes a timestamped "
                   "folder in it)", required=True, example="/var/backups/watchkeeper"),
        KindOption("keep", "how many backups to keep (older ones are removed)", type=int,
                   default=7, example="7"),
    ),
)
