"""`--time-limit` holds for the exact methods too (solve/clock.py).

The dynamic programs, label searches, cost curves and frontiers have no partial answer, so
they check the clock between steps and give up (OutOfTime) once their share of the limit
is spent; their engine declines and the integer program plans in the time left. A catalog
with a 1-call pack against millions of calls kept them running for minutes past the limit.
"""

from __future__ import annotations

import sys
from dataclasses import replace
import time
from decimal import Decimal

import pytest

from optimizer import Forecast, Month, Scenario, bill, load_catalog, parse_catalog, plan
from optimizer.solve import clock as clock_mod
from optimizer.solve import frontier
from optimizer.solve.after_packs import after_packs_schedule
from optimizer.solve.clock import UNLIMITED, Clock, OutOfTime
from optimizer.solve.curves import capacity_curve
from optimizer.solve.dynamic import optimal_schedule
from optimizer.solve.scenario_dp import shared_schedule

START = Month.parse("2027-01")
SCALE = 100

CATALOG = """
free_calls_per_month = 100
validity_months = 3
tier_basis = "{basis}"
[[product]]
id = "a"
packs = [ {{ calls = 7, price = "0.50" }}, {{ calls = 100, price = "5" }} ]
tiers = [ {{ up_to = 300, rate = "0.09" }}, {{ up_to = 800, rate = "0.07" }}, {{ rate = "0.05" }} ]
[[product]]
id = "b"
packs = [ {{ calls = 50, price = "2.80" }} ]
tiers = [ {{ up_to = 400, rate = "0.08" }}, {{ rate = "0.06" }} ]
"""
CALLS = {"a": (420, 0, 910, 130, 650), "b": (90, 520, 300, 700, 240)}


def catalog(basis="total"):
    return parse_catalog(CATALOG.format(basis=basis), "c.toml")


def forecast(scale=1.0):
    return Forecast(START, 5, tuple((p, tuple(round(c * scale) for c in calls))
                                    for p, calls in CALLS.items()), "f.csv")


def expired() -> Clock:
    return Clock(None, deadline=0.0)         # perf_counter() is never below 0


def resid(product, calls):
    return [max(d - product.free_calls, 0) for d in calls]


def test_a_clock_without_a_limit_never_runs_out_and_shares_itself():
    assert not UNLIMITED.expired() and UNLIMITED.remaining() is None
    assert UNLIMITED.share() is UNLIMITED
    UNLIMITED.check()
    with pytest.raises(OutOfTime):
        expired().check()
    limited = Clock(100.0)
    assert 40 < limited.share(0.5).remaining() <= 50


@pytest.mark.parametrize("method", ["dp", "dp-prorata", "after-packs", "frontier", "curve",
                                    "scenario-dp"])
def test_each_exact_method_gives_up_when_its_clock_has_run_out(method):
    """The same call with no limit answers, so the check is what stops it."""
    product = catalog("after-packs" if method in ("after-packs", "curve") else "total") \
        .product("a")
    calls = list(CALLS["a"])
    r = resid(product, calls)
    run = {
        "dp": lambda c: optimal_schedule(product, calls, r, 3, SCALE, clock=c),
        "dp-prorata": lambda c: optimal_schedule(product, calls, r, 3, SCALE, prorata=True,
                                                 clock=c),
        "after-packs": lambda c: after_packs_schedule(product, calls, r, 3, SCALE, c),
        "frontier": lambda c: frontier.product_frontier(product, calls, r, 3, SCALE, 10 ** 9,
                                                        c),
        "curve": lambda c: capacity_curve(product, calls, START, 3, "after-packs", SCALE,
                                          clock=c),
        "scenario-dp": lambda c: shared_schedule(product, [calls, calls[::-1]],
                                                 [r, r[::-1]], [1, 2], 0, SCALE, c),
    }[method]
    assert run(UNLIMITED) is not None
    with pytest.raises(OutOfTime):
        run(expired())


