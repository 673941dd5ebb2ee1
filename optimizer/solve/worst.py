"""The worst-case objective in start mode, on the exact cost curves.

In start mode a product's bill under each scenario depends only on the capacity it buys,
and curves.py prices every capacity exactly per scenario. The worst-case plan is then one
capacity per product minimising max_k Σ_p cost_pk: a small integer program with one
binary per product and candidate capacity, one row per scenario (and one for a budget).

Candidates are cut before the model is built, each cut keeping every plan that could be
optimal or tie with the optimum:
* a bound: with the cheapest choice of every other product in each scenario, a capacity
  whose worst case already exceeds a known plan's worst case is never chosen;
* dominance: a capacity no better in any scenario, spend, calls or packs than another is
  dropped (one of exact twins is kept).
Among plans of equal worst-case cost the least spend, then the most calls, then the fewest
packs (docs/pricing.md, 'Optimality'), each proven by re-solving with the keys before it
fixed.
"""

from __future__ import annotations

import time

import numpy as np
import pulp

from ..domain.catalog import Product
from ..domain.money import to_units
from .clock import Clock
from .curves import Curve
from .demand import residual_demand
from .knapsack import INF
from .solvers import Status, solve

MAX_PAIRWISE = 3000        # candidates of one product compared pairwise for dominance


def tie_break_limit(first_seconds: float, deadline: float | None) -> float:
    """Seconds for one tie-break re-solve of a model whose cost solve took
    `first_seconds`: as the integer programs' (engines._prefer_less_prepaid), within the
    time left before `deadline` (perf_counter; None: no limit)."""
    from .engines import TIE_BREAK_FLOOR, TIE_BREAK_SHARE
    limit = max(TIE_BREAK_FLOOR, TIE_BREAK_SHARE * first_seconds)
    return limit if deadline is None else min(limit, deadline - time.perf_counter())


def resolve_keys(prob, keys, solver: str, first_seconds: float, deadline: float | None,
                 read, presolve: bool = True) -> bool:
    """The tie-break of a model already at its optimal cost: for each (expression, sense)
    of `keys` in turn, re-solve for it and keep its value as a row for the next, each
    re-solve within `tie_break_limit`; `read()` after each one proven (the plan is then
    the one in `prob`'s variables). Whether every key was proven: one out of its time
    leaves the plan read last. `presolve`: as `solve`'s."""
    for n, (expr, sense) in enumerate(keys):
        prob.setObjective(sense * expr)
        left = tie_break_limit(first_seconds, deadline)
        again = solve(prob, solver, left, presolve=presolve) if left > 0 else None
        if again is None or again.status is not Status.OPTIMAL:
            return False
        read()
        # (Read from the picks: a key with no variable left has no solver objective.)
        value = round(pulp.value(expr) or 0)
        prob += ((expr <= value + 0.5) if sense > 0 else (expr >= value - 0.5)), f"keep_{n}"
    return True


def _kept(curves: dict[str, tuple[Curve, np.ndarray, np.ndarray]], fixed: list[int],
          cap: int | None) -> tuple[dict, dict, np.ndarray]:
    """Each product's candidates within the cap that can be in a plan no worse than a
    known one and that no other candidate dominates; each product's cheapest cost per
    scenario; and their sum with `fixed`, per scenario."""
    cand = {}
    for pid, (curve, idx, costs) in curves.items():
        spend = curve.spend[idx]
        ok = spend < INF
        if cap is not None:
            ok &= spend <= cap
        idx, costs, spend = idx[ok], costs[:, ok], spend[ok]
        cand[pid] = _Candidates(idx, costs, spend, idx * curve.step, curve.knap.packs[idx])
    # Each product's cheapest cost per scenario.
    low = {pid: c.cost.min(axis=1) for pid, c in cand.items()}
    total_low = np.array(fixed, dtype=np.int64) + sum(low.values(),
                                                      np.zeros(len(fixed), dtype=np.int64))
    ub = _upper_bound(cand, fixed, cap)
    for pid, c in cand.items():
        others = total_low - low[pid]
        bound = (c.cost + others[:, None]).max(axis=0)
        c.keep(bound <= ub)
        c.keep(_undominated(c))
    return cand, low, total_low


