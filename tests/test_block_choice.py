"""Products sharing caps per 12-month block, from their block frontiers.

(a) `frontier.least_in_room` (one point per frontier within a room per block, and perhaps
a total, with the least key: cost, spend, more calls, fewer packs) against every
combination of the frontiers' points, on random small frontiers of blocks of 3 or 4
months.
(b) plan() under --yearly-budget over 24 months with the frontiers forced (the integer
program's first try given no time) agrees on the key with the integer programs alone,
and its plan bills to its cost.
"""

from __future__ import annotations

import itertools
import math
import random
from decimal import Decimal

import pytest

from optimizer import Forecast, Month, plan
from optimizer.solve import engines
from optimizer.solve.frontier import least_by_program, least_in_room, product_frontier
from tests.test_block_frontier import SCALE, blocked_instance, resid


def frontiers(seed, count):
    """`count` block frontiers of seeded tiny instances sharing one block length."""
    rng = random.Random(seed)
    block = None
    out = []
    for i in range(count):
        _, cat, calls, V, b = blocked_instance(rng.randrange(10 ** 6))
        block = block or b
        calls = (calls * 3)[:2 * block + rng.randint(0, block)]
        product = cat.product("p")
        out.append(product_frontier(product, calls, resid(product, calls), V, SCALE, 10 ** 9,
                                    block=block))
    return rng, out


def brute(fronts, room, total):
    """The least key over every combination of points within the room, or None."""
    best = None
    for combo in itertools.product(*(range(len(f.cost)) for f in fronts)):
        spend = [sum(int(f.spend[i][j]) for f, i in zip(fronts, combo))
                 for j in range(len(room))]
        if any(s > r for s, r in zip(spend, room)) or (total is not None and
                                                       sum(spend) > total):
            continue
        key = (sum(int(f.cost[i]) for f, i in zip(fronts, combo)), sum(spend),
               -sum(int(f.calls[i]) for f, i in zip(fronts, combo)),
               sum(int(f.packs[i]) for f, i in zip(fronts, combo)))
        best = key if best is None else min(best, key)
    return best


def key_at(fronts, index):
    return (sum(int(f.cost[i]) for f, i in zip(fronts, index)),
            sum(int(f.spend[i].sum()) for f, i in zip(fronts, index)),
            -sum(int(f.calls[i]) for f, i in zip(fronts, index)),
            sum(int(f.packs[i]) for f, i in zip(fronts, index)))


@pytest.mark.parametrize("choose, count", [(least_in_room, 1), (least_in_room, 2),
                                           (least_in_room, 3), (least_in_room, 4),
                                           (least_by_program, 2), (least_by_program, 3)])
def test_the_choice_in_a_room_is_the_least_key_of_every_combination(choose, count):
    """Both ways of choosing: by merging (up to three products) and by the integer program
    (the larger groups, raced beside their joint model)."""
    checked = 0
    for seed in range(40 if count < 3 else 15 if count == 3 else 60):
        rng, fronts = frontiers(seed, count)
        if any(f.spend.shape[1] != fronts[0].spend.shape[1] for f in fronts) or \
                count >= 3 and math.prod(len(f.cost) for f in fronts) > 20_000:
            continue
        blocks = fronts[0].spend.shape[1]
        most = [int(sum(f.spend[:, j].max() for f in fronts)) for j in range(blocks)]
        for _ in range(30 if choose is least_in_room else 6):
            room = [rng.randint(0, m) for m in most]
            total = rng.choice([None, rng.randint(0, max(sum(room), 1))])
            got = choose(fronts, room, total)
            if choose is least_by_program:      # (the cost alone, without a tie-break)
                alone = least_by_program(fronts, room, total, parts=1)
                assert alone is not None and alone[0] == got[0]
            want = brute(fronts, room, total)
            assert want is not None          # (buying nothing: spend 0, always a point)
            assert got is not None, (seed, room, total)
            cost, index = got
            assert key_at(fronts, index) == want and cost == want[0], (seed, room, total)
            spend = [sum(int(f.spend[i][j]) for f, i in zip(fronts, index))
                     for j in range(blocks)]
            assert all(s <= r for s, r in zip(spend, room))
            checked += 1
    assert checked >= (40 if choose is least_in_room else 12), checked


