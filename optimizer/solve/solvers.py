"""Solver adapter: runs a PuLP model on HiGHS or CBC and reports plain data.

Statuses are our own enum, mapped explicitly from each backend; "optimal" is only
claimed when the backend proved it under a gap tolerance below one money unit. CBC runs
are watched for the bundled binary's stalls, and its optima cross-checked by HiGHS
(`_solve_cbc`).
"""

from __future__ import annotations

import atexit
import contextlib
import enum
import math
import os
import re
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass, replace
from functools import cache

from . import cores
from .engines import STRICT


# Objectives are integer in money units at every integer solution, so an absolute
# gap below one unit proves optimality to the unit; 0.5 leaves room for float noise.
ABS_GAP = 0.5

# HiGHS 1.16's presolve rule for parallel rows and columns can cut off the optimum: on a
# 20-scenario after-packs model it called a plan optimal at 3,162.06 CNY (expected) where
# one of 3,120.90 exists, in 6 of 16 seeds, and in none of 28 with that rule off
# (benchmarks/README.md, "Findings" 4). Off for the models of several scenarios, where it
# was seen (bit 13 of presolve_rule_off); one forecast's models keep it, since without it
# HiGHS took 2-4x as long on them.
SCENARIO_OPTIONS = {"presolve_rule_off": 1 << 13}
# HiGHS 1.16's presolve does not look at the time limit, nor does that of the sub-MIPs its
# heuristics solve (RINS, RENS, root reduced cost): on the budget's multiple-choice
# knapsack of 32,081 frontier points of a 7-call pack (4 rows: one choice a product, the
# budget) the presolve took 24-57 s under a limit of 2 s and reduced nothing, and a
# tie-break re-solve without it spent 15-19 s in one sub-MIP's presolve under a limit of
# 10 s. Without both, the three solves took 12.5, 1.0 and 2.9 s (budget.py).
NO_PRESOLVE = {"presolve": "off", "mip_heuristic_run_rins": False,
               "mip_heuristic_run_rens": False, "mip_heuristic_run_root_reduced_cost": False}
# For a solve again after HiGHS rejected its own answer by a hair (see `solve`): its
# integrality and feasibility tolerance ten times below the 1e-6 of its final check.
TIGHT_OPTIONS = {"mip_feasibility_tolerance": 1e-7}
# For a model whose plan billed otherwise than its objective said (planner._solved):
# integer counts within 1e-6 of a whole number can still buy calls at 1e-7 of a 10-million
# call pack (one call, 0.02 CNY, drawn from no pack at all). "highs-strict" solves with
# these, before the other solver is tried.
STRICT_OPTIONS = {"mip_feasibility_tolerance": 1e-9, "primal_feasibility_tolerance": 1e-9}
# Beyond this magnitude of a model's coefficients, bounds or right-hand sides the spacing
# of doubles (2^-19 at 2^33) exceeds HiGHS's integrality and feasibility tolerance (1e-6),
# so its presolve's reductions cannot tell a kept row from a broken one: on a model of
# 7·10^10 calls a month (big-M coefficients of 10^13) it called a plan optimal that costs
# 445.95 CNY more than one it finds without the presolve. Ordinary models stay below
# 4·10^8 (benchmarks/README.md). An optimum found above it is checked by other solves
# (`_checked_beyond_precision`).
PRECISE_UP_TO = 2.0 ** 33
# HiGHS refuses a model with a coefficient of 10^15 or more (its `large_matrix_value`),
# which inputs within packopt's limits reach: a holding or a pack of 10^15 calls, a price
# near 10^15 CNY in fen. Numbers that large are beyond PRECISE_UP_TO and checked as such.
MATRIX_OPTIONS = {"large_matrix_value": 1e30}
# A solve's twin (`_Twin`): its random seed this far from the main solve's, started once
# the main solve has run this many seconds.
TWIN_SEED_STEP = 1
TWIN_AFTER = 0.5
# How long a main solve that has ended waits for its twin to stop: HiGHS looks at the
# interrupt only between steps, and some steps of a wide model take seconds (its root
# heuristics on the budget's choice model of 105,152 columns: 4.6 s past the main solve's
# time limit). A twin not stopped by then ends on its own, its answer unused.
TWIN_WAIT = 0.2


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
    twin: bool = False             # the answer is the twin's (`_Twin`)
    twin_seconds: float = 0.0      # the twin's own solving time, on the other core

    @property
    def work(self) -> float:
        """Solving time summed over the cores the solve used (with its twin's)."""
        return self.seconds + self.twin_seconds

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
_local = threading.local()         # .subject: (label, units per currency unit), set by
                                   # `reported_as` in each solving thread
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
    saved, _local.subject = getattr(_local, "subject", None), (label, units)
    try:
        yield
    finally:
        _local.subject = saved


@contextlib.contextmanager
def reported_with(suffix: str):
    """Solves in the block report as this thread's `reported_as` label with `suffix` (a
    relaxation's progress, whose plans are not priced as billed)."""
    subject = getattr(_local, "subject", None)
    if subject is None:
        yield
        return
    with reported_as(subject[0] + suffix, subject[1]):
        yield


