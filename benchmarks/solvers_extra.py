"""SCIP and OR-Tools CP-SAT for the benchmarks' integer programs, beside HiGHS and CBC.

`solve(prob, solver, time_limit, warm)` takes the same PuLP model and returns the same
`optimizer.solve.solvers.SolveOutcome` as the optimizer's adapter; "highs" and "cbc" go to
that adapter unchanged. For "scip" and "cpsat" the solution values are written back into the
PuLP variables, so every caller (the planner's tie-break re-solves, the re-bill and the
runner's verification) reads them exactly as it reads HiGHS's. Benchmarks only: `packopt
plan --solver` offers highs and cbc.

Both are solved to proven optimality, as HiGHS and CBC are: relative gap 0 and absolute gap
0.5 money units (`ABS_GAP`: the objective is a whole number of units at every integer
solution, so that closes it to the unit); one thread; the time limit covers building the
solver's model too. A run stopped by the limit is "feasible" with its bound (or
"no_solution"), never "optimal" unless its own bound closes the gap.

scip   PuLP's in-process SCIP_PY (PySCIPOpt). SCIP solves sequentially (one thread).
cpsat  OR-Tools CP-SAT with `num_workers=1` and `linearization_level=2` (its default
       portfolio runs many workers; one worker is a single search, much weaker than CP-SAT at
       full width, and at the default linearization level 1 it left a 3-product any-month
       big-M model at bound 0 after 15 s, which level 2 proves in about 4 s and 8 workers in
       0.1 s). CP-SAT has integer variables only, so the PuLP model is translated here:
       * every variable becomes an integer. Our models' continuous variables are calls or
         money units with whole data (demand, pack sizes, tier bounds, prices in units), and
         for fixed pack counts a whole-number completion is optimal (the billing engine's own
         draws are whole calls), so this loses nothing on them; it can only restrict a model,
         so a CP-SAT plan is always feasible for the original, and a wrong "optimal" would be
         caught by the runner (it must bill to its objective and to the best any method found);
       * each row (and the objective) is multiplied by the least power of ten that makes its
         coefficients whole (at most 10^6; else the run is an error) and its right-hand side
         rounded inwards, which is exact for integer variables;
       * CP-SAT needs finite domains: bounds are propagated through the rows; a variable still
         unbounded (pack counts of the big-M baseline) gets a box small enough that no row can
         overflow 64 bits, and "optimal" is claimed only when the objective certifies the box:
         every boxed variable has a positive cost and leaving its box would cost more than the
         plan found. Otherwise the run is reported "feasible".
"""

from __future__ import annotations

import contextlib
import math
import sys
import time

from optimizer.solve.solvers import ABS_GAP, SolveOutcome, Status
from optimizer.solve.solvers import solve as core_solve

CORE = ("highs", "cbc")
EXTRA = ("scip", "cpsat")
SOLVERS = CORE + EXTRA
MODULES = {"scip": "pyscipopt", "cpsat": "ortools"}
INSTALL = "pip install -e '.[bench]'"

INF = math.inf
_MAX_SCALE = 10 ** 6            # largest row multiplier that makes coefficients whole
_BOX_ACTIVITY = 2 ** 60         # largest |activity| a boxed variable may add to any row
_EPS = 1e-9


def unavailable(solver: str) -> str | None:
    """Why `solver` cannot run here (its module is not installed), or None when it can."""
    module = MODULES.get(solver)
    if module is None:
        return None
    try:
        __import__(module)
    except ImportError as e:
        return f"skipped: {solver} not installed ({module}: {e}; {INSTALL})"
    return None


def solve(prob, solver: str = "highs", time_limit: float | None = None,
          warm: bool = False, start: dict | None = None,
          scenarios: bool = False) -> SolveOutcome:
    """Solve `prob` with any of SOLVERS; the optimizer's adapter for highs and cbc.
    (`start`, a partial first solution, is a hint only HiGHS takes; `scenarios`, HiGHS's
    options for models of several scenarios, concerns only HiGHS and CBC's check.)"""
    if solver == "scip":
        return _solve_scip(prob, time_limit, warm)
    if solver == "cpsat":
        return _solve_cpsat(prob, time_limit, warm)
    return core_solve(prob, solver, time_limit, warm, start, scenarios)


