"""The benchmarks' extra solvers (benchmarks/solvers_extra.py: SCIP, CP-SAT), the solver
report (solved counts, shifted geometric means, the bill-only floor) and the second opinion
on HiGHS's optima (benchmarks/second_opinion.py).

Each adapter must prove the optimum that exhaustive search and the planner's dynamic program
find, report a run stopped by its time limit as feasible with an honest bound, and a solver
that is not installed must make its runs "skipped" with the reason, not failures.
"""

from __future__ import annotations

import itertools
import math
import sys
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pulp
import pytest

from benchmarks import solvers_extra as X
from benchmarks.baseline import solve_baseline
from benchmarks.cli import config_from, parser
from benchmarks.exhaustive import search
from benchmarks.families import FAMILIES, START
from benchmarks.files import catalog_toml, forecast_csv
from benchmarks.floor import bill_only
from benchmarks.methods import run_method, split_method
from benchmarks.report import shifted_geomean, solver_table
from benchmarks.runner import Config, Report, run
from optimizer.billing import bill
from optimizer.domain.records import Forecast
from optimizer.io.catalog import load_catalog, parse_catalog
from optimizer.io.forecast import parse_forecast
from optimizer.solve.planner import plan
from optimizer.solve.solvers import Status

EXTRA = pytest.mark.parametrize("solver", ["scip", "cpsat"])


def _need(solver):
    pytest.importorskip(X.MODULES[solver])


def _top_ups():
    """Validity 3 months over 6: the any-month optimum buys after the first month."""
    catalog = replace(load_catalog(), validity_months=3)
    forecast = Forecast(START, 6, (
        ("id_card", (9000, 9000, 30000, 30000, 60000, 60000)),
        ("bank_card", (2000, 60000, 80000, 2000, 45000, 2000)),
        ("vat_invoice", (5000,) * 6)), "top-ups")
    return catalog, forecast


@EXTRA
@pytest.mark.parametrize("joint", [True, False])
def test_start_mode_baseline_proves_the_exhaustive_optimum(solver, joint):
    _need(solver)
    for family in ("mixed-12m", "after-packs"):
        inst = FAMILIES[family].instance(2)
        best = search(inst.catalog, inst.forecast, None).cost
        out = solve_baseline(inst.catalog, inst.forecast, solver, 60, joint)
        assert out.status == "optimal", (family, out.messages)
        billed = bill(inst.catalog, inst.forecast, out.plan).total_cost
        assert billed == best, (family, billed, best)
        assert out.objective_units == billed * 100


@EXTRA
def test_any_month_baseline_proves_the_dynamic_programs_optimum(solver):
    _need(solver)
    catalog, forecast = _top_ups()
    ours = plan(catalog, forecast, purchase_months="any")
    out = solve_baseline(catalog, forecast, solver, 60, False, "any")
    assert out.status == "optimal", out.messages
    billed = bill(catalog, forecast, out.plan).total_cost
    assert billed == ours.bill.total_cost
    assert any(p.month != START for p in out.plan.purchases)


@EXTRA
def test_the_planners_integer_program_runs_on_the_solver(solver):
    _need(solver)
    inst = FAMILIES["any-12m"].instance(2)
    ref = run_method("ours-milp-highs", inst, 60, 1000)
    rec = run_method(f"ours-milp-{solver}", inst, 60, 1000)
    assert rec["status"] == "optimal" and not rec["problems"], rec
    assert rec["billed"] == rec["objective"] == ref["billed"]
    # the planner's list of solvers is restored afterwards
    with pytest.raises(Exception, match="solver"):
        plan(inst.catalog, inst.forecast, solver=solver, purchase_months="any",
             algorithm="milp")


