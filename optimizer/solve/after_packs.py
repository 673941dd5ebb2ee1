"""Exact any-month schedule of one product under the `after-packs` tier basis.

Under `after-packs` a month's fee is f_t(u) = (r_t − u) · rate(w_t − u), with r_t the calls
new packs can serve (after the free quota and early holdings), w_t = free_t + r_t the tier
volume when new packs draw nothing, and u the calls they draw. More pack usage can push
a month into a dearer tier, so neither "just in time" nor "more balance never costs more"
(dynamic.py) holds. What does hold:

1. **Short months drain everything.** Packs are drawn automatically (docs/pricing.md,
   rule 2), so a month either draws u_t = r_t (fee 0) or u_t < r_t, and then every lot
   valid in it is empty at its end. Call the second kind a *stop*. Between stops every
   month is fully covered, so the only fees are those of the stops.
2. **A stream of lots.** New packs share one validity V, so the soonest-expiring lot is
   the earliest bought: lots are drawn in purchase order, one after another, as one
   stream over the *positions* of cumulative demand (cum(t) = calls of months before t).
   One purchase month's packs are one lot. A lot bought in month s with capacity C that
   starts being drawn at position p ends at p' = min(p + C, cum(s + V)): exhausted, or
   expired with the rest wasted. It must be bought by the month μ(p) that position p
   falls in (else μ(p) is a stop) and be valid there (cum(s + V) > p; a lot that expires
   before it is drawn only costs), and after the last stop in month a − 1 (it would have
   been drained there): s ∈ [max(a, μ(p) − V + 1), μ(p)].
   Conversely every such chain of (s_i, C_i) is a real plan with the same draws: buying
   lot i in month min(s_i, s_i+1, …) (the suffix minimum; purchase months are then in
   stream order) leaves every lot's end position unchanged, because each lot's end is at
   most the cap of every later lot. So the cheapest plan is a shortest path over nodes
   "the stream is at position p, every lot bought so far is used up", with moves
   - a lot: p → p + C (bought in μ(p), no waste, p + C ≤ cum(μ(p) + V)), or p → cum(j)
     (a lot of at least cum(j) − p calls bought in s = j − V ≥ max(a, μ(p) − V + 1),
     expiring at the end of month j − 1 with the rest wasted), at the price of the
     cheapest pack mix of C (an overshoot of a whole pack is never cheapest);
   - a stop in month μ(p): fee f(p − cum(μ(p))), then a fresh stream at cum(μ(p) + 1)
     with a = μ(p) + 1;
   - reaching cum(T): the end (what is left carries over, valued at zero).
   Costs (fees plus pack prices) and the tie-break keys (prepaid spend, calls bought,
   packs) add up along a path, and lexicographic order on such sums is compatible with
   addition, so keeping at every node the lexicographically least key is exact: no
   Pareto pruning, only equal states are merged.
3. **The lattice.** Lot capacities are multiples of g, the gcd of the pack sizes, so
   positions are boundaries cum(j) plus multiples of g: one lattice ("class") per residue
   of cum(j) mod g. The lots of one month are relaxed all at once, pack by pack (an
   unbounded knapsack along the lattice, as knapsack.py does), which is the closure over
   every mix; a lot that ends in its own month and the next one bought there merge into
   one purchase. A lot reaching a cap cum(j) "at least" is priced from the cheapest mix
   of at least that many calls (an overshoot of a whole pack is never cheapest).
4. **Where the segment start matters.** The lower bound a on purchase months binds only
   while μ(p) < a + V − 1 ("young" nodes). A young node is reached most cheaply by a
   single lot from the fresh start (two lots that end within the first lot's validity
   merge into one), so its key is fresh(a) + lot(p − cum(a)); it is relaxed with its own
   a. Older ("mature") nodes of every start share the position lattices.
5. **Keys and the tie-break.** The search carries one int64 key, cost·SB + spend (SB
   above any spend), so it finds the least cost, then the least spend. Among the plans
   of that key, the most calls bought and then the fewest packs are found afterwards by
   a shortest path over the *tight* edges only (an edge is tight when its source's key
   plus its own equals its target's: exactly the edges of the least-key plans), searched
   back from the end: the second key (−calls, packs) also adds up along paths.

6. **Prorata carry-over** (the objective is the cost less the credit of what is left at
   the end). Only the lot the stream is in at the end holds balance: a later lot draws
   nothing and dropping it saves more than its credit. That lot is best bought in the
   month μ(p) its first call is drawn (later: the same draws, a larger unexpired share),
   as that month's whole purchase, from a node p reached without a purchase in μ(p). Its
   packs are drawn smallest first, so the largest size S of the mix holds the balance
   L, credited at S's price per call times the share, rounded half up to the fen. L < S:
   else dropping one pack of S saves P_S and loses under P_S·share + 1 fen of credit,
   less when P_S ≥ V fen (a catalog with cheaper packs is declined). So the end move is a
   mix of sizes ≤ S (a closure restricted to them), then one pack of S drawn for the last
   y ∈ (0, S] calls. Credit can offset most of a dear pack's price: the end may use any
   pack up to V times the cost of buying nothing. The end's packs larger than S can be
   bought in μ(p) − 1 instead, as a lot of their own before the end lot (drawn first:
   an earlier expiry), when that month is not a stop (else they would be drawn there)
   and they are used up within μ(p); the balance then sits in a pack of S although
   larger ones were bought (dynamic.py's docstring has why no other dating does better).

Pruning that stays exact: a pack is never bought when it costs at least as much as
buying nothing, or more than a mix covering all a lot can ever draw (that mix in its
place draws the same, for less); a key above the cost of buying nothing is dropped.
Money is in integer units. `after_packs_schedule` returns None (the caller falls back to
the integer program) when the lattice is too fine (more than MAX_CELLS cells) or a key
could overflow int64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..domain.catalog import Product
from ..domain.money import to_units
from .clock import UNLIMITED, Clock

INF = np.int64(1 << 62)
HALF = 1 << 61
MAX_CELLS = 6_000_000        # lattice cells (classes × steps) held at once; more: decline
MAX_WINDOW = 6_000_000       # cells of one month's relaxation (rows × steps)
# Tight edges the tie-break may list. Where many plans tie on cost and spend (one pack
# size that beats every rate: any split of the same packs over the months), a node can
# have tens of thousands of tight edges and the search grows with their square (one
# 500-call pack against a million calls a month over 15 months: 407 s). Past this the
# plan is one of least cost and spend, its tie-break unproven.
MAX_TIE_EDGES = 2_000_000


@dataclass(frozen=True)
class AfterPacksSchedule:
    """One product's optimal purchases and what they cost (money units)."""

    counts: dict            # (month index, pack size) -> packs bought
    objective: int          # total cost
    spend: int              # prepaid spend
    tie_break: bool = True  # False: the least (cost, spend), calls and packs unproven


