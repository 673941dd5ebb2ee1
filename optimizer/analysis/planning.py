"""`plan()` with what a planner asks next: what the prepaid cap is worth (when there is one)
and how the plan compares with pure postpaid and the rule of thumb (when asked)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from ..domain.catalog import Catalog
from ..domain.records import Forecast
from ..solve.engines import Clock
from ..solve.planner import PlanResult, follow_up_clock, plan

if TYPE_CHECKING:        # loaded only when a budget or --compare asks for them
    from .budget import BudgetValue
    from .compare import Comparison


@dataclass(frozen=True)
class PlanReport:
    result: PlanResult
    budget_value: BudgetValue | None     # with a budget (total, yearly or monthly)
    comparison: Comparison | None        # with `compare`
    left_out: tuple[str, ...] = ()       # what was asked but not computed, and why


def plan_report(catalog: Catalog, forecast: Forecast, *, compare_baselines: bool = False,
                budget: Decimal | None = None, monthly_budget: Decimal | None = None,
                yearly_budget: Decimal | None = None,
                regret: bool = True, **options) -> PlanReport:
    """The optimal plan (`options` as for `plan`), its budget value and its comparison."""
    t0 = time.perf_counter()
    result = plan(catalog, forecast, budget=budget, monthly_budget=monthly_budget,
                  yearly_budget=yearly_budget, regret=regret, **options)

    limit = options.get("time_limit")
    not_proven = "not proven in the time left" if limit is not None else \
        "not proven in the time allowed for figures that follow a plan (--time-limit sets it)"
    ran_out = "the time limit ran out" if limit is not None else not_proven

    def within_limit() -> bool:
        """The time limit covers the whole request: what follows gets what is left
        (without a limit, the allowance of planner.follow_up_clock)."""
        elapsed = time.perf_counter() - t0
        if limit is None:
            options["time_limit"] = follow_up_clock(Clock(None), elapsed).remaining()
            return True
        options["time_limit"] = limit - elapsed
        return options["time_limit"] > 0
    value, left_out = None, []
    unknown = [s.name for s in result.scenarios if regret and s.best_cost is None]
    if unknown:
        left_out.append(f"the regret of {', '.join(unknown)}: the plan optimal for that "
                        f"scenario alone was {not_proven}")
    if result.status == "optimal" and not result.tie_break_proven:
        left_out.append("the proof of the tie-break among plans of the optimal cost (least "
                        "prepaid spend, most calls, fewest packs): a re-solve ran out of its "
                        "time share; the cost itself is proven optimal")
    if budget is not None or monthly_budget is not None or yearly_budget is not None:
        if result.status != "optimal":
            # Without a proven plan the value of raising the cap would be a guess.
            left_out.append("the value of raising the budget: the plan is not proven optimal")
        elif not within_limit():
            left_out.append("the value of raising the budget: the time limit ran out")
        else:
            from .budget import budget_value
            value = budget_value(catalog, forecast, result, **options)
            if value is None:
                left_out.append(f"the value of raising the budget: {ran_out}")
    comparison = None
    if compare_baselines:
        if within_limit():
            from .compare import compare
            comparison = compare(catalog, forecast, result, **options)
        else:
            left_out.append("--compare: the time limit ran out")
    return PlanReport(result, value, comparison, tuple(left_out))
