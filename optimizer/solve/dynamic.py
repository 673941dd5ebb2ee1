"""Exact purchase schedule of one product under the `total` tier basis, by dynamic programming.

Why not the integer program: its relaxation spreads fractional packs over many months and
proves optimality slowly over long horizons. The structure gives an exact shortest path:

* Under `total` a month's rate is fixed by its own calls, so delaying a purchase to the month
  in which it is first drawn never costs more ("just in time"). Some optimal plan therefore
  buys only in a month t whose carried balance b is less than the month's calls r_t, and at
  every month end at most one purchase still holds balance. A state is (t, b), b < r_t.
* From (t, b), buying capacity C leaves A = b + C for month t on; the months it covers in
  full, the month where it runs out (the next state), or its expiry follow from cumulative
  demand alone. Only capacities that no larger capacity undercuts in price can be optimal
  (more balance never costs more under `total`), and a pack whose price per call is at least
  every later month's rate is never worth buying: dropping it loses at most one call of pack
  usage or of carry-over per call it held, and each was worth no more than its price (with
  `prorata` the credit is at most (V-1)/V of a price per call no higher than its own or a
  later month's rate, if the useless packs bought last are dropped first; a margin of a
  fen per lot covers the credit's rounding).
* A purchase whose balance carried into the next purchase month is at least one of its
  packs could leave that pack to the next purchase instead: the months before are covered
  all the same, and the pack then expires later (same spend, never dearer). So carries are
  kept below the smallest pack of the purchase (with `prorata` only where the next purchase
  expires within the horizon: otherwise which lot holds the final balance sets the credit).
* More carried balance at equal or lower cost dominates, so each month keeps only the
  Pareto-optimal labels (balance up, cost down). Among equal costs the lower prepaid spend
  wins (SPEC §3), kept as a second key all the way through.

With `prorata` carry-over, the last purchase's unexpired balance is credited as the billing
engine values it: each pack size's lot at its price per call times the unexpired share of
validity, rounded half up to the fen (the month's largest packs are drawn last, so they hold
the balance). That credit depends on the mix, not only on the capacity, so purchases that
reach the horizon's end are enumerated as mixes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..domain.catalog import Product
from ..domain.money import to_units
from ..exceptions import SolverError
from .demand import count_bounds
from .knapsack import INF, cheapest_mix, cheapest_spend

NONE = -1            # label choice: no purchase in the predecessor month
CHUNK = 1 << 20      # labels × purchases expanded at once (bounds memory)
COMPACT = 1 << 20    # queued labels of one month before they are pruned
MAX_MIXES = 2_000_000   # end-of-horizon pack mixes priced with prorata carry-over


@dataclass(frozen=True)
class Schedule:
    """One product's optimal purchases and what the dynamic program says they cost."""

    counts: dict            # (month index, pack size) -> packs bought
    objective: int          # cost less any carry-over credit, money units
    spend: int              # prepaid spend, money units


@dataclass
class _Options:
    """Purchases possible in one month: capacities (and, for prorata, mixes) with prices."""

    step: int
    caps: np.ndarray            # capacities in calls
    prices: np.ndarray          # money units
    knap: np.ndarray | None     # cheapest spend per lattice point, to rebuild the mix
    sizes: list                 # (size, price units) of the packs used here
    smallest: np.ndarray | None = None      # smallest pack in some cheapest mix of each cap
    mix_counts: np.ndarray | None = None    # prorata end mixes: counts per size (desc)
    mix_caps: np.ndarray | None = None
    mix_prices: np.ndarray | None = None


def _smallest_pack(knap: np.ndarray, step: int, sizes, caps: np.ndarray) -> np.ndarray:
    """For each capacity, the smallest pack that some cheapest mix of it contains."""
    k = caps // step
    out = np.full(len(k), INF, dtype=np.int64)
    for size, price in sorted(sizes, reverse=True):
        j = k - size // step
        ok = j >= 0
        hit = np.zeros(len(k), dtype=bool)
        hit[ok] = knap[j[ok]] + price == knap[k[ok]]
        out[hit] = size
    return out