def after_packs_schedule(product: Product, calls, resid, validity: int, scale: int,
                         clock: Clock = UNLIMITED, prorata: bool = False
                         ) -> AfterPacksSchedule | None:
    """The cheapest any-month purchases for one product under the after-packs basis
    (among equal costs: least spend, most calls, fewest packs); None when the pack
    lattice is too fine for this method.

    `calls[m]`: the month's calls; `resid[m]`: what new packs can serve (after the free
    quota and the holdings that expire before any new pack). `clock`: raises OutOfTime
    between steps once it runs out. `prorata`: minimise the cost less the prorata credit
    of the balance left at the horizon's end (section 6 of the module docstring); the
    objective is then that net cost.
    """
    s = _Search.build(product, calls, resid, validity, scale, prorata)
    if s is None or isinstance(s, AfterPacksSchedule):
        return s
    s.clock = clock
    return s.run()


def fee_terms(product: Product, calls, resid, scale: int):
    """(r, w, tier bounds, tier rates in money units): a month's fee when new packs draw u
    of its calls is (r − u) · rate(w − u), the rate found by searching w − u in the
    bounds."""
    r = np.asarray(resid, dtype=np.int64)
    w = np.array([min(d, product.free_calls) for d in calls], dtype=np.int64) + r
    tiers = product.tier_rates()
    bounds = np.array([t[0] for t in tiers if t[0] is not None], dtype=np.int64)
    rates = np.array([to_units(t[1], scale) for t in tiers], dtype=np.int64)
    return r, w, bounds, rates


def _lexcummin(b1: np.ndarray, b2: np.ndarray):
    """Running lexicographic minimum of the pairs (b1, b2) along axis 0."""
    m1 = np.minimum.accumulate(b1, axis=0)
    new = np.ones(m1.shape, dtype=bool)
    new[1:] = m1[1:] != m1[:-1]
    seg = np.cumsum(new, axis=0, dtype=np.int64)
    lo, hi = int(b2.min()), int(b2.max())
    span = hi - lo + 1
    # Within a run of equal m1, the least b2 among the entries that reach m1; runs are
    # kept apart by subtracting seg·span (later runs always below earlier ones).
    cand = np.where(b1 == m1, b2 - lo, span - 1)
    m2 = np.minimum.accumulate(cand - seg * span, axis=0) + seg * span + lo
    return m1, m2


