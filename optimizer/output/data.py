"""Bills and plan results as plain data: the JSON documents and the CSV rows.

JSON (fields described in README.md, 'Output formats'): `bill_dict`, `plan_dict`,
`catalog_dict`, `whatif_dict` and the fields `plan` adds for comparisons, scenarios and
budgets; numbers rounded by `formats`. CSV: one table per output (`plan_rows` is readable
back by `packopt bill --plan`). Also the per-month series the chart and the HTML report draw.
Pure functions: no printing, no styling.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable

from ..billing import Bill, CashflowMonth, ProductBill
from ..domain.catalog import Catalog
from ..domain.months import LAST_MONTH
from .formats import csv_money, csv_price, fmt_rate, money, pct, price_number, rate_number, share

if TYPE_CHECKING:   # annotations only: the analysis modules load the solver stack
    from ..analysis.budget import BudgetValue
    from ..analysis.compare import Comparison, Strategy
    from ..analysis.edited import EditedComparison


# --------------------------------------------------------------------------- pieces

def purchases(bill: Bill, pb: ProductBill) -> list[dict[str, Any]]:
    """The packs bought for one product, as the JSON lists them."""
    return [{"month": str(bill.start + lot.start), "size": lot.size, "count": lot.count,
             "cost": money(lot.cost)} for lot in pb.purchases]


def holdings(bill: Bill, pb: ProductBill) -> list[dict[str, Any]]:
    """Packs already held when the horizon starts (balance and last usable month)."""
    return [{"expires": str(bill.start + lot.expiry), "calls": lot.calls}
            for lot in pb.lots if lot.size is None]


def cohorts(pb: ProductBill, k: int) -> list[tuple[str, str | None, int]]:
    """(bought, expires, balance at the month's end) of each cohort usable in month k: a
    purchase month's packs, or a holding ("held"). One expiring this month ends at 0 (what
    it had left is the month's waste); one usable past 9999-12 expires None (no "YYYY-MM"
    names its month)."""
    if not pb.lots:
        return []
    first = pb.months[0].month
    out: dict[tuple[str, str], int] = {}
    for lot, left in zip(pb.lots, pb.months[k].lot_balances):
        if lot.start <= k <= lot.expiry:
            key = ("held" if lot.size is None else _label(first, lot.start),
                   None if first + lot.expiry > LAST_MONTH else _label(first, lot.expiry))
            out[key] = out.get(key, 0) + (left if lot.expiry > k else 0)
    return [(bought, expires, left) for (bought, expires), left in out.items()]


def month_dict(mb, pb: ProductBill | None = None, k: int = 0, label: str | None = None
               ) -> dict[str, Any]:
    out = {
        "month": label or str(mb.month), "calls": mb.calls, "free": mb.free, "pack": mb.pack,
        "postpaid": mb.postpaid,
        "postpaid_cost": money(mb.postpaid_cost) if mb.postpaid_cost else 0.0,
        "tier_volume": mb.tier_volume, "rate": rate_number(mb.rate),
        "rate_published": mb.rate_published,
        "pack_spend": money(mb.pack_spend) if mb.pack_spend else 0.0,
        "balance": mb.balance, "waste": mb.waste, "reminders": list(mb.reminders),
    }
    if pb is not None:
        out["cohorts"] = [{"bought": b, "expires": e, "balance": left}
                          for b, e, left in cohorts(pb, k)] if pb.lots else []
    return out


class Months:
    """A product's months in a JSON document, as `month_dict` writes them, made only when
    asked (`dicts()`): `output.text.to_json` writes a bill's months straight from its
    records (`rows()`), the same text without 120,000 small dicts on a big bill."""

    __slots__ = ("bill", "pb")

    def __init__(self, bill: Bill, pb: ProductBill):
        self.bill, self.pb = bill, pb

    def dicts(self) -> list[dict[str, Any]]:
        pb = self.pb
        return [month_dict(mb, pb, k, label)
                for (k, mb), label in zip(enumerate(pb.months), _labels(self.bill.start,
                                                                        self.bill.months))]

    def labels(self) -> tuple[str, ...]:
        """The months' labels, as the JSON writes them."""
        return tuple(_labels(self.bill.start, self.bill.months))

    def without_lots(self):
        """(label, record) per month when the product has no lots (nothing bought or
        held: no reminders, no cohorts), else None."""
        if self.pb.lots:
            return None
        return zip(_labels(self.bill.start, self.bill.months), self.pb.months)

    def rows(self):
        """Per month (label, record, reminders, cohorts): the two lists as `month_dict`
        has them (the other fields are read off the record as `month_dict` reads them)."""
        pb = self.pb
        labels = _labels(self.bill.start, self.bill.months)
        if not pb.lots:
            return [(label, mb, list(mb.reminders), [])
                    for label, mb in zip(labels, pb.months)]
        return [(label, mb, list(mb.reminders),
                 [{"bought": b, "expires": e, "balance": left} for b, e, left in cohorts(pb, k)])
                for (k, mb), label in zip(enumerate(pb.months), labels)]

    def __eq__(self, other):
        return isinstance(other, Months) and self.dicts() == other.dicts()

    __hash__ = None


