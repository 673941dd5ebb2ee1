"""Solver adapter: runs a PuLP model on HiGHS or CBC and reports plain data.

Statuses are our own enum, mapped explicitly from each backend; "optimal" is only
claimed when the backend proved it under a gap tolerance below one money unit.
"""

from __future__ import annotations

import contextlib
import enum
import math
import os
import re
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from functools import cache

SOLVERS = ("highs", "cbc")

# Objectives are integer in money units at every integer solution, so an absolute
# gap below one unit proves optimality to the unit; 0.5 leaves room for float noise.
ABS_GAP = 0.5


class Status(enum.Enum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"          # stopped (time limit) with a plan, gap not closed
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"    # stopped before any plan was found
    ERROR = "error"


@dataclass(frozen=True)
class SolveOutcome:
    status: Status
    objective: float | None
    bound: float | None
    seconds: float
    solver: str
    message: str = ""

    @property
    def has_solution(self) -> bool:
        return self.status in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True)
class Progress:
    """Where a running integer program stands (HiGHS reports it; for the terminal)."""

    label: str                     # the product, or "all" for a joint model
    solver: str
    seconds: float
    best: float | None             # incumbent, in currency (None: no plan found yet)
    bound: float | None            # proven lower bound, in currency
    gap_rel: float | None          # (best - bound) / best


_listener = None                   # callable(Progress), set by `reporting`
_subject = None                    # (label, units per currency unit), set by `reported_as`
_REPORT_EVERY = 0.25               # seconds between reports


@contextlib.contextmanager
def reporting(listener):
    """Within the block, integer programs solved inside `reported_as` report to `listener`
    (from the solving thread, at most every quarter second). Nothing is reported, and the
    solver runs without callbacks, outside such a block."""
    global _listener
    saved, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = saved


@contextlib.contextmanager
def reported_as(label: str, units: float):
    """Solves in the block report as `label`, their objective divided by `units` (money
    units per currency unit, times the scenario weights) to give currency."""
    global _subject
    saved, _subject = _subject, (label, units)
    try:
        yield
    finally:
        _subject = saved


_banner_silenced = False


def _silence_highs_banner() -> None:
    """HiGHS prints a copyright banner on stdout once per process, whatever its options;
    construct the first instance with stdout pointed at /dev/null so JSON output stays clean."""
    global _banner_silenced
    if _banner_silenced:
        return
    import highspy
    sys.stdout.flush()
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
    _banner_silenced = True


def solve(prob: pulp.LpProblem, solver: str = "highs", time_limit: float | None = None,
          warm: bool = False) -> SolveOutcome:
    """Solve `prob` to proven optimality (or until `time_limit` seconds).

    `warm`: start HiGHS from the variables' current values (a re-solve of a model whose
    last solution is still feasible, such as the least-prepaid tie-break). Inside
    `reported_as` and `reporting` blocks HiGHS reports its incumbent, bound and gap.
    """
    if solver == "highs":
        return _solve_highs(prob, time_limit, warm, _subject)
    if solver == "cbc":
        return _solve_cbc(prob, time_limit)
    raise ValueError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")


def _highs_stopped(S) -> set:
    """HiGHS statuses meaning "stopped early", whatever this highspy version names."""
    names = ("kTimeLimit", "kInterrupt", "kIterationLimit", "kSolutionLimit")
    return {getattr(S, n) for n in names if hasattr(S, n)}


@cache
def _highs_class():
    """PuLP's in-process HiGHS, optionally handed the variables' current values as a first
    solution (`warm`), and reporting its progress to the `reporting` listener (a class made
    on first use: PuLP is imported only where a model is solved)."""
    import pulp

    class _HiGHS(pulp.HiGHS):
        warm = False
        progress: tuple[str, float] | None = None

        def callSolver(self, lp):
            h = lp.solverModel
            if self.warm:
                import highspy
                values = [v.varValue if v.varValue is not None else 0.0
                          for v in lp.variables()]
                sol = highspy.HighsSolution()
                sol.col_value = values
                sol.value_valid = True
                h.setSolution(sol)
            listener = _listener
            if listener is None or self.progress is None or not lp.isMIP():
                super().callSolver(lp)
                return
            label, units = self.progress
            offset = lp.objective.constant if lp.objective is not None else 0   # not in HiGHS
            t0 = time.perf_counter()
            last = [0.0]

            def report(event):
                now = time.perf_counter()
                if now - last[0] < _REPORT_EVERY:
                    return
                last[0] = now
                out = event.data_out
                best, bound = out.mip_primal_bound, out.mip_dual_bound
                best = (best + offset) / units if abs(best) < 1e300 else None
                bound = (bound + offset) / units if abs(bound) < 1e300 else None
                gap = (best - bound) / abs(best) if best and bound is not None else None
                try:
                    listener(Progress(label, "highs", now - t0, best, bound, gap))
                except Exception:         # a display problem never stops the solve
                    pass
            h.cbMipInterrupt.subscribe(report)
            try:
                super().callSolver(lp)
            finally:
                h.cbMipInterrupt.unsubscribe(report)
    return _HiGHS


