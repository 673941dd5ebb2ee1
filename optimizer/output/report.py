"""Bills and plan results as plain data: the JSON of SPEC §4, CSV rows and table cells.

Pure functions, no printing: `cli.py` decides where the output goes and how it looks.
Money stays `Decimal` until the last step; JSON gets numbers rounded to 2 decimals
(`money`), tables get strings with thousands separators (`fmt_money`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable

from ..billing import Bill, CashflowMonth, ProductBill
from ..domain.catalog import Catalog

CENT = Decimal("0.01")
ZERO = Decimal(0)


# --------------------------------------------------------------------------- numbers

def money(x: Decimal) -> float:
    """A JSON number for an amount of money: exact to the fen, never -0.0."""
    return float(Decimal(x).quantize(CENT)) + 0.0


def rate_number(x: Decimal | None) -> float | None:
    """A per-call rate as a JSON number (rates keep all their decimals)."""
    return None if x is None else float(x) + 0.0


def pct(part: Decimal, whole: Decimal) -> float | None:
    """part / whole in percent, 2 decimals; None when whole is zero."""
    if not whole:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(CENT)) + 0.0


def fmt_money(x: Decimal) -> str:
    """'1,234.50': thousands separators and 2 decimals, exact."""
    s = f"{Decimal(x).quantize(CENT):,.2f}"
    return "0.00" if s == "-0.00" else s


def fmt_int(n: int) -> str:
    return f"{n:,}"


def fmt_pct(p: float | None) -> str:
    return "—" if p is None else f"{p:.1f}%"


def fmt_rate(x: Decimal) -> str:
    """A rate with at least 2 decimals and no trailing noise: 0.15, 0.06, 0.0035."""
    s = format(x.normalize(), "f")
    if "." not in s:
        s += ".00"
    elif len(s.split(".")[1]) < 2:
        s += "0"
    return s


def csv_money(x: Decimal) -> str:
    """Money in CSV: plain, 2 decimals, no separators."""
    s = str(Decimal(x).quantize(CENT))
    return "0.00" if s == "-0.00" else s


# --------------------------------------------------------------------------- pieces

def purchases(bill: Bill, pb: ProductBill) -> list[dict[str, Any]]:
    """The packs bought for one product, as SPEC §4 lists them."""
    return [{"month": str(bill.start + lot.start), "size": lot.size, "count": lot.count,
             "cost": money(lot.cost)} for lot in pb.purchases]


def holdings(bill: Bill, pb: ProductBill) -> list[dict[str, Any]]:
    """Packs already held when the horizon starts (balance and last usable month)."""
    return [{"expires": str(bill.start + lot.expiry), "calls": lot.calls}
            for lot in pb.lots if lot.size is None]


def cohorts(pb: ProductBill, k: int) -> list[tuple[str, str, int]]:
    """(bought, expires, balance at the month's end) of each cohort usable in month k: a
    purchase month's packs, or a holding ("held"). One expiring this month ends at 0 (what
    it had left is the month's waste)."""
    first = pb.months[0].month
    out: dict[tuple[str, str], int] = {}
    for lot, left in zip(pb.lots, pb.months[k].lot_balances):
        if lot.start <= k <= lot.expiry:
            key = ("held" if lot.size is None else str(first + lot.start), str(first + lot.expiry))
            out[key] = out.get(key, 0) + (left if lot.expiry > k else 0)
    return [(bought, expires, left) for (bought, expires), left in out.items()]


def month_dict(mb, pb: ProductBill | None = None, k: int = 0) -> dict[str, Any]:
    out = {
        "month": str(mb.month), "calls": mb.calls, "free": mb.free, "pack": mb.pack,
        "postpaid": mb.postpaid, "postpaid_cost": money(mb.postpaid_cost),
        "tier_volume": mb.tier_volume, "rate": rate_number(mb.rate),
        "rate_published": mb.rate_published, "pack_spend": money(mb.pack_spend),
        "balance": mb.balance, "waste": mb.waste, "reminders": list(mb.reminders),
    }
    if pb is not None:
        out["cohorts"] = [{"bought": b, "expires": e, "balance": left}
                          for b, e, left in cohorts(pb, k)]
    return out


def product_dict(bill: Bill, pb: ProductBill) -> dict[str, Any]:
    return {
        "product": pb.product,
        "name": pb.name,
        "purchases": purchases(bill, pb),
        "holdings": holdings(bill, pb),
        "total_cost": money(pb.total_cost),
        "pack_cost": money(pb.pack_cost),
        "postpaid_cost": money(pb.postpaid_cost),
        "postpaid_only_cost": money(pb.postpaid_only_cost),
        "savings": money(pb.savings),
        "savings_pct": pct(pb.savings, pb.postpaid_only_cost),
        "waste_calls": pb.waste_calls,
        "carry_over_calls": pb.carry_over_calls,
        "carry_over_value": money(pb.carry_over_value),
        "net_cost": money(pb.net_cost),
        "months": [month_dict(mb, pb, k) for k, mb in enumerate(pb.months)],
    }


def cashflow_summary(flow: Iterable[CashflowMonth]) -> dict[str, Any]:
    """Peak frozen amount and largest outflow, with their months (the earliest on ties)."""
    flow = list(flow)
    peak = max(flow, key=lambda c: (c.frozen, -c.month.ordinal))
    big = max(flow, key=lambda c: (c.outflow, -c.month.ordinal))
    return {"peak_frozen": peak.frozen, "peak_frozen_month": peak.month,
            "largest_outflow": big.outflow, "largest_outflow_month": big.month}


def cashflow_dict(bill: Bill) -> dict[str, Any]:
    flow = bill.cashflow()
    s = cashflow_summary(flow)
    return {
        "months": [{"month": str(c.month), "packs": money(c.packs), "postpaid": money(c.postpaid),
                    "outflow": money(c.outflow), "frozen": money(c.frozen)} for c in flow],
        "peak_frozen": money(s["peak_frozen"]),
        "peak_frozen_month": str(s["peak_frozen_month"]),
        "largest_outflow": money(s["largest_outflow"]),
        "largest_outflow_month": str(s["largest_outflow_month"]),
    }


# --------------------------------------------------------------------------- JSON

def bill_dict(bill: Bill, *, status: str = "billed", cashflow: bool = False,
              carry_over: str = "zero") -> dict[str, Any]:
    """The JSON document of SPEC §4 for a bill (`packopt bill --format json`).

    Both carry-over figures are always there: `total_cost` values it at zero, `net_cost`
    subtracts its prorata `carry_over_value`; `carry_over_valuation` says which one counts.
    """
    out: dict[str, Any] = {
        "status": status,
        "tier_basis": bill.tier_basis,
        "horizon": {"start": str(bill.start), "months": bill.months},
        "currency": bill.currency,
        "total_cost": money(bill.total_cost),
        "pack_cost": money(bill.pack_cost),
        "postpaid_cost": money(bill.postpaid_cost),
        "postpaid_only_cost": money(bill.postpaid_only_cost),
        "savings": money(bill.savings),
        "savings_pct": pct(bill.savings, bill.postpaid_only_cost),
        "waste_calls": bill.waste_calls,
        "carry_over_calls": bill.carry_over_calls,
        "carry_over_value": money(bill.carry_over_value),
        "carry_over_valuation": carry_over,
        "net_cost": money(bill.net_cost),
        "warnings": list(bill.warnings),
        "products": [product_dict(bill, pb) for pb in bill.products],
    }
    if cashflow:
        out["cashflow"] = cashflow_dict(bill)
    return out


def plan_dict(result, *, cashflow: bool = False) -> dict[str, Any]:
    """The JSON document of SPEC §4 for a planner result; all money from its re-billed bill."""
    out = bill_dict(result.bill, status=result.status, cashflow=cashflow,
                    carry_over=result.carry_over)
    extra = {
        "gap": money(result.gap),
        "gap_rel": result.gap_rel,
        "solver": result.solver,
        "method": result.method,
        "purchase_months": result.purchase_months,
        "timings": {"build_seconds": round(result.build_seconds, 3),
                    "solve_seconds": round(result.solve_seconds, 3),
                    "bill_seconds": round(result.bill_seconds, 3)},
    }
    # status first, then what qualifies it, then the rest in SPEC order
    head = {"status": out.pop("status"), **extra}
    return {**head, **out}


def carry_over_line(bill: Bill, carry_over: str) -> str | None:
    """Both carry-over figures in words, when anything is carried over or it was asked for."""
    if not bill.carry_over_calls and carry_over == "zero":
        return None
    counted = ("the plan minimises the cost less this value" if carry_over == "prorata"
               else "valued at zero in the total")
    return (f"Carry-over at the end: {fmt_int(bill.carry_over_calls)} calls still valid, worth "
            f"{fmt_money(bill.carry_over_value)} {bill.currency} prorata ({counted}); cost net "
            f"of it {fmt_money(bill.net_cost)} {bill.currency}.")


def strategy_dict(name: str, bill: Bill, baseline: Decimal) -> dict[str, Any]:
    return {
        "strategy": name,
        "total_cost": money(bill.total_cost),
        "pack_cost": money(bill.pack_cost),
        "postpaid_cost": money(bill.postpaid_cost),
        "savings": money(baseline - bill.total_cost),
        "savings_pct": pct(baseline - bill.total_cost, baseline),
        "waste_calls": bill.waste_calls,
    }


def _strategies(postpaid: Bill, thumb: Bill, optimal: Bill, start_only: Bill | None):
    """(name, bill) of each compared strategy, in display order."""
    out = [("postpaid_only", postpaid), ("rule_of_thumb", thumb)]
    if start_only is not None:
        out.append(("optimal_start", start_only))
    return out + [("optimal", optimal)]


def comparison(postpaid: Bill, thumb: Bill, optimal: Bill,
               start_only: Bill | None = None) -> dict[str, Any]:
    """Pure postpaid vs the rule of thumb vs the optimal plan, and what the optimizer is worth.

    Savings are against pure postpaid (with any holdings still drawn); `optimizer_value` is
    what the optimal plan saves over the rule of thumb.
    """
    base = postpaid.total_cost
    worth = thumb.total_cost - optimal.total_cost
    rot = strategy_dict("rule_of_thumb", thumb, base)
    rot["purchases"] = [dict(product=pb.product, **p) for pb in thumb.products
                        for p in purchases(thumb, pb)]
    return {
        "strategies": [rot if name == "rule_of_thumb" else strategy_dict(name, b, base)
                       for name, b in _strategies(postpaid, thumb, optimal, start_only)],
        "optimizer_value": money(worth),
        "optimizer_value_pct": pct(worth, thumb.total_cost),
    }


def catalog_dict(catalog: Catalog) -> dict[str, Any]:
    """The catalog in use, as data (`packopt catalog --format json`)."""
    return {
        "source": catalog.source,
        "currency": catalog.currency,
        "validity_months": catalog.validity_months,
        "tier_basis": catalog.tier_basis,
        "products": [{
            "id": p.id, "name": p.name, "free_calls_per_month": p.free_calls,
            "packs": [{"calls": k.calls, "price": money(k.price)} for k in p.packs],
            "tiers": [{"up_to": up_to, "rate": rate_number(rate), "published": published}
                      for up_to, rate, published in p.tier_rates()],
        } for p in catalog.products],
    }


# --------------------------------------------------------------------------- CSV

PLAN_HEADER = ("product", "month", "size", "count", "cost")
SUMMARY_HEADER = ("product", "pack_cost", "postpaid_cost", "total_cost", "postpaid_only_cost",
                  "savings", "waste_calls", "carry_over_calls")
MONTH_HEADER = ("product", "month", "calls", "free", "pack", "postpaid", "tier_volume", "rate",
                "postpaid_cost", "pack_spend", "balance", "waste", "reminders")
CASHFLOW_HEADER = ("month", "packs", "postpaid", "outflow", "frozen")
COMPARE_HEADER = ("strategy", "pack_cost", "postpaid_cost", "total_cost", "savings",
                  "savings_pct", "waste_calls")
CATALOG_HEADER = ("product", "name", "free_calls_per_month", "kind", "calls", "up_to", "price",
                  "rate", "published")


def plan_rows(bill: Bill) -> list[tuple]:
    """`product,month,size,count,cost`: readable back by `packopt bill --plan`."""
    rows = [PLAN_HEADER]
    for pb in bill.products:
        for lot in pb.purchases:
            rows.append((pb.product, str(bill.start + lot.start), lot.size, lot.count,
                         csv_money(lot.cost)))
    return rows


def summary_rows(bill: Bill) -> list[tuple]:
    """One row per product: what it costs and saves."""
    rows = [SUMMARY_HEADER]
    for pb in bill.products:
        rows.append((pb.product, csv_money(pb.pack_cost), csv_money(pb.postpaid_cost),
                     csv_money(pb.total_cost), csv_money(pb.postpaid_only_cost),
                     csv_money(pb.savings), pb.waste_calls, pb.carry_over_calls))
    return rows


def month_rows(bill: Bill) -> list[tuple]:
    """One row per product and month (reminders joined with '; ')."""
    rows = [MONTH_HEADER]
    for pb in bill.products:
        for mb in pb.months:
            rows.append((pb.product, str(mb.month), mb.calls, mb.free, mb.pack, mb.postpaid,
                         mb.tier_volume, str(mb.rate), csv_money(mb.postpaid_cost),
                         csv_money(mb.pack_spend), mb.balance, mb.waste, "; ".join(mb.reminders)))
    return rows


def cashflow_rows(bill: Bill) -> list[tuple]:
    rows = [CASHFLOW_HEADER]
    for c in bill.cashflow():
        rows.append((str(c.month), csv_money(c.packs), csv_money(c.postpaid),
                     csv_money(c.outflow), csv_money(c.frozen)))
    return rows


def comparison_rows(postpaid: Bill, thumb: Bill, optimal: Bill,
                    start_only: Bill | None = None) -> list[tuple]:
    rows = [COMPARE_HEADER]
    base = postpaid.total_cost
    for name, b in _strategies(postpaid, thumb, optimal, start_only):
        saving = base - b.total_cost
        p = pct(saving, base)
        rows.append((name, csv_money(b.pack_cost), csv_money(b.postpaid_cost),
                     csv_money(b.total_cost), csv_money(saving), "" if p is None else f"{p:.2f}",
                     b.waste_calls))
    return rows


def catalog_rows(catalog: Catalog) -> list[tuple]:
    """A row per pack (kind=pack) and per tier (kind=tier) of every product."""
    rows = [CATALOG_HEADER]
    for p in catalog.products:
        for k in p.packs:
            rows.append((p.id, p.name, p.free_calls, "pack", k.calls, "", csv_money(k.price),
                         "", ""))
        for up_to, rate, published in p.tier_rates():
            rows.append((p.id, p.name, p.free_calls, "tier", "", "" if up_to is None else up_to,
                         "", str(rate), "true" if published else "false"))
    return rows


# --------------------------------------------------------------------------- table cells

PURCHASE_COLUMNS = ("Product", "Month", "Packs (size × count)", "Calls", "Cost")


def purchase_cells(bill: Bill) -> tuple[list[list[str]], list[str]]:
    """One row per purchase (product, month, size × count, calls, cost) and a total line."""
    rows = []
    for pb in bill.products:
        for lot in pb.purchases:
            rows.append([pb.product, str(bill.start + lot.start),
                         f"{fmt_int(lot.size)} × {lot.count}", fmt_int(lot.calls),
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


MONTH_COLUMNS = ("Month", "Calls", "Free", "Pack", "Postpaid", "Rate", "Postpaid\ncost",
                 "Packs\nbought", "Balance", "Waste", "Reminders")


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
                     "\n".join(mb.reminders)])
    return rows


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
    return rows, line


COMPARE_COLUMNS = ("Strategy", "Pack\ncost", "Postpaid\ncost", "Total\ncost",
                   "Saving vs\npostpaid", "Saving\n%", "Waste\ncalls")
STRATEGY_NAMES = {"postpaid_only": "Pure postpaid", "rule_of_thumb": "Rule of thumb",
                  "optimal_start": "Optimal, all bought at the start", "optimal": "Optimal plan"}


def comparison_cells(postpaid: Bill, thumb: Bill, optimal: Bill,
                     start_only: Bill | None = None) -> tuple[list[list[str]], str]:
    """Rows of the comparison table and a sentence on what the optimizer is worth."""
    base = postpaid.total_cost
    rows = []
    for name, b in _strategies(postpaid, thumb, optimal, start_only):
        saving = base - b.total_cost
        rows.append([STRATEGY_NAMES[name], fmt_money(b.pack_cost), fmt_money(b.postpaid_cost),
                     fmt_money(b.total_cost), fmt_money(saving), fmt_pct(pct(saving, base)),
                     fmt_int(b.waste_calls)])
    worth = thumb.total_cost - optimal.total_cost
    line = (f"The optimizer is worth {fmt_money(worth)} {optimal.currency} "
            f"({fmt_pct(pct(worth, thumb.total_cost))} of the rule-of-thumb cost) over the "
            f"rule of thumb, and saves {fmt_money(base - optimal.total_cost)} "
            f"{optimal.currency} against pure postpaid.")
    return rows, line


CATALOG_COLUMNS = ("Product", "Name", "Free/month", "Packs (calls → price)",
                   "Postpaid tiers (volume → rate)")


def catalog_cells(catalog: Catalog) -> list[list[str]]:
    rows = []
    for p in catalog.products:
        packs = "\n".join(f"{fmt_int(k.calls)} → {fmt_money(k.price)}" for k in p.packs) or \
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


# --------------------------------------------------------------------------- scenarios and budgets

def share(part: Decimal, whole: Decimal) -> float | None:
    """part / whole as a fraction with 4 decimals; None when whole is zero."""
    if not whole:
        return None
    return float((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))) + 0.0


