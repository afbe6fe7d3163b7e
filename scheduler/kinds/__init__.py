"""The job kinds, one module each, by their name in `Job.kind`.

Each module defines `KIND` (a `JobKindSpec`, or `KINDS` for a family); this index imports them all, which is
cheap: a kind's heavy imports happen inside its run function, in the run's child.
"""

from __future__ import annotations

from scheduler.kinds import (
    alerts,
    backup,
    checks,
    command,
    expiry,
    on_commit,
    probe,
    prune,
    retrain,
    score,
)
from scheduler.kinds.base import JobKindSpec
from store.errors import InvalidInput

#: every kind, by name
KINDS: dict[str, JobKindSpec] = {spec.kind: spec for spec in (
    command.KIND, *checks.KINDS, probe.KIND, score.KIND, retrain.KIND, expiry.KIND, on_commit.KIND,
    prune.KIND, backup.KIND, alerts.KIND)}


def kind_spec(kind: str) -> JobKindSpec:
    try:
        return KINDS[kind]
    except KeyError:
        raise InvalidInput(f"no job kind {kind!r}; the kinds: {', '.join(sorted(KINDS))}",
                           field="kind", example="drift") from None
