"""How the CLI answers a domain error: its exit code, and the fix worded as a flag or a
command to run (the domain error itself names neither)."""

from __future__ import annotations

from enum import IntEnum

from store.errors import Kind, Listing, See, WatchkeeperError


class ExitCode(IntEnum):
    """DESIGN.md: 0 ok, 1 failed or not found, 2 usage, 3 store unavailable or locked,
    5 refused (read-only or permission). A monitoring check (wk drift, quality, perf)
    exits 0 when nothing was found, 1 when something drifted or failed, 4 when it could
    not judge (insufficient data, inputs not logged)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    STORE_UNAVAILABLE = 3
    UNDECIDED = 4
    REFUSED = 5


EXIT_OF_KIND = {
    Kind.NOT_FOUND: ExitCode.FAILED,
    Kind.INVALID: ExitCode.FAILED,
    Kind.CONFLICT: ExitCode.FAILED,
    Kind.REFUSED: ExitCode.REFUSED,
    Kind.UNAVAILABLE: ExitCode.STORE_UNAVAILABLE,
}

#: a field whose flag is not simply --field-with-dashes
FLAG_OF_FIELD = {"log_mode": "--log", "timeout_s": "--timeout", "deadline_s": "--deadline",
                 "backoff_s": "--backoff", "misfire_grace_s": "--misfire-grace",
                 # wk alerts: a rule's damping, bounds and channels, a silence's matchers and end
                 "for_n": "--for", "of_m": "--of", "clear_n": "--clear", "repeat_s": "--repeat",
                 "params": "--set", "channels": "--channel", "matchers": "--match",
                 "ends": "--for"}

#: fields that are switches: the fix is to repeat the command with the flag, no value
SWITCHES = frozenset({"trust", "yes"})

#: listing -> (command, how its one argument is given: a positional placeholder shown
#: when the error names none, or a flag left out when it does not)
COMMAND_OF_LISTING: dict[Listing, tuple[str, str | None]] = {
    Listing.MODELS: ("wk models list", None),
    Listing.MODEL: ("wk models show", "MODEL"),
    Listing.VERSIONS: ("wk models versions", "MODEL"),
    Listing.RUNS: ("wk models runs", "MODEL"),
    Listing.DATASETS: ("wk data list", None),
    Listing.PREDICTIONS: ("wk predictions list", "--request-id"),
    Listing.BATCH_RUNS: ("wk batch list", None),
    Listing.QUARANTINE: ("wk quarantine list", "--model"),
    Listing.DEPLOYMENT: ("wk deploy show", "MODEL"),
    Listing.REPORTS: ("wk monitor reports", "MODEL"),
    Listing.INIT: ("wk init", "--store"),
    Listing.APPROVALS: ("wk models approvals", "MODEL"),
    Listing.JOBS: ("wk jobs list", None),
    Listing.USERS: ("wk users list", None),
    Listing.TOKENS: ("wk tokens list", None),
}


def exit_code(exc: WatchkeeperError) -> ExitCode:
    return ExitCode.USAGE if exc.usage else EXIT_OF_KIND[exc.kind]


def flag(field: str) -> str:
    return FLAG_OF_FIELD.get(field, "--" + field.replace("_", "-"))


def command(where: See) -> str:
    base, argument = COMMAND_OF_LISTING[where.listing]
    if argument is None:
        return base
    if argument.startswith("--"):
        return f"{base} {argument} {where.args[0]}" if where.args else base
    return f"{base} {where.args[0] if where.args else argument}"


def text(exc: WatchkeeperError) -> str:
    """The message with the fix in CLI terms: the flag that gives the missing or wrong
    input, and the command that lists the values to choose from."""
    parts = [exc.message]
    if exc.field in SWITCHES:
        parts.append(f"repeat with {flag(exc.field)}")
    elif exc.field is not None:
        value = exc.example or "..."
        parts.append(f"{'add' if exc.usage else 'give'} {flag(exc.field)} {value}")
    if exc.see is not None:
        parts.append(f"see '{command(exc.see)}'")
    return "; ".join(parts)
