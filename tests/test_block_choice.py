"""One point per product under a cap on each block's spend (and a total cap): the choice of
budget.choose_by_blocks against every combination, on random frontiers."""

from __future__ import annotations

import itertools
import random

import pytest

from optimizer.solve.budget import choose_by_blocks
from optimizer.solve.solvers import Status


def _points(rng: random.Random, blocks: int) -> list:
    return [(tuple(rng.choice([0, 0, 3, 5, 8, 10]) for _ in range(blocks)),
             rng.randint(10, 40), rng.choice([0, 100, 200]), rng.randint(0, 3))
            for _ in range(rng.randint(1, 6))]


def _best(fronts: dict, block_cap: int, total_cap):
    """The least (cost, spend, -calls, packs) over every combination keeping the caps."""
    pids = list(fronts)
    best = None
    for combo in itertools.product(*(range(len(fronts[p])) for p in pids)):
        pts = [fronts[p][i] for p, i in zip(pids, combo)]
        blocks = [sum(pt[0][b] for pt in pts) for b in range(len(pts[0][0]))]
        if max(blocks) > block_cap or (total_cap is not None and sum(blocks) > total_cap):
            continue
        key = (sum(pt[1] for pt in pts), sum(blocks), -sum(pt[2] for pt in pts),
               sum(pt[3] for pt in pts))
        best = key if best is None else min(best, key)
    return best


@pytest.mark.parametrize("seed", range(60))
def test_the_choice_is_the_least_over_every_combination(seed):
    rng = random.Random(seed)
    blocks = rng.choice([1, 2, 3])
    fronts = {f"p{k}": _points(rng, blocks) for k in range(rng.randint(1, 3))}
    block_cap = rng.choice([5, 8, 10, 13, 20])
    total_cap = rng.choice([None, None, 12, 25])
    want = _best(fronts, block_cap, total_cap)
    chosen, cost, status, proven = choose_by_blocks(fronts, block_cap, total_cap)
    if want is None:
        assert chosen is None and status is Status.INFEASIBLE
        return
    assert status is Status.OPTIMAL and proven
    pts = [fronts[p][i] for p, i in chosen.items()]
    got = (sum(pt[1] for pt in pts), sum(sum(pt[0]) for pt in pts),
           -sum(pt[2] for pt in pts), sum(pt[3] for pt in pts))
    assert got == want and cost == want[0]
