"""plan() against exhaustive search: on small instances every purchase plan is billed
by the billing engine and the cheapest must match plan() to the fen."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.analysis.compare import rule_of_thumb
from optimizer.billing import bill
from optimizer.domain.months import Month
from optimizer.domain.records import Forecast, Holding, Plan, Purchase
from optimizer.io.catalog import load_catalog, parse_catalog
from optimizer.solve.planner import plan

START = Month.parse("2027-01")

SMALL_CATALOG = """
currency = "CNY"
free_calls_per_month = 500
validity_months = {validity}
tier_basis = "{basis}"

[[product]]
id = "p"
name = "small"
packs = [ {{ calls = 2000, price = "230" }}, {{ calls = 5000, price = "480" }},
          {{ calls = 12000, price = "1000" }} ]
tiers = [ {{ up_to = 2500, rate = "0.15" }}, {{ up_to = 6000, rate = "0.09" }},
          {{ up_to = 9000, rate = "0.07" }}, {{ rate = "unpublished" }} ]
"""


def small_catalog(validity: int, basis: str):
    return parse_catalog(SMALL_CATALOG.format(validity=validity, basis=basis), "small.toml")


def forecast_of(calls_by_product: dict[str, list[int]]) -> Forecast:
    months = len(next(iter(calls_by_product.values())))
    return Forecast(START, months, tuple((p, tuple(c)) for p, c in calls_by_product.items()))


def exhaustive(catalog, forecast, holdings=()):
    """(total cost, prepaid spend) of the best start-mode plan, by enumerating pack counts.

    No count of a size needs to exceed ceil(need / size): one pack fewer would still cover
    the need, drawing the same calls for less. Mixes are grouped by capacity (start-mode
    packs share one expiry, so billing depends on capacity only) and the cheapest mix of
    each capacity is billed by the billing engine.
    """
    best = {}
    window = min(catalog.validity_months, forecast.months)
    for pid, calls in forecast.demand:
        product = catalog.product(pid)
        need = sum(max(d - product.free_calls, 0) for d in calls[:window])
        ranges = [range(-(-need // p.calls) + 1) for p in product.packs]
        cheapest = {}
        for counts in itertools.product(*ranges):
            capacity = sum(k * p.calls for k, p in zip(counts, product.packs))
            price = sum(k * p.price for k, p in zip(counts, product.packs))
            if capacity not in cheapest or price < cheapest[capacity][0]:
                cheapest[capacity] = (price, counts)
        options = []
        single = Forecast(START, forecast.months, ((pid, calls),))
        mine = tuple(h for h in holdings if h.product == pid)
        for _, counts in cheapest.values():
            purchases = tuple(Purchase(pid, START, p.calls, k)
                              for k, p in zip(counts, product.packs) if k)
            pb = bill(catalog, single, Plan(purchases), mine).products[0]
            options.append((pb.total_cost, pb.pack_cost))
        best[pid] = min(options) if options else None
    return best


def check_against_exhaustive(catalog, forecast, solver="highs", holdings=()):
    result = plan(catalog, forecast, solver=solver, holdings=holdings)
    assert result.status == "optimal"
    assert result.gap == 0
    truth = exhaustive(catalog, forecast, holdings)
    for pb in result.bill.products:
        if truth[pb.product] is not None:
            assert (pb.total_cost, pb.pack_cost) == truth[pb.product], pb.product
    # The reported cost is the billed cost of the plan it reports.
    again = bill(catalog, forecast, result.plan, holdings)
    assert again.total_cost == result.bill.total_cost
    assert result.bill.total_cost <= result.bill.postpaid_only_cost
    thumb = bill(catalog, forecast, rule_of_thumb(catalog, forecast, holdings), holdings)
    assert result.bill.total_cost <= thumb.total_cost
    return result


SHAPES = {
    "flat": [3000] * 6,
    "seasonal": [1200, 2500, 6000, 9500, 4000, 1500],
    "reverse-seasonal": [9000, 6000, 1000, 700, 4000, 9800],
    "spike": [600, 600, 15000, 600, 600, 600],
    "zero": [0, 0, 0, 0, 0, 0],
}


@pytest.mark.parametrize("basis", ["total", "after-packs"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("validity", [3, 12])
def test_small_catalog_matches_exhaustive(basis, shape, validity):
    check_against_exhaustive(small_catalog(validity, basis), forecast_of({"p": SHAPES[shape]}))


@pytest.mark.parametrize("basis", ["total", "after-packs"])
def test_cbc_matches_exhaustive(basis):
    cat = small_catalog(4, basis)
    check_against_exhaustive(cat, forecast_of({"p": SHAPES["seasonal"]}), solver="cbc")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls=st.lists(st.integers(0, 11000), min_size=1, max_size=7),
       validity=st.integers(1, 8), basis=st.sampled_from(["total", "after-packs"]))
def test_random_small_instances_match_exhaustive(calls, validity, basis):
    check_against_exhaustive(small_catalog(validity, basis), forecast_of({"p": calls}))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls=st.lists(st.integers(0, 9000), min_size=12, max_size=12),
       basis=st.sampled_from(["total", "after-packs"]))
def test_seed_catalog_matches_exhaustive(calls, basis):
    """The seed's catalog on demand small enough to enumerate every pack mix."""
    catalog = load_catalog().with_tier_basis(basis)
    check_against_exhaustive(catalog, forecast_of({"id_card": calls, "bank_card": calls[::-1]}))


