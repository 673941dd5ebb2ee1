"""What the commands show is reachable from the library: the --compare baselines, the value
of a budget cap and each command's view give the CLI's figures; `catalog` and `bill` start
without the solver stack."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import cli
from helpers import custom_catalog
from optimizer import Forecast, Month, Scenario, bill, load_catalog, plan, read_forecast
from optimizer.analysis.budget import budget_value
from optimizer.analysis.compare import compare
from optimizer.output import views

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
ID_YEAR = str(DATA / "id_card_year.csv")
GROW = str(DATA / "grow24.csv")


def cli_json(*args):
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_compare_gives_the_cli_comparison():
    catalog = load_catalog()
    fc = read_forecast(GROW, catalog)
    result = plan(catalog, fc, purchase_months="any")
    c = compare(catalog, fc, result, purchase_months="any")
    assert [s.name for s in c.strategies] == ["postpaid_only", "rule_of_thumb",
                                              "optimal_start", "optimal"]
    for s in c.strategies:
        assert s.saving == c.postpaid.total_cost - s.bill.total_cost
    assert c.optimizer_value == c.thumb.total_cost - c.optimal.total_cost
    assert c.postpaid.total_cost == bill(catalog, fc).total_cost
    shown = views.plan_view("json", result, comparison=c)["comparison"]
    assert shown == cli_json("plan", GROW, "--purchase-months", "any", "--compare")["comparison"]


def test_budget_value_gives_the_cli_figures():
    catalog = load_catalog()
    fc = read_forecast(ID_YEAR, catalog)
    result = plan(catalog, fc, budget=Decimal(3000))
    v = budget_value(catalog, fc, result)
    assert (v.cap, v.flag, v.measure) == (Decimal(3000), "--budget", "cost")
    assert v.spend <= v.cap and v.uncapped_saving >= 0 and v.step_saving >= 0
    shown = views.plan_view("json", result, budget_value=v)["budget_value"]
    assert shown == cli_json("plan", ID_YEAR, "--budget", "3000")["budget_value"]


def test_catalog_and_bill_start_without_the_solver_stack():
    code = ("import sys; from click.testing import CliRunner; from cli import cli; "
            "r = CliRunner().invoke(cli, sys.argv[1:]); assert r.exit_code == 0, r.output; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pulp', 'numpy'}))")
    for args in (["catalog"], ["bill", ID_YEAR, "--plan", str(DATA / "id_card_plan.csv")]):
        out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, text=True,
                             capture_output=True, check=True).stdout
        assert out.strip() == "[]", (args, out)


@pytest.mark.parametrize("caps", [{"budget": Decimal(3000)}, {"budget": Decimal(10**6)},
                                  {"monthly_budget": Decimal(1500)},
                                  {"monthly_budget": Decimal(10**6)},
                                  {"yearly_budget": Decimal(10**6)}])
def test_budget_value_skips_the_raised_plan_only_when_the_uncapped_one_fits(monkeypatch,
                                                                            caps):
    """The raised caps' cost is the uncapped plan's when that plan keeps them (no third
    solve), and otherwise a plan of its own: either way what planning with them gives. A
    plan the planner found as its uncapped plan (no cap binds), or whose uncapped plan the
    planner proved on its way, needs no second plan, and the figures are a fresh one's."""
    from optimizer.analysis import budget as budget_mod
    catalog = load_catalog()
    fc = read_forecast(ID_YEAR, catalog)
    result = plan(catalog, fc, purchase_months="any", **caps)
    calls = []
    real = budget_mod.plan

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)
    monkeypatch.setattr(budget_mod, "plan", counting)
    v = budget_value(catalog, fc, result, purchase_months="any")
    raised = {k: c + v.step for k, c in caps.items()}
    assert v.raised_cost == plan(catalog, fc, purchase_months="any", **raised).bill.total_cost
    free = plan(catalog, fc, purchase_months="any")
    fits = budget_mod._within(free, raised.get("budget"), raised.get("monthly_budget"),
                              raised.get("yearly_budget"))
    known = result.uncapped_optimal or result.uncapped is not None
    assert len(calls) == (0 if fits else 1) + (not known)
    assert result.uncapped_optimal <= fits
    assert (v.uncapped_cost, v.uncapped_spend) == (free.objective_cost, free.bill.pack_cost)
    if "monthly_budget" in caps and caps["monthly_budget"] < 10**6:
        assert result.uncapped is not None      # the case this test is for
        assert result.uncapped.method == free.method == "exact dynamic program"


