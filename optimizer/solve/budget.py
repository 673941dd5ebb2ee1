"""A budget over the products' start-mode cost curves, solved exactly.

A budget makes a multiple-choice knapsack over the products' (spend, cost) frontiers: a
dynamic program over the spend when it is small enough (`choose_points`, which keeps the
whole tie-break: least spend, most calls, fewest packs; the any-month frontiers of
frontier.py use it too); otherwise the LP relaxation's
multiplier bounds it, reduced-cost fixing keeps only choices that could still be optimal,
and a small integer program over those proves the optimum.
"""

from __future__ import annotations

import math

import numpy as np
import pulp

from .curves import Curve
from .knapsack import INF
from .solvers import Status, solve

MAX_DP_CELLS = 150_000_000   # products × budget cells for the dynamic programme
# Its work: frontier points × budget cells (one vector step each). A fine lattice gives
# tens of thousands of points: 44,495 × 600,001 cells took 23 s, where the integer program
# over the points that reduced costs keep is at once.
MAX_DP_WORK = 1_000_000_000


def _budget_dp(fronts: dict[str, list], cap: int):
    """Multiple-choice knapsack by dynamic programming over the spend, in units of the
    gcd of all spends; among optimal plans the least spend. None when too large."""
    spends = [s for f in fronts.values() for s, _, _ in f if s]
    g = math.gcd(*spends) if spends else 1
    cells = cap // g + 1
    if cells * len(fronts) > MAX_DP_CELLS or max(len(f) for f in fronts.values()) >= 65535 \
            or cells * sum(len(f) for f in fronts.values()) > MAX_DP_WORK:
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


# Long (83 lines): the knapsack's model and its tie-break re-solves read as one sequence.
def solve_budget(curves: dict[str, Curve], fixed_cost: int, cap: int, solver: str = "highs",
                 time_limit: float | None = None):
    """Exact min total cost with Σ spend ≤ cap; returns ({pid: k}, objective, status)."""
    fronts = {pid: [pt for pt in c.frontier() if pt[0] <= cap] for pid, c in curves.items()}
    if any(not f for f in fronts.values()):
        return None, None, Status.INFEASIBLE
    # The knapsack by dynamic programming with the whole tie-break (spend, calls, packs).
    done = choose_points({pid: [(sp, c, k * curves[pid].step, int(curves[pid].knap.packs[k]))
                                for sp, c, k in f] for pid, f in fronts.items()}, cap)
    if done is not None:
        idx, best, _ = done
        return ({pid: fronts[pid][i][2] for pid, i in idx.items()}, best + fixed_cost,
                Status.OPTIMAL)
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
        # Among plans of the optimal cost, the least prepaid spend (docs/pricing.md,
        # 'Optimality').
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


def choose_points(fronts: dict[str, list[tuple[int, int, int, int]]], cap: int):
    """One (spend, cost, calls, packs) point per product with total spend at most `cap`:
    the least total cost, then the least spend, the most calls, the fewest packs
    (docs/pricing.md, 'Optimality'). A multiple-choice knapsack by dynamic programming over
    the exact total spend, in units of the gcd of all spends; each cell keeps the best
    (cost, -calls, packs), which adds up exactly. Returns ({pid: point index}, cost, spend),
    or None when the spend lattice is too large."""
    fronts = {pid: [pt for pt in f if pt[0] <= cap] for pid, f in fronts.items()}
    if any(not f for f in fronts.values()):
        return None
    if not fronts:
        return {}, 0, 0         # no product has a pack worth buying: nothing to choose
    spends = [s for f in fronts.values() for s, *_ in f if s]
    g = math.gcd(*spends) if spends else 1
    cells = min(cap // g, sum(max(s for s, *_ in f) for f in fronts.values()) // g) + 1
    if cells * sum(len(f) for f in fronts.values()) > 4 * MAX_DP_CELLS or \
            max(len(f) for f in fronts.values()) >= 65535:
        return None
    big = np.iinfo(np.int64).max // 4
    cost = np.full(cells, big, dtype=np.int64)
    calls = np.zeros(cells, dtype=np.int64)
    packs = np.zeros(cells, dtype=np.int64)
    cost[0] = 0
    choice = np.zeros((len(fronts), cells), dtype=np.uint16)
    for i, f in enumerate(fronts.values()):
        n_cost = np.full(cells, big, dtype=np.int64)
        n_calls = np.zeros(cells, dtype=np.int64)
        n_packs = np.zeros(cells, dtype=np.int64)
        arg = choice[i]
        for j, (s, c, k, p) in enumerate(f):
            sj = s // g
            if sj >= cells:
                continue
            cc = cost[:cells - sj] + c
            ck = calls[:cells - sj] + k
            cp = packs[:cells - sj] + p
            oc, ok_, op = n_cost[sj:], n_calls[sj:], n_packs[sj:]
            better = (cost[:cells - sj] < big) & (
                (cc < oc) | ((cc == oc) & ((ck > ok_) | ((ck == ok_) & (cp < op)))))
            oc[better], ok_[better], op[better] = cc[better], ck[better], cp[better]
            arg[sj:][better] = j
        cost, calls, packs = n_cost, n_calls, n_packs
    live = np.nonzero(cost < big)[0]
    if not len(live):
        return None
    # Least cost, then least spend (the cell), then most calls, fewest packs.
    b = int(live[np.lexsort((packs[live], -calls[live], live, cost[live]))[0]])
    best, total_spend = int(cost[b]), b * g
    ks = {}
    for i, (pid, f) in reversed(list(enumerate(fronts.items()))):
        j = int(choice[i][b])
        ks[pid] = j
        b -= f[j][0] // g
    return ks, best, total_spend
