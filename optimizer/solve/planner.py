"""plan(): the minimum-cost purchase plan, proven optimal, re-billed before it is returned.

Products that share no constraint are solved one small model each (faster than one joint
model; see benchmarks/README.md). A budget cap or a worst-case objective couples them into
one joint model. The billing engine re-bills every plan under every scenario and the
solver's objective must equal the billed cost to the unit, or BillingMismatchError is raised.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

import pulp

from ..billing import Bill, bill, make_lots, month_fee
from ..domain.catalog import Catalog, Product
from ..domain.money import money_scale, to_units
from ..domain.records import Forecast, Holding, Plan, Purchase, Scenario
from ..exceptions import BillingMismatchError, InfeasibleError, InputError, SolverError
from .any_milp import add_any_mode
from .demand import held_usage, residual_demand
from .dynamic import optimal_schedule
from .solvers import SOLVERS, Status, solve
from .start_milp import add_start_mode

PURCHASE_MODES = ("start", "any")
OBJECTIVES = ("expected", "worst-case")
CARRY_OVER = ("zero", "prorata")       # how unexpired balance at the horizon's end is valued
ALGORITHMS = ("auto", "milp")          # "milp": the integer program even where the DP applies


@dataclass(frozen=True)
class ScenarioOutcome:
    name: str
    weight: Decimal
    bill: Bill                    # the chosen plan billed under this scenario
    best_cost: Decimal | None     # cost of the plan that is optimal for this scenario alone

    @property
    def regret(self) -> Decimal | None:
        return None if self.best_cost is None else self.bill.total_cost - self.best_cost


@dataclass(frozen=True)
class ProductSolve:
    """How one model was solved (for benchmarks and verbose output)."""

    product: str                  # product id, or "all" for a joint model
    status: str
    objective: int | None         # money units (weighted in scenario mode)
    bound: int | None
    seconds: float
    method: str = "milp"          # "milp" | "dp" (schedule.py) | "curves" (frontier.py)


@dataclass(frozen=True)
class PlanResult:
    status: str                   # "optimal" | "feasible"
    gap: Decimal                  # proven absolute gap in currency, 0 when optimal
    gap_rel: float | None
    plan: Plan
    bill: Bill                    # re-billed on the base forecast: report money from here
    solver: str
    purchase_months: str
    build_seconds: float
    solve_seconds: float
    bill_seconds: float
    solves: tuple[ProductSolve, ...] = ()
    scenarios: tuple[ScenarioOutcome, ...] = ()
    objective: str = "expected"
    budget: Decimal | None = None
    monthly_budget: Decimal | None = None
    carry_over: str = "zero"      # what the optimiser minimised: cost, or cost less prorata

    @property
    def method(self) -> str:
        """How the plan was found, for people comparing solvers."""
        methods = {s.method for s in self.solves} or {"milp"}
        names = {"milp": f"solver {self.solver}", "dp": "exact dynamic program",
                 "curves": "exact cost curves"}
        return " + ".join(names[m] for m in sorted(methods))

    @property
    def expected_cost(self) -> Decimal:
        """Weighted mean of the scenarios' billed costs (the base cost without scenarios)."""
        if not self.scenarios:
            return self.bill.total_cost
        total_w = sum(s.weight for s in self.scenarios)
        return sum(s.weight * s.bill.total_cost for s in self.scenarios) / total_w

    @property
    def worst_cost(self) -> Decimal:
        if not self.scenarios:
            return self.bill.total_cost
        return max(s.bill.total_cost for s in self.scenarios)


class _Clock:
    def __init__(self, limit: float | None):
        self.deadline = None if limit is None else time.perf_counter() + limit

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(self.deadline - time.perf_counter(), 0.01)


