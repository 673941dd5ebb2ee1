"""What-if analysis: a fixed plan under other demand levels, beside the plan each would want."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from ..billing import Bill, bill, holding_notes, level_notes
from ..domain.catalog import Catalog
from ..domain.records import Forecast, Holding, Plan
from ..exceptions import InputError
from ..solve.clock import Clock
from ..solve.planner import plan as optimize
from .budget import caps_broken

@dataclass(frozen=True)
class WhatIfRow:
    label: str                 # the scale ("×0.8") or the scenario name
    forecast: Forecast
    fixed: Bill                # the examined plan billed under this demand
    best: Bill                 # the plan that would be optimal for this demand, billed
    gap: Decimal = Decimal(0)  # `best` proven within this of the optimum (0: optimal);
                               # above 0 only where a time limit stopped its solve

    @property
    def regret(self) -> Decimal:
        """The examined plan's cost above `best`'s: the regret, or where `best` is not
        proven (`gap` > 0) the least it can be (it is at most `regret + gap`)."""
        return self.fixed.total_cost - self.best.total_cost


@dataclass(frozen=True)
class BreakEven:
    """Scale range around 1 over which a product's recommended packs stay optimal."""

    product: str
    low: Decimal | None        # None: still optimal at the lowest scale searched
    high: Decimal | None       # None: still optimal at the highest scale searched
    optimal: bool | None = True  # False: not optimal at the forecast itself (×1): no
                                 # range; None: not decided in the time limit
    complete: bool = True      # False: a time limit stopped the search; the packs stay
                               # optimal at least from `low` to `high`, which may reach further


@dataclass(frozen=True)
class WhatIf:
    """A plan examined under several demand levels, and its break-even ranges if asked for."""

    examined: Bill                          # the plan billed on the forecast itself
    rows: tuple[WhatIfRow, ...]             # one per scale, then one per scenario
    scale_count: int                        # how many of `rows` are scales
    ranges: tuple[BreakEven, ...] | None
    status: str | None = None               # the examined plan when packopt planned it:
    gap: Decimal = Decimal(0)               # "optimal", or "feasible" within `gap`
    warnings: tuple[str, ...] = ()          # holdings ignored; figures on the assumed rate
    purchase_months: str = "start"          # how the levels' optima (and ranges) may buy
    narrower: bool = False                  # they buy only at the start, the examined plan
                                            # later too: dearer than it, a negative regret


def examine(catalog: Catalog, forecast: Forecast, scales=(), scenarios=(), *,
            plan: Plan | None = None, holdings: tuple[Holding, ...] = (),
            solver: str = "highs", budget=None, monthly_budget=None, yearly_budget=None,
            with_break_even: bool = True, purchase_months: str | None = None,
            time_limit: float | None = None, plan_warnings: tuple[str, ...] = ()) -> WhatIf:
    """`whatif` and, with `with_break_even`, `break_even`, for the same plan, within one
    `time_limit` (seconds; None: none) for all their solves. `plan_warnings`: those of the
    file `plan` was read from (`Inputs.plan_warnings`: its `cost` cells that disagree with
    the catalog), warned of first, as `bill` warns of them."""
    clock = Clock(time_limit)
    caps = dict(budget=budget, monthly_budget=monthly_budget, yearly_budget=yearly_budget)
    found, examined, rows = _levels(catalog, forecast, scales, scenarios, plan, holdings,
                                    solver, caps, purchase_months, clock, with_break_even)
    ranges = (_break_even(catalog, forecast, examined, holdings, solver, caps,
                          purchase_months, clock) if with_break_even else None)
    mode = purchase_months or buys_as(plan, forecast)
    return WhatIf(bill(catalog, forecast, examined, holdings), rows, len(scales), ranges,
                  None if found is None else found.status,
                  Decimal(0) if found is None else found.gap,
                  tuple(plan_warnings)
                  + holding_notes(forecast, holdings)
                  + level_notes(catalog, [(_level_name(r.label, i < len(scales)), r.fixed, r.best)
                                          for i, r in enumerate(rows)]),
                  mode, mode == "start" and buys_as(examined, forecast) == "any")


def scales_within(forecast: Forecast, scales) -> tuple[list, list]:
    """(the scales that keep every month of `forecast` within the calls packopt takes, those
    that do not): default demand levels past the limit are left out, not blamed on a
    --scale nobody gave."""
    kept, dropped = [], []
    for s in scales:
        try:
            forecast.scaled(s)
            kept.append(s)
        except InputError:
            dropped.append(s)
    return kept, dropped


