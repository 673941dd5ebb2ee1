"""plan(): the minimum-cost purchase plan, proven optimal, re-billed before it is returned.

Products share nothing in start mode, so each gets its own small model (measured faster
than one joint model, see benchmarks/README.md). The billing engine re-bills the plan and
its cost must equal the solver's objective to the unit, or BillingMismatchError is raised.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

import pulp

from .billing import Bill, bill, make_lots
from .catalog import Catalog, Product
from .exceptions import BillingMismatchError, InfeasibleError, InputError, SolverError
from .inputs import Forecast, Holding, Plan, Purchase
from .model import add_start_mode, money_scale, to_units
from .solvers import SOLVERS, Status, solve

PURCHASE_MODES = ("start", "any")


@dataclass(frozen=True)
class ProductSolve:
    """How one product's model was solved (for benchmarks and -v output)."""

    product: str
    status: str
    objective: int | None      # money units
    bound: int | None
    seconds: float


@dataclass(frozen=True)
class PlanResult:
    status: str                 # "optimal" | "feasible"
    gap: Decimal                # proven absolute gap in currency, 0 when optimal
    gap_rel: float | None
    plan: Plan
    bill: Bill                  # re-billed: every reported amount comes from here
    solver: str
    purchase_months: str
    build_seconds: float
    solve_seconds: float
    bill_seconds: float
    solves: tuple[ProductSolve, ...] = ()


def _check_options(purchase_months: str, solver: str, time_limit) -> None:
    if purchase_months not in PURCHASE_MODES:
        raise InputError(f"--purchase-months must be one of {', '.join(PURCHASE_MODES)}",
                         field="purchase_months")
    if purchase_months == "any":
        raise InputError("--purchase-months any (purchases in later months) is not available "
                         "in this version; use --purchase-months start", field="purchase_months")
    if solver not in SOLVERS:
        raise InputError(f"--solver must be one of {', '.join(SOLVERS)}", field="solver")
    if time_limit is not None and time_limit <= 0:
        raise InputError("--time-limit must be a positive number of seconds", field="time_limit")


def _held_lots(catalog: Catalog, product: Product, forecast: Forecast, holdings):
    held = [h for h in holdings if h.product == product.id and h.expires >= forecast.start]
    lots = make_lots(product, [], held, forecast.start, catalog.validity_months)
    new_expiry = catalog.validity_months - 1
    late = [l for l in lots if l.expiry > new_expiry]
    if late and product.packs:
        raise InputError(f"{product.id}: a holding usable until {forecast.start + late[0].expiry} "
                         f"outlives packs bought now; start mode cannot order such holdings "
                         f"yet", field="expires")
    return lots