def objective_cost(result) -> Decimal:
    """What the planner minimised: the expected cost, or the worst scenario's cost."""
    return result.worst_cost if result.objective == "worst-case" else result.expected_cost


def scenario_dicts(result) -> list[dict[str, Any]]:
    """Each scenario's cost, waste, postpaid share and regret under the chosen plan."""
    return [{"name": s.name, "weight": float(s.weight) + 0.0,
             "total_cost": money(s.bill.total_cost), "pack_cost": money(s.bill.pack_cost),
             "postpaid_cost": money(s.bill.postpaid_cost), "waste_calls": s.bill.waste_calls,
             "postpaid_share": share(s.bill.postpaid_cost, s.bill.total_cost),
             "regret": None if s.regret is None else money(s.regret)}
            for s in result.scenarios]


@dataclass(frozen=True)
class BudgetValue:
    """What raising the prepaid cap is worth: the plan with no cap, and with cap + `step`."""

    cap: Decimal                 # the binding cap (budget, or the monthly cap when alone)
    flag: str                    # "--budget" or "--monthly-budget"
    spend: Decimal               # prepaid spend of the capped plan
    cost: Decimal                # objective cost of the capped plan
    uncapped_cost: Decimal
    uncapped_spend: Decimal
    step: Decimal
    raised_cost: Decimal
    measure: str = "cost"        # what `cost` is: "cost", "expected cost", "worst-case cost"

    @property
    def uncapped_saving(self) -> Decimal:
        return self.cost - self.uncapped_cost

    @property
    def step_saving(self) -> Decimal:
        return self.cost - self.raised_cost


