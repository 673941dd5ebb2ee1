"""What each command shows, in the format asked for: one function per command view.

`catalog_view`, `bill_view`, `plan_view` and `whatif_view` return a command's result for
`fmt`: the JSON document (`data.py`) for "json", the CSV rows (`data.py`) for "csv", and for
"table" and "markdown" the parts `text.py` renders: headings, tables of `cells.py` and the
sentences between them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..billing import Bill
from ..domain.catalog import Catalog
from ..domain.months import months_text
from . import cells, data, forecasts
from .formats import fmt_money, fmt_pct, pct
from .text import Styled, table

if TYPE_CHECKING:   # annotations only: the analysis modules load the solver stack
    from ..analysis.budget import BudgetValue
    from ..analysis.compare import Comparison
    from ..analysis.edited import EditedComparison

CATALOG_NOTE = ("Tiers are all-units: every postpaid call of a month is charged the rate of the "
                "tier its volume reaches (basis 'total': all calls of the month; 'after-packs': "
                "calls not covered by packs). The free quota is used first, then packs "
                "(soonest-expiring first), then postpaid.")


def horizon_text(b: Bill) -> str:
    return f"{b.start}..{b.end} ({b.months} month{'' if b.months == 1 else 's'})"


def heading(title: str, b: Bill, *details: str) -> str:
    """A view's first lines: its title, then the horizon, tier basis, money and `details`."""
    return " · ".join([f"{title}\nHorizon {horizon_text(b)}", f"tier basis {b.tier_basis}",
                       f"money in {b.currency}", *details])


def catalog_view(fmt: str, catalog: Catalog):
    if fmt == "json":
        return data.catalog_dict(catalog)
    if fmt == "csv":
        return data.catalog_rows(catalog)
    head = (f"Catalog: {catalog.source} · currency {catalog.currency} · packs valid "
            f"{months_text(catalog.validity_months)} · tier basis {catalog.tier_basis}")
    return [head, table(cells.CATALOG_COLUMNS, cells.catalog_cells(catalog), right_from=2,
                        left=cells.CATALOG_COLUMNS[3:], wrap=cells.CATALOG_COLUMNS[1:2]),
            CATALOG_NOTE]


def bill_title(plan_name: str | None, forecast_name: str) -> str:
    return f"packopt bill: {plan_name or 'no purchases'} against {forecast_name}"


def bill_view(fmt: str, b: Bill, *, title: str, months: bool = False, cashflow: bool = False,
              carry_over: str = "zero", comparison: EditedComparison | None = None,
              catalog: Catalog | None = None):
    """The bill `b`; with `comparison` (`bill --compare`) beside the optimal plan."""
    if fmt == "json":
        out = data.bill_dict(b, cashflow=cashflow, carry_over=carry_over, lazy=True)
        if comparison is not None:
            out["comparison"] = data.edited_dict(comparison)
        return out
    if fmt == "csv":
        return (data.month_rows(b) if months else data.cashflow_rows(b) if cashflow
                else data.edited_rows(comparison) if comparison is not None
                else data.summary_rows(b))
    extra = []
    if comparison is not None:
        rows, total, line = cells.edited_cells(comparison)
        extra += ["", table(cells.EDITED_COLUMNS, rows, total=total,
                            left=cells.EDITED_COLUMNS[-1:], wrap=cells.EDITED_COLUMNS[-1:],
                            title="Beside the optimal plan"), line]
    return [heading(title, b), *bill_parts(b, purchases_title="Packs bought", months=months,
                                           cashflow=cashflow, carry_over=carry_over,
                                           extra=extra, catalog=catalog, planned=False)]


def plan_title(result) -> str:
    return f"packopt plan: {cells.status_line(result)}"