def product_dict(bill: Bill, pb: ProductBill, lazy: bool = False) -> dict[str, Any]:
    """One product of a bill's JSON; `lazy`: its months as `Months` (for `to_json`)."""
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
        "months": Months(bill, pb) if lazy else Months(bill, pb).dicts(),
    }


@lru_cache(maxsize=4096)
def _label(start, k: int) -> str:
    """"YYYY-MM" of the month k months after `start`."""
    return str(start + k)


@lru_cache(maxsize=16)
def _labels(start, months: int) -> tuple[str, ...]:
    """"YYYY-MM" of each month of a horizon, written once for all of a bill's products."""
    return tuple(str(start + k) for k in range(months))


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
        "settled_after_last": (None if bill.settled_after_last is None
                               else money(bill.settled_after_last)),
    }


# --------------------------------------------------------------------------- JSON

def bill_dict(bill: Bill, *, status: str = "billed", cashflow: bool = False,
              carry_over: str = "zero", lazy: bool = False) -> dict[str, Any]:
    """The JSON document for a bill (`packopt bill --format json`); `lazy`: each product's
    months as `Months`, which `output.text.to_json` writes fast (plain lists otherwise).

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
        "products": [product_dict(bill, pb, lazy) for pb in bill.products],
    }
    if cashflow:
        out["cashflow"] = cashflow_dict(bill)
    return out


def plan_dict(result, *, cashflow: bool = False, lazy: bool = False) -> dict[str, Any]:
    """The JSON document for a planner result; all money from its re-billed bill."""
    out = bill_dict(result.bill, status=result.status, cashflow=cashflow,
                    carry_over=result.carry_over, lazy=lazy)
    extra = {
        "gap": money(result.gap),
        "gap_rel": result.gap_rel,
        "solver": result.solver,
        "method": result.method,
        "tie_break_proven": result.tie_break_proven,
        "purchase_months": result.purchase_months,
        "timings": {"build_seconds": round(result.build_seconds, 3),
                    "solve_seconds": round(result.solve_seconds, 3),
                    "bill_seconds": round(result.bill_seconds, 3),
                    "search_seconds": round(result.search_seconds, 3)},
    }
    # status first, then what qualifies it, then the rest in the order of bill_dict
    head = {"status": out.pop("status"), **extra}
    return {**head, **out}


def purchase_list(bill: Bill) -> list[dict[str, Any]]:
    """Every pack bought in `bill`, each with its product."""
    return [dict(product=pb.product, **p) for pb in bill.products for p in purchases(bill, pb)]


def comparison_figures(c: Comparison) -> tuple[list[tuple[Strategy, float | None]],
                                                float | None]:
    """Each strategy with its saving in percent of pure postpaid, and the optimizer's worth
    in percent of the rule of thumb: the percentages JSON, CSV and the table all show."""
    cost = {s.name: s.cost for s in c.strategies}
    return ([(s, pct(s.saving, cost["postpaid_only"])) for s in c.strategies],
            pct(c.optimizer_value, cost["rule_of_thumb"]))


def strategy_dict(s: Strategy, saving_pct: float | None) -> dict[str, Any]:
    return {
        "strategy": s.name,
        "total_cost": money(s.bill.total_cost),
        "pack_cost": money(s.bill.pack_cost),
        "postpaid_cost": money(s.bill.postpaid_cost),
        "cost": money(s.cost),
        "savings": money(s.saving),
        "savings_pct": saving_pct,
        "waste_calls": s.bill.waste_calls,
    }


def comparison_dict(c: Comparison) -> dict[str, Any]:
    """Pure postpaid vs the rule of thumb vs the optimal plan, and what the optimizer is worth.

    `measure` is what the strategies are compared on, the plan's own objective (each
    strategy's `cost`): `total_cost`, `net_cost` under prorata, `expected_cost` or
    `worst_cost` over scenarios (`expected_net_cost`, `worst_net_cost` under prorata); the
    other costs are of the base forecast.
    Savings are against pure postpaid (with any holdings still drawn); `optimizer_value` is
    what the optimal plan saves over the rule of thumb; `rule_of_thumb_breaks` names the
    caps the rule of thumb (which knows none) spends beyond, and
    `rule_of_thumb_renewals` the months after the start in which it buys beside a plan
    that may buy only at the start.
    """
    strategies, worth_pct = comparison_figures(c)
    out = []
    for s, p in strategies:
        d = strategy_dict(s, p)
        if s.name == "rule_of_thumb":
            d["purchases"] = purchase_list(s.bill)
        out.append(d)
    return {"measure": c.measure, "strategies": out,
            "optimizer_value": money(c.optimizer_value),
            "optimizer_value_pct": worth_pct, "rule_of_thumb_breaks": list(c.thumb_breaks),
            "rule_of_thumb_renewals": list(c.thumb_later)}


def edited_dict(c: EditedComparison) -> dict[str, Any]:
    """`bill --compare`: the optimal plan beside the billed one, per product, with the packs
    the billed plan has beyond (`more`) or short of (`fewer`) the optimum."""
    def changes(cs):
        return [{"month": x.month, "size": x.size, "count": x.count} for x in cs]
    return {
        "optimal_status": c.status,
        "purchase_months": c.purchase_months,
        "measure": c.measure,
        "plan_cost": money(c.plan_cost),
        "optimal_cost": money(c.optimal_cost),
        "difference": money(c.difference),
        "optimal_purchases": purchase_list(c.optimal),
        "products": [{"product": d.product, "plan_cost": money(d.plan_cost),
                      "optimal_cost": money(d.optimal_cost), "difference": money(d.difference),
                      "more": changes(d.more), "fewer": changes(d.fewer)}
                     for d in c.products],
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
            "packs": [{"calls": k.calls, "price": price_number(k.price)} for k in p.packs],
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


SCENARIO_HEADER = ("scenario", "weight", "total_cost", "pack_cost", "postpaid_cost",
                   "waste_calls", "carry_over_value", "net_cost", "regret")


def scenario_rows(result) -> list[tuple]:
    """Each scenario's bill of the plan (and its regret, empty where not proven)."""
    rows = [SCENARIO_HEADER]
    for s in result.scenarios:
        b = s.bill
        rows.append((s.name, f"{s.weight.normalize():f}", csv_money(b.total_cost),
                     csv_money(b.pack_cost), csv_money(b.postpaid_cost), b.waste_calls,
                     csv_money(b.carry_over_value), csv_money(b.net_cost),
                     "" if s.regret is None else csv_money(s.regret)))
    return rows