def budget_value_dict(v: BudgetValue) -> dict[str, Any]:
    return {"cap": money(v.cap), "cap_option": v.flag, "measure": v.measure, "spend": money(v.spend),
            "cost": money(v.cost), "binding": v.uncapped_saving > 0,
            "no_cap": {"cost": money(v.uncapped_cost), "spend": money(v.uncapped_spend),
                       "saving": money(v.uncapped_saving)},
            "raised_cap": money(v.cap + v.step), "raised_cost": money(v.raised_cost),
            "saving_per_step": money(v.step_saving), "step": money(v.step)}


def uncertainty_dict(result, budget_value: BudgetValue | None = None) -> dict[str, Any]:
    """The JSON fields `plan` adds for scenarios and budgets (SPEC fields stay as they are)."""
    return {
        "objective": result.objective,
        "expected_cost": money(result.expected_cost),
        "worst_cost": money(result.worst_cost),
        "scenarios": scenario_dicts(result),
        "budget": None if result.budget is None else money(result.budget),
        "monthly_budget": None if result.monthly_budget is None else money(result.monthly_budget),
        "budget_value": None if budget_value is None else budget_value_dict(budget_value),
    }


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
    lines = [f"Prepaid cap {fmt_money(v.cap)} {c} ({v.flag}); prepaid spend "
             f"{fmt_money(v.spend)} {c}."]
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