def _market_split(m=4, n=34, seed=7):
    """Cornuejols-Dawande market split: feasible at once (all zero), hard to prove."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, size=(m, n))
    prob = pulp.LpProblem("split", pulp.LpMinimize)
    x = [prob.add_variable(f"x{j}", cat="Binary") for j in range(n)]
    plus = [prob.add_variable(f"p{i}", 0) for i in range(m)]
    minus = [prob.add_variable(f"q{i}", 0) for i in range(m)]
    for i in range(m):
        prob += pulp.lpSum(int(a[i, j]) * x[j] for j in range(n)) + plus[i] - minus[i] \
            == int(a[i].sum()) // 2, f"split_{i}"
    prob += pulp.lpSum(plus) + pulp.lpSum(minus)
    for v in x:                       # a start the solver may use: buy nothing
        v.varValue = 0
    return prob


@EXTRA
def test_a_time_limited_run_is_feasible_never_optimal(solver):
    _need(solver)
    prob = _market_split()
    out = X.solve(prob, solver, 1.0, warm=True)
    assert out.status is Status.FEASIBLE, out
    assert out.objective is not None and out.bound is not None and out.bound < out.objective
    assert out.seconds < 30                  # stopped by the limit, not by the proof
    # the values were read back into the PuLP variables: they give the objective
    assert pulp.value(prob.objective) == pytest.approx(out.objective)


def test_cpsat_translation_scales_rows_and_certifies_boxes():
    _need("cpsat")
    # min 3a + b + 0.5c  s.t.  a + b >= 5.5 (whole: >= 6),  0.25b + c >= 1.5,  a, b, c >= 0
    # integer and unbounded above (boxed). Optimum over the integers, by enumeration: 7.
    prob = pulp.LpProblem("t", pulp.LpMinimize)
    a, b, c = (prob.add_variable(n, 0, cat="Integer") for n in "abc")
    prob += a + b >= 5.5
    prob += 0.25 * b + c >= 1.5
    prob += 3 * a + b + 0.5 * c
    best = min(3 * i + j + 0.5 * k for i, j, k in itertools.product(range(12), repeat=3)
               if i + j >= 5.5 and 0.25 * j + k >= 1.5)
    out = X.solve(prob, "cpsat", 10)
    assert out.status is Status.OPTIMAL and out.objective == best == 6.0
    # a negative cost on a variable nothing bounds (the model is unbounded below): the
    # box's optimum is not claimed, and no bound either
    prob2 = pulp.LpProblem("u", pulp.LpMinimize)
    y, w = prob2.add_variable("y", 0, cat="Integer"), prob2.add_variable("w", 0, cat="Integer")
    prob2 += y - w == 0
    prob2 += -1 * y
    out2 = X.solve(prob2, "cpsat", 10)
    assert out2.status is Status.FEASIBLE and out2.bound is None, out2


def test_a_missing_solver_is_skipped_with_the_reason(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyscipopt", None)      # import fails as if absent
    why = X.unavailable("scip")
    assert why.startswith("skipped: scip not installed") and "[bench]" in why
    inst = FAMILIES["mixed-12m"].instance(2)
    rec = run_method("baseline-scip", inst, 10, 1000)
    assert rec["status"] == "skipped" and rec["note"] == why
    cfg = Config(families=("mixed-12m",), sizes=(2, 3), solvers=("highs", "scip"),
                 methods=("ours-highs", "baseline-scip"), repeat=1, time_limit=30,
                 isolate=False, e2e=False, progress=False)
    report = run(cfg)
    assert report.failures == []
    scip = [r for r in report.rows if r["method"] == "baseline-scip"]
    assert len(scip) == 2 and all(r["status"] == "skipped" and r["note"] == why for r in scip)
    table = {r["method"]: r for r in solver_table(report)}
    assert table["baseline-scip"]["note"] == why and table["baseline-scip"]["runs"] == 0
    assert table["ours-highs"]["solved"] == 2 and table["bill-only"]["solved"] == 2


def test_solver_names():
    cfg = config_from(parser().parse_args(["--family", "any-12m", "--solvers", "highs,cpsat"]))
    methods = cfg.method_list()
    assert {"ours-highs", "ours-milp-cpsat", "baseline-cpsat", "baseline-pp-cpsat",
            "ours-joint-cpsat"} <= set(methods)
    assert "ours-cpsat" not in methods and not any(m.endswith("-cbc") for m in methods)
    # Side by side: every integer-programming method with every solver listed, CBC too.
    cfg = config_from(parser().parse_args(["--family", "any-12m", "--solvers",
                                           "highs,cbc,scip,cpsat"]))
    methods = cfg.method_list()
    for kind in ("ours-milp", "ours-joint", "baseline", "baseline-pp"):
        assert {f"{kind}-{s}" for s in ("highs", "cbc", "scip", "cpsat")} <= set(methods)
    assert len(methods) == len(set(methods))
    plain = config_from(parser().parse_args(["--family", "any-12m"])).method_list()
    assert "baseline-cbc" not in plain           # the default sweep stays as it was
    with pytest.raises(ValueError, match="integer-programming"):
        split_method("ours-scip")
    with pytest.raises(SystemExit):
        config_from(parser().parse_args(["--solvers", "gurobi"]))
    with pytest.raises(SystemExit):
        config_from(parser().parse_args(["--methods", "ours-cpsat"]))


def _run(method, inst, rep, status, wall, verified="yes", note=""):
    return {"method": method, "instance": inst, "family": "f", "size": 1, "repeat": rep,
            "status": status, "wall_s": wall, "verified": verified, "note": note}


def test_solved_counts_and_shifted_geometric_means():
    assert shifted_geomean([1.0, 1.0]) == pytest.approx(1.0)
    assert shifted_geomean([0.0, 3.0]) == pytest.approx(1.0)      # sqrt(1 * 4) - 1
    runs = [_run("ours-highs", "f/1", 1, "optimal", 1.0), _run("ours-highs", "f/1", 2,
                                                                "optimal", 1.0),
            _run("ours-highs", "f/2", 1, "optimal", 3.0), _run("ours-highs", "f/2", 2,
                                                                "optimal", 3.0),
            # timed out on f/1 (its repeat not run), given up on the larger f/2
            _run("baseline-highs", "f/1", 1, "feasible", 10.2, "not optimal"),
            _run("baseline-highs", "f/2", 1, "skipped", 0.0, "", "skipped: timed out"),
            # n/a on f/2: left out of its count
            _run("ours-milp-highs", "f/1", 1, "optimal", 0.0),
            _run("ours-milp-highs", "f/1", 2, "error", 0.5, "FAIL: crashed"),
            _run("ours-milp-highs", "f/2", 1, "skipped", 0.0, "", "n/a (start mode)")]
    report = Report({"repeat": 2, "time_limit": 10.0,
                     "method_list": ["ours-highs", "baseline-highs", "ours-milp-highs"]},
                    {}, runs)
    table = {r["method"]: r for r in solver_table(report)}
    ours, base, milp = table["ours-highs"], table["baseline-highs"], table["ours-milp-highs"]
    assert (ours["solved"], ours["runs"]) == (4, 4)
    assert ours["sgm_s"] == pytest.approx(math.sqrt(2 * 4) - 1)
    assert (base["solved"], base["runs"]) == (0, 4) and base["sgm_s"] == pytest.approx(10)
    assert (milp["solved"], milp["runs"]) == (1, 2)
    assert milp["sgm_s"] == pytest.approx(math.sqrt(1 * 11) - 1)
    assert base["ratio"] == pytest.approx(10 / (math.sqrt(8) - 1))


def test_bill_only_reads_what_the_instance_holds():
    inst = FAMILIES["mixed-12m"].instance(4)
    catalog = parse_catalog(catalog_toml(inst.catalog), "written")
    assert [(p.id, p.packs, p.tiers, p.free_calls) for p in catalog.products] == \
        [(p.id, p.packs, p.tiers, p.free_calls) for p in inst.catalog.products]
    assert (catalog.validity_months, catalog.tier_basis) == \
        (inst.catalog.validity_months, inst.catalog.tier_basis)
    forecast = parse_forecast(forecast_csv(inst.forecast), catalog)
    assert forecast.demand == inst.forecast.demand and forecast.start == inst.forecast.start
    best = plan(inst.catalog, inst.forecast)
    rows = [[p.product, str(p.month), p.size, p.count] for p in best.plan.purchases]
    recs = bill_only(inst, rows, 2)
    assert len(recs) == 2 and all(r["billed"] == str(best.bill.total_cost) for r in recs)


def test_second_opinion_agrees_and_reports_a_model_that_differs(monkeypatch, capsys):
    """benchmarks/second_opinion.py: each model HiGHS calls optimal is solved again; a
    second optimum that differs is printed and makes the exit status 1."""
    from benchmarks import second_opinion as S
    args = ["any-scenarios-12m", "--basis", "after-packs", "--size", "1", "--seeds", "1"]
    assert S.main(args) == 0
    assert "1 agree, 0 differ" in capsys.readouterr().out
    real = S.second_opinion
    monkeypatch.setattr(S, "second_opinion", lambda prob, limit: real(prob, limit) - 100)
    assert S.main(args) == 1
    assert "DIFFERENT" in capsys.readouterr().out


def test_cross_milp_agrees_on_small_instances_and_reports_a_difference(capsys):
    """benchmarks/cross_milp.py: the default route and algorithm="milp" agree on a few
    short random capped instances; a cheaper plan under a proven optimum is a finding."""
    from types import SimpleNamespace

    from benchmarks import cross_milp
    assert cross_milp.main(["--seeds", "7", "--count", "4", "--months", "3,4",
                            "--time-limit", "30"]) == 0
    assert "0 instance(s) differ" in capsys.readouterr().out

    def result(status, cost, spend=0, proven=True):
        return SimpleNamespace(status=status, objective_cost=Decimal(cost),
                               bill=SimpleNamespace(pack_cost=Decimal(spend)),
                               plan=SimpleNamespace(purchases=()), tie_break_proven=proven)
    assert cross_milp.compare(result("optimal", 10), result("optimal", 10)) is None
    assert "both optimal" in cross_milp.compare(result("optimal", 10), result("optimal", 11))
    assert "both optimal" in cross_milp.compare(result("optimal", 10, 5),
                                                result("optimal", 10, 4))
    assert cross_milp.compare(result("optimal", 10, 5),
                              result("optimal", 10, 4, proven=False)) is None
    assert "beats" in cross_milp.compare(result("optimal", 10), result("feasible", 9))
    assert "beats" in cross_milp.compare(result("feasible", "9.5"), result("optimal", 10))
    assert cross_milp.compare(result("feasible", 11), result("optimal", 10)) is None
