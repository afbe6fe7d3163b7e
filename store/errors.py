"""Domain errors: what went wrong, of which kind, about which thing and input.

Every layer raises these. They say the thing and the problem in words that hold for
any surface, and carry the rest as data:

- `kind`: not found, invalid, refused, conflict, unavailable. Each surface maps the kind
  to its own answer (the CLI to an exit code, HTTP to a status, the console to a notice).
- `field`: the input concerned, by its neutral name (``reason``, ``challenger``,
  ``run_id``). The CLI words it as a flag (``--reason``), HTTP as a JSON field, the
  console as the box or key that sets it.
- `see`: where the right value can be looked up (`Listing`), which each surface words
  as its own command, endpoint or view.

No message here names a `wk` command or a command-line flag: that is the surface's job
(console/cli/errors.py, serving/http/errors.py, console/errors.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    REFUSED = "refused"
    CONFLICT = "conflict"
    UNAVAILABLE = "unavailable"


class Listing(StrEnum):
    """A place where the user finds the values they may give, or what happened."""

    MODELS = "models"  # every model
    MODEL = "model"  # one model: its versions, aliases and runs (args: model)
    VERSIONS = "versions"  # the versions of one model (args: model)
    RUNS = "runs"  # the training runs of one model (args: model)
    DATASETS = "datasets"
    PREDICTIONS = "predictions"  # the prediction log (args: optional request id)
    BATCH_RUNS = "batch_runs"
    QUARANTINE = "quarantine"  # refused rows (args: model)
    DEPLOYMENT = "deployment"  # how a model is served (args: model)
    REPORTS = "reports"  # the stored monitoring reports of a model (args: optional model)
    INIT = "init"  # no store yet: create one (args: optional store folder)
    APPROVALS = "approvals"  # versions waiting for approval (args: optional model)
    JOBS = "jobs"  # the scheduler's jobs
    USERS = "users"  # the store's users and their roles
    TOKENS = "tokens"  # the HTTP API's tokens


@dataclass(frozen=True)
class See:
    listing: Listing
    args: tuple[str, ...] = ()


def see(listing: Listing, *args: str | None) -> See:
    return See(listing, tuple(a for a in args if a is not None))


class WatchkeeperError(Exception):
    """A problem the user can act on. `message` names the thing and the problem and, where
    it can be said without naming a surface, the fix."""

    kind: Kind = Kind.INVALID
    #: about how the action was asked for (a missing or contradictory argument), not
    #: about the data it was given: the CLI answers these with its usage exit code
    usage: bool = False

    def __init__(self, message: str, *, field: str | None = None, see: See | None = None,
                 example: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.see = see
        #: a value that would do for `field` ("0.1", "\"...\""), for the surface's wording
        self.example = example


class NotFound(WatchkeeperError):
    kind = Kind.NOT_FOUND


class InvalidInput(WatchkeeperError):
    """Bad input in a file, a body or an argument (a spec, a data file, a value)."""

    kind = Kind.INVALID


class UsageError(InvalidInput):
    """An action asked for the wrong way: a needed input missing, or two that exclude
    each other."""

    usage = True


class Failed(WatchkeeperError):
    """A run that could not finish with what it was given (a training function that
    raised, evaluation data that cannot be scored)."""

    kind = Kind.INVALID


class Conflict(WatchkeeperError):
    """The stored state is not what the action expects (a request id answered before,
    data that changed since it was recorded)."""

    kind = Kind.CONFLICT


class IntegrityError(Conflict):
    """An artifact whose content does not match the hash the registry recorded."""


class Refused(WatchkeeperError):
    """Not allowed: a policy, a read-only store, an untrusted file."""

    kind = Kind.REFUSED


class PermissionDenied(Refused):
    """The acting user or token lacks the role an action needs (it was audited)."""

    def __init__(self, message: str, *, permission: str, needs: tuple[str, ...],
                 role: str | None, see: See | None = None) -> None:
        super().__init__(message, see=see)
        self.permission = permission
        self.needs = needs
        self.role = role


class StoreUnavailable(WatchkeeperError):
    """The store cannot be reached, opened or written now."""

    kind = Kind.UNAVAILABLE
