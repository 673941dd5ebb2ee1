"""Exact cost curves for start mode, and budgets solved on them.

In start mode a product's bill depends only on the capacity C it buys (every new pack
shares one expiry). On the lattice of the pack sizes' gcd, `capacity_curve` gives for every
C the cheapest mix of exactly that capacity (an unbounded knapsack) and the postpaid that
follows (the billing rules, vectorised). A budget then becomes a multiple-choice knapsack
over the products' (spend, cost) frontiers, solved exactly: the LP relaxation's
multiplier bounds it, reduced-cost fixing keeps only choices that could still be optimal,
and a small integer program over those proves the optimum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pulp

from .catalog import Product
from .model import residual_demand, to_units
from .solvers import Status, solve

MAX_POINTS = 2_000_000      # larger lattices are left to the general model
INF = np.iinfo(np.int64).max // 4


@dataclass(frozen=True)
class Curve:
    """Spend and total cost (money units) for capacity k·step, k = 0..len-1."""

    product: Product
    step: int
    spend: np.ndarray        # INF where no mix has exactly that capacity
    cost: np.ndarray         # spend + postpaid
    prices: dict             # pack size -> price, money units

    def counts(self, k: int) -> dict[int, int]:
        """A cheapest mix of capacity k·step."""
        mix = cheapest_mix(self.spend, self.step, list(self.prices.items()), k)
        return {p.calls: mix.get(p.calls, 0) for p in self.product.packs}

    def frontier(self) -> list[tuple[int, int, int]]:
        """(spend, cost, k) of the capacities no other beats on both, by spend."""
        ok = np.nonzero(self.spend < INF)[0]
        order = ok[np.lexsort((self.cost[ok], self.spend[ok]))]
        out, best = [], None
        for k in order:
            c = int(self.cost[k])
            if best is None or c < best:
                out.append((int(self.spend[k]), c, int(k)))
                best = c
        return out


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
                 np.where(first.spend < INF, cost, INF), first.prices)


def best_point(curve: Curve) -> int:
    """The cheapest capacity, and among equally cheap ones the least spend."""
    order = np.lexsort((curve.spend, curve.cost))
    return int(order[0])


def _budget_dp(fronts: dict[str, list], cap: int):
    """Multiple-choice knapsack by dynamic programming over the spend, in units of the
    gcd of all spends; among optimal plans the least spend. None when too large."""
    spends = [s for f in fronts.values() for s, _, _ in f if s]
    g = math.gcd(*spends) if spends else 1
    cells = cap // g + 1
    if cells * len(fronts) > MAX_DP_CELLS or max(len(f) for f in fronts.values()) >= 65535:
        return None
    dp = np.full(cells, INF, dtype=np.int64)
    dp[0] = 0
    choice = np.zeros((len(fronts), cells), dtype=np.uint16)
    for i, f in enumerate(fronts.values()):
        new = np.full(cells, INF, dtype=np.int64)
        arg = choice[i]
        for j, (s, c, _) in enumerate(f):
            sj = s // g
            cand = dp[:cells - sj] + c
            better = cand < new[sj:]
            new[sj:][better] = cand[better]
            arg[sj:][better] = j
        dp = np.minimum(new, INF)
    best = int(dp.min())
    if best >= INF:
        return None
    b = int(np.nonzero(dp == best)[0][0])        # the least spend among the cheapest
    ks = {}
    for i, (pid, f) in reversed(list(enumerate(fronts.items()))):
        s, _, k = f[int(choice[i][b])]
        ks[pid] = k
        b -= s // g
    return ks, best


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


def capacity_curve(product: Product, calls, start, validity: int, basis: str, scale: int,
                   held=(), top: int | None = None) -> Curve | None:
    """The exact start-mode cost of every capacity, or None when the lattice is too large."""
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
    spend = cheapest_spend([(p.calls // step, units[p.calls]) for p in product.packs], n)

    # Postpaid of every month for every capacity, filling months in order (billing rules).
    cap = np.arange(n, dtype=np.int64) * step
    postpaid = np.zeros(n, dtype=np.int64)
    bounds = np.array([t.up_to for t in product.tiers if t.up_to is not None], dtype=np.int64)
    rates = np.array([to_units(r, scale) for _, r, _ in product.tier_rates()], dtype=np.int64)
    filled = 0
    for m in range(T):
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
    return Curve(product, step, spend, cost, units)


MAX_DP_CELLS = 150_000_000   # products × budget cells for the dynamic programme


def solve_budget(curves: dict[str, Curve], fixed_cost: int, cap: int, solver: str = "highs",
                 time_limit: float | None = None):
    """Exact min total cost with Σ spend ≤ cap; returns ({pid: k}, objective, status)."""
    fronts = {pid: [pt for pt in c.frontier() if pt[0] <= cap] for pid, c in curves.items()}
    if any(not f for f in fronts.values()):
        return None, None, Status.INFEASIBLE
    done = _budget_dp(fronts, cap)
    if done is not None:
        ks, best = done
        return ks, best + fixed_cost, Status.OPTIMAL
    # LP relaxation of the multiple-choice knapsack: lower convex hull of each frontier,
    # then spend the budget on the steepest hull steps first.
    steps, base_spend, base_cost = [], 0, 0
    choice = {}
    for pid, f in fronts.items():
        hull = [f[0]]
        for pt in f[1:]:
            while len(hull) >= 2 and (hull[-1][1] - hull[-2][1]) * (pt[0] - hull[-2][0]) >= \
                    (pt[1] - hull[-2][1]) * (hull[-1][0] - hull[-2][0]):
                hull.pop()
            hull.append(pt)
        base_spend += hull[0][0]
        base_cost += hull[0][1]
        choice[pid] = hull[0]
        for a, b in zip(hull, hull[1:]):
            steps.append(((a[1] - b[1]) / (b[0] - a[0]), pid, a, b))
    if base_spend > cap:
        return None, None, Status.INFEASIBLE
    steps.sort(key=lambda s: -s[0])
    left, lam = cap - base_spend, 0.0
    lb = float(base_cost)
    for ratio, pid, a, b in steps:
        if choice[pid] is not a:
            continue                      # an earlier step of this product was not taken
        width = b[0] - a[0]
        if width <= left:
            left -= width
            lb -= ratio * width
            choice[pid] = b
        else:
            lam = ratio
            lb -= ratio * left
            break
    ub = sum(c[1] for c in choice.values())          # the greedy choice is feasible
    # Reduced-cost fixing: a choice whose Lagrangian excess exceeds UB − LB is never optimal.
    keep = {}
    slack = ub - lb + 1e-6 * max(1.0, abs(ub))
    for pid, f in fronts.items():
        vals = [c + lam * s for s, c, _ in f]
        best = min(vals)
        keep[pid] = [pt for pt, v in zip(f, vals) if v - best <= slack]
    prob = pulp.LpProblem("budget", pulp.LpMinimize)
    pick = {(pid, i): prob.add_variable(f"y_{n}_{i}", cat="Binary")
            for n, pid in enumerate(keep) for i in range(len(keep[pid]))}
    prob += pulp.lpSum(keep[pid][i][1] * v for (pid, i), v in pick.items()) + fixed_cost
    for pid in keep:
        prob += pulp.lpSum(pick[pid, i] for i in range(len(keep[pid]))) == 1
    prob += pulp.lpSum(keep[pid][i][0] * v for (pid, i), v in pick.items()) <= cap
    out = solve(prob, solver, time_limit)
    if not out.has_solution:
        return None, None, out.status
    if out.status is Status.OPTIMAL:
        # Among plans of the optimal cost, the least prepaid spend (SPEC §3).
        best = round(out.objective)
        spend = pulp.lpSum(keep[pid][i][0] * v for (pid, i), v in pick.items())
        prob += prob.objective <= best + 0.5, "keep_optimal_cost"
        prob.setObjective(spend)
        second = solve(prob, solver, time_limit)
        if second.status is not Status.OPTIMAL:
            return None, None, second.status
    else:
        best = None
    ks = {pid: next(keep[pid][i][2] for i in range(len(keep[pid])) if pick[pid, i].value() > 0.5)
          for pid in keep}
    return ks, best, out.status