CASES = {
    "any, total": dict(purchase_months="any"),
    "any, total, prorata": dict(purchase_months="any", carry_over="prorata"),
    "any, after-packs": dict(purchase_months="any", basis="after-packs"),
    "start, after-packs": dict(basis="after-packs"),
    "start, after-packs, budget": dict(basis="after-packs", budget=Decimal("40")),
    "start, scenarios": dict(scenarios=True),
    "start, worst case": dict(scenarios=True, objective="worst-case"),
    "any, total, budget": dict(purchase_months="any", budget=Decimal("40")),
    "any, total, monthly budget": dict(purchase_months="any", monthly_budget=Decimal("12")),
    "any, scenarios": dict(purchase_months="any", scenarios=True),
}


@pytest.mark.parametrize("case", CASES)
def test_an_exact_method_out_of_time_leaves_the_plan_to_the_integer_program(case,
                                                                             monkeypatch):
    """Every exact route with its share of the time already spent: the integer program
    plans instead, and on these small instances proves the same optimum in the time left
    (a limit of minutes), which billing reproduces."""
    options = dict(CASES[case])
    cat = catalog(options.pop("basis", "total"))
    f = forecast()
    if options.pop("scenarios", False):
        options["scenarios"] = [Scenario("low", Decimal(1), forecast(0.6)),
                                Scenario("base", Decimal(2), f),
                                Scenario("high", Decimal(1), forecast(1.5))]
    exact = plan(cat, f, **options)
    assert exact.status == "optimal"
    monkeypatch.setattr(clock_mod.Clock, "share", lambda self, fraction=0.5: expired())
    r = plan(cat, f, time_limit=600, **options)
    assert {s.method for s in r.solves} == {"milp"}, case
    assert r.status == "optimal"
    assert r.objective_cost == exact.objective_cost
    assert bill(cat, f, r.plan).total_cost == r.bill.total_cost


def test_frontier_expands_in_pieces_of_at_most_chunk_pairs(monkeypatch):
    """A fine lattice (1-call packs) gives one label a million capacities in range; the
    frontier asked NumPy for 361 GiB at once (a 30-month forecast under a budget). It now
    expands (label, capacity) pairs in pieces of at most CHUNK, with the same frontier."""
    cat = parse_catalog(
        'free_calls_per_month = 10\nvalidity_months = 3\ntier_basis = "total"\n'
        '[[product]]\nid = "x"\n'
        'packs = [ { calls = 1, price = "0.07" }, { calls = 40, price = "2.4" } ]\n'
        'tiers = [ { up_to = 100, rate = "0.10" }, { rate = "0.08" } ]\n', "fine.toml")
    product = cat.product("x")
    calls = [130, 20, 95, 160, 60, 210, 15]
    r = resid(product, calls)
    whole = frontier.product_frontier(product, calls, r, 3, SCALE, 10 ** 9)
    sizes = []
    real = frontier.np.repeat

    def counting(a, w, *args, **kwargs):
        out = real(a, w, *args, **kwargs)
        if sys._getframe(1).f_code.co_name == "buy":   # the pairs' expansion
            sizes.append((len(out), real(w, 1).size))   # (pairs, entries) of the piece
        return out

    monkeypatch.setattr(frontier, "CHUNK", 16)
    monkeypatch.setattr(frontier.np, "repeat", counting)
    pieces = frontier.product_frontier(product, calls, r, 3, SCALE, 10 ** 9)
    monkeypatch.undo()
    assert pieces.points() == whole.points()
    assert len(whole.points()) > 3
    # A piece holds at most CHUNK pairs unless it is one (label, range of capacities)
    # alone, which is at most a month's capacities.
    widest = max(len(o.caps) for o in pieces._options.values())
    assert sizes and all(pairs <= 16 or entries == 1 for pairs, entries in sizes)
    assert max(pairs for pairs, _ in sizes) <= widest
    assert any(entries > 1 for _, entries in sizes)