@pytest.mark.parametrize("seed", range(60))
def test_the_relaxations_never_bound_the_rest_above_its_least_cost(seed, monkeypatch):
    """`_rest_bounds` (the knapsacks over each block's spend and their sum, and over two
    blocks' lattice, that bound what the later frontiers cost within the room left), on
    coarse lattices too, against every combination of random points: never above the
    least cost that fits. (The room left is never more than the room.)"""
    import numpy as np
    from optimizer.solve import frontier
    rng = random.Random(seed)
    monkeypatch.setattr(frontier, "REST_CELLS", rng.choice([5, 50, 50_000]))
    monkeypatch.setattr(frontier, "GRID_SIDE", rng.choice([2, 7, 96]))
    blocks = rng.choice([1, 2, 3])
    pts = []
    for _ in range(rng.randint(1, 4)):
        n = rng.randint(1, 5)
        unit = rng.choice([1, 7, 1000])
        pts.append((np.array([[rng.randrange(40) * unit for _ in range(blocks)]
                              for _ in range(n)], dtype=np.int64),
                    np.array([rng.randrange(10 ** 6) for _ in range(n)], dtype=np.int64)))
    room = np.array([rng.randrange(1, 80) * rng.choice([1, 7, 1000]) for _ in range(blocks)],
                    dtype=np.int64)
    rest = frontier._rest_bounds(pts, room)
    for _ in range(20):
        left = np.array([rng.randrange(-5, int(r) + 1) for r in room], dtype=np.int64)
        for k in range(len(pts) + 1):
            least = min((sum(int(p[1][i]) for p, i in zip(pts[k:], combo))
                         for combo in itertools.product(*(range(len(p[1])) for p in pts[k:]))
                         if (sum((p[0][i] for p, i in zip(pts[k:], combo)),
                                 np.zeros(blocks, dtype=np.int64)) <= left).all()),
                        default=None)
            if least is not None:
                assert int(rest[k](left)[0]) <= least, (k, left, least)


def test_pairs_exchanging_room_find_what_one_product_at_a_time_misses():
    """Two products sharing two blocks of 10: from every start each product alone stops at
    141 (b's 8 calls' worth in block 2 leaves a only its 100); a at (0, 3) and b at
    (10, 2) together cost 124, the optimum, which the exchange of room between them
    finds."""
    import numpy as np
    from optimizer.solve import frontier
    a = (np.array([[0, 0], [7, 9], [0, 3]], dtype=np.int64), np.array([100, 59, 62]))
    b = (np.array([[0, 0], [10, 2], [0, 8]], dtype=np.int64), np.array([100, 62, 41]))
    room = np.array([10, 10], dtype=np.int64)
    assert frontier._descent([a, b], room, None) == 124
    assert frontier._descent([a, b], room, 11) == 141       # (with a total of 11 it is
    # the optimum: 124's plan spends 15)


CATALOG = """
free_calls_per_month = 1000
validity_months = 12
tier_basis = "total"
[[product]]
id = "a"
packs = [ { calls = 10000, price = "800" }, { calls = 100000, price = "5000" },
          { calls = 1000000, price = "30000" } ]
tiers = [ { up_to = 300000, rate = "0.10" }, { rate = "0.08" } ]
[[product]]
id = "b"
packs = [ { calls = 10000, price = "900" }, { calls = 50000, price = "3500" } ]
tiers = [ { up_to = 100000, rate = "0.15" }, { rate = "0.12" } ]
"""


def two_products(cat, seed):
    """A 24-month forecast of products a and b, and a yearly cap of a quarter of its
    uncapped plan's spend."""
    rng = random.Random(seed)
    a = [rng.randint(0, 250_000) for _ in range(24)]
    b = [rng.choice([0, rng.randint(0, 60_000)]) for _ in range(24)]
    f = Forecast(Month.parse("2027-01"), 24, (("a", tuple(a)), ("b", tuple(b))))
    free = plan(cat, f, purchase_months="any", regret=False)
    return f, (free.bill.pack_cost / 4).quantize(Decimal(1))


def plan_key(r):
    """(cost, spend, -calls, packs) of a plan's bill."""
    return (r.bill.total_cost, r.bill.pack_cost,
            -sum(p.size * p.count for p in r.plan.purchases),
            sum(p.count for p in r.plan.purchases))


def yearly_spends(r):
    """The prepaid spend of each of a 24-month plan's two years."""
    return [sum((pb.months[m].pack_spend for pb in r.bill.products
                 for m in range(12 * year, 12 * year + 12)), Decimal(0)) for year in range(2)]


