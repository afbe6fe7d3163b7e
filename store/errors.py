"""Errors every layer raises, each carrying the process exit code it maps to.

The exit codes are the ones DESIGN.md fixes for the CLI: 0 ok, 1 failed or not found,
2 usage, 3 store unavailable or locked, 5 refused (read-only or permission).
Messages name the thing, the problem and the fix.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    STORE_UNAVAILABLE = 3
    REFUSED = 5


class WatchkeeperError(Exception):
    """Base class: a problem the user can act on, with a message that says how."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(WatchkeeperError):
    exit_code = ExitCode.FAILED


class Failed(WatchkeeperError):
    exit_code = ExitCode.FAILED


class InvalidInput(WatchkeeperError):
    """Bad input in a file or argument (a spec, a data file, a value)."""

    exit_code = ExitCode.FAILED


class UsageError(WatchkeeperError):
    exit_code = ExitCode.USAGE


class StoreUnavailable(WatchkeeperError):
    exit_code = ExitCode.STORE_UNAVAILABLE


class Refused(WatchkeeperError):
    exit_code = ExitCode.REFUSED


class IntegrityError(WatchkeeperError):
    """An artifact whose content does not match the hash the registry recorded."""

    exit_code = ExitCode.FAILED