def test_a_one_call_pack_over_thirty_months_under_a_budget_plans_in_bounded_memory():
    """The fuzzing's case of the class above, under a 2 GiB address-space cap: a 1-call
    pack, 30 months of tens of thousands of calls, a total budget, any month. The time
    limit makes the frontiers give up (they would finish, in about half a minute) and the
    integer program report its plan."""
    from tests.test_limits import memory_cap
    cat = parse_catalog(
        'free_calls_per_month = 1000\nvalidity_months = 12\ntier_basis = "total"\n'
        '[[product]]\nid = "x"\n'
        'packs = [ { calls = 1, price = "0.05" }, { calls = 1000000, price = "30000" } ]\n'
        'tiers = [ { up_to = 10000, rate = "0.15" }, { up_to = 100000, rate = "0.10" },\n'
        '          { up_to = 1000000, rate = "0.06" }, { rate = "unpublished" } ]\n',
        "fine.toml")
    calls = tuple(20_000 + (7919 * m) % 70_000 for m in range(30))
    f = Forecast(START, 30, (("x", calls),), "f.csv")
    with memory_cap(2 << 30):
        r = plan(cat, f, purchase_months="any", budget=Decimal("50000"), time_limit=3)
    assert r.status in ("optimal", "feasible")
    assert r.bill.pack_cost <= Decimal("50000")
    assert bill(cat, f, r.plan).total_cost == r.bill.total_cost


def test_the_seed_example_is_unchanged_by_a_generous_limit():
    """A limit the exact method does not reach changes nothing (same plan, same method)."""
    cat = load_catalog()
    f = Forecast(START, 3, (("general_print", (120_000, 90_000, 400_000)),
                            ("id_card", (8_000, 30_000, 12_000))), "f.csv")
    a, b = plan(cat, f, purchase_months="any"), plan(cat, f, purchase_months="any",
                                                     time_limit=600)
    assert a.plan == b.plan and {s.method for s in b.solves} == {"dp"}


def test_a_pack_dearer_per_call_than_every_rate_is_never_modelled():
    """Found by fuzzing: a 1-call pack at 0.10 against one rate of 0.05 (it can never pay)
    under after-packs, 48 months, spent 52 s building the integer program's spend cuts
    over its 1-call lattice at `--time-limit 5`. Such a pack saves at most the rate per
    call it serves, so it is dropped (under after-packs only while rates do not rise with
    volume: there drawing a pack can lower the tier volume into a cheaper rate)."""
    from optimizer.solve.any_milp import useful_packs
    falling = parse_catalog(
        'free_calls_per_month = 0\n[[product]]\nid = "x"\n'
        'packs = [ { calls = 1, price = "0.10" }, { calls = 100, price = "4" } ]\n'
        'tiers = [ { up_to = 1000, rate = "0.08" }, { rate = "0.05" } ]\n', "f.toml")
    rising = parse_catalog(
        'free_calls_per_month = 0\n[[product]]\nid = "x"\n'
        'packs = [ { calls = 1, price = "0.10" }, { calls = 100, price = "4" } ]\n'
        'tiers = [ { up_to = 1000, rate = "0.01" }, { rate = "0.08" } ]\n', "r.toml")
    sizes = {(name, basis): [p.calls for p in useful_packs(c.product("x"), 5000, basis)]
             for name, c in (("falling", falling), ("rising", rising))
             for basis in ("total", "after-packs")}
    assert sizes == {("falling", "total"): [100], ("falling", "after-packs"): [100],
                     ("rising", "total"): [100], ("rising", "after-packs"): [1, 100]}
    # Rising rates: one call from a pack moves 1,001 calls from 0.08 down to 0.01.
    r = plan(rising.with_tier_basis("after-packs"),
             Forecast(START, 1, (("x", (1001,)),), "f.csv"), purchase_months="any")
    assert r.status == "optimal" and r.bill.total_cost == Decimal("10.10")
    cat = parse_catalog(
        'free_calls_per_month = 0\ntier_basis = "after-packs"\n[[product]]\nid = "x"\n'
        'packs = [ { calls = 1, price = "0.10" } ]\ntiers = [ { rate = "0.05" } ]\n', "m.toml")
    f = Forecast(START, 48, (("x", (150_000,) * 48),), "f.csv")
    r = plan(cat, f, purchase_months="any", time_limit=600)
    assert r.status == "optimal" and not r.plan.purchases
    assert {s.method for s in r.solves} <= {"milp"}


