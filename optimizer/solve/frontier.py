"""Any-month plans under a prepaid cap, exact without a joint integer program.

Under the `total` tier basis the dynamic program of dynamic.py finds one product's cheapest
schedule. None of its dominance arguments raises the prepaid spend: a purchase delayed to
the month it is first drawn (just in time) costs the same; a larger capacity at no higher
price, a pack dropped because its price per call is not below every later month's rate, a
pack the carried balance could spare moved to the next purchase: each spends no more. So
the same search with the spend as a third label key (more balance, less spend, lower cost
are better) gives each product's exact frontier: for every prepaid spend, the cheapest
schedule, among equal costs the most calls bought, then the fewest packs
(`product_frontier`). A total cap then picks one frontier point per product, a
multiple-choice knapsack (`budget.choose_points`).

A cap per month or per 12-month block does not survive just in time (buying ahead of
demand can pay when a later month's or block's cap binds), so there the frontier gives a
relaxation: the total cap the periodic caps allow in sum. When its optimum keeps every
month's or block's cap it is the optimum; otherwise the caller falls back to the integer
program (`caps_kept` says which).

Caps per block, exactly (`product_frontier(..., block=12)`). Blocks [0..B-1], [B..2B-1],
... from the horizon's start, L_k = kB + B - 1 the last month of block k; one forecast,
`total` basis, every new pack valid V months, so lots are drawn in purchase order.
1. Bridges suffice. Take any plan and a lot bought in s, first drawn in f. Bought in f
   instead it draws alike (under `total` a lot that lasts longer never costs more), and
   its spend stays in its block if f is in the block of s; otherwise buy it in L_k, the
   last month of the block k of s, which is no earlier than s. So some optimal plan buys
   every lot either just in time (in the month it is first drawn: the search above) or
   in some L_k while first drawn in a month t' > L_k (a "bridge": valid to L_k + V - 1,
   priced in block k). Lots of one month are one lot.
2. When a bridge is realisable. A bridge from L_k first drawn in t' needs every month
   L_k..t'-1 served without it: no postpaid there (it would have been drawn) and no lot
   bought after L_k drawn there (it expires later, so it would wait for the bridge).
   Each label keeps `mark`, twice the month of the last purchase or postpaid before its
   month, plus one for a postpaid (a no-purchase move in t: 2t + 1; a lot bought in t,
   2t, or 2t + 1 if t is still short; a bridge, 2 L_k); a bridge from L_k is allowed
   at L_k < t' <= L_k + V - 1 when mark <= 2 L_k (the start, -1, allows every one).
   Within t' a bridge is drawn before a lot bought in t' (it expires sooner), so one
   that runs out within t' keeps its label in t' (mark 2 L_k + 1: no second bridge from
   L_k, which would be the same lot), from where t' buys, bridges from a later block or
   pays postpaid. A bridge's capacities are a purchase's in t' with its own window
   (t'..L_k + V - 1).
3. Dominance. Labels carry the spend of each block; one beats another with at least its
   balance, at most its spend in every block, no worse plan order and a mark no higher
   (marks are kept canonical: the least 2 L_k of the bridges they allow at the label's
   month). A pack the carried balance could spare is moved to the next purchase only
   within the purchase's block (elsewhere that moves its spend), never from a bridge.
   At the end: the Pareto set over (spend of each block, plan order).

The search follows dynamic.py's: states (t, b) with carried balance b below month t's
calls; from each, no purchase (the rest of t is postpaid) or a capacity that covers months
until it runs out (next state), expires, or reaches the horizon's end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..domain.catalog import Product
from ..domain.money import to_units
from .clock import UNLIMITED, Clock
from .dynamic import MAX_LATTICE, pareto_caps, smallest_pack  # as the DP's
from .knapsack import Knapsack

CHUNK = 1 << 20      # labels × capacities expanded at once (bounds memory)
BLOCK = 192          # labels compared pairwise at once when pruning (384 took 15-25 % longer
                     # on yearly-any-24m's largest frontiers: the pairs grow as its square)
COMPILED_SWEEP = 50_000  # labels from which `_sweep` runs compiled (sweepkernel.py: numba's
                         # load, ~0.5 s once, pays for itself on a few such sweeps)
FULL_PRUNE = 4096    # with blocks, labels compared over every key when no more are left
MAX_LABELS = 400_000  # labels of one month: beyond this the frontier declines (None)
# (label, capacity) moves of one product: beyond this the frontier declines too. A fine
# lattice under a large cap makes many labels each with many capacities in range (1-call
# packs over four months: 170-216 s, where the integer program took 0.03 s); no product
# of the bundled example or of the 9 x 24 budget family makes 1.2 million.
MAX_MOVES = 30_000_000


class TooLarge(Exception):
    """The frontier would need too many labels; the integer program takes over."""


@dataclass
class _Labels:
    """States of one month with how they were reached, as parallel arrays."""

    balance: np.ndarray
    cost: np.ndarray
    spend: np.ndarray           # one column per block (one column without blocks)
    calls: np.ndarray
    packs: np.ndarray
    mark: np.ndarray            # which bridges the state allows (product_frontier's canon)
    pred_stage: np.ndarray      # stage (kept label set) of the label this one extends
    pred_index: np.ndarray      # its index in that stage
    option: np.ndarray          # capacity index bought (-1: none)
    menu: np.ndarray            # the options it was bought from (-1: none)

    def take(self, which) -> _Labels:
        return _Labels(*(getattr(self, f)[which] for f in _FIELDS))

    def __len__(self) -> int:
        return len(self.balance)

    @staticmethod
    def join(parts: list[_Labels]) -> _Labels:
        return _Labels(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))


_FIELDS = ("balance", "cost", "spend", "calls", "packs", "mark", "pred_stage", "pred_index",
           "option", "menu")
NEVER = np.iinfo(np.int64).max      # a canonical mark that allows no bridge
FAR = np.iinfo(np.int64).max // 64  # a cost beyond every cost: no point fits (sums of a few
                                    # stay within int64)


@dataclass
class _Options:
    """What one month can buy: capacities worth buying with their cheapest mixes."""

    step: int
    caps: np.ndarray
    prices: np.ndarray
    counts: np.ndarray
    smallest: np.ndarray
    knap: Knapsack
    sizes: list


@dataclass
class Frontier:
    """One product's exact (spend, cost) frontier: point i is the cheapest schedule with
    spend at most spend[i] (among equal costs the most calls, then the fewest packs).
    With blocks (`block` months each) spend[i] is a row, point i's spend in each block,
    and no point has every block's spend and its plan order beaten by another's."""

    product: str
    spend: np.ndarray
    cost: np.ndarray
    calls: np.ndarray
    packs: np.ndarray
    _end: _Labels = field(repr=False)
    _kept: dict = field(repr=False)
    _options: dict = field(repr=False)     # menu id -> _Options
    _dated: dict = field(repr=False)       # menu id -> the month its purchases are dated
    block: int | None = None

    def points(self) -> list[tuple]:
        """(spend, cost, calls, packs) per point; spend a tuple per block with blocks."""
        spend = self.spend.tolist() if self.spend.ndim == 1 else \
            [tuple(row) for row in self.spend.tolist()]
        return list(zip(spend, *(a.tolist() for a in (self.cost, self.calls, self.packs))))

    def schedule(self, i: int) -> dict[tuple[int, int], int]:
        """Point i's purchases, {(month index, size): packs} (a bridge's dated in the last
        month of its block)."""
        counts: dict[tuple[int, int], int] = {}
        at = self._end
        stage = int(at.pred_stage[i])
        while stage >= 0:
            option = int(at.option[i])
            if option >= 0:
                menu = int(at.menu[i])
                opt, t = self._options[menu], self._dated[menu]
                mix = opt.knap.mix(opt.step, [s for s, _ in opt.sizes],
                                   int(opt.caps[option]) // opt.step)
                for size, k in mix.items():
                    counts[t, size] = counts.get((t, size), 0) + k
            at, i = self._kept[stage], int(at.pred_index[i])
            stage = int(at.pred_stage[i])
        return counts


# Long (275 lines): the label search of dynamic.py with spend (per block) as a key, and
# bridge moves; its steps (month_options, send, expand, buy) are closures over the
# month tables they share (a split into module functions is noted for a later round).
def product_frontier(product: Product, calls, resid, validity: int, scale: int,
                     spend_cap, clock: Clock = UNLIMITED,
                     block: int | None = None, max_labels: int = MAX_LABELS) -> Frontier:
    """Every schedule of one product no other beats on both prepaid spend (at most
    `spend_cap`) and cost. `calls[m]` sets month m's rate; `resid[m]` is what new packs
    can serve. Raises TooLarge when a month would hold too many labels or its knapsack
    lattice would pass MAX_LATTICE points; OutOfTime once `clock` runs out.

    With `block` (months per block: 12 for --yearly-budget) the spend is kept per block of
    `block` months from the horizon's start, `spend_cap` caps each block (one int for
    every block, or a sequence with one per block), and the frontier is the Pareto set
    over (spend of each block, plan order), bridge purchases included (module docstring);
    `Frontier.spend` then has one row per point and one column per block. The labels
    keep every block's spend, so their number grows with the blocks: 24 months of the
    seed catalog's products under the yearly-any-24m family's cap take at most a few
    seconds a product, while 36-60 months without a cap tighter than the demand often
    pass MAX_LABELS (TooLarge, after a minute or so). `max_labels`: a month's labels after
    pruning beyond which it declines sooner (TooLarge)."""
    T, V = len(resid), validity
    resid = np.asarray(resid, dtype=np.int64)
    rate = np.array([to_units(product.rate(d)[0], scale) for d in calls], dtype=np.int64)
    cum = np.zeros(T + 1, dtype=np.int64)
    cum[1:] = np.cumsum(resid)
    nxt = np.full(T + 1, T, dtype=np.int64)
    for m in range(T - 1, -1, -1):
        nxt[m] = m if resid[m] > 0 else nxt[m + 1]
    later_max = np.zeros(T + 1, dtype=np.int64)
    for m in range(T - 1, -1, -1):
        later_max[m] = max(later_max[m + 1], rate[m] if resid[m] > 0 else 0)
    price = {p.calls: to_units(p.price, scale) for p in product.packs}
    widest = int(max((cum[min(t + V, T)] - cum[t] for t in range(T)), default=0))
    ceiling = int((rate * resid).sum())        # cost of buying nothing
    knaps: dict = {}
    nb = 1 if block is None else max(1, -(-T // block))
    caps = np.broadcast_to(np.asarray(spend_cap, dtype=np.int64), (nb,)).copy()
    # Last month of each block that a later month of the horizon follows: where bridges
    # are bought (none without blocks).
    lasts = [] if block is None else list(range(block - 1, T - 1, block))

    def bridges(t: int) -> list[int]:
        """Blocks whose bridge lots month t may draw first: L_k < t <= L_k + V - 1."""
        return [k for k, L in enumerate(lasts) if L < t <= L + V - 1]

    def canon(t: int, mark: np.ndarray) -> np.ndarray:
        """`mark` (2 x the month of the last purchase or postpaid before t, +1 if postpaid)
        as the least 2 L_k of the blocks whose bridges it allows at t (NEVER: none); equal
        canonical marks allow the same bridges, a smaller one more."""
        limits = np.array([2 * lasts[k] for k in bridges(t)] + [NEVER], dtype=np.int64)
        return limits[np.searchsorted(limits, mark, "left")]

    def same_block(t: int, m):
        return True if block is None else m // block == t // block

    def month_options(t: int, e: int, cap: int) -> _Options | None:
        """What a lot drawn first in month t and valid through month e can buy."""
        e = min(e, T - 1)
        useful = [(s, q) for s, q in sorted(price.items())
                  if q < s * later_max[t] and q <= cap]
        cover = int(cum[e + 1] - cum[t])
        if not useful or cover == 0:
            return None
        top_size = max(s for s, _ in useful)
        limit = cover + top_size
        key = tuple(useful)
        step = math.gcd(*(s for s, _ in useful))
        if key not in knaps or len(knaps[key]) * step < limit:
            top = max(limit, widest + top_size)
            if top // step + 1 > MAX_LATTICE:
                # A lattice too fine (1-call packs against a billion calls): the integer
                # program takes the product, as it does for the dynamic program.
                raise TooLarge(product.id)
            knaps[key] = Knapsack([(s // step, q) for s, q in useful], top // step + 1)
        knap = knaps[key]
        keep = pareto_caps(knap.key, step, limit)
        keep = keep[knap.spend[keep] <= cap]
        if not len(keep):
            return None
        cap_calls = keep * step
        return _Options(step, cap_calls, knap.spend[keep], knap.packs[keep],
                        smallest_pack(knap, step, useful, cap_calls), knap, useful)

    pending: dict[int, list[_Labels]] = {m: [] for m in range(T + 1)}
    z = np.zeros(1, dtype=np.int64)
    pending[0].append(_Labels(z, z, np.zeros((1, nb), dtype=np.int64), z, z,
                              z - 1, z - 1, z - 1, z - 1, z - 1))
    kept: dict[int, _Labels] = {}
    menus: dict[int, tuple[int, _Options]] = {}     # menu id -> (month dated, options)
    moves = [0]

    def send(stage, dest, balance, cost, spend, calls_, packs, mark, pred, option, menu):
        clock.check()
        ok = (cost <= ceiling) & (spend <= caps).all(axis=1)
        arrays = (dest, balance, cost, spend, calls_, packs, mark, pred, option, menu)
        if not ok.all():
            arrays = tuple(a[ok] for a in arrays)
        order = np.argsort(arrays[0], kind="stable")
        dest, balance, cost, spend, calls_, packs, mark, pred, option, menu = \
            (a[order] for a in arrays)
        cuts = np.nonzero(np.diff(dest))[0] + 1
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(dest)]):
            if hi <= lo:
                continue
            d = int(dest[lo])
            pending[d].append(_Labels(balance[lo:hi], cost[lo:hi], spend[lo:hi],
                                      calls_[lo:hi], packs[lo:hi],
                                      canon(d, mark[lo:hi]) if d < T else
                                      np.full(hi - lo, NEVER, dtype=np.int64),
                                      np.full(hi - lo, stage, dtype=np.int64), pred[lo:hi],
                                      option[lo:hi], menu[lo:hi]))
            if sum(len(p) for p in pending[d]) > MAX_LABELS:
                merged = _Labels.join(pending[d])
                pending[d] = [merged.take(_prune(merged))]
                if len(pending[d][0]) > MAX_LABELS:
                    raise TooLarge(product.id)

    def expand(t, e, stage, menu, blk, bridge, opt, part, idx, r_i, o_i):
        """The moves of one piece: label r_i of `part` buys capacity o_i of `opt`, a lot
        valid through month e (a bridge: bought in the last month of block `blk`)."""
        P = cum[t] + part.balance[r_i] + opt.caps[o_i]
        land = np.searchsorted(cum, P, side="right") - 1
        short = P < cum[t + 1]
        carry = ~short & (land < T) & (land <= e)
        b2 = np.where(carry, P - cum[np.minimum(land, T)], 0)
        # A pack the carried balance could spare is as well bought where it is drawn (in
        # the same block: elsewhere that would move its spend; never from a bridge);
        # a purchase beyond the cap is never made.
        spare = carry & (b2 >= opt.smallest[o_i])
        if block is not None:
            spare &= (land // block == t // block) & (not bridge)
        ok = ~spare & (part.spend[r_i, blk] + opt.prices[o_i] <= caps[blk])
        r_i, o_i, P, land, short, carry, b2 = (a[ok] for a in (r_i, o_i, P, land, short,
                                                             carry, b2))
        ends = ~short & (land >= T) & (e >= T - 1)
        lapse = ~short & ~carry & ~ends
        dest = np.where(carry, land, np.where(ends, T, nxt[t + 1]))
        if e + 1 <= T - 1:
            dest = np.where(lapse, nxt[e + 1], dest)
        paid = opt.prices[o_i]
        if bridge:
            # A bridge that runs out within month t leaves the rest of t to a purchase in
            # t (or to postpaid): its label stays in month t with the larger balance.
            dest = np.where(short, t, dest)
            b2 = np.where(short, P - cum[t], b2)
            c2 = part.cost[r_i] + paid
        else:
            c2 = part.cost[r_i] + paid + np.where(short, rate[t] * (cum[t + 1] - P), 0)
        spend = part.spend[r_i]
        if len(spend):
            spend = spend.copy()
            spend[:, blk] += paid
        dated = menus[menu][0]
        send(stage, dest, b2, c2, spend, part.calls[r_i] + opt.caps[o_i],
             part.packs[r_i] + opt.counts[o_i], 2 * dated + short, idx[r_i], o_i,
             np.full(len(r_i), menu, dtype=np.int64))

    def buy(t, e, stage, menu, blk, bridge, labels, idx):
        """Every capacity worth buying, from each of `labels`, for a lot valid through e."""
        opt = menus[menu][1]
        n = len(labels)
        last = min(e, T - 1)
        caps_, S = opt.caps, int(opt.smallest.max())
        # Only three kinds of capacity can be worth buying from a label with balance b:
        # * short of month t (C < r_t - b): the rest of t is postpaid;
        # * running out in a month m of the validity with less than a pack left over
        #   (more could be left to the purchase in m; only within the purchase's block,
        #   and never for a bridge: there any balance left in m);
        # * covering the whole validity (or the horizon): of those only the cheapest, as
        #   they all cost the same postpaid (none) and the caps rise in price (with the
        #   larger capacities at that same price, which buy more calls).
        land_months = [(m, min(int(resid[m]), S)
                        if not bridge and same_block(t, m) else int(resid[m]))
                       for m in range(t + 1, last + 1) if resid[m] > 0]
        piece = max(1, CHUNK // (len(land_months) + 2))
        for lo in range(0, n, piece):
            part = labels.take(slice(lo, lo + piece))
            b = part.balance
            base = cum[t] + b                                   # P = base + C
            ranges = [(np.zeros_like(b), np.searchsorted(caps_, cum[t + 1] - base, "left"))]
            for m, upto in land_months:
                ranges.append((np.searchsorted(caps_, cum[m] - base, "left"),
                               np.searchsorted(caps_, cum[m] + upto - base, "left")))
            full = np.searchsorted(caps_, cum[last + 1] - base, "left")
            # (at the cheapest price: a larger capacity at that price has more calls)
            top = np.searchsorted(opt.prices, opt.prices[np.minimum(full, len(caps_) - 1)],
                                  "right")
            ranges.append((full, np.where(full < len(caps_), top, full)))
            starts = np.concatenate([r[0] for r in ranges])
            stops = np.concatenate([r[1] for r in ranges])
            rows = np.tile(np.arange(len(b), dtype=np.int64), len(ranges))
            width = np.maximum(stops - starts, 0)
            # Expanded a piece at a time of at most CHUNK (label, capacity) pairs: one label
            # may have a million capacities in range when the packs' lattice is fine.
            ends_at = np.cumsum(width)
            total = int(ends_at[-1]) if len(ends_at) else 0
            moves[0] += total
            if moves[0] > MAX_MOVES:
                raise TooLarge(product.id)
            first = 0
            while first < len(width) and total:
                upto = max(int(np.searchsorted(ends_at, ends_at[first] - width[first] + CHUNK,
                                               "right")), first + 1)
                w = width[first:upto]
                if w.sum():
                    r_i = np.repeat(rows[first:upto], w)
                    o_i = np.repeat(starts[first:upto] - np.cumsum(w) + w, w) + \
                        np.arange(int(w.sum()), dtype=np.int64)
                    expand(t, e, stage, menu, blk, bridge, opt, part, idx[lo:lo + len(b)],
                           r_i, o_i)
                first = upto

    def keep(labels: _Labels) -> int:
        kept[len(kept)] = labels
        return len(kept) - 1

    for t in range(T):
        if not pending[t]:
            continue
        labels = _Labels.join(pending[t])
        pending[t] = []
        labels = labels.take(_prune(labels))
        if len(labels) > max_labels:
            raise TooLarge(product.id)
        # Bridges first (a bridge expires before a lot bought in t, so it is drawn first),
        # from the earliest block: one that runs out within t returns here (pending[t]).
        for k in bridges(t):
            able = np.nonzero(labels.mark <= 2 * lasts[k])[0]
            if not len(able) or resid[t] == 0:
                continue
            opt = month_options(t, lasts[k] + V - 1, int(caps[k]))
            if opt is None:
                continue
            menu = T + t * nb + k
            menus[menu] = (lasts[k], opt)
            stage = keep(labels)
            buy(t, lasts[k] + V - 1, stage, menu, k, True, labels.take(able), able)
            if pending[t]:
                labels = _Labels.join([labels] + pending[t])
                pending[t] = []
                labels = labels.take(_prune(labels))
        stage = keep(labels)
        n = len(labels)
        idx = np.arange(n, dtype=np.int64)
        # No purchase: the rest of month t is postpaid, the next month starts empty.
        send(stage, np.full(n, int(nxt[t + 1])), np.zeros(n, dtype=np.int64),
             labels.cost + rate[t] * (resid[t] - labels.balance), labels.spend,
             labels.calls, labels.packs,
             labels.mark if resid[t] == 0 else np.full(n, 2 * t + 1, dtype=np.int64), idx,
             np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64))
        if resid[t] == 0:
            continue
        opt = month_options(t, t + V - 1, int(caps[0 if block is None else t // block]))
        if opt is None:
            continue
        menus[t] = (t, opt)
        buy(t, t + V - 1, stage, t, 0 if block is None else t // block, False, labels, idx)

    end = _Labels.join(pending[T])
    rank = _lex_rank(end.cost, -end.calls, end.packs)
    if block is None:
        # At the end only spend and the plan order matter: the 2-key frontier, by spend.
        spend = end.spend[:, 0]
        order = np.lexsort((rank, spend))
        r = rank[order]
        prev = np.minimum.accumulate(np.concatenate(([np.iinfo(np.int64).max], r[:-1])))
        end = end.take(order[r < prev])
        out_spend = end.spend[:, 0]
    else:
        # The Pareto set over (spend of each block, plan order), by total spend.
        end = end.take(_dominance(np.column_stack([end.spend, rank])))
        rank = _lex_rank(end.cost, -end.calls, end.packs)
        end = end.take(np.lexsort((rank, end.spend.sum(axis=1))))
        out_spend = end.spend
    return Frontier(product.id, out_spend, end.cost, end.calls, end.packs, end, kept,
                    {m: o for m, (_, o) in menus.items()}, {m: d for m, (d, _) in menus.items()},
                    block)


def _prune(labels: _Labels) -> np.ndarray:
    """Indices of the labels no other beats: at least as much balance, no more spend (in
    every block), no worse in the plan order (cost, then more calls, then fewer packs) and
    allowing every bridge they allow (mark no higher)."""
    n = len(labels)
    if n <= 1:
        return np.arange(n)
    rank = _lex_rank(labels.cost, -labels.calls, labels.packs)
    spend = labels.spend
    vary = [j for j in range(spend.shape[1]) if (spend[:, j] != spend[0, j]).any()]
    if len(vary) > 1 or (labels.mark != labels.mark[0]).any():
        # The sweep within each group of labels with the same mark and the same spend in
        # every block but the last that varies (exact: a group's rank is offset above
        # every later group's, so no group beats a label of another). Labels of different
        # groups are compared too when few are left (elsewhere a cut they would make is
        # rare, a few labels in a thousand, and comparing all pairs is not).
        group = _lex_rank(labels.mark, *(spend[:, j] for j in vary[:-1])) - 1
        top = int(rank.max()) + 1
        last = spend[:, vary[-1]] if vary else np.zeros(n, dtype=np.int64)
        level = np.unique(last, return_inverse=True)[1].reshape(-1)
        cut = _sweep(labels.balance, group * (int(level.max()) + 1) + level,
                     rank + (int(group.max()) - group) * top)
        if len(cut) > FULL_PRUNE:
            return cut
        keys = np.column_stack([-labels.balance, spend[:, vary], labels.mark, rank])[cut]
        return np.sort(cut[_dominance(keys)])
    return _sweep(labels.balance, spend[:, vary[0] if vary else 0], rank)


_EARLIER = np.tri(BLOCK, k=-1, dtype=bool).T     # [j, i]: j comes before i


def _sweep(balance: np.ndarray, spend: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """_prune's keys with one spend: sorted by balance, a sweep over the spend levels."""
    n = len(balance)
    order = np.lexsort((rank, spend, -balance))
    # First the cheap cut: of labels with the same balance and spend only the best.
    b_o, s_o = balance[order], spend[order]
    first = np.ones(n, dtype=bool)
    first[1:] = (b_o[1:] != b_o[:-1]) | (s_o[1:] != s_o[:-1])
    order = order[first]
    n = len(order)
    levels, lvl = np.unique(spend, return_inverse=True)
    lvl = lvl.reshape(-1)[order]
    r = rank[order]
    if n >= COMPILED_SWEEP:
        from . import sweepkernel
        if sweepkernel.available():
            return np.sort(order[~sweepkernel.dominated(lvl, r, len(levels))])
    # best[l]: least rank among labels already swept with spend level <= l.
    best = np.full(int(lvl.max()) + 1, np.iinfo(np.int64).max, dtype=np.int64)
    dominated = np.zeros(n, dtype=bool)
    for lo in range(0, n, BLOCK):
        hi = min(lo + BLOCK, n)
        bl, br = lvl[lo:hi], r[lo:hi]
        dom = best[bl] <= br
        pair = (bl[:, None] <= bl[None, :]) & (br[:, None] <= br[None, :])
        pair &= _EARLIER[:hi - lo, :hi - lo]             # j (row) before i (column)
        dom |= pair.any(axis=0)
        dominated[lo:hi] = dom
        here = np.full(len(best), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(here, bl, br)
        best = np.minimum.accumulate(np.minimum(best, here))
    return np.sort(order[~dominated])


def _dominance(keys: np.ndarray) -> np.ndarray:
    """Indices of the rows of `keys` (n x d, all to be minimised) that no other row is at
    most in every column (of rows equal but in the last column, the least). Sorted
    lexicographically a row's dominators come before it (so the first column needs no
    comparing); each piece is compared with the rows kept so far that could beat one of
    its rows (at most the piece's largest value in every column)."""
    n, d = keys.shape
    order = np.lexsort(keys.T[::-1])
    k = keys[order]
    first = np.ones(n, dtype=bool)
    first[1:] = (k[1:, :-1] != k[:-1, :-1]).any(axis=1)
    order, k = order[first], k[first][:, 1:]
    kept = np.empty((0, d - 1), dtype=keys.dtype)
    out = []
    upper = np.tri(BLOCK, k=-1, dtype=bool).T                # j (row) before i (column)
    for lo in range(0, len(order), BLOCK):
        c = k[lo:lo + BLOCK]
        dom = upper[:len(c), :len(c)].copy()
        for j in range(d - 1):
            dom &= c[:, None, j] <= c[None, :, j]
        dom = dom.any(axis=0)
        near = kept[(kept <= c.max(axis=0)).all(axis=1)]
        for plo in range(0, len(near), 4 * BLOCK):
            p = near[plo:plo + 4 * BLOCK]
            pair = p[:, None, 0] <= c[None, :, 0]
            for j in range(1, d - 1):
                pair &= p[:, None, j] <= c[None, :, j]
            dom |= pair.any(axis=0)
        kept = np.concatenate([kept, c[~dom]])
        out.append(order[lo:lo + BLOCK][~dom])
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _lex_rank(*keys: np.ndarray) -> np.ndarray:
    """Dense rank of the tuples of `keys` (most significant first) in lexicographic order.
    Where their ranges multiply to less than 2^62, one sort of a single key (mixed radix)
    gives it: five times faster than sorting by each key (300,000 labels: 27 against 138
    ms), and a search sorts its labels every month."""
    if len(keys[0]) and len(keys) > 1:
        low = [int(k.min()) for k in keys]
        span = [int(k.max()) - lo + 1 for k, lo in zip(keys, low)]
        if math.prod(span) < 1 << 62:
            key = np.zeros(len(keys[0]), dtype=np.int64)
            for k, lo, s in zip(keys, low, span):
                key = key * s + (k - lo)
            return np.unique(key, return_inverse=True)[1].reshape(-1).astype(np.int64) + 1
    order = np.lexsort(keys[::-1])
    new = np.ones(len(order), dtype=np.int64)
    if len(order) > 1:
        new[1:] = np.any([k[order][1:] != k[order][:-1] for k in keys], axis=0)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.cumsum(new)
    return rank


MERGE_SUMS = 4_000_000    # point pairs of two frontiers summed at once by `least_in_room`
MERGE_KEPT = 50_000       # points of the merged frontiers beyond which it declines
GRID = 1 << 22            # cells of a frontier's table of least costs over two blocks' spends


# Points within the room beyond which `least_by_program` declines: the bundled example
# over 24 months under a yearly cap of 150,000 (8,259 points) took 10-20 s for its four
# solves; yearly-any-24m's seed 1 (19,168) 190 s, three times its joint integer program.
CHOICE_POINTS = 12_000


def least_by_program(fronts: list[Frontier], room: list[int], total: int | None = None,
                     clock: Clock = UNLIMITED, solver: str = "highs", parts: int = 4):
    """`least_in_room` for many frontiers, as an integer program: a binary per point within
    the room, one point per frontier, each block's spend (and the total) within the room;
    solved for each part of the key in turn (least cost, then least spend, most calls,
    fewest packs), each later solve keeping the parts before it at their optima and
    starting from the plan before. (Merging nine frontiers grew past MERGE_KEPT points in
    minutes; with two knapsack rows the program's relaxation leaves little to branch on.)
    `parts`: of the key, those solved for (1: the cost alone, where no tie-break is
    asked). (cost, [index per frontier]); None past CHOICE_POINTS points, or when a solve
    is not proven within `clock`; OutOfTime once it runs out between steps."""
    import pulp

    from .solvers import Status, solve
    room = np.asarray(room, dtype=np.int64)
    within = []
    for f in fronts:
        idx = _in_room(f, room, total)
        if not len(idx):
            return None
        within.append((f.spend[idx], f.cost[idx], idx))
    if sum(len(c) for _, c, _ in within) > CHOICE_POINTS:
        return None
    # (a point dearer than a plan found by descent less the others' cheapest is never
    # chosen: those go before the program is built)
    ceiling = _descent(within, room, total)
    least = [int(c.min()) for _, c, _ in within]
    prob = pulp.LpProblem("choice", pulp.LpMinimize)
    points = []                 # per frontier: (its points kept, their binaries)
    for i, (_, cost, idx) in enumerate(within):
        clock.check()
        kept = idx[cost + sum(least) - least[i] <= ceiling]
        points.append((kept, [prob.add_variable(f"y_{i}_{j}", cat="Binary")
                              for j in kept.tolist()]))
        prob += pulp.lpSum(points[-1][1]) == 1, f"one_{i}"

    def summed(values) -> pulp.LpAffineExpression:
        """Σ over the binaries of `values(frontier)` at their points."""
        return pulp.LpAffineExpression([(y, int(v)) for f, (kept, ys) in zip(fronts, points)
                                        for y, v in zip(ys, values(f)[kept])])
    for b in range(len(room)):
        prob += summed(lambda f: f.spend[:, b]) <= int(room[b]), f"block_{b}"
    spend = summed(lambda f: f.spend.sum(axis=1))
    if total is not None:
        prob += spend <= int(total), "total"
    start = None
    keys = (summed(lambda f: f.cost), spend, summed(lambda f: -f.calls),
            summed(lambda f: f.packs))
    for k, key in enumerate(keys[:parts]):
        clock.check()
        prob.setObjective(key)
        out = solve(prob, solver, clock.remaining(), start=start)
        if out.status is not Status.OPTIMAL:
            return None
        chosen = [int(kept[max(range(len(ys)), key=lambda n: ys[n].value() or 0)])
                  for kept, ys in points]
        start = {y: int(j == c) for (kept, ys), c in zip(points, chosen)
                 for j, y in zip(kept.tolist(), ys)}
        prob += key <= round(out.objective), f"key_{k}"
    return sum(int(f.cost[j]) for f, j in zip(fronts, chosen)), chosen


def least_in_room(fronts: list[Frontier], room: list[int], total: int | None = None,
                  clock: Clock = UNLIMITED):
    """One point per frontier (each with spend per block) whose spends keep `room` (each
    block's) and `total` (their sum, if not None), with the least key: cost, then spend,
    then more calls, then fewer packs. (cost, [index per frontier]); None when the merged
    frontiers would grow past MERGE_KEPT points; OutOfTime once `clock` runs out.

    Exact for any ceiling at or above the optimum (`_under`): a plan found by descent
    (`_descent`) gives one. A lower ceiling costs less to search, so the search first
    tries the relaxations' bound (`_rest_bounds`), which is the optimum where they are
    tight: the bundled example over 24 months under a yearly cap of 150,000, whose
    descent's plan is 0.14 % dearer, 0.4 s against a merge past MERGE_KEPT points."""
    room = np.asarray(room, dtype=np.int64)
    pts = []
    for f in fronts:
        idx = _in_room(f, room, total)
        pts.append((f.spend[idx], f.cost[idx], f.calls[idx], f.packs[idx], idx[:, None]))
    if any(not len(p[0]) for p in pts):
        return None
    ceiling = _descent(pts, room, total)
    order = sorted(range(len(fronts)), key=lambda i: len(pts[i][0]))
    big = order.pop()
    floors = [_floor(p) for p in pts]
    if len(pts) > FEW_FRONTIERS:
        rest = _rest_bounds([pts[i] for i in order + [big]], room)
        caps = _ceilings(int(rest[0](room[None, :])[0]), ceiling)
    else:       # (their merges are short; the relaxations' tables cost more than they save)
        rest, caps = [lambda left: np.zeros(len(np.atleast_2d(left)), dtype=np.int64)] * \
            (len(pts) + 1), [ceiling]
    for cap in caps:
        got = _under(pts, order, big, floors, rest, room, total, cap, clock)
        if got is not _NONE_UNDER:
            return got
    return None         # (not reached: the descent's plan is within its own ceiling)


FEW_FRONTIERS = 3      # frontiers merged by their floors alone (yearly-any-24m's three
                        # products: 0.06 s a choice, 0.2 s with the relaxations)


def _ceilings(least: int, ceiling: int) -> list[int]:
    """The ceilings `least_in_room` tries: the relaxations' bound, then the descent's plan.
    (Ceilings between them cost more to search where the bound is loose: yearly-any-24m's
    seed 3, 5.6 % below its plan, searched 30 s in vain at a sixteenth of the way.)"""
    return [least, ceiling] if least < ceiling else [ceiling]


_NONE_UNDER = object()      # `_under`'s answer when no plan is within its ceiling


def _under(pts, order: list[int], big: int, floors, rest, room, total, ceiling: int, clock):
    """`least_in_room`'s plan if one costs at most `ceiling` (else _NONE_UNDER), or None
    past MERGE_KEPT points. A point dearer than the ceiling less the others' cheapest is
    never chosen. Every frontier but the largest (`big`) is merged into one, in `order`:
    pairwise sums no other beats on every block's spend and the plan order (as a
    frontier's own points; a sum beaten so is beaten in every completion), and none whose
    cost with a bound on the rest (`rest`, `floors`) passes the ceiling. Each point of the
    largest takes the first merged point in key order that fits the room it leaves,
    cheapest points first, until no cheaper point can improve on the best found."""
    least = [int(p[1].min()) for p in pts]
    pts = [tuple(x[p[1] + sum(least) - least[i] <= ceiling] for x in p)
           for i, p in enumerate(pts)]
    if any(not len(p[0]) for p in pts):
        return _NONE_UNDER
    merged = pts[order[0]] if order else (np.zeros((1, len(room)), dtype=np.int64),) + \
        tuple(np.zeros(1, dtype=np.int64) for _ in range(3)) + \
        (np.zeros((1, 0), dtype=np.int64),)
    for at, i in enumerate(order[1:], start=2):
        merged = _merged(merged, pts[i], room, total, ceiling,
                         [_most(rest[at], [floors[j] for j in order[at:] + [big]])], clock)
        if merged is None:
            return None
        if not len(merged[0]):
            return _NONE_UNDER
    s, c, k, n, which = merged
    if order:
        # (a merged point or a point of the largest whose cheapest partner breaks the
        # ceiling is never chosen)
        ok = c + floors[big](room - s) <= ceiling
        s, c, k, n, which = s[ok], c[ok], k[ok], n[ok], which[ok]
        if not len(s):
            return _NONE_UNDER
        mine = _floor((s, c))
        bs = pts[big][0]
        pts[big] = tuple(x[pts[big][1] + mine(room - bs) <= ceiling] for x in pts[big])
    key = np.lexsort((n, -k, s.sum(axis=1), c))
    s, c, k, n, which = s[key], c[key], k[key], n[key], which[key]
    bs, bc, bk, bn, _ = pts[big]
    best, cheapest = None, int(c.min())
    along = np.argsort(bc, kind="stable")
    step = max(1, MERGE_SUMS // max(1, len(c)))
    for lo in range(0, len(along), step):
        rows = along[lo:lo + step]
        if best is not None and int(bc[rows[0]]) + cheapest > best[0][0]:
            break
        left = room[None, :] - bs[rows]
        fit = (s[None, :, :] <= left[:, None, :]).all(axis=2)
        if total is not None:
            fit &= s.sum(axis=1)[None, :] <= (total - bs[rows].sum(axis=1))[:, None]
        has = fit.any(axis=1)
        first = fit.argmax(axis=1)
        for r, j in zip(rows[has], first[has]):
            cand = (int(bc[r] + c[j]), int(bs[r].sum() + s[j].sum()), -int(bk[r] + k[j]),
                    int(bn[r] + n[j]))
            if best is None or cand < best[0]:
                best = (cand, r, j)
    if best is None or best[0][0] > ceiling:
        return _NONE_UNDER
    _, r, j = best
    index = [0] * len(pts)
    index[big] = int(pts[big][4][r, 0])
    for col, i in enumerate(order):
        index[i] = int(which[j, col])
    return best[0][0], index


def _most(first, floors):
    """The larger of two lower bounds for rows of room left: `first`, and the sum of the
    frontiers' `floors`."""
    def at(left: np.ndarray) -> np.ndarray:
        return np.maximum(first(left), sum(f(left) for f in floors))
    return at


def _in_room(f: Frontier, room: np.ndarray, total: int | None) -> np.ndarray:
    """The indices of `f`'s points whose spend keeps each block's room (and `total`)."""
    ok = (f.spend <= room).all(axis=1)
    if total is not None:
        ok &= f.spend.sum(axis=1) <= total
    return np.nonzero(ok)[0]


def _descent(pts, room, total) -> int:
    """The cost of a plan within the room, as cheap as a few descents find: from the room
    split evenly, and from all of it to each frontier in turn, each frontier in turn takes
    its cheapest point within what the others leave, until none improves; then, over two
    blocks, pairs of frontiers exchange room (`_exchanged`). (The ceiling it gives decides
    how much the merge keeps: on yearly-any-24m's seed 1 the descent alone was 5.8 % above
    the optimum, with the exchanges at it.)"""
    m = len(pts)
    best, tables = None, None
    for start in range(m + 1):
        share = [room // m if start == m else (room if i == start else 0 * room)
                 for i in range(m)]
        tot = [None if total is None else (total // m if start == m else
                                           (total if i == start else 0)) for i in range(m)]
        pick = [_cheapest(pts[i], share[i], tot[i]) for i in range(m)]
        changed = True
        while changed:
            changed = False
            for i in range(m):
                others = sum(pts[j][0][pick[j]] for j in range(m) if j != i)
                left_total = None if total is None else total - int(others.sum()) \
                    if m > 1 else total
                got = _cheapest(pts[i], room - others if m > 1 else room, left_total)
                if pts[i][1][got] < pts[i][1][pick[i]]:
                    pick[i], changed = got, True
        if m > 1 and len(room) == 2:
            tables = tables or [_argmin_table(p) for p in pts]
            if all(t is not None for t in tables):
                pick = _exchanged(pts, room, total, pick, tables)
        cost = sum(int(pts[i][1][pick[i]]) for i in range(m))
        best = cost if best is None else min(best, cost)
    return best


def _exchanged(pts, room, total, pick: list[int], tables) -> list[int]:
    """`pick` improved by pairs: frontier i takes each of its points in turn and frontier j
    its cheapest point in the room left (`_argmin_table`, exact over two blocks), until no
    pair's cost falls. (One frontier at a time stalls where a cheaper plan moves room from
    one product to another.)"""
    m = len(pts)
    changed = True
    while changed:
        changed = False
        for i in range(m):
            for j in range(m):
                if i == j:
                    continue
                others = sum((pts[k][0][pick[k]] for k in range(m) if k not in (i, j)),
                             np.zeros(len(room), dtype=np.int64))
                left = room - others
                idx = np.flatnonzero((pts[i][0] <= left).all(axis=1))
                pj, cj = tables[j](left[None, :] - pts[i][0][idx])
                cost = pts[i][1][idx] + cj
                if total is not None:     # (the table ignores the total: such pairs skipped)
                    spent = int(others.sum()) + pts[i][0][idx].sum(axis=1) + \
                        pts[j][0][np.maximum(pj, 0)].sum(axis=1)
                    cost = np.where(spent <= total, cost, FAR)
                b = int(np.argmin(cost))
                if cost[b] < int(pts[i][1][pick[i]]) + int(pts[j][1][pick[j]]):
                    pick[i], pick[j], changed = int(idx[b]), int(pj[b]), True
    return pick


def _argmin_table(p):
    """For points `p` over two blocks: a function giving, for each row of `left` (room per
    block), the index and cost of the cheapest point within it (-1 and FAR where none
    fits), from `_least_grid` over a packed key (cost, then index); None past GRID cells,
    or where a cost is negative or cost times points would overflow that key."""
    spend, cost = p[0], p[1]
    n = len(cost)
    if int(cost.min()) < 0 or int(cost.max()) >= (1 << 62) // (n + 1):
        return None
    none = np.iinfo(np.int64).max
    least = _least_grid(spend, cost * n + np.arange(n), none)
    if least is None:
        return None

    def best(left: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = least(left)
        return np.where(out == none, -1, out % n), np.where(out == none, FAR, out // n)
    return best


def _least_grid(spend: np.ndarray, values: np.ndarray, empty: int):
    """For points over two blocks (`spend`): a function giving, for each row of `left`
    (room per block), the least of `values` over the points within it (`empty` where none
    fits), from a table over the two spends; None past GRID cells."""
    u1, i1 = np.unique(spend[:, 0], return_inverse=True)
    u2, i2 = np.unique(spend[:, 1], return_inverse=True)
    if len(u1) * len(u2) > GRID:
        return None
    grid = np.full((len(u1), len(u2)), empty, dtype=np.int64)
    np.minimum.at(grid, (i1.reshape(-1), i2.reshape(-1)), values)
    grid = np.minimum.accumulate(np.minimum.accumulate(grid, axis=0), axis=1)

    def within(left: np.ndarray) -> np.ndarray:
        left = np.atleast_2d(left)
        a = np.searchsorted(u1, left[:, 0], "right") - 1
        b = np.searchsorted(u2, left[:, 1], "right") - 1
        return np.where((a < 0) | (b < 0), empty, grid[np.maximum(a, 0), np.maximum(b, 0)])
    return within


def _rest_bounds(pts, room) -> list:
    """For each k, a function giving for rows of `left` (room per block) a lower bound on
    the least cost of one point from each of pts[k:] within it (0 for k = len(pts)): the
    most of knapsack relaxations over one weighted sum of the blocks' spends (each block
    alone, and all of them together), each exact over its lattice by a dynamic program on
    the points' Pareto sets. They share the room among the later frontiers, which the
    frontiers' own floors, each within all the room left, do not: nine frontiers of
    yearly-any-24m's seed 1 merged past MERGE_KEPT points with the floors alone."""
    blocks = len(room)
    weights = [np.eye(blocks, dtype=np.int64)[b] for b in range(blocks)]
    if blocks > 1:
        weights.append(np.ones(blocks, dtype=np.int64))
    tables = []                     # per weight: (unit, suffix tables)
    for w in weights:
        reach = int(w @ room)
        if reach < 0:
            return [lambda left: np.zeros(len(np.atleast_2d(left)), dtype=np.int64)] * \
                (len(pts) + 1)
        unit = max(1, -(-reach // REST_CELLS))
        cap = reach // unit
        f = np.zeros(cap + 1, dtype=np.int64)
        suffix = [f]
        for p in reversed(pts):
            wt = (p[0] @ w) // unit
            c = p[1]
            ok = wt <= cap
            wt, c = wt[ok], c[ok]
            order = np.lexsort((c, wt))
            wt, c = wt[order], c[order]
            keep = np.ones(len(wt), dtype=bool)     # (the Pareto set in weight and cost)
            keep[1:] = c[1:] < np.minimum.accumulate(c)[:-1]
            new = np.full(cap + 1, FAR, dtype=np.int64)
            for a, b in zip(wt[keep].tolist(), c[keep].tolist()):
                np.minimum(new[a:], np.minimum(f[:cap + 1 - a] + b, FAR), out=new[a:])
            f = np.minimum.accumulate(new)
            suffix.append(f)
        tables.append((w, unit, suffix[::-1]))

    grids = _grid_tables(pts, room) if blocks == 2 else None

    def bound(k: int):
        def at(left: np.ndarray) -> np.ndarray:
            left = np.atleast_2d(left)
            out = np.zeros(len(left), dtype=np.int64)
            for w, unit, suffix in tables:
                cell = (left @ w) // unit
                got = suffix[k][np.clip(cell, 0, len(suffix[k]) - 1)]
                out = np.maximum(out, np.where(cell < 0, FAR, got))
            if grids is not None:
                unit2, suffix2 = grids
                cells = np.clip(left // unit2, 0, np.array(suffix2[k].shape) - 1)
                out = np.maximum(out, suffix2[k][cells[:, 0], cells[:, 1]])
            return np.where((left < 0).any(axis=1), FAR, out)
        return at
    return [bound(k) for k in range(len(pts) + 1)]


REST_CELLS = 50_000     # a relaxation's lattice at most (`_rest_bounds`)
GRID_SIDE = 192         # cells a side of the two blocks' lattice (`_grid_tables`)


def _grid_tables(pts, room):
    """The relaxation over both blocks at once: each point's spend rounded down to a
    lattice of GRID_SIDE cells a side, the least cost of one point from each of pts[k:]
    within each cell's room, by a dynamic program over the lattice. ((unit per block,
    [table per k]).) Coarser than the knapsacks of one sum but keeping both caps: on
    yearly-any-24m's seed 3 it bounds 0.6 % below the optimum, they 5.6 % (96 cells a
    side: 1.2 %, its merge 97 s against 30 s; 288: 0.36 %, 20 s, its tables 0.32 → 0.62 s)."""
    unit = np.maximum(1, -(-room // GRID_SIDE))
    cap = room // unit
    f = np.zeros((cap[0] + 1, cap[1] + 1), dtype=np.int64)
    suffix = [f]
    for p in reversed(pts):
        cell = p[0] // unit
        ok = (cell <= cap).all(axis=1)
        cell, cost = cell[ok], p[1][ok]
        grid = np.full(f.shape, FAR, dtype=np.int64)
        np.minimum.at(grid, (cell[:, 0], cell[:, 1]), cost)
        # (a cell is worth a step only if no cell below and left of it is as cheap)
        below = np.minimum.accumulate(np.minimum.accumulate(grid, axis=0), axis=1)
        beaten = np.full(f.shape, FAR, dtype=np.int64)
        beaten[1:, :] = below[:-1, :]
        beaten[:, 1:] = np.minimum(beaten[:, 1:], below[:, :-1])
        new = np.full(f.shape, FAR, dtype=np.int64)
        for x, y in zip(*np.nonzero(grid < beaten)):
            c = int(grid[x, y])
            np.minimum(new[x:, y:], f[:cap[0] + 1 - x, :cap[1] + 1 - y] + c, out=new[x:, y:])
        f = np.minimum(np.minimum.accumulate(np.minimum.accumulate(new, axis=0), axis=1), FAR)
        suffix.append(f)
    return unit, suffix[::-1]


def _floor(p):
    """For points `p` (spend per block, cost, ...): a function giving, for each row of
    `left` (room per block), the least cost of a point within it (none: FAR); with two
    blocks exact, from a table over their spends (up to GRID cells), else a lower bound
    from each block alone."""
    spend, cost = p[0], p[1]
    if spend.shape[1] == 2:
        within = _least_grid(spend, cost, FAR)
        if within is not None:
            return within
    sorts = []
    for j in range(spend.shape[1]):
        order = np.argsort(spend[:, j], kind="stable")
        sorts.append((spend[order, j], np.concatenate(
            ([FAR], np.minimum.accumulate(cost[order])))))

    def at(left: np.ndarray) -> np.ndarray:
        left = np.atleast_2d(left)
        out = np.zeros(len(left), dtype=np.int64)
        for j, (by, least) in enumerate(sorts):
            out = np.maximum(out, least[np.searchsorted(by, left[:, j], "right")])
        return out
    return at


def _cheapest(p, room, total) -> int:
    """Index of the cheapest of points `p` within `room` (and `total`): the point buying
    nothing, spend 0, is always among them."""
    ok = (p[0] <= room).all(axis=1)
    if total is not None:
        ok &= p[0].sum(axis=1) <= total
    return int(np.flatnonzero(ok)[np.argmin(p[1][ok])])


def _merged(a, b, room, total, ceiling, later, clock):
    """Every sum of a point of `a` and one of `b` within the room, less those another sum
    beats on every block's spend and the plan order, costing at most `ceiling`; (spend,
    cost, calls, packs, each frontier's point index per column), or None past MERGE_KEPT.
    `later`: the `_floor`s of the frontiers still to come, which bound the cost a sum
    leaves to them. Summed MERGE_SUMS pairs at a time, each piece pruned alone, then their
    union."""
    # Only pairs whose cost, with the least the later frontiers cost in all the room, is
    # within the ceiling are summed: `b` by cost, each point of `a` takes a prefix of it.
    least_later = sum(int(f(room[None, :])[0]) for f in later)
    order = np.argsort(b[1], kind="stable")
    counts = np.searchsorted(b[1][order], ceiling - least_later - a[1], "right")
    ends = np.cumsum(counts)
    pieces = []
    lo = 0
    while lo < len(a[0]):
        clock.check()
        base = int(ends[lo] - counts[lo])
        hi = max(lo + 1, int(np.searchsorted(ends, base + MERGE_SUMS, "right")))
        i = np.repeat(np.arange(lo, hi, dtype=np.int64), counts[lo:hi])
        j = order[np.arange(len(i), dtype=np.int64) -
                  np.repeat(ends[lo:hi] - counts[lo:hi] - base, counts[lo:hi])]
        lo = hi
        s = a[0][i] + b[0][j]
        ok = (s <= room).all(axis=1)
        if total is not None:
            ok &= s.sum(axis=1) <= total
        i, j, s = i[ok], j[ok], s[ok]
        c = a[1][i] + b[1][j]
        bound = c.copy()
        for f in later:         # (each product still to come needs a point in what is left)
            bound += f(room - s)
        under = bound <= ceiling
        i, j, s, c = i[under], j[under], s[under], c[under]
        k, n = a[2][i] + b[2][j], a[3][i] + b[3][j]
        keep = _dominance(np.column_stack([s, _lex_rank(c, -k, n)]))
        pieces.append((s[keep], c[keep], k[keep], n[keep],
                       np.column_stack([a[4][i[keep]], b[4][j[keep]]])))
        if sum(len(p[0]) for p in pieces) > 2 * MERGE_KEPT:
            return None
    if not pieces:      # (no pair within the ceiling)
        return tuple(x[:0] for x in (a[0], a[1], a[2], a[3])) + (
            np.zeros((0, a[4].shape[1] + b[4].shape[1]), dtype=np.int64),)
    s, c, k, n, which = (np.concatenate(x) for x in zip(*pieces))
    if len(pieces) > 1:
        keep = _dominance(np.column_stack([s, _lex_rank(c, -k, n)]))
        s, c, k, n, which = s[keep], c[keep], k[keep], n[keep], which[keep]
    return None if len(s) > MERGE_KEPT else (s, c, k, n, which)


def period_spend(counts: dict, prices: dict, months: int, period: int) -> list[int]:
    """Spend of each period of `period` months, from {(month, size): packs}."""
    out = [0] * (-(-months // period))
    for (t, size), k in counts.items():
        out[t // period] += prices[size] * k
    return out
