"""Any-month plans under the after-packs tier basis (optimizer/solve/after_packs.py).

The exact search must agree to the fen with an exhaustive search over purchase schedules,
every schedule billed by the billing engine, including the tie-break among equal costs
(less prepaid spend, then more calls bought, then fewer packs); and with the general cohort
integer program (algorithm="milp") on the seed catalog.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import (Forecast, Holding, Month, Plan, Purchase, Scenario, bill,
                       load_catalog, parse_catalog, plan)
from optimizer.domain.money import money_scale
from optimizer.solve.after_packs import after_packs_schedule

START = Month.parse("2027-01")

CATALOG = """
free_calls_per_month = {free}
validity_months = {validity}
tier_basis = "after-packs"
[[product]]
id = "p"
packs = [ {packs} ]
tiers = [ {{ up_to = {b1}, rate = "0.15" }}, {{ up_to = {b2}, rate = "0.10" }},
          {{ up_to = 9000, rate = "0.06" }}, {{ rate = "unpublished" }} ]
[[product]]
id = "q"
tiers = [ {{ up_to = 2000, rate = "0.20" }}, {{ rate = "0.12" }} ]
"""


def catalog(validity, packs, free=300, b1=1500, b2=3000):
    text = ", ".join(f'{{ calls = {s}, price = "{p}" }}' for s, p in packs)
    return parse_catalog(CATALOG.format(validity=validity, packs=text, free=free, b1=b1,
                                        b2=b2), "after.toml")


def key(cat, f, p: Plan, held=(), net=False):
    """What plan() minimises, in order: cost (`net`: less the prorata credit), prepaid
    spend, −calls bought, packs."""
    b = bill(cat, f, p, held)
    return (b.net_cost if net else b.total_cost, b.pack_cost,
            -sum(x.size * x.count for x in p.purchases), sum(x.count for x in p.purchases))


def exhaustive(cat, f, held=(), net=False):
    """The least key over every schedule of product p: in each month, up to as many packs
    of each size as the validity window's calls need (more only expires or carries over;
    under prorata one pack more, since leftover is credited, though below its price)."""
    product = cat.product("p")
    calls = f.calls("p")
    V, T = cat.validity_months, len(calls)
    per_month = []
    for m in range(T):
        window = sum(max(d - product.free_calls, 0) for d in calls[m:m + V])
        ranges = [range(-(-window // pk.calls) + 1 + net) for pk in product.packs]
        per_month.append([tuple(Purchase("p", START + m, pk.calls, k)
                                for k, pk in zip(counts, product.packs) if k)
                          for counts in itertools.product(*ranges)])
    return min(key(cat, f, Plan(tuple(b for month in combo for b in month)), held, net)
               for combo in itertools.product(*per_month))


def space(cat, calls) -> int:
    product = cat.product("p")
    V, n = cat.validity_months, 1
    for m in range(len(calls)):
        window = sum(max(d - product.free_calls, 0) for d in calls[m:m + V])
        for pk in product.packs:
            n *= -(-window // pk.calls) + 1
    return n


def check(cat, calls, held=()):
    f = Forecast(START, len(calls), (("p", tuple(calls)), ("q", tuple(calls))))
    r = plan(cat, f, purchase_months="any", holdings=held)
    assert r.status == "optimal" and r.gap == 0
    assert {s.method for s in r.solves} == {"after-packs"}          # the exact search, not the MILP
    single = Forecast(START, len(calls), (("p", tuple(calls)),))
    mine = Plan(r.plan.for_product("p"))
    assert key(cat, single, mine, held) == exhaustive(cat, single, held)
    # The reported figures are what `bill` says of the plan.
    again = bill(cat, f, r.plan, held)
    assert (again.total_cost, again.pack_cost) == (r.bill.total_cost, r.bill.pack_cost)
    return r


def packs_priced(per_call):
    """One or two pack sizes, each priced at one of `per_call` (CNY a call)."""
    return st.lists(st.tuples(st.sampled_from([500, 1000, 1500, 2000, 3000]),
                              st.sampled_from(per_call)),
                    min_size=1, max_size=2, unique_by=lambda t: t[0]).map(
        lambda ps: [(s, str(max(1, round(s * x)))) for s, x in ps])


PACKS = packs_priced([0.05, 0.08, 0.1, 0.12, 0.15, 0.2])
HELD = st.one_of(st.none(), st.tuples(st.integers(0, 3), st.integers(100, 3000)))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(validity=st.integers(1, 4), packs=PACKS, free=st.sampled_from([0, 300, 1000]),
       b1=st.sampled_from([800, 1500, 2000]), wide=st.sampled_from([500, 1500]),
       calls=st.lists(st.one_of(st.just(0), st.integers(0, 4000)), min_size=1, max_size=5),
       held=HELD)
def test_matches_exhaustive_search(validity, packs, free, b1, wide, calls, held):
    cat = catalog(validity, packs, free, b1, b1 + wide)
    if space(cat, calls) > 20_000:
        calls = calls[:2]
    holdings = ()
    if held is not None:
        # Expiring no later than packs bought in the first month: drawn before them.
        holdings = (Holding("p", START + min(held[0], validity - 1), held[1]),)
    check(cat, calls, holdings)


@pytest.mark.parametrize("calls, validity", [
    ([3400, 100, 2900], 2),            # one pack two months later beats covering now
    ([1800, 1800, 1800], 2),           # a pack bought early expires, wasted, on purpose
    ([2600, 2600, 2600, 2600], 2),     # a short first lot, then a second within validity
    ([0, 3300, 0, 0, 3200], 3),        # gaps: buy where the calls are
    ([1700, 1700, 1700, 1700, 1700], 1),
])
def test_shapes_match_exhaustive_search(calls, validity):
    check(catalog(validity, [(1000, "95"), (3000, "240")]), calls)


def test_more_capacity_can_cost_more():
    """10,500 calls: no pack keeps the month at 0.10 a call; a 2,000 pack leaves 8,500 in
    the 0.15 tier. A month's fee jumps up as packs draw it below a tier bound."""
    text = """
    free_calls_per_month = 500
    validity_months = 12
    tier_basis = "after-packs"
    [[product]]
    id = "p"
    packs = [ { calls = 2000, price = "230" } ]
    tiers = [ { up_to = 10000, rate = "0.15" }, { rate = "0.10" } ]
    """
    cat = parse_catalog(text, "jump.toml")
    f = Forecast(START, 1, (("p", (10500,)),))
    r = plan(cat, f, purchase_months="any")
    assert r.status == "optimal" and r.plan.purchases == ()
    assert r.bill.total_cost == Decimal("1000.00")
    assert key(cat, f, r.plan) == exhaustive(cat, f)