def muted() -> bool:
    """Whether this thread's solves are inside `unreported` (threads it starts follow it)."""
    return getattr(_local, "muted", False)


@contextlib.contextmanager
def unreported():
    """Solves in the block (this thread) report nothing: work running beside the solve that
    the terminal's progress line follows."""
    saved, _local.muted = getattr(_local, "muted", False), True
    try:
        yield
    finally:
        _local.muted = saved


def stop_event():
    """The event that stops this thread's HiGHS solves once set (`stopped_by`), or None."""
    return getattr(_local, "stop", None)


@contextlib.contextmanager
def stopped_by(event):
    """HiGHS solves in the block (this thread, and the threads it starts) stop soon after
    `event` is set, and CBC's processes are killed: work whose answer nobody waits for any
    more (planning._Ahead, planner._split_or_joint)."""
    saved, _local.stop = getattr(_local, "stop", None), event
    try:
        yield
    finally:
        _local.stop = saved


class _Either:
    """Set once any of its events is (what `stopped_by` and the solves read: `is_set`)."""

    def __init__(self, *events):
        self.events = [e for e in events if e is not None]

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)


def stopped_also(event):
    """As `stopped_by`, keeping what stops this thread's solves already (None: nothing
    more)."""
    return contextlib.nullcontext() if event is None else \
        stopped_by(_Either(stop_event(), event))


_banner_silenced = False
_banner_lock = threading.Lock()


def _silence_highs_banner() -> None:
    """HiGHS prints a copyright banner on stdout once per process, whatever its options;
    construct the first instance with stdout pointed at /dev/null so JSON output stays clean.
    (Under a lock: a second thread saving stdout while it points at /dev/null would restore
    /dev/null for good.)"""
    global _banner_silenced
    with _banner_lock:
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
          warm: bool = False, start: dict | None = None,
          scenarios: bool = False, presolve: bool = True) -> SolveOutcome:
    """Solve `prob` to proven optimality (or until `time_limit` seconds).

    `warm`: start HiGHS from the variables' current values (a re-solve of a model whose
    last solution is still feasible, such as the least-prepaid tie-break). `start`: some
    variables' values (a plan's pack counts) that HiGHS completes into a first solution
    with a small search of its own. Inside `reported_as` and `reporting` blocks HiGHS
    reports its incumbent, bound and gap. `scenarios`: a model of several demand
    scenarios, which HiGHS solves with SCENARIO_OPTIONS. `presolve=False`: HiGHS without
    its presolve and the heuristics that presolve sub-MIPs, for a model it cannot reduce
    and would not stop within the time limit (`NO_PRESOLVE`).
    """
    with cores.working():
        return _solve(prob, solver, time_limit, warm, start, scenarios, presolve)


def _solve(prob, solver, time_limit, warm, start, scenarios, presolve=True) -> SolveOutcome:
    options = {**(SCENARIO_OPTIONS if scenarios else {}), **({} if presolve else NO_PRESOLVE)}
    if solver == "highs" + STRICT:          # (engines.STRICT: the planner's retry)
        solver, options = "highs", {**options, **STRICT_OPTIONS}
    if solver == "highs":
        subject = None if muted() else getattr(_local, "subject", None)
        out = _solve_highs(prob, time_limit, warm, subject, start, options=options)
        # HiGHS now and then rejects its own answer ("Solve error": a plan it found optimal
        # fails its final check by a hair, 1.00001e-06 against 1e-06; seen after a start),
        # or calls optimal columns that cost more than its bound (after a start, too).
        # Numerical trouble, not a failure: solved again without the start and with a
        # tolerance ten times tighter than that check (TIGHT_OPTIONS), then also with
        # another seed, in the time left.
        for seed in (None, 1):
            if out.status is not Status.ERROR:
                break
            left = None if time_limit is None else time_limit - out.seconds
            if left is not None and left <= 0:
                break
            again = _solve_highs(prob, left, False, subject, None, seed,
                                 options={**options, **TIGHT_OPTIONS})
            out = replace(again, seconds=again.seconds + out.seconds)
        if out.status is Status.OPTIMAL and presolve and _beyond_precision(prob):
            out = _checked_beyond_precision(prob, out, time_limit, subject, options)
        return out
    if solver == "cbc":
        return _solve_cbc(prob, time_limit, options)
    raise ValueError(f"unknown solver {solver!r}; choose highs or cbc")


def _beyond_precision(prob) -> bool:
    """Whether the model HiGHS solved holds a number above PRECISE_UP_TO."""
    import numpy as np
    try:
        lp = prob.solverModel.getLp()
    except Exception:
        return False
    most = 0.0
    for values in (lp.a_matrix_.value_, lp.col_lower_, lp.col_upper_, lp.row_lower_,
                   lp.row_upper_):
        a = np.abs(np.asarray(values, dtype=np.float64))
        a = a[np.isfinite(a)]
        if a.size:
            most = max(most, float(a.max()))
    return most > PRECISE_UP_TO


