"""A budget over the products' start-mode cost curves, solved exactly.

A budget makes a multiple-choice knapsack over the products' (spend, cost) frontiers:
`choose_points` (the any-month frontiers of frontier.py use it too) keeps the whole
tie-break (least spend, most calls, fewest packs), by a dynamic program over the spend
when its lattice is small, else by merging the frontiers one product at a time
(`Merged`); past both, the LP relaxation's multiplier bounds it, reduced-cost fixing keeps
only choices that could still be optimal, and a small integer program over those proves
the optimum, its tie-break one re-solve a key.
"""

from __future__ import annotations

import math

import numpy as np
import pulp

from .clock import Clock
from .curves import Curve
from .solvers import Status, solve
from .worst import resolve_keys

# The dynamic program over the spend: budget cells × frontier points (one vector step
# each) at most; a fine lattice gives tens of thousands of points (44,495 × 600,001
# cells took 23 s), and then the frontiers are merged instead.
MAX_DP_CELLS = 600_000_000


def solve_budget(curves: dict[str, Curve], fixed_cost: int, cap: int, solver: str = "highs",
                 time_limit: float | None = None, tie_break: bool = True):
    """Exact min total cost with Σ spend ≤ cap; returns ({pid: k}, objective, status,
    whether the tie-break is proven: a re-solve out of its share of time leaves the plan of
    the keys proven so far)."""
    # The time limit counts from the call: building the choice model (105,152 columns for
    # a worst case of 7-call packs) took seconds outside HiGHS's limit.
    clock = Clock(time_limit)
    fronts = {pid: [pt for pt in c.frontier() if pt[0] <= cap] for pid, c in curves.items()}
    if any(not f for f in fronts.values()):
        return None, None, Status.INFEASIBLE, False
    # The knapsack with the whole tie-break (spend, calls, packs).
    done = choose_points({pid: _with_calls(curves[pid], f) for pid, f in fronts.items()}, cap)
    if done is not None:
        idx, best, _ = done
        return ({pid: fronts[pid][i][2] for pid, i in idx.items()}, best + fixed_cost,
                Status.OPTIMAL, True)
    keep = _by_reduced_costs(fronts, cap)
    if keep is None:
        return None, None, Status.INFEASIBLE, False
    prob = pulp.LpProblem("budget", pulp.LpMinimize)
    pick = {(pid, i): prob.add_variable(f"y_{n}_{i}", cat="Binary")
            for n, pid in enumerate(keep) for i in range(len(keep[pid]))}
    prob += pulp.lpSum(keep[pid][i][1] * v for (pid, i), v in pick.items()) + fixed_cost
    for pid in keep:
        prob += pulp.lpSum(pick[pid, i] for i in range(len(keep[pid]))) == 1
    prob += pulp.lpSum(keep[pid][i][0] * v for (pid, i), v in pick.items()) <= cap
    if clock.expired():
        return None, None, Status.NO_SOLUTION, False
    # (without HiGHS's presolve, nor its heuristics' sub-MIPs: they reduce nothing here and
    # do not stop on time; solvers.NO_PRESOLVE)
    out = solve(prob, solver, clock.remaining(), presolve=False)
    if not out.has_solution:
        return None, None, out.status, False
    if out.status is Status.OPTIMAL:
        # Among plans of the optimal cost, the least prepaid spend, then the most calls,
        # then the fewest packs (docs/pricing.md, 'Optimality'), each kept for the next.
        best = round(out.objective)
        prob += prob.objective <= best + 0.5, "keep_optimal_cost"
        keys = [(pulp.lpSum(of(pid, keep[pid][i]) * v for (pid, i), v in pick.items()), sense)
                for of, sense in ((lambda pid, pt: pt[0], 1),
                                  (lambda pid, pt: pt[2] * curves[pid].step, -1),
                                  (lambda pid, pt: int(curves[pid].knap.packs[pt[2]]), 1))]
        chosen = {key: v.value() for key, v in pick.items()}
        proven = tie_break and resolve_keys(     # (none when only the cost is wanted)
            prob, keys, solver, out.seconds, clock.deadline,
            lambda: chosen.update({key: v.value() for key, v in pick.items()}),
            presolve=False)
        ks = {pid: next(keep[pid][i][2] for i in range(len(keep[pid]))
                        if chosen[pid, i] > 0.5) for pid in keep}
        return ks, best, out.status, proven
    ks = {pid: next(keep[pid][i][2] for i in range(len(keep[pid])) if pick[pid, i].value() > 0.5)
          for pid in keep}
    return ks, None, out.status, False


