"""Long work seen from the terminal: a spinner on stderr once it takes longer than a second
(the command line turns it on only when stderr is a terminal and --quiet is not given), and
the work run in a worker thread so that Ctrl-C reaches the waiting thread at once. While an
integer program runs, the spinner's line shows its incumbent, bound and gap."""

from __future__ import annotations

import contextlib
import threading


@contextlib.contextmanager
def spinner(message: str, *, enabled: bool, delay: float = 1.0):
    """Show `message` with a spinner once the block has run `delay` seconds; the block gets
    a function that replaces the message (a no-op when not enabled)."""
    if not enabled:
        yield lambda text: None
        return
    from rich.console import Console

    status = Console(stderr=True).status(message)
    lock = threading.Lock()
    state = {"done": False}

    def start():
        with lock:
            if not state["done"]:
                status.start()

    def update(text: str) -> None:
        with lock:
            if not state["done"]:
                status.update(text)

    timer = threading.Timer(delay, start)
    timer.daemon = True
    timer.start()
    try:
        yield update
    finally:
        with lock:
            state["done"] = True
            timer.cancel()
            status.stop()


def describe(message: str, p) -> str:
    """The spinner's line for a solver's `Progress`: what runs, and how far from proven."""
    what = "joint integer program" if p.label == "all" else f"integer program for {p.label}"
    if p.best is None:
        found = "no plan found yet"
        if p.bound is not None:
            found += f", bound {p.bound:,.2f}"
    else:
        found = f"best {p.best:,.2f}"
        if p.bound is not None:
            found += f", bound {max(p.bound, 0):,.2f}"
        if p.gap_rel is not None:
            found += f", gap {max(p.gap_rel, 0) * 100:.2f} %"
    return f"{message} {what} ({p.solver}, {p.seconds:.0f} s): {found}"


def run_in_worker(work, message: str, *, enabled: bool, delay: float = 1.0):
    """`work()` in a daemon thread, with the spinner; its result, or its exception re-raised.

    The calling thread only waits, so a KeyboardInterrupt is raised in it at once even while
    a solver runs in C; the caller decides how to end (the daemon thread does not hold the
    process open). With the spinner on, integer programs report their gap to it.
    """
    done: dict = {}

    with spinner(message, enabled=enabled, delay=delay) as update:
        def run():
            try:
                if enabled:
                    from ..solve.solvers import reporting
                    with reporting(lambda p: update(describe(message, p))):
                        done["value"] = work()
                else:
                    done["value"] = work()
            except BaseException as e:        # handed to the waiting thread
                done["error"] = e

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.05)
    if "error" in done:
        raise done["error"]
    return done["value"]