def plan(catalog: Catalog, forecast: Forecast, *, purchase_months: str = "start",
         solver: str = "highs", time_limit: float | None = None,
         holdings: tuple[Holding, ...] = ()) -> PlanResult:
    """The cheapest purchase plan for `forecast`, proven optimal unless time runs out."""
    _check_options(purchase_months, solver, time_limit)
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    scale = money_scale(catalog)
    build = solve_s = 0.0
    purchases: list[Purchase] = []
    solves: list[ProductSolve] = []
    objectives: dict[str, int] = {}
    gap_units = 0
    all_optimal = True
    for pid, calls in forecast.demand:
        product = catalog.product(pid)
        t0 = time.perf_counter()
        held = _held_lots(catalog, product, forecast, holdings)
        prob = pulp.LpProblem(f"packs_{len(solves)}", pulp.LpMinimize)
        pm = add_start_mode(prob, product, calls, forecast.start, catalog.validity_months,
                            catalog.tier_basis, scale, held)
        build += time.perf_counter() - t0
        if not pm.counts:                       # nothing to decide: postpaid only
            objectives[pid] = pm.constant
            continue
        prob += pm.cost
        remaining = None if deadline is None else max(deadline - time.perf_counter(), 0.01)
        out = solve(prob, solver, remaining)
        solve_s += out.seconds
        if out.status is Status.INFEASIBLE:
            raise InfeasibleError(f"{pid}: the model has no feasible plan")
        if out.status is Status.NO_SOLUTION:
            # Out of time before any plan: buying nothing is a valid plan; 0 bounds it.
            counts = {s: 0 for s in pm.counts}
            obj, bound = None, 0
            all_optimal = False
        elif not out.has_solution:
            raise SolverError(f"{pid}: the {solver} solver failed ({out.message})")
        else:
            counts = {s: round(v.value() or 0) for s, v in pm.counts.items()}
            obj = round(out.objective)
            bound = obj if out.status is Status.OPTIMAL else \
                (int(-(-out.bound // 1)) if out.bound is not None else 0)
            if out.status is Status.OPTIMAL:
                counts = _prefer_less_prepaid(prob, pm, obj, counts, solver, deadline)
            else:
                all_optimal = False
        solves.append(ProductSolve(pid, out.status.value, obj, bound, out.seconds))
        if obj is not None:
            objectives[pid] = obj
        for size, k in sorted(counts.items()):
            if k > 0:
                purchases.append(Purchase(pid, forecast.start, size, k))
        if obj is None or out.status is not Status.OPTIMAL:
            gap_units += None if obj is None else max(obj - bound, 0) or 0

    result_plan = Plan(tuple(purchases), "optimizer")
    t0 = time.perf_counter()
    billed = bill(catalog, forecast, result_plan, holdings)
    bill_s = time.perf_counter() - t0
    for pb in billed.products:
        units = to_units(pb.total_cost, scale)
        if pb.product in objectives and objectives[pb.product] != units:
            raise BillingMismatchError(
                f"{pb.product}: the model's cost {objectives[pb.product] / scale} differs from "
                f"the billed cost {pb.total_cost}; this is a bug in packopt")
    for s in solves:
        if s.objective is None:       # unsolved product: gap is its billed cost above 0
            gap_units += to_units(billed.product(s.product).total_cost, scale)
    gap = Decimal(gap_units) / scale
    status = "optimal" if all_optimal else "feasible"
    gap_rel = float(gap / billed.total_cost) if billed.total_cost else (0.0 if not gap else None)
    return PlanResult(status, gap if not all_optimal else Decimal(0), gap_rel if not all_optimal
                      else 0.0, result_plan, billed, solver, purchase_months, build, solve_s,
                      bill_s, tuple(solves))


def _prefer_less_prepaid(prob, pm, best: int, counts, solver, deadline):
    """Among plans of the optimal cost, take the one with the least prepaid spend (SPEC §3)."""
    spend = sum(to_units(pm.product.pack(s).price, 1) * k for s, k in counts.items())
    if spend == 0:
        return counts
    prob += pm.cost <= best + 0.5, "keep_optimal_cost"
    prob.setObjective(pm.pack_spend)
    remaining = None if deadline is None else max(deadline - time.perf_counter(), 0.01)
    out = solve(prob, solver, remaining)
    if out.status is Status.OPTIMAL:
        return {s: round(v.value() or 0) for s, v in pm.counts.items()}
    return counts


def rule_of_thumb(catalog: Catalog, forecast: Forecast, holdings: tuple[Holding, ...] = ()
                  ) -> Plan:
    """The common heuristic: the cheapest packs covering the year's calls, bought up front.

    "The year's calls" are those beyond the free quota (and beyond holdings) inside the
    packs' validity window.
    """
    window = min(catalog.validity_months, forecast.months)
    purchases = []
    for pid, calls in forecast.demand:
        product = catalog.product(pid)
        if not product.packs:
            continue
        held = sum(h.calls_left for h in holdings if h.product == pid
                   and h.expires >= forecast.start)
        need = sum(max(d - product.free_calls, 0) for d in calls[:window]) - held
        if need <= 0:
            continue
        for size, k in cheapest_cover(product, need).items():
            if k:
                purchases.append(Purchase(pid, forecast.start, size, k))
    return Plan(tuple(purchases), "rule of thumb")


def cheapest_cover(product: Product, need: int) -> dict[int, int]:
    """Cheapest pack counts whose calls add up to at least `need` (a covering knapsack)."""
    prob = pulp.LpProblem("cover", pulp.LpMinimize)
    biggest = max(p.calls for p in product.packs)
    bounds = _cover_bounds(product, need + biggest)
    n = {p.calls: prob.add_variable(f"n_{p.calls}", 0, bounds[p.calls], cat="Integer")
         for p in product.packs}
    prob += pulp.lpSum(to_units(p.price, 10 ** 6) * n[p.calls] for p in product.packs)
    prob += pulp.lpSum(s * v for s, v in n.items()) >= need
    out = solve(prob, "highs")
    if out.status is not Status.OPTIMAL:
        raise SolverError(f"{product.id}: could not size the rule-of-thumb packs")
    return {s: round(v.value() or 0) for s, v in n.items()}


def _cover_bounds(product: Product, cap: int) -> dict[int, int]:
    from .model import count_bounds
    return count_bounds(product, cap)
