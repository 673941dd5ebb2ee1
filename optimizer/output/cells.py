"""Table cells, column titles and the sentences that go with the tables.

The rows are lists of strings, formatted for reading (thousands separators, `—` for no
value); the text tables and Markdown (`text.py`) and the HTML report (`html.py`) all show them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..billing import Bill, ProductBill
from ..domain.catalog import Catalog
from .data import cashflow_summary, cohorts, comparison_figures
from .formats import fmt_int, fmt_money, fmt_pct, fmt_price, fmt_rate, pct

if TYPE_CHECKING:   # annotations only: the analysis modules load the solver stack
    from ..analysis.budget import BudgetValue
    from ..analysis.compare import Comparison
    from ..analysis.edited import Change, EditedComparison


# --------------------------------------------------------------------------- table cells

PURCHASE_COLUMNS = ("Product", "Month", "Packs (size × count)", "Calls", "Cost")


def purchase_cells(bill: Bill) -> tuple[list[list[str]], list[str]]:
    """One row per purchase (product, month, size × count, calls, cost) and a total line."""
    rows = []
    for pb in bill.products:
        for lot in pb.purchases:
            rows.append([pb.product, str(bill.start + lot.start),
                         f"{fmt_int(lot.size)} × {fmt_int(lot.count)}", fmt_int(lot.calls),
                         fmt_money(lot.cost)])
    total = ["Total", "", "", fmt_int(sum(l.calls for pb in bill.products for l in pb.purchases)),
             fmt_money(bill.pack_cost)]
    return rows, total


def holding_lines(bill: Bill) -> list[str]:
    """'id_card: 50,000 calls held, usable until 2027-06' per holding drawn in the bill."""
    return [f"{pb.product}: {fmt_int(lot.calls)} calls held, usable until "
            f"{bill.start + lot.expiry}"
            for pb in bill.products for lot in pb.lots if lot.size is None]


SUMMARY_COLUMNS = ("Product", "Pack\ncost", "Postpaid\ncost", "Total\ncost", "Postpaid\nonly",
                   "Saving", "Saving\n%", "Waste\ncalls", "Carry-over\ncalls")


def summary_cells(bill: Bill) -> tuple[list[list[str]], list[str]]:
    """Rows of the per-product cost table and its total line (all strings)."""
    rows = []
    for pb in bill.products:
        rows.append([pb.product, fmt_money(pb.pack_cost),
                     fmt_money(pb.postpaid_cost), fmt_money(pb.total_cost),
                     fmt_money(pb.postpaid_only_cost), fmt_money(pb.savings),
                     fmt_pct(pct(pb.savings, pb.postpaid_only_cost)),
                     fmt_int(pb.waste_calls), fmt_int(pb.carry_over_calls)])
    total = ["Total", fmt_money(bill.pack_cost), fmt_money(bill.postpaid_cost),
             fmt_money(bill.total_cost), fmt_money(bill.postpaid_only_cost),
             fmt_money(bill.savings), fmt_pct(pct(bill.savings, bill.postpaid_only_cost)),
             fmt_int(bill.waste_calls), fmt_int(bill.carry_over_calls)]
    return rows, total


MONTH_COLUMNS = ("Month", "Calls", "Free", "From\npacks", "Postpaid\ncalls", "Rate",
                 "Postpaid\ncost", "Pack\nspend", "Balance at\nmonth end", "Waste", "Reminders")


def pack_notice(pb: ProductBill, reminder: str) -> str:
    """The seller's per-pack notice in words that do not read as a date: 'exhausted:
    2027-01 100000×6' becomes '100,000 × 6 (bought 2027-01) exhausted'."""
    kind, _, label = reminder.partition(": ")
    lot = next((l for l in pb.lots if l.label == label), None)
    if lot is None:
        return reminder
    if lot.size is None:
        what = f"held balance (usable until {pb.months[0].month + lot.expiry})"
    else:
        what = (f"{fmt_int(lot.size)} × {fmt_int(lot.count)} "
                f"(bought {pb.months[0].month + lot.start})")
    return f"{what} {kind}"