def test_cost_only_plans_skip_the_tie_break_re_solves(monkeypatch):
    """`tie_break=False` (the raised cap's plan, each scenario's own optimum for regret):
    the integer program is solved once, to the same proven cost; with the tie-break, more
    solves follow (least spend, most calls, fewest packs)."""
    from optimizer.solve import solvers
    catalog = load_catalog()
    fc = read_forecast(ID_YEAR, catalog)
    real, calls = solvers.solve, []

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(solvers, "solve", counting)
    full = plan(catalog, fc, purchase_months="any", monthly_budget=Decimal(1500), regret=False)
    with_tie_break, calls[:] = len(calls), []
    cost_only = plan(catalog, fc, purchase_months="any", monthly_budget=Decimal(1500),
                     regret=False, tie_break=False)
    assert full.status == cost_only.status == "optimal"
    assert cost_only.bill.total_cost == full.bill.total_cost
    assert len(calls) == 1 < with_tie_break
    assert not cost_only.tie_break_proven


def test_budget_value_under_prorata_is_net_of_the_credit():
    """Under prorata the planner minimises the cost less the carry-over credit, so the
    value of the cap compares net costs: with no cap the net cost is never above the
    capped plan's (found by a fuzzing run: the uncapped plan's gross cost was shown, above
    the capped one, a negative saving)."""
    catalog = load_catalog()
    fc = read_forecast(ID_YEAR, catalog)
    short = Forecast(fc.start, 3, tuple((pid, fc.calls(pid)[:3]) for pid in fc.products()))
    result = plan(catalog, short, purchase_months="any", carry_over="prorata",
                  budget=Decimal(1000))
    v = budget_value(catalog, short, result, purchase_months="any", carry_over="prorata")
    free = plan(catalog, short, purchase_months="any", carry_over="prorata")
    assert v.measure == "net cost"
    assert v.cost == result.bill.net_cost
    assert v.uncapped_cost == free.bill.net_cost <= v.cost
    assert v.raised_cost <= v.cost


def test_budget_value_shares_one_time_limit_between_its_plans(monkeypatch):
    """The uncapped and the raised plans get what is left of one time limit, not each the
    whole of it (found by a fuzzing run: `--time-limit 20` took 32-40 s); a plan not proven
    within it leaves the value out (None) instead of showing an unproven figure."""
    import time as clock

    from optimizer.analysis import budget as budget_mod
    catalog = load_catalog()
    fc = read_forecast(ID_YEAR, catalog)
    # (without the uncapped plan the planner proved on its way: both plans made here)
    result = replace(plan(catalog, fc, purchase_months="any", monthly_budget=Decimal(1500)),
                     uncapped=None)
    given, real = [], budget_mod.plan

    def slow(*args, **kwargs):
        given.append(kwargs["time_limit"])
        clock.sleep(0.3)
        return real(*args, **kwargs)
    monkeypatch.setattr(budget_mod, "plan", slow)
    v = budget_value(catalog, fc, result, purchase_months="any", time_limit=30.0)
    assert v is not None and len(given) == 2
    assert given[0] <= 30.0 and given[1] <= given[0] - 0.3
    monkeypatch.setattr(budget_mod, "plan", lambda *a, **k: replace(real(*a, **k),
                                                                   status="feasible"))
    assert budget_value(catalog, fc, result, purchase_months="any", time_limit=30.0) is None