def comparison_rows(c: Comparison) -> list[tuple]:
    """COMPARE_HEADER's rows; where the strategies are compared on another measure than
    the total (`Comparison.measure`), a column of it before the savings."""
    measured = c.measure != "total_cost"
    rows = [COMPARE_HEADER[:4] + ((c.measure,) if measured else ()) + COMPARE_HEADER[4:]]
    for s, p in comparison_figures(c)[0]:
        b = s.bill
        rows.append((s.name, csv_money(b.pack_cost), csv_money(b.postpaid_cost),
                     csv_money(b.total_cost)) + ((csv_money(s.cost),) if measured else ()) +
                    (csv_money(s.saving), "" if p is None else f"{p:.2f}", b.waste_calls))
    return rows


EDITED_HEADER = ("product", "plan_cost", "optimal_cost", "difference")


def edited_rows(c: EditedComparison) -> list[tuple]:
    """`bill --compare --format csv`: per product, the plan's cost, the optimum's, the gap."""
    return [EDITED_HEADER] + [(d.product, csv_money(d.plan_cost), csv_money(d.optimal_cost),
                               csv_money(d.difference)) for d in c.products]


def catalog_rows(catalog: Catalog) -> list[tuple]:
    """A row per pack (kind=pack) and per tier (kind=tier) of every product."""
    rows = [CATALOG_HEADER]
    for p in catalog.products:
        for k in p.packs:
            rows.append((p.id, p.name, p.free_calls, "pack", k.calls, "", csv_price(k.price),
                         "", ""))
        for up_to, rate, published in p.tier_rates():
            rows.append((p.id, p.name, p.free_calls, "tier", "", "" if up_to is None else up_to,
                         "", fmt_rate(rate), "true" if published else "false"))
    return rows


