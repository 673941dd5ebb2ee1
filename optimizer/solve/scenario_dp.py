"""Any-month purchases shared by scenarios, by dynamic programming over balance vectors:
exact and fast where few capacities are worth buying; the integer program of
scenario_any.py takes the rest.

It applies when nothing lapses inside the horizon (every purchase, and every holding
drawn with them, is still valid in the last month: horizons up to the validity) under the
`total` tier basis with the expected objective. Then all of a scenario's balance is one
pool, drawn as far as it goes each month, and a state is the vector of the scenarios'
balances carried into month t. From the sketch in dynamic.py:

* More balance in every scenario at equal or lower cost (then spend, more calls, fewer
  packs) never costs more later: such labels dominate.
* A purchase in a month where every scenario's balance covers its calls is as well made a
  month later (same draws); and one whose every scenario still carries at least one of the
  last purchase's packs into the next purchase could leave that pack to it (the months in
  between keep at least that much, and the next purchase's mix is no dearer). So a month
  buys only when some scenario is short, and while some scenario's carry is below the
  last purchase's smallest pack (labels remember it; dominance requires it no smaller).
* A capacity that covers every scenario's remaining calls even without its smallest pack
  is dearer than that capacity less the pack.

The labels are vectors of as many balances as scenarios, so dominance prunes less than in
one dimension; when a month's labels exceed `LIMIT` the search gives up (None) and the
integer program solves the product instead.
"""

from __future__ import annotations

import math

import numpy as np

from ..domain.catalog import Product
from ..domain.money import to_units
from .any_milp import useful_packs
from .clock import UNLIMITED, Clock
from .knapsack import INF, Knapsack

LIMIT = 6000         # candidate labels of one month before the search gives up
BLOCK = 256          # labels compared at once in the dominance filter (at most)
CELLS = 20_000_000   # balance comparisons held in memory at once by that filter
LATTICE = 2_000_000  # capacities priced by the knapsack; beyond it the search gives up


