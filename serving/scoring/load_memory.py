"""The memory a version takes once loaded, measured around its load in the server, and
written to the store (ServedModelMemory) on a thread of its own: off the request path,
and a write that fails (a locked or unreachable store) is logged, never raised.

Measured as the larger of two net figures over the load, both blind to memory that is
freed and reused (the resident set is not: in a long-running server it often does not
move at all when a model loads, measured):
- tracemalloc: Python objects and numpy buffers still alive after the load;
- glibc's malloc counters (mallinfo2, where the C library has it), less tracemalloc's own
  tables: memory C extensions allocate with malloc, which tracemalloc does not see
  (scikit-learn's tree nodes: a 100-tree forest traced 0.3 MB, malloc 13.1 MB, measured).
Other threads' allocations during the load count too (the load takes well under a second
and happens when a version is first served); the first load in a process also counts the
modules it imports."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
import tracemalloc
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from store.handle import Store

log = logging.getLogger(__name__)
T = TypeVar("T")
_lock = threading.Lock()


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _malloc_counter() -> Callable[[], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        mallinfo2 = libc.mallinfo2
    except (OSError, AttributeError, TypeError):  # not glibc, or older than 2.33
        return None
    mallinfo2.restype = _MallInfo2

    def in_use() -> int:
        info = mallinfo2()
        return int(info.uordblks + info.hblkhd)

    return in_use


_malloc_in_use = _malloc_counter()


def measured_load(load: Callable[[], T]) -> tuple[T, int]:
    """`load()` and the bytes it left allocated (see the module doc)."""
    with _lock:
        tracing = tracemalloc.is_tracing()
        if not tracing:
            tracemalloc.start()
        try:
            own0, traced0 = tracemalloc.get_tracemalloc_memory(), tracemalloc.get_traced_memory()[0]
            malloc0 = _malloc_in_use() if _malloc_in_use else 0
            result = load()
            traced = tracemalloc.get_traced_memory()[0] - traced0
            own = tracemalloc.get_tracemalloc_memory() - own0
            malloc = (_malloc_in_use() - malloc0 - own) if _malloc_in_use else 0
        finally:
            if not tracing:
                tracemalloc.stop()
    return result, max(0, traced, malloc)


def record_in_background(store: Store, version_id: int, nbytes: int) -> threading.Thread:
    """Write the measurement on a daemon thread; a failure is logged and dropped."""
    def write() -> None:
        try:
            from store.usage import record_served_memory

            record_served_memory(store, version_id, nbytes)
        except Exception as exc:  # noqa: BLE001  (serving goes on without the figure)
            log.warning("could not record the memory of version id %s (%d bytes): %s",
                        version_id, nbytes, getattr(exc, "message", None) or exc)

    thread = threading.Thread(target=write, name="served-memory", daemon=True)
    thread.start()
    return thread