def test_seed_catalog_ties_prefer_more_calls():
    """The example of docs/pricing.md, 'Optimality', under after-packs: every month fully
    covered, so 1,000,000 × 4 (the most calls among equal costs and spends)."""
    cat = load_catalog().with_tier_basis("after-packs")
    f = Forecast(START, 12, (("general_print", (300_000,) * 12),))
    r = plan(cat, f, purchase_months="any")
    assert r.status == "optimal"
    assert [(p.size, p.count) for p in r.plan.purchases] == [(1_000_000, 4)]
    assert r.bill.total_cost == r.bill.pack_cost == Decimal("120000")


@pytest.mark.parametrize("seed", [1, 2])
def test_agrees_with_the_integer_program(seed):
    """Random seed-catalog forecasts of 12 months: the cohort integer program proves the
    same optimum, tie-break included (when it proves one within its time limit; else the
    exact plan is at least as cheap as the best it found)."""
    import random
    rng = random.Random(seed)
    cat = load_catalog().with_tier_basis("after-packs")
    level = [2000, 12000][seed - 1]
    calls = tuple(int(level * rng.uniform(0.3, 1.7)) for _ in range(12))
    f = Forecast(START, 12, (("id_card", calls),))
    exact = plan(cat, f, purchase_months="any")
    milp = plan(cat, f, purchase_months="any", algorithm="milp", time_limit=60)
    assert exact.status == "optimal" and {s.method for s in exact.solves} == {"after-packs"}
    assert {s.method for s in milp.solves} == {"milp"}
    if milp.status == "optimal":
        assert exact.bill.total_cost == milp.bill.total_cost
    # The integer program's tie-break re-solves may stop on their time limit; the exact
    # plan is never behind it on any key.
    assert key(cat, f, exact.plan) <= key(cat, f, milp.plan)


def test_late_holdings_go_to_the_integer_program():
    """A holding that outlives packs bought in the first month is drawn between purchases:
    the cohort integer program takes that product."""
    cat = catalog(2, [(1000, "95"), (3000, "240")])
    f = Forecast(START, 4, (("p", (2000, 2000, 2500, 1000)),))
    held = (Holding("p", START + 3, 1500),)
    r = plan(cat, f, purchase_months="any", holdings=held)
    assert r.status == "optimal" and {s.method for s in r.solves} == {"milp"}
    assert key(cat, f, r.plan, held) == exhaustive(cat, f, held)