def _checked_beyond_precision(prob, out: SolveOutcome, time_limit, subject, options):
    """HiGHS's optimum of a model beyond PRECISE_UP_TO, checked by solving it again from
    scratch without the presolve, with the tolerances tightened (STRICT_OPTIONS) and by
    CBC, each for as long as the first solve took (a second at least) and within the time
    left: at 7·10^10 calls a month the presolve's reductions hid a plan 445.95 CNY
    cheaper; on 9·10^9-call packs under a budget every HiGHS solve, warm or cold, tight or
    not, called a plan optimal 58,500,000 CNY above the one CBC finds. A check's plan
    replaces the first where its whole counts cost less. Where the solves prove different
    optima (a cheaper plan refutes the first claim too), none of their bounds is trusted:
    only the objective's least over the variables' bounds bounds it, so the plan is
    `feasible` unless it reaches that. Otherwise the first answer stands, its values
    restored."""
    share = max(out.seconds, 1.0)
    kept = [(v, v.varValue) for v in prob.variables()]
    best, seconds = None, out.seconds
    claims = [out.objective]            # the optima that the solves claim to prove
    for check in ({"presolve": "off"}, STRICT_OPTIONS, "cbc"):
        left = share if time_limit is None else min(share, time_limit - seconds)
        if left <= 0:
            break
        if check == "cbc":
            again, _ = _restarting_cbc(prob, left, time.perf_counter())
        else:
            # (cold: started from the claimed plan, the tightened solve claimed it again)
            again = _solve_highs(prob, left, False, subject, None,
                                 options={**options, **check})
        seconds += again.seconds
        if again.has_solution and again.objective is not None \
                and again.objective < (best or out).objective - ABS_GAP:
            # Cheaper, or cheaper only within its tolerances (CBC at 10^12 calls a month:
            # 72,000 units below a plan that bills at HiGHS's optimum): its whole counts
            # priced by a linear program decide.
            cost = _whole_counts_cost(prob, subject)
            if cost is not None and cost < (best or out).objective - ABS_GAP:
                best = replace(again, objective=cost)
                kept = [(v, v.varValue) for v in prob.variables()]
            continue                # (a claim below its own plan's cost is no claim)
        if again.status is Status.OPTIMAL and again.objective is not None:
            claims.append(again.objective)
    for v, x in kept:
        v.varValue = x
    got = best or out
    if any(abs(c - got.objective) > ABS_GAP for c in claims):
        # Solves of one model that prove different optima: none of their bounds holds (a
        # tightened solve claimed one 1,710,000,000 CNY above the plan its twins found, and
        # the true optimum was lower still). Only the objective's least value over the
        # variables' bounds does (0 for a cost): a plan there is optimal all the same.
        least = _least_over_bounds(prob)
        proven = least is not None and got.objective - least <= ABS_GAP
        return replace(got, status=Status.OPTIMAL if proven else Status.FEASIBLE,
                       bound=least, seconds=seconds)
    return replace(got, seconds=seconds)


def _whole_counts_cost(prob, subject) -> float | None:
    """The objective at the model's integer variables rounded to whole numbers, the rest
    solved for as a linear program (tight tolerances); None where that has no solution.
    The values are left at that solution."""
    import pulp
    fixed = [(v, v.lowBound, v.upBound, v.cat) for v in prob.variables()
             if v.cat == pulp.LpInteger]
    for v, *_ in fixed:
        whole = round(v.varValue or 0)
        v.lowBound = v.upBound = whole
        v.cat = pulp.LpContinuous
    try:
        out = _solve_highs(prob, None, False, subject, None, options=dict(STRICT_OPTIONS))
    finally:
        for v, low, up, cat in fixed:
            v.lowBound, v.upBound, v.cat = low, up, cat
    return out.objective if out.status is Status.OPTIMAL else None


def _least_over_bounds(prob) -> float | None:
    """The least the objective takes over its variables' bounds alone (None: unbounded
    below): a lower bound that holds whatever the solver's tolerances."""
    if prob.objective is None:
        return None
    least = prob.objective.constant
    for v, c in prob.objective.items():
        end = v.lowBound if c >= 0 else v.upBound
        if end is None:
            return None
        least += c * end
    return least


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
        start: dict | None = None
        progress: tuple[str, float] | None = None
        # When the time limit ends (perf_counter): PuLP builds HiGHS's model before it
        # runs, 2 s of the limit for the budget's choice model of 105,152 columns.
        deadline: float | None = None

        other_bound: float | None = None    # the losing twin's bound (`_Twin`)
        by_twin = False
        twin_seconds = 0.0

        def callSolver(self, lp):
            h = lp.solverModel
            if self.deadline is not None:
                h.setOptionValue("time_limit", max(self.deadline - time.perf_counter(), 0.01))
            first = _first_solution(lp, self.start, self.warm)
            if first is not None:
                first(h)
            listener, stop = _listener, stop_event()
            twin = _Twin.beside(h, first, stop) if lp.isMIP() else None
            watched = twin is not None or (stop is not None and lp.isMIP())
            if watched:
                def halt(event):
                    if (stop is not None and stop.is_set()) or (twin and twin.proved.is_set()):
                        event.interrupt()
                h.cbMipInterrupt.subscribe(halt)
            try:
                self._solve(lp, listener)
            finally:
                if watched:
                    h.cbMipInterrupt.unsubscribe(halt)
                if twin is not None:
                    self.by_twin, self.other_bound = twin.settle(lp)
                    self.twin_seconds = twin.seconds

        def _solve(self, lp, listener):
            h = lp.solverModel
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


