"""The solving engines behind one interface, for plan() to route between.

Each takes the checked `Request` and products, and returns an `EngineResult`: pack counts
per product, objective and proven bound in money units, status, seconds, method.

* `by_dynamic_program`: one product at a time, the exact shortest path of dynamic.py (one
  forecast, total tier basis).
* `by_after_packs`: one product at a time, the exact search of after_packs.py (one
  forecast, any month, after-packs basis); method "after-packs".
* `on_cost_curves`: every product at once in start mode, on the exact cost curves of
  curves.py, under a budget by the knapsack of budget.py (budgets and scenarios).
* `on_worst_curves`: start mode with the worst-case objective, one capacity per product on
  every scenario's cost curve (worst.py).
* `on_frontiers`: any month with a budget (total basis, one forecast), one point per
  product on its exact (spend, cost) frontier (frontier.py, budget.choose_points).
* `by_integer_program`: a group of products as one PuLP model (start_milp.py, any_milp.py),
  solved by HiGHS or CBC through solvers.py, then the least-prepaid tie-break re-solve.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable

from ..billing import make_lots, month_fee
from ..domain.catalog import Catalog, Product
from ..domain.money import to_units
from ..domain.records import Forecast, Holding, Scenario
from ..exceptions import InfeasibleError, SolverError
from .clock import Clock, OutOfTime
from .demand import held_usage, residual_demand
from .dynamic import optimal_schedule, too_large, use_compiled
from .limits import dp_fits, useful_sizes

if TYPE_CHECKING:
    # PuLP, the model builders, the cost curves, the spend frontiers and the after-packs
    # search load only where they run (imported in the functions that use them), so a plan
    # that needs none of them starts faster.
    import pulp

    from .curves import Curve
    from .start_milp import ProductModel

YEAR = 12                 # months in one block of a yearly budget
FRONTIER_GROUP = 3        # products at most planned together from their block frontiers
# A month's labels in a block frontier beyond which its product goes to the integer program:
# past this the frontier costs more than the integer program saves (yearly-any-24m seed 1:
# 60,000-75,000 labels, 3-6.5 s a product, where its integer program took under a second;
# the seed 2027's largest, 23,000 labels in 1.5 s, saves 4 s of integer programs).
FRONTIER_LABELS = 30_000
QUICK_SECONDS = 1.0       # the integer program's try before the block frontiers
# Groups larger than FRONTIER_GROUP: their frontiers, and the choice among their points as
# an integer program (frontier.least_by_program), beside the joint integer program, the
# first to prove taking the plan (`_raced`), with more labels a month: the bundled example
# over 24 months under a yearly cap of 150,000 needs bank_card's past 50,000 (not 80,000);
# more only keeps the core from HiGHS's twin longer where the choice would not pay.
RACE_FRONTIERS = True
RACE_LABELS = 100_000
# Points of a large group's frontiers past which the race gives up (the core goes back to
# HiGHS), and the seconds its merge gets before the choice's integer program
# (frontier.CHOICE_POINTS points at most) takes over.
RACE_POINTS = 40_000
MERGE_SECONDS = 4.0
TIE_BREAK_SHARE = 1.5     # of the first solve's time, for each tie-break re-solve
TIE_BREAK_FLOOR = 10.0    # seconds each re-solve gets at least (see _prefer_less_prepaid)
COMBINED_KEY = 2 ** 36     # the largest calls-and-packs key solved as one (a float is exact)
FLOOR_SHARE = 0.25        # of the time left, for the scenarios' own optima (_scenario_floors)
# An after-packs stream model not proven in this long is solved once without its
# relaxable binaries (`_relaxed_first`), for at most RELAXED_SECONDS, before going on.
RELAX_AFTER = 8.0
RELAXED_SECONDS = 30.0
STRICT = "-strict"        # a solver's name with it: HiGHS's tolerances tightened (solvers.py)


@dataclass(frozen=True)
class Request:
    """What plan() was asked, checked, with money in the engines' integer units."""

    catalog: Catalog
    forecast: Forecast
    holdings: tuple[Holding, ...]
    scenarios: tuple[Scenario, ...]
    purchase_months: str            # "start" | "any"
    solver: str
    objective: str                  # "expected" | "worst-case"
    carry_over: str                 # "zero" | "prorata"
    algorithm: str                  # "auto" | "milp"
    scale: int                      # money units per currency unit
    weights: tuple[int, ...]        # scenario weights as integers, same ratios; (1,) without
    cap: int | None                 # prepaid spend budget, money units
    month_cap: int | None           # any one month's budget (start mode folds it into `cap`)
    clock: Clock
    year_cap: int | None = None     # each 12-month block's budget (folded into `cap` when
                                    # every purchase falls in the first block)
    tie_break: bool = True          # False: the optimal cost is all the caller needs
    # What the engines proved on the way that plan() reuses (shared by the copies that
    # `replace` makes): "uncapped", every product's optimum without the caps.
    found: dict = field(default_factory=dict, compare=False, repr=False)
    threads: int = 2                # products solved at once (plan()'s `threads`)
    wide: Any = None                # plan()'s `wide`: until this Event is set, one at a time
    # plan()'s `on_binding`: told once that the caps are proven to raise the optimal cost
    # while only the tie-break re-solves remain (see `tell_binding`).
    on_binding: Callable[[dict], None] | None = field(default=None, compare=False,
                                                      repr=False)
    # False: products a monthly cap binds go straight to their joint model, not first to
    # the split of its room (planner._spenders_jointly; the total basis's short relaxation).
    split: bool = True

    @property
    def series(self) -> tuple[Forecast, ...]:
        """The demand series the packs must serve: each scenario's, or the forecast."""
        return tuple(s.forecast for s in self.scenarios) or (self.forecast,)

    @property
    def single(self) -> bool:
        return len(self.series) == 1

    @property
    def worst_case(self) -> bool:
        """The objective is the dearest scenario's cost (with one series: the cost)."""
        return self.objective == "worst-case" and not self.single

    @property
    def prorata(self) -> bool:
        return self.carry_over == "prorata"

    @property
    def coupled(self) -> bool:
        """Products share a constraint (a budget, the worst scenario): one joint model."""
        return self.cap is not None or self.month_cap is not None or self.worst_case \
            or self.year_cap is not None

    @property
    def periodic(self) -> bool:
        """A cap on the spend of some months rather than the whole horizon."""
        return self.month_cap is not None or self.year_cap is not None


@dataclass(frozen=True)
class EngineResult:
    """What one engine found for a group of products (money units, weighted by scenario)."""

    products: tuple[str, ...]
    label: str                    # the product, or "all" for a joint model
    counts: dict                  # product -> {size or (month index, size): packs}
    objective: int | None         # None: stopped before any plan (buying nothing stands)
    bound: float                  # proven lower bound on the objective
    status: str                   # "optimal" | "feasible" | "no_solution"
    seconds: float                # solving
    build_seconds: float = 0.0    # building the model or curves
    method: str = "milp"          # "milp" | "dp" | "after-packs" | "curves" | "frontier"
    modelled: bool = True         # False: nothing to decide, no model was solved
    tie_break: bool = True        # False: a tie-break re-solve ran out of its time
                                  # share, or (after-packs search) too many ties
    uncapped: bool = False        # also the optimum with every cap lifted (none binds)

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"

    @staticmethod
    def exact(products, label: str, counts: dict, objective: int, seconds: float,
              method: str, build_seconds: float = 0.0) -> EngineResult:
        """A proven optimum: the bound is the objective."""
        return EngineResult(tuple(products), label, counts, objective, objective, "optimal",
                            seconds, build_seconds, method)


def _held_lots(req: Request, product: Product):
    """Holdings as (lots that expire no later than any new pack, late ones).

    The first are drawn before every purchase, so they only lower the residual demand.
    A late one, (last usable month index, calls), outlives packs bought in the first month
    and is drawn between purchases by expiry: only the general cohort model takes it.
    """
    forecast, validity = req.forecast, req.catalog.validity_months
    held = [h for h in req.holdings if h.product == product.id and h.expires >= forecast.start]
    lots = make_lots(product, [], held, forecast.start, validity)
    early = [l for l in lots if l.expiry <= validity - 1 or not product.packs]
    # A late lot gives at most the calls of the months it lasts (its rest lapses unused,
    # and is valued at nothing): more only puts needless large numbers in the models (a
    # holding of 10^15 calls, a coefficient HiGHS's checks then disagreed on).
    late = [(lot.expiry, min(lot.calls, max(sum(f.calls(product.id)[:lot.expiry + 1])
                                            for f in req.series)))
            for lot in lots if lot not in early]
    return early, late


def holds_late(req: Request) -> bool:
    """Whether some product holds a lot that outlives new packs (`_held_lots`): its plan,
    even without a cap, is then the cohort integer program's, not a fast search's."""
    return any(_held_lots(req, req.catalog.product(pid))[1] for pid in req.forecast.products())


