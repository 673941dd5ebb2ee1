"""Invariants of the billing engine on random forecasts, plans and holdings (Hypothesis)."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import bill
from optimizer.domain.records import Forecast, Holding, Plan, Purchase

from helpers import SEED, M

START = M("2027-01")
PACK_PRODUCTS = ["general_print", "id_card", "bank_card", "license_plate"]
PRODUCTS = PACK_PRODUCTS + ["vat_invoice"]
SIZES = [1000, 10000, 100000, 1000000, 10000000]
PRICE = {1000: Decimal("120"), 10000: Decimal("800"), 100000: Decimal("5000"),
         1000000: Decimal("30000"), 10000000: Decimal("200000")}

# Written from docs/pricing.md, independently of the library: free 1,000 a month, then all-units
# tiers with inclusive bounds 10,000 / 100,000 / 1,000,000, above that the last published rate.
RATES = {pid: (Decimal("0.15"), Decimal("0.10"), Decimal("0.06")) for pid in PACK_PRODUCTS}
RATES["vat_invoice"] = (Decimal("0.50"), Decimal("0.35"), Decimal("0.20"))


def tier_fee(pid: str, calls: int) -> Decimal:
    postpaid = calls - min(calls, 1000)
    low, mid, high = RATES[pid]
    rate = low if calls <= 10000 else mid if calls <= 100000 else high
    return postpaid * rate


SETTINGS = settings(max_examples=120, deadline=None)

calls_st = st.one_of(
    st.integers(0, 3_000_000),
    st.integers(0, 30_000),
    st.sampled_from([0, 999, 1000, 1001, 10000, 10001, 100000, 100001, 1000000, 1000001]),
)


@st.composite
def forecasts(draw, products=PRODUCTS):
    n = draw(st.integers(1, 30))
    pids = draw(st.lists(st.sampled_from(products), min_size=1, max_size=3, unique=True))
    demand = tuple((pid, tuple(draw(st.lists(calls_st, min_size=n, max_size=n))))
                   for pid in pids)
    return Forecast(START, n, demand, "random")


def purchases(f: Forecast, max_size=6):
    pids = [p for p in f.products() if p in PACK_PRODUCTS]
    if not pids:
        return st.just(())
    one = st.builds(lambda pid, m, size, count: Purchase(pid, START + m, size, count),
                    st.sampled_from(pids), st.integers(0, f.months - 1), st.sampled_from(SIZES),
                    st.integers(1, 3))
    return st.lists(one, max_size=max_size).map(tuple)


def holdings(f: Forecast):
    pids = [p for p in f.products() if p in PACK_PRODUCTS]
    if not pids:
        return st.just(())
    one = st.builds(lambda pid, e, calls: Holding(pid, START + e, calls),
                    st.sampled_from(pids), st.integers(-3, 40), st.integers(1, 2_000_000))
    return st.lists(one, max_size=3).map(tuple)


@st.composite
def cases(draw, basis=st.sampled_from(["total", "after-packs"])):
    f = draw(forecasts())
    return (SEED.with_tier_basis(draw(basis)), f, Plan(draw(purchases(f))),
            draw(holdings(f)))


# --------------------------------------------------------------------------- conservation

@SETTINGS
@given(cases())
def test_calls_are_conserved_each_month(case):
    cat, f, plan, held = case
    b = bill(cat, f, plan, held)
    for pid, calls in f.demand:
        months = b.product(pid).months
        assert [m.calls for m in months] == list(calls)
        for m in months:
            assert m.free == min(m.calls, 1000)
            assert m.pack >= 0 and m.postpaid >= 0
            assert m.free + m.pack + m.postpaid == m.calls


@SETTINGS
@given(cases())
def test_pack_draws_respect_lot_balances_activity_and_automatic_use(case):
    cat, f, plan, held = case
    b = bill(cat, f, plan, held)
    for pb in b.products:
        lots = pb.lots
        before = [lot.calls for lot in lots]
        for k, m in enumerate(pb.months):
            after = m.lot_balances
            active = [lot.start <= k <= lot.expiry for lot in lots]
            assert all(x >= 0 for x in after) and m.balance >= 0
            draws = [b0 - a for b0, a in zip(before, after)]
            assert all(d >= 0 for d in draws)
            # Only lots active this month are drawn, and the month's pack usage is their draw.
            assert all(d == 0 for d, act in zip(draws, active) if not act)
            assert sum(draws) == m.pack
            available = sum(b0 for b0, act in zip(before, active) if act)
            assert m.pack <= available
            # Packs are drawn automatically: postpaid only once every active lot is empty.
            if m.postpaid > 0:
                assert all(a == 0 for a, act in zip(after, active) if act)
            assert m.pack == min(m.calls - m.free, available)
            # Soonest-expiring first (then earlier bought): a lot is drawn only when every
            # active lot ahead of it in that order is empty after the draw.
            for i, d in enumerate(draws):
                if d:
                    ahead = [j for j in range(len(lots)) if active[j] and
                             (lots[j].expiry, lots[j].order) < (lots[i].expiry, lots[i].order)]
                    assert all(after[j] == 0 for j in ahead)
            # Expiry at the end of the month.
            before = [0 if lot.expiry == k else a for lot, a in zip(lots, after)]


@SETTINGS
@given(cases())
def test_pack_calls_bought_and_held_are_used_wasted_or_carried_over(case):
    cat, f, plan, held = case
    b = bill(cat, f, plan, held)
    for pb in b.products:
        bought = sum(p.size * p.count for p in plan.purchases if p.product == pb.product)
        holding = sum(h.calls_left for h in held
                      if h.product == pb.product and h.expires >= f.start)
        used = sum(m.pack for m in pb.months)
        assert bought + holding == used + pb.waste_calls + pb.carry_over_calls
        assert sum(m.waste for m in pb.months) == pb.waste_calls
        assert pb.carry_over_calls == pb.months[-1].balance
    assert b.waste_calls == sum(pb.waste_calls for pb in b.products)


# --------------------------------------------------------------------------- money

@SETTINGS
@given(forecasts(), st.sampled_from(["total", "after-packs"]))
def test_no_plan_postpaid_is_the_monthly_tier_formula(f, basis):
    b = bill(SEED.with_tier_basis(basis), f)
    expected = {pid: [tier_fee(pid, d) for d in calls] for pid, calls in f.demand}
    for pb in b.products:
        assert [m.postpaid_cost for m in pb.months] == expected[pb.product]
        assert pb.postpaid_cost == sum(expected[pb.product], Decimal(0))
        assert pb.postpaid_only_cost == pb.postpaid_cost
        assert pb.pack_cost == 0
    assert b.postpaid_cost == sum((sum(v, Decimal(0)) for v in expected.values()), Decimal(0))
    assert b.total_cost == b.postpaid_cost and b.savings == 0
    over = {pid for pid, calls in f.demand if any(d > 1_000_000 for d in calls)}
    assert {w.split(":")[0] for w in b.warnings} == over


@SETTINGS
@given(cases())
def test_totals_add_up_and_amounts_are_whole_fen(case):
    cat, f, plan, held = case
    b = bill(cat, f, plan, held)
    for pb in b.products:
        assert pb.total_cost == pb.pack_cost + pb.postpaid_cost
        assert pb.pack_cost == sum((PRICE[p.size] * p.count for p in plan.purchases
                                    if p.product == pb.product), Decimal(0))
        assert pb.postpaid_cost == sum((m.postpaid_cost for m in pb.months), Decimal(0))
        assert sum((m.pack_spend for m in pb.months), Decimal(0)) == pb.pack_cost
        for m in pb.months:
            assert m.postpaid_cost == m.postpaid * m.rate
            assert m.postpaid_cost == m.postpaid_cost.quantize(Decimal("0.01"))
    assert b.total_cost == b.pack_cost + b.postpaid_cost
    assert b.pack_cost == sum((PRICE[p.size] * p.count for p in plan.purchases), Decimal(0))
    cf = b.cashflow()
    assert len(cf) == f.months + 1
    assert sum((c.outflow for c in cf), Decimal(0)) == b.total_cost
    # 120 % of each settled bill, in whole fen (half up): never more than half a fen off.
    assert all(c.frozen == c.frozen.quantize(Decimal("0.01")) for c in cf)
    assert all(abs(c.frozen - c.postpaid * Decimal("1.2")) <= Decimal("0.005") for c in cf)


@SETTINGS
@given(st.data())
def test_total_basis_more_packs_never_raise_postpaid_cost(data):
    f = data.draw(forecasts(products=PACK_PRODUCTS))
    base = data.draw(purchases(f))
    extra = data.draw(purchases(f, max_size=3))
    held = data.draw(holdings(f))
    before = bill(SEED, f, Plan(base), held)
    after = bill(SEED, f, Plan(base + extra), held)
    assert after.postpaid_cost <= before.postpaid_cost
    for p0, p1 in zip(before.products, after.products):
        assert p1.postpaid_cost <= p0.postpaid_cost
        # Same tier each month under `total`, and no fewer calls covered by packs.
        assert all(m1.pack >= m0.pack and m1.rate == m0.rate
                   for m0, m1 in zip(p0.months, p1.months))