def plan_view(fmt: str, result, *, months: bool = False, cashflow: bool = False,
              comparison: Comparison | None = None, budget_value: BudgetValue | None = None,
              catalog: Catalog | None = None, forecast=None, history: str | None = None,
              compared: bool = False):
    """The plan of `result`, with the comparison, scenarios and budget value when there;
    with `forecast` (`plan --history`), the forecast it was made from. `compared`: the
    comparison was asked for (JSON: `comparison` null when it was left out)."""
    b = result.bill
    if fmt == "json":
        out = data.plan_dict(result, cashflow=cashflow, lazy=True)
        if forecast is not None:
            out["forecast"] = forecasts.forecast_dict(forecast, history)
        capped = (result.budget, result.monthly_budget, result.yearly_budget) != (None,) * 3
        if result.scenarios or capped or budget_value is not None:
            # (with a cap, its fields even when its value was left out: budget_value null)
            out.update(data.uncertainty_dict(result, budget_value))
        if comparison is not None or compared:
            out["comparison"] = None if comparison is None else \
                data.comparison_dict(comparison)
        return out
    if fmt == "csv":
        return (data.month_rows(b) if months else data.cashflow_rows(b) if cashflow
                else data.comparison_rows(comparison) if comparison is not None
                else data.plan_rows(b))
    extra = []
    if forecast is not None:
        extra += ["", *forecasts.forecast_parts(forecast, history)]
    if comparison is not None:
        rows, line = cells.comparison_cells(comparison)
        extra += ["", table(cells.comparison_columns(comparison), rows, title="Compared with"),
                  line]
    if result.scenarios:
        extra += ["", *scenario_parts(result)]
    if budget_value is not None:
        extra += ["", *cells.budget_lines(budget_value, b.currency)]
    head = heading(plan_title(result), b, "packs bought at " + (
        "the start" if result.purchase_months == "start" else "the start of any month"),
        result.method)
    return [head, *bill_parts(b, purchases_title="Packs to buy", months=months,
                              cashflow=cashflow, extra=extra, carry_over=result.carry_over,
                              catalog=catalog)]


def scenario_parts(result) -> list:
    """The per-scenario table under the chosen plan, and what it was chosen to minimise."""
    rows, totals = cells.scenario_cells(result)
    goal = ("expected (weighted mean) cost" if result.objective == "expected"
            else "worst scenario's cost")
    c = result.bill.currency
    return [table(cells.SCENARIO_COLUMNS, rows, total=totals,
                  title="Scenarios (the same packs; postpaid follows each)"),
            f"Packs chosen to minimise the {goal}: expected {fmt_money(result.expected_cost)} "
            f"{c}, worst {fmt_money(result.worst_cost)} {c}. Regret: cost minus "
            f"that of the plan that would be optimal had the scenario been known. "
            f"The tables above bill the plan on the base forecast."]


def bill_parts(b: Bill, *, purchases_title: str, months: bool, cashflow: bool, extra=(),
               carry_over: str = "zero", catalog: Catalog | None = None,
               planned: bool = True) -> list:
    """Purchases, cost by product, the optional month and cash-flow views, `extra`, warnings.
    With the `catalog`, products that have no packs to buy are named as such. `planned`:
    `plan`'s plan, not one `bill` replays."""
    rows, total = cells.purchase_cells(b)
    if rows:
        parts = [table(cells.PURCHASE_COLUMNS, rows, total=total, right_from=2,
                       title=purchases_title)]
    else:
        parts = [Styled(f"{purchases_title}: none", "bold")]
    parts += [f"Held: {line}" for line in cells.holding_lines(b)]
    rows, total = cells.summary_cells(b)
    parts += ["", table(cells.SUMMARY_COLUMNS, rows, total=total, title="Cost by product")]
    parts.append(f"Total cost {fmt_money(b.total_cost)} {b.currency} "
                 f"(packs {fmt_money(b.pack_cost)}, postpaid "
                 f"{fmt_money(b.postpaid_cost)}) against "
                 f"{fmt_money(b.postpaid_only_cost)} pure postpaid: saving "
                 f"{fmt_money(b.savings)} {b.currency} "
                 f"({fmt_pct(pct(b.savings, b.postpaid_only_cost))}).")
    carried = cells.carry_over_line(b, carry_over, planned=planned)
    for line in (cells.postpaid_only_line(b, catalog), carried):
        if line:
            parts.append(line)
    if months:
        parts += month_parts(b, catalog)
    if cashflow:
        rows, line = cells.cashflow_cells(b)
        parts += ["", table(cells.CASHFLOW_COLUMNS, rows, title="Cash flow"), line]
    parts.extend(extra)
    parts += [Styled(f"Warning: {w}", "yellow") for w in b.warnings]
    return parts


