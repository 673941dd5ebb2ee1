"""A solve running alone puts the idle core to work (optimizer/solve/solvers.py, `_Twin`):
the same model with another random seed beside it; whichever proves first ends the other.
Either answer must be the model's optimum with its own values, and the twin must never
take a core that other work wants (optimizer/solve/cores.py)."""

from __future__ import annotations

import random
import threading

import pulp

from optimizer.solve import cores, solvers
from optimizer.solve.solvers import Status, solve


def knapsack(n: int = 40, seed: int = 3):
    """A small multi-dimensional knapsack (minimised: the adapter's models minimise) that
    HiGHS branches on, and its value at given counts."""
    rng = random.Random(seed)
    prob = pulp.LpProblem("mkp", pulp.LpMinimize)
    x = [prob.add_variable(f"x{i}", 0, 3, cat="Integer") for i in range(n)]
    value = [rng.randint(10, 100) for _ in range(n)]
    prob += -pulp.lpSum(v * xi for v, xi in zip(value, x))
    for k in range(4):
        w = [rng.randint(20, 100) for _ in range(n)]
        prob += pulp.lpSum(wi * xi for wi, xi in zip(w, x)) <= sum(w) // 2, f"room{k}"
    return prob, x, value


def optimum(n: int, seed: int) -> float:
    """The knapsack's optimum from a solve with no twin (every core counted busy)."""
    prob, _, _ = knapsack(n, seed)
    with _all_cores_busy():
        out = solve(prob, "highs", 60)
    assert out.status is Status.OPTIMAL and not out.twin
    return out.objective


class _all_cores_busy:
    """Other threads computing on every core but this one's."""

    def __enter__(self):
        self.release, self.threads = threading.Event(), []
        for _ in range(cores.cores()):
            entered = threading.Event()

            def hold(entered=entered):
                with cores.working():
                    entered.set()
                    self.release.wait()
            t = threading.Thread(target=hold, daemon=True)
            t.start()
            entered.wait()
            self.threads.append(t)
        return self

    def __exit__(self, *exc):
        self.release.set()
        for t in self.threads:
            t.join()


def twins_started(monkeypatch, after: float = 0.0) -> list:
    """Record each twin as it is armed; it starts `after` seconds into the main solve
    (these models take less than the real delay)."""
    monkeypatch.setattr(solvers, "TWIN_AFTER", after)
    started, real = [], solvers._Twin.__init__

    def init(self, *args):
        real(self, *args)
        started.append(self)
    monkeypatch.setattr(solvers._Twin, "__init__", init)
    return started


def test_a_lone_solve_runs_a_twin_and_its_answer_is_the_optimum(monkeypatch):
    started = twins_started(monkeypatch)
    for seed in (1, 2, 3):
        best = optimum(40, seed)
        prob, x, value = knapsack(40, seed)
        out = solve(prob, "highs", 60)
        assert out.status is Status.OPTIMAL and round(out.objective) == round(best)
        # the variables hold the answer's own plan, whichever solve gave it
        assert -sum(v * round(xi.value()) for v, xi in zip(value, x)) == round(best)
        assert all(prob.get_constraint_by_name(f"room{k}").valid(1e-6) for k in range(4))
    # (the optima beside: armed, never started, every core being busy)
    assert [t.highs is not None for t in started] == [False, True] * 3


def test_a_solve_shorter_than_the_delay_never_starts_its_twin(monkeypatch):
    """Most solves end within milliseconds: the twin is armed but never built."""
    started = twins_started(monkeypatch, after=60.0)
    prob, x, value = knapsack(30, 1)
    out = solve(prob, "highs", 60)
    assert out.status is Status.OPTIMAL and not out.twin
    assert len(started) == 1 and started[0].highs is None


def test_the_twins_proof_ends_the_main_solve_and_its_plan_is_handed_back(monkeypatch):
    """The main solve is held until the twin has proved: its next look at the twin stops
    it, and the twin's plan is the one in the model's variables."""
    best = optimum(50, 4)
    started = twins_started(monkeypatch)
    cls = solvers._highs_class()
    real = cls._solve

    def held(self, lp, listener):
        started[-1].thread.join()        # the twin runs to its end first
        return real(self, lp, listener)
    monkeypatch.setattr(cls, "_solve", held)
    prob, x, value = knapsack(50, 4)
    out = solve(prob, "highs", 60)
    assert started[-1].proved.is_set()
    assert out.twin and out.status is Status.OPTIMAL and round(out.objective) == round(best)
    assert -sum(v * round(xi.value()) for v, xi in zip(value, x)) == round(best)