# --------------------------------------------------------------------------- dynamic program

def by_dynamic_program(req: Request, pid: str) -> EngineResult | None:
    """One product's plan from the dynamic program; None for a product with a holding that
    outlives new packs, whose lattice is too fine (limits.py), or (prorata) whose last
    purchase has too many mixes to price or whose search too many moves (dynamic.py's
    MAX_MIXES, MAX_MOVES): the integer program takes it."""
    t0 = time.perf_counter()
    product = req.catalog.product(pid)
    held, late = _held_lots(req, product)
    if not req.single:
        return _by_scenario_dp(req, product, held, late, t0)
    if late:
        return None
    calls = req.forecast.calls(pid)
    resid = residual_demand(product, calls, req.forecast.start, held)
    V = req.catalog.validity_months
    if not dp_fits(product, calls, resid, V, req.scale, req.prorata) or (
            not req.prorata and too_large(product, resid, V, useful_sizes(
                product, calls, resid, V, req.scale))):
        return None           # too fine a lattice to price (limits.py): the integer program
    try:
        schedule = optimal_schedule(product, calls, resid, req.catalog.validity_months,
                                    req.scale, start_only=req.purchase_months == "start",
                                    prorata=req.prorata,
                                    compiled=use_compiled(req.forecast.months
                                                          * len(req.forecast.demand)),
                                    clock=req.clock.share())
    except SolverError:
        return None           # prorata: too many end mixes or moves; the integer program
    except OutOfTime:
        return None           # its share of the time limit spent: the integer program
    return EngineResult.exact((pid,), pid, {pid: dict(schedule.counts)}, schedule.objective,
                              time.perf_counter() - t0, "dp")


def _by_scenario_dp(req: Request, product: Product, held, late, t0) -> EngineResult | None:
    """Any month with scenarios, expected cost: scenario_dp.py where nothing lapses inside
    the horizon; None where it does not apply or gives up (scenario_any.py's integer
    program takes the product)."""
    T, V = req.forecast.months, req.catalog.validity_months
    if T > V or any(expiry < T - 1 for expiry, _ in late):
        return None
    series = [f.calls(product.id) for f in req.series]
    from .scenario_dp import shared_schedule  # (imports the integer-program helpers)
    try:
        found = shared_schedule(
            product, series, [residual_demand(product, c, req.forecast.start, held)
                              for c in series], req.weights, sum(a for _, a in late),
            req.scale, req.clock.share())
    except OutOfTime:
        return None
    if found is None:
        return None
    counts, objective = found
    return EngineResult.exact((product.id,), product.id, {product.id: counts}, objective,
                              time.perf_counter() - t0, "dp")


def by_after_packs(req: Request, pid: str, room: Room | None = None) -> EngineResult | None:
    """One product's any-month plan under the after-packs basis from the exact search of
    after_packs.py, or with `room` (a cap on each month's spend, `room.months`) that of
    after_packs_capped.py; None for a late holding, a lattice too fine, its share of the
    time spent, or under `room` prorata or a cap on a total or a 12-month block (the
    integer program takes it)."""
    from .after_packs import after_packs_schedule
    from .after_packs_capped import capped_after_packs_schedule
    if room is not None and (req.prorata or room.months is None or room.total is not None
                             or room.blocks is not None):
        return None
    t0 = time.perf_counter()
    product = req.catalog.product(pid)
    held, late = _held_lots(req, product)
    if late:
        return None
    calls = req.forecast.calls(pid)
    resid = residual_demand(product, calls, req.forecast.start, held)
    V = req.catalog.validity_months
    try:
        schedule = after_packs_schedule(product, calls, resid, V, req.scale,
                                        req.clock.share(), req.prorata) if room is None \
            else capped_after_packs_schedule(product, calls, resid, V, req.scale,
                                             room.months, req.clock.share())
    except OutOfTime:
        return None           # its share of the time limit spent: the integer program
    if schedule is None:
        return None
    return replace(EngineResult.exact((pid,), pid, {pid: dict(schedule.counts)},
                                      schedule.objective, time.perf_counter() - t0,
                                      "after-packs"), tie_break=schedule.tie_break)


def by_block_frontier(req: Request, group: list[str], room: Room) -> EngineResult | None:
    """The group's any-month plan under the total basis within `room` (a cap on each
    12-month block's spend, perhaps a total beside them): each product's exact frontier
    over the blocks' spends (frontier.py, bridges included), one point each with the least
    key (`least_in_room`), the tie-break proven with it. On yearly-any-24m the integer
    programs took 5.6 s to prove one product's plan and its keys, and seconds more for three
    products sharing the caps, where the frontiers take 1.5 s. None for a late holding, or
    frontiers too large or out of the time's share (the integer program takes it)."""
    from .frontier import TooLarge, least_by_program, least_in_room
    t0 = time.perf_counter()
    split = _with_packs(req, group)
    if split is None:
        return None
    priced, fixed = split
    labels = FRONTIER_LABELS if len(group) <= FRONTIER_GROUP else RACE_LABELS
    try:
        fronts = [_block_front(req, product, held, room, labels) for product, held in priced]
        if not fronts:
            chosen = (0, [])
        elif len(group) <= FRONTIER_GROUP:
            chosen = least_in_room(fronts, list(room.blocks), room.total, req.clock.share())
        else:
            # The merge first, for a while: where the relaxations bound the rest tightly it
            # proves the plan and its keys at once (yearly-any-24m's seed 1, eight
            # frontiers: 0.5 s, where the integer program took 18 s for the cost alone).
            try:
                chosen = least_in_room(fronts, list(room.blocks), room.total,
                                       req.clock.share().at_most(MERGE_SECONDS))
            except OutOfTime:
                req.clock.check()
                chosen = None
            if chosen is None:
                chosen = least_by_program(fronts, list(room.blocks), room.total, req.clock,
                                          req.solver.removesuffix(STRICT),
                                          parts=4 if req.tie_break else 1)
    except (TooLarge, OutOfTime):
        return None
    if chosen is None:
        return None
    cost, index = chosen
    counts = {pid: {} for pid in group}
    counts.update({p.id: f.schedule(i) for (p, _), f, i in zip(priced, fronts, index)})
    label = group[0] if len(group) == 1 else ", ".join(group) if len(group) <= 3 \
        else f"{len(group)} products"
    return replace(EngineResult.exact(tuple(group), label, counts, cost + fixed,
                                      time.perf_counter() - t0, "frontier"), tie_break=True)


@contextlib.contextmanager
def _fronts_beside(req: Request, group: list[str], room: Room,
                   labels: int = FRONTIER_LABELS, then: Callable | None = None,
                   points: int | None = None):
    """Finds the group's block frontiers on another thread while the block runs; the block
    gets a function that waits for them, and an event set once they are all found (None
    when nothing runs beside) and `then(req)`, if given, run after them on that thread,
    has returned a true value. Past `points` points in all it gives up (the core goes back
    to HiGHS's twin: yearly-any-24m's seeds 1 and 3 ran 10-15 % longer without it).
    Leaving the block stops the thread if they were not waited for (its solves too), and
    joins it (a thread left running outlived its request). Nothing runs beside where they
    are known (and nothing is to follow), or when every core is busy."""
    import threading

    from .cores import busy, cores, working
    if then is None and _fronts_known(req, group, room) or busy() >= cores():
        yield lambda: None, None
        return
    stop = threading.Event()
    mine = replace(req, clock=Clock(None, deadline=req.clock.deadline, cancel=stop))

    done = threading.Event()        # (not Thread.join: see planner._in_threads)
    found = threading.Event()

    def run() -> None:
        from .frontier import TooLarge
        from .solvers import stopped_by, unreported
        try:
            with working(), contextlib.suppress(TooLarge, OutOfTime), unreported(), \
                    stopped_by(stop):
                found_points = 0
                for product, held in (_with_packs(mine, group) or ([], 0))[0]:
                    found_points += len(_block_front(mine, product, held, room, labels).cost)
                    if points is not None and found_points > points:
                        return
                if then is None or then(mine):
                    found.set()
        finally:
            done.set()
    threading.Thread(target=run, name="block frontiers").start()

    def wait() -> None:
        while not done.wait(0.05):
            if req.clock.expired():
                stop.set()
    try:
        yield wait, found
    finally:
        stop.set()
        done.wait()


def _fronts_known(req: Request, group: list[str], room: Room) -> bool:
    """Whether every product of `group` with packs has its block frontier found already,
    under caps no smaller than `room`'s (choosing from them then costs little)."""
    return all(not req.catalog.product(pid).packs or _known_front(req, pid, room)[0]
               for pid in group)


