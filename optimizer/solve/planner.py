"""plan(): the minimum-cost purchase plan, proven optimal, re-billed before it is returned.

plan() runs these steps, one function each:

1. check (`_check_options`): the options, and the scenarios against the forecast;
2. route (`_route`): which engine of engines.py serves which products. Products that share
   no constraint are solved one small model each (faster than one joint model; see
   benchmarks/README.md); a budget cap or a worst-case objective couples them into one
   joint model. The dynamic program takes one-forecast plans under the total basis in
   either purchase mode (or with prorata carry-over), the after-packs search
   (after_packs.py) any-month plans under the after-packs basis, the spend frontiers
   any-month budgets, the cost curves start-mode budgets, scenarios (the worst case too)
   and one-forecast plans under after-packs, and the integer programs the rest,
   `algorithm="milp"`, and whatever the others decline;
3. solve (`_solve`): every engine returns an `EngineResult`;
4. assemble (`_assemble`): the Plan from the engines' pack counts;
5. re-bill and verify (`_verify`): the billing engine re-bills the plan under every
   scenario and each engine's objective must equal the billed cost to the unit, or
   BillingMismatchError is raised (an integer program's mismatch is the solver's numerical
   trouble instead: solved once more with the other solver, then SolverError); the proven
   gap follows from the bounds;
6. scenario outcomes (`_outcomes`): each scenario's bill, and its regret.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache, partial
from typing import Callable

from ..billing import Bill, bill, scenario_notes
from ..domain.catalog import Catalog
from ..domain.money import money_scale, to_units
from ..domain.records import Forecast, Holding, Plan, Purchase, Scenario
from ..exceptions import BillingMismatchError, InfeasibleError, InputError, SolverError
from ..io.text import too_large
from .dynamic import use_compiled
from .engines import (
    STRICT,
    Clock,
    CostBounds,
    EngineResult,
    Request,
    Room,
    by_after_packs,
    by_dynamic_program,
    by_integer_program,
    combined_costs,
    holds_late,
    on_cost_curves,
    on_frontiers,
    on_worst_curves,
    purchase_key,
    relaxed_cap,
    spend_of,
    spend_of_counts,
    searched_alone,
    tell_binding,
    trim_to,
    unit_prices,
    with_bounds,
)
from .fallback import block_cover
from .limits import check_request
from .split import split_rooms

PURCHASE_MODES = ("start", "any")
OBJECTIVES = ("expected", "worst-case")
CARRY_OVER = ("zero", "prorata")       # how unexpired balance at the horizon's end is valued
SOLVERS = ("highs", "cbc")             # solvers.py's adapters (imported when one runs)
ALGORITHMS = ("auto", "milp")          # "milp": the integer program even where the DP applies
YEAR = 12           # months in one block of --yearly-budget
RENEWALS = (YEAR, 6, 3, 1)  # the rule of thumb's, for what a time limit stopped (any month)
# Without a time limit, the figures that follow a plan (each scenario's own optimum behind
# regret, the value of raising a cap) get this long, or so many times the plan's own time:
# one of them can be a request far harder than the plan (a binding cap), and a user who set
# no limit for the plan expects it back, not a run that never ends for a side figure.
FOLLOW_UP_FLOOR = 30.0
FOLLOW_UP_FACTOR = 2.0
# _apart_under_caps is a heuristic with a proof: the most it may take (seconds), and the
# most for one product in the room others leave (one that takes longer seldom fits):
# ROOM_FACTOR times its solve alone under the whole caps, at least APART_ROOM_SECONDS (a
# 24-month after-packs model of three scenarios took 1.2 s alone and 2.5 s to fit a room).
APART_SECONDS = 20.0
APART_ROOM_SECONDS = 2.0
ROOM_FACTOR = 4.0
# A block grows a product at a time, each step a model of the whole block: beyond a few
# products that is the joint model solved piecemeal, slower than at once (measured on the
# example under --monthly-budget 8000: 9.7 s against 3 s).
APART_BLOCK = 3
# The total basis, a relaxation of after-packs that the faster exact searches plan, gets
# this long at most (`_total_relaxation`) before the capped after-packs models.
TOTAL_SECONDS = 20.0
# The cap's room split between the products a cap binds (split.py) gets this share of the
# time left before their joint model.
SPLIT_SHARE = 0.5
SOLVE_THREADS = 2    # products solved at once: the compiled search and HiGHS free the GIL
MAX_MONTHS = 120     # the longest horizon planned (10 years; measured in benchmarks/README.md)


@dataclass(frozen=True)
class ScenarioOutcome:
    name: str
    weight: Decimal
    bill: Bill                    # the chosen plan billed under this scenario
    best_cost: Decimal | None     # cost of the plan that is optimal for this scenario alone
    net: bool = False             # prorata: costs less carry-over value, as optimised

    @property
    def regret(self) -> Decimal | None:
        if self.best_cost is None:
            return None
        return (self.bill.net_cost if self.net else self.bill.total_cost) - self.best_cost


@dataclass(frozen=True)
class ProductSolve:
    """How one model was solved (for benchmarks and verbose output)."""

    product: str                  # product id, or "all" for a joint model
    status: str
    objective: int | None         # money units (weighted in scenario mode)
    bound: int | None
    seconds: float
    method: str = "milp"          # "milp" | "dp" (dynamic.py) | "after-packs" (after_packs.py)
                                  # | "curves" (curves.py) | "frontier" (frontier.py)
    products: tuple[str, ...] = ()  # the products it decided (`product` names a group of
                                    # more than three only by its size)


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
    # The wall time of the whole search for the plan: every phase tried before the models
    # that decided it (`solve_seconds` counts only theirs), retries, billing and checks;
    # not the regrets that follow.
    search_seconds: float = 0.0
    scenarios: tuple[ScenarioOutcome, ...] = ()
    objective: str = "expected"
    budget: Decimal | None = None
    monthly_budget: Decimal | None = None
    carry_over: str = "zero"      # what the optimiser minimised: cost, or cost less prorata
    yearly_budget: Decimal | None = None    # cap on each 12-month block's prepaid spend
    tie_break_proven: bool = True # among plans of the optimal cost, the tie-break keys proven
    uncapped_optimal: bool = False  # also the optimum with every cap lifted: none binds
    uncapped: PlanResult | None = None  # the optimum with every cap lifted, where the
                                        # planner proved it on the way (else None)

    @property
    def method(self) -> str:
        """How the plan was found, for people comparing solvers."""
        methods = {s.method for s in self.solves} or {"milp"}
        names = {"milp": f"solver {self.solver}", "dp": "exact dynamic program",
                 "after-packs": "exact after-packs search", "curves": "exact cost curves",
                 "frontier": "exact spend frontiers"}
        return " + ".join(names[m] for m in sorted(methods))

    @property
    def expected_cost(self) -> Decimal:
        """Weighted mean of the scenarios' billed costs (the base cost without scenarios)."""
        return self._expected(lambda b: b.total_cost)

    @property
    def worst_cost(self) -> Decimal:
        return self._worst(lambda b: b.total_cost)

    @property
    def objective_cost(self) -> Decimal:
        """What the planner minimised: the expected or the worst scenario's cost, under
        prorata carry-over net of the carry-over credit."""
        cost = (lambda b: b.net_cost) if self.carry_over == "prorata" else \
            (lambda b: b.total_cost)
        return self._worst(cost) if self.objective == "worst-case" else self._expected(cost)

    def _expected(self, cost) -> Decimal:
        if not self.scenarios:
            return cost(self.bill)
        total_w = sum(s.weight for s in self.scenarios)
        return sum(s.weight * cost(s.bill) for s in self.scenarios) / total_w

    def _worst(self, cost) -> Decimal:
        if not self.scenarios:
            return cost(self.bill)
        return max(cost(s.bill) for s in self.scenarios)