def test_budget_value_with_scenarios_reuses_the_proven_uncapped_plan(monkeypatch):
    """Under after-packs with scenarios the plan without the cap is an integer program per
    product: the planner proves it on its way to the capped plan, and the value of the cap
    takes it from there. Its figures (expected cost, spend) are those of planning it
    afresh."""
    from optimizer.analysis import budget as budget_mod
    catalog = replace(load_catalog(), tier_basis="after-packs")
    base = Forecast(Month.parse("2027-01"), 6,
                    (("id_card", (30_000, 8_000, 26_000, 40_000, 12_000, 30_000)),
                     ("bank_card", (9_000, 21_000, 15_000, 4_000, 18_000, 11_000))))
    scen = (Scenario("low", Decimal(1), base.scaled(Decimal("0.8"))),
            Scenario("high", Decimal(1), base.scaled(Decimal("1.3"))))
    free = plan(catalog, base, purchase_months="any", scenarios=scen, regret=False)
    result = plan(catalog, base, purchase_months="any", scenarios=scen, regret=False,
                  monthly_budget=Decimal(1500))
    assert not result.uncapped_optimal and result.uncapped is not None
    real = budget_mod.plan

    def raised_only(*args, **kwargs):
        assert kwargs["monthly_budget"] is not None, "the plan without the cap, again"
        return real(*args, **kwargs)
    monkeypatch.setattr(budget_mod, "plan", raised_only)
    v = budget_value(catalog, base, result, purchase_months="any", scenarios=scen)
    assert (v.uncapped_cost, v.uncapped_spend) == (free.objective_cost, free.bill.pack_cost)
    assert v.measure == "expected cost" and v.uncapped_cost <= v.cost


TWO_PACKED = """
[[product]]
id = "p"
packs = [ { calls = 1000, price = "90" }, { calls = 3000, price = "240" } ]
tiers = [ { up_to = 1500, rate = "0.15" }, { up_to = 3000, rate = "0.10" }, { rate = "0.06" } ]
[[product]]
id = "r"
packs = [ { calls = 2000, price = "150" }, { calls = 5000, price = "330" } ]
tiers = [ { up_to = 2500, rate = "0.12" }, { rate = "0.08" } ]
"""


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(basis=st.sampled_from(["total", "after-packs"]), validity=st.sampled_from([2, 3, 12]),
       p=st.lists(st.integers(0, 6000), min_size=2, max_size=4),
       r=st.lists(st.integers(0, 9000), min_size=4, max_size=4),
       factors=st.sampled_from([(), ("0.6", "1.3"), ("0.9", "1", "1.7")]),
       purchase_months=st.sampled_from(["any", "start"]),
       carry_over=st.sampled_from(["zero", "prorata"]),
       cap=st.sampled_from(["budget", "monthly_budget", "yearly_budget"]),
       amount=st.integers(0, 800))
def test_the_value_of_a_cap_shows_what_planning_without_it_gives(
        basis, validity, p, r, factors, purchase_months, carry_over, cap, amount):
    """Whether the plan with no cap comes from the planner (`PlanResult.uncapped`) or is
    planned again, the value of the cap shows the cost and spend of a fresh plan without
    the caps (checked on 500 random instances of this kind when the reuse landed)."""
    cat = custom_catalog(TWO_PACKED, free_calls_per_month=300, validity_months=validity,
                         tier_basis=basis)
    fc = Forecast(Month.parse("2027-01"), len(p), (("p", tuple(p)), ("r", tuple(r[:len(p)]))))
    scen = tuple(Scenario(f"s{k}", Decimal(k + 1), fc.scaled(Decimal(f)))
                 for k, f in enumerate(factors))
    options = dict(purchase_months=purchase_months, scenarios=scen, carry_over=carry_over)
    result = plan(cat, fc, regret=False, **options, **{cap: Decimal(amount)})
    v = budget_value(cat, fc, result, **options)
    free = plan(cat, fc, regret=False, **options)
    assert (v.uncapped_cost, v.uncapped_spend) == (free.objective_cost, free.bill.pack_cost)
    assert result.uncapped is None or not result.uncapped_optimal


