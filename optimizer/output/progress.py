"""A spinner on stderr for work that takes longer than a second. The command line turns it
on only when stderr is a terminal and --quiet is not given: pipes and logs never see it."""

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