def _check_options(catalog, forecast, purchase_months, solver, time_limit, scenarios,
                   objective, budget, monthly_budget, carry_over, algorithm) -> None:
    if purchase_months not in PURCHASE_MODES:
        raise InputError(f"--purchase-months must be one of {', '.join(PURCHASE_MODES)}",
                         field="purchase_months")
    if carry_over not in CARRY_OVER:
        raise InputError(f"--carry-over-value must be one of {', '.join(CARRY_OVER)}",
                         field="carry_over_value")
    if algorithm not in ALGORITHMS:
        raise InputError(f"algorithm must be one of {', '.join(ALGORITHMS)}", field="algorithm")
    if carry_over == "prorata":
        # The credit is priced exactly by the dynamic program, which needs the total basis
        # and one forecast with no spending caps.
        why = ("the after-packs tier basis" if catalog.tier_basis != "total" else
               "--scenarios" if scenarios else
               "--budget" if budget is not None else
               "--monthly-budget" if monthly_budget is not None else None)
        if why:
            raise InputError(f"--carry-over-value prorata is not available with {why}; "
                             f"use --carry-over-value zero", field="carry_over_value")
    if purchase_months == "any" and len(scenarios) > 1:
        raise InputError("--scenarios with --purchase-months any is not available yet; use "
                         "--purchase-months start", field="purchase_months")
    if solver not in SOLVERS:
        raise InputError(f"--solver must be one of {', '.join(SOLVERS)}", field="solver")
    if time_limit is not None and time_limit <= 0:
        raise InputError("--time-limit must be a positive number of seconds", field="time_limit")
    if objective not in OBJECTIVES:
        raise InputError(f"--objective must be one of {', '.join(OBJECTIVES)}", field="objective")
    for name, cap in (("--budget", budget), ("--monthly-budget", monthly_budget)):
        if cap is not None and (not cap.is_finite() or cap < 0):
            raise InputError(f"{name} must be a non-negative amount, not {cap}", field=name[2:])
    for s in scenarios:
        if s.weight <= 0:
            raise InputError(f"scenario '{s.name}' has weight {s.weight}; weights must be "
                             f"positive", field="weight")
        f = s.forecast
        if (f.start, f.months) != (forecast.start, forecast.months):
            raise InputError(f"scenario '{s.name}' covers {f.start} for {f.months} months but "
                             f"the forecast covers {forecast.start} for {forecast.months}",
                             field="month")
        if f.products() != forecast.products():
            raise InputError(f"scenario '{s.name}' has products {', '.join(f.products())} but "
                             f"the forecast has {', '.join(forecast.products())}",
                             field="product")


def _held_lots(catalog: Catalog, product: Product, forecast: Forecast, holdings,
               late_ok: bool = True):
    """Holdings as (lots that expire no later than any new pack, late ones).

    The first are drawn before every purchase, so they only lower the residual demand.
    A late one, (last usable month index, calls), outlives packs bought in the first month
    and is drawn between purchases by expiry: only the general cohort model takes it.
    """
    held = [h for h in holdings if h.product == product.id and h.expires >= forecast.start]
    lots = make_lots(product, [], held, forecast.start, catalog.validity_months)
    early = [l for l in lots if l.expiry <= catalog.validity_months - 1 or not product.packs]
    late = [(l.expiry, l.calls) for l in lots if l not in early]
    if late and not late_ok:
        raise InputError(f"{product.id}: a holding usable until {forecast.start + late[0][0]} "
                         f"outlives packs bought in the first month; with scenarios such "
                         f"holdings are not supported", field="expires")
    return early, late


def _integer_weights(scenarios) -> list[int]:
    """Scenario weights as integers with the same ratios, so objectives stay integral."""
    exp = max(-min(s.weight.normalize().as_tuple().exponent, 0) for s in scenarios)
    return [int(s.weight * 10 ** exp) for s in scenarios]