def month_cells(pb: ProductBill) -> list[list[str]]:
    """Rows of the month view; with several cohorts alive, the balance of each (by purchase
    month) under the month's balance after expiry."""
    rows = []
    for k, mb in enumerate(pb.months):
        rate = fmt_rate(mb.rate) + ("" if mb.rate_published else "*")
        alive = [c for c in cohorts(pb, k) if c[2]]
        balance = fmt_int(mb.balance)
        if len(alive) > 1:
            balance += "".join(f"\n{b}: {fmt_int(left)}" for b, _, left in alive)
        rows.append([str(mb.month), fmt_int(mb.calls), fmt_int(mb.free), fmt_int(mb.pack),
                     fmt_int(mb.postpaid), rate, fmt_money(mb.postpaid_cost),
                     fmt_money(mb.pack_spend) if mb.pack_spend else "",
                     balance, fmt_int(mb.waste) if mb.waste else "",
                     "\n".join(pack_notice(pb, r) for r in mb.reminders)])
    return rows


def postpaid_only_line(bill: Bill, catalog: Catalog | None) -> str | None:
    """Why some products buy nothing: they have no packs to buy."""
    if catalog is None:
        return None
    ids = [pb.product for pb in bill.products if not catalog.product(pb.product).packs]
    if not ids:
        return None
    return f"{', '.join(ids)}: postpaid only (no packs sold)."


CASHFLOW_COLUMNS = ("Month", "Packs paid", "Postpaid settled", "Outflow", "Frozen")


def cashflow_cells(bill: Bill) -> tuple[list[list[str]], str]:
    """Rows of the cash-flow table and its one-line summary."""
    flow = bill.cashflow()
    rows = [[str(c.month), fmt_money(c.packs), fmt_money(c.postpaid), fmt_money(c.outflow),
             fmt_money(c.frozen)] for c in flow]
    s = cashflow_summary(flow)
    line = (f"Peak frozen {fmt_money(s['peak_frozen'])} {bill.currency} in "
            f"{s['peak_frozen_month']}; largest outflow {fmt_money(s['largest_outflow'])} "
            f"{bill.currency} in {s['largest_outflow_month']}")
    after = settled_after_note(bill)
    return rows, line + (f". {after[0].upper()}{after[1:]}" if after else "")


def settled_after_note(bill: Bill) -> str | None:
    """Where the cash flow stops at 9999-12: the last month's postpaid, settled after it."""
    if bill.settled_after_last is None:
        return None
    return (f"the postpaid of {bill.end}, {fmt_money(bill.settled_after_last)} "
            f"{bill.currency}, is settled after {bill.end}, the last month packopt writes: "
            f"not in the cash flow above")


COMPARE_COLUMNS = ("Strategy", "Pack\ncost", "Postpaid\ncost", "Total\ncost",
                   "Saving vs\npostpaid", "Saving\n%", "Waste\ncalls")
STRATEGY_NAMES = {"postpaid_only": "Pure postpaid", "rule_of_thumb": "Rule of thumb",
                  "optimal_start": "Optimal, all bought at the start", "optimal": "Optimal plan"}


# What a comparison's costs are (`Comparison.measure`): a column's header and the words.
MEASURES = {"net_cost": ("Net\ncost", "cost net of the carry-over credit"),
            "expected_cost": ("Expected\ncost", "expected cost over the scenarios"),
            "worst_cost": ("Worst\ncost", "worst scenario's cost"),
            "expected_net_cost": ("Expected\nnet cost",
                                  "expected cost over the scenarios, net of the carry-over "
                                  "credit"),
            "worst_net_cost": ("Worst\nnet cost",
                               "worst scenario's cost net of the carry-over credit")}