def _first_solution(lp, start: dict | None, warm: bool):
    """What hands HiGHS its first solution (`start`'s values, or the variables' own when
    `warm`), as a function of a Highs instance (the main solve's and its twin's), or None."""
    import numpy as np
    if start:
        column = {v.name: j for j, v in enumerate(lp.variables())}
        given = [(column[v.name], x) for v, x in start.items() if v.name in column]
        at = np.array([j for j, _ in given], dtype=np.int32)
        values = np.array([x for _, x in given], dtype=np.float64)
        return lambda h: h.setSolution(len(given), at, values)
    if warm:
        import highspy
        sol = highspy.HighsSolution()
        sol.col_value = [v.varValue if v.varValue is not None else 0.0 for v in lp.variables()]
        sol.value_valid = True
        return lambda h: h.setSolution(sol)
    return None


class _Twin:
    """The same model solved on the idle core with another random seed, beside a main solve
    that has run TWIN_AFTER seconds; whichever proves first ends the other, and under a
    time limit the better plan and the higher bound of the two stand.

    HiGHS's time on one model varies several-fold with its seed: the joint model of the
    issue's 3 × 24 forecast with three scenarios under a 30,000 CNY monthly budget took
    24-117 s over eight seeds, business_license of the same forecast stretched 11.6 s to
    more than 200 s over four (benchmarks/README.md). The best of two such draws has a far
    shorter tail than one. It starts only when a core is idle (`cores.spare`), looking
    again every TWIN_AFTER seconds while the main solve runs, and stops as soon as another
    thread starts computing, so it never slows the work beside it (once that ends, a new
    twin starts with the next seed); and only once the main solve has run a while, since
    most solves end within milliseconds and a twin for each doubled their cost (12 to
    21-24 ms on a two-variable model). The plan under raised caps of the issue's 3 × 24
    forecast under 30,000 a month ran its 184 s limit without one: the twin it got once
    the plan ended was stopped for good by one of the regrets' solves (4 s)."""

    @classmethod
    def beside(cls, main, first, stop):
        """A twin armed beside the solve `main` (before it runs), or None if it cannot be
        (the main solve goes on alone)."""
        try:
            return cls(main, first, stop)
        except Exception:
            return None

    def __init__(self, main, first, stop):
        # (copied before the main solve runs: HiGHS may scale its model in place meanwhile)
        self.model, self.options = main.getModel(), main.getOptions()
        self.first, self.stop = first, stop
        self.t0 = time.perf_counter()         # the main solve's time limit counts from here
        self.highs = None                     # the twin's solver, once started
        self.seconds = 0.0                    # how long it ran
        self.done = threading.Event()         # the main solve has ended
        self.proved = threading.Event()       # the twin has ended with a proof
        self.ended = threading.Event()        # the twin's thread has ended (waited on, not
        # joined: a join interrupted by Ctrl-C can mark the thread ended while it runs in
        # CPython before 3.13, and the interpreter's exit would not wait for it)
        # (Not a daemon: one still in HiGHS when a library caller's interpreter exits
        # aborted the process, status 134, "terminate called without an active
        # exception"; told to stop by `settle`, it ends soon, and the exit waits.)
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        try:
            self._draws()
        finally:
            self.ended.set()

    def _draws(self) -> None:
        seed = self.options.random_seed
        while not self.done.wait(TWIN_AFTER):
            if not cores.spare():    # (looked at again while the main solve runs)
                continue
            seed += TWIN_SEED_STEP
            t0 = time.perf_counter()
            left = self.options.time_limit - (t0 - self.t0)   # (inf without a limit)
            if left <= 0:
                return
            try:
                h = self._solver(seed, left)
                self.highs = h
                h.run()
            except Exception:        # (the main solve's answer stands)
                return
            finally:
                self.seconds += time.perf_counter() - t0
            if self.proven(h):
                self.proved.set()
                return
            if self.done.is_set() or (self.stop is not None and self.stop.is_set()):
                return
            # Stopped for other work: once it ends, another twin (a new draw; the main
            # solve may run for minutes yet).

    def _solver(self, seed: int, left: float):
        """A Highs instance holding the model, its options and start, with `seed` and the
        main solve's time left."""
        import highspy
        h = highspy.Highs()
        h.passOptions(self.options)
        h.passModel(self.model)
        h.setOptionValue("random_seed", seed)
        h.setOptionValue("time_limit", left)
        if self.first is not None:
            self.first(h)

        def halt(event):
            if self.done.is_set() or cores.busy() >= cores.cores() or (
                    self.stop is not None and self.stop.is_set()):
                event.interrupt()
        h.cbMipInterrupt.subscribe(halt)
        return h

    @staticmethod
    def proven(h) -> bool:
        """Whether the solve ended with a proof (not stopped)."""
        import highspy
        S = highspy.HighsModelStatus
        return h.getModelStatus() in (S.kOptimal, S.kInfeasible, S.kUnboundedOrInfeasible,
                                      S.kUnbounded)

    def settle(self, lp) -> tuple[bool, float | None]:
        """Once the main solve has ended: the twin stopped, and its answer put in the
        model's place when it is the better one. Returns (whether the twin's answer
        stands, the other's bound when neither proved). A twin still running after
        TWIN_WAIT is left to stop on its own: the main solve's answer stands."""
        self.done.set()
        if not self.ended.wait(TWIN_WAIT):
            return False, None
        main, twin = lp.solverModel, self.highs
        if twin is None:
            return False, None
        twin_proved = self.proved.is_set() and not self.proven(main)
        if not twin_proved and (self.proven(main) or self.proven(twin)):
            return False, None
        better = twin_proved or _primal(twin) < _primal(main)
        if better:
            lp.solverModel = twin
        if twin_proved:
            return True, None
        loser = main if better else twin
        return better, loser.getInfo().mip_dual_bound