# --------------------------------------------------------------------------- scenarios and budgets

def scenario_dicts(result) -> list[dict[str, Any]]:
    """Each scenario's cost, waste, postpaid share and regret under the chosen plan."""
    return [{"name": s.name, "weight": float(s.weight) + 0.0,
             "total_cost": money(s.bill.total_cost), "pack_cost": money(s.bill.pack_cost),
             "postpaid_cost": money(s.bill.postpaid_cost), "waste_calls": s.bill.waste_calls,
             "postpaid_share": share(s.bill.postpaid_cost, s.bill.total_cost),
             "carry_over_value": money(s.bill.carry_over_value),
             "net_cost": money(s.bill.net_cost),
             "regret": None if s.regret is None else money(s.regret)}
            for s in result.scenarios]


def budget_value_dict(v: BudgetValue) -> dict[str, Any]:
    return {"cap": money(v.cap), "cap_option": v.flag, "measure": v.measure,
            "spend": money(v.spend), "cap_spend": money(v.cap_spend),
            "cost": money(v.cost), "binding": v.uncapped_saving > 0,
            "no_cap": {"cost": money(v.uncapped_cost), "spend": money(v.uncapped_spend),
                       "saving": money(v.uncapped_saving)},
            "raised_cap": money(v.cap + v.step), "raised_cost": money(v.raised_cost),
            "saving_per_step": money(v.step_saving), "step": money(v.step)}


def uncertainty_dict(result, budget_value: BudgetValue | None = None) -> dict[str, Any]:
    """The JSON fields `plan` adds for scenarios and budgets (bill_dict's stay as they are)."""
    return {
        "objective": result.objective,
        "expected_cost": money(result.expected_cost),
        "worst_cost": money(result.worst_cost),
        "scenarios": scenario_dicts(result),
        "budget": None if result.budget is None else money(result.budget),
        "monthly_budget": None if result.monthly_budget is None else money(result.monthly_budget),
        "yearly_budget": None if result.yearly_budget is None else money(result.yearly_budget),
        "budget_value": None if budget_value is None else budget_value_dict(budget_value),
    }


# --------------------------------------------------------------------------- what-if

def whatif_dict(examined_bill: Bill, rows, scale_count: int, break_even=None,
                status: str | None = None, gap=0, warnings=(),
                purchase_months: str = "start") -> dict[str, Any]:
    """The examined plan, each demand level's fixed and optimal costs, break-even ranges.
    `status`, `gap`: the examined plan's when packopt planned it (None: a plan given).
    `purchase_months`: how the levels' optima may buy (a start-only one can cost more than
    a plan buying later)."""
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
            "optimal_status": "optimal" if not r.gap else "feasible",
            "optimal_gap": money(r.gap),
            "optimal_purchases": purchase_list(r.best),
        })
    out: dict[str, Any] = {
        "status": "whatif",
        "tier_basis": examined_bill.tier_basis,
        "horizon": {"start": str(examined_bill.start), "months": examined_bill.months},
        "currency": examined_bill.currency,
        "plan": purchase_list(examined_bill),
        "plan_pack_cost": money(examined_bill.pack_cost),
        "plan_status": status,
        "plan_gap": None if status is None else money(gap),
        "purchase_months": purchase_months,
        "levels": levels,
        "warnings": list(warnings),
    }
    if break_even is not None:
        out["break_even"] = [{"product": b.product,
                              "low": None if b.low is None else float(b.low),
                              "high": None if b.high is None else float(b.high),
                              "optimal_at_forecast": b.optimal,
                              "complete": b.complete}
                             for b in break_even]
    return out


