"""Long work seen from the terminal: a spinner on stderr once it takes longer than a second
(the command line turns it on only when stderr is a terminal and --quiet is not given), and
the work run in a worker thread so that Ctrl-C reaches the waiting thread at once."""

from __future__ import annotations

import contextlib
import threading


@contextlib.contextmanager
def spinner(message: str, *, enabled: bool, delay: float = 1.0):
    """Show `message` with a spinner once the block has run `delay` seconds."""
    if not enabled:
        yield
        return
    from rich.console import Console

    status = Console(stderr=True).status(message)
    lock = threading.Lock()
    state = {"done": False}

    def start():
        with lock:
            if not state["done"]:
                status.start()

    timer = threading.Timer(delay, start)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["done"] = True
            timer.cancel()
            status.stop()


def run_in_worker(work, message: str, *, enabled: bool, delay: float = 1.0):
    """`work()` in a daemon thread, with the spinner; its result, or its exception re-raised.

    The calling thread only waits, so a KeyboardInterrupt is raised in it at once even while
    a solver runs in C; the caller decides how to end (the daemon thread does not hold the
    process open).
    """
    done: dict = {}

    def run():
        try:
            done["value"] = work()
        except BaseException as e:        # handed to the waiting thread
            done["error"] = e

    worker = threading.Thread(target=run, daemon=True)
    with spinner(message, enabled=enabled, delay=delay):
        worker.start()
        while worker.is_alive():
            worker.join(0.05)
    if "error" in done:
        raise done["error"]
    return done["value"]