def _pareto_caps(spend: np.ndarray, step: int, limit: int):
    """Capacities below `limit` that no larger one (below `limit`) matches in price."""
    n = min(len(spend), -(-limit // step))
    s = spend[:n]
    after = np.minimum.accumulate(s[::-1])[::-1]          # min spend at this index or later
    later = np.append(after[1:], INF)
    keep = np.nonzero((s < later) & (s < INF))[0]
    keep = keep[keep > 0]
    return keep * step, s[keep]


def _lex_rank(cost: np.ndarray, spend: np.ndarray) -> np.ndarray:
    """Dense rank of (cost, spend) pairs in lexicographic order."""
    order = np.lexsort((spend, cost))
    c, s = cost[order], spend[order]
    new = np.ones(len(order), dtype=np.int64)
    new[1:] = (c[1:] != c[:-1]) | (s[1:] != s[:-1])
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.cumsum(new)
    return rank


def _pareto(b, cost, spend):
    """Indices of labels no other beats: at least as much balance, (cost, spend) no worse."""
    if len(b) <= 1:
        return np.arange(len(b))
    # One integer key in (cost, spend) order when it fits (costs and spends are >= 0).
    width = int(spend.max()) + 1
    rank = cost * width + spend if int(cost.max()) < (1 << 62) // width else \
        _lex_rank(cost, spend)
    order = np.lexsort((rank, -b))            # most balance first, then best
    r = rank[order]
    prev = np.minimum.accumulate(np.concatenate(([np.iinfo(np.int64).max], r[:-1])))
    return order[r < prev]


def optimal_schedule(product: Product, calls, resid, validity: int, scale: int, *,
                     start_only: bool = False, prorata: bool = False) -> Schedule:
    """The cheapest purchases for one product (among equal costs the least spend).

    `calls[m]` sets month m's rate; `resid[m]` is what new packs can serve (after the free
    quota and holdings). `start_only` allows purchases in the first month only.
    """
    T, V = len(resid), validity
    resid = np.asarray(resid, dtype=np.int64)
    rate = np.array([to_units(product.rate(d)[0], scale) for d in calls], dtype=np.int64)
    cum = np.zeros(T + 1, dtype=np.int64)
    cum[1:] = np.cumsum(resid)
    nxt = np.full(T + 1, T, dtype=np.int64)             # next month with demand, from m on
    for m in range(T - 1, -1, -1):
        nxt[m] = m if resid[m] > 0 else nxt[m + 1]
    price = {p.calls: to_units(p.price, scale) for p in product.packs}
    # Prorata credit of a lot in fen, as billing.carry_over_credit computes it, vectorised:
    # take × share × a / c rounded half up (a/c reduced).
    credit_frac = {}
    for s, p in price.items():
        a, c = p * 100, s * V * scale
        g = math.gcd(a, c)
        credit_frac[s] = (a // g, c // g)
    fen = scale // 100

    # Highest rate still to come: a pack is useless when its price per call is not below it.
    # With prorata, credits are rounded to the fen per lot, so a useless pack must also beat
    # the rate by a fen per lot that could hold carry-over, and its credit share (at most
    # (V-1)/V of its price) by as much.
    margin = (len(price) * V + 1) * fen if prorata else 0
    later_max = np.zeros(T + 1, dtype=np.int64)
    for m in range(T - 1, -1, -1):
        later_max[m] = max(later_max[m + 1], rate[m] if resid[m] > 0 else 0)

    knaps: dict[tuple, np.ndarray] = {}
    widest = int(max(cum[min(t + V, T)] - cum[t] for t in range(T))) if T else 0

    def options(t: int) -> _Options | None:
        e = min(t + V - 1, T - 1)
        useful = [(s, p) for s, p in sorted(price.items())
                  if p < s * later_max[t] + margin or p < V * margin]
        cover = int(cum[e + 1] - cum[t])
        if not useful or cover == 0:
            return None
        limit = cover + max(s for s, _ in useful)
        key = tuple(useful)
        step = math.gcd(*(s for s, _ in useful))
        if key not in knaps or len(knaps[key]) * step < limit:
            # Priced once per pack set, up to the largest window any month can need.
            top = max(limit, widest + max(s for s, _ in useful))
            knaps[key] = cheapest_spend([(s // step, p) for s, p in useful], top // step + 1)
        knap = knaps[key]
        caps, prices = _pareto_caps(knap, step, limit)
        opt = _Options(step, caps, prices, knap, useful,
                       _smallest_pack(knap, step, useful, caps))
        if prorata and t + V - 1 >= T - 1:
            # A mix lasting to the end holds at least what is left after the carried balance.
            lo = int(cum[T] - cum[t]) - int(resid[t]) + 1
            opt.mix_counts, opt.mix_caps, opt.mix_prices = _end_mixes(product, useful, lo,
                                                                      limit)
        return opt

    # Labels per month: lists of arrays (b, cost, spend, pred month, pred index, choice).
    pending: dict[int, list] = {m: [] for m in range(T + 1)}
    size = [0] * (T + 1)
    z = np.zeros(1, dtype=np.int64)
    pending[0].append((z, z, z, z - 1, z - 1, z + NONE))
    kept: dict[int, tuple] = {}
    opts: dict[int, _Options | None] = {}

    # Buying nothing costs `ceiling`; a label already dearer can never lead to a better plan
    # (what follows costs >= 0: a lot's credit never exceeds its price).
    ceiling = int((rate * resid).sum())

    def send(dest, b, cost, spend, t, idx, choice):
        """Queue labels for their months (dest = T: the horizon's end)."""
        ok = cost <= ceiling
        if not ok.all():
            dest, b, cost, spend, idx, choice = (a[ok] for a in (dest, b, cost, spend, idx,
                                                                  choice))
        order = np.argsort(dest, kind="stable")
        dest, b, cost, spend, idx, choice = (a[order] for a in (dest, b, cost, spend, idx,
                                                                 choice))
        cuts = np.nonzero(np.diff(dest))[0] + 1
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(dest)]):
            if hi > lo:
                m = int(dest[lo])
                keep = lo + _pareto(b[lo:hi], cost[lo:hi], spend[lo:hi])
                pending[m].append((b[keep], cost[keep], spend[keep],
                                   np.full(len(keep), t, dtype=np.int64), idx[keep],
                                   choice[keep]))
                size[m] += len(keep)
                if size[m] > COMPACT:
                    merged = tuple(np.concatenate(a) for a in zip(*pending[m]))
                    keep = _pareto(*merged[:3])
                    pending[m] = [tuple(a[keep] for a in merged)]
                    size[m] = len(keep)

    def expand(t, e, opt, b, cost, spend, idx):
        """Every purchase from these labels of month t, queued where it leads."""
        n, k = len(b), len(opt.caps)
        after = int(nxt[t + 1])
        P = cum[t] + b[:, None] + opt.caps[None, :]                 # n × k
        c2 = cost[:, None] + opt.prices[None, :]
        s2 = np.broadcast_to(spend[:, None] + opt.prices[None, :], (n, k))
        land = np.searchsorted(cum, P, side="right") - 1            # month where A runs out
        short = P < cum[t + 1]
        carry = ~short & (land < T) & (land <= e)
        ends = ~short & (land >= T) & (e >= T - 1)
        lapse = ~short & ~carry & ~ends
        dest = np.where(carry, land, np.where(ends, T, after))
        if e + 1 <= T - 1:
            dest = np.where(lapse, nxt[e + 1], dest)
        c2 = c2 + np.where(short, rate[t] * (cum[t + 1] - P), 0)
        b2 = np.where(carry, P - cum[np.minimum(land, T)], 0)
        # A pack the carried balance could spare is as well bought where it is drawn (with
        # prorata only where that purchase expires within the horizon; never in start mode,
        # where nothing is bought later).
        spare = carry & (b2 >= opt.smallest[None, :]) & (not start_only)
        if prorata:
            spare &= land + V - 1 < T
        valid = ~spare & ~(ends & prorata)     # prorata ends are priced as mixes below
        choice = np.broadcast_to(np.arange(k, dtype=np.int64)[None, :], (n, k))
        rows = np.broadcast_to(idx[:, None], (n, k))
        send(dest[valid], b2[valid], c2[valid], s2[valid], t, rows[valid], choice[valid])

        if opt.mix_counts is not None and len(opt.mix_caps):
            # Prorata: purchases that last to the end, with the billing engine's credit.
            R = cum[t] + b[:, None] + opt.mix_caps[None, :] - cum[T]
            credit = np.zeros_like(R)
            before = np.zeros(len(opt.mix_caps), dtype=np.int64)
            share = e - (T - 1)
            for j, size in enumerate(sorted((s for s, _ in opt.sizes), reverse=True)):
                held = opt.mix_counts[:, j] * size
                take = np.clip(R - before[None, :], 0, held[None, :])
                a, c = credit_frac[size]
                credit += (2 * take * share * a + c) // (2 * c) * fen
                before = before + held
            total = cost[:, None] + opt.mix_prices[None, :] - credit
            r_i, m_i = np.nonzero(R >= 0)
            if len(r_i):
                send(np.full(len(r_i), T), np.zeros(len(r_i), dtype=np.int64),
                     total[r_i, m_i], spend[r_i] + opt.mix_prices[m_i], t, idx[r_i],
                     -2 - m_i)

    for t in range(T):
        if not pending[t]:
            continue
        b, cost, spend, pm, pi, ch = (np.concatenate(a) for a in zip(*pending[t]))
        pending[t] = []
        keep = _pareto(b, cost, spend)
        b, cost, spend, pm, pi, ch = b[keep], cost[keep], spend[keep], pm[keep], pi[keep], \
            ch[keep]
        kept[t] = (b, cost, spend, pm, pi, ch)
        n = len(b)
        idx = np.arange(n, dtype=np.int64)
        after = int(nxt[t + 1])

        # No purchase: the rest of month t is postpaid, the next month starts empty.
        send(np.full(n, after), np.zeros(n, dtype=np.int64),
             cost + rate[t] * (resid[t] - b), spend, t, idx, np.full(n, NONE))

        if start_only and t > 0 or not start_only and resid[t] == 0:
            continue
        opt = opts[t] = options(t)
        if opt is None:
            continue
        e = t + V - 1
        k = max(len(opt.caps), len(opt.mix_caps) if opt.mix_caps is not None else 0, 1)
        chunk = max(1, CHUNK // k)
        for lo in range(0, n, chunk):
            sl = slice(lo, lo + chunk)
            expand(t, e, opt, b[sl], cost[sl], spend[sl], idx[sl])

    # The horizon's end: the best label, then back through the choices.
    if not pending[T]:
        raise AssertionError("no schedule reached the horizon's end")
    b, cost, spend, pm, pi, ch = (np.concatenate(a) for a in zip(*pending[T]))
    best = int(np.lexsort((spend, cost))[0])
    objective, total_spend = int(cost[best]), int(spend[best])
    counts: dict[tuple[int, int], int] = {}
    t, i, c = int(pm[best]), int(pi[best]), int(ch[best])
    while t >= 0:
        opt = opts.get(t)
        if c >= 0:
            mix = cheapest_mix(opt.knap, opt.step, opt.sizes, int(opt.caps[c]) // opt.step)
        elif c <= -2:
            sizes = sorted((s for s, _ in opt.sizes), reverse=True)
            mix = {s: int(v) for s, v in zip(sizes, opt.mix_counts[-2 - c]) if v}
        else:
            mix = {}
        for size, k in mix.items():
            counts[t, size] = counts.get((t, size), 0) + k
        _, _, _, pm_t, pi_t, ch_t = kept[t]
        t, i, c = int(pm_t[i]), int(pi_t[i]), int(ch_t[i])
    return Schedule(counts, objective, total_spend)


def _end_mixes(product: Product, useful, lo: int, limit: int):
    """Every mix of lo..limit-1 calls that dominance allows (counts by size, descending)."""
    bounds = count_bounds(product, limit)
    sizes = sorted((s for s, _ in useful), reverse=True)
    price = dict(useful)
    # Built size by size, dropping partial mixes that already reach `limit`.
    mixes = np.zeros((1, 0), dtype=np.int64)
    caps = np.zeros(1, dtype=np.int64)
    for s in sizes:
        k = np.arange(min(bounds[s], -(-limit // s)) + 1, dtype=np.int64)
        if len(mixes) * len(k) > MAX_MIXES:
            raise SolverError(f"{product.id}: --carry-over-value prorata would have to price "
                              f"more than {MAX_MIXES:,} pack mixes for the last purchase; "
                              f"use --carry-over-value zero")
        caps = (caps[:, None] + k[None, :] * s).reshape(-1)
        mixes = np.concatenate([np.repeat(mixes, len(k), axis=0),
                                np.tile(k, len(mixes))[:, None]], axis=1)
        ok = caps < limit
        mixes, caps = mixes[ok], caps[ok]
    prices = mixes @ np.array([price[s] for s in sizes], dtype=np.int64)
    ok = (caps > 0) & (caps >= lo)
    return mixes[ok], caps[ok], prices[ok]
