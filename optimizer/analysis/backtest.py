"""The look back: what packopt would have cost in each past year, against what happened.

For each 12-month window of the history with at least 12 months before it, the window is
forecast from the months before it only (`forecasting.history_before`: the window and
everything after it are cut off before the forecast sees the data), planned on the
forecast's low/base/high scenarios (expected cost), and that plan is billed on the
window's actual usage. Beside it, on the same actual usage: the hindsight optimum (the
plan optimal for the actual usage), pure postpaid, and the rule of thumb
(`compare.rule_of_thumb`) sized on the 12 months before the window - the look-back that
commitment tools size from. With the plan the planner really followed (and the packs held
at the history's start), also what that cost in the window.

Every figure is a `bill` of a plan on the window's actual usage; `window_files` gives the
CSV files that let `packopt bill` reproduce each one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..billing import Bill, bill, check_plan_against
from ..domain.catalog import Catalog
from ..domain.months import Month, months_text
from ..domain.records import Forecast, Holding, Plan
from ..exceptions import InputError
from ..solve.planner import PlanResult, plan
from .compare import rule_of_thumb
from .forecasting import ForecastResult, forecast_usage, history_before

WINDOW = 12          # months in a window
MIN_BEFORE = 12      # months of history a window needs before it


@dataclass(frozen=True)
class Window:
    """One past window: its forecast and the plans billed on what actually happened."""

    start: Month
    actual: Forecast               # the window's actual usage
    forecast: ForecastResult       # made from the months before `start` only
    planned: PlanResult            # packopt's plan for the forecast (expected cost)
    realised: Bill                 # that plan billed on the actual usage
    hindsight: PlanResult          # the plan optimal for the actual usage
    postpaid: Bill                 # nothing bought
    thumb_plan: Plan               # the rule of thumb, sized on the 12 months before
    thumb: Bill
    bought_plan: Plan | None = None    # the planner's real purchases in the window
    held: tuple[Holding, ...] = ()     # ... and the real packs still valid at its start
    bought: Bill | None = None

    @property
    def end(self) -> Month:
        return self.actual.end


@dataclass(frozen=True)
class Backtest:
    history_start: Month
    history_end: Month
    method: str
    windows: tuple[Window, ...]
    notes: tuple[str, ...]


def window_starts(usage: Forecast, last: Month, window: int = WINDOW,
                  min_before: int = MIN_BEFORE, *, first: Month | None = None) -> list[Month]:
    """Starts of the windows, oldest first: back from the one ending at `last` in steps of
    `window` months, each with at least `min_before` months of history before it, from
    `first` on (default: the history's first month; the next when that one is partial)."""
    first = usage.start if first is None else first
    starts = []
    w = last + (1 - window)
    while w - first >= min_before:
        starts.append(w)
        w = w + (-window)
    return starts[::-1]


def window_usage(usage: Forecast, start: Month, months: int) -> Forecast:
    """`months` months of `usage` from `start`."""
    i = start - usage.start
    return Forecast(start, months, tuple((pid, calls[i:i + months])
                                         for pid, calls in usage.demand), usage.source)


def windows_of(usage: Forecast, partial=()) -> tuple[list[Month], Month]:
    """The starts of the windows of the history `usage` and the last month they bill, or
    an InputError when it has too few complete months for one: a partial first or last
    month (`partial`, as `backtest` takes it) is not complete."""
    first, last = usage.start, usage.end
    if any(m == usage.start for _, m in partial):
        first = usage.start + 1
    if any(m == usage.end for _, m in partial):
        last = usage.end + (-1)
    starts = window_starts(usage, last, first=first)
    if not starts:
        whole = last - first + 1
        complete = ("" if whole == usage.months else
                    f", {max(whole, 0)} of them complete" + (f" ({first}..{last})"
                                                              if whole > 0 else ""))
        raise InputError(f"the history covers {months_text(usage.months)} ({usage.start}.."
                         f"{usage.end}){complete}; a backtest needs {MIN_BEFORE + WINDOW} "
                         f"complete months: {MIN_BEFORE} before a {WINDOW}-month window",
                         source=usage.source, field="month")
    return starts, last


def backtest(catalog: Catalog, usage: Forecast, *, partial=(), method: str = "auto",
             past_plan: Plan | None = None, holdings: tuple[Holding, ...] = (),
             purchase_months: str = "start", solver: str = "highs",
             time_limit: float | None = None) -> Backtest:
    """The look back over the history `usage` (`partial`: its incomplete (product, month)
    pairs; a partial last month is not billed in any window, and neither partial first
    nor last month counts among the complete months a window needs before it).
    `past_plan` and `holdings` (held at the history's start) are what the planner really
    bought and held."""
    starts, last = windows_of(usage, partial)
    if past_plan is not None:
        check_plan_against(past_plan, usage, history=True)   # (bill's words: a forecast's)
    real = (bill(catalog, usage, past_plan, holdings)
            if past_plan is not None or holdings else None)
    notes: list[str] = []
    if last != usage.end:
        notes.append(f"{usage.end} is a partial month: no window includes it")
    windows = []
    seen: dict[str, list] = {}        # a note once, with every window it holds for
    for w in starts:
        windows.append(_window(catalog, usage, partial, w, method, purchase_months, solver,
                               time_limit, past_plan, real))
        for n in windows[-1].forecast.notes:
            seen.setdefault(n, []).append(w)
    for n, ws in seen.items():
        label = "window" if len(ws) == 1 else "windows"
        notes.append(f"{label} {', '.join(str(w) for w in ws)}: {n}")
    return Backtest(usage.start, usage.end, method, tuple(windows), tuple(notes))


def _window(catalog, usage, partial, w: Month, method, purchase_months, solver, time_limit,
            past_plan, real: Bill | None) -> Window:
    before = history_before(usage, w)          # the forecast sees nothing from w on
    fc = forecast_usage(before, WINDOW, method=method,
                        partial=tuple((p, m) for p, m in partial if m < w))
    actual = window_usage(usage, w, WINDOW)
    options = dict(purchase_months=purchase_months, solver=solver, time_limit=time_limit)
    planned = plan(catalog, fc.base, scenarios=fc.scenarios(), regret=False, **options)
    hindsight = plan(catalog, actual, **options)
    lookback = window_usage(usage, w + (-WINDOW), WINDOW)
    thumb_plan = rule_of_thumb(catalog, Forecast(w, WINDOW, lookback.demand, "look-back"))
    bought_plan, held, bought = None, (), None
    if real is not None:
        bought_plan, held = _real_in_window(past_plan, real, usage, w)
        bought = bill(catalog, actual, bought_plan, held)
    return Window(w, actual, fc, planned, bill(catalog, actual, planned.plan), hindsight,
                  bill(catalog, actual, None), thumb_plan, bill(catalog, actual, thumb_plan),
                  bought_plan, held, bought)


def _real_in_window(past_plan: Plan | None, real: Bill, usage: Forecast, w: Month
                    ) -> tuple[Plan, tuple[Holding, ...]]:
    """The real purchases made in the window, and the real packs still valid at its start
    with the balance they had then (from `real`, the real plan replayed on the history)."""
    end = w + (WINDOW - 1)
    bought = tuple(p for p in (past_plan.purchases if past_plan else ())
                   if w <= p.month <= end)
    k = w - usage.start                       # the window's first month, as an index
    held: dict[tuple[str, Month], int] = {}
    for pb in real.products:
        for i, lot in enumerate(pb.lots):
            if lot.start < k <= lot.expiry:
                left = pb.months[k - 1].lot_balances[i]
                if left:
                    key = (pb.product, usage.start + lot.expiry)
                    held[key] = held.get(key, 0) + left
    return (Plan(bought, "plan bought"),
            tuple(Holding(pid, exp, calls) for (pid, exp), calls in sorted(
                held.items(), key=lambda kv: (kv[0][0], kv[0][1].ordinal))))


def window_files(win: Window) -> dict[str, object]:
    """Name -> content of the files that reproduce a window's figures with `packopt bill`:
    usage as a Forecast, plans as Plans, holdings as a tuple."""
    files: dict[str, object] = {
        "actual": win.actual, "forecast": win.forecast.base,
        "plan": win.planned.plan, "hindsight": win.hindsight.plan,
        "rule_of_thumb": win.thumb_plan,
    }
    if win.bought_plan is not None:
        files["bought"] = win.bought_plan
        files["held"] = win.held
    return files
