"""The dynamic program of dynamic.py as one compiled loop per product (numba, optional).

dynamic.py moves a month's labels forward with NumPy: right for a few products with many
labels, but a plan of a thousand small products spends its time in NumPy's per-call
overhead (a product needs a few hundred small array operations). This module runs the same
search, label by label, in one function that numba compiles to machine code: purchase
options, moves, pruning and the path back. It covers what the search does without prorata
carry-over (any month, and start mode's purchases in the first month); prorata stays in
dynamic.py.

Same search, same answer: the options of a month are the capacities no larger one matches
in (spend, packs), each with the smallest pack of some cheapest mix; the moves are those of
`dynamic._buy_capacities`; each month keeps the labels no other beats (balance up; cost,
spend, more calls, fewer packs), and among identical labels the one made first, in the
order dynamic.py makes them (months in order; from each label no purchase, then every
capacity). Its frontier is kept sorted as a staircase (balance down, and so the plan order
down too), into which every move is inserted as it is made: a move some kept label beats is
dropped at once, and one that beats kept labels removes them.

numba is imported only here, and this module only when a plan is large enough for the
compile-once, cache-on-disk cost to pay (`dynamic.COMPILED_FROM`); without numba,
`available()` is False and dynamic.py's NumPy search runs instead.
"""

from __future__ import annotations

import sys
import threading

import numpy as np

INF = np.iinfo(np.int64).max // 4      # as knapsack.INF
FIELDS = 9          # balance, cost, spend, calls, packs, pred month, pred index, kind, option
B, COST, SPEND, CALLS, PACKS, PMONTH, PINDEX, KIND, OPTION = range(FIELDS)

try:                                    # optional: the NumPy search runs without it
    import numba
    from numba import njit
    from numba.typed import List
except ImportError:                     # pragma: no cover - numba is a dependency
    numba = None


def available() -> bool:
    return numba is not None


def _py(f):
    return f


jit = njit(cache=True, nogil=True) if numba is not None else _py


@jit
def _beats(a, b):
    """Row a strictly before row b in the plan order: cost, spend, more calls, fewer
    packs."""
    if a[COST] != b[COST]:
        return a[COST] < b[COST]
    if a[SPEND] != b[SPEND]:
        return a[SPEND] < b[SPEND]
    if a[CALLS] != b[CALLS]:
        return a[CALLS] > b[CALLS]
    return a[PACKS] < b[PACKS]


@jit
def _insert(store, size, row):
    """Insert `row` into the staircase store[:size] (balance strictly down, plan order
    strictly better along it); returns (store, new size), the store grown when full."""
    b = row[B]
    lo, hi = 0, size                    # first index with balance <= b
    while lo < hi:
        mid = (lo + hi) // 2
        if store[mid, B] > b:
            lo = mid + 1
        else:
            hi = mid
    pos = lo
    last = pos                          # last index with balance >= b
    if pos < size and store[pos, B] == b:
        last = pos + 1
    if last > 0 and not _beats(row, store[last - 1]):
        return store, size              # a label with as much balance is as good: drop
    end = pos                           # the labels this one beats: [pos, end)
    while end < size and not _beats(store[end], row):
        end += 1
    removed = end - pos
    if removed == 0 and size == store.shape[0]:
        grown = np.empty((2 * store.shape[0], FIELDS), dtype=np.int64)
        grown[:size] = store[:size]
        store = grown
    if removed != 1:
        store[pos + 1:size - removed + 1] = store[end:size].copy()
    store[pos] = row
    return store, size - removed + 1


@jit
def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


@jit
def _knapsack(sizes, prices, mask, step, n):
    """Least spend, then fewest packs, of every exact capacity k·step, k < n, over the
    packs in `mask` (INF where no mix has it)."""
    spend = np.full(n, INF, dtype=np.int64)
    packs = np.zeros(n, dtype=np.int64)
    spend[0] = 0
    for k in range(1, n):
        best, bestp = INF, 0
        for i in range(len(sizes)):
            if not mask[i]:
                continue
            q = sizes[i] // step
            if q <= k and spend[k - q] < INF:
                c = spend[k - q] + prices[i]
                p = packs[k - q] + 1
                if c < best or (c == best and p < bestp):
                    best, bestp = c, p
        spend[k] = best
        packs[k] = bestp
    return spend, packs