def plan(catalog: Catalog, forecast: Forecast, *, purchase_months: str = "start",
         solver: str = "highs", time_limit: float | None = None,
         holdings: tuple[Holding, ...] = (), scenarios: tuple[Scenario, ...] = (),
         objective: str = "expected", budget: Decimal | None = None,
         monthly_budget: Decimal | None = None, regret: bool = True,
         carry_over: str = "zero", algorithm: str = "auto",
         yearly_budget: Decimal | None = None, tie_break: bool = True,
         on_binding: Callable[[dict], None] | None = None,
         threads: int = SOLVE_THREADS, wide: threading.Event | None = None,
         cancel: threading.Event | None = None, known: dict | None = None) -> PlanResult:
    """The cheapest purchase plan, proven optimal unless the time limit stops the solver.

    With `scenarios`, packs are chosen once and postpaid follows each scenario; the
    objective is the weighted expected cost or the worst scenario's cost. `budget` caps the
    total prepaid spend (`monthly_budget` the spend of any one month, `yearly_budget` that
    of each 12-month block from the horizon's start: months 0-11, 12-23, ...). With `carry_over`
    "prorata" the objective is the cost less the prorata value of the balance left at the
    horizon's end (the bill reports both). Single-forecast plans without a budget are solved
    exactly without a solver: by the dynamic program in dynamic.py under the total basis
    (and for prorata plans), by the exact search in after_packs.py in any month under
    after-packs, by the cost curves of curves.py in start mode under after-packs;
    `algorithm="milp"` forces the integer program instead where it can. `tie_break=False`
    skips an integer program's re-solves for the tie-break keys, for callers that need
    only the optimal cost (the plan is then one of that cost, not necessarily SPEC's).
    `on_binding` is called once, from a solving thread, when the caps are proven to raise
    the optimal cost and only the tie-break re-solves remain (they use one core): the
    value of the cap's plan under raised caps can run beside them. It is given what the
    plan proved that a plan of the same request under other caps can reuse: pass it as
    that plan's `known` (its products' optima without the caps are then not solved
    again). `threads`: products solved at once; `wide`, an Event: until it is set, one at
    a time (a plan running beside another takes the second core once that one is done).
    `cancel`, an Event: once it is set, the time limit counts as reached (work nobody
    waits for any more).
    """
    scenarios = tuple(scenarios)
    _check_options(catalog, forecast, purchase_months, solver, time_limit, scenarios,
                   objective, budget, monthly_budget, carry_over, algorithm, yearly_budget)
    req = replace(_request(catalog, forecast, holdings, scenarios, purchase_months, solver,
                           time_limit, objective, budget, monthly_budget, carry_over,
                           algorithm, yearly_budget, tie_break, cancel),
                  on_binding=on_binding, threads=max(1, threads), wide=wide)
    if known and known.get("uncapped"):
        req.found["given uncapped"] = known["uncapped"]
    check_request(req)                          # sizes beyond the documented limits
    started = time.perf_counter()
    with _stopped_by(cancel):
        req, results, result_plan, bills, base_bill, bill_s, gap_units = _solved(req)
    searched = time.perf_counter() - started
    all_optimal = all(r.optimal for r in results)
    uncapped_optimal = all_optimal and (not req.coupled or all(r.uncapped for r in results))
    if objective == "expected":
        gap_units /= sum(req.weights)
    gap = (Decimal(gap_units) / req.scale).quantize(Decimal(1) / req.scale) \
        if not all_optimal else Decimal(0)
    ref = base_bill.total_cost
    gap_rel = 0.0 if all_optimal else (float(gap / ref) if ref else None)

    return PlanResult(
        status="optimal" if all_optimal else "feasible", gap=gap, gap_rel=gap_rel,
        plan=result_plan, bill=base_bill, solver=req.solver.removesuffix(STRICT),
        purchase_months=purchase_months,
        build_seconds=sum(r.build_seconds for r in results),
        solve_seconds=sum(r.seconds for r in results), bill_seconds=bill_s,
        solves=tuple(ProductSolve(r.label, r.status, r.objective, round(r.bound), r.seconds,
                                  r.method, r.products) for r in results if r.modelled),
        search_seconds=searched,
        scenarios=_outcomes(replace(req, clock=follow_up_clock(
            req.clock, searched)), bills, budget, monthly_budget, regret,
            yearly_budget),
        objective=objective, budget=budget, monthly_budget=monthly_budget,
        carry_over=carry_over, yearly_budget=yearly_budget,
        tie_break_proven=all_optimal and all(r.tie_break for r in results),
        uncapped_optimal=uncapped_optimal,
        uncapped=None if uncapped_optimal else _uncapped_result(req))


def _solved(req: Request) -> tuple[Request, list[EngineResult], Plan, list[Bill], Bill,
                                     float, float]:
    """The request solved, assembled, re-billed under every scenario (and the base forecast)
    and verified: (the request as finally solved, results, plan, bills, base bill, billing
    seconds, the gap in money units)."""
    solver = req.solver
    first = None        # the first answer that did not bill to its own cost
    while True:
        try:
            # (routed inside: see _route; what a time limit stopped, against the rule of
            # thumb)
            solving = _one_series(req)
            results = _better_when_stopped(solving, _solve(solving))
        except InfeasibleError:
            if first is None:
                raise
            # A retry calling the model infeasible where the first solve found a plan in
            # it: floating point again (HiGHS's tightened tolerances on a few hundred
            # million calls a month under `--budget 0`, where buying nothing is a plan).
            # The next solver, or the first answer as `feasible`, its bound lowered by
            # the difference.
            results = None
        if results is not None:
            result_plan = _assemble(req.forecast, results)
            t0 = time.perf_counter()
            bills, base_bill = _bills(req, result_plan)
            bill_s = time.perf_counter() - t0
            try:
                return req, results, result_plan, bills, base_bill, bill_s, \
                    _verify(req, results, bills)
            except _NumericalTrouble as e:
                # An integer program's answer that does not bill to its own cost: the
                # solver's floating point, not the model. Solve once more with HiGHS's
                # tolerances tightened (solvers.STRICT_OPTIONS), then with the other
                # solver; with no time left for that, the plan stands as `feasible`, its
                # bound lowered by the difference.
                trouble = e
                first = first or (req, results, result_plan, bills, base_bill, bill_s)
        other = next(s for s in SOLVERS if s != solver)
        then = ["highs" + STRICT] + (["cbc"] if solver == "highs" else [])
        tried = then.index(req.solver) + 1 if req.solver in then else 0
        if (req.solver == solver and req.clock.expired()) or (
                tried == len(then) and results is None):
            return *first, _verify(first[0], first[1], first[3], lenient=True)
        if tried == len(then):
            raise SolverError(f"{trouble} with the {solver} and {other} solvers: numerical "
                              f"trouble with this model's large numbers (see docs/cli.md, "
                              f"'Limits')") from None
        req = replace(req, solver=then[tried])


def _one_series(req: Request) -> Request:
    """`req` as the engines plan it: with one scenario, that scenario is the one demand
    the packs serve, and the engines for one series plan `req.forecast`: they get the
    scenario's. (They had planned the base forecast: under a cap, "the model's cost differs
    from the billed cost", or "infeasible" where buying nothing is a plan.) The base
    forecast stays the request's, for the bill the plan is shown by."""
    if len(req.scenarios) == 1:
        return replace(req, forecast=req.scenarios[0].forecast)
    return req


def _better_when_stopped(req: Request, results: list[EngineResult]) -> list[EngineResult]:
    """`results` with each one the time limit stopped (not optimal) replaced by the rule
    of thumb for its products (solve/fallback.py; in start mode its first block's packs),
    trimmed to what the caps leave after the other results' purchases, or by buying
    nothing, when that bills for less; the result's proven bound stands. In any month
    the rule renewed every 6, 3 and 1 months is tried too: under a cap per month a
    year's packs at once are mostly trimmed away (ID cards and bank cards over 24 months
    under 3,000 a month: 138,000 CNY, renewed monthly 127,200, the optimum 124,800)."""
    start_only = req.purchase_months == "start"
    out = list(results)
    for i, r in enumerate(results):
        if r.optimal:
            continue
        nothing = {pid: {} for pid in r.products}
        room = Room.of(req, spend_of(req, [o for j, o in enumerate(out) if j != i]))
        tried = []
        for block in (YEAR,) if start_only else RENEWALS:
            counts: dict = {pid: {} for pid in r.products}
            try:
                cover = block_cover(req.catalog, req.forecast, req.holdings, r.products,
                                    block)
            except SolverError:         # (a covering knapsack the solver failed: none then)
                continue
            for pid, month, size, k in cover:
                if not (start_only and month):
                    key = size if start_only else (month, size)
                    counts[pid][key] = counts[pid].get(key, 0) + k
            tried.append(trim_to(room, counts, unit_prices(req, r.products),
                                 req.forecast.months) or nothing)
        # (buying nothing is a plan too, under every cap: a solver stopped early can have
        # found worse, and so can the rule of thumb where packs do not pay)
        tried.append(nothing)
        cost, counts = min(((_billed(req, r.products, c), c) for c in tried),
                           key=lambda found: found[0])
        if r.objective is None or cost < r.objective:
            # (its bound may prove it: whole units, nothing costs less than the bound)
            out[i] = with_bounds(replace(r, counts=counts, objective=cost, status="feasible",
                                         tie_break=False), CostBounds(max(round(r.bound), 0)))
    return out


