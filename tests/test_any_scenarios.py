"""Any-month purchases with scenarios: one dated schedule shared by every scenario, postpaid
following each (solve/scenario_any.py), against exhaustive search.

The oracle (test_combinations.py) enumerates every dated schedule and bills it under every
scenario with the billing engine; `plan` must reach the same objective and the same
tie-break keys (spend, then calls bought, then packs), and its figures must be what `bill`
says of its plan, scenario by scenario.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from optimizer import Forecast, Holding, Plan, Purchase, Scenario, bill, parse_catalog, plan
from test_cli import DATA, ID_YEAR, ok, write
from test_combinations import START, catalog, objective, schedules, tie_break


def scenarios_of(base: Forecast, factors) -> tuple[Scenario, ...]:
    return (Scenario("base", Decimal(2), base),) + tuple(
        Scenario(f"x{f}", Decimal(1), base.scaled(f)) for f in factors)


def check_exhaustively(cat, base, scen, held=(), worst=False):
    """plan() against every schedule: same objective and tie-break keys; billed figures."""
    r = plan(cat, base, purchase_months="any", holdings=held, scenarios=scen,
             objective="worst-case" if worst else "expected", regret=False)
    assert r.status == "optimal"
    forecasts = [s.forecast for s in scen]
    weights = [s.weight for s in scen]
    best = min((objective(cat, forecasts, weights, p, held, worst, False),
                bill(cat, base, p, held).pack_cost, *tie_break(p))
               for p in schedules(cat, [f.calls("p") for f in forecasts], "any", None))
    got = (objective(cat, forecasts, weights, r.plan, held, worst, False), r.bill.pack_cost,
           *tie_break(r.plan))
    assert got == best
    for s, outcome in zip(scen, r.scenarios):
        again = bill(cat, s.forecast, r.plan, held)
        assert again.total_cost == outcome.bill.total_cost
    return r


FACTORS = st.lists(st.sampled_from([Decimal("0.5"), Decimal("0.8"), Decimal("1.3")]),
                   min_size=1, max_size=2)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(basis=st.sampled_from(["total", "after-packs"]), worst=st.booleans(),
       holding=st.sampled_from(["none", "early", "late"]), validity=st.integers(2, 3),
       small=st.sampled_from(["75", "95", "120"]),
       calls=st.lists(st.integers(0, 2600), min_size=2, max_size=3),
       other=st.integers(0, 3000), factors=FACTORS)
def test_shared_schedule_matches_exhaustive_search(basis, worst, holding, validity, small,
                                                   calls, other, factors):
    cat = catalog(validity, basis, small)
    base = Forecast(START, len(calls), (("p", tuple(calls)), ("q", (other,) * len(calls))))
    held = {"none": (), "early": (Holding("p", START, 700),),
            "late": (Holding("p", START + validity, 1200),)}[holding]
    check_exhaustively(cat, base, scenarios_of(base, factors), held, worst)


@pytest.mark.parametrize("basis", ["total", "after-packs"])
@pytest.mark.parametrize("worst", [False, True])
@pytest.mark.parametrize("calls", [
    [1400, 300, 1500, 1400],      # lots lapse inside the horizon (validity 2 < 4 months)
    [300, 1500, 1500, 300],
    [1500, 0, 0, 1500],           # no demand in the middle: purchases wait
])
def test_four_months_with_lapsing_lots(basis, worst, calls):
    cat = catalog(2, basis, "95")
    base = Forecast(START, 4, (("p", tuple(calls)), ("q", (0,) * 4)))
    check_exhaustively(cat, base, scenarios_of(base, [Decimal("0.5"), Decimal("1.3")]),
                       worst=worst)


def test_rising_rates_do_not_let_a_scenario_keep_balance_back():
    """A big month (rate 0.06) before small ones (0.15): packs bought in the big month
    would be drawn there, so keeping balance for the dearer months is not on offer; the
    optimum buys after the big month instead."""
    cat = catalog(3, "total", "95")
    base = Forecast(START, 3, (("p", (3400, 1200, 1200)), ("q", (0, 0, 0))))
    r = check_exhaustively(cat, base, scenarios_of(base, [Decimal("0.8"), Decimal("1.3")]))
    assert r.plan.purchases and all(p.month > START for p in r.plan.purchases)


TWO = """
free_calls_per_month = 300
validity_months = 2
[[product]]
id = "p"
packs = [ { calls = 1000, price = "80" }, { calls = 3000, price = "210" } ]
tiers = [ { up_to = 1500, rate = "0.15" }, { up_to = 3000, rate = "0.10" }, { rate = "0.06" } ]
[[product]]
id = "r"
packs = [ { calls = 1000, price = "90" } ]
tiers = [ { up_to = 1500, rate = "0.15" }, { rate = "0.12" } ]
"""


def test_worst_case_couples_products():
    """Two products with packs, scenarios that are dear for different products: the worst
    case over the pair (found from a few scenarios at a time) against every pair of
    schedules."""
    cat = parse_catalog(TWO, "two.toml")
    demand = {"a": {"p": (2600, 900), "r": (400, 300)},
              "b": {"p": (500, 400), "r": (2400, 2200)},
              "c": {"p": (1500, 1500), "r": (1300, 1300)}}
    scen = tuple(Scenario(k, Decimal(1), Forecast(START, 2, tuple(v.items())))
                 for k, v in demand.items())
    base = scen[2].forecast
    r = plan(cat, base, purchase_months="any", scenarios=scen, objective="worst-case",
             regret=False)
    assert r.status == "optimal"
    per = {}
    for pid in ("p", "r"):
        product = cat.product(pid)
        options = []
        for counts in itertools.product(*(range(0, 7 if pk.calls == 1000 else 3)
                                          for _ in range(2) for pk in product.packs)):
            buys = tuple(Purchase(pid, START + m, pk.calls, k)
                         for (m, pk), k in zip(itertools.product(range(2), product.packs),
                                               counts) if k)
            p = Plan(buys)
            options.append(([bill(cat, s.forecast, p, ()).product(pid).total_cost
                             for s in scen], p))
        per[pid] = options
    best = min(max(a + b for a, b in zip(ca, cb)) for ca, _ in per["p"] for cb, _ in per["r"])
    assert r.worst_cost == best
    assert max(bill(cat, s.forecast, r.plan).total_cost for s in scen) == best


def test_late_holdings_with_scenarios_plan_exactly():
    """A holding that outlives packs bought now, with scenarios (refused before), in both
    purchase modes."""
    cat = catalog(2, "total", "95")
    base = Forecast(START, 3, (("p", (1800, 1800, 1800)), ("q", (0, 0, 0))))
    held = (Holding("p", START + 2, 2500),)
    scen = scenarios_of(base, [Decimal("0.5")])
    check_exhaustively(cat, base, scen, held)
    r = plan(cat, base, holdings=held, scenarios=scen, regret=False)
    assert r.status == "optimal"
    forecasts = [s.forecast for s in scen]
    best = min(objective(cat, forecasts, [s.weight for s in scen], p, held, False, False)
               for p in schedules(cat, [f.calls("p") for f in forecasts], "start", None))
    assert objective(cat, forecasts, [s.weight for s in scen], r.plan, held, False,
                     False) == best


def test_regret_compares_with_each_scenario_own_any_month_optimum():
    cat = catalog(3, "total", "95")
    base = Forecast(START, 3, (("p", (2600, 400, 2200)), ("q", (0, 0, 0))))
    scen = scenarios_of(base, [Decimal("0.5"), Decimal("1.3")])
    r = plan(cat, base, purchase_months="any", scenarios=scen)
    for s, outcome in zip(scen, r.scenarios):
        alone = plan(cat, s.forecast, purchase_months="any").bill.total_cost
        assert outcome.best_cost == alone
        assert outcome.regret == outcome.bill.total_cost - alone >= 0


def test_budgets_with_any_month_scenarios():
    cat = catalog(3, "total", "95")
    base = Forecast(START, 3, (("p", (2600, 400, 2200)), ("q", (0, 0, 0))))
    scen = scenarios_of(base, [Decimal("1.3")])
    r = plan(cat, base, purchase_months="any", scenarios=scen, budget=Decimal(200),
             monthly_budget=Decimal(100), regret=False)
    assert r.status == "optimal"
    assert r.bill.pack_cost <= 200
    forecasts = [s.forecast for s in scen]
    weights = [s.weight for s in scen]
    best = min(objective(cat, forecasts, weights, p, (), False, False)
               for p in schedules(cat, [f.calls("p") for f in forecasts], "any", Decimal(100))
               if bill(cat, base, p).pack_cost <= 200)
    assert objective(cat, forecasts, weights, r.plan, (), False, False) == best


def test_each_scenario_optimum_bounds_the_after_packs_model(monkeypatch):
    """Under after-packs the shared schedule's model gets a row a scenario: the product's
    cost under it is at least that scenario's own optimum (plan() of it alone, to the
    unit), and the best of those plans, by the objective, is the solver's start. Rows and
    start leave the answer exhaustive search finds."""
    from optimizer.solve import engines
    cat = catalog(3, "after-packs", "95")
    base = Forecast(START, 3, (("p", (2600, 400, 2200)), ("q", (0, 0, 0))))
    scen = scenarios_of(base, [Decimal("0.5"), Decimal("1.3")])
    seen = []
    real = engines._scenario_floors

    def spy(req, prob, pm, *args):
        real(req, prob, pm, *args)
        # A row `cost >= floor` keeps the cost's constant less the floor.
        rows = {f"alone_0_{k}": prob.get_constraint_by_name(f"alone_0_{k}")
                for k in range(len(pm.postpaid))}
        seen.append((req.scale, {n: (pm.pack_spend + pm.postpaid[k]).constant - c.constant
                                 for k, (n, c) in enumerate(rows.items())}, pm.start))
    monkeypatch.setattr(engines, "_scenario_floors", spy)
    check_exhaustively(cat, base, scen)
    monkeypatch.undo()
    scale, rows, start = seen[0]
    forecasts = [s.forecast for s in scen]
    weights = [s.weight for s in scen]
    alone = [plan(cat, f, purchase_months="any").plan for f in forecasts]
    assert rows == {f"alone_0_{k}": bill(cat, f, p).total_cost * scale
                    for k, (f, p) in enumerate(zip(forecasts, alone))}
    started = Plan(tuple(Purchase("p", START + t, size, n) for (t, size), n in start.items()
                         if n))
    assert objective(cat, forecasts, weights, started, (), False, False) == min(
        objective(cat, forecasts, weights, p, (), False, False) for p in alone)


# --------------------------------------------------------------------------- command line

def _scenario_forecasts(tmp_path) -> dict[str, str]:
    """Each scenario of scenarios_full.csv as a forecast file of its own."""
    rows: dict[str, list[str]] = {}
    with open(DATA / "scenarios_full.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rows.setdefault(row["scenario"], []).append(
                f"{row['product']},{row['month']},{row['calls']}")
    return {name: write(tmp_path, f"{name}.csv", "product,month,calls\n" + "\n".join(lines)
                        + "\n") for name, lines in rows.items()}


@pytest.mark.parametrize("objective_name", ["expected", "worst-case"])
def test_cli_plan_any_month_scenarios_and_bill_reproduces_each(tmp_path, objective_name):
    args = ("plan", ID_YEAR, "--purchase-months", "any", "--scenarios",
            str(DATA / "scenarios_full.csv"), "--objective", objective_name)
    data = json.loads(ok(*args, "--format", "json").stdout)
    assert data["status"] == "optimal"
    assert data["objective"] == objective_name
    months = {p["month"] for prod in data["products"] for p in prod["purchases"]}
    assert months                                     # one dated schedule
    plan_csv = write(tmp_path, "plan.csv", ok(*args, "--format", "csv").stdout)
    assert list(csv.reader(io.StringIO(open(plan_csv, encoding="utf-8").read())))[0][:4] == \
        ["product", "month", "size", "count"]
    files = _scenario_forecasts(tmp_path)
    for s in data["scenarios"]:
        billed = json.loads(ok("bill", files[s["name"]], "--plan", plan_csv,
                               "--format", "json").stdout)
        assert billed["total_cost"] == s["total_cost"]
        assert billed["pack_cost"] == s["pack_cost"] == data["pack_cost"]
        assert s["regret"] >= 0
    assert data["worst_cost"] == max(s["total_cost"] for s in data["scenarios"])


# --------------------------------------------------------------------------- two methods

def _keys(cat, r, scen, held=()):
    """What plan() minimised for `r`, then its tie-break keys, from the billing engine."""
    forecasts = [s.forecast for s in scen]
    weights = [s.weight for s in scen]
    return (objective(cat, forecasts, weights, r.plan, held, False, False), r.bill.pack_cost,
            *tie_break(r.plan))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(calls=st.lists(st.integers(0, 60_000), min_size=2, max_size=6),
       factors=st.lists(st.sampled_from([Decimal("0.3"), Decimal("0.7"), Decimal("1.2"),
                                         Decimal("1.9")]), min_size=1, max_size=4),
       held=st.sampled_from([0, 4000, 30_000]))
def test_dynamic_program_agrees_with_the_integer_program(calls, factors, held):
    """Nothing lapses inside a horizon within the packs' validity: the dynamic program over
    balance vectors serves it (given room: LIMIT raised); forced to give up (LIMIT 0), the
    integer program must find the same objective and tie-break keys."""
    from optimizer import load_catalog
    from optimizer.solve import scenario_dp
    cat = load_catalog()
    base = Forecast(START, len(calls), (("id_card", tuple(calls)),))
    scen = scenarios_of(base, factors)
    holdings = (Holding("id_card", START + 13, held),) if held else ()
    saved = scenario_dp.LIMIT
    try:
        scenario_dp.LIMIT = 10 ** 6            # never give up here
        r = plan(cat, base, purchase_months="any", scenarios=scen, holdings=holdings,
                 regret=False)
        scenario_dp.LIMIT = 0                  # always give up: the integer program
        m = plan(cat, base, purchase_months="any", scenarios=scen, holdings=holdings,
                 regret=False)
    finally:
        scenario_dp.LIMIT = saved
    assert {s.method for s in r.solves} == {"dp"}
    assert {s.method for s in m.solves} <= {"milp"}     # (none: nothing to decide)
    assert r.status == m.status == "optimal"
    assert _keys(cat, r, scen, holdings) == _keys(cat, m, scen, holdings)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@example(basis="total", validity=2, calls=[0, 2600, 2600], factors=[Decimal("0.8")],
         cap=Decimal(80), worst=False)
@given(basis=st.sampled_from(["total", "after-packs"]), validity=st.integers(2, 3),
       calls=st.lists(st.sampled_from([0, 0, 900, 2600, 3400]), min_size=3, max_size=4),
       factors=FACTORS, cap=st.sampled_from([Decimal(80), Decimal(120), Decimal(240)]),
       worst=st.booleans())
def test_scenarios_under_a_monthly_cap_may_buy_in_a_month_without_calls(
        basis, validity, calls, factors, cap, worst):
    """Under a cap per month, packs bought in a month with no calls can serve the next one
    when its own month has no room left: just in time no longer holds. The scenario
    models bought only in months with calls under `total`, and called a plan 10 CNY dearer
    than the optimum optimal (2 scenarios, expected cost)."""
    cat = catalog(validity, basis, "80")
    base = Forecast(START, len(calls), (("p", tuple(calls)), ("q", (0,) * len(calls))))
    scen = scenarios_of(base, factors)
    r = plan(cat, base, purchase_months="any", scenarios=scen, monthly_budget=cap,
             objective="worst-case" if worst else "expected", regret=False)
    assert r.status == "optimal"
    forecasts = [s.forecast for s in scen]
    weights = [s.weight for s in scen]
    best = min((objective(cat, forecasts, weights, p, (), worst, False),
                bill(cat, base, p).pack_cost, *tie_break(p))
               for p in schedules(cat, [f.calls("p") for f in forecasts], "any", cap))
    assert (objective(cat, forecasts, weights, r.plan, (), worst, False), r.bill.pack_cost,
            *tie_break(r.plan)) == best
