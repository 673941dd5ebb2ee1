"""The HiGHS adapter (optimizer/solve/solvers.py): HiGHS now and then rejects its own
answer ("Solve error": a plan it calls optimal fails its final feasibility check by a
hair). That is numerical trouble, not a failed solve: the adapter solves again without
the start, then with another seed, and only an error that persists is reported."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pulp

from optimizer.billing import bill
from optimizer.domain.records import Forecast
from optimizer.io.catalog import parse_catalog
from optimizer.solve import solvers
from optimizer.solve.planner import plan
from optimizer.solve.solvers import SolveOutcome, Status, solve

sys.path.insert(0, str(Path(__file__).parent))
from test_scenario_stream import CATALOG_AP, START, scenarios_of  # noqa: E402


def small_model():
    prob = pulp.LpProblem("small", pulp.LpMinimize)
    x = prob.add_variable("x", 0, 10, cat="Integer")
    y = prob.add_variable("y", 0, 10, cat="Integer")
    prob += 3 * x + 5 * y
    prob += 2 * x + 3 * y >= 13
    return prob, x, y


def failing_first(monkeypatch, errors: int):
    """Make the first `errors` HiGHS runs end in "Solve error"; record every call."""
    real, calls = solvers._solve_highs, []

    def flaky(prob, time_limit, warm=False, progress=None, start=None, seed=None):
        calls.append((warm, start is not None, seed))
        out = real(prob, time_limit, warm, progress, start, seed)
        if len(calls) <= errors:
            return SolveOutcome(Status.ERROR, None, None, out.seconds, "highs", "Solve error")
        return out
    monkeypatch.setattr(solvers, "_solve_highs", flaky)
    return calls


def test_a_solve_error_after_a_start_is_solved_again_without_it(monkeypatch):
    prob, x, y = small_model()
    calls = failing_first(monkeypatch, 1)
    out = solve(prob, "highs", 10, start={x: 5, y: 1})
    assert out.status is Status.OPTIMAL and round(out.objective) == 20   # x = 5, y = 1
    assert calls == [(False, True, None), (False, False, None)]


def test_a_second_error_tries_another_seed_and_a_third_is_reported(monkeypatch):
    prob, x, y = small_model()
    calls = failing_first(monkeypatch, 2)
    assert solve(prob, "highs", 10).status is Status.OPTIMAL
    assert [c[2] for c in calls] == [None, None, 1]
    prob, x, y = small_model()
    calls = failing_first(monkeypatch, 3)
    out = solve(prob, "highs", 10)
    assert out.status is Status.ERROR and len(calls) == 3


def test_the_after_packs_scenario_plan_that_hit_it_is_optimal():
    """Found by test_scenario_stream's randomized check: HiGHS 1.16 ended this model,
    started from the scenarios' own optima, in "Solve error", and `plan` failed."""
    cat = parse_catalog(CATALOG_AP.format(validity=3, small="75"), "x.toml")
    calls = (9000, 0, 1601, 2617)
    base = Forecast(START, len(calls), (("p", calls),))
    scen = scenarios_of(base, [Decimal("0.8")])
    r = plan(cat, base, purchase_months="any", scenarios=scen, regret=False)
    assert r.status == "optimal"
    for s, o in zip(scen, r.scenarios):
        assert bill(cat, s.forecast, r.plan).total_cost == o.bill.total_cost
