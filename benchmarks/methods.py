"""The methods compared: each takes an instance and returns one plain-data run record.

    ours-SOLVER          optimizer.solve.planner.plan as it routes: the exact dynamic program
                         (start mode and any month, total basis), the exact cost curves (start
                         mode under after-packs, budgets, scenarios), integer programs else
    ours-milp-SOLVER     plan(..., algorithm="milp"): the planner's integer program, one small
                         MILP per product, instead of its dynamic program or cost curves (one
                         forecast, no budget)
    ours-joint-SOLVER    the same per-product model (optimizer.model.add_start_mode), all
                         products in one MILP: measures the planner's decomposition choice
    baseline-SOLVER      the straightforward big-M model (benchmarks/baseline.py), one joint MILP
    baseline-pp-SOLVER   the same big-M model, one MILP per product
    exhaustive           every useful pack mix billed by the billing engine (no solver)

SOLVER: highs or cbc (optimizer.solve.solvers); scip and cpsat (benchmarks/solvers_extra.py)
for the integer-programming methods only (ours-milp, ours-joint, baseline, baseline-pp). A
solver that is not installed makes its runs "skipped" with the reason, not failures.

Every method's plan is re-billed with `optimizer.billing.bill`; the record carries both the
method's own objective and the billed cost, so the runner can check one against the other.

Instances of the other modes (purchase_months any, scenarios, budget: `Instance.options`)
are solved by ours-* and, for one any-month forecast under the total basis with no budget,
by the any-month big-M baseline; `not_applicable` names why a method skips an instance.
For the planner's runs the benchmark re-bills its plan itself: on the base forecast (it must
bill what the planner reported), on every scenario forecast (the weighted expected cost is
recomputed from those bills with Decimal and must equal `PlanResult.expected_cost`), and
the prepaid spend must be within the budget. A disagreement is listed in the record's
"problems", which the runner reports as a verification failure.
"""

from __future__ import annotations

import time
import traceback
from decimal import Decimal

import pulp

from optimizer.billing import bill
from optimizer.domain.money import money_scale, to_units
from optimizer.solve.start_milp import add_start_mode
# Imported here, not in _ours: a run's time must not include importing the planner (about
# 13 ms in the forked child, as much as a whole small any-month plan).
from optimizer.solve.planner import plan
from optimizer.solve.solvers import Status

from .baseline import solve_baseline
from .exhaustive import OutOfTime, TooLarge, count_mixes, search
from .families import Instance
from .solvers_extra import CORE, SOLVERS, in_planner, solve, unavailable

KINDS = ("ours", "ours-milp", "ours-joint", "baseline", "baseline-pp", "exhaustive")
SOLVER_FREE = ("exhaustive",)
# The integer-programming methods: the only ones scip and cpsat run (ours solves start mode
# and any month without a solver, and plan() offers highs and cbc).
IP_KINDS = ("ours-milp", "ours-joint", "baseline", "baseline-pp")


def method_names(kinds, solvers) -> list[str]:
    """Expand kinds x solvers into method names, in a stable order."""
    names = []
    for kind in kinds:
        if kind in SOLVER_FREE:
            names.append(kind)
        else:
            names.extend(f"{kind}-{s}" for s in solvers if s in CORE or kind in IP_KINDS)
    return names


def split_method(name: str) -> tuple[str, str | None]:
    """'baseline-pp-cbc' -> ('baseline-pp', 'cbc'); 'exhaustive' -> ('exhaustive', None)."""
    if name in SOLVER_FREE:
        return name, None
    kind, _, solver = name.rpartition("-")
    if kind not in KINDS or solver not in SOLVERS:
        raise ValueError(f"unknown method {name!r}")
    if solver not in CORE and kind not in IP_KINDS:
        raise ValueError(f"{name}: {solver} runs the integer-programming methods only "
                         f"({', '.join(IP_KINDS)})")
    return kind, solver


