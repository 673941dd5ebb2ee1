"""What-if analysis: a fixed plan under other demand levels, beside the plan each would want."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..billing import Bill, bill
from ..domain.catalog import Catalog
from ..domain.records import Forecast, Holding, Plan
from ..exceptions import InputError
from ..solve.planner import plan as optimize


@dataclass(frozen=True)
class WhatIfRow:
    label: str                 # the scale ("×0.8") or the scenario name
    forecast: Forecast
    fixed: Bill                # the examined plan billed under this demand
    best: Bill                 # the plan that would be optimal for this demand, billed

    @property
    def regret(self) -> Decimal:
        return self.fixed.total_cost - self.best.total_cost


@dataclass(frozen=True)
class BreakEven:
    """Scale range around 1 over which a product's recommended packs stay optimal."""

    product: str
    low: Decimal | None        # None: still optimal at the lowest scale searched
    high: Decimal | None       # None: still optimal at the highest scale searched
    optimal: bool = True       # False: not optimal at the forecast itself (×1): no range


@dataclass(frozen=True)
class WhatIf:
    """A plan examined under several demand levels, and its break-even ranges if asked for."""

    examined: Bill                          # the plan billed on the forecast itself
    rows: tuple[WhatIfRow, ...]             # one per scale, then one per scenario
    scale_count: int                        # how many of `rows` are scales
    ranges: tuple[BreakEven, ...] | None


def examine(catalog: Catalog, forecast: Forecast, scales=(), scenarios=(), *,
            plan: Plan | None = None, holdings: tuple[Holding, ...] = (),
            solver: str = "highs", budget=None, with_break_even: bool = True,
            purchase_months: str | None = None) -> WhatIf:
    """`whatif` and, with `with_break_even`, `break_even`, for the same plan."""
    examined, rows = whatif(catalog, forecast, scales, scenarios, plan=plan,
                            holdings=holdings, solver=solver, budget=budget,
                            purchase_months=purchase_months)
    ranges = (break_even(catalog, forecast, examined, holdings=holdings, solver=solver,
                         budget=budget, purchase_months=purchase_months)
              if with_break_even else None)
    return WhatIf(bill(catalog, forecast, examined, holdings), rows, len(scales), ranges)


def buys_as(plan: Plan | None, forecast: Forecast) -> str:
    """The purchase months the plans each demand level would want may use: "any" when
    `plan` buys after the forecast's first month (beside start-only optima, dearer than
    itself, its regret came out negative), else "start"."""
    dated = plan is not None and any(p.month != forecast.start for p in plan.purchases)
    return "any" if dated else "start"


def whatif(catalog: Catalog, forecast: Forecast, scales=(), scenarios=(), *,
           plan: Plan | None = None, holdings: tuple[Holding, ...] = (),
           solver: str = "highs", budget=None, monthly_budget=None,
           purchase_months: str | None = None) -> tuple[Plan, tuple[WhatIfRow, ...]]:
    """Bill `plan` (default: the optimal plan for `forecast`) under each demand level.

    With a budget, both the examined plan and each level's best plan respect it. Each
    level's best plan buys as `purchase_months` says (None: as `plan` does, `buys_as`).
    """
    caps = dict(budget=budget, monthly_budget=monthly_budget,
                purchase_months=purchase_months or buys_as(plan, forecast))
    if not scales and not scenarios:
        raise InputError("give demand levels with --scale or --scenarios", field="scale")
    for s in scales:
        if s <= 0:
            raise InputError(f"scale {s} must be positive", field="scale")
    examined = plan if plan is not None else optimize(
        catalog, forecast, solver=solver, holdings=holdings, **caps).plan
    spend = None if plan is None or budget is None else \
        bill(catalog, forecast, plan, holdings).pack_cost
    if spend is not None and spend > budget:
        # (beside plans that keep the cap it would show a negative regret)
        raise InputError(f"the plan spends {spend:,.2f} on packs, above the budget of "
                         f"{budget:,.2f}: drop --budget, or examine a plan within it",
                         source="--budget")
    levels = [(f"×{s.normalize()}", forecast.scaled(s)) for s in scales]
    levels += [(sc.name, sc.forecast) for sc in scenarios]
    rows = []
    for label, f in levels:
        rows.append(WhatIfRow(label, f, bill(catalog, f, examined, holdings),
                              optimize(catalog, f, solver=solver, holdings=holdings,
                                       **caps).bill))
    return examined, tuple(rows)


def break_even(catalog: Catalog, forecast: Forecast, examined: Plan, *,
               holdings: tuple[Holding, ...] = (), solver: str = "highs",
               budget=None, monthly_budget=None, purchase_months: str | None = None,
               lowest: Decimal = Decimal("0.1"), highest: Decimal = Decimal("10"),
               precision: Decimal = Decimal("0.01")) -> tuple[BreakEven, ...]:
    """Per product, the scale range (to `precision`) where `examined` costs no more than the
    optimum. Assumes the range is an interval around 1, which it is for monotone demand.
    The optima buy as `purchase_months` says (None: as `examined` does, `buys_as`)."""
    purchase_months = purchase_months or buys_as(examined, forecast)
    out = []
    for pid, calls in forecast.demand:
        single = Forecast(forecast.start, forecast.months, ((pid, calls),), forecast.source)
        mine = Plan(tuple(p for p in examined.purchases if p.product == pid))
        held = tuple(h for h in holdings if h.product == pid)

        def still_optimal(x: Decimal) -> bool:
            f = single.scaled(x)
            best = optimize(catalog, f, solver=solver, holdings=held, budget=budget,
                            monthly_budget=monthly_budget,
                            purchase_months=purchase_months).bill.total_cost
            return bill(catalog, f, mine, held).total_cost == best

        if not catalog.product(pid).packs:
            out.append(BreakEven(pid, None, None))
            continue
        if not still_optimal(Decimal(1)):
            # (a plan of one's own, or a cap the products share: the search below starts
            # from ×1 as optimal and reported ×1.00 to ×1.00)
            out.append(BreakEven(pid, None, None, optimal=False))
            continue
        bounds = []
        for edge in (lowest, highest):
            if still_optimal(edge):
                bounds.append(None)
                continue
            good, bad = Decimal(1), edge
            while abs(bad - good) > precision:
                mid = ((good + bad) / 2).quantize(precision / 10)
                if still_optimal(mid):
                    good = mid
                else:
                    bad = mid
            bounds.append(good.quantize(precision))
        out.append(BreakEven(pid, bounds[0], bounds[1]))
    return tuple(out)
