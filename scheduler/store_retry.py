"""Writes the daemon must not lose to a busy store: a run's start and end, the ledger rows
of its slots. Each try waits the store's busy timeout for the write lock; a store still
locked (or briefly unreachable) is tried again, with the failure logged."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from store.errors import StoreUnavailable
from store.markers import self_recording

if TYPE_CHECKING:
    from sqlmodel import Session

    from store.handle import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

TRIES = 3
#: `forever=True` writes (a run's end) keep trying this long before giving up; the next
#: daemon start then finds the run abandoned
FOREVER_S = 600.0
PAUSE_S = 1.0


@self_recording("a retried write on behalf of a run record (the caller's records)")
def write_retrying(store: Store, work: Callable[[Session], T], what: str, *,
                   forever: bool = False, on_trouble: Callable[[str], None] | None = None) -> T:
    """`work` in a write transaction, tried again while the store is unavailable;
    `on_trouble` hears each failure (the daemon shows the last one in its status)."""
    began, tries = time.monotonic(), 0
    while True:
        tries += 1
        try:
            with store.db.write() as session:
                return work(session)
        except StoreUnavailable as exc:
            spent = time.monotonic() - began
            if (not forever and tries >= TRIES) or (forever and spent > FOREVER_S):
                raise
            log.warning("could not %s (try %d, %.0f s): %s; trying again", what, tries, spent,
                        exc.message)
            if on_trouble is not None:
                on_trouble(exc.message)
            time.sleep(PAUSE_S)