def _money(units: int | float | None, scale: int) -> str | None:
    if units is None:
        return None
    return str((Decimal(round(units)) / scale).quantize(Decimal(1) / scale))


def _plan_rows(plan) -> list[list]:
    return [[p.product, str(p.month), p.size, p.count] for p in plan.purchases]


def _any_month_single(inst: Instance) -> bool:
    """Any month, one forecast, no budget, total basis: what the any-month baseline models."""
    o = inst.plan_options
    return o.get("purchase_months", "start") == "any" and not o.get("scenarios") \
        and o.get("budget") is None and o.get("monthly_budget") is None \
        and o.get("yearly_budget") is None and inst.catalog.tier_basis == "total"


def not_applicable(name: str, inst: Instance) -> str | None:
    """Why method `name` does not apply to `inst` (None when it does)."""
    kind, _ = split_method(name)
    if kind == "ours":
        return None
    if kind == "ours-milp":
        # The planner's integer program where it would use its dynamic program or cost
        # curves (one forecast, no budget), and the plain cohort model for any-month
        # scenarios; start-mode budgets and scenarios have no such switch.
        o = inst.plan_options
        if (not o.get("scenarios") or o.get("purchase_months") == "any") \
                and o.get("budget") is None and o.get("monthly_budget") is None:
            return None
        return "n/a (one forecast or any-month scenarios, no budget only)"
    if inst.start_mode_single:
        return None
    if kind in ("baseline", "baseline-pp") and _any_month_single(inst):
        return None
    if kind in ("baseline", "baseline-pp"):
        return "n/a (one forecast, no budget; start mode, or any month under the total basis)"
    return "n/a (start mode, one forecast, no budget only)"


def run_method(name: str, inst: Instance, time_limit: float | None,
               exhaustive_limit: int) -> dict:
    """Run one method on one instance; never raises (errors become the record's status)."""
    kind, solver = split_method(name)
    rec = {"method": name, "status": "error", "note": "", "build_s": 0.0, "solve_s": 0.0,
           "bill_s": 0.0, "wall_s": 0.0, "objective": None, "bound": None, "gap": None,
           "billed": None, "plan": None, "extra": {}, "problems": []}
    scale = money_scale(inst.catalog)
    t_start = time.perf_counter()
    why = not_applicable(name, inst) or (unavailable(solver) if solver else None)
    if why:
        rec["status"], rec["note"] = "skipped", why
        return rec
    try:
        if kind == "ours":
            _ours(rec, inst, solver, time_limit, scale)
        elif kind == "ours-milp":
            _ours(rec, inst, solver, time_limit, scale, algorithm="milp")
        elif kind == "ours-joint":
            _ours_joint(rec, inst, solver, time_limit, scale)
        elif kind in ("baseline", "baseline-pp"):
            _baseline(rec, inst, solver, time_limit, scale, joint=kind == "baseline")
        else:
            _exhaustive(rec, inst, time_limit, exhaustive_limit)
    except Exception as e:  # a crash is a result too: the runner fails the run on it
        rec["status"] = "error"
        rec["note"] = f"{type(e).__name__}: {e}"
        rec["extra"]["traceback"] = traceback.format_exc()
    rec["wall_s"] = time.perf_counter() - t_start
    return rec


