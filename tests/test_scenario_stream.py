"""Any-month scenarios over horizons beyond the packs' validity, and with prorata carry-over
(solve/scenario_any.py, issue #15).

Under `total` each scenario is a position in the stream of purchases (`_stream_block`),
with the spend cuts of `_spend_cuts`; it must agree with the general cohort block (the
`algorithm="milp"` model: draw order and emptiness binaries for every lot and month) and
with exhaustive search; under `after-packs` (`_after_stream_block`, exact start and draw
binaries) the same. Prorata carry-over with scenarios in any month is credited per
scenario and purchase row; `bill` of the plan must reproduce every scenario's net cost.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_any_scenarios import scenarios_of
from test_combinations import START, catalog, forecast, objective, tie_break
from test_prorata_combos import check

from optimizer import (
    Forecast,
    Holding,
    Plan,
    Purchase,
    bill,
    parse_catalog,
    plan,
)
from optimizer.solve import engines

FACTORS = st.lists(st.sampled_from([Decimal("0.5"), Decimal("0.8"), Decimal("1.3")]),
                   min_size=1, max_size=2)


def keys(cat, r, scen, held=(), worst=False, prorata=False):
    """The objective and the tie-break keys of a plan, from the billing engine alone."""
    forecasts = [s.forecast for s in scen]
    weights = [s.weight for s in scen]
    return (objective(cat, forecasts, weights, r.plan, held, worst, prorata),
            r.bill.pack_cost, *tie_break(r.plan))


# ------------------------------------------------------------------- prorata × any × scenarios

@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(calls=st.lists(st.integers(0, 3400), min_size=2, max_size=3),
       small=st.sampled_from(["75", "80", "95", "120"]),
       basis=st.sampled_from(["total", "after-packs"]), worst=st.booleans(),
       validity=st.integers(2, 4), holding=st.sampled_from(["none", "early", "late"]),
       factors=FACTORS)
def test_prorata_with_any_month_scenarios_matches_exhaustive_search(
        calls, small, basis, worst, validity, holding, factors):
    """It was refused; now every scenario's credit is priced per row, and the plan is the
    exhaustive search's (objective, spend, calls, packs), each scenario billed back."""
    base = forecast(calls, [0] * len(calls))
    held = {"none": (), "early": (Holding("p", START, 700),),
            "late": (Holding("p", START + validity, 1200),)}[holding]
    r = check(catalog(validity, basis, small), base, "any", held=held,
              scenarios=scenarios_of(base, factors), worst=worst)
    assert r.carry_over == "prorata"
    event("credit" if any(o.bill.carry_over_value for o in r.scenarios) else "no credit")


def test_prorata_credit_differs_by_scenario_and_each_bill_reproduces_it():
    """One shared schedule, scenarios that leave different balances at the end: each
    scenario's net cost is its own bill's, and the objective is their weighted mean."""
    cat = catalog(3, "total", "95")
    base = forecast([2400, 1800], [0, 0])
    scen = scenarios_of(base, [Decimal("0.5"), Decimal("1.3")])
    r = check(cat, base, "any", scenarios=scen)
    credits = {o.bill.carry_over_value for o in r.scenarios}
    assert len(credits) > 1                    # the low scenario leaves more
    for s, o in zip(scen, r.scenarios):
        assert bill(cat, s.forecast, r.plan).net_cost == o.bill.net_cost