def plan(catalog: Catalog, forecast: Forecast, *, purchase_months: str = "start",
         solver: str = "highs", time_limit: float | None = None,
         holdings: tuple[Holding, ...] = (), scenarios: tuple[Scenario, ...] = (),
         objective: str = "expected", budget: Decimal | None = None,
         monthly_budget: Decimal | None = None, regret: bool = True,
         carry_over: str = "zero", algorithm: str = "auto") -> PlanResult:
    """The cheapest purchase plan, proven optimal unless the time limit stops the solver.

    With `scenarios`, packs are chosen once and postpaid follows each scenario; the
    objective is the weighted expected cost or the worst scenario's cost. `budget` caps the
    total prepaid spend (`monthly_budget` the spend of any one month). With `carry_over`
    "prorata" the objective is the cost less the prorata value of the balance left at the
    horizon's end (the bill reports both). Single-forecast any-month plans under the total
    basis (and prorata plans) are solved exactly by the dynamic program in schedule.py;
    `algorithm="milp"` forces the integer program instead where it can.
    """
    scenarios = tuple(scenarios)
    _check_options(catalog, forecast, purchase_months, solver, time_limit, scenarios,
                   objective, budget, monthly_budget, carry_over, algorithm)
    clock = _Clock(time_limit)
    scale = money_scale(catalog)
    series_set = [s.forecast for s in scenarios] or [forecast]
    weights = _integer_weights(scenarios) if scenarios else [1]
    def units(c):
        return None if c is None else to_units(
            c.quantize(Decimal(1) / scale, rounding="ROUND_FLOOR"), scale)
    cap, month_cap = units(budget), units(monthly_budget)
    if purchase_months == "start" and month_cap is not None:
        # One purchase month: the monthly cap is a cap on the whole spend.
        cap = month_cap if cap is None else min(cap, month_cap)
        month_cap = None
    coupled = cap is not None or month_cap is not None or (
        objective == "worst-case" and len(series_set) > 1)
    pids = forecast.products()
    groups = [pids] if coupled else [[pid] for pid in pids]

    build = solve_s = 0.0
    counts: dict[str, dict[int, int]] = {}
    solves: list[ProductSolve] = []
    # group -> (solver objective or None, proven lower bound, proven optimal?), money units
    expect: dict[tuple[str, ...], tuple[int | None, float, bool]] = {}
    all_optimal = True
    if month_cap is None and purchase_months == "start" \
            and (objective == "expected" or len(series_set) == 1) \
            and (cap is not None or len(series_set) > 1):
        # Budgets and scenarios in start mode: exact on the products' cost curves (much
        # faster than the integer programs); None when a curve would be too large, and
        # then the models below.
        t0 = time.perf_counter()
        done = _solve_on_curves(catalog, forecast, series_set, weights, holdings, scale, cap,
                                solver, clock)
        if done is not None:
            counts, obj, seconds = done
            build += time.perf_counter() - t0 - seconds
            solve_s += seconds
            solves.append(ProductSolve("all", "optimal", obj, obj, seconds, "curves"))
            expect[tuple(pids)] = (obj, obj, True)
            groups = []
        else:
            build += time.perf_counter() - t0
    prorata = carry_over == "prorata"
    if not coupled and len(series_set) == 1 and catalog.tier_basis == "total" and (
            prorata or (purchase_months == "any" and algorithm == "auto")):
        # Exact and fast: one shortest path per product (schedule.py); a product with a
        # holding that outlives new packs goes to the general model below.
        groups, seconds = _plan_by_schedule(catalog, forecast, holdings, scale, purchase_months,
                                            prorata, counts, solves, expect)
        solve_s += seconds
    for gi, group in enumerate(groups):
        t0 = time.perf_counter()
        prob = pulp.LpProblem(f"packs_{gi}", pulp.LpMinimize)
        models = {}
        for pi, pid in enumerate(group):
            product = catalog.product(pid)
            held, late = _held_lots(catalog, product, forecast, holdings,
                                    late_ok=len(series_set) == 1)
            if late:
                calls = forecast.calls(pid)
                models[pid] = add_any_mode(
                    prob, product, calls, residual_demand(product, calls, forecast.start, held),
                    catalog.validity_months, catalog.tier_basis, scale, tag=f"_{pi}",
                    late=late, start_only=purchase_months == "start")
            elif purchase_months == "start":
                models[pid] = add_start_mode(
                    prob, product, [f.calls(pid) for f in series_set], forecast.start,
                    catalog.validity_months, catalog.tier_basis, scale, held, tag=f"_{pi}",
                    weights=weights if objective == "expected" else None)
            else:
                calls = forecast.calls(pid)
                models[pid] = add_any_mode(
                    prob, product, calls, residual_demand(product, calls, forecast.start, held),
                    catalog.validity_months, catalog.tier_basis, scale, tag=f"_{pi}")
        spend = pulp.lpSum(pm.pack_spend for pm in models.values())
        if objective == "worst-case" and len(series_set) > 1:
            # worst: the dearest scenario's cost, which the objective pushes down.
            worst = prob.add_variable(f"worst_{gi}", 0)
            for k in range(len(series_set)):
                prob += worst >= spend + pulp.lpSum(pm.postpaid[k] for pm in models.values()), \
                    f"worst_{gi}_{k}"
            goal = worst
        else:
            goal = sum(weights) * spend + pulp.lpSum(
                pm.postpaid[0] if pm.weighted else
                pulp.lpSum(w * pm.postpaid[k] for k, w in enumerate(weights))
                for pm in models.values())
        if cap is not None:
            # Prepaid spend stays within the budget.
            prob += spend <= cap, "budget"
        if month_cap is not None:
            # Each month's prepaid spend stays within the monthly budget.
            for t in range(forecast.months):
                month_spend = [pm.price_of(key) * v for pm in models.values()
                               for key, v in pm.counts.items() if key[0] == t]
                if month_spend:
                    prob += pulp.lpSum(month_spend) <= month_cap, f"budget_{t}"
        build += time.perf_counter() - t0
        decided = [pid for pid, pm in models.items() if pm.counts]
        if not decided:
            for pid in group:
                counts[pid] = {}
            fixed = round(pulp.value(goal) if not isinstance(goal, int) else goal)
            expect[tuple(group)] = (fixed, fixed, True)
            continue
        prob += goal
        out = solve(prob, solver, clock.remaining())
        solve_s += out.seconds
        if out.status is Status.INFEASIBLE:
            raise InfeasibleError("no plan satisfies these options (the solver proved the "
                                  "model infeasible)")
        if out.status is Status.NO_SOLUTION:
            # Out of time before any plan: buying nothing is a valid plan; 0 bounds the cost.
            for pid in group:
                counts[pid] = {}
            all_optimal = False
            solves.append(ProductSolve(group[0] if len(group) == 1 else "all", out.status.value,
                                       None, 0, out.seconds))
            expect[tuple(group)] = (None, 0, False)
            continue
        if not out.has_solution:
            raise SolverError(f"the {solver} solver failed on "
                              f"{group[0] if len(group) == 1 else 'the joint model'} "
                              f"({out.message})")
        obj = round(out.objective)
        values = {pid: {s: round(v.value() or 0) for s, v in pm.counts.items()}
                  for pid, pm in models.items()}
        if out.status is Status.OPTIMAL:
            values = _prefer_less_prepaid(prob, goal, spend, models, obj, values, solver, clock,
                                          out.seconds)
            bound = obj
        else:
            all_optimal = False
            # Every cost is non-negative, so 0 bounds it even before the solver proves more.
            bound = max(out.bound, 0) if out.bound is not None else 0
        solves.append(ProductSolve(group[0] if len(group) == 1 else "all", out.status.value,
                                   obj, round(bound), out.seconds))
        counts.update(values)
        expect[tuple(group)] = (obj, bound, out.status is Status.OPTIMAL)

    def when(key):
        return (0, key) if isinstance(key, int) else key
    purchases = tuple(Purchase(pid, forecast.start + when(key)[0], when(key)[1], k)
                      for pid in pids
                      for key, k in sorted(counts.get(pid, {}).items(), key=lambda kv: when(kv[0]))
                      if k)
    result_plan = Plan(purchases, "optimizer")

    t0 = time.perf_counter()
    bills = [bill(catalog, f, result_plan, holdings) for f in series_set]
    base_bill = bill(catalog, forecast, result_plan, holdings) if scenarios else bills[0]
    bill_s = time.perf_counter() - t0
    gap_units = _verify(expect, bills, weights, objective, scale, len(series_set), prorata)
    if objective == "expected":
        gap_units /= sum(weights)
    gap = (Decimal(gap_units) / scale).quantize(Decimal(1) / scale) if not all_optimal \
        else Decimal(0)
    ref = base_bill.total_cost
    gap_rel = 0.0 if all_optimal else (float(gap / ref) if ref else None)

    outcomes = ()
    if scenarios:
        outcomes = tuple(
            ScenarioOutcome(s.name, s.weight, b,
                            _best_cost(catalog, s.forecast, solver, holdings, budget,
                                       monthly_budget) if regret else None)
            for s, b in zip(scenarios, bills))
    return PlanResult("optimal" if all_optimal else "feasible", gap, gap_rel, result_plan,
                      base_bill, solver, purchase_months, build, solve_s, bill_s, tuple(solves),
                      outcomes, objective, budget, monthly_budget, carry_over)


