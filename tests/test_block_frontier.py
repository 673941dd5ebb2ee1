"""One product's exact frontier with the spend per block (frontier.product_frontier(block=)).

(a) Without blocks the search is today's: the points and schedules of seeded instances
match a snapshot written by frontier.py before blocks (commit b27a937).
(b) With blocks, on tiny instances (blocks of 3 or 4 months, validity 3-5, two or three
blocks), the best frontier point under random caps per block is the optimum of an
exhaustive search over every purchase schedule: (cost, then least total spend, most
calls, fewest packs). Every frontier point's schedule, and the search's optimum, is
billed by the billing engine, which must give the point's cost, calls, packs and spend.
"""

from __future__ import annotations

import itertools
import json
import random
from decimal import Decimal
from pathlib import Path

import pytest

from optimizer import Forecast, Month, Plan, Purchase, bill, parse_catalog
from optimizer.domain.money import to_units
from optimizer.solve.frontier import product_frontier

START = Month.parse("2027-01")
SCALE = 100                      # money units: fen
SNAPSHOT = Path(__file__).parent / "data" / "frontier_without_blocks.json"
SNAPSHOT_SEEDS = range(60)
STATE_LIMIT = 60_000             # the exhaustive search skips instances past this

CATALOG = """
free_calls_per_month = {free}
validity_months = {validity}
tier_basis = "total"
[[product]]
id = "p"
packs = [ {packs} ]
tiers = [ {{ up_to = 1500, rate = "0.15" }}, {{ up_to = 3000, rate = "0.10" }},
          {{ rate = "0.06" }} ]
"""


def catalog(validity, packs, free=300):
    text = ", ".join(f'{{ calls = {s}, price = "{p}" }}' for s, p in packs)
    return parse_catalog(CATALOG.format(free=free, validity=validity, packs=text), "b.toml")


def resid(product, calls):
    return [max(d - product.free_calls, 0) for d in calls]


# --------------------------------------------------------------------------- (a) no blocks

def unblocked_instance(seed):
    """(product, calls, resid, validity, total cap) of snapshot instance `seed`."""
    rng = random.Random(seed)
    V, T = rng.randint(1, 6), rng.randint(1, 14)
    sizes = sorted(rng.sample([100, 200, 300, 500, 700, 1000, 2000], rng.randint(1, 3)))
    packs = [(s, round(s * rng.uniform(0.04, 0.16), 1)) for s in sizes]
    product = catalog(V, packs, free=rng.choice([0, 300])).product("p")
    calls = [rng.choice([0, rng.randint(0, 4000)]) for _ in range(T)]
    cap = rng.choice([10 ** 9, rng.randint(0, 60000)])
    return product, calls, resid(product, calls), V, cap


def test_without_blocks_the_frontier_is_the_one_before_blocks():
    want = json.loads(SNAPSHOT.read_text())
    for seed in SNAPSHOT_SEEDS:
        product, calls, r, V, cap = unblocked_instance(seed)
        f = product_frontier(product, calls, r, V, SCALE, cap)
        got = [[list(p), sorted([m, s, k] for (m, s), k in f.schedule(i).items())]
               for i, p in enumerate(f.points())]
        assert got == want[str(seed)], seed
        # One block over the whole horizon: the same points, the spend as a 1-tuple.
        one = product_frontier(product, calls, r, V, SCALE, cap, block=max(len(calls), 1))
        assert [(s[0], *rest) for s, *rest in one.points()] == f.points(), seed


# --------------------------------------------------------------------------- (b) blocks

