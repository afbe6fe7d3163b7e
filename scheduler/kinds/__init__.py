"""The job kinds, one module each, by their name in `Job.kind`.

Each module defines `KIND` (a `JobKindSpec`); this index imports them all, which is
cheap: a kind's heavy imports happen inside its run function, in the run's child.
"""

from __future__ import annotations

from scheduler.kinds import command
from scheduler.kinds.base import JobKindSpec
from store.errors import InvalidInput

#: every kind, by name (the modules of the kinds still to come add themselves here)
KINDS: dict[str, JobKindSpec] = {module.KIND.kind: module.KIND for module in (command,)}


def kind_spec(kind: str) -> JobKindSpec:
    try:
        return KINDS[kind]
    except KeyError:
        raise InvalidInput(f"no job kind {kind!r}; the kinds: {', '.join(sorted(KINDS))}",
                           field="kind", example="drift") from None