@contextlib.contextmanager
def in_planner(solver: str):
    """Within the block, the planner (`optimizer.solve.planner.plan`) accepts `solver` and
    solves its integer programs with it: the optimizer modules' `solve` (imported by name
    from optimizer.solve.solvers) is pointed at this module's, and the planner's list of
    solvers extended. Benchmarks only (ours-milp-scip, ours-milp-cpsat); undone on exit."""
    if solver in CORE:
        yield
        return
    from optimizer.solve import planner
    # optimizer.solve.solvers itself too: a module first imported inside the block
    # (`from .solvers import solve`) gets this module's solve as well.
    patched = [m for name, m in list(sys.modules.items())
               if name.startswith("optimizer") and getattr(m, "solve", None) is core_solve]
    saved = planner.SOLVERS
    for m in patched:
        m.solve = solve
    planner.SOLVERS = tuple(saved) + (solver,)
    try:
        yield
    finally:
        for m in patched:
            m.solve = core_solve
        planner.SOLVERS = saved


def _left(time_limit, t0) -> float | None:
    if time_limit is None:
        return None
    return max(time_limit - (time.perf_counter() - t0), 0.01)


def _closed(status, obj, bound):
    """A stopped run whose own bound closes the gap to the unit is optimal all the same."""
    if status is Status.FEASIBLE and obj is not None and bound is not None \
            and obj - bound <= ABS_GAP:
        return Status.OPTIMAL
    return status


# --------------------------------------------------------------------------- SCIP

_SCIP_STOPPED = {"timelimit", "userinterrupt", "nodelimit", "totalnodelimit",
                 "stallnodelimit", "gaplimit", "memlimit", "sollimit", "bestsollimit",
                 "restartlimit"}


def _solve_scip(prob, time_limit, warm=False) -> SolveOutcome:
    t0 = time.perf_counter()
    try:
        import pulp
        backend = pulp.SCIP_PY(msg=False, gapRel=0.0, gapAbs=ABS_GAP, warmStart=warm,
                               timeLimit=None if time_limit is None else max(time_limit, 0.01))
        # The time limit covers building SCIP's model: SCIP's own clock starts at optimize().
        build = backend.buildSolverModel

        def build_then_limit(lp):
            build(lp)
            left = _left(time_limit, t0)
            if left is not None:
                lp.solverModel.setParam("limits/time", left)
        backend.buildSolverModel = build_then_limit
        prob.solve(backend)
    except Exception as e:        # the backend's own failure: report, never crash
        return SolveOutcome(Status.ERROR, None, None, time.perf_counter() - t0, "scip",
                            f"{type(e).__name__}: {e}")
    seconds = time.perf_counter() - t0
    model = prob.solverModel
    state = model.getStatus()
    offset = prob.objective.constant if prob.objective is not None else 0.0
    has_plan = model.getNSols() > 0 and prob.sol_status in (1, 2)
    obj = pulp.value(prob.objective) if has_plan else None
    bound = model.getDualbound() + offset
    if not math.isfinite(bound) or abs(bound) >= 1e19:
        bound = None
    if state == "optimal":
        status, bound = Status.OPTIMAL, obj
    elif state == "infeasible":
        status = Status.INFEASIBLE
    elif state in _SCIP_STOPPED:
        status = Status.FEASIBLE if has_plan else Status.NO_SOLUTION
    else:                                     # unbounded, inforunbd, unknown
        status = Status.ERROR
    return SolveOutcome(_closed(status, obj, bound), obj, bound, seconds, "scip", state)


# --------------------------------------------------------------------------- CP-SAT

class Untranslatable(ValueError):
    """The PuLP model has a coefficient CP-SAT's integer arithmetic cannot hold exactly."""


def _row_scale(coefs) -> int:
    """The least power of ten (<= 10^6) that makes every coefficient whole."""
    scale = 1
    while scale <= _MAX_SCALE:
        if all(abs(c * scale - round(c * scale)) <= _EPS * max(1.0, abs(c * scale))
               for c in coefs):
            return scale
        scale *= 10
    raise Untranslatable(f"a coefficient is not a whole number at scale {_MAX_SCALE} "
                         f"({next(c for c in coefs if c != round(c))})")