def _bills(req: Request, result_plan: Plan) -> tuple[list[Bill], Bill]:
    """The plan billed under every series (each scenario, or the forecast), and on the
    base forecast, with a warning where a scenario's figures rest on the assumed rate."""
    bills = [bill(req.catalog, f, result_plan, req.holdings) for f in req.series]
    if not req.scenarios:
        return bills, bills[0]
    base = bill(req.catalog, req.forecast, result_plan, req.holdings)
    notes = scenario_notes(req.catalog, base, [(s.name, b) for s, b in zip(req.scenarios, bills)])
    return bills, replace(base, warnings=base.warnings + notes)


def _uncapped_result(req: Request) -> PlanResult | None:
    """The products' optima without the caps, where `_uncapped_first` proved them, as a
    billed result: what the value of the cap compares with, without planning it again (the
    3 × 24 after-packs forecast with three scenarios under a monthly cap: 3.5 s of 17.5 s).
    None when not proven, or when they do not bill to their costs (then it is planned
    again)."""
    parts = req.found.get("uncapped")
    if parts is None:
        return None
    result_plan = _assemble(req.forecast, parts)
    bills, base = _bills(req, result_plan)
    try:
        _verify(req, parts, bills)
    except (_NumericalTrouble, BillingMismatchError):
        return None
    return PlanResult(
        status="optimal", gap=Decimal(0), gap_rel=0.0, plan=result_plan, bill=base,
        solver=req.solver.removesuffix(STRICT), purchase_months=req.purchase_months,
        build_seconds=sum(r.build_seconds for r in parts),
        solve_seconds=sum(r.seconds for r in parts), bill_seconds=0.0,
        solves=tuple(ProductSolve(r.label, r.status, r.objective, round(r.bound), r.seconds,
                                  r.method, r.products) for r in parts if r.modelled),
        scenarios=tuple(ScenarioOutcome(s.name, s.weight, b, None, req.prorata)
                        for s, b in zip(req.scenarios, bills)),
        objective=req.objective, carry_over=req.carry_over, uncapped_optimal=True)


def _check_options(catalog, forecast, purchase_months, solver, time_limit, scenarios,
                   objective, budget, monthly_budget, carry_over, algorithm,
                   yearly_budget=None) -> None:
    if purchase_months not in PURCHASE_MODES:
        raise InputError(f"--purchase-months must be one of {', '.join(PURCHASE_MODES)}",
                         field="purchase_months")
    if carry_over not in CARRY_OVER:
        raise InputError(f"--carry-over-value must be one of {', '.join(CARRY_OVER)}",
                         field="carry_over_value")
    if algorithm not in ALGORITHMS:
        raise InputError(f"algorithm must be one of {', '.join(ALGORITHMS)}", field="algorithm")
    if forecast.months > MAX_MONTHS:
        raise InputError(f"the forecast covers {forecast.months} months "
                         f"({forecast.start}..{forecast.end}); plans cover at most "
                         f"{MAX_MONTHS} months (10 years): split the horizon",
                         source=forecast.source, field="month")
    if solver not in SOLVERS:
        raise InputError(f"--solver must be one of {', '.join(SOLVERS)}", field="solver")
    if time_limit is not None and not time_limit > 0:         # (NaN too)
        raise InputError("--time-limit must be a positive number of seconds", field="time_limit")
    if objective not in OBJECTIVES:
        raise InputError(f"--objective must be one of {', '.join(OBJECTIVES)}", field="objective")
    free = next(((p, k) for p in catalog.products for k in p.packs if not k.price > 0), None)
    if free is not None:
        # (as the catalog reader says: "the most calls bought" would have no end)
        raise InputError(f"{free[0].id}'s pack of {free[1].calls} calls has price "
                         f"{free[1].price}; a pack's price must be above 0",
                         source=catalog.source, field="price")
    for name, cap in (("--budget", budget), ("--monthly-budget", monthly_budget),
                      ("--yearly-budget", yearly_budget)):
        if cap is not None and (not cap.is_finite() or cap < 0 or too_large(cap)):
            raise InputError(f"{name} must be a non-negative amount below 10^15, not {cap}",
                             field=name[2:])
    for s in scenarios:
        if too_large(s.weight):
            raise InputError(f"scenario '{s.name}' has weight {s.weight}; weights are below "
                             f"10^15", field="weight")
        if s.weight <= 0:
            raise InputError(f"scenario '{s.name}' has weight {s.weight}; weights must be "
                             f"positive", field="weight")
    if scenarios:
        from ..io.scenarios import check_scenarios
        check_scenarios(scenarios, forecast, "scenarios")


def _request(catalog, forecast, holdings, scenarios, purchase_months, solver, time_limit,
             objective, budget, monthly_budget, carry_over, algorithm,
             yearly_budget=None, tie_break=True, cancel=None) -> Request:
    """The checked options in the engines' terms; the time limit starts now (and ends,
    too, when `cancel` is set)."""
    clock = Clock(time_limit, cancel=cancel)
    scale = money_scale(catalog)
    cap, month_cap = _floor_units(budget, scale), _floor_units(monthly_budget, scale)
    year_cap = _floor_units(yearly_budget, scale)
    if year_cap is not None and (purchase_months == "start" or forecast.months <= YEAR):
        # Every purchase falls in the first 12-month block: a cap on the whole spend.
        cap = year_cap if cap is None else min(cap, year_cap)
        year_cap = None
    if purchase_months == "start" and month_cap is not None:
        # One purchase month: the monthly cap is a cap on the whole spend.
        cap = month_cap if cap is None else min(cap, month_cap)
        month_cap = None
    weights = _integer_weights(scenarios) if scenarios else (1,)
    return Request(catalog, forecast, holdings, scenarios, purchase_months, solver, objective,
                   carry_over, algorithm, scale, weights, cap, month_cap, clock, year_cap,
                   tie_break)


def _floor_units(amount: Decimal | None, scale: int) -> int | None:
    """A budget in money units, rounded down to a whole unit (never above the budget)."""
    if amount is None:
        return None
    return to_units(amount.quantize(Decimal(1) / scale, rounding="ROUND_FLOOR"), scale)