@pytest.mark.parametrize("seed", range(4))
def test_yearly_caps_from_the_frontiers_match_the_integer_programs(monkeypatch, seed):
    from optimizer import parse_catalog
    cat = parse_catalog(CATALOG, "c.toml")
    f, cap = two_products(cat, seed)
    calls = []
    real = engines.by_block_frontier

    def counted(*args):
        calls.append(args[1])
        return real(*args)
    monkeypatch.setattr(engines, "by_block_frontier", counted)
    monkeypatch.setattr(engines, "QUICK_SECONDS", 0.0)
    framed = plan(cat, f, purchase_months="any", yearly_budget=cap, regret=False)
    assert calls, "the frontiers were not asked"
    monkeypatch.setattr(engines, "FRONTIER_GROUP", 0)
    monkeypatch.setattr(engines, "RACE_FRONTIERS", False)
    alone = plan(cat, f, purchase_months="any", yearly_budget=cap, regret=False)
    assert framed.status == alone.status == "optimal"
    assert plan_key(framed) == plan_key(alone)
    assert all(spent <= cap for spent in yearly_spends(framed))


def test_among_equal_costs_the_choice_spends_least_then_buys_most_calls():
    """Two frontiers whose cheapest combinations tie on cost: the one spending less wins
    (listed second), and among equal spends the one with more calls."""
    from types import SimpleNamespace

    import numpy as np

    def front(points):
        spend, cost, calls, packs = zip(*points)
        return SimpleNamespace(spend=np.array(spend, dtype=np.int64),
                               cost=np.array(cost, dtype=np.int64),
                               calls=np.array(calls, dtype=np.int64),
                               packs=np.array(packs, dtype=np.int64))
    small = front([((0, 0), 100, 0, 0), ((4, 4), 60, 8, 1), ((3, 3), 60, 6, 1)])
    large = front([((0, 0), 28, 0, 0), ((1, 0), 28, 1, 1), ((0, 1), 28, 1, 1),
                   ((1, 1), 28, 2, 2)])
    assert least_in_room([small, large], [10, 10]) == (88, [2, 0])
    assert least_in_room([large, small], [10, 10]) == (88, [0, 2])
    # Equal cost and spend: more calls first.
    small = front([((0, 0), 100, 0, 0), ((3, 3), 60, 6, 2), ((3, 3), 60, 7, 3)])
    assert least_in_room([small, large], [10, 10]) == (88, [2, 0])
    # A room too small for the cheap points: buying nothing there.
    assert least_in_room([small, large], [2, 2]) == (128, [0, 0])


def test_frontiers_found_beside_a_proven_quick_solve_are_stopped_and_joined(monkeypatch):
    """While the integer program has its first second, the frontiers are found on another
    thread; when it proves the plan in that second, the thread is stopped (its clock
    cancelled) and joined before plan() goes on: no thread outlives the request."""
    import threading

    from optimizer import parse_catalog
    from optimizer.solve import cores
    from optimizer.solve.clock import OutOfTime
    cat = parse_catalog(CATALOG, "c.toml")
    f = Forecast(Month.parse("2027-01"), 24, (("a", tuple([90_000] * 24)),))
    free = plan(cat, f, purchase_months="any", regret=False)
    ended = []

    def endless(req, product, held, room, labels=None):
        try:
            while True:             # (a frontier that never ends unless stopped)
                req.clock.check()
                threading.Event().wait(0.01)
        except OutOfTime:
            ended.append(threading.current_thread().name)
            raise
    monkeypatch.setattr(engines, "_block_front", endless)
    monkeypatch.setattr(cores, "cores", lambda: 2)
    capped = plan(cat, f, purchase_months="any", yearly_budget=free.bill.pack_cost / 3,
                  regret=False)
    assert capped.status == "optimal"
    assert ended and set(ended) == {"block frontiers"}
    assert not any(t.name == "block frontiers" for t in threading.enumerate())


