"""The billing engine: replays purchases against a forecast month by month.

This is the one place where the pricing rules live: rules 1-10 of docs/pricing.md, read
as its 'Readings' say. The optimizer's answers are re-billed here before anyone sees
them, so this module is the truth. Money is exact `Decimal` in the catalog's currency
(rule 8); nothing here uses floats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property, lru_cache
from operator import mul

from .domain.catalog import Catalog, Product
from .domain.months import LAST_MONTH, Month
from .domain.records import Forecast, Holding, Plan
from .exceptions import InputError

ZERO = Decimal(0)
FROZEN_SHARE = Decimal("1.2")        # docs/pricing.md, rule 10: 120 % of a bill is frozen
LOW_BALANCE = (15, 100)              # docs/pricing.md, rule 9: reminder below 15 % of a lot


@dataclass(frozen=True)
class Lot:
    """Pack balance drawn as one unit: a purchase row (month, size, count) or a holding
    (docs/pricing.md, 'Readings': draw order)."""

    label: str
    start: int            # first usable month index (holdings: 0)
    expiry: int           # last usable month index
    calls: int
    size: int | None      # pack size, None for holdings
    count: int
    cost: Decimal
    order: int            # tie-break after expiry: earlier bought first


@dataclass(frozen=True, slots=True)     # a big bill has 120,000 of them: 144 bytes each
class MonthBill:
    month: Month
    calls: int
    free: int
    pack: int             # calls drawn from packs
    postpaid: int
    tier_volume: int
    rate: Decimal         # rate applied to this month's postpaid calls
    rate_published: bool
    postpaid_cost: Decimal
    pack_spend: Decimal   # packs bought at the start of this month
    balance: int          # pack balance left at the end of the month, after expiry
    waste: int            # calls that expired unused at the end of this month
    lot_balances: tuple[int, ...]   # per lot, after this month's draw
    reminders: tuple[str, ...]


@dataclass(frozen=True)
class ProductBill:
    product: str
    name: str
    lots: tuple[Lot, ...]
    months: tuple[MonthBill, ...]
    pack_cost: Decimal
    postpaid_cost: Decimal
    postpaid_only_cost: Decimal
    waste_calls: int
    carry_over_calls: int
    unpublished_months: tuple[Month, ...]
    # Carry-over at its purchase price times the unexpired share of its validity (a
    # holding, bought before, is valued at zero); see carry_over_credit. Costs never
    # include it; `--carry-over-value prorata` makes the optimiser minimise cost less it.
    carry_over_value: Decimal = ZERO
    # Months where pure postpaid (the comparison) would reach the unpublished top tier.
    postpaid_only_unpublished: tuple[Month, ...] = ()

    @property
    def total_cost(self) -> Decimal:
        return self.pack_cost + self.postpaid_cost

    @property
    def savings(self) -> Decimal:
        return self.postpaid_only_cost - self.total_cost

    @property
    def net_cost(self) -> Decimal:
        """Cost less the prorata value of the carry-over (what `prorata` minimises)."""
        return self.total_cost - self.carry_over_value

    @property
    def purchases(self) -> tuple[Lot, ...]:
        return tuple(l for l in self.lots if l.size is not None)


@dataclass(frozen=True)
class CashflowMonth:
    month: Month
    packs: Decimal          # packs paid this month
    postpaid: Decimal       # last month's postpaid bill, settled this month
    frozen: Decimal         # 120 % of that bill, frozen until the next settlement

    @property
    def outflow(self) -> Decimal:
        return self.packs + self.postpaid


@dataclass(frozen=True)
class Bill:
    tier_basis: str
    currency: str
    start: Month
    months: int
    products: tuple[ProductBill, ...]
    warnings: tuple[str, ...]

    @property
    def end(self) -> Month:
        """The horizon's last month."""
        return self.start + (self.months - 1)

    @property
    def pack_cost(self) -> Decimal:
        return sum((p.pack_cost for p in self.products), ZERO)

    @property
    def postpaid_cost(self) -> Decimal:
        return sum((p.postpaid_cost for p in self.products), ZERO)

    @property
    def total_cost(self) -> Decimal:
        return self.pack_cost + self.postpaid_cost

    @property
    def postpaid_only_cost(self) -> Decimal:
        return sum((p.postpaid_only_cost for p in self.products), ZERO)

    @property
    def savings(self) -> Decimal:
        return self.postpaid_only_cost - self.total_cost

    @property
    def waste_calls(self) -> int:
        return sum(p.waste_calls for p in self.products)

    @property
    def carry_over_calls(self) -> int:
        return sum(p.carry_over_calls for p in self.products)

    @property
    def carry_over_value(self) -> Decimal:
        return sum((p.carry_over_value for p in self.products), ZERO)

    @property
    def net_cost(self) -> Decimal:
        return self.total_cost - self.carry_over_value

    @cached_property
    def _by_id(self) -> dict[str, ProductBill]:
        out: dict[str, ProductBill] = {}
        for p in self.products:
            out.setdefault(p.product, p)
        return out

    def product(self, pid: str) -> ProductBill:
        return self._by_id[pid]

    def cashflow(self) -> tuple[CashflowMonth, ...]:
        """Packs paid when bought, postpaid settled the month after use, 120 % frozen
        (docs/pricing.md, rule 10); one month longer than the horizon, unless that month
        would be past 9999-12 (`settled_after_last` then has its postpaid)."""
        out = []
        for k in range(self.months + (self.end < LAST_MONTH)):
            packs = sum((p.months[k].pack_spend for p in self.products if k < self.months), ZERO)
            settled = sum((p.months[k - 1].postpaid_cost for p in self.products if k > 0), ZERO)
            out.append(CashflowMonth(self.start + k, packs, settled, frozen(settled)))
        return tuple(out)

    @property
    def settled_after_last(self) -> Decimal | None:
        """The horizon's last postpaid when it is settled after 9999-12, a month no output
        writes, so `cashflow()` leaves its row out; None when that row is listed."""
        if self.end < LAST_MONTH:
            return None
        return sum((p.months[-1].postpaid_cost for p in self.products), ZERO)


