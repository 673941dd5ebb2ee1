"""How many threads are computing now, so that a solve running alone can put the idle
core to work (solvers.py's twin).

HiGHS solves one model on one thread, and a product's solve can run alone for minutes
(the joint model under a cap shared by products, the tie-break re-solves after it) while
the second core of the machine waits. Threads that compute (a solve, a job of the
planner's worker threads) say so with `working()`; a thread counts once however deeply
it nests. Light on purpose: the planner imports it where no solver is loaded.
"""

from __future__ import annotations

import contextlib
import os
import threading

_lock = threading.Lock()
_busy = 0                       # threads inside `working()`
_local = threading.local()      # .depth: this thread's nesting


@contextlib.contextmanager
def working():
    """The block computes on this thread's core."""
    global _busy
    depth = getattr(_local, "depth", 0)
    if not depth:
        with _lock:
            _busy += 1
    _local.depth = depth + 1
    try:
        yield
    finally:
        _local.depth = depth
        if not depth:
            with _lock:
                _busy -= 1


def busy() -> int:
    """Threads computing now."""
    return _busy


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:          # (not on every platform)
        return os.cpu_count() or 1


def spare() -> bool:
    """Whether a core is idle beside the threads computing now."""
    return busy() < cores()