def _known_front(req: Request, pid: str, room: Room, labels: int = FRONTIER_LABELS) -> tuple:
    """(the product's block frontier found under caps no smaller than `room`'s, or None;
    whether one was too large under caps no larger, with as many labels a month or more:
    more room, more labels)."""
    known = req.found.get("block frontiers", {}).get(pid, ())
    return (next((front for caps, front, _ in known if front is not None
                  and all(c >= r for c, r in zip(caps, room.blocks))), None),
            any(front is None and most >= labels and all(c <= r for c, r in
                                                         zip(caps, room.blocks))
                for caps, front, most in known))


def _block_front(req: Request, product: Product, held, room: Room,
                 labels: int = FRONTIER_LABELS):
    """The product's frontier over the blocks' spends within `room`: one already found
    under caps no smaller (its points beyond the room are left to the choice), else found
    now under the room's caps and kept for the request's later rooms. TooLarge past
    `labels` a month, and at once where it was too large under caps no larger (more room,
    more labels) with as many labels."""
    from .frontier import TooLarge, product_frontier
    front, too_large = _known_front(req, product.id, room, labels)
    if front is not None:
        return front
    if too_large:
        raise TooLarge(product.id)
    known = req.found.setdefault("block frontiers", {}).setdefault(product.id, [])
    calls = req.forecast.calls(product.id)
    try:
        front = product_frontier(product, calls,
                                 residual_demand(product, calls, req.forecast.start, held),
                                 req.catalog.validity_months, req.scale, list(room.blocks),
                                 req.clock.share(), block=YEAR, max_labels=labels)
    except TooLarge:
        known.append((tuple(room.blocks), None, labels))
        raise
    known.append((tuple(room.blocks), front, labels))
    return front


# --------------------------------------------------------------------------- cost curves

def on_cost_curves(req: Request) -> EngineResult | None:
    """Every product's start-mode plan from its exact cost curve, weighted over the
    scenarios, under the budget if there is one; None when a curve would be too large or
    the budget's integer program stops early (the integer programs then take over)."""
    from .curves import best_point
    t_build = time.perf_counter()
    clock = req.clock.share()
    curves: dict[str, Curve] = {}
    split = _with_packs(req, req.forecast.products())
    if split is None:
        return None
    priced, fixed = split               # (fixed: the cost of the products without packs)
    for product, held in priced:
        pid = product.id
        try:
            curve = _product_curve(req, product, held, clock)
        except OutOfTime:
            return None       # its share of the time limit spent: the integer programs
        if curve is None or (curve.knap.m == 1 and len(product.packs) > 1):
            # Too large, or too large for the fewest-packs key (knapsack.Knapsack): the
            # integer programs apply the whole tie-break instead.
            return None
        curves[pid] = curve
    t0 = time.perf_counter()
    ks, proven = {pid: best_point(c) for pid, c in curves.items()}, True
    if req.cap is None or sum(int(c.spend[ks[pid]]) for pid, c in curves.items()) <= req.cap:
        # (Within the cap, the least key over every plan is the least within it.)
        obj = fixed + sum(int(c.cost[ks[pid]]) for pid, c in curves.items())
    else:
        from .budget import solve_budget
        from .solvers import Status
        ks, obj, status, proven = solve_budget(curves, fixed, req.cap, req.solver,
                                               clock.remaining(), req.tie_break)
        if status is Status.INFEASIBLE:
            raise InfeasibleError("no plan keeps prepaid spend within the budget")
        if status is not Status.OPTIMAL:
            return None
    counts = {pid: dict(curves[pid].counts(ks[pid])) for pid in curves}
    return replace(EngineResult.exact(req.forecast.products(), "all", counts, obj,
                                      time.perf_counter() - t0, "curves", t0 - t_build),
                   tie_break=proven)


def on_worst_curves(req: Request) -> EngineResult | None:
    """Start mode, worst-case objective: one capacity per product on the exact cost curves
    of every scenario (worst.py). None when a curve would be too large, a holding outlives
    new packs, or the integer program stops early (the joint integer program then runs)."""
    from .curves import capacity_curve, needed_top
    from .worst import candidates, scenario_costs, solve_worst
    t_build = time.perf_counter()
    clock = req.clock.share()
    start, validity = req.forecast.start, req.catalog.validity_months
    curves: dict[str, tuple] = {}
    fixed = [0] * len(req.series)
    for pid in req.forecast.products():
        product = req.catalog.product(pid)
        held, late = _held_lots(req, product)
        if late:
            return None
        series = [f.calls(pid) for f in req.series]
        if not product.packs:
            for j, calls in enumerate(series):
                fixed[j] += sum(to_units(month_fee(product, d, u, req.catalog.tier_basis)[4],
                                         req.scale)
                                for d, u in zip(calls, held_usage(product, calls, start, held)))
            continue
        top = max(needed_top(product, s, start, validity, held) for s in series)
        try:
            curve = capacity_curve(product, series[0], start, validity,
                                   req.catalog.tier_basis, req.scale, held, top, clock)
        except OutOfTime:
            return None
        if curve is None:
            return None
        idx = candidates(curve, req.catalog.tier_basis)
        curves[pid] = (curve, idx, scenario_costs(curve, product, series, start, validity,
                                                  req.catalog.tier_basis, req.scale, held, idx))
    t0 = time.perf_counter()
    from .solvers import Status
    ks, obj, status, proven = solve_worst(curves, fixed, req.cap, req.solver,
                                          clock.remaining(), req.tie_break)
    if status is Status.INFEASIBLE:
        raise InfeasibleError("no plan keeps prepaid spend within the budget")
    if status is not Status.OPTIMAL:
        return None
    counts = {pid: dict(curves[pid][0].counts(ks[pid])) for pid in curves}
    return replace(EngineResult.exact(req.forecast.products(), "all", counts, obj,
                                      time.perf_counter() - t0, "curves", t0 - t_build),
                   tie_break=proven)


def _product_curve(req: Request, product: Product, held, clock: Clock) -> Curve | None:
    """One product's cost per capacity, weighted over the series; None when too large."""
    from .curves import capacity_curve, needed_top, weighted_curve
    series = [f.calls(product.id) for f in req.series]
    start, validity = req.forecast.start, req.catalog.validity_months
    top = max(needed_top(product, s, start, validity, held) for s in series)
    parts = [capacity_curve(product, s, start, validity, req.catalog.tier_basis, req.scale,
                            held, top, clock) for s in series]
    if any(c is None for c in parts):
        return None
    return weighted_curve(parts, req.weights) if len(parts) > 1 else parts[0]


def _postpaid_only_cost(req: Request, product: Product, held) -> int:
    """Weighted cost of a product without packs: its postpaid, whatever else is bought."""
    start, basis = req.forecast.start, req.catalog.tier_basis
    total = 0
    for f, w in zip(req.series, req.weights):
        calls = f.calls(product.id)
        total += w * sum(to_units(month_fee(product, d, u, basis)[4], req.scale)
                         for d, u in zip(calls, held_usage(product, calls, start, held)))
    return total


def _with_packs(req: Request, pids) -> tuple[list[tuple[Product, Any]], int] | None:
    """(product, early holdings) of those of `pids` with packs, and the cost of the others
    (their postpaid, whatever is bought); None when a holding outlives new packs (only the
    integer programs take it)."""
    priced, fixed = [], 0
    for pid in pids:
        product = req.catalog.product(pid)
        held, late = _held_lots(req, product)
        if late:
            return None
        if product.packs:
            priced.append((product, held))
        else:
            fixed += _postpaid_only_cost(req, product, held)
    return priced, fixed


# --------------------------------------------------------------------------- spend frontiers

@dataclass(frozen=True)
class CostBounds:
    """What the frontiers know when a periodic cap defeats them: the relaxation's optimum
    `floor` (a lower bound on the objective) and a plan keeping every cap (`counts`,
    costing `objective`), kept when the integer program stops with a worse one. (The
    frontiers' hulls as rows were tried twice: valid, but they slowed HiGHS's search, and
    with the stream model led it to a plan one fen off its objective; benchmarks/README.md.)
    `floors`: each product's own optimum without the caps (planner._uncapped_first), a
    lower bound on its cost under them, which the joint model takes as a row per product."""

    floor: int
    counts: dict | None = None
    objective: int | None = None
    floors: dict | None = None