# --------------------------------------------------------------------------- the rules

def month_fee(product: Product, calls: int, pack_used: int, basis: str
              ) -> tuple[int, int, Decimal, bool, Decimal]:
    """One month of one product: (postpaid calls, tier volume, rate, published?, fee).

    `pack_used` must already respect the free quota and the balance; this applies
    docs/pricing.md, rules 3-6 and 8.
    """
    free = min(calls, product.free_calls)
    postpaid = calls - free - pack_used
    volume = calls if basis == "total" else calls - pack_used
    rate, published = product.rate(volume)
    return postpaid, volume, rate, published, postpaid * rate


def make_lots(product: Product, pid_purchases, holdings, start: Month, validity: int
              ) -> list[Lot]:
    """Lots of one product: holdings first (bought earlier), then purchases by month and
    size, each usable for `validity` months from its purchase month (docs/pricing.md,
    rule 7; the order is the draw order's tie-break, see 'Readings')."""
    lots: list[Lot] = []
    for h in sorted(holdings, key=lambda h: h.expires):
        lots.append(Lot(f"held until {h.expires}", 0, h.expires - start, h.calls_left,
                        None, 1, ZERO, len(lots)))
    merged: dict[tuple[int, int], int] = {}
    for p in pid_purchases:
        key = (p.month - start, p.size)
        merged[key] = merged.get(key, 0) + p.count
    for (m, size), count in sorted(merged.items()):
        pack = product.pack(size)
        if pack is None:
            raise InputError(f"{product.id} has no pack of {size} calls", field="size")
        lots.append(Lot(f"{start + m} {size}×{count}", m, m + validity - 1, size * count,
                        size, count, pack.price * count, len(lots)))
    return lots


