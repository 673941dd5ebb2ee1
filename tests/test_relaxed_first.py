"""The after-packs stream models solved first without their relaxable binaries
(engines._relaxed_first, issue #15).

Without the binaries that make each purchase count with all it holds up to its window, the
model may leave balance undrawn: a relaxation. Its optimum stands only where its plan
bills at it; otherwise the exact model goes on. Either way the plan, its cost and its
tie-break keys must be those of the exact model alone.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_any_scenarios import scenarios_of
from test_combinations import START, tie_break
from test_scenario_stream import CATALOG_AP

from optimizer import Forecast, bill, parse_catalog, plan
from optimizer.solve import engines

FACTORS = st.lists(st.sampled_from([Decimal("0.5"), Decimal("0.8"), Decimal("1.3")]),
                   min_size=1, max_size=2)


def _keys(r):
    return r.bill.total_cost, r.bill.pack_cost, *tie_break(r.plan)


def _both(cat, base, scen, worst, monkeypatch):
    """(the plan with the relaxation tried at once, the plan of the exact model alone, how
    each relaxed solve ended: "proved" or "exact after")."""
    ended = []
    relaxed_first = engines._relaxed_first

    def watched(req, gm, start):
        out, relaxed = relaxed_first(req, gm, start)
        if any(pm.relaxable for pm in gm.models.values()) and (
                relaxed or gm.prob.get_constraint_by_name("relaxed_bound") is not None):
            ended.append("proved" if relaxed else "exact after")
        return out, relaxed

    monkeypatch.setattr(engines, "_relaxed_first", watched)
    monkeypatch.setattr(engines, "TIE_BREAK_SHARE", 100.0)  # every re-solve finishes
    kw = dict(purchase_months="any", scenarios=scen, regret=False,
              objective="worst-case" if worst else "expected")
    monkeypatch.setattr(engines, "RELAX_AFTER", 0.0)
    first = plan(cat, base, **kw)
    monkeypatch.setattr(engines, "RELAX_AFTER", float("inf"))
    exact = plan(cat, base, **kw)
    return first, exact, ended


@settings(max_examples=25, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(calls=st.lists(st.integers(0, 9000), min_size=3, max_size=7),
       validity=st.integers(2, 3), small=st.sampled_from(["75", "95", "120"]),
       factors=FACTORS, worst=st.booleans())
def test_relaxation_first_plans_as_the_exact_model(calls, validity, small, factors, worst):
    """Whichever way the relaxation ends, the plan's cost and tie-break keys are the exact
    model's, and every scenario's bill reproduces them."""
    cat = parse_catalog(CATALOG_AP.format(validity=validity, small=small), "x.toml")
    base = Forecast(START, len(calls), (("p", tuple(calls)),))
    scen = scenarios_of(base, factors)
    with pytest.MonkeyPatch.context() as mp:
        first, exact, ended = _both(cat, base, scen, worst, mp)
    for how in ended:
        event(how)
    assert first.status == exact.status == "optimal"
    assert first.tie_break_proven and exact.tie_break_proven
    assert _keys(first) == _keys(exact)
    for s, o in zip(scen, first.scenarios):
        assert bill(cat, s.forecast, first.plan).total_cost == o.bill.total_cost


@pytest.mark.parametrize("calls, validity, small, factors, how", [
    # the relaxation leaves balance undrawn: its plan bills dearer, the exact model goes on
    ((238, 1502, 6775), 2, "75", ("0.5",), "exact after"),
    ((4226, 7959, 399, 6826), 2, "75", ("1.3", "0.5"), "exact after"),
    # its plan draws all it holds: the relaxation's optimum stands
    ((1800, 4300, 1200, 3100, 900), 2, "95", ("0.8",), "proved"),
])
def test_each_end_of_the_relaxation(calls, validity, small, factors, how, monkeypatch):
    """Both ends of the relaxed solve on instances known to reach them (the first two
    crashed with a plan billed dearer than it was solved at while the binaries, once
    relaxed, were not made integer again)."""
    cat = parse_catalog(CATALOG_AP.format(validity=validity, small=small), "x.toml")
    base = Forecast(START, len(calls), (("p", tuple(calls)),))
    scen = scenarios_of(base, [Decimal(f) for f in factors])
    first, exact, ended = _both(cat, base, scen, False, monkeypatch)
    assert ended == [how]
    assert first.status == "optimal" and first.tie_break_proven
    assert _keys(first) == _keys(exact)


def test_a_tie_break_the_relaxation_ends_off_the_optimum_is_found_again_exactly(monkeypatch):
    """Where the relaxation proves the cost but its tie-break re-solves end at a plan that
    bills dearer (made so here: the first re-solves' plan buys nothing), the exact model's
    re-solves start again from the relaxation's first plan: the keys are the exact ones."""
    cat = parse_catalog(CATALOG_AP.format(validity=2, small="95"), "x.toml")
    calls = (1800, 4300, 1200, 3100, 900)
    base = Forecast(START, len(calls), (("p", calls),))
    scen = scenarios_of(base, [Decimal("0.8")])
    runs = []
    prefer = engines._prefer_less_prepaid

    def off_the_optimum(req, gm, best, values, *args):
        runs.append(any(pm.relaxable and pm.relaxable[0].cat == "Continuous"
                        for pm in gm.models.values()))
        if len(runs) == 1:
            return {pid: {} for pid in values}, 0.0, True
        return prefer(req, gm, best, values, *args)

    monkeypatch.setattr(engines, "_prefer_less_prepaid", off_the_optimum)
    first, exact, ended = _both(cat, base, scen, False, monkeypatch)
    assert ended == ["proved"]
    assert runs[:2] == [True, False]        # the relaxed model's, then the exact model's
    assert first.status == "optimal" and first.tie_break_proven
    assert _keys(first) == _keys(exact)


def test_a_relaxation_infeasible_under_a_ceiling_ends_the_solve(monkeypatch):
    """No plan of the relaxation within a ceiling means none of the exact model either: the
    answer is "none within it" without solving the exact model again (its first solve is
    made to stop without a plan, so that the relaxation runs)."""
    from optimizer.solve import planner, solvers
    from optimizer.solve.solvers import SolveOutcome, Status
    cat = parse_catalog(CATALOG_AP.format(validity=2, small="95"), "x.toml")
    calls = (1800, 4300, 1200, 3100, 900)
    base = Forecast(START, len(calls), (("p", calls),))
    scen = scenarios_of(base, [Decimal("0.8")])
    req = planner._request(cat, base, (), scen, "any", "highs", None, "expected", None, None,
                           "zero", "auto")
    best = engines.by_integer_program(req, 0, ["p"])
    assert best.optimal
    solved = []
    solve = solvers.solve

    def first_stopped(prob, *args, **kw):
        solved.append(prob.name)
        if len(solved) == 1:
            return SolveOutcome(Status.NO_SOLUTION, None, None, 0.0, "highs", "stopped")
        return solve(prob, *args, **kw)

    monkeypatch.setattr(solvers, "solve", first_stopped)
    monkeypatch.setattr(engines, "RELAX_AFTER", 0.0)
    r = engines.by_integer_program(req, 1, ["p"], ceiling=best.objective - 1)
    assert r.objective is None and r.status == "no_solution"
    assert r.bound == best.objective           # the ceiling plus one: nothing at or below it
    assert len(solved) == 2                    # the exact model's, the relaxation's


def test_the_relaxations_progress_is_labelled_as_such(monkeypatch):
    """Progress reports of the relaxed solve name it: its incumbent is the relaxation's
    objective, which can lie below what its plan bills."""
    from optimizer.solve import solvers
    cat = parse_catalog(CATALOG_AP.format(validity=2, small="95"), "x.toml")
    calls = (1800, 4300, 1200, 3100, 900)
    base = Forecast(START, len(calls), (("p", calls),))
    scen = scenarios_of(base, [Decimal("0.8")])
    seen = []
    monkeypatch.setattr(engines, "RELAX_AFTER", 0.0)
    with solvers.reporting(seen.append):
        r = plan(cat, base, purchase_months="any", scenarios=scen, regret=False)
    assert r.status == "optimal"
    labels = {p.label for p in seen}
    assert "p (relaxed)" in labels and labels <= {"p", "p (relaxed)"}