def relaxed_cap(req: Request) -> int:
    """The total prepaid spend the caps allow over the horizon (money units): the
    frontiers' relaxation of caps per month or 12-month block."""
    T = req.forecast.months
    limits = [c * -(-T // p) for c, p in ((req.month_cap, 1), (req.year_cap, YEAR))
              if c is not None]
    return min(limits + ([req.cap] if req.cap is not None else []))


def on_frontiers(req: Request) -> EngineResult | CostBounds | None:
    """Any-month plans under prepaid caps (total basis, one forecast) from each product's
    exact (spend, cost) frontier (frontier.py) and a knapsack choosing one point each.

    Caps per month or block are relaxed to the total they allow; when the relaxation's
    optimum breaks one of them and no plan keeping them is found at its cost, CostBounds
    go with the integer program that takes over. None (the integer program alone) when a holding
    outlives new packs, or when a frontier or the knapsack would be too large."""
    from .frontier import TooLarge, period_spend, product_frontier
    t_build = time.perf_counter()
    T, scale = req.forecast.months, req.scale
    periods = [(c, p) for c, p in ((req.month_cap, 1), (req.year_cap, YEAR)) if c is not None]
    cap = relaxed_cap(req)
    clock = req.clock.share()
    fronts = {}
    split = _with_packs(req, req.forecast.products())
    if split is None:
        return None
    priced, fixed = split
    for product, held in priced:
        pid = product.id
        calls = req.forecast.calls(pid)
        try:
            fronts[pid] = product_frontier(
                product, calls, residual_demand(product, calls, req.forecast.start, held),
                req.catalog.validity_months, scale, cap, clock)
        except (TooLarge, OutOfTime):
            return None
    t0 = time.perf_counter()
    points = {pid: f.points() for pid, f in fronts.items()}
    prices = unit_prices(req, fronts)

    from .budget import chooser
    choose = chooser(points, cap)       # (the frontiers merged once for every total)

    def within(total: int):
        """The relaxation's optimum with the total spend capped at `total`: (counts,
        objective, whether it keeps every periodic cap), or None."""
        chosen = choose(total)
        if chosen is None:
            return None
        ks, obj, _ = chosen
        counts = {pid: f.schedule(ks[pid]) for pid, f in fronts.items()}
        spent = [sum(month) for month in zip(*(period_spend(sched, prices[pid], T, 1)
                                               for pid, sched in counts.items()))]
        return counts, obj + fixed, Room.of(req).keeps(spent or [0] * T)

    first = within(cap)
    if first is None:
        return None
    counts, obj, keeps = first
    if not keeps:
        # The relaxation's optimum breaks a periodic cap, so its cost only bounds the
        # optimum from below. A plan that keeps the caps: the relaxation under a smaller
        # total (the smallest cap always keeps them), the largest such total found by
        # bisection. If it costs no more than the bound it is optimal; otherwise it and
        # the bound go to the integer program.
        floor, lo, hi = obj, min([c for c, _ in periods] + [cap]), cap
        found = within(lo)
        while found is not None and hi - lo > 1:
            mid = (lo + hi) // 2
            trial = within(mid)
            if trial is None:
                break
            if trial[2]:
                lo, found = mid, (trial if trial[1] <= found[1] else found)
            else:
                hi = mid
        if found is None or found[1] > floor:
            full = None if found is None else {
                **found[0], **{pid: {} for pid in req.forecast.products() if pid not in found[0]}}
            return CostBounds(floor, full, None if found is None else found[1])
        counts, obj = found[0], found[1]
    counts.update({pid: {} for pid in req.forecast.products() if pid not in counts})
    return EngineResult.exact(req.forecast.products(), "all", counts, obj,
                              time.perf_counter() - t0, "frontier", t0 - t_build)


# --------------------------------------------------------------------------- integer programs

@dataclass(frozen=True)
class Room:
    """The prepaid spend a group may still make under the caps (money units; None: no such
    cap): in all, in each month, in each 12-month block from the horizon's start."""

    total: int | None
    months: tuple[int, ...] | None
    blocks: tuple[int, ...] | None

    @staticmethod
    def of(req: Request, spent: list[int] | None = None) -> Room:
        """What `req`'s caps leave after `spent` (each month's spend so far)."""
        spent = spent or [0] * req.forecast.months
        return Room(None if req.cap is None else req.cap - sum(spent),
                    None if req.month_cap is None else
                    tuple(req.month_cap - s for s in spent),
                    None if req.year_cap is None else
                    tuple(req.year_cap - b for b in _year_sums(spent)))

    def keeps(self, spent: list[int]) -> bool:
        """Whether spending `spent` (each month's) stays within this room."""
        blocks = _year_sums(spent)
        return (self.total is None or sum(spent) <= self.total) and \
            (self.months is None or all(s <= r for s, r in zip(spent, self.months))) and \
            (self.blocks is None or all(s <= r for s, r in zip(blocks, self.blocks)))


def _within(room: Room, gm: GroupModel, months: int, start: dict) -> dict:
    """`start` (product -> {(month, size): packs}) trimmed to `room` (`trim_to`): HiGHS
    drops a start that breaks a cap (the scenarios' own plans, started under a binding
    yearly cap, left a 4-product joint model with no plan at all in its time)."""
    return trim_to(room, start, {pid: gm.models[pid].unit_prices for pid in start}, months)


def trim_to(room: Room, counts: dict, prices: dict, months: int) -> dict:
    """`counts` (product -> {size or (month, size): packs}) less its dearest packs, from the
    months whose cap it breaks, until it keeps `room` (buying less never breaks a cap; {}
    when nothing is left to drop). `prices`: product -> {size: units}. The packs of one key
    go together, as many as the month's worst overrun needs (one at a time, a 1-call
    pack's million took a million passes)."""
    counts = {pid: dict(c) for pid, c in counts.items()}
    while not room.keeps(now := spend_by_month(counts, prices, months)):
        over = [0] * months         # per month: the most by which a cap it is under is broken
        blocks = _year_sums(now)
        for t in range(months):
            over[t] = max(0 if room.total is None else sum(now) - room.total,
                          0 if room.months is None else now[t] - room.months[t],
                          0 if room.blocks is None else
                          blocks[t // YEAR] - room.blocks[t // YEAR])
        dearest = max(((prices[pid][pack_size(key)], pid, key) for pid, c in counts.items()
                       for key, n in c.items()
                       if n and over[key[0] if isinstance(key, tuple) else 0] > 0),
                      default=None)
        if dearest is None:                     # nothing left to drop
            return {}
        price, pid, key = dearest
        month = key[0] if isinstance(key, tuple) else 0
        counts[pid][key] -= min(counts[pid][key], -(-over[month] // max(price, 1)))
    return counts


def spend_by_month(counts: dict, prices: dict, months: int) -> list[int]:
    """Each month's prepaid spend (money units) of product -> {size or (month, size):
    packs}, at product -> {size: price}; start mode's keys (a size alone) are month 0."""
    from .frontier import period_spend
    spent = [0] * months
    for pid, c in counts.items():
        dated = {k if isinstance(k, tuple) else (0, k): v for k, v in c.items()}
        spent = [a + b for a, b in zip(spent, period_spend(dated, prices[pid], months, 1))]
    return spent


def spend_of(req: Request, results: list[EngineResult]) -> list[int]:
    """Each month's prepaid spend of the results' purchases (money units)."""
    return spend_of_counts(req, {pid: c for r in results for pid, c in r.counts.items()})


def spend_of_counts(req: Request, counts: dict) -> list[int]:
    """Each month's prepaid spend of product -> {key: packs} (money units)."""
    return spend_by_month(counts, unit_prices(req, counts), req.forecast.months)


def unit_prices(req: Request, pids) -> dict:
    """product -> {pack size: price in money units}, for `pids`."""
    return {pid: {p.calls: to_units(p.price, req.scale) for p in req.catalog.product(pid).packs}
            for pid in pids}


def purchase_key(req: Request, results: list[EngineResult]) -> tuple[int, int, int]:
    """The (spend, calls, packs) of the results' purchases (spend in money units): the
    tie-break's keys after the cost."""
    bought = [(pack_size(k), n) for r in results for c in r.counts.values()
              for k, n in c.items()]
    return (sum(spend_of(req, results)), sum(size * n for size, n in bought),
            sum(n for _, n in bought))


def _year_sums(spent: list[int]) -> list[int]:
    """Each 12-month block's total of `spent` (per month), from the horizon's start."""
    return [sum(spent[y:y + YEAR]) for y in range(0, len(spent), YEAR)]


@dataclass
class GroupModel:
    """One integer program over a group of products, with what the solve step needs."""

    prob: pulp.LpProblem
    models: dict[str, ProductModel]   # product -> its variables and cost expressions
    spend: pulp.LpAffineExpression    # prepaid spend, money units
    goal: object                      # what is minimised (an expression, or a constant)


def searched_alone(req: Request) -> bool:
    """Whether one product of this request is planned by an exact search under its caps
    rather than an integer program (`_searched`): any month, after-packs, no prorata."""
    return req.purchase_months == "any" and req.catalog.tier_basis == "after-packs" and \
        req.algorithm == "auto" and not req.prorata


def on_block_frontier(req: Request, group: list[str], room: Room) -> bool:
    """Whether products within `room` may be planned from their frontiers over the 12-month
    blocks (`by_block_frontier`): any month, total basis, one forecast, no prorata, caps
    per block (perhaps a total beside them) and none per month."""
    return req.purchase_months == "any" and req.catalog.tier_basis == "total" and \
        req.algorithm == "auto" and not req.prorata and req.single and \
        room.blocks is not None and room.months is None


def _searched(req: Request, group: list[str], room: Room) -> EngineResult | None:
    """One product's plan within `room` by an exact search, where one applies: on one
    forecast the search under a cap per month (after_packs_capped.py), over scenarios the
    scenarios' own optima when they agree (`_scenarios_agree`); else None."""
    if len(group) != 1 or not searched_alone(req) or req.worst_case:
        return None
    if req.single:
        return by_after_packs(req, group[0], room)
    return _scenarios_agree(req, group[0], room)


def _add_floors(req: Request, gm: GroupModel, floors: dict) -> None:
    """Rows bounding the cost of each key of `floors` (a product, or a tuple of products
    whose costs the floor bounds together) from below."""
    import pulp
    for key, floor in floors.items():
        pms = [gm.models.get(pid) for pid in ((key,) if isinstance(key, str) else key)]
        if all(pm is not None for pm in pms) and any(pm.counts for pm in pms):
            gm.prob += pulp.lpSum(_product_cost(req, pm) for pm in pms) >= floor, \
                f"floor_{'_'.join(pm.product.id for pm in pms)}"


def by_integer_program(req: Request, index: int, group: list[str],
                       floors: dict | None = None, room: Room | None = None,
                       start: dict | None = None, ceiling: int | None = None,
                       least: tuple[int, int, int, int] | None = None,
                       rest: int | None = None, spent: float = 0.0) -> EngineResult:
    """The group's plan from one integer program: proven optimal, or the best found when
    the time limit stops the solver (with its bound). `floors`: product (or tuple of
    products) -> a lower bound on its cost (its optimum without the caps, or alone under
    them): when the caps only move purchases, a plan at the floors is found and, with
    these rows, proven at once. `room`: what the caps leave the group after other
    products' purchases (the caps themselves without it). `start`: a plan's pack counts
    (product -> {key: packs}) for HiGHS to start from. `ceiling`: only plans costing at
    most this are wanted (none: "no_solution", its bound above the ceiling). `least`:
    (cost, spend, calls, packs), the least key of any plan at that cost where the caller
    knows it (the tie-break then needs no re-solve for a key the plan meets). `rest`: the
    cost of every product outside the group, settled apart (for `tell_binding`). `spent`:
    the seconds another solve took to find the cost `start` has (a floor at that cost
    then makes this solve short): the tie-break's re-solves get their share of it too."""
    searched = _by_search(req, group, room, ceiling, rest)
    if searched is not None:
        return searched
    args = (req, index, group, floors, room, start, ceiling, least, rest, spent)
    if not on_block_frontier(req, group, room or Room.of(req)):
        return _integer_program(*args)
    if len(group) > FRONTIER_GROUP:
        return _raced(req, args) if RACE_FRONTIERS else _integer_program(*args)
    if _fronts_known(req, group, room or Room.of(req)):
        framed = _by_search(req, group, room, ceiling, rest, frontier=True)
        if framed is not None:
            return framed
    # Under caps per 12-month block the integer program first gets a second: most such
    # solves take less (the frontiers would cost 1-6 s a product), some take many (three
    # products of yearly-any-24m: 2.4 s, their keys 3.2 s more; the frontiers 2.1 s).
    # Meanwhile the frontiers are found on the other core, and stopped if not needed.
    from .solvers import stopped_also
    with _fronts_beside(req, group, room or Room.of(req)) as (wanted, found):
        # (frontiers found within the second stop it: they answer at once; id_card of
        # yearly-any-24m's seed 2027 waited 0.45 s for a solve that proved nothing)
        with stopped_also(found):
            quick = _integer_program(replace(req, clock=req.clock.at_most(QUICK_SECONDS)),
                                     *args[1:])
        if quick.optimal and (quick.tie_break or not req.tie_break) or (
                ceiling is not None and quick.objective is None and quick.bound > ceiling):
            return quick
        wanted()
    framed = _by_search(req, group, room, ceiling, rest, frontier=True)
    if framed is not None:
        return framed
    return _integer_program(req, index, group, floors, room,
                            start or (quick.counts if quick.objective is not None else None),
                            ceiling, least, rest, spent)


def _raced(req: Request, args: tuple) -> EngineResult:
    """A large group under caps per block: its joint integer program here, its frontiers and
    the choice among their points on the other core (`by_block_frontier`); the first to
    prove the plan and its keys stops the other. The bundled example over 24 months under
    a yearly cap of 150,000: the joint model took 141 s, its frontiers 5 s and the choice
    0.4 s (as an integer program, four solves, one per part of the key: 10-20 s). Where a
    frontier is too large (more than RACE_LABELS labels a month) or the points pass
    RACE_POINTS, the integer program goes on alone."""
    from .solvers import stopped_also
    _, _, group, _, room, _, ceiling, _, rest, _ = args
    room = room or Room.of(req)
    chosen: list = []

    def choose(mine: Request) -> bool:
        try:
            chosen.append(by_block_frontier(mine, group, room))
        except Exception:           # (on its thread: the integer program's answer stands)
            return False
        return chosen[-1] is not None
    with _fronts_beside(req, group, room, RACE_LABELS, choose, RACE_POINTS) as (_, found):
        with stopped_also(found):
            solved = _integer_program(*args)
    if solved.optimal and (solved.tie_break or not req.tie_break) or not chosen or \
            chosen[0] is None:
        return solved
    return _framed(req, chosen[0], group, ceiling, rest)


def _integer_program(req: Request, index: int, group: list[str], floors: dict | None,
                     room: Room | None, start: dict | None, ceiling: int | None,
                     least: tuple | None, rest: int | None, spent: float) -> EngineResult:
    """`by_integer_program`'s solve itself."""
    import pulp

    from .solvers import Status, reported_as
    t0 = time.perf_counter()
    label = group[0] if len(group) == 1 else "all" if len(group) == len(req.forecast.demand) \
        else ", ".join(group) if len(group) <= 3 else f"{len(group)} products"
    nothing = {pid: {} for pid in group}
    try:
        if start is None:
            # Out of time already: the model's building alone ran past the limit (single
            # products' scenario models, 0.5 s after a 2 s limit), and a solve of 0.01 s
            # finds no plan from nothing. (With a start, that solve completes the start.)
            req.clock.check()
        gm = _group_model(req, index, group, room)
    except OutOfTime:       # (as a solve out of time before any plan, below)
        return EngineResult(tuple(group), label, nothing, None, 0, Status.NO_SOLUTION.value,
                            0.0, time.perf_counter() - t0)
    _add_floors(req, gm, floors or {})
    build = time.perf_counter() - t0
    constant = isinstance(gm.goal, int) or (
        isinstance(gm.goal, pulp.LpAffineExpression) and not gm.goal.keys())
    if not any(pm.counts for pm in gm.models.values()) and constant:
        # Nothing to decide and nothing to draw: the cost is fixed. (With holdings still to
        # be drawn, or a worst-case objective, the model is solved like any other.)
        fixed = round(gm.goal if isinstance(gm.goal, int) else gm.goal.constant)
        return EngineResult(tuple(group), label, nothing, fixed, fixed, "optimal", 0.0, build,
                            modelled=False)
    _set_goal(gm, ceiling)
    per_currency = req.scale * (1 if req.worst_case else sum(req.weights))
    with reported_as(label, per_currency):       # the terminal's progress line, if any
        # (a product the start leaves out is left to HiGHS to complete)
        start = start or _within(room or Room.of(req), gm, req.forecast.months, {
            pid: pm.start for pid, pm in gm.models.items() if pm.start})
        out, relaxed = _relaxed_first(req, gm, _start_of(gm, start))
    if out.status is Status.INFEASIBLE and ceiling is not None:
        return EngineResult(tuple(group), label, nothing, None, ceiling + 1,
                            Status.NO_SOLUTION.value, out.seconds, build)
    if out.status is Status.INFEASIBLE:
        raise InfeasibleError("no plan satisfies these options (the solver proved the "
                              "model infeasible)")
    if out.status is Status.NO_SOLUTION:
        # Out of time before any plan: buying nothing is a valid plan; 0 bounds the cost.
        return EngineResult(tuple(group), label, nothing, None, 0, out.status.value,
                            out.seconds, build)
    if not out.has_solution:
        raise SolverError(f"the {req.solver} solver failed on "
                          f"{group[0] if len(group) == 1 else 'the joint model'} "
                          f"({out.message})")
    obj = round(out.objective)

    def exact_model() -> GroupModel:
        fresh = _group_model(req, index, group, room)
        _add_floors(req, fresh, floors or {})
        _set_goal(fresh, ceiling)
        return fresh

    values, bound, seconds, tie_break = _outcome(req, gm, group, out, obj, spent, least, rest,
                                                 exact_model if relaxed else None)
    return EngineResult(tuple(group), label, values, obj, bound, out.status.value,
                        seconds, build, tie_break=tie_break)


def _set_goal(gm: GroupModel, ceiling: int | None) -> None:
    """The model's objective, and no plan above `ceiling` (None: no such row)."""
    gm.prob += gm.goal
    if ceiling is not None:
        gm.prob += gm.goal <= ceiling + 0.5, "ceiling"


def _by_search(req: Request, group: list[str], room: Room | None, ceiling: int | None,
               rest: int | None, frontier: bool = False) -> EngineResult | None:
    """`by_integer_program`'s answer from the exact search under the caps, where one
    applies (`_searched`; with `frontier`, the block frontiers'); None where it does not."""
    room = room or Room.of(req)
    searched = by_block_frontier(req, group, room) if frontier else \
        _searched(req, group, room)
    if searched is None:
        return None
    return _framed(req, searched, group, ceiling, rest)


def _framed(req: Request, searched: EngineResult, group: list[str], ceiling: int | None,
            rest: int | None) -> EngineResult:
    """An exact search's plan as `by_integer_program` answers: none above `ceiling`, the
    caps' binding told."""
    from .solvers import Status
    if ceiling is not None and searched.objective > ceiling:
        return replace(searched, counts={pid: {} for pid in group}, objective=None,
                       status=Status.NO_SOLUTION.value)
    if rest is not None or len(group) == len(req.forecast.demand):
        tell_binding(req, searched.objective + (rest or 0))
    # (its tie-break is proven within `room`, as the integer program's would be, where the
    # search proved it: not where too many plans tie to list)
    return replace(searched, tie_break=req.tie_break and searched.tie_break)


def _outcome(req: Request, gm: GroupModel, group: list[str], out, obj: int, spent: float,
             least: tuple | None, rest: int | None, exact_model=None
             ) -> tuple[dict, int, float, bool]:
    """(pack counts, bound, seconds, whether the tie-break is proven) of a solve that found
    a plan of cost `obj` (`by_integer_program`): proven optimal, the tie-break's re-solves
    follow; stopped, the solver's bound. `exact_model`, where `gm` is `_relaxed_first`'s
    relaxation (whose optimum a plan billed at that cost proved): a function building the
    exact model. The relaxation's tie-break holds where the plan it ends with bills at
    `obj` too (each key it proves is at least as good as any real plan's); else the exact
    model's re-solves start again from the first plan."""
    from .solvers import Status
    values, seconds = _counts(gm), out.seconds
    if out.status is Status.OPTIMAL and not req.tie_break:
        return values, obj, seconds, False
    if out.status is Status.OPTIMAL:
        if rest is not None or len(group) == len(req.forecast.demand):
            tell_binding(req, obj + (rest or 0))
        known = least[1:] if least is not None and least[0] == obj else None
        first = values
        values, tie_seconds, tie_break = _prefer_less_prepaid(
            req, gm, obj, values, max(out.work, spent), known)
        if exact_model is not None and _exact_goal(req, gm, values) != obj:
            try:
                values, more, tie_break = _prefer_less_prepaid(
                    req, exact_model(), obj, first, max(out.work, spent), known)
            except OutOfTime:
                values, more, tie_break = first, 0.0, False
            tie_seconds += more
        return values, obj, seconds + tie_seconds, tie_break
    # Every cost is non-negative, so 0 bounds it even before the solver proves more.
    return values, max(out.bound, 0) if out.bound is not None else 0, seconds, False


def _relaxed_first(req: Request, gm: GroupModel, start: dict | None):
    """Solve the group's model; where it is one product's over several scenarios, its
    after-packs streams have relaxable binaries (`ProductModel.relaxable`) and it is not
    proven within RELAX_AFTER seconds, solve it once without them: the relaxation's
    optimum is proven when its plan bills at it.
    Returns (the solve's outcome, whether the model is left relaxed).

    The binaries make each purchase count in the stream with all it holds up to its window
    (drawing less can lower a month's tier under after-packs, so the model must not leave
    balance undrawn). Without them the model may, and its optimum is a lower bound; on
    most products its plan draws all it holds anyway. Where the exact model's bound
    stalls, the relaxation often proves at once (business_license of the bundled example
    over 24 months with three scenarios: stuck 0.47 % below the optimum after 10 minutes,
    the relaxation proves it in 7 s). Where the relaxation's plan bills dearer, the exact
    model goes on with its bound as a row and the better of the two plans as its start.
    """
    import pulp

    from .solvers import Status, reported_with, solve, stop_event
    # (one product's model over several scenarios only: a joint model under caps whose
    # relaxation did not prove in 30 s lost its race with the block frontiers, 39 s to
    # 95 s end to end for after-scenarios-4x24-yearly of benchmarks.time_limits)
    relaxable = [v for pm in gm.models.values() for v in pm.relaxable] \
        if len(gm.models) == 1 and not req.single else []
    kw = {"scenarios": not req.single}
    remaining = req.clock.remaining()
    if not relaxable or (remaining is not None and remaining <= RELAX_AFTER):
        return solve(gm.prob, req.solver, remaining, start=start, **kw), False
    out = solve(gm.prob, req.solver, RELAX_AFTER, start=start, **kw)
    stop = stop_event()
    if out.status in (Status.OPTIMAL, Status.INFEASIBLE, Status.ERROR) or \
            req.clock.expired() or (stop is not None and stop.is_set()):
        return out, False
    found = _counts(gm) if out.has_solution else None
    for v in relaxable:
        v.cat = pulp.LpContinuous
    left = req.clock.remaining()
    # (its progress is the relaxation's: its plans can bill dearer than it says)
    with reported_with(" (relaxed)"):
        rel = solve(gm.prob, req.solver, RELAXED_SECONDS if left is None else min(
            RELAXED_SECONDS, left / 2), start=_start_of(gm, found) or start, **kw)
    seconds = out.seconds + rel.seconds
    if rel.status is Status.OPTIMAL and rel.objective is not None and \
            _exact_goal(req, gm, _counts(gm)) == round(rel.objective):
        return replace(rel, seconds=seconds), True
    relaxed_plan = _counts(gm) if rel.has_solution else None
    for v in relaxable:
        v.cat = pulp.LpInteger             # (PuLP keeps a binary as 0-1 integer)
    if rel.status is Status.INFEASIBLE:
        # (under a ceiling: no plan of the exact model is within it either)
        return replace(rel, seconds=seconds), False
    if rel.status is not Status.ERROR and rel.bound is not None:
        # (no plan of the exact model costs less than the relaxation's bound)
        gm.prob += gm.goal >= rel.bound - 1, "relaxed_bound"
    plans = [p for p in (found, relaxed_plan) if p is not None]
    best = min(plans, key=lambda p: _exact_goal(req, gm, p)) if plans else None
    final = solve(gm.prob, req.solver, req.clock.remaining(),
                  start=_start_of(gm, best) or start, **kw)
    return replace(final, seconds=seconds + final.seconds), False


def _start_of(gm: GroupModel, counts: dict | None) -> dict | None:
    """A plan's counts (product -> {key: packs}) as the solver's start (variable ->
    value); a product they leave out is left to HiGHS to complete."""
    if not counts:
        return None
    return {v: counts[pid].get(key, 0) for pid, pm in gm.models.items() if pid in counts
            for key, v in pm.counts.items()}


def _exact_goal(req: Request, gm: GroupModel, counts: dict) -> int:
    """The group's objective at these pack counts, billed (each scenario's bill of every
    product in the group, weighted or the worst)."""
    costs = [0] * len(req.series)
    for pid, pm in gm.models.items():
        for k, c in enumerate(_scenario_costs(req, pm.product, counts[pid])):
            costs[k] += c
    return combined_costs(req, costs)


def combined_costs(req: Request, costs: list[int]) -> int:
    """The objective of the scenarios' costs: their weighted sum, or the worst."""
    return max(costs) if req.worst_case else sum(w * c for w, c in zip(req.weights, costs))


def tell_binding(req: Request, cost: int) -> None:
    """Call `req.on_binding` once, when `cost`, a proven optimum of every product under the
    caps, lies above their optimum without the caps (or that is not known): the value of
    the cap will then need a plan under raised caps, which the caller may start while the
    tie-break re-solves run (they use one core; those of the 9 x 24 capped families took
    as long as the plan under raised caps, 11-44 s each)."""
    if req.on_binding is None or req.found.get("told") or (
            req.cap is None and req.month_cap is None and req.year_cap is None):
        return
    free = req.found.get("uncapped")
    if free is not None and cost <= sum(r.objective for r in free):
        return                  # the caps only move purchases: nothing to raise
    req.found["told"] = True
    # (what a plan of the same request under other caps may reuse: plan()'s `known`)
    req.on_binding({"uncapped": free} if free is not None else {})


def with_bounds(result: EngineResult, bounds: CostBounds | None) -> EngineResult:
    """An integer program's result stopped early, improved by the frontiers: their bound
    when higher, their plan when cheaper."""
    if bounds is None or result.optimal:
        return result
    bound = max(result.bound, bounds.floor)
    if result.objective is not None and bound > result.objective - 1:
        # Costs are whole units: nothing costs less than the plan found.
        return replace(result, bound=result.objective, status="optimal")
    if bounds.counts is not None and (result.objective is None or
                                      bounds.objective < result.objective):
        return replace(result, counts=bounds.counts, objective=bounds.objective, bound=bound)
    return replace(result, bound=bound)


def _group_model(req: Request, index: int, group: list[str],
                 room: Room | None = None) -> GroupModel:
    """Data, variables and constraints of each product's model, then the objective and the
    budget rows that tie them together (`room`: what the caps leave the group; the caps
    themselves without it). OutOfTime when the clock runs out between two products' models
    (six products' cohort models took 2.3 s to build, past a 2 s time limit)."""
    import pulp
    prob = pulp.LpProblem(f"packs_{index}", pulp.LpMinimize)
    months = (room or Room.of(req)).months
    models = {}
    for i, pid in enumerate(group):
        if i:
            req.clock.check()
        models[pid] = _product_model(req, prob, pid, f"_{i}", months)
    spend = pulp.lpSum(pm.pack_spend for pm in models.values())
    if req.worst_case:
        # worst: the dearest scenario's cost, which the objective pushes down.
        worst = prob.add_variable(f"worst_{index}", 0)
        for k in range(len(req.series)):
            prob += worst >= spend + pulp.lpSum(pm.postpaid[k] for pm in models.values()), \
                f"worst_{index}_{k}"
        goal = worst
    else:
        goal = pulp.lpSum(_product_cost(req, pm) for pm in models.values())
    room = room or Room.of(req)
    if room.total is not None:
        # Prepaid spend stays within the budget.
        prob += spend <= room.total, "budget"
    from .stream_milp import add_period_cuts
    if room.months is not None:
        # Each month's prepaid spend stays within the monthly budget.
        for t in range(req.forecast.months):
            month_spend = [pm.price_of(key) * v for pm in models.values()
                           for key, v in pm.counts.items() if key[0] == t]
            if month_spend:
                prob += pulp.lpSum(month_spend) <= room.months[t], f"budget_{t}"
        add_period_cuts(prob, models, req.forecast.months, 1, room.months, "budget_cut")
    if room.blocks is not None:
        # Each 12-month block's prepaid spend stays within the yearly budget.
        for y in range(0, req.forecast.months, YEAR):
            year_spend = [pm.price_of(key) * v for pm in models.values()
                          for key, v in pm.counts.items() if y <= key[0] < y + YEAR]
            if year_spend:
                prob += pulp.lpSum(year_spend) <= room.blocks[y // YEAR], f"year_budget_{y}"
        add_period_cuts(prob, models, req.forecast.months, YEAR, room.blocks, "year_cut")
    return GroupModel(prob, models, spend, goal)


def _product_cost(req: Request, pm: ProductModel):
    """One product's cost in the objective's units: its spend and its postpaid, weighted
    over the scenarios."""
    import pulp
    return sum(req.weights) * pm.pack_spend + (
        pm.postpaid[0] if pm.weighted else
        pulp.lpSum(w * pm.postpaid[k] for k, w in enumerate(req.weights)))


def _product_model(req: Request, prob: pulp.LpProblem, pid: str, tag: str,
                   months=None) -> ProductModel:
    """One product's model: start mode, any month, or the general cohort model when a
    holding outlives new packs. `months`: the most the group may spend in each month (for
    the scenarios' floors)."""
    from .any_milp import add_any_mode
    from .scenario_any import add_any_scenarios
    from .start_milp import add_start_mode
    catalog, forecast = req.catalog, req.forecast
    product = catalog.product(pid)
    held, late = _held_lots(req, product)
    stream_after = (req.purchase_months == "any" and catalog.tier_basis == "after-packs"
                    and not late and not req.prorata and req.algorithm == "auto")
    if (req.scenarios and (late or req.purchase_months == "any")) or stream_after:
        # One dated schedule shared by the scenarios, a usage block each (scenario_any.py).
        # A single forecast under after-packs in any month (an integer program only with a
        # cap) takes it too, as one scenario: its stream block writes billing's draws
        # exactly, and proves the 9-product example under a total cap 30x sooner than the
        # cohort model of any_milp.
        series = [f.calls(pid) for f in req.series]
        resids = [residual_demand(product, c, forecast.start, held) for c in series]
        pm = add_any_scenarios(
            prob, product, series, resids,
            catalog.validity_months, catalog.tier_basis, req.scale, tag=tag, late=late,
            start_only=req.purchase_months == "start", plain=req.algorithm == "milp",
            prorata=req.prorata, ahead=req.periodic)
        if pm.counts and not late and req.purchase_months == "any" and (
                not req.single or req.prorata) and catalog.tier_basis == "after-packs" \
                and req.algorithm == "auto":
            _scenario_floors(req, prob, pm, series, resids, tag, months)
        return pm
    if req.periodic and not late and req.purchase_months == "any" and not req.prorata \
            and catalog.tier_basis == "total" and req.algorithm == "auto":
        # Caps per month or block: the stream model, exact with buying ahead (stream_milp.py).
        from .stream_milp import add_stream_model
        calls = forecast.calls(pid)
        return add_stream_model(prob, product, calls,
                                residual_demand(product, calls, forecast.start, held),
                                catalog.validity_months, req.scale, tag=tag,
                                month_spend_cap=_month_spend_cap(req))
    if late or req.purchase_months == "any":
        calls = forecast.calls(pid)
        resid = residual_demand(product, calls, forecast.start, held)
        cuts = req.cap is not None or req.year_cap is not None
        pm = add_any_mode(
            prob, product, calls, resid,
            catalog.validity_months, catalog.tier_basis, req.scale, tag=tag,
            late=late, start_only=req.purchase_months == "start",
            # A cap per month or block can make buying ahead of demand pay: no just in
            # time. Under prorata and a total cap, the general model takes the spend cuts
            # (the just-in-time model's credit has no per-purchase draws to cut on).
            just_in_time=not req.periodic and not (req.prorata and cuts),
            prorata=req.prorata, spend_cuts=cuts)
        if pm.counts and not late and req.purchase_months == "any" and req.prorata \
                and req.algorithm == "auto":
            # Prorata under a cap: the uncapped optimum bounds the cost and starts HiGHS.
            _scenario_floors(req, prob, pm, [calls], [resid], tag)
        return pm
    return add_start_mode(
        prob, product, [f.calls(pid) for f in req.series], forecast.start,
        catalog.validity_months, catalog.tier_basis, req.scale, held, tag=tag,
        weights=list(req.weights) if req.objective == "expected" else None,
        prorata=req.prorata)


def _scenario_floors(req: Request, prob: pulp.LpProblem, pm: ProductModel, series, resids,
                     tag: str, months=None) -> None:
    """Rows bounding the product's cost under each scenario by that scenario's own optimum
    (`_scenario_optima`), and the best of those optima's schedules as the solver's start
    (`pm.start`).

    The relaxation of the shared schedule buys fractions of packs, priced on the hull of
    the least spend, so its bound lies well below any whole purchase (bank_card of a
    4-product, 24-month forecast with three scenarios: 2.1 % below the optimum, which
    HiGHS took 10-25 s to close). No scenario alone does better than its own optimum, so
    these rows hold for every plan, and with them that root bound was the optimum itself;
    the start then gives HiGHS a plan at or near it."""
    schedules = _scenario_optima(req, pm.product, series, resids, months)
    if schedules is None:
        return
    for k, found in enumerate(schedules):
        prob += pm.pack_spend + pm.postpaid[k] >= found.objective, f"alone{tag}_{k}"
    pm.start = min((s.counts for s in schedules),
                   key=lambda counts: _scenario_objective(req, product=pm.product,
                                                          counts=counts))


def _scenario_optima(req: Request, product: Product, series, resids, months=None):
    """Each scenario's own optimum for the product (the exact after-packs search; under
    prorata, of the cost less the credit; under `total` (one forecast, prorata, a cap) the
    dynamic program's), or None when a search declines or runs out of its share of the
    time left (FLOOR_SHARE). `months` (after-packs, no prorata): the most it may spend in
    each month, so each optimum is the scenario's within that cap (after_packs_capped.py):
    every plan the model allows keeps it, and where it binds that optimum lies above the
    one without it. Kept in `req.found` for the request's other models."""
    from .after_packs import after_packs_schedule
    from .after_packs_capped import capped_after_packs_schedule
    if req.prorata or req.catalog.tier_basis == "total":
        months = None
    memo = ("optima", product.id, months, tuple(tuple(c) for c in series),
            tuple(tuple(r) for r in resids))
    if memo in req.found:
        return req.found[memo]
    clock = req.clock.share(FLOOR_SHARE)
    V = req.catalog.validity_months
    schedules = []
    try:
        for calls, resid in zip(series, resids):
            found = None
            if req.catalog.tier_basis == "total":
                if not dp_fits(product, calls, resid, V, req.scale, req.prorata):
                    return None     # too fine a lattice (limits.py)
                found = optimal_schedule(product, calls, resid, V, req.scale,
                                         prorata=req.prorata, clock=clock)
            elif months is not None:
                found = capped_after_packs_schedule(product, calls, resid, V, req.scale,
                                                    months, clock)
            if found is None and req.catalog.tier_basis != "total":
                found = after_packs_schedule(product, calls, resid, V, req.scale, clock,
                                             req.prorata)
            if found is None:
                return None
            schedules.append(found)
    except (OutOfTime, SolverError):
        return None         # (SolverError: too many prorata end mixes for the DP)
    req.found[memo] = schedules
    return schedules


def _scenarios_agree(req: Request, pid: str, room: Room) -> EngineResult | None:
    """One product's plan over the scenarios (expected cost, after-packs, any month, no
    prorata) without an integer program, when one scenario's own optimum reaches the sum
    of all of theirs (each scenario's optimum within `room`'s months, if any).

    No plan costs less under a scenario than that scenario's optimum, so the expected cost
    is at least their weighted sum; a plan at that sum is optimal. Every optimal plan is
    then optimal under each scenario alone, so its key (spend, −calls, packs) is at least
    that of each scenario's tie-break plan: the one found, which reaches the sum, has the
    least key, and the tie-break is proven as well. None otherwise."""
    if room.total is not None or room.blocks is not None:
        return None
    t0 = time.perf_counter()
    product = req.catalog.product(pid)
    held, late = _held_lots(req, product)
    if late or not product.packs:
        return None
    series = [f.calls(pid) for f in req.series]
    resids = [residual_demand(product, c, req.forecast.start, held) for c in series]
    schedules = _scenario_optima(req, product, series, resids, room.months)
    if schedules is None:
        return None
    floor = sum(w * s.objective for w, s in zip(req.weights, schedules))
    for s in schedules:
        if _scenario_objective(req, product, s.counts) == floor:
            # (its key the least only where its own search proved its tie-break: not so
            # when too many plans tie on cost and spend to list; the dynamic program's
            # schedules, under the total basis, carry no flag: they always prove it)
            return replace(EngineResult.exact((pid,), pid, {pid: dict(s.counts)}, floor,
                                              time.perf_counter() - t0, "after-packs"),
                           tie_break=getattr(s, "tie_break", True))
    return None


def _scenario_objective(req: Request, product: Product, counts: dict) -> int:
    """The objective (weighted or worst, money units; under prorata net of the credit) of
    one product's purchases, billed under every scenario."""
    return combined_costs(req, _scenario_costs(req, product, counts))


def _scenario_costs(req: Request, product: Product, counts: dict) -> list[int]:
    """One product's billed cost under each scenario (money units; under prorata net of
    the credit)."""
    from ..billing import bill_product
    from ..domain.records import Purchase
    start = req.forecast.start
    held = [h for h in req.holdings if h.product == product.id and h.expires >= start]
    lots = make_lots(product, [Purchase(product.id, start + t, size, n)
                               for (t, size), n in counts.items() if n],
                     held, start, req.catalog.validity_months)
    bills = [bill_product(product, f.calls(product.id), start, lots, req.catalog.tier_basis,
                          False) for f in req.series]
    return [to_units(b.net_cost if req.prorata else b.total_cost, req.scale) for b in bills]


def _month_spend_cap(req: Request) -> int | None:
    """The most one month's purchases may spend under the request's caps."""
    caps = [c for c in (req.cap, req.month_cap, req.year_cap) if c is not None]
    return min(caps) if caps else None


def _counts(gm: GroupModel) -> dict:
    """The solver's pack counts, product -> {key: packs}."""
    return {pid: {s: round(v.value() or 0) for s, v in pm.counts.items()}
            for pid, pm in gm.models.items()}


def _prefer_less_prepaid(req: Request, gm: GroupModel, best: int, values: dict,
                         first_seconds: float, least: tuple[int, int, int] | None = None
                         ) -> tuple[dict, float, bool]:
    """Among plans of the optimal cost, the one with the least prepaid spend; among those,
    the most calls bought; then the fewest packs (docs/pricing.md, 'Optimality').

    Each re-solve keeps the keys before it as constraints, so any plan it returns is still
    optimal (calls and packs are one key where that is exact in floats). Each asks for a
    plan better on its key than the plan in hand, as a row (the key is a whole number):
    "infeasible" proves the plan's key the least, and a plan found is the least there is.
    As a row the key prunes from presolve on, where the plan in hand as the incumbent did
    not: id_card of the issue's 3 × 24 forecast with three scenarios and a monthly cap
    proved its least spend in 0.6–1.4 s over four seeds instead of 5–30 s (the joint
    models of the capped 9-product examples: about as fast as before). Each gets 1.5
    times the first solve's work (`first_seconds`, on every core: its twin's win cuts the
    wall time, not the work), at least 10 s; a key not proven in time leaves the plan as it
    is and stops the re-solves (at most one re-solve a model runs out).
    `least`: the least (spend, calls, packs) of any plan at this cost, when known; a key
    the plan meets, after keys it met too, is proven without a re-solve. Returns the plan,
    the re-solves' seconds (solving time) and whether every key was proven.
    """
    import pulp

    from .solvers import Status, solve
    if not any(k for v in values.values() for k in v.values()):
        return values, 0.0, True
    seconds = 0.0
    variables = [(pm, key, v) for pm in gm.models.values() for key, v in pm.counts.items()]
    step = math.gcd(*(pack_size(key) for _, key, _ in variables))
    calls = pulp.lpSum((pack_size(key) // step) * v for _, key, v in variables)
    packs = pulp.lpSum(v for _, _, v in variables)
    gm.prob += gm.goal <= best + 0.5, "keep_optimal_cost"
    # (objective, sense): spend down, then calls up, then packs down.
    most = sum(round(v.upBound) for _, _, v in variables)       # (every count is bounded)
    weight = (most + 1) * max(pack_size(key) // step for _, key, _ in variables)
    if weight <= max(pm.price_of(key) for pm, key, _ in variables) and \
            (most + 1) * sum(pack_size(key) // step * v.upBound for _, key, v in variables) \
            <= COMBINED_KEY:
        # Calls then packs as one key: calls weighted above any difference in packs, both
        # whole numbers, so the order is exact. Its coefficients stay within the prices the
        # cost objective already proves to the unit. One re-solve fewer, each often as
        # long as the first (the example under --monthly-budget 40000: three re-solves of
        # about 6 s each, now two).
        keys = ((gm.spend, 1), ((most + 1) * calls - packs, -1))
        bounds = least and (least[0], (most + 1) * (least[1] // step) - least[2])
    else:
        keys = ((gm.spend, 1), (calls, -1), (packs, 1))
        bounds = least and (least[0], least[1] // step, least[2])
    if least and least[1] % step:
        bounds = None       # (calls the model cannot buy: no bound on its keys)
    for i, (expr, sense) in enumerate(keys):
        # The key of the plan in hand from its rounded counts, never the solver's float
        # (that came back as 66,999,999.5 for a spend of 67,000,000: a bound half a unit
        # off either way cuts the plan itself off).
        now = _key_of(expr, gm, values)
        if bounds and now == bounds[i]:
            # The least of any plan at this cost (its keys before at theirs): proven.
            gm.prob += (expr <= now + 0.5) if sense > 0 else (expr >= now - 0.5), \
                f"tie_break_{i}"
            continue
        bounds = None       # (a later bound holds only while the keys before meet theirs)
        gm.prob.setObjective(sense * expr)
        gm.prob += (expr <= now - 0.5) if sense > 0 else (expr >= now + 0.5), \
            f"tie_break_{i}"
        limit = max(TIE_BREAK_FLOOR, TIE_BREAK_SHARE * first_seconds)
        remaining = req.clock.remaining()
        out = solve(gm.prob, req.solver, limit if remaining is None else min(limit, remaining),
                    scenarios=not req.single)
        seconds += out.seconds
        if out.status is Status.OPTIMAL and out.objective is not None:
            found = _counts(gm)
            better = _key_of(expr, gm, found)
            if sense * better < sense * now:        # (not an echo within the tolerances)
                values, now = found, better
        elif out.status is not Status.INFEASIBLE:
            return values, seconds, False   # not proven in time: keep the plan found so far
        # The row now keeps the key for the keys after it.
        gm.prob.get_constraint_by_name(f"tie_break_{i}").changeRHS(
            now + 0.5 * sense - expr.constant)
    return values, seconds, True


def _key_of(expr, gm: GroupModel, values: dict) -> int:
    """A tie-break key's value at the pack counts `values` (its terms are counts)."""
    count = {v.name: values[pid][key] for pid, pm in gm.models.items()
             for key, v in pm.counts.items()}
    return round(sum(c * count[v.name] for v, c in expr.items()) + expr.constant)


def pack_size(key) -> int:
    """The pack size behind a `counts` key: a size, or (month, size)."""
    return key if isinstance(key, int) else key[1]