def comparison_columns(c: Comparison) -> tuple[str, ...]:
    """COMPARE_COLUMNS, with the measure's cost before the saving where it is not the
    total (the bills' columns are of the base forecast)."""
    if c.measure not in MEASURES:
        return COMPARE_COLUMNS
    return COMPARE_COLUMNS[:4] + (MEASURES[c.measure][0],) + COMPARE_COLUMNS[4:]


def comparison_cells(c: Comparison) -> tuple[list[list[str]], str]:
    """Rows of the comparison table and a sentence on what the optimizer is worth."""
    strategies, worth_pct = comparison_figures(c)
    measured = c.measure in MEASURES
    rows = [[STRATEGY_NAMES[s.name], fmt_money(s.bill.pack_cost), fmt_money(s.bill.postpaid_cost),
             fmt_money(s.bill.total_cost)] + ([fmt_money(s.cost)] if measured else []) +
            [fmt_money(s.saving), fmt_pct(p), fmt_int(s.bill.waste_calls)]
            for s, p in strategies]
    optimal = strategies[-1][0]        # the optimal plan is shown last
    cur = optimal.bill.currency
    if c.thumb_breaks:
        line = (f"The rule of thumb spends {fmt_money(c.thumb.pack_cost)} {cur} on packs, "
                f"beyond the cap ({', '.join(c.thumb_breaks)}), so it is no baseline for the "
                f"optimal plan within it, which saves {fmt_money(optimal.saving)} {cur} "
                f"against pure postpaid.")
        return rows, line
    line = (f"The optimizer is worth {fmt_money(c.optimizer_value)} {cur} "
            f"({fmt_pct(worth_pct)} of the rule-of-thumb cost) over the "
            f"rule of thumb, and saves {fmt_money(optimal.saving)} "
            f"{cur} against pure postpaid.")
    if measured:
        base = "" if c.measure == "net_cost" else \
            "; the pack, postpaid and total costs are the base forecast's"
        line = (f"On the {MEASURES[c.measure][1]} (what the plan minimised{base}): " +
                line[0].lower() + line[1:])
    if c.thumb_later:
        line += (f" The rule of thumb renews its packs in {', '.join(c.thumb_later)}, which "
                 f"--purchase-months start does not allow; --purchase-months any lets the "
                 f"optimal plan buy in any month.")
    return rows, line


EDITED_COLUMNS = ("Product", "This plan\ncost", "Optimal\ncost", "Difference",
                  "Against the optimum")


def changes_text(more: tuple[Change, ...], fewer: tuple[Change, ...]) -> str:
    """'more 100,000 × 1 in 2027-01; fewer 10,000 × 4 in 2027-01', or 'same packs'."""
    parts = [f"{word} {fmt_int(c.size)} × {fmt_int(c.count)} in {c.month}"
             for word, changes in (("more", more), ("fewer", fewer)) for c in changes]
    return "\n".join(parts) if parts else "same packs"


def edited_cells(c: EditedComparison) -> tuple[list[list[str]], list[str], str]:
    """Rows of the plan-beside-optimum table, its total line and a sentence on the gap."""
    rows = [[d.product, fmt_money(d.plan_cost), fmt_money(d.optimal_cost),
             fmt_money(d.difference), changes_text(d.more, d.fewer)] for d in c.products]
    total = ["Total", fmt_money(c.plan_cost), fmt_money(c.optimal_cost),
             fmt_money(c.difference), ""]
    cur = c.plan.currency
    mode = ("buying only in the first month, as this plan does" if c.purchase_months == "start"
            else "buying in any month, as this plan does")
    what = "cost" if c.measure == "total_cost" else "cost net of the carry-over credit"
    best = "optimal" if c.status == "optimal" else f"best found ({c.status})"
    if c.difference > 0:
        gap = (f"This plan's {what} is {fmt_money(c.difference)} {cur} "
               f"({fmt_pct(pct(c.difference, c.optimal_cost))}) above the {best} plan's "
               f"({fmt_money(c.optimal_cost)} {cur}, {mode}).")
    elif c.difference == 0:
        gap = (f"This plan's {what} equals the {best} plan's ({fmt_money(c.optimal_cost)} "
               f"{cur}, {mode}): no plan costs less.")
    else:
        gap = (f"This plan's {what} is {fmt_money(-c.difference)} {cur} below the {best} "
               f"plan's ({fmt_money(c.optimal_cost)} {cur}, {mode}).")
    if any(d.more or d.fewer for d in c.products):
        gap += " More/fewer: packs this plan buys beyond, or short of, the optimum."
    return rows, total, gap