def solve_worst(curves: dict[str, tuple[Curve, np.ndarray, np.ndarray]], fixed: list[int],
                cap: int | None, solver: str = "highs", time_limit=None,
                tie_break: bool = True):
    """({pid: k}, worst-case objective, status, whether the tie-break is proven): one
    capacity index k per product. A tie-break re-solve out of time leaves the plan of the
    keys proven so far (still of the least worst case), the tie-break unproven.

    `curves[pid]` is the product's curve, the lattice indices of its candidates and their
    cost under each scenario (rows, from `scenario_costs`); `fixed[j]` scenario j's cost of
    the products without packs."""
    # The time limit counts from the call, the model's building with it (as solve_budget).
    clock = Clock(time_limit)
    K = len(fixed)
    cand, low, total_low = _kept(curves, fixed, cap)
    pids = list(cand)
    # Costs above each product's cheapest in the scenario keep coefficients small.
    base = total_low
    prob = pulp.LpProblem("worst_case", pulp.LpMinimize)
    # pick[p, i]: product p buys its candidate capacity i.
    pick = {(p, i): prob.add_variable(f"y_{n}_{i}", cat="Binary")
            for n, p in enumerate(pids) for i in range(len(cand[p].idx))}
    # worst: the dearest scenario's cost above `base`'s smallest entry, minimised.
    worst = prob.add_variable("worst", 0)
    prob += worst
    for p in pids:
        # One capacity per product.
        prob += pulp.lpSum(pick[p, i] for i in range(len(cand[p].idx))) == 1, f"one_{p}"
    shift = int(base.min())
    for j in range(K):
        # Every scenario's cost is at most the worst.
        prob += worst >= int(base[j]) - shift + pulp.lpSum(
            int(cand[p].cost[j, i] - low[p][j]) * pick[p, i]
            for p in pids for i in range(len(cand[p].idx))), f"scenario_{j}"
    spend = pulp.lpSum(int(cand[p].spend[i]) * pick[p, i] for p in pids
                       for i in range(len(cand[p].idx)))
    if cap is not None:
        # Prepaid spend stays within the budget.
        prob += spend <= cap, "budget"
    if clock.expired():
        return None, None, Status.NO_SOLUTION, False
    # Under a time limit without HiGHS's presolve (solvers.NO_PRESOLVE): its probing does
    # not look at the clock, and a choice model of 25,554 columns given 1.5 s ran 10.5 s
    # in presolve alone (without presolve: stopped at 1.5 s with a plan 0.5 % above the
    # bound; proven in 29 s, where with presolve it took 38 s).
    presolve = clock.deadline is None
    out = solve(prob, solver, clock.remaining(), presolve=presolve)
    if out.status is Status.INFEASIBLE:
        return None, None, Status.INFEASIBLE, False
    if out.status is not Status.OPTIMAL:
        return None, None, out.status, False
    best = round(out.objective)
    chosen = _chosen(cand, pick)
    step = _step(cand)          # (once: within the sum it made 22,451 picks take 60 s)
    calls = pulp.lpSum(int(cand[p].calls[i] // step) * pick[p, i] for p in pids
                       for i in range(len(cand[p].idx)))
    packs = pulp.lpSum(int(cand[p].packs[i]) * pick[p, i] for p in pids
                       for i in range(len(cand[p].idx)))
    prob += worst <= best + 0.5, "keep_worst"
    # Tie-break: spend down, then calls up, then packs down, each re-solve given the
    # integer programs' share (the most calls over 22,451 picks ran for minutes where the
    # worst case took a second); none when only the cost is wanted.
    proven = tie_break and resolve_keys(prob, ((spend, 1), (calls, -1), (packs, 1)), solver,
                                        out.seconds, clock.deadline,
                                        lambda: chosen.update(_chosen(cand, pick)),
                                        presolve=presolve)
    ks = {p: int(cand[p].idx[i]) for p, i in chosen.items()}
    cost = np.array(fixed, dtype=np.int64) + sum(
        (cand[p].cost[:, i] for p, i in chosen.items()), np.zeros(K, dtype=np.int64))
    return ks, int(cost.max()), Status.OPTIMAL, proven


def candidates(curve: Curve, basis: str) -> np.ndarray:
    """Lattice indices of the capacities worth pricing. Under `total` more capacity never
    raises a month's postpaid, so a capacity some larger one matches in spend is never
    better (the larger one also has more calls): only those cheaper than every larger one.
    Under `after-packs` every capacity with a mix."""
    spend = curve.spend
    if basis != "total":
        return np.nonzero(spend < INF)[0]
    after = np.minimum.accumulate(spend[::-1])[::-1]
    later = np.append(after[1:], INF)
    return np.nonzero((spend < later) & (spend < INF))[0]


def scenario_costs(curve: Curve, product: Product, series, start, validity: int, basis: str,
                   scale: int, held=(), idx: np.ndarray | None = None) -> np.ndarray:
    """The cost of capacities `idx` (lattice indices; default all) of `curve` under each
    demand series (rows): the billing rules of curves.capacity_curve, with the knapsack
    shared and the months' postpaid computed for all series at once."""
    if idx is None:
        idx = np.arange(len(curve.spend), dtype=np.int64)
    n = len(idx)
    cap = idx.astype(np.int64) * curve.step
    spend = curve.spend[idx]
    bounds = np.array([t.up_to for t in product.tiers if t.up_to is not None], dtype=np.int64)
    rates = np.array([to_units(r, scale) for _, r, _ in product.tier_rates()], dtype=np.int64)
    calls = np.array(series, dtype=np.int64)                       # series × months
    resid = np.array([residual_demand(product, s, start, held) for s in series],
                     dtype=np.int64)
    free = np.minimum(calls, product.free_calls)
    K, T = calls.shape
    window = min(validity, T)
    filled = np.zeros((K, 1), dtype=np.int64)
    postpaid = np.zeros((K, n), dtype=np.int64)
    for m in range(T):
        r = resid[:, m:m + 1]
        if m < window:
            # Packs fill the months of their validity in order (billing rules).
            o = r - np.clip(cap[None, :] - filled, 0, r)
            filled = filled + r
        else:
            o = np.broadcast_to(r, (K, n))
        if basis == "total":         # the rate follows the month's calls alone
            postpaid += o * rates[np.searchsorted(bounds, calls[:, m:m + 1], side="left")]
        else:
            postpaid += o * rates[np.searchsorted(bounds, free[:, m:m + 1] + o, side="left")]
    return np.where(spend[None, :] < INF, spend[None, :] + postpaid, INF)


class _Candidates:
    """One product's candidate capacities: lattice index, cost per scenario (rows),
    spend, calls and packs."""

    def __init__(self, idx, cost, spend, calls, packs):
        self.idx, self.cost, self.spend, self.calls, self.packs = idx, cost, spend, calls, packs

    def keep(self, which) -> None:
        self.idx, self.spend, self.calls, self.packs = (
            a[which] for a in (self.idx, self.spend, self.calls, self.packs))
        self.cost = self.cost[:, which]


def _step(cand) -> int:
    import math
    return math.gcd(*(int(c) for cd in cand.values() for c in cd.calls if c)) or 1


def _upper_bound(cand, fixed, cap) -> int:
    """The worst case of a good plan within the cap: each product's capacity with the least
    mean cost, or with the least worst case, or (always within a cap) buying nothing."""
    K = len(fixed)
    tries = [{p: int(np.argmin(c.cost.sum(axis=0))) for p, c in cand.items()},
             {p: int(np.argmin(c.cost.max(axis=0))) for p, c in cand.items()},
             {p: int(np.argmin(c.spend)) for p, c in cand.items()}]
    best = None
    for choice in tries:
        if cap is not None and sum(int(cand[p].spend[i]) for p, i in choice.items()) > cap:
            continue
        cost = np.array(fixed, dtype=np.int64) + sum(
            (cand[p].cost[:, i] for p, i in choice.items()), np.zeros(K, dtype=np.int64))
        best = int(cost.max()) if best is None else min(best, int(cost.max()))
    return best


def _undominated(c: _Candidates) -> np.ndarray:
    """Which candidates no other beats: no dearer in any scenario, no more spend, no fewer
    calls, no more packs, and better in one (of exact twins the first is kept)."""
    n = len(c.idx)
    if n <= 1 or n > MAX_PAIRWISE:
        return np.ones(n, dtype=bool)
    keys = np.vstack([c.cost, c.spend[None, :], -c.calls[None, :], c.packs[None, :]])
    order = np.argsort(c.cost.sum(axis=0), kind="stable")
    keep = np.ones(n, dtype=bool)
    for pos, i in enumerate(order):
        if not keep[i]:
            continue
        rest = order[pos + 1:]
        rest = rest[keep[rest]]
        if not len(rest):
            break
        # i dominates j when i is no worse in every key.
        dom = (keys[:, i:i + 1] <= keys[:, rest]).all(axis=0)
        keep[rest[dom]] = False
    return keep


def _chosen(cand, pick) -> dict[str, int]:
    return {p: next(i for i in range(len(c.idx)) if pick[p, i].value() > 0.5)
            for p, c in cand.items()}
