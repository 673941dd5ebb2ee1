"""The CBC adapter (optimizer/solve/solvers.py): a wrong "optimal" is caught by the HiGHS
cross-check, and a stalled CBC process is killed and restarted (benchmarks/README.md,
"Findings" 1 and 2)."""

from __future__ import annotations

import os
import signal
import sys
import warnings
from dataclasses import replace
from decimal import Decimal

import pulp
import pytest
from helpers import custom_catalog, two_pack_model

from benchmarks.baseline import add_product, solve_baseline
from benchmarks.families import FAMILIES
from optimizer.billing import bill
from optimizer.domain.records import Forecast
from optimizer.solve import solvers
from optimizer.solve.solvers import Status, solve

# The smallest known reproduction (benchmarks/README.md, "Findings" 1): family after-packs,
# size 9, seed 2027, product id_card-0008 alone, the big-M baseline model.
PRODUCT = "id_card-0008"
OPTIMUM = Decimal("144323.58")
CBC_CLAIM = 17851117           # fen: what the bundled CBC calls optimal on its own


def known_instance():
    inst = FAMILIES["after-packs"].instance(9)
    fc = inst.forecast
    one = Forecast(fc.start, fc.months, ((PRODUCT, fc.calls(PRODUCT)),), "one product")
    return inst.catalog, one


def big_m_model():
    catalog, fc = known_instance()
    prob = pulp.LpProblem("known", pulp.LpMinimize)
    h = add_product(prob, catalog.product(PRODUCT), fc.calls(PRODUCT),
                    catalog.validity_months, catalog.tier_basis, 100, "_0")
    prob += h.cost
    return prob


def test_the_bundled_cbc_alone_still_claims_a_dearer_optimum():
    """The reproduction holds: PuLP's CBC, called directly, says "Optimal" at 178,511.17."""
    prob = big_m_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        prob.solve(pulp.PULP_CBC_CMD(msg=False, gapRel=0.0, gapAbs=0.5, threads=1))
    assert pulp.LpStatus[prob.status] == "Optimal"
    assert round(pulp.value(prob.objective)) == CBC_CLAIM


def test_the_adapter_returns_the_true_optimum_on_the_known_instance():
    out = solve(big_m_model(), "cbc")
    assert out.status is Status.OPTIMAL
    assert round(out.objective) == int(OPTIMUM * 100)
    assert "cross-check" in out.message and str(CBC_CLAIM) in out.message


def test_the_baseline_plan_through_cbc_bills_to_the_optimum():
    """End to end: the big-M baseline solved with CBC gives a plan the billing engine bills
    at the proven optimum (exhaustive search and HiGHS agree on it: README's table)."""
    catalog, fc = known_instance()
    out = solve_baseline(catalog, fc, "cbc", joint=False)
    assert out.status == "optimal"
    assert bill(catalog, fc, out.plan).total_cost == OPTIMUM
    assert out.objective_units == int(OPTIMUM * 100)


def test_a_confirmed_optimum_keeps_cbcs_own_solution(monkeypatch):
    seen = []
    real = solvers._solve_highs

    def spy(prob, *a, **k):
        seen.append(k.get("warm"))
        return real(prob, *a, **k)
    monkeypatch.setattr(solvers, "_solve_highs", spy)
    prob, x, y = two_pack_model(7)
    out = solve(prob, "cbc")
    assert out.status is Status.OPTIMAL and round(out.objective) == 11
    assert seen == [True]                        # HiGHS started from CBC's solution
    assert (x.value(), y.value()) == (2, 1)


def test_a_cross_check_that_does_not_settle_leaves_a_feasible_plan(monkeypatch):
    """HiGHS out of time with a bound below CBC's optimum: not proven, so "feasible" with
    HiGHS's bound, and CBC's solution stays in the variables."""
    def slow(prob, time_limit, warm=False, progress=None, options=None):
        return solvers.SolveOutcome(Status.FEASIBLE, 11.0, 9.0, 0.1, "highs", "Time limit")
    monkeypatch.setattr(solvers, "_solve_highs", slow)
    prob, x, y = two_pack_model(7)
    out = solve(prob, "cbc", time_limit=5)
    assert out.status is Status.FEASIBLE and out.bound == 9.0 and round(out.objective) == 11
    assert round(pulp.value(prob.objective)) == 11


def test_a_cross_check_that_beats_cbc_without_proof_is_not_optimal(monkeypatch):
    real = solvers._solve_highs

    def stopped(prob, time_limit, warm=False, progress=None, options=None):
        out = real(prob, time_limit, warm, progress)
        return replace(out, status=Status.FEASIBLE, bound=out.objective - 1000)
    monkeypatch.setattr(solvers, "_solve_highs", stopped)
    out = solve(big_m_model(), "cbc")
    assert out.status is Status.FEASIBLE
    assert round(out.objective) == int(OPTIMUM * 100)


