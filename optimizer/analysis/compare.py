"""Baselines the optimum is compared with: pure postpaid, the rule of thumb and, when packs
may be bought in any month, the best plan that buys everything at the start."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..billing import Bill, bill
from ..domain.catalog import Catalog, Product
from ..domain.money import money_scale, to_units
from ..domain.records import Forecast, Holding, Plan, Purchase
from ..exceptions import SolverError
from ..solve.demand import count_bounds
from ..solve.planner import PlanResult, plan
from ..solve.solvers import Status, solve

YEAR = 12          # the rule of thumb renews once a year


@dataclass(frozen=True)
class Strategy:
    """One compared strategy: its bill and what it saves against pure postpaid."""

    name: str                  # "postpaid_only", "rule_of_thumb", "optimal_start", "optimal"
    bill: Bill
    saving: Decimal


@dataclass(frozen=True)
class Comparison:
    """The optimal plan's bill beside the baselines' bills (holdings drawn in every one)."""

    postpaid: Bill
    thumb: Bill
    optimal: Bill
    start_only: Bill | None = None   # only when the optimal plan may buy in any month
    thumb_breaks: tuple[str, ...] = ()   # the caps the rule of thumb spends beyond

    @property
    def strategies(self) -> tuple[Strategy, ...]:
        """Every strategy in display order, each with its saving against pure postpaid."""
        named = [("postpaid_only", self.postpaid), ("rule_of_thumb", self.thumb)]
        if self.start_only is not None:
            named.append(("optimal_start", self.start_only))
        named.append(("optimal", self.optimal))
        base = self.postpaid.total_cost
        return tuple(Strategy(name, b, base - b.total_cost) for name, b in named)

    @property
    def optimizer_value(self) -> Decimal:
        """What the optimal plan saves over the rule of thumb."""
        return self.thumb.total_cost - self.optimal.total_cost


def compare(catalog: Catalog, forecast: Forecast, result: PlanResult, *,
            holdings: tuple[Holding, ...] = (), **options) -> Comparison:
    """`result` (the optimal plan for `forecast`) beside pure postpaid and the rule of thumb.

    When `result` may buy in any month, also the best plan buying everything at the start,
    planned with the other keyword `options` `result` was planned with (solver, time_limit,
    scenarios, objective, carry_over) and the same caps.
    """
    thumb_plan = rule_of_thumb(catalog, forecast, holdings=holdings)
    start_only = None
    if result.purchase_months == "any":
        start_only = plan(catalog, forecast, **{**options, "purchase_months": "start"},
                          holdings=holdings, budget=result.budget,
                          monthly_budget=result.monthly_budget,
                          yearly_budget=result.yearly_budget).bill
    thumb = bill(catalog, forecast, thumb_plan, holdings)
    return Comparison(bill(catalog, forecast, None, holdings), thumb, result.bill, start_only,
                      caps_broken(result, thumb))


def caps_broken(result: PlanResult, other: Bill) -> tuple[str, ...]:
    """The prepaid caps `result` was planned under that `other`'s purchases break (the
    rule of thumb knows no cap: beside a capped plan it is no like-for-like baseline)."""
    spent = [sum((p.months[m].pack_spend for p in other.products), Decimal(0))
             for m in range(other.months)]
    blocks = [sum(spent[y:y + YEAR], Decimal(0)) for y in range(0, len(spent), YEAR)]
    return tuple(flag for flag, cap, most in (
        ("--budget", result.budget, sum(spent, Decimal(0))),
        ("--monthly-budget", result.monthly_budget, max(spent, default=Decimal(0))),
        ("--yearly-budget", result.yearly_budget, max(blocks, default=Decimal(0))))
        if cap is not None and most > cap)


def rule_of_thumb(catalog: Catalog, forecast: Forecast, holdings: tuple[Holding, ...] = ()
                  ) -> Plan:
    """The common heuristic, renewed every year: at the start of each 12-month block of the
    horizon, the cheapest packs covering that block's calls beyond the free quota (those
    the packs' validity reaches; the first block's also beyond the holdings), bought then.

    For a horizon of 12 months or less this is one purchase up front.
    """
    window = min(catalog.validity_months, YEAR)
    purchases = []
    for pid, calls in forecast.demand:
        product = catalog.product(pid)
        if not product.packs:
            continue
        held = sum(h.calls_left for h in holdings if h.product == pid
                   and h.expires >= forecast.start)
        for first in range(0, forecast.months, YEAR):
            need = sum(max(d - product.free_calls, 0) for d in calls[first:first + window])
            need -= held if first == 0 else 0
            if need <= 0:
                continue
            for size, k in cheapest_cover(product, need).items():
                if k:
                    purchases.append(Purchase(pid, forecast.start + first, size, k))
    return Plan(tuple(purchases), "rule of thumb")


def cheapest_cover(product: Product, need: int) -> dict[int, int]:
    """Cheapest pack counts whose calls add up to at least `need` (a covering knapsack)."""
    import pulp     # here only: a plan that runs no integer program does not load PuLP
    prob = pulp.LpProblem("cover", pulp.LpMinimize)
    bounds = count_bounds(product, need + max(p.calls for p in product.packs))
    n = {p.calls: prob.add_variable(f"n_{p.calls}", 0, bounds[p.calls], cat="Integer")
         for p in product.packs}
    scale = money_scale(Catalog("", 1, "total", (product,)))
    prob += pulp.lpSum(to_units(p.price, scale) * n[p.calls] for p in product.packs)
    prob += pulp.lpSum(s * v for s, v in n.items()) >= need
    out = solve(prob, "highs")
    if out.status is not Status.OPTIMAL:
        raise SolverError(f"{product.id}: could not size the rule-of-thumb packs")
    return {s: round(v.value() or 0) for s, v in n.items()}