def _ours(rec, inst, solver, time_limit, scale, algorithm=None):
    opts = inst.plan_options
    scenarios = inst.scenarios
    extra = {}
    if algorithm is not None:
        # ours-milp: the planner's integer program where it would use its dynamic program.
        import inspect
        if "algorithm" not in inspect.signature(plan).parameters:
            raise RuntimeError(f"{rec['method']} needs optimizer.solve.planner.plan(..., "
                               f"algorithm=...), which this checkout's planner lacks")
        extra["algorithm"] = algorithm
    # regret=False: the per-scenario "best alone" costs are a report extra (one more plan()
    # per scenario), not part of the optimisation this measures.
    with in_planner(solver):          # scip, cpsat: the planner's integer programs only
        r = plan(inst.catalog, inst.forecast, solver=solver, time_limit=time_limit,
                 regret=False, **opts, **extra)
    rec.update(build_s=r.build_seconds, solve_s=r.solve_seconds, bill_s=r.bill_seconds)
    rec["status"] = r.status
    rec["plan"] = _plan_rows(r.plan)
    rec["extra"]["models"] = len(r.solves)
    # How the planner solved it: "milp", "dp" (any month), "after-packs", "curves" or
    # "frontier" (scenarios, budgets).
    rec["extra"]["how"] = ", ".join(sorted({getattr(s, "method", "milp")
                                            for s in r.solves})) or "milp"
    if opts:
        rec["extra"]["mode"] = ", ".join(
            f"{k}={len(v) if k == 'scenarios' else v}" for k, v in opts.items())
    problems = rec["problems"]

    # Our own re-bill of the returned plan, on the base forecast.
    t0 = time.perf_counter()
    base = bill(inst.catalog, inst.forecast, r.plan)
    if base.total_cost != r.bill.total_cost:
        problems.append(f"the planner reports a base bill of {r.bill.total_cost} but the plan "
                        f"bills {base.total_cost}")
    budget = opts.get("budget")
    if budget is not None:
        rec["extra"]["budget"] = str(budget)
        rec["extra"]["pack_spend"] = str(base.pack_cost)
        if base.pack_cost > budget:
            problems.append(f"prepaid spend {base.pack_cost} exceeds the budget {budget}")
    if scenarios:
        # Every scenario re-billed; the weighted expected cost recomputed from those bills.
        if len(r.scenarios) != len(scenarios):
            problems.append(f"{len(scenarios)} scenarios given, {len(r.scenarios)} reported")
        weighted, total_w = Decimal(0), Decimal(0)
        for s, out in zip(scenarios, r.scenarios):
            cost = bill(inst.catalog, s.forecast, r.plan).total_cost
            if cost != out.bill.total_cost:
                problems.append(f"scenario {s.name}: the planner reports {out.bill.total_cost}"
                                f" but the plan bills {cost}")
            weighted += s.weight * cost          # exact: sums of products of decimals
            total_w += s.weight
        expected = weighted / total_w            # same division as PlanResult.expected_cost
        if expected != r.expected_cost:
            problems.append(f"the planner reports an expected cost of {r.expected_cost} but "
                            f"the re-billed scenarios give {expected}")
        rec["billed"] = str(expected)
        rec["objective"] = str(r.expected_cost)
        rec["extra"].update(base_billed=str(base.total_cost), weighted_sum=str(weighted),
                            weight_total=str(total_w), worst=str(r.worst_cost))
        rec["bill_s"] += time.perf_counter() - t0
        rec["gap"] = str(r.gap)
        rec["bound"] = str(r.expected_cost - r.gap)
        return
    rec["bill_s"] += time.perf_counter() - t0
    rec["billed"] = str(base.total_cost)
    # The solvers' own objective: per product models (or one joint model of a group), plus
    # the fixed cost of products without packs, which need no model.
    decided = {pid for s in r.solves for pid in s.products}
    units = sum(s.objective for s in r.solves if s.objective is not None)
    units += sum(to_units(pb.total_cost, scale) for pb in base.products
                 if pb.product not in decided)
    rec["objective"] = _money(units, scale) if all(s.objective is not None
                                                   for s in r.solves) else None
    rec["gap"] = str(r.gap)
    rec["bound"] = str(r.bill.total_cost - r.gap)


