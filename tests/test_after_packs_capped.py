"""Any-month plans of one product under the after-packs tier basis within a cap on each
month's prepaid spend (optimizer/solve/after_packs_capped.py).

The search must agree to the fen with an exhaustive search over the purchase schedules
that keep the caps, every schedule billed by the billing engine, including the tie-break
among equal costs (less prepaid spend, then more calls bought, then fewer packs).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from optimizer import Forecast, Plan, Purchase, bill, load_catalog, plan
from optimizer.domain.money import money_scale, to_units
from optimizer.solve.after_packs_capped import capped_after_packs_schedule
from optimizer.solve.demand import residual_demand

from test_after_packs import PACKS, START, catalog, key


def exhaustive(cat, f, caps):
    """The least key over every schedule of product p whose spend in month m is at most
    caps[m] (in each month up to as many packs of each size as the validity window's calls
    need); None when there are too many to bill."""
    product = cat.product("p")
    calls = f.calls("p")
    V = cat.validity_months
    per_month = []
    for m in range(len(calls)):
        window = sum(max(d - product.free_calls, 0) for d in calls[m:m + V])
        ranges = [range(-(-window // pk.calls) + 1) for pk in product.packs]
        per_month.append([tuple(Purchase("p", START + m, pk.calls, k)
                                for k, pk in zip(counts, product.packs) if k)
                          for counts in itertools.product(*ranges)
                          if sum(pk.price * k for k, pk in zip(counts, product.packs))
                          <= caps[m]])
    if math.prod(len(x) for x in per_month) > 40_000:
        return None
    return min(key(cat, f, Plan(tuple(b for month in combo for b in month)))
               for combo in itertools.product(*per_month))


def searched(cat, f, caps) -> Plan:
    product, scale = cat.product("p"), money_scale(cat)
    calls = f.calls("p")
    got = capped_after_packs_schedule(product, calls, residual_demand(product, calls, START),
                                      cat.validity_months, scale,
                                      [to_units(c, scale) for c in caps])
    assert got is not None
    found = Plan(tuple(Purchase("p", START + m, size, k)
                       for (m, size), k in sorted(got.counts.items()) if k))
    # The search's own figures are the bill's.
    b = bill(cat, f, found)
    assert Decimal(got.objective) / scale == b.total_cost
    assert Decimal(got.spend) / scale == b.pack_cost
    return found


def spend_by_month(found: Plan, cat) -> dict[int, Decimal]:
    out: dict[int, Decimal] = {}
    for x in found.purchases:
        price = next(pk.price for pk in cat.product("p").packs if pk.calls == x.size)
        out[x.month - START] = out.get(x.month - START, Decimal(0)) + price * x.count
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(validity=st.integers(1, 4), packs=PACKS, free=st.sampled_from([0, 300, 1000]),
       b1=st.sampled_from([800, 1500, 2000]), wide=st.sampled_from([500, 1500]),
       calls=st.lists(st.one_of(st.just(0), st.integers(500, 5000)), min_size=1,
                      max_size=5),
       caps=st.lists(st.sampled_from(["least", "least", "twice", "most", "none", "all"]),
                     min_size=5, max_size=5))
@example(validity=2, packs=[(1000, "95"), (3000, "240")], free=300, b1=1500, wide=1500,
         calls=[4200, 4100, 3900, 200], caps=["least", "least", "twice", "twice", "none"])
def test_matches_exhaustive_search_under_monthly_caps(validity, packs, free, b1, wide, calls,
                                                      caps):
    cat = catalog(validity, packs, free, b1, b1 + wide)
    prices = sorted(pk.price for pk in cat.product("p").packs)
    named = {"least": prices[0], "twice": 2 * prices[0], "most": prices[-1],
             "none": Decimal(0), "all": Decimal(10 ** 6)}
    room = [named[c] for c in caps[:len(calls)]]
    f = Forecast(START, len(calls), (("p", tuple(calls)),))
    want = exhaustive(cat, f, room)
    if want is None:
        return
    found = searched(cat, f, room)
    assert key(cat, f, found) == want
    assert all(s <= room[m] for m, s in spend_by_month(found, cat).items())


def test_buying_ahead_beats_waiting_under_a_cap():
    """One 3,000-call pack a month at most: month 1's 5,000 calls are best covered by a
    pack bought in month 0, which has no calls (valid 2 months), and one in month 1.
    Without the cap both are bought in month 1."""
    cat = catalog(2, [(3000, "90")], free=0, b1=1500, b2=3000)
    f = Forecast(START, 2, (("p", (0, 5000)),))
    caps = [Decimal(90), Decimal(90)]
    found = searched(cat, f, caps)
    assert key(cat, f, found) == exhaustive(cat, f, caps)
    assert sorted((x.month - START, x.size, x.count) for x in found.purchases) == \
        [(0, 3000, 1), (1, 3000, 1)]


def test_plan_takes_the_search_for_one_product_under_a_monthly_budget():
    """plan() with a monthly budget: the exact search (not an integer program), proven with
    its tie-break, and `bill` reproduces it."""
    cat = catalog(2, [(1000, "40"), (3000, "90")])
    f = Forecast(START, 4, (("p", (4200, 4100, 3900, 200)),))
    r = plan(cat, f, purchase_months="any", monthly_budget=Decimal(130))
    assert r.status == "optimal" and r.tie_break_proven
    assert [s.method for s in r.solves] == ["after-packs"]
    want = exhaustive(cat, f, [Decimal(130)] * 4)
    assert key(cat, f, r.plan) == want
    # The cap binds: without it the plan costs less.
    assert plan(cat, f, purchase_months="any").bill.total_cost < want[0]
    assert bill(cat, f, r.plan).total_cost == r.bill.total_cost


def test_a_24_month_seed_product_under_a_binding_monthly_budget_is_proven():
    """general_print, 150,000 calls a month rising by 6,000, at most 15,000 CNY a month:
    the cap keeps the 1,000,000 pack out, three 100,000 packs a month at most. The integer
    program had not proven its best plan in 300 s; the search proves it."""
    cat = replace(load_catalog(), tier_basis="after-packs")
    calls = tuple(150_000 + 6000 * m for m in range(24))
    f = Forecast(START, 24, (("general_print", calls),))
    r = plan(cat, f, purchase_months="any", monthly_budget=Decimal(15000))
    assert r.status == "optimal" and r.tie_break_proven
    assert [s.method for s in r.solves] == ["after-packs"]
    prices = {pk.calls: pk.price for pk in cat.product("general_print").packs}
    spent: dict = {}
    for x in r.plan.purchases:
        spent[x.month] = spent.get(x.month, 0) + prices[x.size] * x.count
    assert max(spent.values()) <= 15000
    # No plan within the cap costs less under the total basis (a relaxation here: the
    # rates fall with the volume), and the search's cost is at least that bound.
    total = plan(replace(cat, tier_basis="total"), f, purchase_months="any",
                 monthly_budget=Decimal(15000))
    assert total.status == "optimal" and r.bill.total_cost >= total.bill.total_cost
    assert bill(cat, f, r.plan).total_cost == r.bill.total_cost


def test_prorata_and_yearly_budgets_still_reach_the_integer_program():
    cat = catalog(2, [(1000, "40"), (3000, "90")])
    f = Forecast(START, 4, (("p", (4200, 4100, 3900, 200)),))
    want = exhaustive(cat, f, [Decimal(130)] * 4)
    r = plan(cat, f, purchase_months="any", monthly_budget=Decimal(130),
             carry_over="prorata")
    assert r.status == "optimal" and [s.method for s in r.solves] == ["milp"]
    r = plan(cat, f, purchase_months="any", monthly_budget=Decimal(130),
             algorithm="milp")
    assert r.status == "optimal" and [s.method for s in r.solves] == ["milp"]
    assert key(cat, f, r.plan) == want
    r = plan(cat, f, purchase_months="any", yearly_budget=Decimal(300))
    assert r.status == "optimal" and [s.method for s in r.solves] == ["milp"]


def test_scenario_models_under_a_monthly_cap_take_each_scenario_s_capped_optimum(
        monkeypatch):
    """With scenarios the product's integer program bounds its cost under each scenario by
    that scenario's own optimum; under a monthly cap, its optimum within the cap (higher
    where the cap binds): each bound holds for the plan found, which is the optimum of
    every shared schedule within the cap."""
    from optimizer import Scenario
    from optimizer.solve import after_packs_capped
    seen = []
    original = after_packs_capped.capped_after_packs_schedule

    def spy(*args, **kwargs):
        got = original(*args, **kwargs)
        seen.append(got)
        return got
    monkeypatch.setattr(after_packs_capped, "capped_after_packs_schedule", spy)
    cat = catalog(2, [(1000, "40"), (3000, "90")])
    base = Forecast(START, 3, (("p", (4200, 4100, 200)),))
    high = Forecast(START, 3, (("p", (5200, 4600, 300)),))
    scenarios = (Scenario("base", Decimal(1), base), Scenario("high", Decimal(1), high))
    cap = Decimal(130)
    r = plan(cat, base, purchase_months="any", scenarios=scenarios, monthly_budget=cap,
             regret=False)
    assert r.status == "optimal" and r.tie_break_proven
    floors = [s.objective for s in seen if s is not None]
    assert len(floors) >= 2
    scale = money_scale(cat)
    costs = [bill(cat, f, r.plan).total_cost for f in (base, high)]
    uncapped = [plan(cat, f, purchase_months="any").bill.total_cost for f in (base, high)]
    capped = [Decimal(x) / scale for x in floors[:2]]
    assert all(c >= fl for c, fl in zip(costs, capped))
    assert any(fl > u for fl, u in zip(capped, uncapped))      # the cap binds: stronger
    # The optimum over every shared schedule within the cap.
    options = [[tuple(Purchase("p", START + m, pk.calls, k)
                      for k, pk in zip(counts, cat.product("p").packs) if k)
                for counts in itertools.product(range(6), range(4))
                if 40 * counts[0] + 90 * counts[1] <= cap] for m in range(3)]
    best = min(sum(bill(cat, f, Plan(tuple(b for month in combo for b in month))).total_cost
                   for f in (base, high)) for combo in itertools.product(*options))
    assert sum(costs) == best


def test_scenarios_that_agree_need_no_integer_program():
    """Scenarios whose own optima coincide (here the same demand under two weights, with
    and without a monthly cap): that schedule reaches the sum of their optima, a lower
    bound, so it is the plan, with its tie-break, and no integer program runs."""
    from optimizer import Scenario
    cat = catalog(2, [(1000, "40"), (3000, "90")])
    f = Forecast(START, 4, (("p", (4200, 4100, 3900, 200)),))
    g = Forecast(START, 4, (("p", (4200, 4100, 3900, 200)),))
    scenarios = (Scenario("a", Decimal(1), f), Scenario("b", Decimal(3), g))
    for cap in (None, Decimal(130)):
        alone = plan(cat, f, purchase_months="any", monthly_budget=cap)
        both = plan(cat, f, purchase_months="any", scenarios=scenarios, monthly_budget=cap,
                    regret=False)
        assert both.status == "optimal" and both.tie_break_proven
        assert [s.method for s in both.solves] == ["after-packs"]
        assert key(cat, f, both.plan) == key(cat, f, alone.plan)
        assert both.expected_cost == alone.bill.total_cost
