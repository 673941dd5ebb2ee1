"""Exact any-month schedule of one product under the `after-packs` tier basis with a cap
on each month's prepaid spend (a monthly budget, or the room other products leave).

after_packs.py plans the same product without caps as a shortest path over positions in
the stream of lots; this module keeps its facts (read its docstring first) and drops the
one a cap breaks: that a lot can be bought in the month its first call is drawn, so that
purchase months follow from positions. Under a cap, buying ahead can pay (two months'
room for one month's calls), so the purchase month becomes part of the path:

1. **One purchase month, one lot.** New packs share one validity, so packs bought in
   the same month expire together and are drawn as one lot, and lots are drawn in
   purchase order. A plan is a chain of lots bought in months s_1 < s_2 < … (each month's
   purchase within that month's cap), drawn one after another along the positions of
   cumulative demand, cut by *stops*: months not fully covered, which drain every live
   lot (packs are drawn automatically) and pay the fee of the calls left.
2. **Which chains are plans.** Lot i starts at position p (where the lot before it ran
   out or lapsed) and ends at min(p + C, cum(s + V)). It must have been bought by the
   month μ(p) that position falls in (else that month is a stop) and still be valid
   there: μ(p) − V < s ≤ μ(p), and s above the previous lot's month. After a stop in
   month μ the next lot is bought after μ (one bought earlier and valid in μ is drained
   there). A lot never drawn only costs, so no optimal plan has one. Conversely every such
   chain is billing's draw of its purchases.
3. **Months in order.** Process purchase months s = 0, 1, …: the states that may buy in
   s are the positions p with μ(p) ∈ [s, s + V − 1] reached by lots bought before s
   (or by a stop before s). Buying C calls in s moves p to p + C, or to the lapse
   boundary cum(s + V) with the rest wasted (priced by the cheapest lot of at least the
   calls to it); those states may buy again from s + 1 on. Then month s may stop: the
   fee of its calls beyond p, and a fresh state at cum(s + 1) that buys after s. A state
   whose position lies before month s can no longer buy, so one array over positions
   carries every state.
4. **Keys.** As in after_packs.py: cost·SB + spend, then −calls·PB + packs, both adding
   along a path, compared lexicographically, so keeping the least pair per state is
   exact and the path found is the tie-break's plan. Each state keeps the move that set
   it; each month's states before its purchases are kept for the way back.

Work is months × lot sizes under the cap × positions in a validity window; the search
declines (None: the integer program takes the product) when that is too large, for
prorata credit, and for holdings that outlive new packs (the caller checks those).
"""

from __future__ import annotations

import math

import numpy as np

from ..domain.catalog import Product
from ..domain.money import to_units
from .after_packs import (HALF, INF, AfterPacksSchedule, _lexcummin, _lot_keys, fee_terms,
                          mix_of)
from .clock import UNLIMITED, Clock

MAX_WORK = 400_000_000      # cell updates (months × lot sizes × window cells); more: decline
MAX_KEPT = 5_000_000        # cells of the months' states kept for the way back (29 bytes)

LOT, START, REACH, STOP = 0, 1, 2, 3     # how a state was reached (its move's kind)


