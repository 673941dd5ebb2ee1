"""Baselines the optimum is compared with: pure postpaid, the rule of thumb and, when packs
may be bought in any month, the best plan that buys everything at the start."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..billing import Bill, bill
from ..domain.catalog import Catalog
from ..domain.records import Forecast, Holding, Plan, Purchase
from ..solve.fallback import block_cover
from ..solve.planner import PlanResult, plan
from .budget import caps_broken


@dataclass(frozen=True)
class Strategy:
    """One compared strategy: its bill and what it saves against pure postpaid."""

    name: str                  # "postpaid_only", "rule_of_thumb", "optimal_start", "optimal"
    bill: Bill                 # on the base forecast
    saving: Decimal            # on the comparison's measure
    cost: Decimal              # its cost on that measure (the bill's total on "total_cost")


@dataclass(frozen=True)
class Comparison:
    """The optimal plan's bill beside the baselines' bills (holdings drawn in every one)."""

    postpaid: Bill
    thumb: Bill
    optimal: Bill
    start_only: Bill | None = None   # only when the optimal plan may buy in any month
    thumb_breaks: tuple[str, ...] = ()   # the caps the rule of thumb spends beyond
    # The months after the start in which the rule of thumb renews, beside a plan that may
    # buy only at the start (a horizon past the packs' validity): there it can beat that
    # plan, and the output says why.
    thumb_later: tuple[str, ...] = ()
    # What the strategies are compared on: the plan's own objective. "total_cost" (one
    # forecast, carry-over at zero), "net_cost" (prorata), "expected_cost" or "worst_cost"
    # over the scenarios (and "expected_net_cost", "worst_net_cost" under prorata); with
    # each strategy's cost on it (by name) where it is not the bill's total.
    measure: str = "total_cost"
    costs: tuple[tuple[str, Decimal], ...] = ()

    @property
    def strategies(self) -> tuple[Strategy, ...]:
        """Every strategy in display order, each with its saving against pure postpaid."""
        named = [("postpaid_only", self.postpaid), ("rule_of_thumb", self.thumb)]
        if self.start_only is not None:
            named.append(("optimal_start", self.start_only))
        named.append(("optimal", self.optimal))
        costs = dict(self.costs)
        cost = {name: costs.get(name, b.total_cost) for name, b in named}
        return tuple(Strategy(name, b, cost["postpaid_only"] - cost[name], cost[name])
                     for name, b in named)

    @property
    def optimizer_value(self) -> Decimal:
        """What the optimal plan saves over the rule of thumb (on the measure)."""
        cost = {s.name: s.cost for s in self.strategies}
        return cost["rule_of_thumb"] - cost["optimal"]


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
                          yearly_budget=result.yearly_budget)
    thumb = bill(catalog, forecast, thumb_plan, holdings)
    # (the rule of thumb knows no cap: beside a capped plan it is no like-for-like baseline)
    breaks = tuple(b.flag for b in caps_broken(thumb, result.budget, result.monthly_budget,
                                               result.yearly_budget))
    later = () if result.purchase_months == "any" else tuple(sorted(
        {str(p.month) for p in thumb_plan.purchases if p.month != forecast.start}))
    measure, costs = _measured(catalog, forecast, result, options.get("scenarios") or (),
                               holdings,
                               {"postpaid_only": None, "rule_of_thumb": thumb_plan},
                               start_only)
    return Comparison(bill(catalog, forecast, None, holdings), thumb, result.bill,
                      start_only.bill if start_only is not None else None, breaks, later,
                      measure, costs)


def _measured(catalog: Catalog, forecast: Forecast, result: PlanResult, scenarios,
              holdings, plans: dict, start_only: PlanResult | None) -> tuple[str, tuple]:
    """The measure the plan minimised and each strategy's cost on it (none on the bills'
    totals): the baselines' plans billed on every scenario, under prorata net of their
    carry-over credit. Compared on the base forecast, a plan that had weighed a high
    scenario looked worse than the rule of thumb ("worth -200.00 CNY")."""
    net = result.carry_over == "prorata"
    if not result.scenarios and not net:
        return "total_cost", ()
    worst = result.objective == "worst-case" and bool(result.scenarios)
    measure = ("worst" if worst else "expected") + ("_net" if net else "") + "_cost" \
        if result.scenarios else "net_cost"
    forecasts = [(s.forecast, s.weight) for s in scenarios] if result.scenarios else \
        [(forecast, Decimal(1))]

    def on_measure(p: Plan | None) -> Decimal:
        cost = [((b.net_cost if net else b.total_cost), w) for b, w in
                ((bill(catalog, f, p, holdings), w) for f, w in forecasts)]
        if worst:
            return max(c for c, _ in cost)
        return sum(c * w for c, w in cost) / sum(w for _, w in cost)
    costs = {name: on_measure(p) for name, p in plans.items()}
    if start_only is not None:
        costs["optimal_start"] = start_only.objective_cost
    costs["optimal"] = result.objective_cost
    return measure, tuple(costs.items())


def rule_of_thumb(catalog: Catalog, forecast: Forecast, holdings: tuple[Holding, ...] = ()
                  ) -> Plan:
    """The common heuristic, renewed every year: at the start of each 12-month block of the
    horizon, the cheapest packs covering that block's calls beyond the free quota (those
    the packs' validity reaches; the first block's also beyond the holdings), bought then
    (solve/fallback.py, which the planner also uses where a time limit stops it).

    For a horizon of 12 months or less this is one purchase up front.
    """
    return Plan(tuple(Purchase(pid, forecast.start + month, size, k) for pid, month, size, k
                      in block_cover(catalog, forecast, holdings)), "rule of thumb")