def _primal(h) -> float:
    """A stopped solve's best objective (inf without a plan)."""
    info = h.getInfo()
    return info.objective_function_value if info.primal_solution_status == 2 else math.inf


def _solve_highs(prob, time_limit, warm=False, progress=None, start=None, seed=None,
                 options=None):
    import highspy
    import pulp
    _silence_highs_banner()
    backend = _highs_class()(msg=False, gapRel=0.0, gapAbs=ABS_GAP, threads=1,
                             timeLimit=None if time_limit is None else max(time_limit, 0.01),
                             **{**MATRIX_OPTIONS, **(options or {})},
                             **({} if seed is None else {"random_seed": seed}))
    backend.warm, backend.progress, backend.start = warm, progress, start
    t0 = time.perf_counter()
    if time_limit is not None:
        backend.deadline = t0 + max(time_limit, 0.01)
    try:
        prob.solve(backend)
    except Exception as e:  # the backend's own failure: report, never crash
        return SolveOutcome(Status.ERROR, None, None, time.perf_counter() - t0, "highs", str(e))
    seconds = time.perf_counter() - t0
    h = prob.solverModel
    ms = h.getModelStatus()
    S = highspy.HighsModelStatus
    info = h.getInfo()
    # PuLP calls a solve interrupted before any plan "integer feasible", its columns all
    # zero (a time limit it catches): a plan only where HiGHS has one.
    obj = pulp.value(prob.objective) if prob.sol_status in (1, 2) and (
        info.primal_solution_status == 2 or ms == S.kOptimal) else None
    # PuLP hands HiGHS the objective without its constant: HiGHS's bound is short of it.
    offset = prob.objective.constant if prob.objective is not None else 0
    bound = max(info.mip_dual_bound, backend.other_bound or -math.inf) + offset \
        if prob.isMIP() else obj
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
    if status is Status.OPTIMAL and bound is not None and obj is not None \
            and obj - bound > 2 * ABS_GAP - 1e-6:
        # "Optimal", yet the columns handed back cost a whole money unit more than HiGHS's
        # own bound: seen with a start under SCENARIO_OPTIONS (its objective the optimum's,
        # its columns the start's; benchmarks/cross_milp.py). Not a proof: `solve` solves
        # it again.
        status = Status.ERROR
    return SolveOutcome(status, obj, bound, seconds, "highs", h.modelStatusToString(ms),
                        backend.by_twin, backend.twin_seconds)


_CBC_RESULT = re.compile(r"^Result - (.*)$", re.M)
_CBC_OBJ = re.compile(r"^Objective value:\s*(\S+)", re.M)
_CBC_BOUND = re.compile(r"^Lower bound:\s*(\S+)", re.M)

# The bundled CBC binary now and then stalls: a worker thread waits 10 s on a wake-up that
# never comes (benchmarks/README.md, "Findings" 2), using no CPU meanwhile. A run whose CPU
# time has not moved for STALL_SECONDS of wall time is killed and started again, at most
# STALL_RETRIES times. (A running CBC, even on a loaded machine, gets CPU ticks many times a
# second; a process that does nothing for a whole second is the stall.)
STALL_SECONDS = 1.0
STALL_RETRIES = 3
_POLL = 0.05                     # seconds between looks at the CBC process

# CBC's "optimal" can be wrong (big-M models; benchmarks/README.md, "Findings" 1), so every
# integer program CBC calls optimal is solved again by HiGHS, started from CBC's solution;
# only a result both agree on is optimal. The check gets the time left, at least this much.
CHECK_FLOOR = 0.5


