"""The memory a version takes once loaded, measured around its load in the server, and
written to the store (ServedModelMemory) on a thread of its own: off the request path,
and a write that fails (a locked or unreachable store) is logged, never raised.

The figure is the larger of two, each blind where the other sees:
- glibc's malloc counters (mallinfo2, where the C library has it) before and after the
  load: numpy's buffers and what C extensions allocate (scikit-learn's tree nodes: a
  100-tree forest 12.9 MB, measured), not Python's small objects (pymalloc's own arenas);
- the size of the objects reachable from the estimator (sys.getsizeof over
  gc.get_referents), walked on the recording thread after the load: Python's objects.
Rejected: the resident set (did not move at all when a model loaded into a process that
had freed memory before, measured) and tracemalloc (sees Python and numpy but not C
allocations: 0.3 of the forest's 13 MB; and it made the forest's load 5x slower, 241 ms
to 1,285 ms, which a server pays at start and on every reload). Another thread's
allocations during the load count too (a load takes well under a second)."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import sys
import threading
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from store.handle import Store

log = logging.getLogger(__name__)
T = TypeVar("T")
#: shared by every model (classes, modules, functions): not the model's memory
_SHARED = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
           types.MethodType)


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
    """`load()` and the bytes malloc had more in use after it (0 without glibc). Garbage
    is collected first and the collector rests during the load: unrelated garbage freed
    half way would be taken off the load's figure (a forest's came out below its tree
    nodes in a test run after others, measured)."""
    if _malloc_in_use is None:
        return load(), 0
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        before = _malloc_in_use()
        result = load()
        after = _malloc_in_use()
    finally:
        if enabled:
            gc.enable()
    return result, max(0, after - before)


def object_bytes(root: Any) -> int:
    """sys.getsizeof summed over every object reachable from `root`, each once."""
    seen: set[int] = set()
    stack = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _SHARED):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


def record_in_background(store: Store, version_id: int, estimator: Any,
                         malloc_bytes: int) -> threading.Thread:
    """Size the estimator's objects and write the figure on a daemon thread; a failure
    is logged and dropped."""
    def write() -> None:
        nbytes = malloc_bytes
        try:
            nbytes = max(malloc_bytes, object_bytes(estimator))
            from store.usage import record_served_memory

            record_served_memory(store, version_id, nbytes)
        except Exception as exc:  # noqa: BLE001  (serving goes on without the figure)
            log.warning("could not record the memory of version id %s (%d bytes): %s",
                        version_id, nbytes, getattr(exc, "message", None) or exc)

    thread = threading.Thread(target=write, name="served-memory", daemon=True)
    thread.start()
    return thread