def test_watch_kills_a_process_that_uses_no_cpu(tmp_path):
    with open(tmp_path / "log", "w") as log, pytest.raises(solvers._Stalled):
        solvers.watch(["sleep", "30"], log, stall_seconds=0.3)


def test_watch_kills_a_busy_process_nobody_waits_for(tmp_path):
    """Under `stopped_by` (the loser of the split and the joint model, a raised plan
    cancelled) a CBC process is killed once the event is set, not left to its end."""
    import threading
    import time
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    t0 = time.monotonic()
    with open(tmp_path / "log", "w") as log, solvers.stopped_by(stop):
        code = solvers.watch([sys.executable, "-c", "import time\nt = time.time() + 20\n"
                              "while time.time() < t: pass"], log)    # busy for 20 s
    assert code == -signal.SIGKILL
    assert time.monotonic() - t0 < 5


def test_watch_returns_the_exit_code(tmp_path):
    with open(tmp_path / "log", "w") as log:
        assert solvers.watch([sys.executable, "-c", "raise SystemExit(3)"], log) == 3


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux /proc")
def test_a_stalled_cbc_is_killed_and_run_again(tmp_path, monkeypatch):
    """A stand-in CBC that sleeps (no CPU) on its first call: the adapter kills it and the
    second run solves the model."""
    real = solvers._cbc_class().pulp_cbc_path
    marker = tmp_path / "stalled-pid"
    script = tmp_path / "cbc"
    script.write_text(f"#!/bin/sh\nif [ ! -e {marker} ]; then echo $$ > {marker}; "
                      f"exec sleep 60; fi\nexec {real} \"$@\"\n")
    script.chmod(0o755)
    monkeypatch.setattr(solvers._cbc_class(), "pulp_cbc_path", str(script))
    monkeypatch.setattr(solvers, "STALL_SECONDS", 0.3)
    out = solve(_small_model(), "cbc")
    assert out.status is Status.OPTIMAL and round(out.objective) == 9
    assert "restarted after 1 stall" in out.message
    # the sleeping stand-in was killed (and reaped), not left behind
    pid = int(marker.read_text())
    assert not os.path.exists(f"/proc/{pid}")


def test_a_cbc_that_always_stalls_is_an_error_not_a_hang(tmp_path, monkeypatch):
    script = tmp_path / "cbc"
    script.write_text("#!/bin/sh\nexec sleep 60\n")
    script.chmod(0o755)
    monkeypatch.setattr(solvers._cbc_class(), "pulp_cbc_path", str(script))
    monkeypatch.setattr(solvers, "STALL_SECONDS", 0.2)
    monkeypatch.setattr(solvers, "STALL_RETRIES", 1)
    out = solve(_small_model(), "cbc")
    assert out.status is Status.ERROR and "stalled 2 times" in out.message


def _small_model():
    prob = pulp.LpProblem("small", pulp.LpMinimize)
    x = prob.add_variable("x", 0, 10, cat="Integer")
    prob += 3 * x
    prob += x >= 2.5
    return prob


def test_a_cbc_that_crashes_is_run_again_without_preprocessing(tmp_path, monkeypatch):
    """The bundled CBC segfaulted in its cuts on one model (a 14-month after-packs plan
    with a holding, prorata and a monthly cap): `plan --solver cbc` exited 1 where HiGHS
    proved a plan. A stand-in that crashes unless asked for no preprocessing."""
    real = solvers._cbc_class().pulp_cbc_path
    script = tmp_path / "cbc"
    script.write_text(f"#!/bin/sh\ncase \"$*\" in *preprocess*) exec {real} \"$@\";; esac\n"
                      f"kill -SEGV $$\n")
    script.chmod(0o755)
    monkeypatch.setattr(solvers._cbc_class(), "pulp_cbc_path", str(script))
    out = solve(_small_model(), "cbc")
    assert out.status is Status.OPTIMAL and round(out.objective) == 9


def test_a_cbc_that_always_crashes_is_an_error_that_says_so(tmp_path, monkeypatch):
    script = tmp_path / "cbc"
    script.write_text("#!/bin/sh\nkill -SEGV $$\n")
    script.chmod(0o755)
    monkeypatch.setattr(solvers._cbc_class(), "pulp_cbc_path", str(script))
    out = solve(_small_model(), "cbc")
    assert out.status is Status.ERROR
    assert out.message.startswith("CBC died of signal 11, with preprocessing and without")


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_the_bound_includes_the_objectives_constant(solver):
    """PuLP gives the solver the objective without its constant; the bound reported must
    be on the same footing as the objective (a stopped solve's gap is their difference)."""
    prob = pulp.LpProblem("offset", pulp.LpMinimize)
    x = prob.add_variable("x", 0, 10, cat="Integer")
    y = prob.add_variable("y", 0, 10, cat="Integer")
    prob += 3 * x + 5 * y + 1_000_000
    prob += 2 * x + 3 * y >= 7
    out = solve(prob, solver)
    assert out.status is Status.OPTIMAL
    assert out.objective == pytest.approx(1_000_011)
    assert out.bound == pytest.approx(out.objective)