def test_spend_cuts_over_blocks_of_a_fine_lattice_keep_the_optimum(monkeypatch):
    """The spend cuts' hull is taken over blocks of the lattice when it has more than
    HULL_VERTICES points (1-call packs); the blocked hull lies below the least spend, so
    the optimum is unchanged (here with blocks of a few points on a coarse lattice)."""
    from optimizer.solve import scenario_any
    cat = catalog("after-packs")
    f = forecast()
    scenarios = [Scenario("low", Decimal(1), forecast(0.6)), Scenario("base", Decimal(2), f),
                 Scenario("high", Decimal(1), forecast(1.7))]
    exact = plan(cat, f, purchase_months="any", scenarios=scenarios, regret=False)
    monkeypatch.setattr(scenario_any, "HULL_VERTICES", 4)
    blocked = plan(cat, f, purchase_months="any", scenarios=scenarios, regret=False)
    assert exact.status == blocked.status == "optimal"
    assert blocked.objective_cost == exact.objective_cost


def test_products_solved_in_turn_share_the_time_limit(monkeypatch):
    """Each product's integer program gets an even part of the time left (the last one
    all of it): a first product that needed the whole limit left the others none (a
    4-product, 24-month forecast with three scenarios under prorata carry-over: the first
    took all 100 s, and three came back with no plan at all)."""
    from optimizer.solve import engines, solvers
    given = []
    real = solvers.solve
    def spy(prob, solver="highs", time_limit=None, **kw):
        if prob.get_constraint_by_name("keep_optimal_cost") is None:   # not the tie-break's
            given.append((prob.name, time_limit))
        return real(prob, solver, time_limit, **kw)
    monkeypatch.setattr(solvers, "solve", spy)
    # (one solve a product: not the relaxation's 8 s try of the exact model first)
    monkeypatch.setattr(engines, "RELAX_AFTER", float("inf"))
    f = forecast()
    scenarios = [Scenario("low", Decimal(1), forecast(0.6)), Scenario("base", Decimal(2), f)]
    r = plan(catalog("after-packs"), f, purchase_months="any", scenarios=scenarios,
             time_limit=600, regret=False, threads=1)     # one after another here
    assert r.status == "optimal"
    assert [name for name, _ in given] == ["packs_0", "packs_1"]
    # The first gets half the time left, the second what is left after it.
    assert 200 < given[0][1] <= 300
    assert given[1][1] > given[0][1]


def test_products_integer_programs_run_two_at_a_time(monkeypatch):
    """Independent products' integer programs run on two threads at once (HiGHS frees the
    GIL): each job here waits at a two-party barrier, which only opens when both run
    together. Results keep the products' order, and the progress line's label is each
    thread's own."""
    import threading

    from optimizer.solve import engines, planner, solvers
    barrier = threading.Barrier(2, timeout=30)
    labels = {}
    real = engines.by_integer_program

    def paired(req, index, group, *args, **kw):
        with solvers.reported_as(group[0], 1):
            barrier.wait()                      # BrokenBarrierError if run one at a time
            labels[group[0]] = solvers._local.subject[0]
            return real(req, index, group, *args, **kw)
    monkeypatch.setattr(planner, "by_integer_program", paired)
    f = forecast()
    r = plan(catalog("after-packs"), f, purchase_months="any", regret=False,
             scenarios=[Scenario("low", Decimal(1), forecast(0.6)),
                        Scenario("base", Decimal(2), f)])
    assert r.status == "optimal"
    assert labels == {"a": "a", "b": "b"}
    assert [s.product for s in r.solves] == ["a", "b"]


def test_a_failing_product_stops_the_others_from_starting():
    """The first error of the threaded jobs reaches the caller; no job starts after it."""
    from optimizer.solve.planner import _in_threads
    started = []

    def job(i):
        started.append(i)
        if i == 0:
            raise ValueError("boom")
        time.sleep(0.05)
        return i
    with pytest.raises(ValueError, match="boom"):
        _in_threads(job, 50)
    assert len(started) <= 10
    assert _in_threads(lambda i: i * i, 5) == [0, 1, 4, 9, 16]


