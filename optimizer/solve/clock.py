"""The time limit of one plan() call, and how the exact methods keep to it.

The integer programs hand the time left to the solver, which stops and reports its gap.
The exact methods (dynamic programs, label searches, cost curves, frontiers) have no
partial answer to report, so they check the clock between steps and give up with
`OutOfTime`: their engine then declines, and the integer program of the same request
plans in the time left (`feasible` with its gap when that too runs out). So that the
integer program has time left, an exact method gets a share of it (`Clock.share`).
"""

from __future__ import annotations

import time

EXACT_SHARE = 0.5      # of the time left, for an exact method before the integer program


class OutOfTime(Exception):
    """An exact method ran past its share of the time limit (its engine declines)."""


class Clock:
    """A deadline (or none) shared by every solve of one plan() call."""

    def __init__(self, limit: float | None, *, deadline: float | None = None, cancel=None):
        self.deadline = deadline if limit is None else time.perf_counter() + limit
        self.cancel = cancel        # a threading.Event: once it is set, the time is up

    def expired(self) -> bool:
        return self.cancel is not None and self.cancel.is_set() or \
            self.deadline is not None and time.perf_counter() >= self.deadline

    def remaining(self) -> float | None:
        if self.cancel is not None and self.cancel.is_set():
            return 0.01
        return None if self.deadline is None else max(self.deadline - time.perf_counter(), 0.01)

    def check(self) -> None:
        """Raise OutOfTime once the deadline has passed or the clock was cancelled (called
        between an exact method's steps, each well under a second)."""
        if self.expired():
            raise OutOfTime

    def share(self, fraction: float = EXACT_SHARE) -> Clock:
        """A clock that runs out after `fraction` of the time left (no limit: none)."""
        if self.deadline is None:
            return self
        now = time.perf_counter()
        return Clock(None, deadline=now + max(self.deadline - now, 0.0) * fraction,
                     cancel=self.cancel)

    def part(self, jobs: int) -> Clock:
        """A clock for the first of `jobs` solves run one after another: an even part of
        the time left (what it leaves over goes to the next). No limit: none."""
        if self.deadline is None or jobs <= 1:
            return self
        now = time.perf_counter()
        return Clock(None, deadline=now + max(self.deadline - now, 0.0) / jobs,
                     cancel=self.cancel)

    def at_most(self, seconds: float) -> Clock:
        """A clock that runs out after `seconds`, or with this one if that is sooner."""
        mine = time.perf_counter() + seconds
        return Clock(None, deadline=mine if self.deadline is None else
                     min(mine, self.deadline), cancel=self.cancel)


UNLIMITED = Clock(None)    # the default of the exact methods called without a limit