def _propagate(rows, lb, ub, passes: int = 4) -> None:
    """Tighten lb/ub (lists of floats, +-inf) from the rows (coefs, lo, hi) in place:
    interval arithmetic on each row's activity, a few passes."""
    for _ in range(passes):
        changed = False
        for terms, lo, hi in rows:
            # minimum and maximum activity, with the count of infinite contributions
            mn, mn_inf, mx, mx_inf = 0.0, 0, 0.0, 0
            for j, a in terms:
                lo_j, hi_j = (lb[j], ub[j]) if a > 0 else (ub[j], lb[j])
                v = a * lo_j
                if math.isinf(v):
                    mn_inf += 1
                else:
                    mn += v
                v = a * hi_j
                if math.isinf(v):
                    mx_inf += 1
                else:
                    mx += v
            for j, a in terms:
                if hi < INF:            # activity <= hi: each term <= hi - min of the rest
                    lo_j = lb[j] if a > 0 else ub[j]
                    own = a * lo_j
                    if math.isinf(own):
                        rest_inf, rest = mn_inf - 1, mn
                    else:
                        rest_inf, rest = mn_inf, mn - own
                    if rest_inf == 0:
                        cap = (hi - rest) / a
                        if a > 0 and cap < ub[j] - 1e-7:
                            ub[j], changed = cap, True
                        elif a < 0 and cap > lb[j] + 1e-7:
                            lb[j], changed = cap, True
                if lo > -INF:           # activity >= lo: each term >= lo - max of the rest
                    hi_j = ub[j] if a > 0 else lb[j]
                    own = a * hi_j
                    if math.isinf(own):
                        rest_inf, rest = mx_inf - 1, mx
                    else:
                        rest_inf, rest = mx_inf, mx - own
                    if rest_inf == 0:
                        floor = (lo - rest) / a
                        if a > 0 and floor > lb[j] + 1e-7:
                            lb[j], changed = floor, True
                        elif a < 0 and floor < ub[j] - 1e-7:
                            ub[j], changed = floor, True
        if not changed:
            break