def exhaustive(product, calls, validity, block):
    """{spend per block: (cost, -calls, packs, schedule)}, the best (cost, -calls, packs)
    of every purchase schedule with that spend per block, or None past STATE_LIMIT states.

    Month by month every count of every pack size up to what the validity window's calls
    need, each month billed as billing does (free quota, lots soonest-expiring first, the
    rest postpaid at the rate of the month's calls). States with the same lots' balances
    and the same spend per block have the same futures, so of those only the best is kept;
    nothing else is pruned."""
    T, V = len(calls), validity
    r = resid(product, calls)
    rate = [to_units(product.rate(d)[0], SCALE) for d in calls]
    sizes = [(p.calls, to_units(p.price, SCALE)) for p in product.packs]
    states = {((), (0,) * -(-T // block)): (0, 0, 0, ())}
    for m in range(T):
        window = sum(r[m:m + V])
        ranges = [range(-(-window // s) + 1) for s, _ in sizes]
        after = {}
        for (lots, spend), (cost, neg_calls, packs, sched) in states.items():
            for counts in itertools.product(*ranges):
                cap = sum(k * s for k, (s, _) in zip(counts, sizes))
                paid = sum(k * q for k, (_, q) in zip(counts, sizes))
                live = sorted(list(lots) + ([(m + V - 1, m, cap)] if cap else []))
                need, left = r[m], []
                for expiry, bought, balance in live:         # soonest-expiring first
                    used = min(need, balance)
                    need -= used
                    if balance > used and expiry > m:
                        left.append((expiry, bought, balance - used))
                spent = list(spend)
                spent[m // block] += paid
                key = (tuple(left), tuple(spent))
                value = (cost + paid + need * rate[m], neg_calls - cap, packs + sum(counts),
                         sched + tuple(((m, s), k) for k, (s, _) in zip(counts, sizes) if k))
                if key not in after or value[:3] < after[key][:3]:
                    after[key] = value
        states = after
        if len(states) > STATE_LIMIT:
            return None
    best: dict = {}
    for (_, spend), value in states.items():
        if spend not in best or value[:3] < best[spend][:3]:
            best[spend] = value
    return best


def billed(cat, calls, schedule, block):
    """(cost, calls, packs, spend per block) of {(month, size): packs}, billed."""
    f = Forecast(START, len(calls), (("p", tuple(calls)),))
    plan = Plan(tuple(Purchase("p", START + m, s, k) for (m, s), k in schedule.items()))
    spend = [0] * -(-len(calls) // block)
    for (m, s), k in schedule.items():
        spend[m // block] += to_units(cat.product("p").pack(s).price, SCALE) * k
    return (to_units(bill(cat, f, plan).total_cost, SCALE),
            sum(s * k for (_, s), k in schedule.items()), sum(schedule.values()), tuple(spend))


def blocked_instance(seed):
    rng = random.Random(seed)
    block, V = rng.choice([3, 4]), rng.randint(3, 5)
    T = rng.randint(block + 2, min(3 * block, 9))
    sizes = rng.choice([[1000], [2500], [1000, 2500], [700, 2000]])
    packs = [(s, Decimal(round(s * rng.uniform(0.05, 0.13)))) for s in sizes]
    cat = catalog(V, packs)
    calls = [rng.choice([0, 300, rng.randint(300, 2800)]) for _ in range(T)]
    return rng, cat, calls, V, block


def best_point(points, caps):
    """The frontier's best (cost, total spend, -calls, packs) keeping every block's cap."""
    ok = [((c, sum(s), -n, k), s) for s, c, n, k in points
          if all(x <= y for x, y in zip(s, caps))]
    return min(ok) if ok else None


def test_block_caps_match_exhaustive_search():
    """40 seeded instances (those the search can enumerate), 40 cap vectors each: a cap per
    block from the spends the search met, or none. Without bridges (lots bought in a
    block's last month for the next block) 10 of the first 40 instances disagree."""
    checked = 0
    for seed in range(48):
        rng, cat, calls, V, block = blocked_instance(seed)
        product = cat.product("p")
        search = exhaustive(product, calls, V, block)
        if search is None:
            continue
        checked += 1
        f = product_frontier(product, calls, resid(product, calls), V, SCALE, 10 ** 9,
                             block=block)
        points = f.points()
        for i, (spend, cost, n, k) in enumerate(points):
            assert billed(cat, calls, f.schedule(i), block) == (cost, n, k, spend), (seed, i)
        levels = sorted({s for spend in search for s in spend}) + [10 ** 9]
        for trial in range(40):
            caps = tuple(rng.choice(levels) for _ in range(len(points[0][0])))
            want = min(((c, sum(s), nc, k), s) for s, (c, nc, k, _) in search.items()
                       if all(x <= y for x, y in zip(s, caps)))
            assert best_point(points, caps) == want, (seed, caps, search[want[1]][3])
            if trial < 3:
                # The search under the caps themselves (they prune labels) agrees, and
                # the search's own optimum bills to its key.
                capped = product_frontier(product, calls, resid(product, calls), V, SCALE,
                                          caps, block=block)
                assert best_point(capped.points(), caps) == want, (seed, caps)
                sched = dict(search[want[1]][3])
                c, nc, k = want[0][0], want[0][2], want[0][3]
                assert billed(cat, calls, sched, block) == (c, -nc, k, want[1])
    assert checked >= 35


def test_a_block_that_cannot_afford_its_packs_buys_them_in_the_last_month_before():
    """Blocks of 3 months, validity 3: months 3-5 need packs, block 1 may spend nothing, so
    they are bought in month 2 (a bridge, dated there) and last to month 4."""
    cat = catalog(3, [(1000, "80")], free=0)
    product = cat.product("p")
    calls = [0, 0, 0, 2000, 2000, 2000]
    f = product_frontier(product, calls, resid(product, calls), 3, SCALE, [10 ** 9, 0],
                         block=3)
    (spend, cost, n, k), = [p for p in f.points() if p[1] == min(q[1] for q in f.points())]
    assert spend == (32000, 0) and n == 4000 and k == 4
    assert f.schedule(f.points().index((spend, cost, n, k))) == {(2, 1000): 4}
    assert billed(cat, calls, {(2, 1000): 4}, 3)[0] == cost == 32000 + 2000 * 10


@pytest.mark.parametrize("block_size, full", [(2, 0), (3, 10 ** 9)])
def test_pruning_in_small_pieces_or_by_groups_only_leaves_the_frontier_as_it_is(
        monkeypatch, block_size, full):
    """Labels compared a few at a time (`BLOCK`), and the cut by groups alone (`FULL_PRUNE`
    0: no comparison over every key before the end) or always followed by it: the same
    points as by default."""
    from optimizer.solve import frontier
    cases = []
    for seed in range(0, 48, 3):
        _, cat, calls, V, block = blocked_instance(seed)
        product = cat.product("p")
        args = (product, calls, resid(product, calls), V, SCALE, 10 ** 9)
        cases.append((args, block, product_frontier(*args, block=block).points()))
    monkeypatch.setattr(frontier, "BLOCK", block_size)
    monkeypatch.setattr(frontier, "FULL_PRUNE", full)
    for args, block, want in cases:
        assert product_frontier(*args, block=block).points() == want


def test_the_compiled_sweep_keeps_the_labels_the_numpy_sweep_keeps(monkeypatch):
    """sweepkernel.py's Fenwick-tree pass against the NumPy pass over blocks of labels:
    the same labels kept, on random keys with many ties, and the same frontiers when every
    sweep runs compiled."""
    import numpy as np

    from optimizer.solve import frontier, sweepkernel
    assert sweepkernel.available()
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(1, 2000))
        keys = [rng.integers(0, int(rng.integers(1, hi)), n) for hi in (40, 60, 80)]
        monkeypatch.setattr(frontier, "COMPILED_SWEEP", 10 ** 9)
        want = frontier._sweep(*keys)
        monkeypatch.setattr(frontier, "COMPILED_SWEEP", 0)
        assert np.array_equal(frontier._sweep(*keys), want)
    cases = []
    monkeypatch.setattr(frontier, "COMPILED_SWEEP", 10 ** 9)
    for seed in range(1, 48, 4):
        _, cat, calls, V, block = blocked_instance(seed)
        product = cat.product("p")
        args = (product, calls, resid(product, calls), V, SCALE, 10 ** 9)
        cases.append((args, block, product_frontier(*args, block=block).points()))
    monkeypatch.setattr(frontier, "COMPILED_SWEEP", 0)
    for args, block, want in cases:
        assert product_frontier(*args, block=block).points() == want