def _integer_weights(scenarios) -> tuple[int, ...]:
    """Scenario weights as the smallest integers with the same ratios, so objectives stay
    integral (and one scenario weighs 1, as a single forecast does: the engines for one
    series do not weight it)."""
    exp = max(-min(s.weight.normalize().as_tuple().exponent, 0) for s in scenarios)
    weights = [int(s.weight * 10 ** exp) for s in scenarios]
    g = math.gcd(*weights) or 1
    return tuple(w // g for w in weights)


def _route(req: Request) -> str:
    """The engine tried first: "curves", "worst", "dp", "after-packs", "frontier" or "milp"
    (integer programs take whatever the first declines)."""
    if req.purchase_months == "start" and req.month_cap is None and not req.worst_case \
            and (req.cap is not None or not req.single) and not req.prorata:
        # Budgets and scenarios in start mode: exact on the products' cost curves (much
        # faster than the integer programs).
        return "curves"
    if req.purchase_months == "start" and req.worst_case and not req.prorata:
        # Worst case over scenarios: one capacity per product on every scenario's curve.
        return "worst"
    if not req.coupled and not req.scenarios and req.catalog.tier_basis == "total" and \
            req.algorithm == "auto":
        # Exact and fast: one shortest path per product (in start mode with purchases in
        # the first month only). It plans the forecast itself, unweighted: one scenario
        # (its own demand, its weight) goes to the integer program.
        return "dp"
    if not req.coupled and not req.scenarios and req.purchase_months == "start" \
            and req.algorithm == "auto" and not req.prorata:
        # Start mode under the after-packs basis: exact on each product's cost curve.
        return "curves"
    if not req.coupled and not req.scenarios \
            and req.purchase_months == "any" and req.catalog.tier_basis == "after-packs" \
            and req.algorithm == "auto":
        # Exact: a shortest path over demand positions per product (after_packs.py; with
        # prorata, its end lot priced with the credit).
        return "after-packs"
    if req.purchase_months == "any" and not req.scenarios and \
            req.catalog.tier_basis == "total" and not req.prorata and req.algorithm == "auto":
        # Caps in any month: each product's exact (spend, cost) frontier, one point each.
        return "frontier"
    if not req.coupled and not req.single and req.catalog.tier_basis == "total" and \
            req.purchase_months == "any" and req.algorithm == "auto" and not req.prorata:
        # Scenarios: the dynamic program over balance vectors where it applies and stays
        # small (scenario_dp.py), the integer program for the other products.
        return "dp"
    return "milp"


def _per_product(req: Request, exact, pids: list[str]) -> list:
    """exact(req, pid) for every product, on two threads where the compiled search runs
    (the dynamic program on one forecast, no prorata, a large plan): it releases the GIL,
    so one product's search overlaps another's set-up in Python. The other searches,
    NumPy's, stay on one thread."""
    if len(pids) < 2 or exact is not by_dynamic_program or not req.single or req.prorata \
            or not use_compiled(req.forecast.months * len(req.forecast.demand)):
        return [exact(req, pid) for pid in pids]
    return _in_threads(lambda i: exact(req, pids[i]), len(pids), req.threads, req.wide)


def _solve(req: Request) -> list[EngineResult]:
    """Every product's purchases, from the engine the route names (and the integer
    programs for the products it declines)."""
    pids = req.forecast.products()
    groups = [pids] if req.coupled else [[pid] for pid in pids]
    engine, found, declined_after, hints = _route(req), [], 0.0, None
    if engine == "frontier" and not req.worst_case and not holds_late(req):
        # Caps per month or block defeat the frontiers (a relaxation): the products apart
        # may settle it first, and the frontiers' bound and plan go to the joint model.
        # A total cap too: the plan without it, one shortest path per product, may keep
        # it, where the frontiers of a fine lattice take minutes (1-call packs, 4 months:
        # 226 s, against 0.4 s). Not where a holding outlives new packs, under any cap:
        # that plan is then an integer program (80 s for 30 months, where the cap's own
        # model took 0.06 s; under a monthly or yearly cap 80 s, now 30 s end to end).
        t0 = time.perf_counter()
        apart, hints = _uncapped_first(req, relaxation=cache(partial(on_frontiers, req)))
        if apart is not None:
            return apart
        declined_after = time.perf_counter() - t0
    elif engine in ("curves", "frontier", "worst"):
        t0 = time.perf_counter()
        done = {"curves": on_cost_curves, "frontier": on_frontiers,
                "worst": on_worst_curves}[engine](req)
        if isinstance(done, EngineResult):
            return [done]
        hints = done                 # None, or the frontiers' bound and plan
        declined_after = time.perf_counter() - t0
    elif engine == "milp" and req.coupled and not req.worst_case and req.algorithm == "auto":
        uncapped, hints = _uncapped_first(req)
        if uncapped is not None:
            return uncapped
    elif engine in ("dp", "after-packs"):
        exact = by_dynamic_program if engine == "dp" else by_after_packs
        by_dp = dict(zip(pids, _per_product(req, exact, pids)))
        found = [r for r in by_dp.values() if r is not None]
        groups = [[pid] for pid, r in by_dp.items() if r is None]
    if req.worst_case and req.purchase_months == "any" and req.algorithm == "auto":
        # Any-month worst case: integer programs over a few scenarios (scenario_any.py).
        from .scenario_any import worst_case_by_generation
        milp = [worst_case_by_generation(req, i, group, _solve_subset)
                for i, group in enumerate(groups)]
    else:
        milp = _in_turn(req, groups, hints)
    if milp and declined_after:
        # Time spent on cost curves that then declined counts as building the models.
        milp[0] = replace(milp[0], build_seconds=milp[0].build_seconds + declined_after)
    return found + milp


def _in_turn(req: Request, groups: list[list[str]], hints: CostBounds | None) -> list:
    """Each group's integer program, two at a time: HiGHS solves without holding the GIL
    (two 24-month scenario models: 16.2 s one after the other, 10.1 s together). Each
    group gets an even part of the time left when it starts (its worker's share of the
    groups not yet started), so a hard first product cannot leave the others no time."""
    def one(i: int) -> EngineResult:
        clock = req.clock.part(-(-(len(groups) - i) // req.threads))
        return with_bounds(by_integer_program(replace(req, clock=clock), i, groups[i],
                                              hints and hints.floors), hints)
    return _in_threads(one, len(groups), req.threads, req.wide)


def _stopped_by(cancel: threading.Event | None):
    """HiGHS's solves stopped by `cancel` (solvers.stopped_by), when there is one."""
    if cancel is None:
        import contextlib
        return contextlib.nullcontext()
    from . import solvers
    return solvers.stopped_by(cancel)


def _in_threads(job, n: int, threads: int = SOLVE_THREADS, wide=None) -> list:
    """[job(0), ..., job(n - 1)], on `threads` daemon threads taking the jobs in order
    (daemons: Ctrl-C ends the process without waiting for a solve in C to end). The first
    exception is raised once the running jobs end; no job starts after it. `wide`: a
    threading.Event; until it is set, only the first thread takes jobs. Interrupted while
    it waits (Ctrl-C in a library caller), it stops the jobs' solves, waits for them and
    raises (the interrupt came only once they had run to their own time limit)."""
    import contextlib
    import sys

    from .cores import working
    if n < 2 or threads < 2:
        with working():
            return [job(i) for i in range(n)]
    # Work beside a plan reports nothing, nor do the threads it starts (solvers not loaded
    # yet: nothing was muted, and the dynamic program's commands do not load it).
    solvers = sys.modules.get(f"{__package__}.solvers")
    quiet = solvers is not None and solvers.muted()
    stop = solvers.stop_event() if solvers is not None else None
    halt = threading.Event()        # the jobs' solves stop: `stop` was set, or the wait failed
    results: list = [None] * n
    errors: list[BaseException] = []
    queue = iter(range(n))
    taken = [0]                     # jobs handed out so far
    lock = threading.Lock()

    def work(k: int):
        try:
            with solvers.unreported() if quiet else contextlib.nullcontext(), \
                    solvers.stopped_by(halt) if solvers else contextlib.nullcontext():
                take(k)
        finally:
            finished[k].set()

    def take(k: int):
        while True:
            while k and wide is not None and not wide.wait(0.05):
                if errors or taken[0] >= n:
                    return
            with lock:
                i = None if errors else next(queue, None)
                taken[0] += i is not None
            if i is None:
                return
            try:
                with working():             # (a lone solve's twin leaves this core)
                    results[i] = job(i)
            except BaseException as e:      # handed to the calling thread
                with lock:
                    errors.append(e)
    # The wait is on events of our own: a Thread.join interrupted by Ctrl-C can leave the
    # thread marked as ended while it runs (CPython before 3.13), and the joins after it
    # returned at once, one job still running (a test failed 2 runs in 3).
    finished = [threading.Event() for _ in range(threads)]
    workers = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(threads)]
    for t in workers:
        t.start()
    try:
        for done in finished:
            while not done.wait(0.05):
                if stop is not None and stop.is_set():
                    halt.set()
    except BaseException as e:
        with lock:
            errors.append(e)        # (no job starts after it)
        halt.set()
        for done in finished:
            done.wait()
        raise
    if errors:
        raise errors[0]
    return results


def _uncapped_first(req: Request, relaxation=None) -> tuple[list[EngineResult] | None,
                                                           CostBounds | None]:
    """The plan without the caps, product by product (separate models, much faster than
    the joint one), in half the time left. When it keeps every cap it is the capped plan:
    the least (cost, spend, −calls, packs) over every plan is the least over those within
    the caps. When a cap binds, the sum of the products' optima still bounds the joint
    optimum from below (the floor of a gap), and `_apart_under_caps` tries the next
    relaxation. Where after-packs takes the total basis as a relaxation, the products
    apart come first and run once: stopped where the joint model would come, the total
    basis goes between them and it (docs/design.md, 'The total basis as a relaxation').

    `relaxation` (caps per month or block in any month): the frontiers (computed once),
    which may settle
    the plan and otherwise give a bound and a plan that keeps the caps for the joint
    model. Where they are not exact they run only if the products apart fail: their bound
    went unused whenever those settle it (0.4–1.1 s of the 9 × 24 families' 3–11 s)."""
    # (Given by a plan of the same request under other caps, once: a retry solves them.)
    parts = req.found.pop("given uncapped", None) or _solve(
        replace(req, cap=None, month_cap=None, year_cap=None, clock=req.clock.share()))
    if all(r.optimal and r.tie_break for r in parts):
        req.found["uncapped"] = parts           # the plan with no cap, for its value
    if not all(r.optimal for r in parts):
        # Stopped early, their bounds still bound the capped optimum (a joint model that
        # found no plan in its time otherwise reported a gap of the whole cost).
        return _relaxed(relaxation,
                        CostBounds(max(math.floor(sum(r.bound for r in parts)), 0)))
    if _keeps_caps(req, parts):
        return [replace(r, uncapped=True) for r in parts], None
    if any(len(r.products) != 1 for r in parts):
        return _relaxed(relaxation, CostBounds(sum(r.objective for r in parts)))
    if relaxation is not None and _relaxation_first(req, parts):
        got = relaxation()          # its floor may be above the uncapped optima
        if isinstance(got, EngineResult):
            return [got], None
    below, searched = None, _capped_search(req)
    if searched:
        # Each product's exact search under the caps makes the products apart cheap; not
        # so a block of products, an integer program: that waits for the relaxation.
        apart, bounds = _apart_under_caps(req, parts, merge=False)
        if apart is not None:
            return apart, None
    joint: list = []                # the block that is the joint model, where one is
    first = _total_first(req) and not searched
    if first:
        # The products apart first, short of the joint model: they settle a cap that binds
        # one product or only moves purchases in seconds, where the total basis's joint
        # model can take all its time and settle nothing (docs/design.md).
        apart, bounds = _apart_under_caps(req, parts, joint=joint)
        if apart is not None:
            return apart, None
    if _total_first(req) and not (searched and len(parts) == 1):
        # After-packs: the total basis, a relaxation the faster searches plan.
        alone = sum(r.seconds + r.build_seconds for r in parts)
        settled, below = _capped_after_total(req, *_total_relaxation(req, alone), parts)
        if settled is not None:
            tell_binding(req, sum(r.objective for r in settled))
            return settled, None
    if joint:
        # Where the products apart stopped: the joint model of the products that buy.
        return _spenders_jointly(req, joint[0], parts, _merged(bounds, below).floors), None
    if not first and (not searched or
                      sum(1 for r in parts if r.counts.get(r.label)) > APART_BLOCK):
        apart, bounds = _apart_under_caps(req, parts, below=below)
        if apart is not None:
            return apart, None
    return _relaxed(relaxation, _merged(bounds, below))


def _capped_search(req: Request) -> bool:
    """Whether one product under these caps is planned by the exact search of
    after_packs_capped.py (engines.by_after_packs with a room) rather than an integer program:
    one forecast, any month, after-packs, caps per month only, no prorata."""
    return req.single and searched_alone(req) and req.cap is None and \
        req.year_cap is None and req.month_cap is not None


def _relaxation_first(req: Request, parts: list[EngineResult]) -> bool:
    """Whether the frontiers go before the products apart: where they are exact (one
    month, or one 12-month block: the caps are then one total), so they settle it."""
    return sum(spend_of(req, parts)) > relaxed_cap(req) and (
        req.month_cap is None or req.forecast.months == 1) and (
        req.year_cap is None or req.forecast.months <= YEAR)


def _relaxed(relaxation, bounds: CostBounds) -> tuple[list[EngineResult] | None,
                                                      CostBounds | None]:
    """`bounds` with the frontiers' relaxation (when given): its plan when it settles,
    else its plan and the higher floor. The products' floors bound the gap; as rows they
    slowed the stream model (the example under --monthly-budget 8000: 2.3 s to 2.8 s),
    so with the frontiers not as rows."""
    if relaxation is None:
        return None, bounds
    got = relaxation()
    if isinstance(got, EngineResult):
        return [got], None
    return None, replace(got or CostBounds(0), floor=max(bounds.floor, got.floor if got else 0))


def _total_first(req: Request) -> bool:
    """Whether an after-packs request is planned by way of the total basis first
    (`_total_relaxation`): one the integer programs would take (the other routes' exact
    searches are faster), in a catalog where no product's rate rises with the volume."""
    return req.catalog.tier_basis == "after-packs" and req.algorithm == "auto" and \
        _route(req) == "milp" and all(_falling(p) for p in req.catalog.products)


def _falling(product) -> bool:
    """Whether the product's rate never rises with the tier volume (what the total basis
    needs to be a relaxation of after-packs)."""
    rates = [rate for _, rate, _ in product.tier_rates()]
    return all(a >= b for a, b in zip(rates, rates[1:]))


def _total_relaxation(req: Request, alone: float) -> tuple[Request, list[EngineResult],
                                                          list[int]]:
    """The request under the total basis, a relaxation of after-packs: a month's tier
    volume is then all its calls rather than those packs leave, and where rates never rise
    with the volume, every plan costs as much or less (the same draws, the same calls
    postpaid, each at a rate no higher). So the total optimum bounds the after-packs one,
    and is it when its plan bills the same under after-packs; the total's exact searches
    are far faster (a 3-product, 24-month forecast with three scenarios under a monthly
    cap: 3.7 s, where the after-packs joint model had not closed a 96 CNY gap in 15
    minutes). Its tie-break holds over: every after-packs plan at the total optimum's cost
    is a total optimum, so the total's least key, in an after-packs optimum, is the least
    among them. Under periodic caps the total can be slow too, so it gets ROOM_FACTOR
    times the products' after-packs solves without the caps (`alone` seconds; at least
    APART_ROOM_SECONDS, at most TOTAL_SECONDS or half the time left). Returns the total
    request, its results, and what each result's plan bills under after-packs."""
    limit = min(TOTAL_SECONDS, max(APART_ROOM_SECONDS, ROOM_FACTOR * alone))
    # (Without the split of a cap's room: within this limit its shares ran out on the
    # issue's 3 x 24 forecast with three scenarios under 30,000 a month, 10 s before the
    # joint model, which then settled it in 5 s.)
    total = replace(req, catalog=replace(req.catalog, tier_basis="total"), found={},
                    on_binding=None, clock=req.clock.share().at_most(limit), split=False)
    relaxed = _solve(total)
    return total, relaxed, [_billed(req, r.products, r.counts) for r in relaxed]


def _capped_after_total(req: Request, total: Request, relaxed: list[EngineResult],
                        billed: list[int], parts: list[EngineResult]
                        ) -> tuple[list[EngineResult] | None, CostBounds]:
    """Products under shared caps (`_total_relaxation`), given their after-packs optima
    without the caps (`parts`): the total optimum where its plan bills the same under
    after-packs. Otherwise, with scenarios, the products whose part bills the same keep it
    and the others are planned in the room they leave at their part's total cost (no plan
    of theirs costs less in that room, or the total plan was not optimal), for a short
    while (ROOM_FACTOR times their solves without the caps and the total's, as in
    `_apart_under_caps`): found, the union costs the total optimum, so it is the
    after-packs optimum. Else (None, the total bound and plan, for the joint model)."""
    t0 = time.perf_counter()
    counts = {pid: c for r in relaxed for pid, c in r.counts.items()}
    pids = req.forecast.products()
    floor = math.floor(sum(r.bound for r in relaxed))
    below = CostBounds(floor, counts, sum(billed), {_floor_key(pids): floor})
    if not all(r.optimal for r in relaxed):
        return None, below
    if all(b == r.objective for r, b in zip(relaxed, billed)):
        return relaxed, below
    part = {pid: (_billed(req, (pid,), counts), _billed(total, (pid,), counts))
            for pid in pids}
    same = [pid for pid in pids if part[pid][0] == part[pid][1]]
    diff = [pid for pid in pids if pid not in same]
    if not same or req.single or sum(r.objective for r in parts) > sum(
            r.objective for r in relaxed):
        # No plan costs the total optimum when the products' optima without the caps
        # cost more. (One forecast: its capped after-packs model seldom finds a plan at
        # the total's cost in a short try: none in 300 s for one product over 24 months.)
        return None, below
    kept = {pid: counts[pid] for pid in same}
    ceiling = sum(part[pid][1] for pid in diff)
    took = sum(r.seconds + r.build_seconds for r in relaxed) + time.perf_counter() - t0 + \
        sum(r.seconds + r.build_seconds for r in parts if set(r.products) & set(diff))
    got = by_integer_program(
        replace(req, clock=req.clock.share().at_most(max(APART_ROOM_SECONDS,
                                                          ROOM_FACTOR * took))),
        0, diff, {_floor_key(diff): ceiling}, Room.of(req, spend_of_counts(req, kept)),
        start={pid: counts[pid] for pid in diff}, ceiling=ceiling)
    if not (got.optimal and got.objective == ceiling):
        return None, below
    union = [EngineResult.exact(same, ", ".join(same), kept, sum(part[pid][0] for pid in same),
                                took, relaxed[0].method), got]
    least = all(r.tie_break for r in relaxed) and \
        purchase_key(req, union) == purchase_key(req, relaxed)
    if not least and req.tie_break and not all(r.tie_break for r in relaxed):
        least = purchase_key(req, union) == _total_least_key(req, total, relaxed, counts)
    return [replace(r, tie_break=least) for r in union], below


def _total_least_key(req: Request, total: Request, relaxed: list[EngineResult],
                     counts: dict) -> tuple[int, int, int] | None:
    """The least (spend, calls, packs) of the total optimum (`relaxed`, whose plan is
    `counts`) when re-solves of its own ran out of the relaxation's short clock, or None.
    Every after-packs plan at that cost is a total optimum, so a union with this key has
    the least key of its own. (The four-product forecast of benchmarks/random_after.py's
    seed 1, instance 5: the relaxation's joint model took its 20 s, 30 of the 60 s limit
    left, and the plan came back optimal with its tie-break unproven.) The joint total
    model again, the optimum as a floor row and its plan as the start, so the cost is
    proven at the root, and the re-solves on the request's clock."""
    pids = req.forecast.products()
    cost = sum(r.objective for r in relaxed)
    got = by_integer_program(replace(total, clock=req.clock.share()), 0, pids,
                             {_floor_key(pids): cost}, start=counts,
                             spent=sum(r.seconds for r in relaxed))
    if got.optimal and got.tie_break and got.objective == cost:
        return purchase_key(req, [got])
    return None


def _billed(req: Request, products, counts: dict) -> int:
    """The objective (money units, weighted or the worst scenario's; under prorata net
    of the credit) that billing gives `products`' purchases `counts` under `req`."""
    from .scenario_any import billed_units
    return combined_costs(req, [billed_units(req, list(products), counts, f) for f in req.series])


def _merged(hints: CostBounds | None, below: CostBounds | None) -> CostBounds | None:
    """What two sources know for the joint model: the higher floor, the cheaper plan,
    every floor row."""
    if below is None or hints is None:
        return hints or below
    cheaper = hints if hints.counts is not None and (
        below.counts is None or hints.objective <= below.objective) else below
    floors = dict(hints.floors or {})
    for key, floor in (below.floors or {}).items():
        floors[key] = max(floor, floors.get(key, floor))
    return CostBounds(max(hints.floor, below.floor), cheaper.counts, cheaper.objective,
                      floors)


def _floor_key(names: list[str]):
    """How a floor of these products is keyed: the product, or a tuple of them."""
    return names[0] if len(names) == 1 else tuple(names)


# Long (104 lines): the inner helpers share the floors found so far, the blocks settled
# alone and the step's clock with the loop that reorders and merges the blocks; split,
# those would travel as a state object through every call.
def _apart_under_caps(req: Request, parts: list[EngineResult], merge: bool = True,
                      below: CostBounds | None = None, joint: list | None = None) -> tuple[
        list[EngineResult] | None, CostBounds]:
    """The products in blocks, one block at a time, each in the room the caps leave after
    the blocks before it (a small model each, its floors as rows), given each product's
    uncapped optimum `parts`. At first every product is a block, the largest spender
    first; a block that does not fit goes first, and one that did not fit after going
    first joins the leading block (up to APART_BLOCK products; the joint model beyond).

    A block's optimum alone under the whole caps is a lower bound on its cost in any joint
    plan (its floor; the sum of its products' uncapped optima is a lower one). When every
    block reaches its floor in the room left to it, the union keeps the caps at the sum of
    the floors: the joint optimum. Otherwise the floors go to the joint model. The union's
    tie-break is proven for a product whose plan is its uncapped one (its least key); for
    the others the joint model at the floors gets a short try. A heuristic with a proof:
    it gets APART_SECONDS at most; a block in a room ROOM_FACTOR times its solve alone
    under the whole caps (at least APART_ROOM_SECONDS), that try APART_ROOM_SECONDS.
    `merge=False`: no blocks of several products (each one an integer program), only
    products apart. `below`: the total basis's floors (`_capped_after_total`), for a block
    that is the joint model (`_spenders_jointly`). `joint`, a list: that block is not
    solved but appended to it, and (None, floors) returned (the caller tries the total
    basis first); a product apart that does not fit stops the step as before, and a
    second step would do the same.
    """
    clock = req.clock.share().at_most(APART_SECONDS)
    floors: dict = {r.label: r.objective for r in parts}   # product or tuple -> floor
    settled: dict[tuple, EngineResult] = {}   # optimal alone under the whole caps
    took: dict[tuple, float] = {}             # seconds of that solve

    def key(block: tuple):
        names = tuple(parts[i].label for i in block)
        return names[0] if len(names) == 1 else names

    def floor(block: tuple) -> int:
        return max(floors.get(key(block), 0), sum(floors[parts[i].label] for i in block))

    def alone(block: tuple, room: Room | None) -> EngineResult:
        """The block's cheapest plan in `room` (None: the whole caps), cost alone; in a
        room only a plan at the block's floor is looked for."""
        if room is None and block in settled:
            return settled[block]
        names = [parts[i].label for i in block]
        limit = clock if room is None else clock.at_most(
            max(APART_ROOM_SECONDS, ROOM_FACTOR * took.get(block, 0.0)))
        got = by_integer_program(replace(req, clock=limit, tie_break=False), block[0], names,
                                 _floors_of(floors, names), room,
                                 ceiling=None if room is None else floor(block))
        if room is None:            # (a bound in a smaller room is no floor)
            took[block] = got.seconds
            floors[key(block)] = max(floor(block), round(got.bound))
            if got.optimal:
                settled[block] = got
        return got

    def joint_bounds() -> CostBounds:
        """For the joint model: the floors, and their sum over the blocks as its bound."""
        return CostBounds(sum(floor(b) for b in blocks), floors=floors)

    def fits(block: tuple, room: Room) -> list[EngineResult] | None:
        """The block's plan at its floor within `room`, if it has one."""
        if room.keeps(spend_of(req, [parts[i] for i in block])):
            return [parts[i] for i in block]    # uncapped optima: the least keys there
        whole = room == Room.of(req)
        if not whole and not clock.expired():
            alone(block, None)      # its floor first: the room is then asked for that
        got = alone(block, None if whole else room)
        if not (got.optimal and got.objective == floor(block)):
            return None
        at = _least_key(req, [parts[i] for i in block], floor(block))
        # (a cap that only moved purchases: often the same packs)
        return [replace(got, tie_break=True) if at and at[1:] == purchase_key(req, [got]) else got]

    blocks = [(i,) for i in sorted(range(len(parts)),
                                   key=lambda i: -sum(spend_of(req, [parts[i]])))]
    spenders = {i for i in range(len(parts)) if sum(spend_of(req, [parts[i]]))}
    led: set[tuple] = set()
    while len(blocks) > 1 and not clock.expired():
        led.add(blocks[0])
        spent, union = [0] * req.forecast.months, []
        for b in blocks:
            got = None if clock.expired() else fits(b, Room.of(req, spent))
            if got is None:
                merged = tuple(sorted(blocks[0] + b))
                if b == blocks[0] or (b in led and (len(merged) > APART_BLOCK or not merge)):
                    return None, joint_bounds()
                if b in led and spenders <= set(merged):
                    if joint is not None:
                        joint.append(merged)
                        return None, joint_bounds()
                    known = _merged(joint_bounds(), below).floors
                    return _spenders_jointly(req, merged, parts, known), None
                rest = [c for c in blocks if c != b]
                blocks = [b] + rest if b not in led else [merged] + rest[1:]
                break
            union += got
            spent = [x + y for x, y in zip(spent, spend_of(req, got))]
        else:
            if req.tie_break and not all(r.tie_break for r in union):
                tell_binding(req, sum(floor(b) for b in blocks))
                lead = _least_key(req, [parts[i] for i in blocks[0]], floor(blocks[0]))
                whole = _least_key(req, parts, sum(floor(b) for b in blocks))
                return _keyed(req, blocks, union, parts, floors, clock, lead, whole), None
            return union, None
    return None, joint_bounds()


def _spenders_jointly(req: Request, block: tuple, parts: list[EngineResult],
                      floors: dict) -> list[EngineResult]:
    """The plan when `block` holds every product whose plan without the caps buys packs
    (`_apart_under_caps`): the others keep that plan, which spends nothing (no plan of
    theirs at its cost spends less, and any other costs more), and the block's model is
    the joint one, so it gets the request's clock and its tie-break rather than a short
    try first and the joint model of every product after it (the issue's 3 × 24 forecast
    under a 30,000 CNY monthly budget: 17 s of a block, then the same model again)."""
    names = [parts[i].label for i in block]
    rest = [parts[i] for i in range(len(parts)) if i not in block]
    cost = {r.label: r.objective for r in rest}
    mine = _floors_of(floors, names)
    for key, floor in floors.items():
        # A floor of the block and products kept at their own optimum: what is left of it
        # bounds the block (the total basis's floor is of every product).
        members = set((key,) if isinstance(key, str) else key)
        others = members - set(names)
        if others and others <= set(cost) and set(names) <= members:
            mine[_floor_key(names)] = max(mine.get(_floor_key(names), 0),
                                          floor - sum(cost[p] for p in others))
    if req.split and req.month_cap is not None and req.cap is None and \
            req.year_cap is None and not req.worst_case:
        # (Under a yearly or total cap a share shrinks by a pack's price at a time, which a
        # product meets by moving the pack to another month: the 9 x 24 yearly family
        # took 40 shares without an answer, where the joint model took 1-16 s. The worst
        # case is no sum over products, so their own optima bound nothing.)
        if req.threads >= 2 and (req.wide is None or req.wide.is_set()):
            return _split_or_joint(req, block, names, mine, rest)
        split, low = _split(req, names, mine, sum(cost.values()))
        if split is not None:
            return split + rest
        mine[_floor_key(names)] = max(mine.get(_floor_key(names), 0), low)
    got = by_integer_program(req, block[0], names, mine, rest=sum(cost.values()))
    return [got] + rest


def _split_or_joint(req: Request, block: tuple, names: list[str], floors: dict,
                    rest: list[EngineResult]) -> list[EngineResult]:
    """The split of the cap's room and the block's joint model at once, on a core each;
    the first to prove the least key is taken and the other stopped. Neither is the faster
    in general: the split settles the issue's 3 x 24 forecast with three scenarios under
    30,000 a month in three nodes where the joint model enumerates for 48 s, but gives up
    after MAX_NODES on two products of 8 months whose joint model takes 12 s (47 s lost,
    one after the other)."""
    others = sum(r.objective for r in rest)
    import contextlib

    from . import solvers
    from .cores import working
    outer = [e for e in (req.clock.cancel, solvers.stop_event()) if e is not None]
    stops = [threading.Event(), threading.Event()]
    done: list = [None, None]               # (result, error) of the split, of the joint
    finished = threading.Condition()

    quiet = solvers.muted()

    def run(k: int, work) -> None:
        if k == 1:
            # The joint model yields its core to the split when they contend (a third
            # thread, the plan under raised caps): the split's keyed re-solves have a time
            # share, which ran out beside it on the 3 x 24 forecast under 30,000
            # (the split gave up, and the joint model took 130 s more).
            with contextlib.suppress(AttributeError, OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        mine = replace(req, clock=Clock(None, deadline=req.clock.deadline, cancel=stops[k]))
        # (The joint model's gap is what a progress line shows; the split's many small
        # solves say nothing.)
        try:
            with solvers.stopped_by(stops[k]), working(), \
                    solvers.unreported() if quiet or k == 0 else contextlib.nullcontext():
                got = (work(mine), None)
        except BaseException as e:          # handed to the calling thread
            got = (None, e)
        with finished:
            done[k] = got
            finished.notify()

    jobs = (lambda r: _split(r, names, floors, others),
            lambda r: by_integer_program(r, block[0], names, floors, rest=others))
    for k, work in enumerate(jobs):
        # (Not daemons: a library caller's interpreter waits at exit for the stopped one to
        # end; killed under it, a solve in HiGHS's C++ aborted the process, status 134.)
        threading.Thread(target=run, args=(k, work)).start()

    def winner() -> int | None:
        split, joint = done
        if split is not None and split[1] is None and split[0][0] is not None:
            return 0
        if joint is not None and joint[1] is None and joint[0].optimal and (
                joint[0].tie_break or not req.tie_break):
            return 1
        return None
    won = None
    try:
        with finished:
            while winner() is None and None in done:
                if any(e.is_set() for e in outer):
                    break
                finished.wait(0.05)
            won = winner()
    finally:                                # (Ctrl-C in a library caller: both stop)
        for k, e in enumerate(stops):
            if k != won:
                e.set()                     # (its answer is no longer waited for)
    if won is None and None in done:        # cancelled from outside: wait for both to stop
        with finished:
            while None in done:
                finished.wait(0.05)
    if won == 0:
        return done[0][0][0] + rest
    got, error = done[1]
    if error is not None:
        raise error
    return [got] + rest


def _split(req: Request, names: list[str], floors: dict, rest: int
           ) -> tuple[list[EngineResult] | None, int]:
    """The products `names`' joint optimum under the caps by splitting their room
    (split.py), each product alone in its share, in SPLIT_SHARE of the time left; or None
    and a lower bound on their cost. `floors`: bounds on their costs (product or tuple of
    products -> units); `rest`: the cost of the other products (for `tell_binding`)."""
    share = req.clock.share(SPLIT_SHARE)

    def alone(pid: str, room: Room, keyed: bool, floor: int, start: EngineResult | None
              ) -> EngineResult:
        known = _floors_of(floors, [pid])
        known[pid] = max(known.get(pid, 0), floor)
        # (The tie-break's share of time counts the cost's own solve: from its plan at that
        # floor the re-solve is short, and its 10 s let one proof run out on a slower
        # machine; the split then gave up, and the joint model took 103 s.)
        return by_integer_program(replace(req, clock=share, tie_break=keyed), 0, [pid], known,
                                  room, start=start and start.counts,
                                  spent=start.seconds if start else 0.0)

    # (Not telling `tell_binding` of its bounds as they rise: the plan under raised caps
    # then ran beside it and took its cores; under --time-limit 90 the 3 x 24
    # forecast under 30,000 a month ran out of its share, and the tie-break went unproven.)
    found, low = split_rooms(replace(req, clock=share), names, alone,
                             {pid: floors.get(pid, 0) for pid in names},
                             in_threads=lambda job, n: _in_threads(job, n, req.threads,
                                                                   req.wide))
    if found is not None:
        tell_binding(req, low + rest)
    return found, low


def _keyed(req: Request, blocks: list[tuple], union: list[EngineResult],
           parts: list[EngineResult], floors: dict, clock: Clock, lead_least: tuple | None,
           all_least: tuple | None) -> list[EngineResult]:
    """The tie-break for a union of blocks at their floors (`_apart_under_caps`). Each
    block's least key under the whole caps bounds its part of any joint plan's key, so
    when the leading block's least key and the other blocks' uncapped plans keep the caps
    together, that union is the least key. The leading block's re-solves get what is left of
    the time for the products apart (its keys took 1.8 s and then some on the 9 × 24 yearly
    family, more than a short try's 2 s: the least spend went unproven). Failing that, the
    joint model at the floors gets the rest of that time: the floors prove its cost at
    the root, and its re-solves are the tie-break (the issue's 3 × 24 forecast with three
    scenarios under a 20,000 monthly cap: 3.7 s, where a short try of 2 s left it
    unproven and the plan went on to the total basis's route, 22 s); failing both, the
    union as it is. `lead_least`, `all_least`: the least keys of the leading
    block and of all products at their floors, where `_apart_under_caps` knows them."""
    lead = [pid for i in blocks[0] for pid in parts[i].products]
    rest = [r for r in union if not set(r.products) <= set(lead)]
    counts = {pid: c for r in union for pid, c in r.counts.items()}   # (a start for HiGHS)
    # (From a plan at the floors the first pass is short: the tie-break's time share is
    # measured by the solves that found the union, as in the split.)
    spent = sum(r.seconds for r in union)
    if all(r.tie_break for r in rest):
        keyed = by_integer_program(replace(req, clock=clock), blocks[0][0], lead,
                                   _floors_of(floors, lead), start=counts, least=lead_least,
                                   spent=spent)
        if keyed.optimal and keyed.tie_break and _keeps_caps(req, rest + [keyed]):
            return rest + [keyed]
    joint = by_integer_program(replace(req, clock=clock), 0, req.forecast.products(), floors,
                               start=counts, least=all_least, spent=spent)
    return [joint] if joint.optimal and joint.tie_break else union


def _least_key(req: Request, uncapped: list[EngineResult], cost: int) -> tuple | None:
    """(cost, spend, calls, packs): the least key of any plan of these products at `cost`
    when that is their uncapped optima's: every such plan is then made of uncapped optima,
    whose least keys are known. None otherwise."""
    if cost != sum(r.objective for r in uncapped) or not all(r.tie_break for r in uncapped):
        return None
    return (cost, *purchase_key(req, uncapped))


def _floors_of(floors: dict, names: list[str]) -> dict:
    """The floors (keyed by product or tuple of products) that bound `names`' costs."""
    return {k: v for k, v in floors.items()
            if set((k,) if isinstance(k, str) else k) <= set(names)}


def _keeps_caps(req: Request, results: list[EngineResult]) -> bool:
    """Whether the purchases keep the total, monthly and yearly caps of `req`."""
    return Room.of(req).keeps(spend_of(req, results))


def _solve_subset(sub: Request, index: int, group: list[str]) -> EngineResult:
    """`group`'s plan for a subset of the scenarios, as one result: with one scenario the
    products part, and each takes its own route (the dynamic program, the after-packs
    search), under a cap too by the caps' own steps (the plan without them first: the
    worst case over two scenarios under a monthly cap that did not bind took 19.5 s as
    one integer program of every product). Those steps keep what they prove in a record
    of their own: the request's is for its own plan without the caps."""
    if not sub.single:
        return by_integer_program(sub, index, group)
    parts = _solve(replace(sub, found={}, on_binding=None))
    counts = {pid: c for r in parts for pid, c in r.counts.items()}
    known = [r.objective for r in parts]
    return EngineResult(
        tuple(group), "all", counts, None if None in known else sum(known),
        sum(r.bound for r in parts),
        "optimal" if all(r.optimal for r in parts) else
        "no_solution" if None in known else "feasible",
        sum(r.seconds for r in parts), sum(r.build_seconds for r in parts),
        parts[0].method if len({r.method for r in parts}) == 1 else "milp",
        tie_break=all(r.tie_break for r in parts))


def _assemble(forecast: Forecast, results: list[EngineResult]) -> Plan:
    """The engines' pack counts as purchases, by product then month."""
    counts: dict[str, dict] = {}
    for r in results:
        counts.update(r.counts)

    def when(key):          # start-mode counts are keyed by size alone
        return (0, key) if isinstance(key, int) else key
    purchases = tuple(Purchase(pid, forecast.start + when(key)[0], when(key)[1], k)
                      for pid in forecast.products()
                      for key, k in sorted(counts.get(pid, {}).items(), key=lambda kv: when(kv[0]))
                      if k)
    return Plan(purchases, "optimizer")


def _verify(req: Request, results: list[EngineResult], bills: list[Bill],
            lenient: bool = False) -> float:
    """Check every engine's objective against the billing engine; return the proven gap
    (money units, weighted). `lenient` (no time left to solve again): an integer program
    whose plan bills otherwise is kept as `feasible` (replaced in `results`), its bound
    lowered by the difference, instead of raising _NumericalTrouble.

    A proven optimum must equal its billed cost to the unit. A plan stopped early may bill
    for less than the model says (the any-month model may let balance lapse that billing
    draws automatically), never for more; its gap is measured from the billed cost. With
    prorata carry-over the objective is the billed cost less the billed carry-over value.
    """
    gap = 0.0
    for i, r in enumerate(results):
        per_series = [sum(to_units(b.product(pid).total_cost - (
            b.product(pid).carry_over_value if req.prorata else 0), req.scale)
            for pid in r.products) for b in bills]
        if req.worst_case:
            billed = max(per_series)
        else:
            billed = sum(w * c for w, c in zip(req.weights, per_series))
        if (r.optimal and billed != r.objective) or \
                (r.objective is not None and billed > r.objective):
            name = r.products[0] if len(r.products) == 1 else "the joint model"
            if r.method == "milp" and lenient:
                # The model's numbers are off by `diff` here, so its bound may be too.
                diff = abs(billed - r.objective)
                r = results[i] = replace(r, status="feasible", objective=billed,
                                         bound=max(r.bound - diff, 0), tie_break=False)
            elif r.method == "milp":
                raise _NumericalTrouble(f"{name}: the integer program's plan bills at "
                                        f"{billed}, not the {r.objective} it was solved at "
                                        f"(in 1/{req.scale} units)")
            else:
                raise BillingMismatchError(
                    f"{name}: the model's cost {r.objective} differs from the billed cost "
                    f"{billed} (in 1/{req.scale} units); this is a bug in packopt")
        if not r.optimal:
            gap += max(billed - r.bound, 0)
    return gap


class _NumericalTrouble(Exception):
    """An integer program's plan bills to another cost than its model said (the solver's
    floating point with large coefficients; the exact methods never raise it)."""


def follow_up_clock(clock: Clock, elapsed: float) -> Clock:
    """The clock of the figures that follow a plan which took `elapsed` seconds: what is
    left of the time limit, or without one FOLLOW_UP_FLOOR seconds or FOLLOW_UP_FACTOR
    times `elapsed`, whichever is longer."""
    if clock.deadline is not None:
        return clock
    return Clock(max(FOLLOW_UP_FLOOR, FOLLOW_UP_FACTOR * elapsed))


def _outcomes(req: Request, bills: list[Bill], budget, monthly_budget, regret: bool,
              yearly_budget=None) -> tuple[ScenarioOutcome, ...]:
    """Each scenario's bill and, with `regret`, the cost of the plan that is optimal for
    that scenario alone (same purchase months, solver, holdings, budgets and carry-over
    valuation: under prorata both costs are net of the carry-over value; None when that
    optimum is not proven within the time left). Once one scenario's plan is not proven
    in its share, the others, the same models on the same share, are not tried: four
    scenarios of a forecast with a holding that outlives new packs spent 30 s on four
    plans left unproven after an 8.5 s plan."""
    unproven = []

    def best_cost(i: int, forecast: Forecast) -> Decimal | None:
        if not regret or req.clock.expired() or unproven:
            return None           # no time left to prove it: regret unknown (null)
        left = req.clock.remaining()
        alone = plan(req.catalog, forecast, purchase_months=req.purchase_months,
                     # (the user's solver: a retry's tight tolerances are not an option)
                     solver=req.solver.removesuffix(STRICT),
                     # each scenario an equal share of the time left
                     time_limit=None if left is None else left / (len(bills) - i),
                     holdings=req.holdings, budget=budget, monthly_budget=monthly_budget,
                     yearly_budget=yearly_budget, carry_over=req.carry_over,
                     tie_break=False)     # only its cost is reported
        if alone.status != "optimal":
            unproven.append(i)
            return None
        return alone.objective_cost
    return tuple(ScenarioOutcome(s.name, s.weight, b, best_cost(i, s.forecast), req.prorata)
                 for i, (s, b) in enumerate(zip(req.scenarios, bills)))