def _solve_highs(prob, time_limit, warm=False, progress=None):
    import highspy
    import pulp
    _silence_highs_banner()
    backend = _highs_class()(msg=False, gapRel=0.0, gapAbs=ABS_GAP, threads=1,
                             timeLimit=None if time_limit is None else max(time_limit, 0.01))
    backend.warm, backend.progress = warm, progress
    t0 = time.perf_counter()
    try:
        prob.solve(backend)
    except Exception as e:  # the backend's own failure: report, never crash
        return SolveOutcome(Status.ERROR, None, None, time.perf_counter() - t0, "highs", str(e))
    seconds = time.perf_counter() - t0
    h = prob.solverModel
    ms = h.getModelStatus()
    S = highspy.HighsModelStatus
    info = h.getInfo()
    obj = pulp.value(prob.objective) if prob.sol_status in (1, 2) else None
    bound = info.mip_dual_bound if prob.isMIP() else obj
    if bound is not None and not math.isfinite(bound):
        bound = None
    if ms == S.kOptimal:
        status = Status.OPTIMAL
    elif ms in (S.kInfeasible, S.kUnboundedOrInfeasible):
        status = Status.INFEASIBLE
    elif ms in _highs_stopped(S):
        has_plan = obj is not None and prob.sol_status == pulp.LpSolutionIntegerFeasible
        status = Status.FEASIBLE if has_plan else Status.NO_SOLUTION
    else:
        status = Status.ERROR
    if status is Status.FEASIBLE and bound is not None and obj is not None \
            and obj - bound <= ABS_GAP:
        status = Status.OPTIMAL       # stopped, but the gap was closed all the same
    return SolveOutcome(status, obj, bound, seconds, "highs", h.modelStatusToString(ms))


_CBC_RESULT = re.compile(r"^Result - (.*)$", re.M)
_CBC_OBJ = re.compile(r"^Objective value:\s*(\S+)", re.M)
_CBC_BOUND = re.compile(r"^Lower bound:\s*(\S+)", re.M)


def _solve_cbc(prob, time_limit):
    import pulp
    fd, log = tempfile.mkstemp(prefix="packopt-cbc-", suffix=".log")
    os.close(fd)
    with warnings.catch_warnings():
        # PuLP 3.3 flags its bundled CBC as deprecated for 4.0; we pin <3.4 and use it.
        warnings.simplefilter("ignore", DeprecationWarning)
        backend = pulp.PULP_CBC_CMD(msg=False, gapRel=0.0, gapAbs=ABS_GAP, threads=1,
                                    timeLimit=None if time_limit is None else max(time_limit, 0.1),
                                    logPath=log)
    t0 = time.perf_counter()
    try:
        prob.solve(backend)
        text = open(log, encoding="utf-8", errors="replace").read()
    except Exception as e:
        return SolveOutcome(Status.ERROR, None, None, time.perf_counter() - t0, "cbc", str(e))
    finally:
        try:
            os.remove(log)
        except OSError:
            pass
    seconds = time.perf_counter() - t0
    result = (_CBC_RESULT.search(text).group(1).strip() if _CBC_RESULT.search(text) else "")
    # CBC reports status "Optimal" even when stopped on time: read its own result line.
    obj = pulp.value(prob.objective) if prob.sol_status in (1, 2) else None
    bound = None
    m = _CBC_BOUND.search(text)
    if m:
        try:
            bound = float(m.group(1))
        except ValueError:
            bound = None
    if result.startswith("Optimal"):
        status, bound = Status.OPTIMAL, obj
    elif "infeasible" in result.lower():
        status = Status.INFEASIBLE
    elif result.startswith("Stopped"):
        status = Status.FEASIBLE if obj is not None else Status.NO_SOLUTION
        if status is Status.FEASIBLE and bound is not None and obj - bound <= ABS_GAP:
            status = Status.OPTIMAL
    elif prob.status == pulp.LpStatusOptimal and prob.sol_status == pulp.LpSolutionOptimal \
            and not result:
        status, bound = Status.OPTIMAL, obj   # trivial model solved in presolve
    else:
        status = Status.ERROR
    return SolveOutcome(status, obj, bound, seconds, "cbc", result or "no result line")