def test_too_fine_a_lattice_is_declined():
    """Packs of one call against billions of calls: the method declines (None) rather
    than allocate an enormous lattice."""
    text = """
    validity_months = 12
    tier_basis = "after-packs"
    [[product]]
    id = "p"
    packs = [ { calls = 1, price = "0.01" } ]
    tiers = [ { up_to = 1000000, rate = "0.06" }, { rate = "unpublished" } ]
    """
    cat = parse_catalog(text, "fine.toml")
    calls = [999_999_937, 3_000_000_000] * 6
    resid = [d - cat.product("p").free_calls for d in calls]
    assert after_packs_schedule(cat.product("p"), calls, resid, 12, money_scale(cat)) is None


def test_products_without_useful_packs_buy_nothing():
    cat = catalog(3, [(3000, "2000")])
    r = check(cat, [2500, 0, 3000])
    assert r.plan.purchases == ()
    assert r.bill.total_cost == r.bill.postpaid_only_cost


def test_algorithm_milp_still_reaches_the_integer_program():
    cat = catalog(2, [(1000, "95"), (3000, "240")])
    f = Forecast(START, 3, (("p", (2600, 1200, 3100)),))
    exact = plan(cat, f, purchase_months="any")
    milp = plan(cat, f, purchase_months="any", algorithm="milp")
    assert {s.method for s in exact.solves} == {"after-packs"}
    assert {s.method for s in milp.solves} == {"milp"}
    assert key(cat, f, exact.plan) == key(cat, f, milp.plan) == exhaustive(cat, f)


# ----------------------------------------------------------------- prorata carry-over

def check_net(cat, calls, held=()):
    f = Forecast(START, len(calls), (("p", tuple(calls)),))
    r = plan(cat, f, purchase_months="any", holdings=held, carry_over="prorata", regret=False)
    assert r.status == "optimal" and r.gap == 0
    assert {s.method for s in r.solves} == {"after-packs"}          # the exact search, not the MILP
    assert key(cat, f, r.plan, held, net=True) == exhaustive(cat, f, held, net=True)
    again = bill(cat, f, r.plan, held)
    assert (again.total_cost, again.carry_over_value, again.net_cost) == \
        (r.bill.total_cost, r.bill.carry_over_value, r.bill.net_cost)
    return r


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(validity=st.integers(2, 4), packs=packs_priced([0.05, 0.1, 0.15, 0.2, 0.5, 1.0]),
       free=st.sampled_from([0, 300, 1000]),
       b1=st.sampled_from([800, 1500, 2000]), wide=st.sampled_from([500, 1500]),
       calls=st.lists(st.one_of(st.just(0), st.integers(0, 4000)), min_size=1, max_size=4),
       held=HELD)
def test_prorata_matches_exhaustive_search(validity, packs, free, b1, wide, calls, held):
    """The end lot priced with its credit (after_packs.py, section 6): horizons up to the
    validity and a little beyond, packs up to 1 CNY a call (dearer than buying nothing)."""
    cat = catalog(validity, packs, free, b1, b1 + wide)
    calls = calls[:2] if space(cat, calls) * 2 ** (len(packs) * len(calls)) > 40_000 else calls
    holdings = ()
    if held is not None:
        holdings = (Holding("p", START + min(held[0], validity - 1), held[1]),)
    check_net(cat, calls, holdings)


@pytest.mark.parametrize("calls, validity", [
    ([3400, 100, 2900], 2),            # the last lot bought late, credited for longer
    ([1800, 1800, 1800], 4),           # a horizon shorter than the validity
    ([2600, 2600, 2600], 2),           # lots before the last one carry nothing
    ([0, 3300, 0, 0], 3),              # the end lot bought where the calls are
])
def test_prorata_shapes_match_exhaustive_search(calls, validity):
    check_net(catalog(validity, [(1000, "95"), (3000, "240")]), calls)


def test_prorata_can_buy_a_pack_dearer_than_buying_nothing():
    """2,000 calls at 0.15 cost 300 CNY postpaid; a 100,000-call pack costs 1,000 CNY but
    11/12 of its 98,000 unused calls are credited (898.33), so its net is 101.67: bought
    under prorata, never with carry-over at zero."""
    text = """
    free_calls_per_month = 0
    validity_months = 12
    tier_basis = "after-packs"
    [[product]]
    id = "p"
    packs = [ { calls = 100000, price = "1000" } ]
    tiers = [ { rate = "0.15" } ]
    """
    cat = parse_catalog(text, "dear.toml")
    f = Forecast(START, 1, (("p", (2000,)),))
    net = plan(cat, f, purchase_months="any", carry_over="prorata", regret=False)
    assert [(p.size, p.count) for p in net.plan.purchases] == [(100_000, 1)]
    assert (net.bill.carry_over_value, net.bill.net_cost) == (Decimal("898.33"),
                                                              Decimal("101.67"))
    assert plan(cat, f, purchase_months="any").plan.purchases == ()