def test_threads_started_by_work_that_reports_nothing_report_nothing_either():
    """The plan under raised caps runs beside the plan inside `unreported` (the progress
    line follows the plan): the threads it solves products on inherit that."""
    from optimizer.solve.planner import _in_threads
    from optimizer.solve.solvers import muted, unreported
    with unreported():
        assert _in_threads(lambda i: muted(), 4) == [True] * 4
    assert _in_threads(lambda i: muted(), 4) == [False] * 4


def test_work_beside_a_plan_takes_the_second_core_once_the_event_is_set():
    """With `wide` unset only one thread takes jobs; once it is set, both do."""
    import threading

    from optimizer.solve.planner import _in_threads
    wide, seen = threading.Event(), []

    def job(i):
        seen.append(threading.current_thread())
        if i == 3:
            wide.set()
        time.sleep(0.1)
        return i
    assert _in_threads(job, 10, 2, wide) == list(range(10))
    assert len(set(seen[:4])) == 1 and len(set(seen)) == 2


def test_tie_break_re_solves_get_their_floor_after_a_fast_cost_solve(monkeypatch):
    """Proving the least spend does not get easier when the cost solve does: each re-solve
    gets at least TIE_BREAK_FLOOR seconds (a share of a 0.8 s cost solve left id_card's
    6.6 s proof unmade), and never more than the time left."""
    from optimizer.solve import engines, solvers
    given = []
    real = solvers.solve

    def spy(prob, solver="highs", time_limit=None, **kw):
        if prob.get_constraint_by_name("keep_optimal_cost") is not None:   # the tie-break's
            given.append(time_limit)
        return real(prob, solver, time_limit, **kw)
    monkeypatch.setattr(solvers, "solve", spy)
    f = forecast()
    scenarios = [Scenario("low", Decimal(1), forecast(0.6)), Scenario("base", Decimal(2), f)]
    plan(catalog("after-packs"), f, purchase_months="any", scenarios=scenarios, regret=False,
         threads=1)
    assert given and all(t >= engines.TIE_BREAK_FLOOR for t in given)
    given.clear()
    plan(catalog("after-packs"), f, purchase_months="any", scenarios=scenarios, regret=False,
         time_limit=3, threads=1)
    assert given and all(t <= 3 for t in given)


@pytest.mark.parametrize("limit", [0, -1.0, float("nan")])
def test_a_time_limit_that_is_not_a_positive_number_is_refused(limit):
    """NaN passes every comparison-based range check (a plan with it ran unlimited)."""
    from optimizer import InputError
    cat = load_catalog()
    f = Forecast(START, 2, (("id_card", (20_000, 30_000)),), "f.csv")
    with pytest.raises(InputError, match="--time-limit"):
        plan(cat, f, time_limit=limit)


# --------------------------------------------------------------------------- stopped early

def _stopped_with_nothing(monkeypatch):
    """Every engine's result as a time limit leaves an integer program that found no plan
    (buying nothing stands; the bound 0)."""
    from optimizer.solve import planner
    real = planner._solve

    def nothing(req):
        return [replace(r, counts={pid: {} for pid in r.products}, objective=None, bound=0,
                        status="no_solution") for r in real(req)]
    monkeypatch.setattr(planner, "_solve", nothing)


