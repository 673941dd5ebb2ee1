"""Start mode's exact cost curves: the cost of every capacity a product can buy.

In start mode a product's bill depends only on the capacity C it buys (every new pack
shares one expiry). On the lattice of the pack sizes' gcd, `capacity_curve` gives for every
C the cheapest mix of exactly that capacity (an unbounded knapsack) and the postpaid that
follows (the billing rules, vectorised). Budgets are solved over these curves in `budget.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..domain.catalog import Product
from ..domain.money import to_units
from .clock import UNLIMITED, Clock
from .demand import residual_demand
from .knapsack import INF, Knapsack

MAX_POINTS = 2_000_000      # larger lattices are left to the general model


@dataclass(frozen=True)
class Curve:
    """Spend and total cost (money units) for capacity k·step, k = 0..len-1."""

    product: Product
    step: int
    spend: np.ndarray        # INF where no mix has exactly that capacity
    cost: np.ndarray         # spend + postpaid
    prices: dict             # pack size -> price, money units
    knap: Knapsack           # the mixes: least spend, then fewest packs

    def counts(self, k: int) -> dict[int, int]:
        """A mix of capacity k·step with the least spend, then the fewest packs."""
        mix = self.knap.mix(self.step, list(self.prices), k)
        return {p.calls: mix.get(p.calls, 0) for p in self.product.packs}

    def frontier(self) -> list[tuple[int, int, int]]:
        """(spend, cost, k) of the capacities no other beats on both, by spend."""
        ok = np.nonzero(self.spend < INF)[0]
        # Among equal (spend, cost) the first is the one with more calls, then fewer packs.
        order = ok[np.lexsort((self.knap.packs[ok], -ok, self.cost[ok], self.spend[ok]))]
        cost = self.cost[order]
        before = np.minimum.accumulate(np.concatenate(([INF + 1], cost)))[:-1]
        order = order[cost < before]      # (vectorised: a million points took 0.5 s as a loop)
        return list(zip(self.spend[order].tolist(), self.cost[order].tolist(),
                        order.tolist()))


def needed_top(product: Product, calls, start, validity: int, held=()) -> int:
    """Largest capacity worth pricing: the window's need plus one pack."""
    need = sum(residual_demand(product, calls, start, held)[:validity])
    return max(need, 0) + max(p.calls for p in product.packs)


def weighted_curve(curves: list[Curve], weights: list[int]) -> Curve:
    """Scenarios sharing one purchase: spend once, costs weighted (Σw·spend + Σ w·postpaid)."""
    first = curves[0]
    cost = sum((w * (c.cost - c.spend) for c, w in zip(curves, weights)),
               np.zeros_like(first.spend)) + sum(weights) * first.spend
    return Curve(first.product, first.step, first.spend,
                 np.where(first.spend < INF, cost, INF), first.prices, first.knap)


def best_point(curve: Curve) -> int:
    """The cheapest capacity; among equally cheap ones the least spend, then the most calls,
    then the fewest packs (docs/pricing.md, 'Optimality')."""
    # Only the cheapest points compete on the other keys: sort those few, not the curve.
    tied = np.flatnonzero(curve.cost == curve.cost.min())
    if len(tied) == 1:
        return int(tied[0])
    order = np.lexsort((curve.knap.packs[tied], -tied, curve.spend[tied]))
    return int(tied[order[0]])


def capacity_curve(product: Product, calls, start, validity: int, basis: str, scale: int,
                   held=(), top: int | None = None, clock: Clock = UNLIMITED) -> Curve | None:
    """The exact start-mode cost of every capacity, or None when the lattice is too large
    (OutOfTime once `clock` runs out)."""
    T = len(calls)
    resid = residual_demand(product, calls, start, held)
    window = [m for m in range(min(validity, T)) if resid[m] > 0]
    need = sum(resid[m] for m in window)
    step = math.gcd(*(p.calls for p in product.packs))
    if top is None:
        top = need + max(p.calls for p in product.packs)
    n = top // step + 1
    if n > MAX_POINTS:
        return None

    units = {p.calls: to_units(p.price, scale) for p in product.packs}
    knap = Knapsack([(p.calls // step, units[p.calls]) for p in product.packs], n)
    spend = knap.spend

    # Postpaid of every month for every capacity, filling months in order (billing rules).
    cap = np.arange(n, dtype=np.int64) * step
    postpaid = np.zeros(n, dtype=np.int64)
    bounds = np.array([t.up_to for t in product.tiers if t.up_to is not None], dtype=np.int64)
    rates = np.array([to_units(r, scale) for _, r, _ in product.tier_rates()], dtype=np.int64)
    filled = 0
    for m in range(T):
        clock.check()
        d, free = calls[m], min(calls[m], product.free_calls)
        if m in window:
            fill = np.clip(cap - filled, 0, resid[m])
            filled += resid[m]
        else:
            fill = np.zeros(n, dtype=np.int64)
        o = resid[m] - fill
        volume = np.full(n, d, dtype=np.int64) if basis == "total" else free + o
        postpaid += o * rates[np.searchsorted(bounds, volume, side="left")]
    cost = np.where(spend < INF, spend + postpaid, INF)
    return Curve(product, step, spend, cost, units, knap)