def whatif_dict(examined_bill: Bill, rows, scale_count: int, break_even=None) -> dict[str, Any]:
    """The examined plan, each demand level's fixed and optimal costs, break-even ranges."""
    levels = []
    for i, r in enumerate(rows):
        levels.append({
            "label": r.label,
            "scale": float(r.label.lstrip("×")) if i < scale_count else None,
            "scenario": None if i < scale_count else r.label,
            "total_cost": money(r.fixed.total_cost), "pack_cost": money(r.fixed.pack_cost),
            "postpaid_cost": money(r.fixed.postpaid_cost), "waste_calls": r.fixed.waste_calls,
            "optimal_cost": money(r.best.total_cost),
            "optimal_pack_cost": money(r.best.pack_cost),
            "optimal_waste_calls": r.best.waste_calls,
            "regret": money(r.regret),
            "optimal_purchases": [dict(product=pb.product, **p) for pb in r.best.products
                                  for p in purchases(r.best, pb)],
        })
    out: dict[str, Any] = {
        "status": "whatif",
        "tier_basis": examined_bill.tier_basis,
        "horizon": {"start": str(examined_bill.start), "months": examined_bill.months},
        "currency": examined_bill.currency,
        "plan": [dict(product=pb.product, **p) for pb in examined_bill.products
                 for p in purchases(examined_bill, pb)],
        "plan_pack_cost": money(examined_bill.pack_cost),
        "levels": levels,
    }
    if break_even is not None:
        out["break_even"] = [{"product": b.product,
                              "low": None if b.low is None else float(b.low),
                              "high": None if b.high is None else float(b.high)}
                             for b in break_even]
    return out