def _level_name(label: str, scale: bool) -> str:
    return f"demand {label}" if scale else f"scenario '{label}'"


def buys_as(plan: Plan | None, forecast: Forecast) -> str:
    """The purchase months the plans each demand level would want may use: "any" when
    `plan` buys after the forecast's first month (beside start-only optima, dearer than
    itself, its regret came out negative), else "start"."""
    dated = plan is not None and any(p.month != forecast.start for p in plan.purchases)
    return "any" if dated else "start"


def whatif(catalog: Catalog, forecast: Forecast, scales=(), scenarios=(), *,
           plan: Plan | None = None, holdings: tuple[Holding, ...] = (),
           solver: str = "highs", budget=None, monthly_budget=None, yearly_budget=None,
           purchase_months: str | None = None, time_limit: float | None = None
           ) -> tuple[Plan, tuple[WhatIfRow, ...]]:
    """Bill `plan` (default: the optimal plan for `forecast`) under each demand level.

    With caps (`budget`, `monthly_budget`, `yearly_budget`), both the examined plan and each
    level's best plan keep them. Each level's best plan buys as `purchase_months` says
    (None: as `plan` does, `buys_as`). `time_limit`: seconds for all the solves; a level
    whose solve it stops has the best plan found and its `gap`.
    """
    _, examined, rows = _levels(
        catalog, forecast, scales, scenarios, plan, holdings, solver,
        dict(budget=budget, monthly_budget=monthly_budget, yearly_budget=yearly_budget),
        purchase_months, Clock(time_limit))
    return examined, rows


def _levels(catalog, forecast, scales, scenarios, plan, holdings, solver, caps: dict,
            purchase_months, clock: Clock, then: bool = False):
    """(the examined plan's PlanResult when packopt planned it, else None; the examined
    plan; its rows), every solve on `clock`, each an even part of the time left, counting
    the break-even searches as one more part when they follow (`then`). (Reserving them
    half the limit left it unused where the products' searches were settled at ×1.)"""
    options = dict(caps, purchase_months=purchase_months or buys_as(plan, forecast))
    if not scales and not scenarios:
        raise InputError("give demand levels with --scale or --scenarios", field="scale")
    for s in scales:
        if s <= 0:
            raise InputError(f"scale {s} must be positive", field="scale")
    if plan is not None:
        _check_within(catalog, forecast, plan, holdings, **caps)
    try:        # (10 written out: normalize() alone gives 1E+1)
        levels = [(f"×{s.normalize():f}", forecast.scaled(s)) for s in scales]
    except InputError as e:
        raise InputError(e.message, source="--scale") from None
    levels += [(sc.name, sc.forecast) for sc in scenarios]
    # (each solve an even part of the time left: the first took it all, the rest none)
    found = None if plan is not None else optimize(
        catalog, forecast, solver=solver, holdings=holdings,
        time_limit=clock.part(1 + len(levels) + then).remaining(), **options)
    examined = plan if found is None else found.plan
    mine_fits = options["purchase_months"] == "any" or buys_as(examined, forecast) == "start"
    rows = []
    for k, (label, f) in enumerate(levels):
        # (the forecast itself, ×1 among the default levels: the examined plan's solve)
        try:
            best = found if found is not None and f.demand == forecast.demand else optimize(
                catalog, f, solver=solver, holdings=holdings,
                time_limit=clock.part(len(levels) - k + then).remaining(), **options)
        except InputError as e:
            if k >= len(scales):
                raise
            # (a level past what packopt plans exactly is the scale's doing: the message
            # named the forecast's file, which was fine)
            raise InputError(f"at {label}: {e.message}", source="--scale") from None
        fixed, gap = bill(catalog, f, examined, holdings), best.gap
        if gap and mine_fits and fixed.total_cost < best.bill.total_cost:
            # Stopped early with a plan dearer than the examined one, which keeps the same
            # caps and purchase months: the examined plan is the better plan found.
            gap, best = gap - (best.bill.total_cost - fixed.total_cost), replace(best, bill=fixed)
        rows.append(WhatIfRow(label, f, fixed, best.bill, gap))
    return found, examined, tuple(rows)