def _lot_keys(packs, n: int, sb: int, pb: int):
    """For every lot of k lattice steps (k < n): the least spend·(sb + 1) (the lot's cost
    and spend in the cost key), and among those mixes −k·pb + the fewest packs."""
    l1 = np.full(n, INF, dtype=np.int64)
    l2 = np.zeros(n, dtype=np.int64)
    l1[0] = 0
    for q, price in packs:
        d1, d2 = price * (sb + 1), -q * pb + 1
        # Unbounded: along each residue of q, a running lexicographic minimum.
        R = -(-n // q)
        pad = R * q - n
        g1 = np.concatenate([l1, np.full(pad, INF, dtype=np.int64)]).reshape(R, q)
        g2 = np.concatenate([l2, np.zeros(pad, dtype=np.int64)]).reshape(R, q)
        j = np.arange(R, dtype=np.int64)[:, None]
        m1, m2 = _lexcummin(g1 - j * d1, g2 - j * d2)
        m1 += j * d1
        m2 += j * d2
        bad = m1 >= INF // 2
        m1[bad], m2[bad] = INF, 0
        l1, l2 = m1.reshape(-1)[:n].copy(), m2.reshape(-1)[:n].copy()
    return l1, l2


def _cheapest_cover(packs, need: int) -> int:
    """Least price of a mix of at least `need` calls (an unbounded knapsack along each
    residue of a pack size, the overshoot below one largest pack)."""
    g = math.gcd(*(s for s, _ in packs))
    n = -(-need // g) + max(s for s, _ in packs) // g + 1
    spend = np.full(n, INF, dtype=np.int64)
    spend[0] = 0
    for size, price in packs:
        q = size // g
        R = -(-n // q)
        grid = np.concatenate([spend, np.full(R * q - n, INF, dtype=np.int64)]).reshape(R, q)
        j = np.arange(R, dtype=np.int64)[:, None] * price
        grid = np.minimum.accumulate(grid - j, axis=0) + j
        spend = np.minimum(spend, grid.reshape(-1)[:n])
    return int(spend[-(-need // g):].min())


class _Search:
    """The shortest path of the module docstring, month by month, then the tie-break."""

    @staticmethod
    def build(product, calls, resid, validity, scale, prorata=False):
        T, V = len(resid), validity
        r, w, bounds, rates = fee_terms(product, calls, resid, scale)
        fee0 = r * rates[np.searchsorted(bounds, w, side="left")]
        ceiling = int(fee0.sum())
        priced = [(p.calls, to_units(p.price, scale)) for p in product.packs]
        if any(q <= 0 for _, q in priced):
            return None
        cum = np.zeros(T + 1, dtype=np.int64)
        cum[1:] = np.cumsum(r)
        cum_t = int(cum[T])
        widest = max(int(cum[min(m + V, T)] - cum[m]) for m in range(T)) if T else 0
        packs = sorted((sz, q) for sz, q in priced if q < ceiling)
        fen = scale // 100
        ends = sorted((sz, q) for sz, q in priced if q <= V * (ceiling + fen)) \
            if prorata else []
        if prorata and any(q * 100 < V * scale for _, q in ends):
            return None                 # the end's dominance needs packs of V fen or more
        union = ends or packs
        if union and (widest + max(sz for sz, _ in union)) // math.gcd(
                *(sz for sz, _ in union)) > MAX_CELLS:
            return None                 # the lattice is too fine for this method
        if packs and widest:
            # A pack dearer than some mix covering all a lot can ever draw is never bought:
            # that mix in its place draws the same, for less.
            cover = _cheapest_cover(packs, widest)
            packs = [(sz, q) for sz, q in packs if q <= cover]
        if not union or cum_t == 0:
            return AfterPacksSchedule({}, ceiling, 0)
        g = math.gcd(*(sz for sz, _ in union))
        smax = max(sz for sz, _ in union)
        nl = (widest + smax) // g + 2                   # lot lengths priced, in steps
        nk = cum_t // g + 2                              # positions per class
        classes = sorted({int(c) % g for c in cum})
        if len(classes) * nk > MAX_CELLS or nl > MAX_CELLS or \
                (len(classes) + V) * nl > MAX_WINDOW:
            return None
        # sb above any prepaid spend of a plan that beats buying nothing (under prorata
        # the spend can exceed the net cost by the end lot's credit, at most its price).
        sb = ceiling + 1 + max((q for _, q in ends), default=-1) + 1
        pb = (sb - 1) // min(q for _, q in union) + 2
        threshold = (ceiling + 1) * sb
        # Every intermediate key stays far below INF (no int64 overflow): a pack's pass
        # adds at most (window / its steps) of its price to any cost.
        growth = sum((nl // (sz // g) + 1) * q for sz, q in union) * (sb + 1)
        if threshold + 2 * growth >= HALF or nl * nl * pb * 8 >= HALF or prorata and \
                2 * smax * max(q for _, q in union) * V * 100 + smax * V * scale >= HALF:
            return None
        return _Search(product, T, V, r, w, bounds, rates, cum, g, packs, smax, nl, nk,
                       classes, sb, pb, threshold, ends, scale)

    def __init__(self, product, T, V, r, w, bounds, rates, cum, g, packs, smax, nl, nk,
                 classes, sb, pb, threshold, ends=(), scale=100):
        self.product, self.T, self.V = product, T, V
        self.r, self.w, self.bounds, self.rates, self.cum = r, w, bounds, rates, cum
        self.g, self.packs, self.smax, self.nl, self.nk = g, packs, smax, nl, nk
        self.sb, self.pb, self.threshold = sb, pb, threshold
        self.steps = [(sz // g, q * (sb + 1)) for sz, q in packs]   # (steps, key step)
        self.qmax = smax // g
        self.cum_t = int(cum[T])
        self.rho = np.array(classes, dtype=np.int64)
        self.class_of = {c: i for i, c in enumerate(classes)}
        self.d1 = np.full((len(classes), nk), INF, dtype=np.int64)
        # Lots priced alone: cost key and tie-break key of k·g calls, and the least cost
        # key of at least k·g calls.
        self.l1, self.l2 = _lot_keys([(sz // g, q) for sz, q in packs], nl, sb, pb)
        self.al1 = np.minimum.accumulate(self.l1[::-1])[::-1]
        self.fresh: dict[int, int] = {0: 0}     # start a -> cost key of the fresh stream
        self.young: list[int] = []              # starts still young somewhere ahead
        self.end = INF                          # cost key at the horizon's end
        self._young_months: dict[int, tuple[int, int]] = {}
        self._starts: dict[int, list] = {}      # month -> its nodes (tie-break)
        self._caps = {int(x) for x in cum}
        self.clock = UNLIMITED
        # Prorata: per end size S, the packs of at most S, their lot keys, and S's price.
        self.scale = scale
        self.prorata = bool(ends)
        self.ends = []
        self.early = []
        for size, price in ends:
            under = [(sz, q) for sz, q in ends if sz <= size]
            over = [(sz, q) for sz, q in ends if sz > size]
            l1, l2 = _lot_keys([(sz // g, q) for sz, q in under], nl, sb, pb)
            self.ends.append((size, price, under, [(sz // g, q * (sb + 1)) for sz, q in under],
                              l1, l2))
            # The larger packs, bought the month before and so drawn first (section 6).
            self.early.append((over, *_lot_keys([(sz // g, q) for sz, q in over], nl, sb, pb)))
        self._pre: dict[int, list] = {}         # month -> its rows before its purchase
        self._pre_at: dict = {}                 # (class, month) -> (first index, keys)
        self._end_at: dict = {}                 # (month, end size index) -> least end key
        self._early: dict = {}                  # month -> (rows open to early packs,
                                                #   their keys after them, per end size)

    # ----------------------------------------------------------------- helpers

    def mu(self, p: int) -> int:
        """Month that position p falls in (T: the end)."""
        return int(np.searchsorted(self.cum, p, side="right")) - 1

    def cap(self, j: int) -> int:
        return int(self.cum[min(j, self.T)])

    def kpos(self, c: int, p: int) -> int:
        """Lattice index of class c at or after position p."""
        return -(-(p - int(self.rho[c])) // self.g)

    def fee(self, m: int, u: np.ndarray) -> np.ndarray:
        vol = self.w[m] - u
        return (self.r[m] - u) * self.rates[np.searchsorted(self.bounds, vol, side="left")]

    def young_months(self, a: int) -> tuple[int, int]:
        """First and last month in which start a's nodes are young."""
        got = self._young_months.get(a)
        if got is None:
            got = self._young_months[a] = (self.mu(int(self.cum[a])), a + self.V - 2)
        return got

    def is_young(self, a: int, m: int) -> bool:
        first, last = self.young_months(a)
        return first <= m <= last

    def boundaries(self, lo_s: int, m: int) -> list[tuple[int, int]]:
        """(B, s): the distinct caps cum(s + V) of lots bought in s ∈ [lo_s, m], each with
        the latest such s."""
        out: dict[int, int] = {}
        for s in range(max(lo_s, 0), m + 1):
            out[self.cap(s + self.V)] = s
        return sorted(out.items())

    def closure(self, a1: np.ndarray, n: int, steps=None) -> np.ndarray:
        """Every mix of packs (`steps`, else every pack) added to every entry, along each
        row of `a1` (rows, n + the largest pack's steps, INF past n), in place; entries
        past n are scratch."""
        rows = a1.shape[0]
        for q, d1 in self.steps if steps is None else steps:
            R = -(-n // q)
            view = a1[:, :R * q].reshape(rows, R, q)
            j = (np.arange(R, dtype=np.int64) * d1)[None, :, None]
            view -= j
            np.minimum.accumulate(view, axis=1, out=view)
            view += j
        a1[a1 >= self.threshold] = INF
        return a1

    def young_start(self, a: int, m: int):
        """Young nodes of start a in month m: class, first lattice index, index of the
        start's own position, cost keys."""
        origin = int(self.cum[a])
        c = self.class_of[origin % self.g]
        klo, khi = self.kpos(c, int(self.cum[m])), self.kpos(c, int(self.cum[m + 1]))
        ka = self.kpos(c, origin)
        lot = self.l1[klo - ka:khi - ka]
        return c, klo, ka, np.where(lot < INF, lot + self.fresh[a], INF)

    def mature_start(self, c: int, m: int):
        klo, khi = self.kpos(c, int(self.cum[m])), self.kpos(c, int(self.cum[m + 1]))
        return klo, self.d1[c, klo:max(klo, khi)]

    # ----------------------------------------------------------------- the months

    def run(self) -> AfterPacksSchedule:
        self.start_fresh(0)
        for m in range(self.T):
            if self.r[m] == 0:
                continue
            self.clock.check()
            self.relax(m)
            self.stop(m)
            self.young = [a for a in self.young if self.young_months(a)[1] > m]
        assert self.end < INF, "buying nothing always reaches the end"
        return self.tie_break()

    def start_fresh(self, a: int) -> None:
        key = self.fresh[a]
        p = self.cap(a)
        if p >= self.cum_t:
            self.end = min(self.end, key)
            return
        first, last = self.young_months(a)
        if first > last:            # no young months: the start is mature at once
            c = self.class_of[p % self.g]
            k = self.kpos(c, p)
            self.d1[c, k] = min(self.d1[c, k], key)
        else:
            self.young.append(a)

    def relax(self, m: int) -> None:
        """Every lot bought for the stream's nodes in month m (mature and young), at once."""
        base, capm = int(self.cum[m]), self.cap(m + self.V)
        n = (capm - base) // self.g + 2
        rows = []                   # (class, first index, lowest purchase month, young start)
        starts = []
        for c in range(len(self.rho)):
            klo, st = self.mature_start(c, m)
            if len(st) and st.min() < INF:
                rows.append((c, klo, m - self.V + 1, None))
                starts.append(st)
        for a in self.young:
            if self.is_young(a, m):
                c, klo, _, st = self.young_start(a, m)
                if len(st) and st.min() < INF:
                    rows.append((c, klo, a, a))
                    starts.append(st)
        if not rows:
            return
        credit = self.prorata and m + self.V >= self.T
        if credit:
            self.end = min(self.end, self.end_lots(m, rows, starts, n))
        e1 = np.full((len(rows), n + self.qmax), INF, dtype=np.int64)
        for i, st in enumerate(starts):
            e1[i, :len(st)] = st
        e1 = self.closure(e1, n)
        last = min(capm, self.cum_t - 1)
        for i, (c, klo, _, a) in enumerate(rows):
            # Lots that end without waste: mature nodes (young ones of a start are
            # reached more cheaply by its single first lot).
            lo = klo if a is None else max(klo, self.kpos(c, self.cap(a + self.V - 1)))
            hi = min(self.kpos(c, last + 1), klo + n)
            if hi > lo:
                np.minimum(self.d1[c, lo:hi], e1[i, lo - klo:hi - klo], out=self.d1[c, lo:hi])
        # Lots that reach a cap cum(s + V) (at least), the rest wasted: from each start,
        # the least lot of at least the calls to the cap.
        for B, s in self.boundaries(m - self.V + 1, m):
            self.clock.check()
            best = INF
            if credit and B >= self.cum_t:
                continue            # the end lot, priced with its credit (end_lots)
            for (c, klo, lo_s, _), st in zip(rows, starts):
                if s >= lo_s:
                    best = min(best, int(self.waste_keys(c, klo, st, B).min()))
            if best >= self.threshold:
                continue
            if B >= self.cum_t:
                self.end = min(self.end, best)
            else:
                c = self.class_of[B % self.g]
                k = self.kpos(c, B)
                self.d1[c, k] = min(self.d1[c, k], best)

    def end_lots(self, m: int, rows, starts, n: int) -> int:
        """Prorata: the least key of reaching the end with month m's whole purchase (the
        module docstring, section 6), from its rows before that purchase (a young start
        whose first lot is bought in m: only its own position). Keeps those rows and
        each end size's least key for the tie-break."""
        pre, early = [], []
        for (c, klo, _, a), st in zip(rows, starts):
            if a is not None and self.young_months(a)[0] == m:
                ka = self.kpos(c, int(self.cum[a]))
                st = np.full(len(st), INF, dtype=np.int64)
                st[ka - klo] = self.fresh[a]
            elif a is None:
                st = st.copy()          # a view of d1, which this month's lots lower
                self._pre_at[c, m] = (klo, st)
            pre.append(("P", c, c, klo, st) if a is None else ("Y", a, c, klo, st))
            # Packs bought the month before need it covered: not right after a stop there,
            # which starts a young row (with V >= 2, a fresh start in a month with calls is
            # young there).
            early.append(np.full(len(st), INF, dtype=np.int64) if a == m else st)
        self._pre[m] = pre
        self._early[m] = self.early_keys(m, early, n)
        best = INF
        for j in range(len(self.ends)):
            self.clock.check()
            here = min((int(keys.min()) for _, _, _, keys, _, _ in self.end_keys(m, j, n)),
                       default=INF)
            self._end_at[m, j] = here
            best = min(best, here)
        return best if best < self.threshold else INF

    def early_keys(self, m: int, early: list, n: int):
        """The end's larger packs bought in m - 1 (section 6), from the rows open to them
        (`early`): per end size, the keys after packs of every larger size, used up within
        month m (before the end's last pack is first drawn; so before they lapse, and
        holding none of the balance); None where no size is larger. Built from the largest
        size down, one pack size at a time, over month m's positions only."""
        out = [None] * len(self.ends)
        if m == 0 or self.V < 2 or not any(len(st) and st.min() < INF for st in early):
            return early, out
        w = min(n, (self.cap(m + 1) - self.cap(m)) // self.g + 2)
        ef = np.full((len(early), w + self.smax // self.g), INF, dtype=np.int64)
        for i, st in enumerate(early):
            ef[i, :min(len(st), w)] = st[:w]
        end = self.cap(m + 1)
        past = [max(self.kpos(c, end) - klo, 0) for _, _, c, klo, _ in self._pre[m]]
        for j in range(len(self.ends) - 2, -1, -1):
            self.clock.check()
            size, price = self.ends[j + 1][0], self.ends[j + 1][1]
            ef = self.closure(ef, w, [(size // self.g, price * (self.sb + 1))])
            for i, k in enumerate(past):
                ef[i, min(k, w):] = INF
            out[j] = ef[:, :w].copy()
        return early, out

    def end_keys(self, m: int, j: int, n: int, keep: bool = False):
        """For each row before month m's purchase: (row index, first index, the keys of
        the mixes of sizes up to end size j from it, the end's keys with the last pack of
        j drawn from each of those positions, and for the tie-break (`keep`) the row's keys
        before those mixes and its keys after early packs), positions within one pack of
        the end."""
        size, steps = self.ends[j][0], self.ends[j][3]
        pre = self._pre[m]
        e1 = np.full((len(pre), n + self.smax // self.g), INF, dtype=np.int64)
        for i, (*_, st) in enumerate(pre):
            e1[i, :len(st)] = st
        ef = self._early[m][1][j]
        if ef is not None:
            np.minimum(e1[:, :ef.shape[1]], ef, out=e1[:, :ef.shape[1]])
        base = e1.copy() if keep else None
        e1 = self.closure(e1, n, steps)
        for i, (_, _, c, klo, _) in enumerate(pre):
            lo = max(self.kpos(c, self.cum_t - size) - klo, 0)
            hi = self.kpos(c, self.cum_t) - klo
            if hi <= lo:
                continue
            pos = self.rho[c] + np.arange(klo + lo, klo + hi, dtype=np.int64) * self.g
            mixes = e1[i, lo:hi]
            yield i, lo, mixes, np.where(mixes < INF, mixes + self.last_pack(m, j, pos), INF), \
                None if base is None else base[i], None if ef is None else ef[i]

    def last_pack(self, m: int, j: int, pos: np.ndarray) -> np.ndarray:
        """Key of end size j's last pack (bought in m) drawn from positions `pos` to the
        end: its price less the credit of its balance, rounded half up to the fen."""
        size, price = self.ends[j][0], self.ends[j][1]
        left = size - (self.cum_t - pos)
        share, V, scale = m + self.V - self.T, self.V, self.scale
        fen = (2 * left * price * share * 100 + size * V * scale) // (2 * size * V * scale)
        return price * (self.sb + 1) - fen * (scale // 100) * self.sb

    def waste_keys(self, c: int, klo: int, st: np.ndarray, B: int):
        """Cost keys of reaching B from each start (class c, indices klo…) with one lot of
        at least B − p calls; and the lot sizes' lower bounds in steps."""
        pos = self.rho[c] + np.arange(klo, klo + len(st), dtype=np.int64) * self.g
        need = -(-(B - pos) // self.g)
        lot = self.al1[np.minimum(need, self.nl - 1)]
        ok = (st < INF) & (lot < INF) & (need < self.nl)
        return np.where(ok, st + lot, INF)

    def starts_of(self, m: int) -> list[int]:
        """The fresh starts with young nodes in month m."""
        return [a for a in self.fresh if self.is_young(a, m) and self.cap(a) < self.cum_t]

    def stop_keys(self, m: int):
        """(node, cost keys with the stop's fee) of every node in month m."""
        base = int(self.cum[m])
        for c in range(len(self.rho)):
            klo, st = self.mature_start(c, m)
            if len(st):
                u = self.rho[c] + np.arange(klo, klo + len(st), dtype=np.int64) * self.g - base
                yield ("M", c, klo), np.where(st < INF, st + self.fee(m, u) * self.sb, INF)
        for a in self.starts_of(m):
            if True:
                c, klo, _, st = self.young_start(a, m)
                if len(st):
                    u = self.rho[c] + np.arange(klo, klo + len(st), dtype=np.int64) * self.g \
                        - base
                    yield ("Y", a, klo), np.where(st < INF, st + self.fee(m, u) * self.sb,
                                                  INF)

    def stop(self, m: int) -> None:
        """Month m short: the fee of what the stream drew, then a fresh start."""
        best = min((int(keys.min()) for _, keys in self.stop_keys(m) if len(keys)),
                   default=INF)
        if best >= self.threshold:
            return
        self.fresh[m + 1] = best
        self.start_fresh(m + 1)

    # ----------------------------------------------------------------- the tie-break

    def tie_break(self) -> AfterPacksSchedule:
        """Among the plans of the least cost key (cost, then spend), the most calls, then
        the fewest packs: a shortest path over the tight edges only (an edge is tight when
        its source's key plus its own equals its target's: exactly the edges of the
        least-cost plans), searched back from the end."""
        memo: dict = {}                     # node -> (tie-break key, predecessor, lots)
        edges: dict = {}                    # node -> its tight edges
        todo: dict = {}                     # node -> predecessors not yet settled
        stack = [("E",)]
        listed = 0
        # Depth first, predecessors before the node, without recursion.
        while stack:
            self.clock.check()
            node = stack[-1]
            if node in memo:
                stack.pop()
                continue
            if node not in edges:
                edges[node] = self.tight_preds(node)
                todo[node] = list({p for p, _, _ in edges[node] if p is not None})
                listed += len(edges[node])
                if listed > MAX_TIE_EDGES:
                    return self.any_tight_plan()
            waiting = todo[node]
            while waiting and waiting[-1] in memo:
                waiting.pop()
            if waiting:
                stack.append(waiting[-1])
                continue
            stack.pop()
            best = None
            for p, edge2, lots in edges[node]:
                key2 = (0 if p is None else memo[p][0]) + edge2
                if best is None or key2 < best[0]:
                    best = (key2, p, lots)
            assert best is not None, f"no tight way into {node}"
            memo[node] = best
            del edges[node], todo[node]
        lots: list[tuple[int, int]] = []          # (purchase month, steps), last first
        node = ("E",)
        while node is not None:
            _, prev, these = memo[node]
            lots.extend(reversed(these))
            node = prev
        return self.schedule(lots)

    def any_tight_plan(self) -> AfterPacksSchedule:
        """A plan of the least (cost, spend), back from the end along a tight edge into
        each node (every node a least path reaches has one): the tie-break unproven."""
        lots: list[tuple[int, int]] = []
        node = ("E",)
        while node is not None:
            self.clock.check()
            edge = next(self.tight_edges(node), None)
            assert edge is not None, f"no tight way into {node}"
            node, _, these = edge
            lots.extend(reversed(these))
        return replace(self.schedule(lots), tie_break=False)

    def schedule(self, lots: list[tuple[int, int]]) -> AfterPacksSchedule:
        """The purchases of a path's lots ((purchase month, steps), last first)."""
        counts: dict[tuple[int, int], int] = {}
        low = self.T
        for s, steps in lots:                      # last lot first: suffix minimum
            low = min(low, s)
            mix = steps if isinstance(steps, dict) else self.mix(steps)
            for size, k in mix.items():
                counts[low, size] = counts.get((low, size), 0) + k
        return AfterPacksSchedule(counts, self.end // self.sb, self.end % self.sb)

    def key1(self, node) -> int:
        kind = node[0]
        if kind == "E":
            return int(self.end)
        if kind == "F":
            return self.fresh[node[1]]
        if kind == "M":
            return int(self.d1[node[1], node[2]])
        if kind == "P":
            c, k = node[1], node[2]
            klo, st = self._pre_at[c, self.mu(int(self.rho[c]) + k * self.g)]
            return int(st[k - klo])
        a, k = node[1], node[2]
        c = self.class_of[int(self.cum[a]) % self.g]
        return self.fresh[a] + int(self.l1[k - self.kpos(c, int(self.cum[a]))])

    def tight_preds(self, node) -> list:
        """[(predecessor or None for the start, tie-break key of the edge, [(month, steps)
        of its lots in stream order])] of the tight edges into `node`."""
        return list(self.tight_edges(node))

    def tight_edges(self, node):
        """The tight edges into `node` (as tight_preds lists them), one at a time: a walk
        that needs one of them stops there (`any_tight_plan`)."""
        kind = node[0]
        key = self.key1(node)
        if kind == "F":
            a = node[1]
            if a == 0:
                yield (None, 0, [])
                return
            for (what, x, klo), keys in self.stop_keys(a - 1):
                for i in np.nonzero(keys == key)[0]:
                    yield ((what, x, klo + int(i)), 0, [])
            return
        if kind == "Y":
            a, k = node[1], node[2]
            c = self.class_of[int(self.cum[a]) % self.g]
            steps = k - self.kpos(c, int(self.cum[a]))
            lots = [(self.young_months(a)[0], steps)] if steps else []
            yield (("F", a), int(self.l2[steps]), lots)
            return
        if kind == "E":
            p, c, k = self.cum_t, None, None
        else:
            c, k = node[1], node[2]
            p = int(self.rho[c]) + k * self.g
        if kind == "E" and self.prorata:
            yield from self.end_preds(key)
        # A fresh start here (a stop just before, or the horizon's end after one).
        for a, fk in self.fresh.items():
            if self.cap(a) == p and fk == key and (
                    kind == "E" or self.young_months(a)[0] > self.young_months(a)[1]):
                yield (("F", a), 0, [])
        m_hi = self.mu(p - 1) if p > 0 else -1
        if kind == "P":             # before its own month's purchase
            m_hi = min(m_hi, self.mu(p) - 1)
        for m in range(max(0, m_hi - self.V), m_hi + 1):
            if self.r[m] == 0 or self.cap(m + self.V) < p:
                continue
            starts = self.month_nodes(m)
            # Lots that end at p without waste (a node, not the end).
            if kind in ("M", "P") and p <= self.cap(m + self.V):
                for (what, x), c0, klo, st, _ in starts:
                    if c0 != c or (what == "Y" and p < self.cap(x + self.V - 1)):
                        continue
                    hi = min(len(st), k - klo)
                    if hi <= 0:
                        continue
                    off = k - np.arange(klo, klo + hi)
                    hit = np.nonzero((st[:hi] < INF) & (st[:hi] + self.l1[off] == key))[0]
                    steps = off[hit]
                    yield from (((what, x, k0), e2, [(m, n)]) for k0, e2, n in zip(
                        (klo + hit).tolist(), self.l2[steps].tolist(), steps.tolist()))
            # Lots that reach p = cum(s + V) at least, the rest wasted.
            if p not in self._caps:
                continue
            for B, s in self.boundaries(m - self.V + 1, m):
                if B != p or self.prorata and B >= self.cum_t and m + self.V >= self.T:
                    continue
                for (what, x), c0, klo, st, lo_s in starts:
                    if s < lo_s:
                        continue
                    keys = self.waste_keys(c0, klo, st, p)
                    for i in np.nonzero(keys == key)[0]:
                        pos = int(self.rho[c0]) + (klo + int(i)) * self.g
                        x0 = -(-(p - pos) // self.g)
                        top = min(self.nl, x0 + self.smax // self.g + 1)
                        cand = x0 + np.nonzero(self.l1[x0:top] + st[i] == key)[0]
                        j = int(cand[np.argmin(self.l2[cand])])
                        yield ((what, x, klo + int(i)), int(self.l2[j]), [(s, j)])

    def end_preds(self, key: int) -> list:
        """Prorata: the tight end lots (end_lots) into the end, as tight_preds lists them:
        a mix of sizes up to S from a row before its month's purchase, then one pack of S."""
        out = []
        for (m, j), here in self._end_at.items():
            if here != key:
                continue
            size, _, under, _, l1, l2 = self.ends[j]
            over, f1, f2 = self.early[j]
            last = -(size // self.g) * self.pb + 1
            n = (self.cum_t - int(self.cum[m])) // self.g + 2
            for row, lo, mixes, keys, base, ef in self.end_keys(m, j, n, keep=True):
                what, x, _, klo, st = self._pre[m][row]
                early = self._early[m][0][row]
                for t in np.nonzero(keys == key)[0].tolist():
                    # The mixes from each position of the row that make this key: from a
                    # node, or after the larger packs bought the month before.
                    k = lo + t
                    qs = np.arange(0, min(k + 1, len(base)), dtype=np.int64)
                    hit = np.nonzero((base[qs] < INF) & (base[qs] + l1[k - qs] == mixes[t]))[0]
                    for q in hit.tolist():
                        mix = self.mix(k - q, under, l1, l2)
                        mix[size] = mix.get(size, 0) + 1
                        e2 = int(l2[k - q]) + last
                        if q < len(st) and st[q] == base[q]:
                            out.append(((what, x, klo + q), e2, [(m, mix)]))
                        if ef is None or q >= len(ef) or ef[q] != base[q]:
                            continue
                        ps = np.arange(0, min(q, len(early) - 1) + 1, dtype=np.int64)
                        via = np.nonzero((early[ps] < INF) & (early[ps] + f1[q - ps] == ef[q])
                                         & (q > ps))[0]
                        for i in via.tolist():
                            first = self.mix(q - i, over, f1, f2)
                            out.append(((what, x, klo + i), e2 + int(f2[q - i]),
                                        [(m - 1, first), (m, mix)]))
        return out

    def month_nodes(self, m: int) -> list:
        """The nodes of month m after the search: ((kind, class or start), class, first
        lattice index, cost keys, lowest purchase month of their lots)."""
        got = self._starts.get(m)
        if got is None:
            got = []
            for c0 in range(len(self.rho)):
                klo, st = self.mature_start(c0, m)
                if len(st) and st.min() < INF:
                    got.append((("M", c0), c0, klo, st, m - self.V + 1))
            for a in self.starts_of(m):
                c0, klo, _, st = self.young_start(a, m)
                if len(st):
                    got.append((("Y", a), c0, klo, st, a))
            self._starts[m] = got
        return got

    def mix(self, steps: int, packs=None, l1=None, l2=None) -> dict[int, int]:
        """The packs of the lot of `steps`·g calls with the least spend, fewest packs (of
        `packs` priced in `l1`, `l2`; else the search's own)."""
        if packs is None:
            packs, l1, l2 = self.packs, self.l1, self.l2
        return mix_of(steps, packs, self.g, self.sb, self.pb, l1, l2)


def mix_of(steps: int, packs, g: int, sb: int, pb: int, l1, l2) -> dict[int, int]:
    """The packs (size -> count) of the lot of `steps`·g calls whose keys `_lot_keys` gave
    as l1[steps], l2[steps], traced back one pack at a time."""
    out: dict[int, int] = {}
    k = steps
    while k > 0:
        for size, q in packs:
            j = k - size // g
            d1, d2 = q * (sb + 1), -(size // g) * pb + 1
            if j >= 0 and l1[j] < INF and l1[j] + d1 == l1[k] and l2[j] + d2 == l2[k]:
                out[size] = out.get(size, 0) + 1
                k = j
                break
        else:
            raise AssertionError("pack mix back-tracking failed")
    return out