def test_a_plan_stopped_before_any_plan_gets_the_rule_of_thumb(monkeypatch):
    """Short limits left the integer programs at buying nothing (pure postpaid, a gap of
    14 % on the issue's 3 × 24 forecast): the rule of thumb, billed, now stands in when
    it costs less; the status stays `feasible` and the gap is measured from its cost."""
    from optimizer.analysis.compare import rule_of_thumb
    cat = load_catalog()
    f = Forecast(START, 24, (("id_card", tuple(30_000 + 2_000 * m for m in range(24))),
                             ("bank_card", (15_000,) * 24), ("vat_invoice", (9_000,) * 24)))
    _stopped_with_nothing(monkeypatch)
    for months in ("start", "any"):
        r = plan(cat, f, purchase_months=months)
        thumb = rule_of_thumb(cat, f)
        if months == "start":
            thumb = type(thumb)(tuple(p for p in thumb.purchases if p.month == START))
        assert r.status == "feasible"
        if months == "start":
            assert r.plan.purchases == thumb.purchases
        # (in any month the rule renewed more often is tried too: never dearer)
        assert r.bill.total_cost <= bill(cat, f, thumb).total_cost < bill(cat, f).total_cost
        assert r.gap == r.bill.total_cost          # (the bound stays 0)


def test_the_rule_of_thumb_stands_in_only_within_the_caps(monkeypatch):
    cat = load_catalog()
    f = Forecast(START, 24, (("id_card", (40_000,) * 24), ("bank_card", (20_000,) * 24)))
    _stopped_with_nothing(monkeypatch)
    for caps in ({"monthly_budget": Decimal(3000)}, {"yearly_budget": Decimal(20000)},
                 {"budget": Decimal(25000)}):
        r = plan(cat, f, purchase_months="any", **caps)
        assert r.status == "feasible" and r.plan.purchases, caps
        spent = [c.packs for c in r.bill.cashflow()[:24]]
        assert max(spent) <= caps.get("monthly_budget", max(spent))
        assert max(sum(spent[:12]), sum(spent[12:])) <= caps.get("yearly_budget", 10 ** 9)
        assert sum(spent) <= caps.get("budget", 10 ** 9)
        assert r.bill.total_cost < bill(cat, f).total_cost


def test_a_real_time_limit_is_never_worse_than_the_rule_of_thumb():
    """Whatever the machine's speed: a plan stopped by the limit costs no more than the
    rule of thumb, which keeps no cap here (none is given)."""
    from optimizer.analysis.compare import rule_of_thumb
    cat = load_catalog().with_tier_basis("after-packs")
    f = Forecast(START, 24, (("id_card", tuple(30_000 + 2_000 * m for m in range(24))),
                             ("general_print", tuple(150_000 + 6_000 * m for m in range(24)))))
    scen = tuple(Scenario(n, Decimal(w), f.scaled(Decimal(x)))
                 for n, w, x in (("low", 1, "0.8"), ("base", 2, "1"), ("high", 1, "1.25")))
    r = plan(cat, f, purchase_months="any", scenarios=scen, time_limit=0.01, regret=False)
    thumb = rule_of_thumb(cat, f)
    expected = sum(s.weight * bill(cat, s.forecast, thumb).total_cost for s in scen) / 4
    assert r.expected_cost <= expected


def test_a_stopped_plan_is_never_worse_than_buying_nothing(monkeypatch):
    """A solver stopped early can hold a plan dearer than buying nothing, and the rule of
    thumb can be too where packs do not pay (prorata, scenarios and caps: found by a
    randomized run of short limits); buying nothing, a plan under every cap, stands then."""
    from optimizer.solve import planner
    cat = load_catalog()
    f = Forecast(START, 12, (("id_card", (1_050,) * 12), ("bank_card", (1_040,) * 12)))
    real = planner._solve

    def dear(req):              # a stopped solve holding far too many packs
        return [replace(r, counts={pid: {(0, 1_000_000): 1} for pid in r.products},
                        objective=10 ** 12, bound=0, status="feasible") for r in real(req)]
    monkeypatch.setattr(planner, "_solve", dear)
    r = plan(cat, f, purchase_months="any")
    nothing = bill(cat, f)
    assert r.status == "feasible" and r.bill.total_cost <= nothing.total_cost
    assert r.gap == r.bill.total_cost              # (the bound stays 0)