WHATIF_HEADER = ("level", "scale", "total_cost", "pack_cost", "postpaid_cost", "waste_calls",
                 "optimal_cost", "optimal_pack_cost", "regret")
BREAK_EVEN_HEADER = ("product", "low", "high")


def whatif_rows(rows, scale_count: int) -> list[tuple]:
    out = [WHATIF_HEADER]
    for i, r in enumerate(rows):
        out.append((r.label, r.label.lstrip("×") if i < scale_count else "",
                    csv_money(r.fixed.total_cost), csv_money(r.fixed.pack_cost),
                    csv_money(r.fixed.postpaid_cost), r.fixed.waste_calls,
                    csv_money(r.best.total_cost), csv_money(r.best.pack_cost),
                    csv_money(r.regret)))
    return out


def break_even_rows(break_even) -> list[tuple]:
    return [BREAK_EVEN_HEADER] + [(b.product, "" if b.low is None else str(b.low),
                                   "" if b.high is None else str(b.high)) for b in break_even]


WHATIF_COLUMNS = ("Demand", "This plan\ncost", "Optimal\ncost", "Regret", "Waste\ncalls",
                  "Optimal plan's\nwaste calls")


def whatif_cells(rows) -> list[list[str]]:
    return [[r.label, fmt_money(r.fixed.total_cost), fmt_money(r.best.total_cost),
             fmt_money(r.regret), fmt_int(r.fixed.waste_calls), fmt_int(r.best.waste_calls)]
            for r in rows]