def _by_reduced_costs(fronts: dict[str, list], cap: int) -> dict[str, list] | None:
    """Each product's frontier points that can still be in an optimal choice within `cap`
    (None: even the least spends break it), for the knapsack's integer program."""
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
        return None
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
    return keep


def _with_calls(curve: Curve, front: list) -> list[tuple[int, int, int, int]]:
    """A start-mode frontier's (spend, cost, k) as (spend, cost, calls, packs)."""
    k = np.array([k for _, _, k in front], dtype=np.int64)
    return list(zip((s for s, _, _ in front), (c for _, c, _ in front),
                    (k * curve.step).tolist(), curve.knap.packs[k].tolist()))


def choose_points(fronts: dict[str, list[tuple[int, int, int, int]]], cap: int):
    """One (spend, cost, calls, packs) point per product with total spend at most `cap`:
    the least total cost, then the least spend, the most calls, the fewest packs
    (docs/pricing.md, 'Optimality'). Returns ({pid: point index}, cost, spend), or None
    when no choice keeps the cap or the search would be too large."""
    return chooser(fronts, cap)(cap)


def chooser(fronts: dict[str, list[tuple[int, int, int, int]]], cap: int):
    """`choose_points` for any cap up to `cap`, as a function of that cap: a dynamic
    program over the spend for each cap asked when its lattice is small (vectorised, it
    is the faster: 30 products' 1,597 points over 62,925 cells, where merging them one
    at a time spent 2.1 s and gave up), else the products' frontiers merged once
    (`Merged`)."""
    if any(min((pt[0] for pt in f), default=cap + 1) > cap for f in fronts.values()):
        return lambda total: None
    if not fronts:
        return lambda total: ({}, 0, 0)    # no product has a pack worth buying
    if _dp_cells(fronts, cap) is not None:
        return lambda total: _spend_dp(fronts, total)
    merged = Merged.of(fronts, cap)
    return (lambda total: None) if merged is None else merged.choose