def test_after_packs_can_prefer_fewer_packs():
    """Under after-packs, covering part of a month can push it into a dearer tier."""
    # Month of 10,500 calls: 9,500 beyond free. No packs: volume 10,500 -> 0.10/call.
    # A 2,000 pack leaves volume 8,500 -> 0.15/call: 7,500*0.15 + 230 = 1,355 > 950.
    cat = small_catalog(12, "after-packs")
    cat_total = small_catalog(12, "total")
    f = forecast_of({"p": [10500]})
    r = check_against_exhaustive(cat, f)
    assert r.bill.total_cost == r.bill.postpaid_only_cost
    assert check_against_exhaustive(cat_total, f) is not None


def test_holdings_are_drawn_first_and_counted():
    cat = small_catalog(6, "total")
    f = forecast_of({"p": [3000, 3000, 3000, 3000]})
    held = (Holding("p", START + 1, 4000),)
    r = check_against_exhaustive(cat, f, holdings=held)
    assert r.bill.products[0].months[0].pack == 2500


def test_ties_prefer_lower_prepaid_spend():
    """A pack that saves exactly its price must not be bought (equal cost, less prepaid)."""
    text = SMALL_CATALOG.format(validity=12, basis="total").replace('"230"', '"300"')
    cat = parse_catalog(text, "tie.toml")
    # 2,500 calls: 2,000 beyond free at 0.15 = 300 = one 2,000 pack.
    r = plan(cat, forecast_of({"p": [2500]}))
    assert r.bill.total_cost == Decimal("300.00")
    assert r.bill.pack_cost == 0


def test_time_limited_solve_is_never_called_optimal(monkeypatch):
    """A solver stopped by the clock yields 'feasible' with a gap, never 'optimal'."""
    from optimizer.solve import solvers  # engines.py imports `solve` from it when used
    from optimizer.solve.solvers import SolveOutcome, Status

    real = solvers.solve

    def stopped(prob, solver, time_limit=None, **options):
        out = real(prob, solver, time_limit, **options)
        return SolveOutcome(Status.FEASIBLE, out.objective, out.objective - 100, out.seconds,
                            solver, "time limit")

    monkeypatch.setattr(solvers, "solve", stopped)
    # (start mode's default is the dynamic program, done before any clock: force the solver)
    r = plan(load_catalog(), forecast_of({"id_card": [25000] * 12}), time_limit=1,
             algorithm="milp")
    assert r.status == "feasible"
    assert r.gap == Decimal("1.00")
    assert r.gap_rel is not None and r.gap_rel > 0


def test_equal_cost_plans_prefer_more_calls_then_fewer_packs():
    """300,000 calls a month of general_print: 100,000 × 6 + 1,000,000 × 3 and 1,000,000 × 4
    cost the same 120,000 in packs and in total; the second buys 400,000 calls more (headroom
    for demand above the forecast), so it is the plan (docs/pricing.md, 'Optimality')."""
    f = forecast_of({"general_print": [300_000] * 12})
    for months in ("start", "any"):
        r = plan(load_catalog(), f, purchase_months=months)
        assert r.status == "optimal"
        assert [(p.size, p.count) for p in r.plan.purchases] == [(1_000_000, 4)], months
        assert r.bill.total_cost == r.bill.pack_cost == Decimal("120000")


def test_horizons_longer_than_ten_years_are_refused_with_the_limit():
    from optimizer import InputError
    long = forecast_of({"id_card": [25000] * 121})
    with pytest.raises(InputError, match="covers 121 months .*at most 120 months"):
        plan(load_catalog(), long, purchase_months="any")
    assert plan(load_catalog(), forecast_of({"id_card": [25000] * 120}),
                purchase_months="any").status == "optimal"