def capped_after_packs_schedule(product: Product, calls, resid, validity: int, scale: int,
                                room, clock: Clock = UNLIMITED) -> AfterPacksSchedule | None:
    """The cheapest any-month purchases for one product under the after-packs basis with
    at most `room[m]` money units of prepaid spend in month m (among equal costs: least
    spend, most calls, fewest packs); None when the search would be too large.

    `calls[m]`: the month's calls; `resid[m]`: what new packs can serve (after the free
    quota and the holdings that expire before any new pack). `clock`: raises OutOfTime
    between months once it runs out.
    """
    T, V = len(resid), validity
    r, w, bounds, rates = fee_terms(product, calls, resid, scale)

    def fee(m: int, u: np.ndarray) -> np.ndarray:
        return (r[m] - u) * rates[np.searchsorted(bounds, w[m] - u, side="left")]

    ceiling = sum(int(fee(m, np.zeros(1, dtype=np.int64))[0]) for m in range(T))
    cum = np.zeros(T + 1, dtype=np.int64)
    cum[1:] = np.cumsum(r)
    cum_t = int(cum[T])
    top_room = max((int(x) for x in room), default=0)
    priced = [(p.calls, to_units(p.price, scale)) for p in product.packs]
    if any(q <= 0 for _, q in priced):
        return None
    packs = sorted((sz, q) for sz, q in priced if q < ceiling and q <= top_room)
    if not packs or cum_t == 0:
        return AfterPacksSchedule({}, ceiling, 0)
    g = math.gcd(*(sz for sz, _ in packs))
    widest = max(int(cum[min(m + V, T)] - cum[m]) for m in range(T))
    smax = max(sz for sz, _ in packs)
    nl = (widest + smax) // g + 2                    # lot lengths priced, in steps
    classes = sorted({int(c) % g for c in cum})
    span = widest // g + 2                           # a window's positions per class
    sb = ceiling + 2
    pb = (sb - 1) // min(q for _, q in packs) + 2
    threshold = (ceiling + 1) * sb
    worst_fee = int(r.max()) * int(rates.max())
    if nl > MAX_KEPT or len(classes) * span * T > MAX_KEPT or \
            threshold + (2 * (top_room + 1) + worst_fee) * (sb + 1) >= HALF or \
            (cum_t // g + T * nl + 1) * pb * 4 >= HALF:
        return None
    l1, l2 = _lot_keys([(sz // g, q) for sz, q in packs], nl, sb, pb)
    price = np.where(l1 < INF, l1 // (sb + 1), INF)
    # The largest lot any month can afford bounds the work.
    steps_max = int(np.nonzero(price <= top_room)[0].max())
    if T * min(steps_max, span) * len(classes) * span > MAX_WORK:
        return None
    return _Capped(T, V, r, cum, g, classes, nl, l1, l2, price, sb, pb, threshold, fee,
                   [int(x) for x in room], clock).run(packs)


class _Capped:
    """The months of the module docstring, then the way back."""

    def __init__(self, T, V, r, cum, g, classes, nl, l1, l2, price, sb, pb, threshold, fee,
                 room, clock):
        self.T, self.V, self.r, self.cum, self.g = T, V, r, cum, g
        self.rho = np.array(classes, dtype=np.int64)
        self.class_of = {c: i for i, c in enumerate(classes)}
        self.nl, self.l1, self.l2, self.price = nl, l1, l2, price
        self.sb, self.pb, self.threshold, self.fee, self.room = sb, pb, threshold, fee, room
        self.clock = clock
        self.cum_t = int(cum[T])
        nk = self.cum_t // g + 2
        C = len(classes)
        # Every state: its keys and how it was reached (month of the move, kind, and the
        # move's lot steps or source index).
        self.k1 = np.full((C, nk), INF, dtype=np.int64)
        self.k2 = np.zeros((C, nk), dtype=np.int64)
        self.by_month = np.full((C, nk), -1, dtype=np.int32)
        self.by_kind = np.zeros((C, nk), dtype=np.int8)
        self.by_arg = np.zeros((C, nk), dtype=np.int64)
        self.kept: dict[int, tuple] = {}         # month -> its sources before its purchase
        self.reach: dict[int, tuple] = {}        # month -> (class, index, steps) of REACH
        self.stops: dict[int, tuple] = {}        # month -> (class, index, its move) of
                                                 #   the state its stop starts from

    def kpos(self, c: int, p: int) -> int:
        """Lattice index of class c at or after position p."""
        return -(-(p - int(self.rho[c])) // self.g)

    def cap(self, j: int) -> int:
        return int(self.cum[min(j, self.T)])

    def run(self, packs) -> AfterPacksSchedule:
        c0 = self.class_of[0]
        self.k1[c0, 0], self.k2[c0, 0], self.by_kind[c0, 0] = 0, 0, START
        for m in range(self.T):
            self.clock.check()
            self.month(m)
        ce = self.class_of[self.cum_t % self.g]
        ke = self.kpos(ce, self.cum_t)
        assert self.k1[ce, ke] < INF, "buying nothing always reaches the end"
        key = int(self.k1[ce, ke])
        counts: dict[tuple[int, int], int] = {}
        for s, steps in self.way_back(ce, ke):
            for size, k in mix_of(steps, packs, self.g, self.sb, self.pb, self.l1,
                                  self.l2).items():
                counts[s, size] = counts.get((s, size), 0) + k
        return AfterPacksSchedule(counts, key // self.sb, key % self.sb)

    def month(self, m: int) -> None:
        B = self.cap(m + self.V)
        lo_p, C = int(self.cum[m]), len(self.rho)
        klo = [self.kpos(c, lo_p) for c in range(C)]
        kin = [self.kpos(c, B) for c in range(C)]           # first index at or after B
        width = max(kin[c] - klo[c] for c in range(C))
        # H: the states reached by month m's lots (positions from cum(m) up to B).
        h1 = np.full((C, width + 1), INF, dtype=np.int64)
        h2 = np.zeros((C, width + 1), dtype=np.int64)
        hk = np.zeros((C, width + 1), dtype=np.int8)
        ha = np.zeros((C, width + 1), dtype=np.int64)
        afford = self.price <= self.room[m]
        if width > 0 and afford[1:].any():
            s1 = np.full((C, width), INF, dtype=np.int64)
            s2 = np.zeros((C, width), dtype=np.int64)
            for c in range(C):
                n = kin[c] - klo[c]
                s1[c, :n], s2[c, :n] = self.k1[c, klo[c]:kin[c]], self.k2[c, klo[c]:kin[c]]
            self.keep(m, klo, kin)
            live = np.nonzero((s1 < INF).any(axis=1))[0]
            if len(live):
                self.lots(m, s1, s2, live, klo, kin, width, afford, h1, h2, hk, ha, B)
        # Month m stops: from every state whose position lies in month m.
        if self.r[m] > 0:
            self.stop(m, klo, h1, h2, hk, ha)
        # H joins the states that may buy from month m + 1 on.
        for c in range(C):
            n = min(width + 1, self.k1.shape[1] - klo[c])
            if n <= 0:
                continue
            sl = slice(klo[c], klo[c] + n)
            a1, a2 = h1[c, :n], h2[c, :n]
            better = (a1 < self.k1[c, sl]) | ((a1 == self.k1[c, sl]) & (a2 < self.k2[c, sl]))
            better &= a1 < INF
            if better.any():
                idx = np.nonzero(better)[0] + klo[c]
                self.k1[c, idx], self.k2[c, idx] = a1[better], a2[better]
                self.by_month[c, idx] = m
                self.by_kind[c, idx] = hk[c, :n][better]
                self.by_arg[c, idx] = ha[c, :n][better]

    def keep(self, m: int, klo, kin) -> None:
        """Month m's sources as they are before its purchases: their keys and moves."""
        rows = []
        for c in range(len(self.rho)):
            sl = slice(klo[c], kin[c])
            rows.append((self.k1[c, sl].copy(), self.k2[c, sl].copy(),
                         self.by_month[c, sl].copy(), self.by_kind[c, sl].copy(),
                         self.by_arg[c, sl].copy()))
        self.kept[m] = (klo, rows)

    def lots(self, m, s1, s2, live, klo, kin, width, afford, h1, h2, hk, ha, B) -> None:
        """Month m's lots from its sources `s1`, `s2` (rows `live`): those that end before
        B without waste, and those that reach B at least."""
        l1 = np.where(afford, self.l1, INF)
        top = min(width, int(np.nonzero(afford)[0].max()))
        S1, S2 = s1[live], s2[live]
        H1, H2, HA = h1[live], h2[live], ha[live]
        for j in range(1, top + 1):
            if l1[j] >= INF:
                continue
            c1 = S1[:, :width - j] + l1[j]
            c2 = S2[:, :width - j] + self.l2[j]
            t1, t2 = H1[:, j:width], H2[:, j:width]
            better = (c1 < t1) | ((c1 == t1) & (c2 < t2))
            if better.any():
                t1[better], t2[better] = c1[better], c2[better]
                HA[:, j:width][better] = j
        H1[H1 >= self.threshold] = INF
        h1[live], h2[live], ha[live] = H1, H2, HA
        hk[live] = np.where(H1 < INF, LOT, 0).astype(np.int8)
        for c in live:
            h1[c, kin[c] - klo[c]:] = INF       # lots without waste end before B
        # Lots of at least the calls to B: the least keys over every larger lot.
        a1, a2 = _lexcummin(l1[::-1].copy(), self.l2[::-1].copy())
        a1, a2 = a1[::-1], a2[::-1]
        best = None
        for c in live.tolist():
            n = kin[c] - klo[c]
            if n <= 0:
                continue
            pos = self.rho[c] + (klo[c] + np.arange(n, dtype=np.int64)) * self.g
            need = -(-(B - pos) // self.g)
            ok = (need < self.nl) & (s1[c, :n] < INF)
            need = np.minimum(need, self.nl - 1)
            k1 = np.where(ok & (a1[need] < INF), s1[c, :n] + a1[need], INF)
            k2 = s2[c, :n] + a2[need]
            i = _lexargmin(k1, k2)
            if k1[i] < INF and (best is None or (k1[i], k2[i]) < best[:2]):
                best = (int(k1[i]), int(k2[i]), c, i, int(need[i]))
        if best is None or best[0] >= self.threshold:
            return
        k1, k2, c, i, need = best
        # The lot itself: the one of at least `need` steps with the least keys.
        cand = need + np.nonzero((l1[need:] == a1[need]) & (self.l2[need:] == a2[need]))[0]
        steps = int(cand[0])
        cb = self.class_of[B % self.g]
        kb = self.kpos(cb, B) - klo[cb]
        if (k1, k2) < (int(h1[cb, kb]), int(h2[cb, kb])):
            h1[cb, kb], h2[cb, kb], hk[cb, kb], ha[cb, kb] = k1, k2, REACH, 0
            self.reach[m] = (c, klo[c] + i, steps)

    def stop(self, m, klo, h1, h2, hk, ha) -> None:
        """Month m short: the fee of the calls beyond each state's position, then a fresh
        state at cum(m + 1) (the end when that is the horizon's)."""
        base, end = int(self.cum[m]), int(self.cum[m + 1])
        best = None
        for c in range(len(self.rho)):
            k0, k1_ = self.kpos(c, base), self.kpos(c, end)
            if k1_ <= k0:
                continue
            here = slice(k0 - klo[c], k1_ - klo[c])
            g1, g2 = self.k1[c, k0:k1_], self.k2[c, k0:k1_]
            a1, a2 = h1[c, here], h2[c, here]
            use_h = (a1 < g1) | ((a1 == g1) & (a2 < g2))
            e1, e2 = np.where(use_h, a1, g1), np.where(use_h, a2, g2)
            u = self.rho[c] + np.arange(k0, k1_, dtype=np.int64) * self.g - base
            e1 = np.where(e1 < INF, e1 + self.fee(m, u) * self.sb, INF)
            i = _lexargmin(e1, e2)
            if e1[i] < INF and (best is None or (int(e1[i]), int(e2[i])) < best[:2]):
                best = (int(e1[i]), int(e2[i]), c, k0 + i, bool(use_h[i]))
        if best is None or best[0] >= self.threshold:
            return
        k1, k2, c, k, from_h = best
        if from_h:
            # Reached by month m's own lot: its move as H holds it.
            src = (m, int(hk[c, k - klo[c]]), int(ha[c, k - klo[c]]))
        else:
            src = (int(self.by_month[c, k]), int(self.by_kind[c, k]), int(self.by_arg[c, k]))
        ct = self.class_of[end % self.g]
        kt = self.kpos(ct, end) - klo[ct]
        if (k1, k2) < (int(h1[ct, kt]), int(h2[ct, kt])):
            h1[ct, kt], h2[ct, kt], hk[ct, kt], ha[ct, kt] = k1, k2, STOP, 0
            self.stops[m] = (c, k, src)

    def way_back(self, c: int, k: int) -> list[tuple[int, int]]:
        """The lots (purchase month, steps) of the path into state (c, k)."""
        lots = []
        move = (int(self.by_month[c, k]), int(self.by_kind[c, k]), int(self.by_arg[c, k]))
        while True:
            m, kind, arg = move
            if kind == START:
                return lots
            if kind == STOP:
                c, k, move = self.stops[m]
                continue
            if kind == REACH:
                c, k, steps = self.reach[m]
            else:
                steps, k = arg, k - arg
            lots.append((m, steps))
            klo, rows = self.kept[m]
            _, _, bm, bk, ba = rows[c]
            i = k - klo[c]
            move = (int(bm[i]), int(bk[i]), int(ba[i]))


def _lexargmin(k1: np.ndarray, k2: np.ndarray) -> int:
    """Index of the lexicographically least pair (k1, k2)."""
    low = k1 == k1.min()
    return int(np.nonzero(low)[0][np.argmin(k2[low])])
