"""`plan()` with what a planner asks next: what the prepaid cap is worth (when there is one)
and how the plan compares with pure postpaid and the rule of thumb (when asked)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from ..domain.catalog import Catalog
from ..domain.months import months_text
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
    notes: tuple[str, ...] = ()          # what the figures rest on that the user may not see


def plan_report(catalog: Catalog, forecast: Forecast, *, compare_baselines: bool = False,
                budget: Decimal | None = None, monthly_budget: Decimal | None = None,
                yearly_budget: Decimal | None = None,
                regret: bool = True, **options) -> PlanReport:
    """The optimal plan (`options` as for `plan`), its budget value and its comparison."""
    t0 = time.perf_counter()
    limit = options.get("time_limit")
    ahead = _Ahead(catalog, forecast, (budget, monthly_budget, yearly_budget), options, t0)
    try:
        return _report(catalog, forecast, ahead, compare_baselines, regret, t0, limit, options)
    finally:
        ahead.cancel.set()      # the raised plan, if it still runs, is no longer waited for


def _report(catalog, forecast, ahead, compare_baselines, regret, t0, limit, options):
    """plan_report's body; its caller cancels what still runs beside it on the way out."""
    budget, monthly_budget, yearly_budget = ahead.caps
    result = plan(catalog, forecast, budget=budget, monthly_budget=monthly_budget,
                  yearly_budget=yearly_budget, regret=regret, **options,
                  on_binding=ahead.start if ahead.caps != (None, None, None) else None)
    ahead.wide.set()        # the plan is done: what runs beside it may take both cores
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
    notes = _start_only_notes(catalog, forecast, result)
    unknown = [s.name for s in result.scenarios if regret and s.best_cost is None]
    if unknown:
        left_out.append(f"the regret of {', '.join(unknown)}: the plan optimal for that "
                        f"scenario alone was {not_proven}")
    if result.status == "optimal" and not result.tie_break_proven:
        left_out.append("the proof of the tie-break among plans of the optimal cost (least "
                        "prepaid spend, most calls, fewest packs): a re-solve ran out of its "
                        "time share, or too many plans tie on cost and spend to search; the "
                        "cost itself is proven optimal")
    if budget is not None or monthly_budget is not None or yearly_budget is not None:
        if result.status != "optimal":
            # Without a proven plan the value of raising the cap would be a guess.
            left_out.append("the value of raising the budget: the plan is not proven optimal")
        elif not within_limit():
            left_out.append("the value of raising the budget: the time limit ran out")
        else:
            from .budget import budget_value
            value = budget_value(catalog, forecast, result, raised=ahead.result, **options)
            if value is None:
                left_out.append(f"the value of raising the budget: {ran_out}")
    comparison = None
    if compare_baselines:
        if within_limit():
            from .compare import compare
            comparison = compare(catalog, forecast, result, **options)
        else:
            left_out.append("--compare: the time limit ran out")
    return PlanReport(result, value, comparison, tuple(left_out), notes)


def _start_only_notes(catalog, forecast, result) -> tuple[str, ...]:
    """A plan that buys only at the start of a horizon longer than the packs last leaves the
    later months to postpaid: said, since a 24-month forecast planned in the default mode
    looked like a poor optimum (the rule of thumb, which renews, beat it)."""
    last = forecast.start + (catalog.validity_months - 1)
    if result.purchase_months == "any" or forecast.months <= catalog.validity_months:
        return ()
    return (f"packs bought at the start last {months_text(catalog.validity_months)} (to {last}): "
            f"from {last + 1} on this plan can only pay postpaid; --purchase-months any "
            f"buys packs in any month",)


class _Ahead:
    """The value of the cap's plan under raised caps, started in a thread as soon as the
    planner proves that the caps raise the optimal cost (`plan`'s `on_binding`), so that
    it runs beside the tie-break re-solves instead of after them: one product at a time
    until the plan is done (the re-solves keep a core: with two products at a time beside
    them, the 4 × 24 × 3 scenarios yearly case lost its tie-break proof), two after. Its
    time limit is what the request's leaves at that moment (without one, the follow-up
    allowance). Cancelled once the report no longer waits for it (`cancel`), so that a
    library caller does not find it running after plan_report returns."""

    def __init__(self, catalog, forecast, caps, options, t0):
        self.catalog, self.forecast, self.caps = catalog, forecast, caps
        self.options, self.t0 = dict(options), t0
        self.thread: threading.Thread | None = None
        self.wide = threading.Event()       # set when the plan is done
        self.cancel = threading.Event()     # set when nobody waits for it any more
        self.ended = threading.Event()      # set when its thread ends (waited on, not
        # joined: see solvers._Twin)
        self.done: dict = {}

    def start(self, known: dict) -> None:
        from .budget import raised_plan
        elapsed = time.perf_counter() - self.t0
        limit = self.options.get("time_limit")
        # Without a limit, twice the allowance of figures that follow a plan: that starts
        # only when the plan ends, and the plan still has its re-solves and regrets to run
        # (budget_value waits no longer than that allowance after the plan).
        left = 2 * follow_up_clock(Clock(None), elapsed).remaining() if limit is None \
            else limit - elapsed
        if self.thread is not None or left <= 0:
            return

        def run():
            from ..solve.solvers import unreported
            try:
                with unreported():      # the progress line follows the plan itself
                    self.done["value"] = raised_plan(self.catalog, self.forecast, *self.caps,
                                                     **{**self.options, "time_limit": left},
                                                     wide=self.wide, cancel=self.cancel,
                                                     known=known)
            except BaseException as e:      # handed to the thread that asks for it
                self.done["error"] = e
            finally:
                self.ended.set()
        # (Not a daemon, as solvers._Twin: cancelled, its solve stops soon, and a library
        # caller's exit waits for that rather than abort inside HiGHS.)
        self.thread = threading.Thread(target=run)
        self.thread.start()

    @property
    def result(self):
        """A callable giving the raised caps' plan, waiting for it at most the seconds it is
        given (None: not finished by then), or None when it was not started."""
        if self.thread is None:
            return None

        def wait(timeout: float | None) -> PlanResult | None:
            if not self.ended.wait(timeout):
                return None
            if "error" in self.done:
                raise self.done["error"]
            return self.done["value"]
        return wait