class _Stalled(Exception):
    """The CBC process stopped using CPU: killed."""


class _Crashed(Exception):
    """The CBC process died of a signal it was not sent (the bundled CBC 2.10 segfaults
    in its cut generation on some models: a 14-month after-packs model with a holding,
    prorata and a monthly cap; with any other seed or without preprocessing it solves)."""


# CBC's files (its model, solution and log) and processes while a run uses them. Each run
# removes its own when it ends; a process ended at once (Ctrl-C: cli.py ends it with
# os._exit, the worker threads' `finally` never runs) runs the exit functions, and this one
# ends the CBC processes still running (one could still write its solution) and removes
# the rest.
_cbc_files: set[str] = set()
_cbc_procs: set = set()
_cbc_lock = threading.Lock()
_cbc_closed = threading.Event()     # the exit function has run: no CBC file from then on


def _track(*paths: str) -> None:
    """Track CBC's files; once the exit function has run (the process is ending, its
    worker threads not yet stopped), remove them and wait here for the end. (A worker
    started the next CBC run between the exit function and os._exit, and its model and
    log stayed in the temporary folder after a Ctrl-C.)"""
    with _cbc_lock:
        if not _cbc_closed.is_set():
            _cbc_files.update(paths)
            return
    _ending(*paths)


def _ending(*paths: str) -> None:
    """Once the exit function has run: remove `paths` (files a CBC run wrote after it) and
    wait for the process to end."""
    if not _cbc_closed.is_set():
        return
    for path in paths:
        with contextlib.suppress(OSError):
            os.remove(path)
    threading.Event().wait()


def _untrack(*paths: str) -> None:
    """Remove CBC's files and stop tracking them."""
    with _cbc_lock:
        _cbc_files.difference_update(paths)
    for path in paths:
        with contextlib.suppress(OSError):
            os.remove(path)


@atexit.register
def _remove_cbc_files() -> None:
    with _cbc_lock:
        _cbc_closed.set()
        procs, left = list(_cbc_procs), list(_cbc_files)
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.kill()
            proc.wait(timeout=1)
    _untrack(*left)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a running process (Linux /proc), None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def watch(args: list[str], log, stall_seconds: float | None = None) -> int:
    """Run `args` (output to the file `log`) to its end and return its exit code; kill it
    and raise _Stalled when its CPU time stands still for `stall_seconds` (STALL_SECONDS)."""
    import subprocess
    stall = STALL_SECONDS if stall_seconds is None else stall_seconds
    proc = subprocess.Popen(_dies_with_us(args), stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL)
    with _cbc_lock:
        _cbc_procs.add(proc)
    try:
        return _watched(proc, stall, stop_event())
    finally:
        with _cbc_lock:
            _cbc_procs.discard(proc)


def _watched(proc, stall: float, stop=None) -> int:
    """`proc`'s exit code once it ends; killed and _Stalled when its CPU time stands still
    for `stall` seconds; killed once `stop` is set (work nobody waits for: `stopped_by`)."""
    import subprocess
    last_cpu, since = None, time.monotonic()
    while True:
        try:
            return proc.wait(timeout=_POLL)
        except subprocess.TimeoutExpired:
            pass
        if stop is not None and stop.is_set():
            proc.kill()
            return proc.wait()
        cpu, now = _cpu_seconds(proc.pid), time.monotonic()
        if cpu is None:
            continue                       # no /proc: no watching, only waiting
        if cpu != last_cpu:
            last_cpu, since = cpu, now
        elif now - since >= stall:
            proc.kill()
            proc.wait()
            raise _Stalled(f"no CPU used for {now - since:.1f} s")


def _dies_with_us(args: list[str]) -> list[str]:
    """`args` run so that the process ends when packopt does, however it ends: on Linux
    through util-linux's setpriv, which asks the kernel to kill it when its parent thread
    ends (PR_SET_PDEATHSIG) and then runs it. Killed by a script's timeout or SIGTERM,
    packopt left CBC running to its own time limit, or for ever without one."""
    import shutil
    setpriv = shutil.which("setpriv") if sys.platform.startswith("linux") else None
    return [setpriv, "--pdeathsig", "KILL", *args] if setpriv else args