def market_split(seed: int = 3, m: int = 4, n: int = 30) -> pulp.LpProblem:
    """A market-split problem with slack (always feasible, hard to prove): a solver
    stopped after a second has a plan and a bound. Its objective has a constant."""
    import random
    rng = random.Random(seed)
    prob = pulp.LpProblem("split", pulp.LpMinimize)
    x = [prob.add_variable(f"x{j}", 0, 1, cat="Integer") for j in range(n)]
    up = [prob.add_variable(f"up{i}", 0) for i in range(m)]
    down = [prob.add_variable(f"down{i}", 0) for i in range(m)]
    for i in range(m):
        a = [rng.randrange(100) for _ in range(n)]
        prob += pulp.lpSum(a[j] * x[j] for j in range(n)) + up[i] - down[i] == sum(a) // 2
    prob += pulp.lpSum(up) + pulp.lpSum(down) + 1_000_000
    return prob


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_a_stopped_solves_bound_includes_the_objectives_constant(solver):
    """Stopped by the clock, the bound is on the objective's footing: never below the
    constant, every other term being non-negative (before: about 0)."""
    out = solve(market_split(), solver, time_limit=1)
    assert out.status in (Status.FEASIBLE, Status.OPTIMAL) and out.bound is not None
    assert 1_000_000 <= out.bound <= out.objective + solvers.ABS_GAP


def test_an_infeasible_verdict_of_cbcs_preprocessing_is_checked_without_it():
    """CBC 2.10's preprocessing called a feasible model infeasible ("Pre-processing says
    infeasible"): start mode, after-packs, a holding bought after the horizon's start,
    two scenarios and a budget of 0, where buying nothing is a plan. `plan --solver cbc`
    exited 2 ("no plan satisfies these options"); found by the option-matrix check run
    with CBC. The verdict is now checked by CBC without its preprocessing."""
    sys.path.insert(0, os.path.dirname(__file__))
    from test_combinations import START, catalog, forecast

    from optimizer import Holding, Scenario, plan
    cat = catalog(2, "after-packs", "75")
    base = forecast([0, 2625], [0, 0])
    options = dict(purchase_months="start", holdings=(Holding("p", START + 3, 1200),),
                   scenarios=(Scenario("base", Decimal(2), base),
                              Scenario("low", Decimal(1), base.scaled(Decimal("0.8")))),
                   budget=Decimal(0), regret=False)
    by_cbc = plan(cat, base, solver="cbc", **options)
    by_highs = plan(cat, base, solver="highs", **options)
    assert by_cbc.status == "optimal" and by_cbc.objective_cost == by_highs.objective_cost
    assert not by_cbc.plan.purchases
    assert bill(cat, base, by_cbc.plan, options["holdings"]).total_cost \
        == by_cbc.bill.total_cost


def test_an_infeasible_verdict_without_time_to_check_it_is_no_proof(monkeypatch):
    """`plan --solver cbc --time-limit 0.01` (prorata, scenarios, a holding, a monthly cap)
    exited 2, "no plan satisfies these options": CBC cut short by its limit wrote no
    result line and PuLP read the run as infeasible, with no time left to check it (found
    by a randomized run of short limits). Such a verdict is now no proof: no plan yet."""
    prob = pulp.LpProblem("cut_short", pulp.LpMinimize)
    x = prob.add_variable("x", 0, 10, cat="Integer")
    prob += x
    prob += x >= 3

    def cut_short(self, lp, *args, **kwargs):        # what PuLP makes of such a run
        lp.assignStatus(pulp.LpStatusInfeasible, pulp.LpSolutionInfeasible)
        import time
        time.sleep(0.15)
        return pulp.LpStatusInfeasible
    monkeypatch.setattr(solvers._cbc_class(), "actualSolve", cut_short)
    out = solve(prob, "cbc", 0.1)
    assert out.status is Status.NO_SOLUTION
    # Within its time, a presolve's verdict stands (a ceiling row can make one).
    assert solvers._solve_cbc_once(prob, None).status is Status.INFEASIBLE


def _infeasible_by_cbc(monkeypatch):
    """CBC made to call every model infeasible, with its preprocessing and without."""
    def says_infeasible(prob, time_limit, t0, preprocess=True):
        return solvers.SolveOutcome(Status.INFEASIBLE, None, None, 0.01, "cbc",
                                    "Infeasible"), 0
    monkeypatch.setattr(solvers, "_restarting_cbc", says_infeasible)