def test_under_a_monthly_cap_the_rule_renewed_more_often_stands_in(monkeypatch):
    """A year's packs bought at once break a cap per month, and trimming them to it leaves
    little (here 138,000 CNY, the optimum 124,800): the rule renewed every 6, 3 and 1
    months is tried too, and the cheapest within the caps stands in (127,200)."""
    from optimizer.solve import planner
    cat = load_catalog()
    f = Forecast(START, 24, (("id_card", (40_000,) * 24), ("bank_card", (20_000,) * 24)))
    _stopped_with_nothing(monkeypatch)
    r = plan(cat, f, purchase_months="any", monthly_budget=Decimal(3000))
    monkeypatch.setattr(planner, "RENEWALS", (12,))
    yearly = plan(cat, f, purchase_months="any", monthly_budget=Decimal(3000))
    assert r.status == yearly.status == "feasible"
    assert max(c.packs for c in r.bill.cashflow()[:24]) <= 3000
    assert r.bill.total_cost < yearly.bill.total_cost


def test_highs_gets_the_limit_less_the_time_pulp_took_to_build_its_model(monkeypatch):
    """PuLP builds HiGHS's model before it runs: 2 s for the budget's choice model of
    105,152 columns, spent beyond a time limit HiGHS was given whole."""
    import pulp

    from optimizer.solve import solvers
    cls = solvers._highs_class()
    real_build, real_solve, limits = cls.buildSolverModel, cls._solve, []

    def slow_build(self, lp):
        time.sleep(0.5)
        return real_build(self, lp)

    def solve_(self, lp, listener):
        limits.append(lp.solverModel.getOptions().time_limit)
        return real_solve(self, lp, listener)
    monkeypatch.setattr(cls, "buildSolverModel", slow_build)
    monkeypatch.setattr(cls, "_solve", solve_)
    prob = pulp.LpProblem("p", pulp.LpMinimize)
    x = prob.add_variable("x", 0, 10, cat="Integer")
    prob += 3 * x
    prob += x >= 2.5
    out = solvers.solve(prob, "highs", 10)
    assert out.status is solvers.Status.OPTIMAL and round(out.objective) == 9
    assert len(limits) == 1 and limits[0] <= 9.5


def test_a_joint_model_stops_building_when_the_time_limit_runs_out(monkeypatch):
    """Six products' cohort models took 2.3 s to build, past a 2 s limit, and then were
    not solved at all: the clock is looked at between two products' models, and a group
    out of time is a solve out of time before any plan."""
    from optimizer.solve import engines, planner
    cat = load_catalog(None)
    f = Forecast(START, 4, tuple((p, (20_000, 30_000, 25_000, 40_000))
                                 for p in ("id_card", "bank_card", "vat_invoice")))
    req = planner._request(cat, f, (), (), "any", "highs", 0.3, "expected", None,
                           Decimal(2000), "zero", "auto")
    built, real = [], engines._product_model

    def slow(*args, **kwargs):
        built.append(args[2])
        time.sleep(0.4)             # (each past the whole limit)
        return real(*args, **kwargs)
    monkeypatch.setattr(engines, "_product_model", slow)
    got = engines.by_integer_program(req, 0, ["id_card", "bank_card", "vat_invoice"])
    assert built == ["id_card"]
    assert got.status == "no_solution" and got.counts == {
        "id_card": {}, "bank_card": {}, "vat_invoice": {}}


def test_no_model_is_built_once_the_time_limit_has_run_out(monkeypatch):
    """A product's model begun after the limit (single scenario models, 0.5 s each after a
    2 s limit) is not built; given a start, it is, and its solve completes the start."""
    from optimizer.solve import engines, planner
    cat = load_catalog(None)
    f = Forecast(START, 4, (("id_card", (20_000, 30_000, 25_000, 40_000)),))
    req = planner._request(cat, f, (), (), "any", "highs", 1e-9, "expected", None,
                           Decimal(2000), "zero", "auto")
    built, real = [], engines._product_model

    def record(*args, **kwargs):
        built.append(args[2])
        return real(*args, **kwargs)
    monkeypatch.setattr(engines, "_product_model", record)
    got = engines.by_integer_program(req, 0, ["id_card"])
    assert built == [] and got.status == "no_solution" and got.counts == {"id_card": {}}
    engines.by_integer_program(req, 0, ["id_card"], start={"id_card": {}})
    assert built == ["id_card"]
