"""The any-month dynamic program (schedule.py) against the integer program, on the seed's
catalog and horizons too long for exhaustive search (13–20 months here).

Both are exact, and they share nothing but the billing engine and the residual demand, so
agreement to the fen on random forecasts (growing, seasonal, spiky, with gaps) checks the
dynamic program's pruning: useful packs, Pareto capacities, Pareto labels, JIT states.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.billing import bill
from optimizer.io.catalog import load_catalog
from optimizer.domain.records import Forecast, Holding
from optimizer.domain.months import Month
from optimizer.solve.planner import plan

START = Month.parse("2027-01")
SEED = load_catalog()

volumes = st.sampled_from([0, 800, 1_500, 9_000, 12_000, 40_000, 99_000, 101_000, 350_000])


def both(forecast, holdings=()):
    dp = plan(SEED, forecast, purchase_months="any", holdings=holdings)
    milp = plan(SEED, forecast, purchase_months="any", holdings=holdings, algorithm="milp")
    assert dp.status == milp.status == "optimal"
    assert {s.method for s in dp.solves} <= {"dp"}
    assert (dp.bill.total_cost, dp.bill.pack_cost) == (milp.bill.total_cost, milp.bill.pack_cost)
    assert bill(SEED, forecast, dp.plan, holdings).total_cost == dp.bill.total_cost
    return dp


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls=st.lists(volumes, min_size=1, max_size=15),
       jitter=st.lists(st.integers(0, 999), min_size=15, max_size=15))
def test_dp_matches_the_integer_program(calls, jitter):
    calls = tuple(c + j if c else 0 for c, j in zip(calls, jitter))
    both(Forecast(START, len(calls), (("id_card", calls),)))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.integers(2_000, 400_000), growth=st.floats(0.0, 0.3),
       months=st.integers(13, 20), left=st.integers(0, 60_000))
def test_dp_matches_over_several_years_with_holdings(base, growth, months, left):
    calls = tuple(int(base * (1 + growth) ** m) for m in range(months))
    held = (Holding("bank_card", START + 5, left),) if left else ()
    both(Forecast(START, months, (("bank_card", calls), ("vat_invoice", calls[:months]))),
         held)


def test_postpaid_only_and_idle_products():
    f = Forecast(START, 3, (("vat_invoice", (5000, 0, 20000)), ("id_card", (0, 0, 0))))
    r = both(f)
    assert r.plan.purchases == ()