@cache
def _cbc_class():
    """PuLP's CBC command with the process watched for stalls (`watch`): PuLP's own
    solve_CBC (pulp 3.3), with its subprocess call replaced."""
    import pulp
    from pulp import constants

    class _WatchedCBC(pulp.PULP_CBC_CMD):
        def solve_CBC(self, lp, use_mps=True):
            tmp_mps, tmp_sol = self.create_tmp_files(lp.name, "mps", "sol")
            _track(tmp_mps, tmp_sol)
            vs, var_names, con_names, _ = lp.writeMPS(tmp_mps, rename=1)
            _ending(tmp_mps, tmp_sol, self.optionsDict["logPath"])
            args = [self.path, tmp_mps]
            if lp.sense == constants.LpMaximize:
                args.append("-max")
            if self.timeLimit is not None:
                args += ["-sec", str(self.timeLimit)]
            for option in self.options + self.getOptions():
                args += ("-" + option).split()
            args += ["-solve" if self.mip else "-initialSolve", "-printingOptions", "all",
                     "-solution", tmp_sol]
            try:
                with open(self.optionsDict["logPath"], "w") as log:
                    _ending(tmp_mps, tmp_sol, self.optionsDict["logPath"])
                    code = watch(args, log)
                    if code < 0 and -code not in (signal.SIGKILL, signal.SIGTERM):
                        # (killed: by packopt's exit, or with it; else CBC crashed)
                        raise _Crashed(f"CBC died of signal {-code}")
                    if code != 0:
                        raise pulp.PulpSolverError("Pulp: error while executing " + self.path)
                if not os.path.exists(tmp_sol):
                    raise pulp.PulpSolverError("Pulp: error while executing " + self.path)
                status, values, reduced, prices, slacks, sol_status = self.readsol_MPS(
                    tmp_sol, lp, vs, var_names, con_names)
            finally:
                _untrack(tmp_mps, tmp_sol)
            lp.assignVarsVals(values)
            lp.assignVarsDj(reduced)
            lp.assignConsPi(prices)
            lp.assignConsSlack(slacks, activity=True)
            lp.assignStatus(status, sol_status)
            return status
    return _WatchedCBC


def _solve_cbc(prob, time_limit, options=None):
    """CBC, restarted after a stall, its "infeasible" checked without its preprocessing
    and then by HiGHS, and its "optimal" cross-checked by HiGHS (below)."""
    t0 = time.perf_counter()
    out, stalls = _restarting_cbc(prob, time_limit, t0)
    if out.status is Status.INFEASIBLE and (
            time_limit is None or time.perf_counter() - t0 < time_limit):
        if prob.isMIP():
            # CBC 2.10's preprocessing can call a feasible model infeasible ("Pre-processing
            # says infeasible": a start-mode after-packs model with a late holding,
            # scenarios and a budget of 0, where buying nothing is a plan).
            out, more = _restarting_cbc(prob, time_limit, t0, preprocess=False)
            stalls += more
        if out.status is Status.INFEASIBLE:
            out = _check_infeasible(prob, out, time_limit, t0, options)
    elif out.status is Status.INFEASIBLE and prob.isMIP():
        # No time left to check it: not proven (a tie-break key stays unproven, a model
        # that must have a plan is out of time before one).
        out = replace(out, status=Status.NO_SOLUTION,
                      message=f"{out.message}; infeasible by CBC's preprocessing, unchecked")
    note = f"; restarted after {stalls} stall(s)" if stalls else ""
    if out.status is Status.OPTIMAL and out.objective is not None and prob.isMIP():
        out = _cross_check(prob, out, time_limit, t0, options)
    return replace(out, seconds=time.perf_counter() - t0, message=out.message + note)


def _restarting_cbc(prob, time_limit, t0, preprocess: bool = True) -> tuple[SolveOutcome,
                                                                           int]:
    """CBC in what is left of `time_limit` since `t0`, run again after a stall (at most
    STALL_RETRIES times; then an error); and how many stalls there were."""
    stalls = 0
    while True:
        left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
        try:
            return _solve_cbc_once(prob, left if left is None else max(left, 0.1),
                                   preprocess), stalls
        except _Stalled as e:
            stalls += 1
            if stalls > STALL_RETRIES:
                return SolveOutcome(Status.ERROR, None, None, time.perf_counter() - t0, "cbc",
                                    f"CBC stalled {stalls} times ({e})"), stalls
        except _Crashed as e:
            if not preprocess:
                return SolveOutcome(Status.ERROR, None, None, time.perf_counter() - t0, "cbc",
                                    f"{e}, with preprocessing and without"), stalls
            preprocess = False     # (another path through CBC; a crash is deterministic)


def _check_infeasible(prob, out: SolveOutcome, time_limit, t0, options=None) -> SolveOutcome:
    """CBC's "infeasible", without its preprocessing too, solved again by HiGHS: confirmed,
    or HiGHS's plan, or not settled in time (no plan, nothing proven). CBC's preprocessing
    was seen to call a feasible model infeasible, and its "optimal" is not trusted alone
    either (`_cross_check`); a `--budget 0` run on a few hundred million calls a month
    exited 2 through the planner's retry (planner._solved), which this guards the other
    way into."""
    left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0),
                                               CHECK_FLOOR)
    other = _solve_highs(prob, left, options=options)
    if other.status is Status.INFEASIBLE:
        return out
    if other.has_solution:
        return replace(other, solver="cbc", message=f"CBC called the model infeasible; the "
                       f"HiGHS cross-check found a plan ({other.status.value})")
    return replace(out, status=Status.NO_SOLUTION, message=f"{out.message}; infeasible by "
                   f"CBC, not confirmed by HiGHS in time ({other.message})")