def _two_packed_case(basis: str):
    cat = custom_catalog(TWO_PACKED, free_calls_per_month=300, validity_months=3,
                         tier_basis=basis)
    fc = Forecast(Month.parse("2027-01"), 4, (("p", (5000, 4000, 6000, 3000)),
                                              ("r", (8000, 2000, 9000, 6000))))
    return cat, fc


@pytest.mark.parametrize("basis, cap, amount, told", [
    ("total", "monthly_budget", 150, 1), ("after-packs", "yearly_budget", 330, 1),
    ("after-packs", "budget", 90, 1),
    ("total", "monthly_budget", 800, 0),        # the plan without the cap keeps it
    ("total", "budget", 240, 0)])               # the frontiers: no tie-break re-solves
def test_plan_tells_once_when_the_caps_raise_the_cost(basis, cap, amount, told):
    """`on_binding` is called once when the caps are proven to raise the optimal cost and
    tie-break re-solves remain, never when the caps cost nothing."""
    cat, fc = _two_packed_case(basis)
    calls = []
    r = plan(cat, fc, purchase_months="any", regret=False, on_binding=lambda known: calls.append(1),
             **{cap: Decimal(amount)})
    free = plan(cat, fc, purchase_months="any", regret=False)
    assert len(calls) == told
    assert r.status == "optimal" and r.tie_break_proven
    if told:
        assert r.objective_cost > free.objective_cost


@pytest.mark.parametrize("basis, cap, amount", [
    ("total", "monthly_budget", 150), ("after-packs", "yearly_budget", 330),
    ("after-packs", "budget", 90)])
def test_what_on_binding_is_told_spares_the_raised_plan_its_uncapped_solves(
        monkeypatch, basis, cap, amount):
    """`on_binding` is given the products' optima without the caps; a plan under other caps
    given them as `known` does not solve them again, and comes to the same plan."""
    from optimizer.solve import planner
    cat, fc = _two_packed_case(basis)
    told = []
    plan(cat, fc, purchase_months="any", regret=False, on_binding=told.append,
         **{cap: Decimal(amount)})
    assert len(told) == 1 and len(told[0]["uncapped"]) == 2
    raised = {cap: Decimal(amount) + 50}
    fresh = plan(cat, fc, purchase_months="any", regret=False, tie_break=False, **raised)
    uncapped = []
    real = planner._solve
    monkeypatch.setattr(planner, "_solve", lambda req: uncapped.append(
        req.cap is None and req.month_cap is None and req.year_cap is None and
        req.catalog.tier_basis == basis) or real(req))   # (not the total basis's relaxation)
    plan(cat, fc, purchase_months="any", regret=False, tie_break=False, **raised)
    assert any(uncapped)                            # without them, they are solved
    uncapped.clear()
    again = plan(cat, fc, purchase_months="any", regret=False, tie_break=False,
                 known=told[0], **raised)
    assert uncapped and not any(uncapped)
    assert again.status == fresh.status == "optimal"
    assert again.objective_cost == fresh.objective_cost
    assert again.plan.purchases == fresh.plan.purchases


@pytest.mark.parametrize("basis, cap, amount", [
    ("total", "monthly_budget", 150), ("after-packs", "yearly_budget", 330),
    ("after-packs", "monthly_budget", 500)])
def test_the_raised_plan_run_beside_the_tie_break_gives_the_same_value(monkeypatch, basis,
                                                                       cap, amount):
    """plan_report starts the plan under raised caps in a thread of its own once the caps
    are known to bind: the value of the cap is the one planned after the plan."""
    import threading

    from optimizer.analysis import budget as budget_mod
    from optimizer.analysis.planning import plan_report
    cat, fc = _two_packed_case(basis)
    threads, real = [], budget_mod.raised_plan

    def counted(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)
    monkeypatch.setattr(budget_mod, "raised_plan", counted)
    report = plan_report(cat, fc, purchase_months="any", **{cap: Decimal(amount)})
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    result = plan(cat, fc, purchase_months="any", **{cap: Decimal(amount)})
    assert report.budget_value == budget_value(cat, fc, result, purchase_months="any")
    assert report.budget_value.raised_cost < report.budget_value.cost


