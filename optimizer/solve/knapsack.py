"""Unbounded knapsack over pack sizes: the least spend for every exact capacity, and a
cheapest mix behind it. NumPy only; the cost curves and the dynamic program share it."""

from __future__ import annotations

import numpy as np

INF = np.iinfo(np.int64).max // 4


def cheapest_spend(packs: list[tuple[int, int]], n: int) -> np.ndarray:
    """Least spend for each exact capacity 0..n-1 (in lattice steps), INF where no mix has
    it: an unbounded knapsack over (steps, price) packs, all residues of a size at once."""
    spend = np.full(n, INF, dtype=np.int64)
    spend[0] = 0
    for q, price in packs:
        # Row j holds capacities j·q + r: j·price plus a running minimum down each column.
        rows = -(-n // q)
        grid = np.full(rows * q, INF, dtype=np.int64)
        grid[:n] = spend
        grid = grid.reshape(rows, q)
        j = np.arange(rows, dtype=np.int64)[:, None] * price
        grid = np.minimum.accumulate(np.minimum(grid, INF) - j, axis=0) + j
        spend = np.minimum(spend, grid.reshape(-1)[:n])
    spend[spend >= INF // 2] = INF
    return spend


def cheapest_mix(spend: np.ndarray, step: int, packs: list[tuple[int, int]], k: int
                 ) -> dict[int, int]:
    """A cheapest mix of capacity k·step, {size: count}, by backtracking through the
    `cheapest_spend` array of the (size in calls, price) packs."""
    out: dict[int, int] = {}
    while k > 0:
        for size, price in packs:
            j = k - size // step
            if j >= 0 and spend[j] < INF and spend[j] + price == spend[k]:
                out[size] = out.get(size, 0) + 1
                k = j
                break
        else:
            raise AssertionError("knapsack backtrack failed")
    return out