def _plan_by_schedule(catalog, forecast, holdings, scale, purchase_months, prorata, counts,
                      solves, expect):
    """Each product's plan from the dynamic program, recorded like a solved model; returns
    the products it cannot take (one group each) and the seconds it spent."""
    general, total = [], 0.0
    for pid in forecast.products():
        t0 = time.perf_counter()
        product = catalog.product(pid)
        held, late = _held_lots(catalog, product, forecast, holdings)
        if late:
            if prorata:
                raise InputError(f"{pid}: --carry-over-value prorata is not available with a "
                                 f"holding that outlives new packs (usable until "
                                 f"{forecast.start + late[0][0]})", field="expires")
            general.append([pid])
            continue
        calls = forecast.calls(pid)
        sch = optimal_schedule(product, calls,
                               residual_demand(product, calls, forecast.start, held),
                               catalog.validity_months, scale,
                               start_only=purchase_months == "start", prorata=prorata)
        seconds = time.perf_counter() - t0
        total += seconds
        counts[pid] = dict(sch.counts)
        solves.append(ProductSolve(pid, "optimal", sch.objective, sch.objective, seconds, "dp"))
        expect[(pid,)] = (sch.objective, sch.objective, True)
    return general, total


def _solve_on_curves(catalog, forecast, series_set, weights, holdings, scale, cap, solver,
                     clock):
    """Start-mode plan from exact per-product cost curves (see frontier.py), weighted over
    scenarios, under a budget if `cap` is set."""
    from .budget import solve_budget
    from .curves import best_point, capacity_curve, needed_top, weighted_curve
    curves, fixed = {}, 0
    for pid, _ in forecast.demand:
        product = catalog.product(pid)
        held, late = _held_lots(catalog, product, forecast, holdings,
                                late_ok=len(series_set) == 1)
        if late:
            return None                  # the general model below takes it
        series = [f.calls(pid) for f in series_set]
        if not product.packs:
            fixed += sum(w * sum(to_units(month_fee(product, d, u, catalog.tier_basis)[4], scale)
                                 for d, u in zip(s, held_usage(product, s, forecast.start, held)))
                         for s, w in zip(series, weights))
            continue
        top = max(needed_top(product, s, forecast.start, catalog.validity_months, held)
                  for s in series)
        parts = [capacity_curve(product, s, forecast.start, catalog.validity_months,
                                catalog.tier_basis, scale, held, top) for s in series]
        if any(c is None for c in parts):
            return None
        curves[pid] = weighted_curve(parts, weights) if len(parts) > 1 else parts[0]
    t0 = time.perf_counter()
    if cap is None:
        ks = {pid: best_point(c) for pid, c in curves.items()}
        obj = fixed + sum(int(c.cost[ks[pid]]) for pid, c in curves.items())
    else:
        ks, obj, status = solve_budget(curves, fixed, cap, solver, clock.remaining())
        if status is Status.INFEASIBLE:
            raise InfeasibleError("no plan keeps prepaid spend within the budget")
        if status is not Status.OPTIMAL:
            return None
    return ({pid: dict(curves[pid].counts(ks[pid])) for pid in curves}, obj,
            time.perf_counter() - t0)