# Long (86 lines): the month-by-month replay of the rules is read against docs/pricing.md
# in one piece; the pure-postpaid path (_postpaid_bill) is already apart.
def bill_product(product: Product, calls: tuple[int, ...], start: Month, lots: list[Lot],
                 basis: str, with_postpaid_only: bool = True, *,
                 straight: bool = False) -> ProductBill:
    """Replay one product's months: free quota, then packs soonest-expiring first, then
    postpaid (docs/pricing.md, rules 1-3), with reminders, waste and carry-over (rules 7, 9).

    Without lots, `_postpaid_bill` gives the same bill faster; `straight` runs this loop
    anyway (the tests compare the two)."""
    if not lots and not straight:
        return _postpaid_bill(product, calls, start, with_postpaid_only)
    n = len(calls)
    balance = [lot.calls for lot in lots]
    draw_order = sorted(range(len(lots)), key=lambda i: (lots[i].expiry, lots[i].order))
    months: list[MonthBill] = []
    pack_cost = sum((l.cost for l in lots), ZERO)
    postpaid_cost = ZERO
    waste_total = 0
    unpublished = []
    month_of = _months(start, n)
    free_calls = product.free_calls
    lo_num, lo_den = LOW_BALANCE
    # What is bought each month, and when each lot expires (looked up, not re-scanned).
    spend_in = {}
    for l in lots:
        if l.size is not None:
            spend_in.setdefault(l.start, []).append(l.cost)
    expiring: dict[int, list[int]] = {}
    for i, lot in enumerate(lots):
        expiring.setdefault(lot.expiry, []).append(i)
    no_reminders = ()
    for m in range(n):
        d = calls[m]
        free = d if d < free_calls else free_calls
        need = d - free
        used = 0
        reminders = no_reminders
        for i in draw_order:
            if need == used:
                break
            lot = lots[i]
            if not (lot.start <= m <= lot.expiry) or balance[i] == 0:
                continue
            before = balance[i]
            take = min(before, need - used)
            balance[i] = left = before - take
            used += take
            if left == 0:
                reminders = reminders + (f"exhausted: {lot.label}",)
            elif left * lo_den < lot.calls * lo_num <= before * lo_den:
                reminders = reminders + (f"below 15%: {lot.label}",)
        postpaid, volume, rate, published, fee = month_fee(product, d, used, basis)
        if postpaid and not published:
            unpublished.append(month_of[m])
        postpaid_cost += fee
        lot_balances = tuple(balance)
        waste = 0
        for i in expiring.get(m, ()):
            if balance[i] > 0:
                waste += balance[i]
                balance[i] = 0
        waste_total += waste
        spend = sum(spend_in[m], ZERO) if m in spend_in else ZERO
        live = sum(b for i, b in enumerate(balance) if lots[i].start <= m < lots[i].expiry) \
            if lots else 0
        months.append(_month_bill(month_of[m], d, free, used, postpaid, volume,
                                  rate, published, fee, spend, live, waste, lot_balances,
                                  reminders))
    carry = sum(b for i, b in enumerate(balance) if lots[i].expiry >= n)
    carry_value = sum((carry_over_credit(lots[i], b, n) for i, b in enumerate(balance)
                       if lots[i].expiry >= n and b and lots[i].size is not None), ZERO)
    only, only_unpublished = ZERO, ()
    if with_postpaid_only:
        held = [l for l in lots if l.size is None]
        if not lots:
            # Nothing held or bought: the bill above is the pure-postpaid one.
            only, only_unpublished = postpaid_cost, tuple(unpublished)
        elif held:
            alone = bill_product(product, calls, start, held, basis, False)
            only, only_unpublished = alone.postpaid_cost, alone.unpublished_months
        else:
            only = postpaid_only_cost(product, calls, basis)
            only_unpublished = tuple(start + m for m, d in enumerate(calls)
                                     if d > product.free_calls and not product.rate(d)[1])
    return ProductBill(product.id, product.name, tuple(lots), tuple(months), pack_cost,
                       postpaid_cost, only, waste_total, carry, tuple(unpublished), carry_value,
                       only_unpublished)