def test_no_twin_while_every_core_is_busy(monkeypatch):
    started = twins_started(monkeypatch)
    optimum(40, 5)
    assert started and all(t.highs is None for t in started)


def test_a_twin_starts_once_the_work_beside_ends(monkeypatch):
    """A solve that began beside other work gets its twin when that work ends: it looks
    again while the main solve runs (the plan under raised caps ran 187 s beside the
    plan and then alone, without one)."""
    started = twins_started(monkeypatch, after=0.01)
    cls = solvers._highs_class()
    real = cls._solve
    beside = _all_cores_busy().__enter__()

    def held(self, lp, listener):
        beside.__exit__()                      # the work beside ends ...
        while started[-1].highs is None:       # ... and the twin starts
            started[-1].thread.join(0.01)
        return real(self, lp, listener)
    monkeypatch.setattr(cls, "_solve", held)
    prob, x, value = knapsack(40, 7)
    out = solve(prob, "highs", 60)
    assert out.status is Status.OPTIMAL and started[-1].highs is not None


def test_a_twin_stops_as_soon_as_other_work_starts(monkeypatch):
    """Work starting on another thread finds every core taken: the twin's next look ends
    it, and the main solve's answer stands."""
    best = optimum(50, 6)
    started = twins_started(monkeypatch)
    monkeypatch.setattr(cores, "spare", lambda: True)           # it starts ...
    monkeypatch.setattr(cores, "busy", lambda: cores.cores())   # ... and finds them taken
    prob, x, value = knapsack(50, 6)
    out = solve(prob, "highs", 60)
    assert len(started) == 1 and started[0].highs is not None
    assert not started[0].proved.is_set()
    assert out.status is Status.OPTIMAL and not out.twin and round(out.objective) == round(best)


def test_counting_threads_that_compute():
    assert cores.busy() == 0
    with cores.working():
        with cores.working():            # a thread counts once however it nests
            assert cores.busy() == 1
        assert cores.busy() == 1
    assert cores.busy() == 0


def test_the_tie_break_re_solves_get_a_share_of_the_work_both_cores_did(monkeypatch):
    """A twin that won the first solve shortened its wall time, not the work a lone solve
    would need: the re-solves are timed by the seconds on every core the solve used."""
    from optimizer import load_catalog, plan
    from optimizer.domain.records import Forecast, Month
    from optimizer.solve import engines
    real_solve, real_prefer, shares = solvers.solve, engines._prefer_less_prepaid, []

    def twinned(*args, **kwargs):
        out = real_solve(*args, **kwargs)
        return solvers.replace(out, twin_seconds=out.seconds + 100.0)

    def prefer(req, gm, best, values, first_seconds, *rest):
        shares.append(first_seconds)
        return real_prefer(req, gm, best, values, first_seconds, *rest)
    monkeypatch.setattr(solvers, "solve", twinned)
    monkeypatch.setattr(engines, "_prefer_less_prepaid", prefer)
    f = Forecast(Month.parse("2027-01"), 3, (("general_print", (150_000, 90_000, 260_000)),
                                             ("id_card", (40_000, 20_000, 60_000))))
    r = plan(load_catalog(), f, purchase_months="any", algorithm="milp", regret=False)
    assert r.status == "optimal" and shares and all(s > 100.0 for s in shares)