def test_prorata_with_packs_under_v_fen_goes_to_the_integer_program():
    """Below V fen (here 3) a pack's credit can round up to its price, so the end lot's
    balance is not bounded by one pack: the search declines; the integer program is exact."""
    cat = catalog(3, [(500, "0.02")])
    assert after_packs_schedule(cat.product("p"), [900, 1200], [600, 900], 3, 100,
                                prorata=True) is None
    f = Forecast(START, 2, (("p", (900, 1200)),))
    r = plan(cat, f, purchase_months="any", carry_over="prorata", regret=False)
    assert r.status == "optimal" and {s.method for s in r.solves} == {"milp"}
    assert key(cat, f, r.plan, net=True) == exhaustive(cat, f, net=True)


def test_prorata_on_the_seed_catalog_agrees_with_the_integer_program():
    """Random 6-month seed-catalog forecasts: the cohort integer program (algorithm="milp")
    proves the same net cost."""
    import random
    rng = random.Random(7)
    cat = load_catalog().with_tier_basis("after-packs")
    calls = tuple(int(30_000 * rng.uniform(0.3, 1.7)) for _ in range(6))
    f = Forecast(START, 6, (("id_card", calls),))
    exact = plan(cat, f, purchase_months="any", carry_over="prorata", regret=False)
    milp = plan(cat, f, purchase_months="any", carry_over="prorata", algorithm="milp",
                regret=False, time_limit=60)
    assert exact.status == "optimal" and {s.method for s in exact.solves} == {"after-packs"}
    assert milp.status == "optimal"
    assert exact.bill.net_cost == milp.bill.net_cost
    assert key(cat, f, exact.plan, net=True) <= key(cat, f, milp.plan, net=True)


@pytest.mark.parametrize("calls, validity", [
    ([3400, 100, 2900], 2), ([2600, 2600, 2600, 2600], 2), ([0, 3300, 0, 0, 3200], 3),
    ([1700, 1700, 1700, 1700, 1700], 1), ([3000, 2000, 2500], 3)])
def test_too_many_ties_give_a_least_cost_and_spend_plan_unproven(calls, validity,
                                                                 monkeypatch):
    """Past MAX_TIE_EDGES tight edges (one pack size that beats every rate: any split of
    the same packs over the months ties, and the search grew with the square of the
    ties: 407 s), the plan is one of least cost and spend, its tie-break reported
    unproven rather than claimed."""
    from optimizer.solve import after_packs
    cat = catalog(validity, [(1000, "95"), (3000, "240")])
    f = Forecast(START, len(calls), (("p", tuple(calls)),))
    proven = plan(cat, f, purchase_months="any")
    monkeypatch.setattr(after_packs, "MAX_TIE_EDGES", 0)
    r = plan(cat, f, purchase_months="any")
    assert r.status == "optimal" and {s.method for s in r.solves} == {"after-packs"}
    assert not r.tie_break_proven and proven.tie_break_proven
    assert key(cat, f, r.plan)[:2] == key(cat, f, proven.plan)[:2] == exhaustive(cat, f)[:2]
    assert bill(cat, f, r.plan).total_cost == r.bill.total_cost


def test_scenarios_that_agree_keep_their_searches_unproven_tie_break(monkeypatch):
    """Over scenarios whose own optima agree, the product's plan is one scenario's search
    result: where that search could not list its ties, the plan's tie-break is reported
    unproven, not claimed (the cost is still the proven optimum)."""
    from optimizer.solve import after_packs
    cat = catalog(2, [(1000, "95"), (3000, "240")])
    f = Forecast(START, 4, (("p", (2600, 2600, 2600, 2600)),))
    scenarios = (Scenario("a", Decimal(1), f), Scenario("b", Decimal(1), f))
    proven = plan(cat, f, purchase_months="any", scenarios=scenarios, regret=False)
    monkeypatch.setattr(after_packs, "MAX_TIE_EDGES", 0)
    r = plan(cat, f, purchase_months="any", scenarios=scenarios, regret=False)
    assert r.status == proven.status == "optimal"
    assert {s.method for s in r.solves} == {"after-packs"}
    assert proven.tie_break_proven and not r.tie_break_proven
    assert r.expected_cost == proven.expected_cost