WHATIF_HEADER = ("level", "scale", "total_cost", "pack_cost", "postpaid_cost", "waste_calls",
                 "optimal_cost", "optimal_pack_cost", "regret", "optimal_status", "optimal_gap")
BREAK_EVEN_HEADER = ("product", "low", "high", "optimal_at_forecast", "complete")


def whatif_rows(rows, scale_count: int) -> list[tuple]:
    out = [WHATIF_HEADER]
    for i, r in enumerate(rows):
        out.append((r.label, r.label.lstrip("×") if i < scale_count else "",
                    csv_money(r.fixed.total_cost), csv_money(r.fixed.pack_cost),
                    csv_money(r.fixed.postpaid_cost), r.fixed.waste_calls,
                    csv_money(r.best.total_cost), csv_money(r.best.pack_cost),
                    csv_money(r.regret), "optimal" if not r.gap else "feasible",
                    csv_money(r.gap)))
    return out


def break_even_rows(break_even) -> list[tuple]:
    return [BREAK_EVEN_HEADER] + [(b.product, "" if b.low is None else str(b.low),
                                   "" if b.high is None else str(b.high),
                                   _flag(b.optimal), _flag(b.complete)) for b in break_even]


def _flag(value: bool | None) -> str:
    """A CSV cell for a yes, no or undecided (blank)."""
    return "" if value is None else "true" if value else "false"


# --------------------------------------------------------------------------- month series

LOW_SHARE = (15, 100)     # the seller's low-balance notice: below 15 % (docs/pricing.md, rule 9)


def product_events(pb: ProductBill) -> list[str | None]:
    """Per month, the product-level balance event, if any: "low" in the month the balance
    of all usable packs first falls below 15 % of their calls, "exhausted" in the month it
    reaches zero. (The seller's notices are per pack, `MonthBill.reminders`: one pack of a
    purchase running out while millions of calls remain is no alarm for a planner.)"""
    num, den = LOW_SHARE
    out: list[str | None] = []
    for k, mb in enumerate(pb.months):
        usable = [i for i, lot in enumerate(pb.lots) if lot.start <= k <= lot.expiry]
        held = sum(pb.lots[i].calls for i in usable)
        before = sum(pb.lots[i].calls if pb.lots[i].start == k
                     else pb.months[k - 1].lot_balances[i] for i in usable)
        after = sum(mb.lot_balances[i] for i in usable)
        if before and not after:
            out.append("exhausted")
        elif after * den < held * num <= before * den:
            out.append("low")
        else:
            out.append(None)
    return out


def month_series(pb: ProductBill) -> list[dict[str, Any]]:
    """Per month, what a chart of pack balance against demand needs (counts in calls).

    `balance` is what is left at the month's end after expiry (the convention of every
    output); `expiring` the calls lost at its end; `event` the product-level balance event
    (`product_events`); `reminders` the seller's per-pack notices.
    """
    out = []
    for i, (mb, event) in enumerate(zip(pb.months, product_events(pb))):
        bought = sum(l.calls for l in pb.purchases if l.start == i)
        out.append({"month": str(mb.month), "calls": mb.calls, "free": mb.free,
                    "pack": mb.pack, "postpaid": mb.postpaid, "bought": bought,
                    "balance": mb.balance, "expiring": mb.waste, "event": event,
                    "reminders": list(mb.reminders)})
    return out


def has_packs(pb: ProductBill) -> bool:
    """A product worth charting month by month: it buys or holds packs."""
    return bool(pb.lots)