def test_an_infeasible_verdict_of_cbc_is_checked_by_highs(monkeypatch):
    """`plan --solver cbc --budget 0` on a few hundred million calls a month exited 2, "no
    plan satisfies these options", where buying nothing is a plan (found by a randomized
    run of the option matrix; that verdict came from the planner's retry). CBC's own
    "infeasible", with its preprocessing and without, is now checked by HiGHS too: a plan
    HiGHS finds stands, proven where HiGHS proves it; a model HiGHS proves infeasible
    too stays infeasible."""
    _infeasible_by_cbc(monkeypatch)
    prob = pulp.LpProblem("feasible", pulp.LpMinimize)
    x = prob.add_variable("x", 0, 10, cat="Integer")
    prob += x
    prob += x >= 2.5
    out = solve(prob, "cbc")
    assert out.status is Status.OPTIMAL and round(out.objective) == 3
    assert out.solver == "cbc" and "HiGHS cross-check found a plan" in out.message
    assert round(x.varValue) == 3
    prob += x <= 2, "none"
    assert solve(prob, "cbc").status is Status.INFEASIBLE


def test_an_infeasible_verdict_highs_cannot_settle_in_time_is_no_proof(monkeypatch):
    """CBC's "infeasible" that the HiGHS check does not settle within the time left: no
    plan, and nothing proven (not "no plan satisfies these options")."""
    _infeasible_by_cbc(monkeypatch)

    def stopped(prob, time_limit, warm=False, progress=None, start=None, seed=None,
                options=None):
        return solvers.SolveOutcome(Status.NO_SOLUTION, None, None, time_limit or 0.0,
                                    "highs", "Time limit reached")
    monkeypatch.setattr(solvers, "_solve_highs", stopped)
    prob = pulp.LpProblem("unsettled", pulp.LpMinimize)
    x = prob.add_variable("x", 0, 10, cat="Integer")
    prob += x
    prob += x >= 2.5
    out = solve(prob, "cbc", 5)
    assert out.status is Status.NO_SOLUTION
    assert "not confirmed by HiGHS" in out.message


def test_a_warm_cross_check_that_errs_is_run_again_without_the_start(monkeypatch):
    """HiGHS started from CBC's plan said "optimal" with an objective its columns (the
    start's) do not reach (Status.ERROR): the cross-check left a proven optimum "feasible"
    with no time limit at all. It now solves once more without the start."""
    seen = []
    real = solvers._solve_highs

    def erring(prob, time_limit, warm=False, progress=None, options=None, **k):
        seen.append(warm)
        out = real(prob, time_limit, warm=warm, progress=progress, options=options, **k)
        return replace(out, status=Status.ERROR, bound=out.objective - 40) if warm else out
    monkeypatch.setattr(solvers, "_solve_highs", erring)
    prob, x, y = two_pack_model(7)
    out = solve(prob, "cbc")
    assert seen == [True, False]
    assert out.status is Status.OPTIMAL and round(out.objective) == 11


def test_cbc_proves_the_optimum_of_a_yearly_cap_a_warm_highs_misreads():
    """The instance a randomized run found (one product, 16 months, validity 24, a yearly
    cap): CBC's optimum 1857.51, which HiGHS alone proves too, came back `feasible` with a
    gap of 8.86 and no time limit given."""
    from optimizer import Month, plan

    cat = custom_catalog('[[product]]\nid = "p1"\npacks = [ { calls = 137, price = "18" }, '
                         '{ calls = 300, price = "19.57" } ]\ntiers = [ { up_to = 2000, '
                         'rate = "0.08" }, { rate = "0.07" } ]\n', free_calls_per_month=100,
                         validity_months=24)
    f = Forecast(Month.parse("2030-09"), 16, (("p1", (1700,) * 16),))
    r = plan(cat, f, purchase_months="any", solver="cbc", yearly_budget=Decimal(441),
             tie_break=False, regret=False)
    assert r.status == "optimal" and r.bill.total_cost == Decimal("1857.51")


def test_a_cbc_solve_stopped_because_its_answer_is_unwanted_is_no_failure():
    """`stopped_by` kills CBC's process once its event is set (frontiers found beside made
    the solve unwanted): that is a solve stopped with nothing to show, as HiGHS's
    interrupted one, not an error (the planner raised SolverError on it)."""
    import threading

    from test_cli_interrupt import _market_split
    stop = threading.Event()
    timer = threading.Timer(1.0, stop.set)
    timer.start()
    with solvers.stopped_by(stop):
        out = solve(_market_split(m=5), "cbc", 120)
    timer.join()
    assert out.status is Status.NO_SOLUTION, out