def test_frontiers_found_within_the_quick_second_stop_it(monkeypatch):
    """Frontiers found while the integer program has its first second answer at once: the
    solve is stopped (it proved nothing in 0.58 s that id_card of yearly-any-24m's seed 2027
    waited for), and the plan has the integer programs' key."""
    import threading

    from optimizer import parse_catalog
    from optimizer.solve import cores, solvers
    cat = parse_catalog(CATALOG, "c.toml")
    f, cap = two_products(cat, 0)
    stopped = []
    real = engines._integer_program

    def slow_quick(req, *args):
        if req.clock.deadline is None:          # (not the quick solve: no time limit here)
            return real(req, *args)
        stop = solvers.stop_event()
        while not (stop is not None and stop.is_set()) and not req.clock.expired():
            threading.Event().wait(0.01)        # (a solve proving nothing for 30 s)
        stopped.append(stop is not None and stop.is_set())
        return engines.EngineResult(tuple(args[1]), "quick", {pid: {} for pid in args[1]},
                                    None, 0, "no_solution", 0.0)
    monkeypatch.setattr(engines, "_integer_program", slow_quick)
    monkeypatch.setattr(engines, "QUICK_SECONDS", 30.0)
    monkeypatch.setattr(cores, "cores", lambda: 2)
    framed = plan(cat, f, purchase_months="any", yearly_budget=cap, regret=False)
    assert stopped and all(stopped)
    monkeypatch.setattr(engines, "_integer_program", real)
    monkeypatch.setattr(engines, "FRONTIER_GROUP", 0)
    monkeypatch.setattr(engines, "RACE_FRONTIERS", False)
    alone = plan(cat, f, purchase_months="any", yearly_budget=cap, regret=False)
    assert framed.status == alone.status == "optimal"

    assert plan_key(framed) == plan_key(alone)


def test_a_larger_group_raced_from_its_frontiers_has_the_joint_models_key(monkeypatch):
    """Groups larger than FRONTIER_GROUP (here one product) race their joint integer
    program against their frontiers and the choice among their points: with the joint
    model slow, the frontiers answer, with the key of the integer programs alone."""
    import threading

    from optimizer import parse_catalog
    from optimizer.solve import cores, solvers
    cat = parse_catalog(CATALOG, "c.toml")
    f, cap = two_products(cat, 3)
    stopped, chosen = [], []
    real, choose = engines._integer_program, engines.by_block_frontier

    def slow_joint(req, *args):
        if len(args[1]) < 2:
            return real(req, *args)
        stop = solvers.stop_event()
        while not (stop is not None and stop.is_set()):
            threading.Event().wait(0.01)        # (a joint model that never ends unstopped)
        stopped.append(True)
        return engines.EngineResult(tuple(args[1]), "all", {pid: {} for pid in args[1]},
                                    None, 0, "no_solution", 0.0)

    def counted(req, group, room):
        chosen.append(tuple(group))
        return choose(req, group, room)
    monkeypatch.setattr(engines, "_integer_program", slow_joint)
    monkeypatch.setattr(engines, "by_block_frontier", counted)
    monkeypatch.setattr(engines, "FRONTIER_GROUP", 1)
    monkeypatch.setattr(engines, "QUICK_SECONDS", 0.0)
    monkeypatch.setattr(cores, "cores", lambda: 2)
    raced = plan(cat, f, purchase_months="any", yearly_budget=cap, regret=False)
    assert stopped and ("a", "b") in chosen
    monkeypatch.setattr(engines, "_integer_program", real)
    monkeypatch.setattr(engines, "FRONTIER_GROUP", 0)
    monkeypatch.setattr(engines, "RACE_FRONTIERS", False)
    alone = plan(cat, f, purchase_months="any", yearly_budget=cap, regret=False)
    assert raced.status == alone.status == "optimal"
    assert raced.tie_break_proven and alone.tie_break_proven
    assert plan_key(raced) == plan_key(alone)
    assert all(spent <= cap for spent in yearly_spends(raced))
    assert not any(t.name == "block frontiers" for t in threading.enumerate())


def test_the_choice_by_program_declines_past_its_points(monkeypatch):
    """Past CHOICE_POINTS points within the room the program would take longer than the
    joint model it races (yearly-any-24m's seed 1: 19,168 points, 190 s): it declines, and
    the integer program's answer stands."""
    from optimizer.solve import frontier
    _, fronts = frontiers(1, 2)
    most = [int(sum(f.spend[:, j].max() for f in fronts)) for j in range(2)]
    assert least_by_program(fronts, most) is not None
    monkeypatch.setattr(frontier, "CHOICE_POINTS", sum(len(f.cost) for f in fronts) - 1)
    assert least_by_program(fronts, most) is None