def _check_within(catalog, forecast, plan: Plan, holdings, **caps) -> None:
    """Refuse a plan that spends above a cap: beside plans that keep it, its regret would
    come out negative."""
    if all(cap is None for cap in caps.values()):
        return
    broken = caps_broken(bill(catalog, forecast, plan, holdings), **caps)
    if broken:
        b = broken[0]
        where = ("on packs" if b.flag == "--budget" else
                 f"on packs in {forecast.start + b.first}" if b.months == 1 else
                 f"on packs in {forecast.start + b.first}.."
                 f"{forecast.start + (b.first + b.months - 1)}")
        kind = {"--budget": "budget", "--monthly-budget": "monthly budget",
                "--yearly-budget": "yearly budget"}[b.flag]
        raise InputError(f"the plan spends {b.spent:,.2f} {where}, above the {kind} of "
                         f"{b.cap:,.2f}: drop {b.flag}, or examine a plan within it",
                         source=b.flag)


def break_even(catalog: Catalog, forecast: Forecast, examined: Plan, *,
               holdings: tuple[Holding, ...] = (), solver: str = "highs",
               budget=None, monthly_budget=None, yearly_budget=None,
               purchase_months: str | None = None, lowest: Decimal = Decimal("0.1"),
               highest: Decimal = Decimal("10"), precision: Decimal = Decimal("0.01"),
               time_limit: float | None = None) -> tuple[BreakEven, ...]:
    """Per product, the scale range (to `precision`) where `examined` costs no more than the
    optimum: each end a multiple of `precision` at which it was found optimal (and, the
    search complete, not one step further out). Assumes the range is an interval around 1,
    which it is for monotone demand.
    The optima buy as `purchase_months` says (None: as `examined` does, `buys_as`). Where
    `time_limit` (seconds, for all the solves) stops the search, a product's range is the
    part proven so far (`complete` False)."""
    return _break_even(catalog, forecast, examined, holdings, solver,
                       dict(budget=budget, monthly_budget=monthly_budget,
                            yearly_budget=yearly_budget),
                       purchase_months, Clock(time_limit), lowest, highest, precision)


# Long (55 lines): the bisection and its stops share the product's plan and the clock.
def _break_even(catalog, forecast, examined, holdings, solver, caps: dict, purchase_months,
                clock: Clock, lowest=Decimal("0.1"), highest=Decimal("10"),
                precision=Decimal("0.01")) -> tuple[BreakEven, ...]:
    purchase_months = purchase_months or buys_as(examined, forecast)
    out, whole = [], clock
    for k, (pid, calls) in enumerate(forecast.demand):
        clock = whole.part(len(forecast.demand) - k)      # (each product an even part)
        single = Forecast(forecast.start, forecast.months, ((pid, calls),), forecast.source)
        mine = Plan(tuple(p for p in examined.purchases if p.product == pid))
        held = tuple(h for h in holdings if h.product == pid)

        def still_optimal(x: Decimal) -> bool | None:
            """Whether the product's packs are optimal at `x` times its forecast; None when
            the time limit leaves that undecided."""
            if clock.expired():
                return None
            f = single.scaled(x)
            best = optimize(catalog, f, solver=solver, holdings=held, **caps,
                            purchase_months=purchase_months, time_limit=clock.remaining())
            cost, found = bill(catalog, f, mine, held).total_cost, best.bill.total_cost
            if best.status == "optimal":
                return cost == found
            # Stopped early: the optimum lies in [found - gap, found].
            return False if cost > found or cost < found - best.gap else None

        if not catalog.product(pid).packs:
            out.append(BreakEven(pid, None, None))
            continue
        at_one = still_optimal(Decimal(1))
        if not at_one:
            # (a plan of one's own, or a cap the products share: the search below starts
            # from ×1 as optimal and reported ×1.00 to ×1.00)
            out.append(BreakEven(pid, None, None, optimal=at_one,
                                 complete=at_one is not None))
            continue
        bounds, complete = [], True
        for edge in (lowest, highest):
            if complete and (at_edge := still_optimal(edge)):
                bounds.append(None)
                continue
            complete = complete and at_edge is not None
            # On the `precision` grid, so that the end reported is a level tested optimal
            # (and, complete, the next step out one tested not): bisected finer and then
            # rounded to the nearest step, an end lay outside the range (×0.94 for 0.942).
            good, bad = Decimal(1), edge
            while complete and abs(bad - good) > precision:
                mid = ((good + bad) / 2).quantize(precision)    # strictly between the two
                now = still_optimal(mid)
                if now is None:
                    complete = False
                elif now:
                    good = mid
                else:
                    bad = mid
            bounds.append(good.quantize(precision))
        out.append(BreakEven(pid, bounds[0], bounds[1], complete=complete))
    return tuple(out)