def _dp_cells(fronts: dict[str, list[tuple[int, int, int, int]]], cap: int):
    """(cells, unit) of the spend's dynamic program under `cap`, or None when too large."""
    spends = [s for f in fronts.values() for s, *_ in f if s and s <= cap]
    g = math.gcd(*spends) if spends else 1
    within = [[s for s, *_ in f if s <= cap] for f in fronts.values()]
    cells = min(cap // g, sum(max(f) for f in within) // g) + 1
    if cells * sum(len(f) for f in within) > MAX_DP_CELLS or \
            max(len(f) for f in within) >= 65535:
        return None
    return cells, g


def _spend_dp(fronts: dict[str, list[tuple[int, int, int, int]]], cap: int):
    """`choose_points` by dynamic programming over the exact total spend, in units of the
    gcd of all spends; each cell keeps the best (cost, -calls, packs), which adds up
    exactly. None when the spend lattice is too large."""
    index = {pid: [i for i, pt in enumerate(f) if pt[0] <= cap] for pid, f in fronts.items()}
    fronts = {pid: [f[i] for i in index[pid]] for pid, f in fronts.items()}
    lattice = None if any(not f for f in fronts.values()) else _dp_cells(fronts, cap)
    if lattice is None:
        return None
    cells, g = lattice
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
        ks[pid] = index[pid][j]
        b -= f[j][0] // g
    return ks, best, total_spend


MAX_MERGE_PAIRS = 12_000_000   # (label, point) pairs the merge may form in all
MAX_MERGE_STEP = 2_000_000     # ... and in one merge (each pair's keys held at once)


class Merged:
    """The products' frontiers merged: for each total spend up to a cap, the best (cost,
    -calls, packs) of one point per product, kept only where the cost falls. A combination
    B is dropped when another, A, spends no more and has a key (cost, spend, -calls,
    packs) no larger: whatever the other products add, A then keeps any cap B keeps and
    stays ahead of B on the tie-break. So what is kept holds the optimum of every cap up
    to the one merged for. The largest frontier is not merged but looked up: for each
    combination of the others, its best point is the last one within the spend left (its
    cost falls with the spend). Each merge forms labels × points pairs, the lookup one
    search per label: with a fine spend lattice (1-call packs) far fewer than the dynamic
    program's cells × points (a frontier of a million points beside one of 281, under a
    cap of 14 million units: 281 searches)."""

    def __init__(self, pids, labels, back, last):
        self.pids, self.labels, self.back, self.last = pids, labels, back, last

    @classmethod
    def of(cls, fronts: dict[str, list[tuple[int, int, int, int]]], cap: int,
           max_pairs: int | None = None) -> "Merged | None":
        """The merge of `fronts` (points (spend, cost, calls, packs)) up to `cap`, or None
        past `max_pairs` pairs formed (MAX_MERGE_PAIRS unless given)."""
        max_pairs = MAX_MERGE_PAIRS if max_pairs is None else max_pairs
        arrays = {pid: np.array(f, dtype=np.int64).reshape(-1, 4) for pid, f in fronts.items()}
        big = max(arrays, key=lambda pid: len(arrays[pid]))
        pids = [pid for pid in arrays if pid != big] + [big]
        labels = np.zeros((1, 4), dtype=np.int64)        # spend, cost, calls, packs
        back, pairs = [], 0
        for pid in pids[:-1]:
            within = np.nonzero(arrays[pid][:, 0] <= cap)[0]
            pts = arrays[pid][within]
            n, m = len(labels), len(pts)
            pairs += n * m
            if pairs > max_pairs or n * m > MAX_MERGE_STEP:
                return None
            both = (labels[:, None, :] + pts[None, :, :]).reshape(-1, 4)
            ok = np.nonzero(both[:, 0] <= cap)[0]
            keep = ok[_falling(both[ok])]
            labels = both[keep]
            back.append((keep // m, within[keep % m]))
        keep = _falling(arrays[big])
        return cls(pids, labels, back, (arrays[big][keep], keep))

    def choose(self, cap: int):
        """({pid: point index}, cost, spend) of the best combination within `cap`, or None
        when none keeps it."""
        last, index = self.last
        j = np.searchsorted(last[:, 0], cap - self.labels[:, 0], side="right") - 1
        ok = np.nonzero(j >= 0)[0]
        if not len(ok):
            return None
        total = self.labels[ok] + last[j[ok]]
        i = int(ok[np.lexsort((total[:, 3], -total[:, 2], total[:, 0], total[:, 1]))[0]])
        ks = {self.pids[-1]: int(index[j[i]])}
        spend, cost = int(self.labels[i, 0] + last[j[i], 0]), \
            int(self.labels[i, 1] + last[j[i], 1])
        for pid, (prev, point) in zip(reversed(self.pids[:-1]), reversed(self.back)):
            ks[pid] = int(point[i])
            i = int(prev[i])
        return ks, cost, spend


def _falling(pts: np.ndarray) -> np.ndarray:
    """Which rows (spend, cost, calls, packs) no other dominates, in order of spend: the
    best (cost, -calls, packs) of each spend, then only where the cost falls below every
    smaller spend's (the same cost at more spend loses on the second key)."""
    s, c = pts[:, 0], pts[:, 1]
    order = np.lexsort((pts[:, 3], -pts[:, 2], c, s))
    first = np.ones(len(order), dtype=bool)
    first[1:] = s[order[1:]] != s[order[:-1]]
    order = order[first]
    co = c[order]
    before = np.minimum.accumulate(np.concatenate(([np.iinfo(np.int64).max], co)))
    return order[co < before[:-1]]
