"""Products that share a cap, planned by splitting its room (optimizer/solve/split.py).

The search must find what the joint integer program finds: the least cost and, among
equal costs, the least (spend, -calls, packs), under a cap per month, per 12-month block
or in all, on one forecast or over scenarios.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

import pytest

from optimizer import Forecast, Month, Scenario, parse_catalog, plan
from optimizer.solve import planner, split
from optimizer.solve.engines import Room, by_integer_program, purchase_key, spend_of

START = Month.parse("2027-01")

CATALOG = """
free_calls_per_month = 100
validity_months = {validity}
tier_basis = "{basis}"
[[product]]
id = "a"
packs = [ {{ calls = 1000, price = "60" }}, {{ calls = 5000, price = "250" }} ]
tiers = [ {{ up_to = 2000, rate = "0.09" }}, {{ rate = "0.07" }} ]
[[product]]
id = "b"
packs = [ {{ calls = 2000, price = "100" }}, {{ calls = 6000, price = "240" }} ]
tiers = [ {{ up_to = 3000, rate = "0.08" }}, {{ rate = "0.06" }} ]
[[product]]
id = "c"
packs = [ {{ calls = 500, price = "40" }}, {{ calls = 4000, price = "250" }} ]
tiers = [ {{ rate = "0.10" }} ]
"""


def _request(rng: random.Random):
    basis = rng.choice(["total", "after-packs"])
    catalog = parse_catalog(CATALOG.format(validity=rng.choice([2, 3, 12]), basis=basis),
                            "x.toml")
    names = rng.sample(["a", "b", "c"], rng.choice([2, 3]))
    cap = "month"
    months = rng.randint(13, 15) if cap == "year" else rng.randint(2, 6)
    forecast = Forecast(START, months, tuple(
        (pid, tuple(rng.choice([0, 800, 2500, 4000, 7000]) for _ in range(months)))
        for pid in sorted(names)))
    scenarios = ()
    if rng.random() < 0.4:
        scenarios = tuple(Scenario(n, Decimal(w), forecast.scaled(Decimal(f)))
                          for n, w, f in (("low", 1, "0.7"), ("high", 1, "1.3")))
    amount = Decimal(rng.choice([240, 300, 400, 500]) * (4 if cap == "total" else 1))
    req = planner._request(catalog, forecast, (), scenarios, "any", "highs", None,
                           "expected", amount if cap == "total" else None,
                           amount if cap == "month" else None, "zero", "auto",
                           yearly_budget=amount if cap == "year" else None)
    return req, sorted(names)


def _key(req, results):
    return (sum(r.objective for r in results), *purchase_key(req, results))


def _two_products():
    """After-packs, 12-month validity; a growing product and a flat one over 8 months."""
    catalog = parse_catalog(CATALOG.format(validity=12, basis="after-packs"), "x.toml")
    T = 8
    return catalog, Forecast(START, T, (("a", tuple(3000 + 400 * m for m in range(T))),
                                        ("b", (2500,) * T)))


@pytest.fixture(scope="module")
def random_splits():
    """The split of each of 40 random requests (two or three products, one forecast or two
    scenarios, either tier basis, a monthly cap), run once for the tests below, with every
    product solve it made, as (pid, room, keyed, floor, start, cost), and every child it
    made, as (parent rooms, child rooms)."""
    runs = []
    with pytest.MonkeyPatch.context() as mp:
        solves = _record_solves(mp)
        made = _record_children(mp)
        for seed in range(40):
            req, names = _request(random.Random(seed))
            solves.clear()
            made.clear()
            found, low = planner._split(req, names, {}, 0)
            runs.append((seed, req, names, found, low, list(solves), list(made)))
    return runs


def test_the_split_finds_the_joint_models_least_key(random_splits):
    """Every plan the split returns keeps the cap and has the joint model's least key;
    where it gives up (its node limit), its bound still lies at or below the optimum. It
    settles most of them."""
    settled = 0
    for seed, req, names, found, low, _, _ in random_splits:
        joint = by_integer_program(req, 0, names)
        assert joint.optimal and joint.tie_break
        assert low <= joint.objective, seed
        if found is None:
            continue
        settled += 1
        assert [r.products for r in found] == [(pid,) for pid in names]
        assert Room.of(req).keeps(spend_of(req, found)), seed
        assert _key(req, found) == _key(req, [joint]), seed
        assert low == joint.objective
    assert settled >= 30


def test_a_node_limit_gives_a_bound_not_a_plan(monkeypatch):
    """Stopped before the answer, the search hands the joint model a floor it proved."""
    for seed in range(40):
        req, names = _request(random.Random(seed))
        whole = [by_integer_program(req, 0, [pid]) for pid in names]
        if not Room.of(req).keeps(spend_of(req, whole)):
            break
    joint = by_integer_program(req, 0, names)
    monkeypatch.setattr(split, "MAX_NODES", 0)
    found, low = planner._split(req, names, {}, 0)
    assert found is None
    assert sum(r.objective for r in whole) <= low <= joint.objective


def test_two_products_a_monthly_cap_binds_are_split(monkeypatch):
    """plan() under a monthly cap that binds two after-packs products over scenarios: the
    split settles it, at the joint model's cost and keys (algorithm "milp")."""
    catalog, forecast = _two_products()
    scenarios = tuple(Scenario(n, Decimal(w), forecast.scaled(Decimal(f)))
                      for n, w, f in (("low", 1, "0.8"), ("base", 2, "1"), ("high", 1, "1.25")))
    calls = []
    real = split.split_rooms
    monkeypatch.setattr(planner, "split_rooms",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    options = dict(purchase_months="any", scenarios=scenarios, monthly_budget=Decimal(250),
                   regret=False)
    ours = plan(catalog, forecast, **options)
    milp = plan(catalog, forecast, algorithm="milp", **options)
    assert calls
    assert ours.status == milp.status == "optimal"
    assert ours.tie_break_proven and milp.tie_break_proven
    keys = [(r.expected_cost, r.bill.pack_cost, sum(p.size * p.count for p in r.plan.purchases),
             sum(p.count for p in r.plan.purchases)) for r in (ours, milp)]
    assert keys[0] == keys[1]


def test_a_split_that_gives_up_leaves_the_joint_model_its_bound(monkeypatch):
    """After one node the search stops: the block's joint model gets the bound it proved
    as a floor, and the plan is the same optimum."""
    catalog, forecast = _two_products()
    options = dict(purchase_months="any", monthly_budget=Decimal(250), regret=False)
    whole = plan(catalog, forecast, **options)
    monkeypatch.setattr(split, "MAX_NODES", 1)
    floors = []
    real = planner.by_integer_program

    def recording(req, index, group, floors_=None, room=None, **k):
        if len(group) == 2:
            floors.append(dict(floors_ or {}))
        return real(req, index, group, floors_, room, **k)
    monkeypatch.setattr(planner, "by_integer_program", recording)
    stopped = plan(catalog, forecast, **options)
    assert floors and ("a", "b") in floors[-1]
    assert floors[-1]["a", "b"] > floors[-1]["a"] + floors[-1]["b"]   # above the floors
    assert stopped.status == whole.status == "optimal" and stopped.tie_break_proven
    assert stopped.plan.purchases == whole.plan.purchases


def _record_solves(monkeypatch) -> list:
    """Every product solve the split makes, as (pid, room, keyed, floor, start, cost)."""
    solves: list = []
    real = split.split_rooms

    def recording(req, names, solve_one, floors, **k):
        def one(pid, room, keyed, floor, start):
            got = solve_one(pid, room, keyed, floor, start)
            solves.append((pid, room, keyed, floor, start, got.objective))
            return got
        return real(req, names, one, floors, **k)
    monkeypatch.setattr(planner, "split_rooms", recording)
    return solves


def _record_children(monkeypatch) -> list:
    """Every child the split makes, as (parent rooms, child rooms)."""
    made: list = []
    real_children = split._children

    def children(rooms, used, month, cap):
        got = real_children(rooms, used, month, cap)
        made.extend((rooms, child) for child in got)
        return got
    monkeypatch.setattr(split, "_children", children)
    return made


def test_nodes_never_taken_never_pay_for_their_tie_break(random_splits):
    """Children are planned for cost alone and keyed only when taken: over the random
    requests some product's plan in some room is never keyed (its node was never taken),
    and each keyed solve of a child starts from its plan at the cost already proven."""
    never = 0
    for seed, *_, solves, _ in random_splits:
        untied = {(pid, room): cost for pid, room, keyed, _, _, cost in solves if not keyed}
        keyed = {(pid, room) for pid, room, keyed, *_ in solves if keyed}
        never += len(set(untied) - keyed)
        for pid, room, was_keyed, floor, start, cost in solves:
            if was_keyed and (pid, room) in untied:
                assert start is not None, seed
                assert start.objective == floor == untied[pid, room] == cost, seed
    assert never > 0


def test_children_are_planned_only_when_taken(random_splits):
    """A child waits at its parent's key until it is taken: over the random requests some
    child is never planned (none of its new rooms is ever solved), and the answers are
    still the joint model's (the first test)."""
    never = 0
    for _, _, names, _, _, solves, made in random_splits:
        solved = {(pid, room) for pid, room, *_ in solves}
        never += sum(all((names[i], child[i]) not in solved
                         for i in range(len(names)) if child[i] != parent[i])
                     for parent, child in made)
    assert never > 0


def test_a_keyed_re_solve_gets_the_tie_break_time_of_the_solve_that_found_its_cost(
        monkeypatch):
    """A child's keyed re-solve starts from its plan at its proven cost, so the solver's
    first pass is short; the tie-break's time share is measured by the solve that found the
    cost (here made to report 1,000 s), not by that pass."""
    from optimizer.solve import engines
    real_split, real_prefer = split.split_rooms, engines._prefer_less_prepaid
    pending, shares = [], []

    def recording(req, names, solve_one, floors, **k):
        def one(pid, room, keyed, floor, start):
            pending.append(start.seconds if keyed and start is not None else None)
            got = solve_one(pid, room, keyed, floor, start)
            return got if keyed else replace(got, seconds=1000.0)
        return real_split(req, names, one, floors, **k)

    def prefer(req, gm, best, values, first_seconds, least=None):
        shares.append((pending[-1], first_seconds))
        return real_prefer(req, gm, best, values, first_seconds, least)
    monkeypatch.setattr(planner, "split_rooms", recording)
    monkeypatch.setattr(engines, "_prefer_less_prepaid", prefer)
    from_start = []
    for seed in range(40):      # until some request has re-solved from a start
        req, names = _request(random.Random(seed))
        planner._split(req, names, {}, 0)
        from_start = [(spent, first) for spent, first in shares if spent is not None]
        if from_start:
            break
    assert from_start
    assert all(first >= spent == 1000.0 for spent, first in from_start)


def _block_until_stopped(req) -> bool:
    """Wait, as a slow search would, until `req`'s clock is cancelled (True) or 60 s pass."""
    import time
    end = time.perf_counter() + 60
    while not req.clock.expired():
        if time.perf_counter() > end:
            return False
        time.sleep(0.01)
    return True


def _race_request():
    """The two products of `_two_products` over three scenarios under a monthly cap that
    binds both, as a request, with their joint model's answer."""
    catalog, forecast = _two_products()
    scenarios = tuple(Scenario(n, Decimal(w), forecast.scaled(Decimal(f)))
                      for n, w, f in (("low", 1, "0.8"), ("high", 1, "1.25")))
    req = planner._request(catalog, forecast, (), scenarios, "any", "highs", None,
                           "expected", None, Decimal(250), "zero", "auto")
    return req, ["a", "b"], by_integer_program(req, 0, ["a", "b"])


def _soon(seen: list) -> list:
    """`seen` once the stopped search has noticed (it ends on its own thread)."""
    import time
    end = time.perf_counter() + 5
    while not seen and time.perf_counter() < end:
        time.sleep(0.01)
    return seen


def test_the_joint_model_proving_first_stops_the_split(monkeypatch):
    """The split and the block's joint model run at once: a split that would not end is
    stopped once the joint model has proven the least key, which is the answer."""
    req, names, joint = _race_request()
    stopped = []

    def endless(req, names, floors, rest):
        import threading
        # (not a daemon: the interpreter waits at exit for it to stop; killed in HiGHS's
        # C++ it aborted a library caller's process)
        daemon.append(threading.current_thread().daemon)
        stopped.append(_block_until_stopped(req))
        return None, 0
    daemon = []
    monkeypatch.setattr(planner, "_split", endless)
    got = planner._split_or_joint(req, (0, 1), names, {}, [])
    assert _soon(stopped) == [True] and daemon == [False]
    assert len(got) == 1 and got[0].optimal and got[0].tie_break
    assert _key(req, got) == _key(req, [joint])


def test_the_split_proving_first_stops_the_joint_model(monkeypatch):
    """A joint model that would not end is stopped once the split has proven the least
    key, which is the answer."""
    req, names, joint = _race_request()
    real = planner.by_integer_program
    stopped = []

    def slow_joint(req, index, group, *args, **kwargs):
        if len(group) > 1:
            stopped.append(_block_until_stopped(req))
            raise AssertionError("the joint model's answer was taken")
        return real(req, index, group, *args, **kwargs)
    monkeypatch.setattr(planner, "by_integer_program", slow_joint)
    got = planner._split_or_joint(req, (0, 1), names, {}, [])
    assert _soon(stopped) == [True]
    assert [r.products for r in got] == [("a",), ("b",)]
    assert Room.of(req).keeps(spend_of(req, got))
    assert _key(req, got) == _key(req, [joint])


def test_an_error_of_the_joint_model_is_raised_when_the_split_gives_up(monkeypatch):
    """Neither answer hides the other's failure: the split giving up leaves the joint
    model's error to the caller."""
    req, names, _ = _race_request()
    monkeypatch.setattr(planner, "_split", lambda req, names, floors, rest: (None, 0))

    def failing(req, index, group, *args, **kwargs):
        raise planner.SolverError("the solver failed")
    monkeypatch.setattr(planner, "by_integer_program", failing)
    with pytest.raises(planner.SolverError):
        planner._split_or_joint(req, (0, 1), names, {}, [])