def shared_schedule(product: Product, series_calls, series_resid, weights, held: int,
                    scale: int, clock: Clock = UNLIMITED):
    """(counts {(month, size): packs}, objective) of the cheapest shared schedule, or None
    when the search would be too large. `held`: balance of holdings drawn with the new
    packs, valid to the horizon's end; `weights`: integer scenario weights. `clock`:
    raises OutOfTime between steps once it runs out."""
    K, T = len(series_resid), len(series_resid[0])
    resid = np.array(series_resid, dtype=np.int64)                       # K × T
    rate = np.array([[to_units(product.rate(d)[0], scale) for d in calls]
                     for calls in series_calls], dtype=np.int64)
    w = np.array(weights, dtype=np.int64)
    W = int(w.sum())
    packs = useful_packs(product, int(resid.sum(axis=1).max(initial=0)))
    tail = np.zeros((K, T + 1), dtype=np.int64)
    tail[:, :T] = np.cumsum(resid[:, ::-1], axis=1)[:, ::-1]
    if packs:
        sizes = [(p.calls, to_units(p.price, scale)) for p in packs]
        step = math.gcd(*(s for s, _ in sizes))
        s_max = max(s for s, _ in sizes)
        points = int(tail[:, 0].max()) // step + s_max // step + 1
        if points > LATTICE:
            return None
        knap = Knapsack([(s // step, q) for s, q in sizes], points)
    z = np.zeros(1, dtype=np.int64)
    lab = {"B": np.full((1, K), held, dtype=np.int64), "cost": z, "spend": z, "calls": z,
           "packs": z, "small": np.full(1, INF, dtype=np.int64), "pred": z - 1, "cap": z}
    history = []
    for t in range(T):
        clock.check()
        B = lab["B"]
        parts = [dict(lab, pred=np.arange(len(B)), cap=np.zeros(len(B), dtype=np.int64))]
        if packs:
            need = (tail[:, t][None, :] - B).max(axis=1)
            may = (B < resid[:, t][None, :]).any(axis=1) & (B.min(axis=1) < lab["small"])
            if may.any():
                limit = int(need[may].max()) + s_max
                caps, prices, counts, small = _capacities(knap, step, sizes, limit)
                for i in np.nonzero(may)[0]:
                    clock.check()
                    ok = caps - small < need[i]
                    n = int(ok.sum())
                    if not n:
                        continue
                    parts.append({
                        "B": B[i][None, :] + caps[ok][:, None],
                        "cost": lab["cost"][i] + W * prices[ok],
                        "spend": lab["spend"][i] + prices[ok],
                        "calls": lab["calls"][i] + caps[ok],
                        "packs": lab["packs"][i] + counts[ok],
                        "small": small[ok], "pred": np.full(n, i, dtype=np.int64),
                        "cap": caps[ok]})
        cand = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        if len(cand["cost"]) > LIMIT:
            return None
        # Month t: each scenario draws what its pool holds, the rest is postpaid.
        drawn = np.minimum(cand["B"], resid[:, t][None, :])
        cand["cost"] = cand["cost"] + ((resid[:, t][None, :] - drawn) * rate[:, t][None, :]
                                       * w[None, :]).sum(axis=1)
        cand["B"] = cand["B"] - drawn
        history.append(cand)
        keep = _frontier(cand)
        lab = {k: v[keep] for k, v in cand.items()}
        history[-1] = {"pred": cand["pred"][keep], "cap": cand["cap"][keep]}
    best = int(np.lexsort((lab["packs"], -lab["calls"], lab["spend"], lab["cost"]))[0])
    objective = int(lab["cost"][best])
    counts: dict[tuple[int, int], int] = {}
    i = best
    for t in range(T - 1, -1, -1):
        cap = int(history[t]["cap"][i])
        if cap:
            mix = knap.mix(step, [s for s, _ in sizes], cap // step)
            for size, k in mix.items():
                counts[t, size] = counts.get((t, size), 0) + k
        i = int(history[t]["pred"][i])
    return counts, objective


def _capacities(knap: Knapsack, step: int, sizes, limit: int):
    """Capacities below `limit` that no larger one matches in price (then packs), with
    their price, pack count and the smallest pack of a cheapest mix."""
    n = min(len(knap.key), -(-limit // step))
    key = knap.key[:n]
    after = np.minimum.accumulate(key[::-1])[::-1]
    later = np.append(after[1:], INF)
    idx = np.nonzero((key < later) & (key < INF))[0]
    idx = idx[idx > 0]
    small = np.full(len(idx), INF, dtype=np.int64)
    for size, price in sorted(zip((s for s, _ in sizes), (c for _, c in knap.combined)),
                              reverse=True):
        j = idx - size // step
        ok = j >= 0
        hit = np.zeros(len(idx), dtype=bool)
        hit[ok] = knap.key[j[ok]] + price == knap.key[idx[ok]]
        small[hit] = size
    return idx * step, knap.spend[idx], knap.packs[idx], small


def _frontier(lab) -> np.ndarray:
    """Indices of the labels no other dominates: at least as much balance in every
    scenario, a smallest pack no smaller, and no worse in (cost, spend, -calls, packs)."""
    order = np.lexsort((lab["packs"], -lab["calls"], lab["spend"], lab["cost"]))
    B, small = lab["B"][order], lab["small"][order]
    kept: list[int] = []
    kB = np.empty((0, B.shape[1]), dtype=np.int64)
    ks = np.empty(0, dtype=np.int64)
    lo = 0
    while lo < len(order):
        size = max(1, min(BLOCK, CELLS // max(1, (len(kept) + BLOCK) * B.shape[1])))
        b, s = B[lo:lo + size], small[lo:lo + size]
        if len(kept):
            beaten = ((kB[None, :, :] >= b[:, None, :]).all(axis=2)
                      & (ks[None, :] >= s[:, None])).any(axis=1)
        else:
            beaten = np.zeros(len(b), dtype=bool)
        # Within the block, an earlier label (kept or not: dominance is transitive).
        inner = (b[:, None, :] >= b[None, :, :]).all(axis=2) & (s[:, None] >= s[None, :])
        new = np.nonzero(~beaten & ~np.triu(inner, 1).any(axis=0))[0]
        if len(new):
            kept.extend((lo + new).tolist())
            kB = np.concatenate([kB, b[new]])
            ks = np.concatenate([ks, s[new]])
        lo += size
    return order[np.array(kept, dtype=np.int64)]