BREAK_EVEN_COLUMNS = ("Product", "Packs in this plan", "Stays optimal from", "to")


def break_even_cells(break_even, examined_bill: Bill, catalog: Catalog, lowest="0.1",
                     highest="10") -> list[list[str]]:
    """Per product: its packs and the demand range (× forecast) where they stay optimal."""
    rows = []
    for b in break_even:
        pb = examined_bill.product(b.product)
        packs = ", ".join(f"{fmt_int(l.size)} × {l.count}" for l in pb.purchases) or "none"
        if not catalog.product(b.product).packs:
            rows.append([b.product, "postpaid only", "any", "any"])
            continue
        rows.append([b.product, packs,
                     f"≤ ×{lowest}" if b.low is None else f"×{b.low}",
                     f"≥ ×{highest}" if b.high is None else f"×{b.high}"])
    return rows


# --------------------------------------------------------------------------- month series

def month_series(pb: ProductBill) -> list[dict[str, Any]]:
    """Per month, what a chart of pack balance against demand needs (counts in calls).

    `balance_start` is the balance usable in the month (after that month's purchases),
    `balance` what is left at its end after expiry; `expiring` calls lost at its end.
    """
    out = []
    for i, mb in enumerate(pb.months):
        bought = sum(l.calls for l in pb.purchases if l.start == i)
        out.append({"month": str(mb.month), "calls": mb.calls, "free": mb.free,
                    "pack": mb.pack, "postpaid": mb.postpaid, "bought": bought,
                    "balance_start": mb.balance + mb.pack + mb.waste, "balance": mb.balance,
                    "expiring": mb.waste, "reminders": list(mb.reminders)})
    return out


def has_packs(pb: ProductBill) -> bool:
    """A product worth charting month by month: it buys or holds packs."""
    return bool(pb.lots)


# --------------------------------------------------------------------------- markdown

def _md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", "<br>")


def markdown_table(columns, rows, *, total=None, right_from: int = 1, left=()) -> list[str]:
    """A GitHub-flavoured pipe table (lines); a total line (or lines) in bold."""
    head = [c.replace("\n", " ") for c in columns]
    align = ["---:" if i >= right_from and c not in left else ":---"
             for i, c in enumerate(columns)]
    lines = ["| " + " | ".join(_md_cell(h) for h in head) + " |",
             "| " + " | ".join(align) + " |"]
    for r in rows:
        lines.append("| " + " | ".join(_md_cell(c) for c in r) + " |")
    totals = [] if total is None else (total if total and isinstance(total[0], list) else [total])
    for t in totals:
        lines.append("| " + " | ".join(f"**{_md_cell(c)}**" if c else "" for c in t) + " |")
    return lines
