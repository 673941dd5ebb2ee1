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



class Knapsack:
    """Least spend per capacity and, among mixes of that spend, the fewest packs.

    Both are read off one knapsack over the combined key spend·M + packs (a pack costs
    price·M + 1), M above any pack count, when that key fits in 64 bits; otherwise only the
    spend is minimised and every `packs` is 0 (the fewest-packs tie-break is then not
    applied to the mix of one capacity).
    """

    def __init__(self, packs: list[tuple[int, int]], n: int):
        self.steps = [q for q, _ in packs]
        most = max(price / q for q, price in packs) * n     # no cheapest mix spends more
        self.m = n + 1 if (most + 1) * (n + 1) < INF // 4 else 1
        self.key = cheapest_spend([(q, price * self.m + (self.m > 1)) for q, price in packs],
                                  n)
        self.combined = [(q, price * self.m + (self.m > 1)) for q, price in packs]
        ok = self.key < INF
        self.spend = np.where(ok, self.key // self.m, INF)
        self.packs = np.where(ok, self.key % self.m if self.m > 1 else 0, 0)

    def __len__(self) -> int:
        return len(self.key)

    def mix(self, step: int, sizes: list[int], k: int) -> dict[int, int]:
        """A mix of capacity k·step with the least spend, then the fewest packs."""
        return cheapest_mix(self.key, step, [(s, c) for s, (_, c) in zip(sizes, self.combined)],
                            k)