def translate(prob):
    """The PuLP model as integer data: (variables, lb, ub, boxed, rows, objective,
    objective scale, offset). rows: (terms [(index, int coef)], lo, hi) with whole bounds
    (None when open); objective: [(index, int coef)] of the minimised scaled objective;
    boxed: indices whose finite bound is ours, not the model's."""
    import pulp
    variables = prob.variables()
    index = {v.name: i for i, v in enumerate(variables)}
    n = len(variables)
    lb = [-INF if v.lowBound is None else float(v.lowBound) for v in variables]
    ub = [INF if v.upBound is None else float(v.upBound) for v in variables]
    for i, v in enumerate(variables):
        if v.cat == pulp.LpBinary:
            lb[i], ub[i] = max(lb[i], 0.0), min(ub[i], 1.0)
    rows = []
    for c in prob.constraints():             # PuLP 3.3: a list when called
        terms = [(index[v.name], float(a)) for v, a in c.items() if a != 0]
        rhs = -float(c.constant)
        lo = rhs if c.sense in (pulp.LpConstraintGE, pulp.LpConstraintEQ) else -INF
        hi = rhs if c.sense in (pulp.LpConstraintLE, pulp.LpConstraintEQ) else INF
        if not terms:
            if lo > _EPS or hi < -_EPS:
                raise Untranslatable("a constant row is violated")
            continue
        rows.append((terms, lo, hi))
    _propagate(rows, lb, ub)
    # Integer rows: scaled to whole coefficients, right-hand sides rounded inwards.
    int_rows = []
    for terms, lo, hi in rows:
        s = _row_scale([a for _, a in terms])
        it = [(j, round(a * s)) for j, a in terms]
        ilo = None if lo == -INF else math.ceil(lo * s - 1e-6)
        ihi = None if hi == INF else math.floor(hi * s + 1e-6)
        int_rows.append((it, ilo, ihi))
    ilb = [None if x == -INF else math.ceil(x - 1e-6) for x in lb]
    iub = [None if x == INF else math.floor(x + 1e-6) for x in ub]
    sense = 1 if prob.sense == pulp.LpMinimize else -1
    objective = prob.objective if prob.objective is not None else pulp.LpAffineExpression()
    oterms = [(index[v.name], sense * float(a)) for v, a in objective.items() if a != 0]
    oscale = _row_scale([a for _, a in oterms]) if oterms else 1
    obj = [(j, round(a * oscale)) for j, a in oterms]
    # A box for what is still open: no row may gain more than _BOX_ACTIVITY from it.
    width = [0] * n
    for it, _, _ in int_rows + [(obj, None, None)]:
        k = len(it)
        for j, a in it:
            width[j] = max(width[j], abs(a) * k)
    boxed = []
    for j in range(n):
        if ilb[j] is None or iub[j] is None:
            box = max(_BOX_ACTIVITY // max(width[j], 1), 1)
            if ilb[j] is None:
                ilb[j] = -box if iub[j] is None else min(iub[j], 0) - box
            if iub[j] is None:
                iub[j] = max(ilb[j], 0) + box
            boxed.append(j)
    return variables, ilb, iub, boxed, int_rows, obj, oscale, float(objective.constant), sense


def _box_certified(obj, ilb, iub, boxed, best_scaled) -> bool:
    """True when no solution outside the boxes can beat `best_scaled` (the scaled minimised
    objective of the plan found): every boxed variable costs a positive amount per unit and
    leaving its box would alone cost more than the plan (the rest at its cheapest)."""
    cost = dict(obj)
    floor = 0
    boxed_set = set(boxed)
    for j, a in obj:
        if j in boxed_set and a <= 0:
            return False
        if j in boxed_set:
            floor += a * ilb[j]                 # positive cost: cheapest at its lower bound
        else:
            floor += min(a * ilb[j], a * iub[j])
    for j in boxed:
        a = cost.get(j, 0)
        if a <= 0:
            return False
        if floor - a * ilb[j] + a * (iub[j] + 1) <= best_scaled:
            return False
    return True


def _solve_cpsat(prob, time_limit, warm=False) -> SolveOutcome:
    t0 = time.perf_counter()
    try:
        from ortools.sat.python import cp_model
        (variables, ilb, iub, boxed, rows, obj, oscale, offset,
         sense) = translate(prob)
        model = cp_model.CpModel()
        # Data -> variables: one integer per PuLP variable, in its (propagated) bounds.
        x = [model.new_int_var(lo, hi, v.name) for v, lo, hi in zip(variables, ilb, iub)]
        # Every row of the PuLP model, in whole numbers.
        for terms, lo, hi in rows:
            expr = cp_model.LinearExpr.weighted_sum([x[j] for j, _ in terms],
                                                    [a for _, a in terms])
            if lo is not None and lo == hi:
                model.add(expr == lo)
                continue
            if lo is not None:
                model.add(expr >= lo)
            if hi is not None:
                model.add(expr <= hi)
        if obj:
            model.minimize(cp_model.LinearExpr.weighted_sum([x[j] for j, _ in obj],
                                                            [a for _, a in obj]))
        if warm:                  # the current values as a hint (a tie-break re-solve)
            for xv, v, lo, hi in zip(x, variables, ilb, iub):
                if v.varValue is not None:
                    model.add_hint(xv, min(max(round(v.varValue), lo), hi))
        solver = cp_model.CpSolver()
        p = solver.parameters
        p.num_workers = 1
        # One worker searches with the linear relaxation only at level 2 (the default, 1,
        # left a 3-product any-month big-M model at bound 0 after 15 s; level 2 proves it).
        p.linearization_level = 2
        p.relative_gap_limit = 0.0
        p.absolute_gap_limit = ABS_GAP * oscale
        p.log_search_progress = False
        left = _left(time_limit, t0)
        if left is not None:
            p.max_time_in_seconds = left
        code = solver.solve(model)
    except Exception as e:         # the translation's or the backend's failure: report
        return SolveOutcome(Status.ERROR, None, None, time.perf_counter() - t0, "cpsat",
                            f"{type(e).__name__}: {e}")
    seconds = time.perf_counter() - t0
    name = solver.status_name(code)
    obj_val = bound = None
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for v, xv in zip(variables, x):         # read back into the PuLP variables
            v.varValue = solver.value(xv)
        best = solver.objective_value if obj else 0.0
        if obj and boxed and not _box_certified(obj, ilb, iub, boxed, round(best)):
            code, name = cp_model.FEASIBLE, "FEASIBLE (the variable boxes are not certified)"
        import pulp
        prob.assignStatus(pulp.LpStatusOptimal if code == cp_model.OPTIMAL
                          else pulp.LpStatusNotSolved,
                          pulp.LpSolutionOptimal if code == cp_model.OPTIMAL
                          else pulp.LpSolutionIntegerFeasible)
        obj_val = pulp.value(prob.objective) if prob.objective is not None else 0.0
        if obj:
            b = solver.best_objective_bound / oscale
            bound = sense * b + offset if sense > 0 else None
    if code == cp_model.OPTIMAL:
        status, bound = Status.OPTIMAL, obj_val
    elif code == cp_model.FEASIBLE:
        status = Status.FEASIBLE
    elif code == cp_model.INFEASIBLE:
        status = Status.INFEASIBLE
    elif code == cp_model.UNKNOWN:
        status = Status.NO_SOLUTION
    else:                                        # MODEL_INVALID
        status = Status.ERROR
        name = f"{name}: {model.validate()}"
    if status is Status.FEASIBLE and boxed and "certified" in name:
        return SolveOutcome(status, obj_val, None, seconds, "cpsat", name)
    return SolveOutcome(_closed(status, obj_val, bound), obj_val, bound, seconds, "cpsat",
                        name)