def test_a_twin_stopped_for_other_work_starts_again_with_the_next_seed(monkeypatch):
    """Other work stops the first twin at its first look; once it is gone, a new twin (the
    next seed) runs and proves, and its answer is handed back."""
    best = optimum(50, 4)
    started = twins_started(monkeypatch)
    seeds, real_solver = [], solvers._Twin._solver

    def solver(self, seed, left):
        seeds.append(seed)
        return real_solver(self, seed, left)
    monkeypatch.setattr(solvers._Twin, "_solver", solver)
    real_busy = cores.busy
    monkeypatch.setattr(cores, "spare", lambda: True)
    monkeypatch.setattr(cores, "busy", lambda: cores.cores() if len(seeds) == 1 else real_busy())
    cls = solvers._highs_class()
    real = cls._solve

    def held(self, lp, listener):
        started[-1].proved.wait(30)          # the main solve waits for the twin's proof
        return real(self, lp, listener)
    monkeypatch.setattr(cls, "_solve", held)
    prob, x, value = knapsack(50, 4)
    out = solve(prob, "highs", 60)
    assert seeds == [1, 2] and out.twin and round(out.objective) == round(best)
    assert -sum(v * round(xi.value()) for v, xi in zip(value, x)) == round(best)


def test_a_twin_gets_the_time_the_main_solve_has_left(monkeypatch):
    """It ran to a time limit of its own, counted from its start: past the main solve's
    end (the budget's choice model of 105,152 columns, 4.6 s beyond a request's limit)."""
    started = twins_started(monkeypatch, after=0.3)
    limits, real_solver = [], solvers._Twin._solver

    def solver(self, seed, left):
        h = real_solver(self, seed, left)
        limits.append(h.getOptions().time_limit)
        return h
    monkeypatch.setattr(solvers._Twin, "_solver", solver)
    cls = solvers._highs_class()
    real = cls._solve

    def held(self, lp, listener):
        started[-1].proved.wait(30)
        return real(self, lp, listener)
    monkeypatch.setattr(cls, "_solve", held)
    prob, _, _ = knapsack(50, 4)
    solve(prob, "highs", 60)
    assert len(limits) == 1 and 0 < limits[0] <= 60 - 0.3


def test_a_twin_that_does_not_stop_is_not_waited_for(monkeypatch):
    """HiGHS looks at the interrupt only between steps: a twin inside a long one is left to
    stop on its own, and the main solve's answer stands."""
    best = optimum(40, 2)
    started = twins_started(monkeypatch, after=60.0)
    stuck, release = threading.Event(), threading.Event()

    def run(self):
        stuck.set()
        release.wait(60)
    monkeypatch.setattr(solvers._Twin, "_run", run)
    try:
        prob, x, value = knapsack(40, 2)
        out = solve(prob, "highs", 60)
        assert stuck.is_set() and started[-1].thread.is_alive()
        assert out.status is Status.OPTIMAL and not out.twin
        assert round(out.objective) == round(best)
    finally:
        release.set()


# A library caller's script whose last solve leaves its twin running: the twin made to
# run on a model of its own for up to 1.5 s, whatever the main solve does.
_EXIT_WITH_A_TWIN = """
import random
import highspy, pulp
from optimizer.solve import cores, solvers
solvers.TWIN_AFTER = 0.0
cores.spare = lambda: True

def busy(self, seed, left):
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", 1.5)
    rng, n = random.Random(1), 60
    for i in range(n):
        h.addVar(0, 1)
        h.changeColCost(i, -rng.randint(10, 100))
        h.changeColIntegrality(i, highspy.HighsVarType.kInteger)
    for k in range(5):
        w = [rng.randint(20, 100) for _ in range(n)]
        h.addRow(-highspy.kHighsInf, sum(w) / 2, n, list(range(n)), w)
    return h
solvers._Twin._solver = busy
prob = pulp.LpProblem("p", pulp.LpMinimize)
x = prob.add_variable("x", 0, 3, cat="Integer")
prob += x
prob += x >= 1
print(solvers.solve(prob, "highs", None).status.name)
"""


def test_a_script_that_ends_while_a_twin_runs_exits_cleanly():
    """The twin outlives its main solve by up to TWIN_WAIT and then stops on its own: a
    script ending meanwhile aborted inside HiGHS (status 134, "terminate called without
    an active exception"), as a 1 x 10 prorata plan did at the end of a library call."""
    import subprocess
    import sys
    from pathlib import Path
    r = subprocess.run([sys.executable, "-c", _EXIT_WITH_A_TWIN], capture_output=True,
                       text=True, timeout=60, cwd=Path(__file__).resolve().parent.parent)
    assert (r.returncode, r.stdout.strip()) == (0, "OPTIMAL"), r.stderr
    assert "terminate" not in r.stderr
