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
    # The months after the start in which the rule of thumb renews, beside a plan that may
    # buy only at the start (a horizon past the packs' validity): there it can beat that
    # plan, and the output says why.
    thumb_later: tuple[str, ...] = ()

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
    # (the rule of thumb knows no cap: beside a capped plan it is no like-for-like baseline)
    breaks = tuple(b.flag for b in caps_broken(thumb, result.budget, result.monthly_budget,
                                               result.yearly_budget))
    later = () if result.purchase_months == "any" else tuple(sorted(
        {str(p.month) for p in thumb_plan.purchases if p.month != forecast.start}))
    return Comparison(bill(catalog, forecast, None, holdings), thumb, result.bill, start_only,
                      breaks, later)


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