CATALOG_COLUMNS = ("Product", "Name", "Free/month", "Packs (calls → price)",
                   "Postpaid tiers (volume → rate)")


def catalog_cells(catalog: Catalog) -> list[list[str]]:
    rows = []
    for p in catalog.products:
        packs = "\n".join(f"{fmt_int(k.calls)} → {fmt_price(k.price)}" for k in p.packs) or \
            "postpaid only"
        tiers = []
        for up_to, rate, published in p.tier_rates():
            bound = f"≤ {fmt_int(up_to)}" if up_to is not None else "above"
            tiers.append(f"{bound} → {fmt_rate(rate)}" if published else
                         f"{bound} → unpublished (charged {fmt_rate(rate)})")
        rows.append([p.id, p.name, fmt_int(p.free_calls), packs, "\n".join(tiers)])
    return rows


def status_line(result) -> str:
    """'optimal (proven to the fen)' or 'feasible, proven gap ≤ 12.00 CNY (0.01%)'."""
    if result.status == "optimal":
        return "optimal (proven to the fen)"
    rel = "" if result.gap_rel is None else f" ({result.gap_rel * 100:.4g}%)"
    return f"{result.status}, proven gap ≤ {fmt_money(result.gap)} {result.bill.currency}{rel}"


def carry_over_line(bill: Bill, carry_over: str, *, planned: bool = True) -> str | None:
    """Both carry-over figures in words, when anything is carried over or it was asked for.
    `planned`: the plan was made by packopt (`plan`), not replayed (`bill`), so the prorata
    value is what it was made to count."""
    if not bill.carry_over_calls and carry_over == "zero":
        return None
    counted = ("valued at zero in the total" if carry_over != "prorata"
               else "the plan minimises the cost less this value" if planned
               else "credited in the net cost, not in the total")
    calls = f"{fmt_int(bill.carry_over_calls)} call{'s' if bill.carry_over_calls != 1 else ''}"
    return (f"Carry-over at the end: {calls} still valid, worth "
            f"{fmt_money(bill.carry_over_value)} {bill.currency} prorata ({counted}); cost net "
            f"of it {fmt_money(bill.net_cost)} {bill.currency}.")


# --------------------------------------------------------------------------- scenarios and budgets

SCENARIO_COLUMNS = ("Scenario", "Weight", "Total\ncost", "Pack\ncost", "Postpaid\ncost",
                    "Waste\ncalls", "Postpaid\nshare", "Regret")


def scenario_cells(result) -> tuple[list[list[str]], list[str]]:
    """Rows of the per-scenario table and a line with the expected and worst costs."""
    rows = []
    for s in result.scenarios:
        p = pct(s.bill.postpaid_cost, s.bill.total_cost)
        rows.append([s.name, f"{s.weight.normalize():f}", fmt_money(s.bill.total_cost),
                     fmt_money(s.bill.pack_cost), fmt_money(s.bill.postpaid_cost),
                     fmt_int(s.bill.waste_calls), fmt_pct(p),
                     "—" if s.regret is None else fmt_money(s.regret)])
    total = ["Expected", "", fmt_money(result.expected_cost), "", "", "", "", ""]
    worst = ["Worst", "", fmt_money(result.worst_cost), "", "", "", "", ""]
    return rows, [total, worst]