def _postpaid_bill(product: Product, calls: tuple[int, ...], start: Month,
                   with_postpaid_only: bool = True) -> ProductBill:
    """`bill_product` with no lots (nothing bought or held; most products of a big bill):
    the loop above less what lots add. Every month is free quota then postpaid at the tier
    its calls reach, whatever the tier basis (with no pack calls both volumes are the
    month's calls; rules 3-6); no reminders, waste or balance. The months are kept as
    columns (`PostpaidBill`), made `MonthBill` records only when asked. The two must agree
    month for month (tests/test_billing_fast.py)."""
    free_calls = product.free_calls
    found = product.rates(calls)
    rates = [r for r, _ in found]
    published = [p for _, p in found]
    postpaid = [d - free_calls if d > free_calls else 0 for d in calls]
    fees = list(map(mul, postpaid, rates))
    postpaid_cost = sum(fees, ZERO)
    unpublished = tuple(month for month, p, pub in zip(_months(start, len(calls)), postpaid,
                                                      published) if p and not pub)
    pb = _new(PostpaidBill)
    pb.__dict__.update(
        product=product.id, name=product.name, lots=(), pack_cost=ZERO,
        postpaid_cost=postpaid_cost,
        postpaid_only_cost=postpaid_cost if with_postpaid_only else ZERO, waste_calls=0,
        carry_over_calls=0, unpublished_months=unpublished, carry_over_value=ZERO,
        postpaid_only_unpublished=unpublished if with_postpaid_only else (),
        columns=PostpaidMonths(start, tuple(calls), free_calls, postpaid, rates, published,
                               fees))
    return pb


@dataclass(frozen=True, slots=True)
class PostpaidMonths:
    """The months of a product with nothing bought or held, as columns (one entry per
    month): what `MonthBill` records would hold, less the fields that are always zero."""

    start: Month
    calls: tuple[int, ...]
    free_calls: int         # the product's free quota: a month's free calls are min(calls, it)
    postpaid: list[int]
    rates: list[Decimal]
    published: list[bool]
    fees: list[Decimal]     # postpaid × rate, each month's postpaid cost

    def records(self) -> tuple[MonthBill, ...]:
        months = []
        append = months.append
        free_calls = self.free_calls
        # MonthBill(month, calls, free, pack, postpaid, tier_volume, rate, rate_published,
        # postpaid_cost, pack_spend, balance, waste, lot_balances, reminders), slot by slot.
        (s_month, s_calls, s_free, s_pack, s_postpaid, s_volume, s_rate, s_published,
         s_cost, s_spend, s_balance, s_waste, s_lots, s_reminders) = _MONTH_SLOTS
        for month, d, postpaid, r, published, fee in zip(
                _months(self.start, len(self.calls)), self.calls, self.postpaid, self.rates,
                self.published, self.fees):
            mb = _new(MonthBill)
            s_month(mb, month)
            s_calls(mb, d)
            s_free(mb, d if d < free_calls else free_calls)
            s_pack(mb, 0)
            s_postpaid(mb, postpaid)
            s_volume(mb, d)
            s_rate(mb, r)
            s_published(mb, published)
            s_cost(mb, fee)
            s_spend(mb, ZERO)
            s_balance(mb, 0)
            s_waste(mb, 0)
            s_lots(mb, ())
            s_reminders(mb, ())
            append(mb)
        return tuple(months)


class PostpaidBill(ProductBill):
    """A `ProductBill` of a product with nothing bought or held (`_postpaid_bill`): its
    months are kept as `columns` and become the `months` records on first use (a bill of
    5,000 products × 24 months written as JSON never needs its 120,000 records). Equal to
    the `ProductBill` with the same fields."""

    @property
    def months(self) -> tuple[MonthBill, ...]:
        d = self.__dict__
        records = d.get("_records")
        if records is None:
            records = d["_records"] = d["columns"].records()
        return records

    def __eq__(self, other):
        if not isinstance(other, ProductBill):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(ProductBill))

    __hash__ = ProductBill.__hash__