def test_a_raised_plan_under_way_that_ran_out_is_planned_again_in_the_time_left():
    """Without a time limit the plan under raised caps started beside the tie-break had the
    allowance of that moment: when it was not proven then, the value of the cap plans it
    again in the allowance after the plan, as before; with the time spent, it is left out."""
    from optimizer.analysis.budget import raised_plan
    cat, fc = _two_packed_case("total")
    step = Decimal(60)          # (raised by 1,000 the plan without the cap would fit)
    result = plan(cat, fc, purchase_months="any", monthly_budget=Decimal(150))
    raised = raised_plan(cat, fc, None, Decimal(150), None, step=step, purchase_months="any")
    assert result.objective_cost > raised.objective_cost > result.uncapped.objective_cost
    stopped = replace(raised, status="feasible")
    v = budget_value(cat, fc, result, step=step, purchase_months="any",
                     raised=lambda timeout: stopped)
    assert v.raised_cost == raised.objective_cost
    assert v == budget_value(cat, fc, result, step=step, purchase_months="any")
    assert budget_value(cat, fc, result, step=step, purchase_months="any",
                        raised=lambda timeout: stopped, time_limit=0.0) is None
    # Still running when the time allowed is up: left out, not planned again.
    waited = []
    assert budget_value(cat, fc, result, step=step, purchase_months="any", time_limit=30.0,
                        raised=lambda timeout: waited.append(timeout)) is None
    assert len(waited) == 1 and 0 < waited[0] <= 30.0


def test_a_raised_plan_nobody_waits_for_is_cancelled(monkeypatch):
    """plan_report cancels the plan under raised caps when it returns: a library caller
    does not find it still running (it used to run on to its own time limit). The stand-in
    plan here waits for the cancel, as a long solve would, and reports whether it came."""
    import threading

    from optimizer.analysis import budget as budget_mod
    from optimizer.analysis.planning import plan_report
    cat, fc = _two_packed_case("total")
    seen = {}

    def slow(*args, cancel=None, **kwargs):
        seen["thread"] = threading.current_thread()
        seen["cancelled"] = cancel.wait(60)
        raise TimeoutError("never finished")       # what it returns is not waited for
    monkeypatch.setattr(budget_mod, "raised_plan", slow)
    report = plan_report(cat, fc, purchase_months="any", monthly_budget=Decimal(150),
                         time_limit=20)
    # (not needed after all: the plan without the cap fits the caps raised by 1,000)
    assert report.budget_value.raised_cost == report.budget_value.uncapped_cost
    seen["thread"].join(5)
    assert seen["cancelled"] and not seen["thread"].is_alive()


def test_a_cancelled_plan_stops_its_exact_methods_and_solver():
    """`plan(cancel=…)`: once the event is set the time limit counts as reached: the exact
    methods give up at their next step, HiGHS is interrupted, and the answer is whatever
    was found (here nothing proven)."""
    import threading
    import time

    from optimizer.solve.clock import Clock, OutOfTime
    stop = threading.Event()
    clock = Clock(None, cancel=stop)
    clock.check()
    assert clock.remaining() is None and not clock.share().expired()
    stop.set()
    assert clock.expired() and clock.remaining() == 0.01 and clock.part(3).expired()
    with pytest.raises(OutOfTime):
        clock.share().check()
    cat, fc = _two_packed_case("after-packs")
    t0 = time.perf_counter()
    r = plan(cat, fc, purchase_months="any", monthly_budget=Decimal(150), regret=False,
             cancel=stop)
    assert r.status == "feasible" and time.perf_counter() - t0 < 10