def _cross_check(prob, out: SolveOutcome, time_limit, t0, options=None) -> SolveOutcome:
    """CBC's optimum, solved again by HiGHS from CBC's solution: confirmed (CBC's solution
    kept), beaten (HiGHS's solution, optimal only if HiGHS proves it), or not settled in
    time (CBC's solution, "feasible" with HiGHS's bound)."""
    mine = {v.name: v.varValue for v in prob.variables()}
    status = (prob.status, prob.sol_status)

    def left() -> float | None:
        return None if time_limit is None else max(time_limit - (time.perf_counter() - t0),
                                                   CHECK_FLOOR)
    other = _solve_highs(prob, left(), warm=True, options=options)
    if other.status is Status.ERROR:
        # HiGHS "optimal" from CBC's plan, yet its columns (the start's) cost more than its
        # objective, below the true optimum (a yearly cap, validity 24: 1446.54 against
        # 1857.51): once more without the start.
        other = _solve_highs(prob, left(), options=options)
    cbc_obj = out.objective

    def keep_mine(result: SolveOutcome) -> SolveOutcome:
        for v in prob.variables():
            v.varValue = mine[v.name]
        prob.status, prob.sol_status = status
        return result
    beaten = other.objective is not None and other.objective < cbc_obj - ABS_GAP
    if other.status is Status.OPTIMAL and not beaten:
        if other.objective is not None and other.objective > cbc_obj + ABS_GAP:
            # HiGHS proves more than CBC's own solution costs: they disagree; nothing proven.
            return keep_mine(replace(out, status=Status.FEASIBLE, bound=None,
                                     message=f"{out.message}; the HiGHS cross-check proves "
                                     f"{other.objective:.0f}, above CBC's {cbc_obj:.0f}"))
        return keep_mine(out)                          # confirmed
    if beaten:
        # CBC's "optimal" was not: HiGHS's plan instead, proven or with HiGHS's bound.
        return replace(other, solver="cbc", message=f"CBC claimed {cbc_obj:.0f} optimal; "
                       f"the HiGHS cross-check found {other.objective:.0f} "
                       f"({other.status.value})")
    if other.bound is not None and other.bound >= cbc_obj - ABS_GAP:
        return keep_mine(out)                          # HiGHS's bound proves CBC's optimum
    return keep_mine(replace(out, status=Status.FEASIBLE, bound=other.bound,
                             message=f"{out.message}; the HiGHS cross-check did not settle "
                             f"CBC's optimum{' in time' if time_limit is not None else ''} "
                             f"({other.message})"))


def _solve_cbc_once(prob, time_limit, preprocess: bool = True):
    import tempfile  # CBC only, as PuLP itself

    import pulp
    fd, log = tempfile.mkstemp(prefix="packopt-cbc-", suffix=".log")
    os.close(fd)
    _track(log)
    with warnings.catch_warnings():
        # PuLP 3.3 flags its bundled CBC as deprecated for 4.0; we pin <3.4 and use it.
        warnings.simplefilter("ignore", DeprecationWarning)
        backend = _cbc_class()(msg=False, gapRel=0.0, gapAbs=ABS_GAP, threads=1,
                               timeLimit=None if time_limit is None else max(time_limit, 0.1),
                               logPath=log, options=[] if preprocess else ["preprocess off"])
    t0 = time.perf_counter()
    try:
        prob.solve(backend)
        text = open(log, encoding="utf-8", errors="replace").read()
    except (_Stalled, _Crashed):
        raise
    except Exception as e:
        stop = stop_event()
        if stop is not None and stop.is_set():
            # Killed because its answer is no longer wanted (`stopped_by`): stopped with
            # nothing to show, as HiGHS's interrupted solve, not a solver failure.
            return SolveOutcome(Status.NO_SOLUTION, None, None, time.perf_counter() - t0,
                                "cbc", "stopped: its answer no longer wanted")
        return SolveOutcome(Status.ERROR, None, None, time.perf_counter() - t0, "cbc", str(e))
    finally:
        _untrack(log)
    seconds = time.perf_counter() - t0
    result = (_CBC_RESULT.search(text).group(1).strip() if _CBC_RESULT.search(text) else "")
    # CBC reports status "Optimal" even when stopped on time: read its own result line.
    obj = pulp.value(prob.objective) if prob.sol_status in (1, 2) else None
    bound = None
    m = _CBC_BOUND.search(text)
    if m:
        try:
            # The MPS file PuLP writes leaves out the objective's constant, as CBC's bound.
            bound = float(m.group(1)) + (prob.objective.constant if prob.objective else 0)
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
    elif prob.status == pulp.LpStatusInfeasible and not result and (
            time_limit is None or seconds < time_limit):
        status = Status.INFEASIBLE            # proven so in presolve (a ceiling row can)
    elif prob.status == pulp.LpStatusInfeasible and not result:
        # Out of time with no result line: PuLP says infeasible for a run CBC cut short
        # (a 0.01 s limit on a feasible model: "no plan satisfies these options").
        status = Status.NO_SOLUTION
    else:
        status = Status.ERROR
    return SolveOutcome(status, obj, bound, seconds, "cbc", result or "no result line")