def month_parts(b: Bill, catalog: Catalog | None = None) -> list:
    """A month-by-month table per product, and the note on unpublished rates when used."""
    parts = []
    for pb in b.products:
        title = f"{pb.product} ({pb.name}), month by month"
        if catalog is not None and not catalog.product(pb.product).packs:
            title += ": postpaid only (no packs sold)"
        parts += ["", table(cells.MONTH_COLUMNS, cells.month_cells(pb), right_from=1,
                            left=("Reminders",), wrap=("Reminders",), title=title)]
    if any(not mb.rate_published for pb in b.products for mb in pb.months):
        parts.append("* volume above the top published tier: priced at the last "
                     "published rate (unpublished rate: contact sales)")
    if any(mb.reminders for pb in b.products for mb in pb.months):
        parts.append("Reminders: the seller's notices for each purchase's packs (below 15% "
                     "of its calls, or exhausted), named by pack size × count and the month "
                     "they were bought.")
    return parts


def whatif_view(fmt: str, examined: Bill, rows, scale_count: int, ranges, *,
                plan_name: str | None, catalog: Catalog, status: str | None = None,
                gap=0, warnings=(), purchase_months: str = "start", narrower: bool = False):
    """The examined plan under each demand level (`rows`, the first `scale_count` of them
    scales) and, unless `ranges` is None, the break-even range of each product. `status`,
    `gap`: the examined plan's when packopt planned it. `purchase_months`: how the levels'
    optima may buy; `narrower`: only at the start while the examined plan buys later."""
    if fmt == "json":
        return data.whatif_dict(examined, rows, scale_count, ranges, status, gap, warnings,
                                purchase_months)
    if fmt == "csv":
        return (data.break_even_rows(ranges) if ranges is not None
                else data.whatif_rows(rows, scale_count))
    what = plan_name or ("the optimal plan for the forecast" if status in (None, "optimal")
                         else "the best plan found for the forecast")
    title = (f"packopt whatif: {what}, billed under {len(rows)} demand "
             f"level{'' if len(rows) == 1 else 's'}")
    purchases, total = cells.purchase_cells(examined)
    parts = [heading(title, examined)]
    parts += ([table(cells.PURCHASE_COLUMNS, purchases, total=total, right_from=2,
                     title="The plan examined")] if purchases
              else [Styled("The plan examined: no purchases", "bold")])
    parts += ["", table(cells.WHATIF_COLUMNS, cells.whatif_cells(rows),
                        title="Under each demand level"),
              "Regret: this plan's cost minus the cost of the plan that would be optimal "
              "for that demand level."
              + (f" ≤/≥: the time limit stopped that level's solve; its optimum is within "
                 f"{max(r.gap for r in rows):,.2f} below the cost shown."
                 if any(r.gap for r in rows) else "")]
    if narrower:    # (an "Optimal cost" above this plan's, unexplained, read as a worse optimum)
        parts.append("Optimal here" + (" (and in the break-even ranges)" if ranges is not None
                                       else "")
                     + " is the best plan buying only in the first month (--purchase-months "
                     "start), while this plan buys later too: it can cost more than this "
                     "plan, a negative regret.")
    if ranges is not None:
        parts += ["", table(cells.BREAK_EVEN_COLUMNS,
                            cells.break_even_cells(ranges, examined, catalog), right_from=2,
                            keep=("Packs in this plan",),
                            title="Break-even: demand (× forecast) over which each "
                                  "product's packs stay optimal"),
                  "Outside that range another purchase is cheaper for the product; "
                  "the range is found by bisection on steps of ×0.01, each end a level "
                  "where the packs are optimal"
                  + ("; 'not at ×1': " + ("the packs cost other than the best start-only "
                                           "purchase" if narrower else
                                           "another purchase is cheaper")
                     + " at the forecast itself (alone, under the same cap)"
                     if any(b.optimal is False for b in ranges) else "")
                  + ("; ≤/≥ ×…, 'undecided': the time limit stopped the search, which had "
                     "proven the range shown." if any(not b.complete for b in ranges)
                     else ".")]
    parts += [Styled(f"Warning: {w}", "yellow") for w in warnings]
    return parts