_MONTH_SLOTS = tuple(MonthBill.__dict__[f.name].__set__ for f in fields(MonthBill))
_new = object.__new__


def _month_bill(*values) -> MonthBill:
    """MonthBill(*values), each slot set directly rather than through the frozen
    dataclass's __init__ (a bill makes one per product and month)."""
    mb = _new(MonthBill)
    for set_slot, value in zip(_MONTH_SLOTS, values):
        set_slot(mb, value)
    return mb


@lru_cache(maxsize=64)
def _months(start: Month, n: int) -> tuple[Month, ...]:
    """The horizon's months, built once per horizon (bills of many products share them)."""
    return tuple(start + m for m in range(n))


def frozen(settled: Decimal) -> Decimal:
    """The amount frozen after a settlement: 120 % of the bill, rounded half up to the fen
    (money frozen on an account is whole fen; docs/pricing.md, rule 10)."""
    return (settled * FROZEN_SHARE).quantize(Decimal("0.01"), ROUND_HALF_UP)


def carry_over_credit(lot: Lot, left: int, months: int) -> Decimal:
    """Prorata value of `left` calls of a purchase lot still valid after the horizon's
    `months`: its price per call times the unexpired share of its validity, rounded half up
    to the fen per lot (docs/pricing.md, rule 7 and 'Readings': rounding)."""
    from fractions import Fraction  # prorata only: kept off the import path
    share = Fraction(lot.expiry - (months - 1), lot.expiry - lot.start + 1)
    fen = Fraction(left) * Fraction(lot.cost) / lot.calls * share * 100
    return Decimal(math.floor(fen + Fraction(1, 2))) / 100


def postpaid_only_cost(product: Product, calls, basis: str = "total") -> Decimal:
    """Cost of a forecast with no packs at all: the sum of the monthly tier formulas
    (docs/pricing.md, rules 1 and 3-6)."""
    return sum((month_fee(product, d, 0, basis)[4] for d in calls), ZERO)


def bill(catalog: Catalog, forecast: Forecast, plan: Plan | None = None,
         holdings: tuple[Holding, ...] = ()) -> Bill:
    """Bill a purchase plan (and packs already held) against a forecast, exactly.

    Warns of volume priced at an unpublished rate (docs/pricing.md, rule 6), in the plan's
    own postpaid or only in the pure-postpaid comparison its saving is measured against, and of
    holdings that expired before the horizon or name no forecast product.
    """
    plan = plan or Plan(())
    check_plan_against(plan, forecast)
    validity = catalog.validity_months
    products = []
    warnings = []
    held_by: dict[str, list[Holding]] = {}
    for h in holdings:
        held_by.setdefault(h.product, []).append(h)
    for pid, calls in forecast.demand:
        product = catalog.product(pid)
        held = held_by.get(pid, [])
        warnings += [_expired_note(h) for h in held if h.expires < forecast.start]
        held = [h for h in held if h.expires >= forecast.start]
        lots = make_lots(product, plan.for_product(pid), held, forecast.start, validity)
        pb = bill_product(product, calls, forecast.start, lots, catalog.tier_basis)
        if pb.unpublished_months:
            warnings.append(unpublished_note(product, pb.unpublished_months))
        if pb.postpaid_only_unpublished is pb.unpublished_months:   # (no packs: the same)
            assumed = ()
        else:
            billed_unpublished = set(pb.unpublished_months)
            assumed = [m for m in pb.postpaid_only_unpublished if m not in billed_unpublished]
        if assumed:
            rate = product.rate(10 ** 18)[0]
            months = ", ".join(str(m) for m in assumed)
            warnings.append(f"{pid}: the pure-postpaid comparison has volume above the top "
                            f"published tier in {months}, priced at the last published rate "
                            f"{rate} (unpublished rate: contact sales); the saving rests on it")
        products.append(pb)
    known = set(forecast.products())
    warnings += [_stray_note(h) for h in holdings if h.product not in known]
    return Bill(catalog.tier_basis, catalog.currency, forecast.start, forecast.months,
                tuple(products), tuple(warnings))


