"""Marks the audit-completeness test reads (tests/test_audit_completeness.py), in a module
that imports nothing heavy: job kinds and servers use them at import time, and `wk --help`
must not load sqlmodel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def self_recording(why: str) -> Callable[[F], F]:
    """Marks a function whose writes are records of their own (a report, a job run, an alert
    event, a logged prediction), with who and when on the row, so it writes no audit event.
    tests/test_audit_completeness.py fails on a writing function that neither audits nor
    says why here."""
    def mark(fn: F) -> F:
        fn.__wk_self_recording__ = why  # type: ignore[attr-defined]
        return fn
    return mark


def no_permission_check(why: str) -> Callable[[F], F]:
    """Marks a function the system runs on its own (the scheduler daemon carrying out a
    policy someone set), audited but not asked of a user's role; tests read the reason."""
    def mark(fn: F) -> F:
        fn.__wk_no_permission_check__ = why  # type: ignore[attr-defined]
        return fn
    return mark
