"""Solver adapter: runs a PuLP model on HiGHS or CBC and reports plain data.

Statuses are our own enum, mapped explicitly from each backend; "optimal" is only
claimed when the backend proved it under a gap tolerance below one money unit.
"""

from __future__ import annotations

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
    last solution is still feasible, such as the least-prepaid tie-break).
    """
    if solver == "highs":
        return _solve_highs(prob, time_limit, warm)
    if solver == "cbc":
        return _solve_cbc(prob, time_limit)
    raise ValueError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")


def _highs_stopped(S) -> set:
    """HiGHS statuses meaning "stopped early", whatever this highspy version names."""
    names = ("kTimeLimit", "kInterrupt", "kIterationLimit", "kSolutionLimit")
    return {getattr(S, n) for n in names if hasattr(S, n)}


@cache
def _warm_highs():
    """PuLP's in-process HiGHS, handed the variables' current values as a first solution
    (a class made on first use: PuLP is imported only where a model is solved)."""
    import pulp

    class _WarmHiGHS(pulp.HiGHS):
        def callSolver(self, lp):
            import highspy
            values = [v.varValue if v.varValue is not None else 0.0 for v in lp.variables()]
            sol = highspy.HighsSolution()
            sol.col_value = values
            sol.value_valid = True
            lp.solverModel.setSolution(sol)
            super().callSolver(lp)
    return _WarmHiGHS


def _solve_highs(prob, time_limit, warm=False):
    import highspy
    import pulp
    _silence_highs_banner()
    cls = _warm_highs() if warm else pulp.HiGHS
    backend = cls(msg=False, gapRel=0.0, gapAbs=ABS_GAP, threads=1,
                  timeLimit=None if time_limit is None else max(time_limit, 0.01))
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
