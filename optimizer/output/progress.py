"""Long work seen from the terminal: a spinner on stderr once it takes longer than a second
(the command line turns it on only when stderr is a terminal and --quiet is not given), and
the work run in a worker thread so that Ctrl-C reaches the waiting thread at once. While an
integer program runs, the spinner's line shows its incumbent, bound and gap."""

from __future__ import annotations

import contextlib
import os
import threading


@contextlib.contextmanager
def spinner(message: str, *, enabled: bool, delay: float = 1.0, color: bool = True):
    """Show `message` with a spinner once the block has run `delay` seconds; the block gets
    a function that replaces the message (a no-op when not enabled). `color`: False for
    --no-color (Rich itself honours NO_COLOR)."""
    if not enabled:
        yield lambda text: None
        return
    from rich.console import Console

    status = Console(stderr=True, no_color=not color).status(message)
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


def describe(message: str, p, width: int | None = None) -> str:
    """The spinner's line for a solver's `Progress`: what runs, and how far from proven;
    within `width` columns (the spinner's glyph and a space aside) when given, by saying
    less: a line wider than the terminal wraps, and the spinner redraws it as two."""
    what = "joint integer program" if p.label == "all" else f"integer program for {p.label}"
    name = "all products" if p.label == "all" else p.label
    best = None if p.best is None else f"best {p.best:,.2f}"
    bound = None if p.bound is None else f"bound {max(p.bound, 0):,.2f}"
    gap = None if p.best is None or p.gap_rel is None else \
        f"gap {max(p.gap_rel, 0) * 100:.2f} %"
    found = ", ".join(x for x in (best or "no plan found yet", bound, gap) if x)
    forms = [f"{message} {what} ({p.solver}, {p.seconds:.0f} s): {found}",
             f"{message} {name} ({p.seconds:.0f} s): {found}",
             f"{name}: " + ", ".join(x for x in (best or "no plan yet", gap) if x),
             f"{name}: {gap or best or 'no plan yet'}"]
    if width is None:
        return forms[0]
    room = max(width - 2, 10)
    return next((f for f in forms if len(f) <= room), forms[-1][:room])


def _columns() -> int:
    """The width Rich draws the spinner in: COLUMNS when set, else stderr's terminal, else
    80; asked each time, since a window can be resized during a solve."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return os.get_terminal_size(2).columns or 80
    except OSError:
        return 80


def run_in_worker(work, message: str, *, enabled: bool, delay: float = 1.0,
                  color: bool = True):
    """`work()` in a daemon thread, with the spinner; its result, or its exception re-raised.

    The calling thread only waits, so a KeyboardInterrupt is raised in it at once even while
    a solver runs in C; the caller decides how to end (the daemon thread does not hold the
    process open). With the spinner on, integer programs report their gap to it.
    """
    done: dict = {}

    with spinner(message, enabled=enabled, delay=delay, color=color) as update:
        def run():
            try:
                if enabled:
                    from ..solve.solvers import reporting
                    with reporting(lambda p: update(describe(message, p, _columns()))):
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
