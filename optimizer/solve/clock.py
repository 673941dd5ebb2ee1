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

    def __init__(self, limit: float | None, *, deadline: float | None = None):
        self.deadline = deadline if limit is None else time.perf_counter() + limit

    def expired(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(self.deadline - time.perf_counter(), 0.01)

    def check(self) -> None:
        """Raise OutOfTime once the deadline has passed (called between an exact method's
        steps, each well under a second)."""
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            raise OutOfTime

    def share(self, fraction: float = EXACT_SHARE) -> Clock:
        """A clock that runs out after `fraction` of the time left (no limit: none)."""
        if self.deadline is None:
            return self
        now = time.perf_counter()
        return Clock(None, deadline=now + max(self.deadline - now, 0.0) * fraction)

    def part(self, jobs: int) -> Clock:
        """A clock for the first of `jobs` solves run one after another: an even part of
        the time left (what it leaves over goes to the next). No limit: none."""
        if self.deadline is None or jobs <= 1:
            return self
        now = time.perf_counter()
        return Clock(None, deadline=now + max(self.deadline - now, 0.0) / jobs)

    def at_most(self, seconds: float) -> Clock:
        """A clock that runs out after `seconds`, or with this one if that is sooner."""
        mine = time.perf_counter() + seconds
        return Clock(None, deadline=mine if self.deadline is None else
                     min(mine, self.deadline))


UNLIMITED = Clock(None)    # the default of the exact methods called without a limit