@jit
def _chains(spend, packs):
    """For every k: the largest k' < k with a strictly smaller (spend, packs), and the
    largest k' <= k with any mix at all (-1: none). With them, a month's capacities are
    read off a chain instead of a scan of the whole lattice."""
    n = len(spend)
    prev = np.full(n, -1, dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    top = 0
    for k in range(n):
        while top > 0:
            j = stack[top - 1]
            if spend[j] < spend[k] or (spend[j] == spend[k] and packs[j] < packs[k]):
                break
            top -= 1
        prev[k] = stack[top - 1] if top > 0 else -1
        stack[top] = k
        top += 1
        last[k] = k if spend[k] < INF else (last[k - 1] if k > 0 else -1)
    return prev, last


@jit
def _options(sizes, prices, mask, step, spend, packs, prev, last, limit):
    """The capacities of `dynamic.pareto_caps` (below `limit`, no larger one as cheap in
    (spend, packs)), ascending, with their spend, packs and smallest pack of a best mix:
    from the last lattice point below `limit` with a mix, back along `prev`."""
    n = min(len(spend), -(-limit // step))
    count = 0
    k = last[n - 1]
    while k > 0:
        count += 1
        k = prev[k]
    caps = np.empty(count, dtype=np.int64)
    cost = np.empty(count, dtype=np.int64)
    cnt = np.empty(count, dtype=np.int64)
    small = np.empty(count, dtype=np.int64)
    j = count
    k = last[n - 1]
    while k > 0:
        j -= 1
        caps[j] = k * step
        cost[j] = spend[k]
        cnt[j] = packs[k]
        smallest = INF
        for i in range(len(sizes)):     # ascending sizes: the first hit is the smallest
            if not mask[i]:
                continue
            q = sizes[i] // step
            if q <= k and spend[k - q] < INF and spend[k - q] + prices[i] == spend[k] \
                    and packs[k - q] + 1 == packs[k]:
                smallest = sizes[i]
                break
        small[j] = smallest
        k = prev[k]
    return caps, cost, cnt, small


@jit
# Long (130 lines): a numba-compiled loop; calls between compiled functions would cost
# what the kernel exists to save (benchmarks/README.md).
def _search(T, V, resid, rate, cum, nxt, later_max, sizes, prices, start_only, ceiling,
            widest):
    """The search; returns (purchase months, capacities, mixes, cost, spend) of the best
    plan."""
    stores = List()
    sizes_of = np.zeros(T + 1, dtype=np.int64)
    for _ in range(T + 1):
        stores.append(np.empty((4, FIELDS), dtype=np.int64))
    start = np.zeros(FIELDS, dtype=np.int64)
    start[PMONTH] = -1
    start[PINDEX] = -1
    stores[0][0] = start
    sizes_of[0] = 1
    row = np.zeros(FIELDS, dtype=np.int64)
    nsz = len(sizes)
    # Knapsacks by pack set (the useful packs only shrink as the months go by).
    cur_mask = np.zeros(nsz, dtype=np.bool_)
    kn_spend = np.zeros(0, dtype=np.int64)
    kn_packs = np.zeros(0, dtype=np.int64)
    kn_prev = np.zeros(0, dtype=np.int64)
    kn_last = np.zeros(0, dtype=np.int64)
    kn_step = 0
    for t in range(T):
        n = sizes_of[t]
        if n == 0:
            continue
        labels = stores[t]
        # No purchase: the rest of month t is postpaid, the next month starts empty.
        dest = nxt[t + 1]
        for i in range(n):
            row[B] = 0
            row[COST] = labels[i, COST] + rate[t] * (resid[t] - labels[i, B])
            if row[COST] > ceiling:
                continue
            row[SPEND] = labels[i, SPEND]
            row[CALLS] = labels[i, CALLS]
            row[PACKS] = labels[i, PACKS]
            row[PMONTH] = t
            row[PINDEX] = i
            row[KIND] = 0
            row[OPTION] = 0
            stores[dest], sizes_of[dest] = _insert(stores[dest], sizes_of[dest], row)
        if (start_only and t > 0) or (not start_only and resid[t] == 0):
            continue
        mask = np.zeros(nsz, dtype=np.bool_)
        biggest = 0
        for i in range(nsz):
            if prices[i] < sizes[i] * later_max[t]:
                mask[i] = True
                biggest = max(biggest, sizes[i])
        e = min(t + V - 1, T - 1)
        cover = cum[e + 1] - cum[t]
        if biggest == 0 or cover == 0:
            continue
        limit = cover + biggest
        same = kn_step > 0
        for i in range(nsz):
            if mask[i] != cur_mask[i]:
                same = False
        if not same:
            step = 0
            for i in range(nsz):
                if mask[i]:
                    step = _gcd(step, sizes[i])
            top = max(limit, widest + biggest)
            kn_spend, kn_packs = _knapsack(sizes, prices, mask, step, top // step + 1)
            kn_prev, kn_last = _chains(kn_spend, kn_packs)
            kn_step = step
            cur_mask[:] = mask
        caps, cprice, ccount, csmall = _options(sizes, prices, mask, kn_step, kn_spend,
                                                kn_packs, kn_prev, kn_last, limit)
        e = t + V - 1
        after = nxt[t + 1]
        c_next = cum[t + 1]
        for i in range(n):
            b = labels[i, B]
            land = t                    # the last m with cum[m] <= P (P grows with j)
            for j in range(len(caps)):
                P = cum[t] + b + caps[j]
                while land < T and cum[land + 1] <= P:
                    land += 1
                short = P < c_next
                carry = (not short) and land < T and land <= e
                ends = (not short) and land >= T and e >= T - 1
                cost = labels[i, COST] + cprice[j]
                b2 = 0
                if short:
                    d = after
                    cost += rate[t] * (c_next - P)
                elif carry:
                    d = land
                    b2 = P - cum[land]
                    if b2 >= csmall[j] and not start_only:
                        continue        # a pack it could spare is as well bought later
                elif ends:
                    d = T
                else:
                    d = nxt[e + 1]
                if cost > ceiling:
                    continue
                row[B] = b2
                row[COST] = cost
                row[SPEND] = labels[i, SPEND] + cprice[j]
                row[CALLS] = labels[i, CALLS] + caps[j]
                row[PACKS] = labels[i, PACKS] + ccount[j]
                row[PMONTH] = t
                row[PINDEX] = i
                row[KIND] = 1
                row[OPTION] = caps[j]
                stores[d], sizes_of[d] = _insert(stores[d], sizes_of[d], row)
    # The best label at the horizon's end, then back through its predecessors.
    end = stores[T]
    months = np.empty(T, dtype=np.int64)
    caps_out = np.empty(T, dtype=np.int64)
    if sizes_of[T] == 0:
        return months[:0], caps_out[:0], np.zeros((0, nsz), dtype=np.int64), -1, -1
    at = end[0]
    cost, spend = at[COST], at[SPEND]
    k = 0
    while at[PMONTH] >= 0:
        t = at[PMONTH]
        if at[KIND] == 1:
            months[k] = t
            caps_out[k] = at[OPTION]
            k += 1
        at = stores[t][at[PINDEX]]
    mixes = np.zeros((k, nsz), dtype=np.int64)
    for r in range(k):
        _mix(sizes, prices, later_max[months[r]], caps_out[r], mixes[r])
    return months[:k], caps_out[:k], mixes, cost, spend


@jit
def _mix(sizes, prices, rate_to_beat, cap, out):
    """The packs of `cap` as dynamic.py picks them (`Knapsack.mix` over the month's useful
    packs): back from the top, the smallest pack that keeps (spend, packs) least."""
    mask = np.zeros(len(sizes), dtype=np.bool_)
    step = 0
    for i in range(len(sizes)):
        if prices[i] < sizes[i] * rate_to_beat:
            mask[i] = True
            step = _gcd(step, sizes[i])
    k = cap // step
    spend, packs = _knapsack(sizes, prices, mask, step, k + 1)
    while k > 0:
        found = False
        for i in range(len(sizes)):
            if not mask[i]:
                continue
            q = sizes[i] // step
            if q <= k and spend[k - q] < INF and spend[k - q] + prices[i] == spend[k] \
                    and packs[k - q] + 1 == packs[k]:
                out[i] += 1
                k -= q
                found = True
                break
        if not found:
            raise AssertionError("knapsack backtrack failed")


_loaded = False
_load_lock = threading.Lock()


def _load() -> None:
    """Load the compiled search from numba's cache, once per process (and once for all
    threads). Loading, numba's NumPy support probes SciPy's BLAS, importing scipy.linalg
    (0.1 s); the search uses no linear algebra, so scipy.linalg is hidden from that probe
    unless something imported it already."""
    global _loaded
    with _load_lock:
        if _loaded:
            return
        hide = "scipy.linalg" not in sys.modules
        if hide:
            sys.modules["scipy.linalg"] = None  # `import scipy.linalg...` raises ImportError
        try:
            def a(*values):
                return np.array(values, dtype=np.int64)
            # one month of 5 calls at 2 a call, one pack of 5 calls for 5: buy it
            _search(np.int64(1), np.int64(12), a(5), a(2), a(0, 5), a(0, 1), a(2, 0), a(5),
                    a(5), False, np.int64(10), np.int64(5))
        finally:
            if hide and sys.modules.get("scipy.linalg", 0) is None:
                del sys.modules["scipy.linalg"]
        _loaded = True


def search(T, V, resid, rate, cum, nxt, later_max, sizes, prices, start_only, ceiling,
           widest):
    """`_search` on int64 arrays: (purchase months, capacities, packs of each size bought
    with each, cost, spend), latest purchase first; cost -1 when no plan reached the end."""
    if not _loaded:
        _load()
    i64 = np.int64
    return _search(i64(T), i64(V), resid.astype(i64), rate.astype(i64), cum.astype(i64),
                   nxt.astype(i64), later_max.astype(i64), np.asarray(sizes, dtype=i64),
                   np.asarray(prices, dtype=i64), bool(start_only), i64(ceiling), i64(widest))
