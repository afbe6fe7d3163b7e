"""How the CLI answers a domain error: its exit code, and the fix worded as a flag or a
command to run (the domain error itself names neither)."""

from __future__ import annotations

from enum import IntEnum

from store.errors import Kind, Listing, See, WatchkeeperError


class ExitCode(IntEnum):
    """DESIGN.md: 0 ok, 1 failed or not found, 2 usage, 3 store unavailable or locked,
    5 refused (read-only or permission)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    STORE_UNAVAILABLE = 3
    REFUSED = 5


EXIT_OF_KIND = {
    Kind.NOT_FOUND: ExitCode.FAILED,
    Kind.INVALID: ExitCode.FAILED,
    Kind.CONFLICT: ExitCode.FAILED,
    Kind.REFUSED: ExitCode.REFUSED,
    Kind.UNAVAILABLE: ExitCode.STORE_UNAVAILABLE,
}

#: a field whose flag is not simply --field-with-dashes
FLAG_OF_FIELD = {
    "run_id": "--run-id",
    "version": "--version",
    "store": "--store",
    "log_mode": "--log",
}

#: fields that are switches: the fix is to repeat the command with the flag, no value
SWITCHES = frozenset({"trust", "yes"})

COMMAND_OF_LISTING = {
    Listing.MODELS: "wk models list",
    Listing.MODEL: "wk models show {0}",
    Listing.VERSIONS: "wk models versions {0}",
    Listing.RUNS: "wk models runs {0}",
    Listing.DATASETS: "wk data list",
    Listing.PREDICTIONS: "wk predictions list",
    Listing.BATCH_RUNS: "wk batch list",
    Listing.QUARANTINE: "wk quarantine list --model {0}",
    Listing.DEPLOYMENT: "wk deploy show {0}",
    Listing.INIT: "wk init",
}


def exit_code(exc: WatchkeeperError) -> ExitCode:
    return ExitCode.USAGE if exc.usage else EXIT_OF_KIND[exc.kind]


def flag(field: str) -> str:
    return FLAG_OF_FIELD.get(field, "--" + field.replace("_", "-"))


def command(where: See) -> str:
    template = COMMAND_OF_LISTING[where.listing]
    if where.listing is Listing.PREDICTIONS and where.args:
        return f"wk predictions list --request-id {where.args[0]}"
    if where.listing is Listing.INIT and where.args:
        return f"wk init --store {where.args[0]}"
    if "{0}" in template and not where.args:
        template = template.replace(" {0}", " MODEL").replace("--model MODEL", "")
    return template.format(*where.args).strip()


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