def _expired_note(h: Holding) -> str:
    return f"{h.product}: holding that expired in {h.expires} (before the horizon) is ignored"


def _stray_note(h: Holding) -> str:
    return f"{h.product}: holding ignored, the product is not in the forecast"


def holding_notes(forecast: Forecast, holdings: tuple[Holding, ...]) -> tuple[str, ...]:
    """The holdings `bill` ignores, as its warnings say them: expired before the horizon,
    or of no product in the forecast."""
    known = set(forecast.products())
    return tuple(_expired_note(h) if h.product in known else _stray_note(h)
                 for h in holdings if h.product not in known or h.expires < forecast.start)


def unpublished_note(product: Product, months, context: str = "") -> str:
    """The warning for postpaid volume priced at the assumed rate (rule 6), in `months`;
    `context` says whose demand or plan when not the forecast's ("under scenario 'high', ")."""
    rate = product.rate(10 ** 18)[0]
    return (f"{product.id}: {context}postpaid volume above the top published tier in "
            f"{', '.join(str(m) for m in months)}; priced at the last published rate {rate} "
            f"(unpublished rate: contact sales)")


def _rate_notes(catalog: Catalog, b: Bill, context: str, beside: Bill | None = None):
    """`unpublished_note` for each product of `b` with postpaid at the assumed rate, but
    where `beside` (a bill already warned of) has the same months."""
    told = {pb.product: pb.unpublished_months for pb in beside.products} if beside else {}
    return [unpublished_note(catalog.product(pb.product), pb.unpublished_months, context)
            for pb in b.products
            if pb.unpublished_months and pb.unpublished_months != told.get(pb.product)]


def scenario_notes(catalog: Catalog, base: Bill, scenarios) -> tuple[str, ...]:
    """What a plan's scenario figures (each scenario's cost, the expected and worst cost,
    the regrets) rest on beyond its bill on the forecast: postpaid priced at the assumed
    rate under a scenario's demand where the forecast's does not reach it in those months.
    `scenarios`: (name, that scenario's bill of the plan)."""
    return tuple(note for name, b in scenarios
                 for note in _rate_notes(catalog, b, f"under scenario '{name}', ", base))


def level_notes(catalog: Catalog, levels) -> tuple[str, ...]:
    """What `whatif`'s figures rest on: postpaid priced at the assumed rate under a demand
    level, in the examined plan's bill or in the optimal plan's. `levels`: (label, the
    examined plan's bill, the optimal plan's bill) per level."""
    return tuple(note for label, fixed, best in levels
                 for note in _rate_notes(catalog, fixed, f"under {label}, ")
                 + _rate_notes(catalog, best, f"the optimal plan under {label}: ", fixed))


def check_plan_against(plan: Plan, forecast: Forecast, *, history: bool = False) -> None:
    """Purchases must fall inside the forecast's horizon and name forecast products
    (docs/pricing.md, 'Readings': horizon). `history`: `forecast` is a usage history
    (`backtest`), and the messages say so."""
    problems = plan_problems(plan, forecast, history=history)
    if problems:
        raise InputError.collected(problems)


def plan_problems(plan: Plan, forecast: Forecast, *, history: bool = False
                  ) -> list[InputError]:
    """Every purchase outside the forecast's horizon or products (`check_plan_against`), for
    a reader to report with the file's own problems."""
    end = forecast.end
    known = set(forecast.products())
    span, kind = ("history", "history") if history else ("forecast horizon", "forecast")
    problems = []                   # every purchase's, in one message
    for p in plan.purchases:
        if not (forecast.start <= p.month <= end):
            problems.append(InputError(f"purchase month {p.month} is outside the {span} "
                                       f"{forecast.start}..{end}", source=plan.source,
                                       line=p.line, field="month"))
        elif p.product not in known:
            problems.append(InputError(f"{p.product} is not in the {kind} {forecast.source}",
                                       source=plan.source, line=p.line, field="product"))
    return problems
