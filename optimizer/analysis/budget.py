"""What raising a prepaid cap is worth: the capped plan beside the plan with no cap and the
plan with every cap raised by one step (1,000 CNY by default)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from ..billing import Bill
from ..domain.catalog import Catalog
from ..domain.records import Forecast
from ..solve.engines import Clock
from ..solve.planner import YEAR, PlanResult, plan

BUDGET_STEP = Decimal(1000)   # "what is one more 1,000 CNY of prepaid budget worth?"


@dataclass(frozen=True)
class BudgetValue:
    """What raising the prepaid cap is worth: the plan with no cap, and with cap + `step`."""

    cap: Decimal                 # the cap shown: --budget, else --yearly-budget, else monthly
    flag: str                    # "--budget", "--yearly-budget" or "--monthly-budget"
    spend: Decimal               # prepaid spend of the capped plan
    cost: Decimal                # objective cost of the capped plan
    uncapped_cost: Decimal
    uncapped_spend: Decimal
    step: Decimal
    raised_cost: Decimal
    measure: str = "cost"        # what `cost` is: "cost", "expected cost", "worst-case cost"
    cap_spend: Decimal = Decimal(0)  # the spend the cap reads: `spend`, or the dearest
                                     # 12-month block's or month's

    @property
    def uncapped_saving(self) -> Decimal:
        return self.cost - self.uncapped_cost

    @property
    def step_saving(self) -> Decimal:
        return self.cost - self.raised_cost


def raised_plan(catalog: Catalog, forecast: Forecast, budget: Decimal | None,
                monthly_budget: Decimal | None, yearly_budget: Decimal | None, *,
                step: Decimal = BUDGET_STEP, **options) -> PlanResult:
    """The plan with every cap given raised by `step` (only its cost is shown: no tie-break
    re-solves)."""
    raised = _raised((budget, monthly_budget, yearly_budget), step)
    return plan(catalog, forecast, **options, regret=False, budget=raised[0],
                monthly_budget=raised[1], yearly_budget=raised[2], tie_break=False)


def _raised(caps: tuple, step: Decimal) -> tuple:
    """Each cap given raised by `step` (None: no such cap)."""
    return tuple(None if c is None else c + step for c in caps)


def budget_value(catalog: Catalog, forecast: Forecast, result: PlanResult, *,
                 step: Decimal = BUDGET_STEP,
                 raised: Callable[[float | None], PlanResult | None] | None = None,
                 **options) -> BudgetValue | None:
    """The value of raising the cap of `result`: plan again with no cap, and with every cap
    raised by `step`. `raised`: that second plan when already under way, given how long it
    may still take (None: not finished by then).

    `options` are the other keyword options `result` was planned with (purchase_months,
    solver, time_limit, holdings, scenarios, objective, carry_over): both plans differ from it
    only in their caps. A time limit covers both plans together; None when either is not
    proven optimal within it.
    """
    cap, flag = ((result.budget, "--budget") if result.budget is not None
                 else (result.yearly_budget, "--yearly-budget")
                 if result.yearly_budget is not None
                 else (result.monthly_budget, "--monthly-budget"))
    clock = Clock(options.pop("time_limit", None))   # both plans: each gets what is left
    # A plan that is also the optimum with no cap (the planner found that no cap binds)
    # is both others, and the planner may have proved the optimum with no cap on its way:
    # planning either again would only repeat that work.
    free = result if result.uncapped_optimal else result.uncapped or plan(
        catalog, forecast, **options, budget=None, monthly_budget=None, yearly_budget=None,
        regret=False, time_limit=clock.remaining())
    if free.status != "optimal":
        return None

    caps = _raised((result.budget, result.monthly_budget, result.yearly_budget), step)
    if _within(free, *caps) or free.objective_cost == result.objective_cost:
        # The plan with no cap keeps the raised caps, or costs what the capped plan does
        # (the caps only move purchases): the raised caps' optimum costs the same, lying
        # between the two.
        raised_cost = free.objective_cost
    else:
        done = None
        if raised is not None:
            done = raised(clock.remaining())
            if done is None:
                return None          # still running when the time was up
        if done is None or done.status != "optimal" and not clock.expired():
            # (one under way had the time left when it started; without a time limit that
            # allowance may end before the one measured after the plan: try again)
            done = raised_plan(catalog, forecast, result.budget, result.monthly_budget,
                               result.yearly_budget, step=step, **options,
                               time_limit=clock.remaining())
        if done.status != "optimal":
            return None              # stopped by the time limit: no proven figure to show
        raised_cost = done.objective_cost
    measure = ("cost" if not result.scenarios else "expected cost"
               if result.objective == "expected" else "worst-case cost")
    if result.carry_over == "prorata":
        measure = measure.replace("cost", "net cost")     # less the carry-over credit
    return BudgetValue(cap, flag, result.bill.pack_cost, result.objective_cost,
                       free.objective_cost, free.bill.pack_cost, step, raised_cost, measure,
                       cap_spends(result.bill)[flag][0])


def _within(result: PlanResult, budget, monthly, yearly) -> bool:
    """Whether the plan's prepaid spend, as billed, keeps every cap given (None: no such
    cap)."""
    return not caps_broken(result.bill, budget, monthly, yearly)


@dataclass(frozen=True)
class CapBreak:
    """A prepaid cap that a bill's purchases spend beyond, where they spend most."""

    flag: str               # "--budget", "--monthly-budget" or "--yearly-budget"
    spent: Decimal          # the total, the dearest month's or the dearest block's spend
    first: int              # that month's index, or the block's first (0 for the total)
    months: int             # the months it covers (1 for a month)
    cap: Decimal


def caps_broken(billed: Bill, budget=None, monthly_budget=None,
                yearly_budget=None) -> tuple[CapBreak, ...]:
    """The caps given (None: no such cap) that `billed`'s prepaid spend breaks: the total,
    each month's, each 12-month block's from the horizon's start. (The one reading of the
    caps on a bill: a budget's value, `--compare`'s rule of thumb, whatif's --plan.)"""
    spends = cap_spends(billed)
    found = (("--budget", budget), ("--monthly-budget", monthly_budget),
             ("--yearly-budget", yearly_budget))
    return tuple(CapBreak(flag, *spends[flag], cap) for flag, cap in found
                 if cap is not None and spends[flag][0] > cap)


def cap_spends(billed: Bill) -> dict[str, tuple[Decimal, int, int]]:
    """Per cap option, the prepaid spend it reads on `billed`, where it is dearest: (spend,
    first month's index, months covered) for the total, a month, a 12-month block."""
    months = [c.packs for c in billed.cashflow()[:billed.months]]
    blocks = [sum(months[y:y + YEAR], Decimal(0)) for y in range(0, len(months), YEAR)]
    m = max(range(len(months)), key=months.__getitem__)
    y = max(range(len(blocks)), key=blocks.__getitem__)
    return {"--budget": (sum(months, Decimal(0)), 0, billed.months),
            "--monthly-budget": (months[m], m, 1),
            "--yearly-budget": (blocks[y], y * YEAR, min(YEAR, billed.months - y * YEAR))}