def budget_lines(v: BudgetValue, currency: str) -> list[str]:
    c = currency
    # A cap per block or month read against the whole horizon's spend looked broken.
    per, where = {"--yearly-budget": (" per 12-month block", "the dearest 12-month block"),
                  "--monthly-budget": (" per month", "the dearest month")}.get(v.flag,
                                                                             ("", None))
    spend = f"{fmt_money(v.spend)} {c}" if where is None else \
        f"{fmt_money(v.cap_spend)} {c} in {where}, {fmt_money(v.spend)} {c} in all"
    lines = [f"Prepaid cap {fmt_money(v.cap)} {c}{per} ({v.flag}); prepaid spend {spend}."]
    if v.uncapped_saving > 0:
        lines.append(f"With no cap: {v.measure} {fmt_money(v.uncapped_cost)} {c}, spend "
                     f"{fmt_money(v.uncapped_spend)} {c}, saving {fmt_money(v.uncapped_saving)} "
                     f"{c} more.")
        lines.append(f"Value of raising the cap: {fmt_money(v.step_saving)} {c} saved per "
                     f"{fmt_money(v.step)} {c} (a cap of {fmt_money(v.cap + v.step)} {c} gives "
                     f"{v.measure} {fmt_money(v.raised_cost)} {c}).")
    else:
        lines.append(f"The cap does not bind: with no cap the {v.measure} is the same "
                     f"({fmt_money(v.uncapped_cost)} {c}, spend {fmt_money(v.uncapped_spend)} "
                     f"{c}); raising it saves nothing.")
    return lines


# --------------------------------------------------------------------------- what-if

WHATIF_COLUMNS = ("Demand", "This plan\ncost", "Optimal\ncost", "Regret", "Waste\ncalls",
                  "Optimal plan's\nwaste calls")


def whatif_cells(rows) -> list[list[str]]:
    """A level whose optimum a time limit left unproven: its optimal cost at most the best
    plan found, its regret at least what that gives."""
    return [[r.label, fmt_money(r.fixed.total_cost),
             ("≤ " if r.gap else "") + fmt_money(r.best.total_cost),
             ("≥ " if r.gap else "") + fmt_money(r.regret), fmt_int(r.fixed.waste_calls),
             fmt_int(r.best.waste_calls)]
            for r in rows]


BREAK_EVEN_COLUMNS = ("Product", "Packs in this plan", "Stays optimal from", "to")


def break_even_cells(break_even, examined_bill: Bill, catalog: Catalog, lowest="0.1",
                     highest="10") -> list[list[str]]:
    """Per product: its packs and the demand range (× forecast) where they stay optimal."""
    rows = []
    for b in break_even:
        pb = examined_bill.product(b.product)
        # Per size, the packs of every purchase together (a dated plan listed each month's:
        # "100,000 × 1, 100,000 × 4, 100,000 × 3, ..."), and over how many months.
        sizes: dict[int, tuple[int, set]] = {}
        for l in pb.purchases:
            count, months = sizes.get(l.size, (0, set()))
            sizes[l.size] = (count + l.count, months | {l.start})
        packs = ", ".join(f"{fmt_int(size)} × {count}" + (f" ({len(months)} months)"
                                                          if len(months) > 1 else "")
                          for size, (count, months) in sorted(sizes.items())) or "none"
        if not catalog.product(b.product).packs:
            rows.append([b.product, "postpaid only", "any", "any"])
            continue
        if b.optimal is None:
            rows.append([b.product, packs, "undecided", "—"])
            continue
        if not b.optimal:
            rows.append([b.product, packs, "not at ×1", "—"])
            continue
        # (a search the time limit stopped: the range reaches at least this far)
        rows.append([b.product, packs,
                     f"≤ ×{lowest}" if b.low is None else f"{'' if b.complete else '≤ '}×{b.low}",
                     f"≥ ×{highest}" if b.high is None else
                     f"{'' if b.complete else '≥ '}×{b.high}"])
    return rows