def _ours_joint(rec, inst, solver, time_limit, scale):
    from optimizer.domain.records import Plan, Purchase
    cat, fc = inst.catalog, inst.forecast
    t0 = time.perf_counter()
    prob = pulp.LpProblem("ours_joint", pulp.LpMinimize)
    models = []
    for i, (pid, calls) in enumerate(fc.demand):
        models.append(add_start_mode(prob, cat.product(pid), calls, fc.start,
                                     cat.validity_months, cat.tier_basis, scale, (), f"_{i}"))
    prob += pulp.lpSum(pm.cost for pm in models)
    rec["build_s"] = time.perf_counter() - t0
    rec["extra"].update(variables=len(prob.variables()), constraints=prob.numConstraints())
    out = solve(prob, solver, time_limit)
    rec["solve_s"] = out.seconds
    _solver_status(rec, out, scale)
    if not out.has_solution:
        return
    purchases = [Purchase(pm.product.id, fc.start, s, round(v.value() or 0))
                 for pm in models for s, v in sorted(pm.counts.items())
                 if round(v.value() or 0) > 0]
    _rebill(rec, inst, Plan(tuple(purchases), "ours-joint"))


def _baseline(rec, inst, solver, time_limit, scale, joint):
    # A plan stopped by the time limit may bill for less than its objective (any month:
    # its draws need not be the soonest-expiring-first ones billing makes), never more;
    # the gap is measured from the billed cost, and only "optimal" must bill to the fen.
    out = solve_baseline(inst.catalog, inst.forecast, solver, time_limit, joint,
                         inst.plan_options.get("purchase_months", "start"))
    rec.update(build_s=out.build_seconds, solve_s=out.solve_seconds)
    rec["status"] = out.status
    rec["note"] = "; ".join(dict.fromkeys(out.messages))
    rec["extra"].update(models=out.models, variables=out.variables,
                        constraints=out.constraints)
    rec["objective"] = _money(out.objective_units, scale)
    if out.bound_units is not None:
        rec["bound"] = _money(-(-out.bound_units // 1) if out.status != "optimal"
                              else out.objective_units, scale)
    if out.status in ("optimal", "feasible"):
        _rebill(rec, inst, out.plan)
        if out.status == "optimal":
            rec["gap"] = "0"
        elif rec["bound"] is not None:
            rec["gap"] = str(Decimal(rec["billed"]) - Decimal(rec["bound"]))


def _exhaustive(rec, inst, time_limit, limit):
    t0 = time.perf_counter()
    try:
        rec["extra"]["mixes"] = count_mixes(inst.catalog, inst.forecast, limit)
    except TooLarge as e:
        rec["status"], rec["note"] = "skipped", f"skipped: too large ({e})"
        return
    deadline = None if time_limit is None else t0 + time_limit
    try:
        out = search(inst.catalog, inst.forecast, deadline)
    except OutOfTime as e:
        rec["status"], rec["note"] = "no_solution", f"time limit: {e}"
        rec["solve_s"] = time.perf_counter() - t0
        return
    rec["solve_s"] = time.perf_counter() - t0     # enumeration and per-mix billing
    rec["status"] = "optimal"
    rec["objective"] = str(out.cost)
    rec["gap"] = "0"
    _rebill(rec, inst, out.plan)


def _solver_status(rec, out, scale):
    rec["status"] = out.status.value
    if out.status is not Status.OPTIMAL:
        rec["note"] = out.message
    rec["objective"] = _money(out.objective, scale) if out.objective is not None else None
    if out.status is Status.OPTIMAL:
        rec["bound"], rec["gap"] = rec["objective"], "0"
    elif out.bound is not None and out.objective is not None:
        rec["bound"] = _money(-(-out.bound // 1), scale)
        rec["gap"] = str(Decimal(rec["objective"]) - Decimal(rec["bound"]))


def _rebill(rec, inst, plan):
    t0 = time.perf_counter()
    b = bill(inst.catalog, inst.forecast, plan)
    rec["bill_s"] = time.perf_counter() - t0
    rec["billed"] = str(b.total_cost)
    rec["plan"] = _plan_rows(plan)