def _verify(expect, bills, weights, objective, scale, n_series, prorata=False) -> float:
    """Check every model against the billing engine; return the proven gap (units).

    A proven optimum must equal its billed cost to the unit. A plan stopped early may bill
    for less than the model says (the any-month model may let balance lapse that billing
    draws automatically), never for more; its gap is measured from the billed cost. With
    prorata carry-over the objective is the billed cost less the billed carry-over value.
    """
    gap = 0.0
    for group, (obj, bound, optimal) in expect.items():
        per_series = [sum(to_units(b.product(pid).total_cost - (
            b.product(pid).carry_over_value if prorata else 0), scale) for pid in group)
            for b in bills]
        if objective == "worst-case" and n_series > 1:
            billed = max(per_series)
        else:
            billed = sum(w * c for w, c in zip(weights, per_series))
        if (optimal and billed != obj) or (obj is not None and billed > obj):
            name = group[0] if len(group) == 1 else "the joint model"
            raise BillingMismatchError(
                f"{name}: the model's cost {obj} differs from the billed cost {billed} "
                f"(in 1/{scale} units); this is a bug in packopt")
        if not optimal:
            gap += max(billed - bound, 0)
    return gap


def _best_cost(catalog, forecast, solver, holdings, budget, monthly_budget) -> Decimal:
    return plan(catalog, forecast, solver=solver, holdings=holdings, budget=budget,
                monthly_budget=monthly_budget).bill.total_cost


TIE_BREAK_SHARE = 0.5     # of the first solve's time, for the least-prepaid re-solve


def _prefer_less_prepaid(prob, goal, spend, models, best: int, values, solver, clock,
                         first_seconds: float):
    """Among plans of the optimal cost, take the one with the least prepaid spend (SPEC §3).

    The re-solve keeps the optimal cost as a constraint, so any plan it returns is optimal;
    it gets half the first solve's time (at least 0.2 s), since proving the least spend
    can take as long again and the cost is already proven. Start-mode models finish well
    within it; a plan it cannot improve in time is kept as it is.
    """
    if not any(k for v in values.values() for k in v.values()):
        return values
    prob += goal <= best + 0.5, "keep_optimal_cost"
    prob.setObjective(spend)
    limit = max(0.2, TIE_BREAK_SHARE * first_seconds)
    remaining = clock.remaining()
    out = solve(prob, solver, limit if remaining is None else min(limit, remaining), warm=True)
    if out.has_solution and out.objective is not None:
        better = {pid: {s: round(v.value() or 0) for s, v in pm.counts.items()}
                  for pid, pm in models.items()}
        before = sum(pm.price_of(s) * values[pid].get(s, 0) for pid, pm in models.items()
                     for s in pm.counts)
        if round(out.objective) <= before:
            return better
    return values