def test_cli_plans_prorata_with_any_month_scenarios(tmp_path):
    """The command line no longer refuses the combination; JSON carries the net cost."""
    import json

    from click.testing import CliRunner

    from cli import cli
    f = tmp_path / "f.csv"
    f.write_text("product,month,calls\n" + "".join(
        f"id_card,2027-{m:02d},{c}\n" for m, c in zip(range(1, 4), (30000, 80000, 50000))))
    s = tmp_path / "s.csv"
    s.write_text("scenario,weight,scale\nlow,1,0.6\nbase,2,1\nhigh,1,1.4\n")
    out = CliRunner().invoke(cli, ["plan", str(f), "--purchase-months", "any",
                                   "--scenarios", str(s), "--carry-over-value", "prorata",
                                   "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["status"] == "optimal"
    # Each scenario's net cost is what `bill` gives for the plan under that scenario.
    from optimizer import Month, load_catalog
    cat = load_catalog()
    plan_ = Plan(tuple(Purchase(pr["product"], Month.parse(p["month"]), p["size"], p["count"])
                       for pr in doc["products"] for p in pr["purchases"]))
    base = Forecast(START, 3, (("id_card", (30000, 80000, 50000)),))
    for row, scale in zip(doc["scenarios"], ("0.6", "1", "1.4")):
        b = bill(cat, base.scaled(Decimal(scale)), plan_)
        assert Decimal(str(row["net_cost"])) == b.net_cost
        assert Decimal(str(row["carry_over_value"])) == b.carry_over_value
    assert any(row["carry_over_value"] for row in doc["scenarios"])


# ------------------------------------------------------------------- beyond the validity

CATALOG3 = """
free_calls_per_month = 300
validity_months = {validity}
[[product]]
id = "p"
packs = [ {{ calls = 1000, price = "{small}" }}, {{ calls = 3000, price = "240" }},
          {{ calls = 10000, price = "700" }} ]
tiers = [ {{ up_to = 1500, rate = "0.15" }}, {{ up_to = 4000, rate = "0.10" }}, {{ rate = "0.08" }} ]
"""


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(calls=st.lists(st.integers(0, 9000), min_size=4, max_size=8),
       validity=st.integers(2, 3), small=st.sampled_from(["75", "95", "120"]),
       factors=FACTORS, worst=st.booleans())
def test_stream_model_agrees_with_the_cohort_model(calls, validity, small, factors, worst):
    """Lots lapse inside the horizon: the stream model (with its spend cuts and binaries
    only where a later month is dearer) and the general cohort block (binaries for every
    lot and month) reach the same objective and tie-break keys."""
    cat = parse_catalog(CATALOG3.format(validity=validity, small=small), "x.toml")
    base = Forecast(START, len(calls), (("p", tuple(calls)),))
    scen = scenarios_of(base, factors)
    kw = dict(purchase_months="any", scenarios=scen, regret=False,
              objective="worst-case" if worst else "expected")
    saved = engines.TIE_BREAK_SHARE
    try:
        # Room for every tie-break re-solve to finish on a loaded machine (each gets this
        # share of the first solve's time; one stopped early keeps a plan of the same cost
        # but maybe not the preferred one).
        engines.TIE_BREAK_SHARE = 100.0
        ours = plan(cat, base, **kw)
        general = plan(cat, base, algorithm="milp", **kw)
    finally:
        engines.TIE_BREAK_SHARE = saved
    assert ours.status == general.status == "optimal"
    assert keys(cat, ours, scen, worst=worst) == keys(cat, general, scen, worst=worst)
    for s, o in zip(scen, ours.scenarios):
        assert bill(cat, s.forecast, ours.plan).total_cost == o.bill.total_cost


SMALL_MIXES = [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (0, 2), (3, 0)]  # (1000s, 3000s)


def plan_and_search(cat, calls):
    """Five months of `calls`, with a half-demand scenario: the plan (every tie-break
    re-solve finished) and its keys, and the best keys over every schedule of small mixes
    (SMALL_MIXES each month), each billed by the billing engine."""
    import itertools
    base = Forecast(START, 5, (("p", calls),))
    scen = scenarios_of(base, [Decimal("0.5")])
    saved = engines.TIE_BREAK_SHARE
    try:
        engines.TIE_BREAK_SHARE = 100.0    # every tie-break re-solve finishes
        r = plan(cat, base, purchase_months="any", scenarios=scen, regret=False)
    finally:
        engines.TIE_BREAK_SHARE = saved
    forecasts = [s.forecast for s in scen]
    weights = [s.weight for s in scen]
    best = None
    for combo in itertools.product(SMALL_MIXES, repeat=5):
        p = Plan(tuple(Purchase("p", START + m, size, k) for m, counts in enumerate(combo)
                       for size, k in zip((1000, 3000), counts) if k))
        key = (objective(cat, forecasts, weights, p, (), False, False),
               bill(cat, base, p).pack_cost, *tie_break(p))
        best = key if best is None or key < best else best
    return r, keys(cat, r, scen), best


def test_a_position_moved_past_a_lapse_is_priced():
    """Keeping balance back in a month can pay off after a lapse: the month's draw-max
    binary must look to the horizon's end, not only within the validity. Five months,
    validity 2, a small dear month after a big one; checked by exhaustive search."""
    cat = parse_catalog(CATALOG3.format(validity=2, small="95"), "x.toml")
    for calls in ((1800, 4300, 1200, 3100, 900), (2600, 4600, 700, 4800, 1300)):
        r, got, best = plan_and_search(cat, calls)
        # The search is limited to small mixes: the plan is at least as good, and any plan
        # within the search's reach is matched exactly.
        assert got <= best
        assert r.status == "optimal"


@pytest.mark.parametrize("months", [14, 18])
def test_seed_catalog_beyond_the_validity(months):
    """The built-in catalog (five pack sizes, validity 12) over more than a year: the
    stream model with its spend cuts against the cohort model, same keys."""
    from optimizer import load_catalog
    cat = load_catalog()
    shape = [180_000, 90_000, 60_000, 300_000, 40_000, 120_000, 250_000, 20_000, 80_000,
             400_000, 150_000, 30_000, 220_000, 60_000, 350_000, 100_000, 45_000, 500_000]
    base = Forecast(START, months, (("id_card", tuple(shape[:months])),))
    scen = scenarios_of(base, [Decimal("0.5"), Decimal("1.3")])
    saved = engines.TIE_BREAK_SHARE
    try:
        engines.TIE_BREAK_SHARE = 100.0        # as above: every re-solve finishes
        ours = plan(cat, base, purchase_months="any", scenarios=scen, regret=False)
        general = plan(cat, base, purchase_months="any", scenarios=scen, regret=False,
                       algorithm="milp", time_limit=120)
    finally:
        engines.TIE_BREAK_SHARE = saved
    assert ours.status == "optimal"
    if general.status == "optimal":
        assert keys(cat, ours, scen) == keys(cat, general, scen)
    else:
        assert keys(cat, ours, scen)[0] <= keys(cat, general, scen)[0]


# ------------------------------------------------------------------- after-packs stream

CATALOG_AP = CATALOG3.replace("validity_months", 'tier_basis = "after-packs"\nvalidity_months')


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(calls=st.lists(st.integers(0, 9000), min_size=3, max_size=7),
       validity=st.integers(2, 3), small=st.sampled_from(["75", "95", "120"]),
       factors=FACTORS, worst=st.booleans())
def test_after_packs_stream_agrees_with_the_cohort_model(calls, validity, small, factors,
                                                         worst):
    """Under `after-packs` the stream block (exact max/min binaries, exact useful
    capacities) and the general cohort block reach the same objective and keys."""
    cat = parse_catalog(CATALOG_AP.format(validity=validity, small=small), "x.toml")
    assert cat.tier_basis == "after-packs"
    base = Forecast(START, len(calls), (("p", tuple(calls)),))
    scen = scenarios_of(base, factors)
    kw = dict(purchase_months="any", scenarios=scen, regret=False,
              objective="worst-case" if worst else "expected")
    saved = engines.TIE_BREAK_SHARE
    try:
        engines.TIE_BREAK_SHARE = 100.0        # every tie-break re-solve finishes
        ours = plan(cat, base, **kw)
        general = plan(cat, base, algorithm="milp", **kw)
    finally:
        engines.TIE_BREAK_SHARE = saved
    assert ours.status == general.status == "optimal"
    assert keys(cat, ours, scen, worst=worst) == keys(cat, general, scen, worst=worst)
    for s, o in zip(scen, ours.scenarios):
        assert bill(cat, s.forecast, ours.plan).total_cost == o.bill.total_cost


def test_after_packs_stream_matches_exhaustive_search_across_lapses():
    """Five months, validity 2, `after-packs`: months where fewer pack calls reach a
    cheaper tier and lots that lapse inside the horizon. Every plan of small mixes is
    billed; the stream model's plan is at least as good as all of them, and equal to the
    best when its own plan lies within the search's reach."""
    cat = parse_catalog(CATALOG_AP.format(validity=2, small="95"), "x.toml")
    for calls in ((1800, 4300, 1200, 3100, 900), (2600, 4600, 700, 4800, 1300)):
        r, got, best = plan_and_search(cat, calls)
        assert r.status == "optimal"
        assert got <= best
        mixes = {}
        for pu in r.plan.purchases:
            mixes.setdefault(pu.month - START, {})[pu.size] = pu.count
        if all(set(v) <= {1000, 3000} and (v.get(1000, 0), v.get(3000, 0)) in SMALL_MIXES
               for v in mixes.values()):
            assert got == best
