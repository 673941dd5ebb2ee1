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
  wins (docs/pricing.md, 'Optimality'), kept as a second key all the way through.

With `prorata` carry-over, the last purchase's unexpired balance is credited as the billing
engine values it: each pack size's lot at its price per call times the unexpired share of
validity, rounded half up to the fen (the month's largest packs are drawn last, so they hold
the balance). That credit depends on the mix, not only on the capacity, so purchases that
reach the horizon's end are enumerated as mixes. Which pack holds the balance can also be
chosen by the month of purchase: billing draws earlier expiries first, so the end mix's
packs larger than size s, bought the month before (even a month without calls), are drawn
before the month's own packs and leave the balance in a pack of size s, dearer per call.
Some optimal plan has this form: a purchase row left wholly unused can be dropped (its
credit, rounded half up, is at most its price), so one row P holds the balance (a partial
pack, perhaps with unused ones of its size); every pack bought after P's would be drawn
after it, so none is, and P is best bought in the month its first call is drawn (the
same draws, a larger share); everything drawn before P is used up in that month t, so the
packs larger than P that the end needs are bought in t - 1, drawn in t whatever their
month, provided nothing draws on them before: month t - 1 paid no postpaid (a label
records it, `Labels.covered`, and beats an uncovered one, never the reverse). Earlier
months are no better (an earlier expiry) and after a month with postpaid impossible.

The code follows the sketch: `_problem` gathers what every month needs (`Problem`),
`_month_options` lists a month's purchases, `_extend` moves one month's labels forward
through a `Queue` that prunes them, and `_backtrack` reads the chosen purchases back from
the horizon's end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..domain.catalog import Product
from ..domain.money import to_units
from ..exceptions import SolverError
from .clock import UNLIMITED, Clock
from .demand import count_bounds
from .knapsack import INF, Knapsack

CHUNK = 1 << 20      # labels × purchases expanded at once (bounds memory)
COMPACT = 1 << 20    # queued labels of one month before they are pruned
MAX_MIXES = 2_000_000   # end-of-horizon pack mixes priced with prorata carry-over
# With prorata, moves made (labels × purchases, over the months) before the search gives the
# product to the integer program: a fine lattice times many end mixes grows without bound
# (a 2-month forecast with 1-call packs: 1.8 billion moves, 138 s, where the cohort integer
# program takes 0.03 s; 24 months of it: not done in 600 s, against 7 s). About 2 s of
# moves here; no product of the bundled example or of a 9 × 24 family makes 1.2 million.
MAX_MOVES = 20_000_000
COMPILED_FROM = 1_000   # product-months from which a plan uses the compiled search
MAX_LATTICE = 2_000_000  # knapsack lattice points (as curves.MAX_POINTS); larger: decline

# What a label's predecessor month bought (`Labels.kind`); `Labels.option` says which.
NOTHING = 0          # no purchase
CAPACITY = 1         # a capacity: index into that month's `MonthOptions.caps`
END_MIX = 2          # (prorata) a mix lasting to the horizon's end: index into `mix_counts`


@dataclass(frozen=True)
class Schedule:
    """One product's optimal purchases and what the dynamic program says they cost."""

    counts: dict            # (month index, pack size) -> packs bought
    objective: int          # cost less any carry-over credit, money units
    spend: int              # prepaid spend, money units


class Labels(NamedTuple):
    """The states (t, b) of one month with how they were reached, as parallel arrays."""

    balance: np.ndarray      # calls carried into the month (b)
    cost: np.ndarray         # cost so far (less any carry-over credit), money units
    spend: np.ndarray        # prepaid spend so far, money units
    calls: np.ndarray        # calls bought so far (tie-break: more is better)
    packs: np.ndarray        # packs bought so far (tie-break: fewer is better)
    pred_month: np.ndarray   # month of the label this one extends (-1: the start)
    pred_index: np.ndarray   # its index among that month's kept labels
    kind: np.ndarray         # NOTHING | CAPACITY | END_MIX: what the predecessor month bought
    option: np.ndarray       # which capacity or end mix
    covered: np.ndarray      # (prorata) the month before paid no postpaid: the end move may
                             # buy there (always True where that cannot matter)

    def take(self, which) -> Labels:
        return Labels(*(a[which] for a in self))

    @staticmethod
    def join(parts: list[Labels]) -> Labels:
        return Labels(*(np.concatenate(a) for a in zip(*parts)))

    def frontier(self) -> Labels:
        """The labels no other beats (see `_pareto_covered`)."""
        return self.take(_pareto_covered(self.covered, self.balance, self.cost, self.spend,
                                         self.calls, self.packs))


class Moves(NamedTuple):
    """Labels proposed by one kind of move from month t, before they are pruned."""

    dest: np.ndarray         # month each lands in (T: the horizon's end)
    balance: np.ndarray
    cost: np.ndarray
    spend: np.ndarray
    calls: np.ndarray
    packs: np.ndarray
    pred_index: np.ndarray   # index of the label in month t it extends
    option: np.ndarray       # which capacity or end mix (unused for NOTHING)
    covered: np.ndarray      # see Labels.covered


@dataclass(frozen=True)
class Problem:
    """One product's data in money units and calls, as every month of the search needs it."""

    product: Product
    T: int                      # months
    V: int                      # validity in months
    resid: np.ndarray           # calls new packs can serve, per month
    rate: np.ndarray            # postpaid rate per call, per month
    cum: np.ndarray             # cum[m]: residual calls of months 0..m-1
    nxt: np.ndarray             # nxt[m]: next month with demand, from m on (T: none)
    later_max: np.ndarray       # later_max[m]: highest rate from month m on
    price: dict                 # pack size -> price
    credit_frac: dict           # pack size -> prorata credit per call-month, (a, c) as a/c
    fen: int                    # money units per fen
    margin: int                 # prorata: how far a useless pack must beat the rate
    ceiling: int                # cost of buying nothing; dearer labels are dropped
    widest: int                 # largest validity window's demand
    start_only: bool
    prorata: bool
    knaps: dict = field(default_factory=dict)    # pack set -> its Knapsack

    def covered(self, dest: np.ndarray, covered) -> np.ndarray:
        """Labels.covered of moves landing in `dest`: as given where a prorata end move
        from `dest` could buy in the month before, else True (one group to prune)."""
        if not self.prorata or self.start_only:
            return np.ones(len(dest), dtype=bool)
        matters = (dest >= 1) & (dest < self.T) & (dest + self.V - 1 >= self.T - 1)
        return np.asarray(covered, dtype=bool) | ~matters


@dataclass
class MonthOptions:
    """Purchases possible in one month: capacities (and, for prorata, mixes) with prices."""

    step: int
    caps: np.ndarray            # capacities in calls
    prices: np.ndarray          # money units
    counts: np.ndarray          # packs in each capacity's mix (least spend, fewest packs)
    knap: Knapsack              # per lattice point, to rebuild the mix
    sizes: list                 # (size, price units) of the packs used here
    smallest: np.ndarray | None = None      # smallest pack in some cheapest mix of each cap
    mix_counts: np.ndarray | None = None    # prorata end mixes: counts per size (desc)
    mix_held: np.ndarray | None = None      # of which bought this month (the rest before)
    mix_early: np.ndarray | None = None     # calls bought the month before
    mix_caps: np.ndarray | None = None
    mix_prices: np.ndarray | None = None
    mix_packs: np.ndarray | None = None

    def packs(self, kind: int, option: int) -> dict[int, dict[int, int]]:
        """The packs behind a label's (kind, option): {months back: {size: count}}."""
        if kind == CAPACITY:
            return {0: self.knap.mix(self.step, [s for s, _ in self.sizes],
                                     int(self.caps[option]) // self.step)}
        if kind == END_MIX:
            sizes = sorted((s for s, _ in self.sizes), reverse=True)
            now, every = self.mix_held[option], self.mix_counts[option]
            return {0: {s: int(v) for s, v in zip(sizes, now) if v},
                    1: {s: int(v) for s, v in zip(sizes, every - now) if v}}
        return {}


class Queue:
    """Labels waiting for their month, pruned as they arrive (and again when many pile up)."""

    def __init__(self, months: int, ceiling: int, clock: Clock = UNLIMITED,
                 moves: int | None = None):
        self.ceiling = ceiling          # a label dearer than buying nothing is dropped
        self.clock = clock              # checked as each batch of moves arrives
        self.moves_left = moves         # (prorata) MAX_MOVES; None: no such bound
        self.pending: dict[int, list[Labels]] = {m: [] for m in range(months + 1)}
        self.size = [0] * (months + 1)

    def send(self, t: int, kind: int, moves: Moves) -> None:
        """Queue the moves made from month t (dest T: the horizon's end)."""
        self.clock.check()
        ok = moves.cost <= self.ceiling
        if not ok.all():
            moves = Moves(*(a[ok] for a in moves))
        order = np.argsort(moves.dest, kind="stable")
        moves = Moves(*(a[order] for a in moves))
        dest = moves.dest
        months = np.full(len(dest), t, dtype=np.int64)     # sliced for each destination
        kinds = np.full(len(dest), kind, dtype=np.int8)
        cuts = np.nonzero(np.diff(dest))[0] + 1
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(dest)]):
            if hi > lo:
                keep = lo + _pareto_covered(*(a[lo:hi] for a in (
                    moves.covered, moves.balance, moves.cost, moves.spend, moves.calls,
                    moves.packs)))
                self.add(int(dest[lo]), Labels(
                    moves.balance[keep], moves.cost[keep], moves.spend[keep],
                    moves.calls[keep], moves.packs[keep], months[:len(keep)],
                    moves.pred_index[keep], kinds[:len(keep)], moves.option[keep],
                    moves.covered[keep]))

    def charge(self, moves: int, product: Product) -> None:
        """Count moves against the bound; past it, SolverError (the integer program)."""
        if self.moves_left is None:
            return
        self.moves_left -= moves
        if self.moves_left < 0:
            raise SolverError(f"{product.id}: --carry-over-value prorata: the dynamic "
                              f"program would make more than {MAX_MOVES:,} moves")

    def add(self, m: int, labels: Labels) -> None:
        self.pending[m].append(labels)
        self.size[m] += len(labels.balance)
        if self.size[m] > COMPACT:
            merged = Labels.join(self.pending[m]).frontier()
            self.pending[m] = [merged]
            self.size[m] = len(merged.balance)

    def take(self, m: int) -> Labels | None:
        """Month m's labels, all queued; None when none reached it."""
        if not self.pending[m]:
            return None
        labels = Labels.join(self.pending[m])
        self.pending[m] = []
        return labels


def smallest_pack(knap: Knapsack, step: int, sizes, caps: np.ndarray) -> np.ndarray:
    """For each capacity, the smallest pack that some best mix of it (least spend, then
    fewest packs) contains."""
    k = caps // step
    out = np.full(len(k), INF, dtype=np.int64)
    priced = sorted(zip((s for s, _ in sizes), (c for _, c in knap.combined)), reverse=True)
    for size, price in priced:
        j = k - size // step
        ok = j >= 0
        hit = np.zeros(len(k), dtype=bool)
        hit[ok] = knap.key[j[ok]] + price == knap.key[k[ok]]
        out[hit] = size
    return out


def pareto_caps(key: np.ndarray, step: int, limit: int) -> np.ndarray:
    """Lattice indices of the capacities below `limit` that no larger one (below `limit`)
    matches in price (and, at the same price, in fewer packs)."""
    n = min(len(key), -(-limit // step))
    s = key[:n]
    after = np.minimum.accumulate(s[::-1])[::-1]          # min key at this index or later
    later = np.append(after[1:], INF)
    keep = np.nonzero((s < later) & (s < INF))[0]
    return keep[keep > 0]


def _lex_rank(*keys: np.ndarray) -> np.ndarray:
    """Dense rank of the tuples of `keys` (most significant first) in lexicographic order."""
    order = np.lexsort(keys[::-1])
    new = np.ones(len(order), dtype=np.int64)
    new[1:] = np.any([k[order][1:] != k[order][:-1] for k in keys], axis=0)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.cumsum(new)
    return rank


def _pareto(b, cost, spend, calls, packs):
    """Indices of labels no other beats: at least as much balance, and no worse in the plan
    order (cost, then spend, then more calls, then fewer packs)."""
    if len(b) <= 1:
        return np.arange(len(b))
    if not calls.any():
        # Nothing bought yet on any label: one integer key in (cost, spend) order when it
        # fits (costs and spends are >= 0).
        width = int(spend.max()) + 1
        rank = cost * width + spend if int(cost.max()) < (1 << 62) // width else \
            _lex_rank(cost, spend)
    else:
        rank = _lex_rank(cost, spend, -calls, packs)
    order = np.lexsort((rank, -b))            # most balance first, then best
    r = rank[order]
    prev = np.minimum.accumulate(np.concatenate(([np.iinfo(np.int64).max], r[:-1])))
    return order[r < prev]


def _pareto_covered(covered, b, cost, spend, calls, packs):
    """`_pareto` with one more key: a label whose month before is covered (prorata's end
    move may buy there) beats an uncovered one, never the reverse."""
    if covered.all() or not covered.any():
        return _pareto(b, cost, spend, calls, packs)
    one, zero = np.nonzero(covered)[0], np.nonzero(~covered)[0]
    one = one[_pareto(*(a[one] for a in (b, cost, spend, calls, packs)))]
    zero = zero[_pareto(*(a[zero] for a in (b, cost, spend, calls, packs)))]
    both = np.concatenate([one, zero])
    rank = _lex_rank(cost[both], spend[both], -calls[both], packs[both])
    r1, r0 = rank[:len(one)], rank[len(one):]
    order = np.argsort(-b[one], kind="stable")          # most balance first
    best = np.minimum.accumulate(r1[order])
    # covered labels with at least as much balance as each uncovered one: a prefix
    reach = np.searchsorted(-b[one][order], -b[zero], side="right")
    beaten = (reach > 0) & (best[np.maximum(reach - 1, 0)] <= r0)
    return np.concatenate([one, zero[~beaten]])


def optimal_schedule(product: Product, calls, resid, validity: int, scale: int, *,
                     start_only: bool = False, prorata: bool = False,
                     compiled: bool = False, clock: Clock = UNLIMITED) -> Schedule:
    """The cheapest purchases for one product (among equal costs the least spend).

    `calls[m]` sets month m's rate; `resid[m]` is what new packs can serve (after the free
    quota and holdings). `start_only` allows purchases in the first month only.
    `compiled`: run the same search in dpkernel.py's compiled loop when it can (numba
    installed, no prorata); the answer is the same, to the pack. `clock`: raises
    OutOfTime between steps once it runs out (the compiled loop runs to its end).
    """
    problem = _problem(product, calls, resid, validity, scale, start_only, prorata)
    if start_only and not prorata:
        return _start_schedule(problem)
    if compiled and not prorata and _fits_kernel(problem):
        from . import dpkernel
        if dpkernel.available():
            return _compiled_schedule(problem, dpkernel)
    return _label_search(problem, clock)


def _label_search(problem: Problem, clock: Clock = UNLIMITED) -> Schedule:
    """The shortest path itself: month by month, labels extended, pruned and queued."""
    queue = Queue(problem.T, problem.ceiling, clock,
                  MAX_MOVES if problem.prorata else None)
    z = np.zeros(1, dtype=np.int64)
    queue.add(0, Labels(z, z, z, z, z, z - 1, z - 1, np.zeros(1, dtype=np.int8), z,
                        np.zeros(1, dtype=bool)))
    kept: dict[int, Labels] = {}
    options: dict[int, MonthOptions | None] = {}
    for t in range(problem.T):
        labels = queue.take(t)
        if labels is None:
            continue
        kept[t] = labels.frontier()
        options[t] = _extend(problem, queue, t, kept[t])
    end = queue.take(problem.T)
    if end is None:
        raise AssertionError("no schedule reached the horizon's end")
    return _backtrack(end, kept, options)


def _start_schedule(p: Problem) -> Schedule:
    """Purchases in the first month only, without prorata: the label search reduced to its
    first step. Each capacity's balance serves the months in order until it runs out or
    lapses, so its cost follows in closed form; the best of them and of buying nothing is
    the search's answer (the same keys, and no two capacities tie on calls bought)."""
    opt = _month_options(p, 0) if p.T else None
    if opt is None or not len(opt.caps):
        return Schedule({}, p.ceiling, 0)
    n = min(p.T, p.V)
    served = np.clip(opt.caps[:, None] - p.cum[None, :n], 0, p.resid[None, :n])
    cost = np.concatenate(([p.ceiling], p.ceiling + opt.prices - served @ p.rate[:n]))
    spend = np.concatenate(([0], opt.prices))
    calls = np.concatenate(([0], opt.caps))
    packs = np.concatenate(([0], opt.counts))
    best = int(np.lexsort((packs, -calls, spend, cost))[0])
    if best == 0:
        return Schedule({}, p.ceiling, 0)
    mix = opt.packs(CAPACITY, best - 1)[0]
    return Schedule({(0, size): k for size, k in mix.items()}, int(cost[best]),
                    int(spend[best]))


def too_large(product: Product, resid, validity: int, sizes=None) -> bool:
    """Whether the knapsack over the pack sizes' lattice, up to the widest validity
    window's demand, would exceed MAX_LATTICE points (a trillion calls a year would need
    a billion): the integer programs, whose size does not grow with volume, take it.
    `sizes`: the packs the search may buy (limits.useful_sizes; default every one). A
    1-call pack dearer than postpaid set the lattice's step to one call, and a plan the
    search proves in a second ran 240 s unproven in the integer program."""
    sizes = [p.calls for p in product.packs] if sizes is None else sizes
    if not sizes:
        return False
    T = len(resid)
    cum = [0]
    for r in resid:
        cum.append(cum[-1] + r)
    widest = max((cum[min(t + validity, T)] - cum[t] for t in range(T)), default=0)
    return (widest + max(sizes)) // math.gcd(*sizes) + 1 > MAX_LATTICE


def use_compiled(product_months: int) -> bool:
    """Whether a plan of this many product-months is worth the compiled search (whose
    first use loads numba and its cached machine code, ~0.5 s)."""
    return product_months >= COMPILED_FROM


def _fits_kernel(p: Problem) -> bool:
    """The compiled search breaks ties on packs in every knapsack; dynamic.py's does only
    when its knapsack's combined key fits in 64 bits (knapsack.Knapsack), which this
    checks for the largest lattice any month can need (else the NumPy search runs)."""
    if not p.price:
        return True
    sizes = list(p.price)
    g = math.gcd(*sizes)
    top = p.widest + max(sizes)
    per_call = max(q / s for s, q in p.price.items())
    return (per_call * (top + max(sizes)) + 1) * (top // g + 2) < INF // 4


def _compiled_schedule(p: Problem, kernel) -> Schedule:
    """The search in the compiled loop, then each purchase's mix as dynamic.py reads it."""
    sizes = sorted(p.price)
    months, _, mixes, cost, spend = kernel.search(
        p.T, p.V, p.resid, p.rate, p.cum, p.nxt, p.later_max, sizes,
        [p.price[s] for s in sizes], p.start_only, p.ceiling, p.widest)
    if cost < 0:
        raise AssertionError("no schedule reached the horizon's end")
    counts: dict[tuple[int, int], int] = {}
    for t, mix in zip(months.tolist(), mixes.tolist()):
        for size, k in zip(sizes, mix):
            if k:
                counts[t, size] = counts.get((t, size), 0) + k
    return Schedule(counts, int(cost), int(spend))


def _problem(product: Product, calls, resid, validity: int, scale: int, start_only: bool,
             prorata: bool) -> Problem:
    T, V = len(resid), validity
    # Built in Python ints (a few dozen months: cheaper than NumPy scalars), then arrays.
    resid_l = [int(r) for r in resid]
    units: dict = {}
    rate_l = []
    for d in calls:
        r = product.rate(d)[0]
        u = units.get(r)
        if u is None:
            u = units[r] = to_units(r, scale)
        rate_l.append(u)
    cum_l = [0] * (T + 1)
    for m, r in enumerate(resid_l):
        cum_l[m + 1] = cum_l[m] + r
    nxt_l = [T] * (T + 1)
    for m in range(T - 1, -1, -1):
        nxt_l[m] = m if resid_l[m] > 0 else nxt_l[m + 1]
    resid = np.array(resid_l, dtype=np.int64)
    rate = np.array(rate_l, dtype=np.int64)
    cum = np.array(cum_l, dtype=np.int64)
    nxt = np.array(nxt_l, dtype=np.int64)
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
    later_l = [0] * (T + 1)
    for m in range(T - 1, -1, -1):
        later_l[m] = max(later_l[m + 1], rate_l[m] if resid_l[m] > 0 else 0)
    later_max = np.array(later_l, dtype=np.int64)
    widest = max(cum_l[min(t + V, T)] - cum_l[t] for t in range(T)) if T else 0
    # Buying nothing costs `ceiling`; a label already dearer can never lead to a better plan
    # (what follows costs >= 0: a lot's credit never exceeds its price).
    ceiling = sum(r * q for r, q in zip(rate_l, resid_l))
    return Problem(product, T, V, resid, rate, cum, nxt, later_max, price, credit_frac, fen,
                   margin, ceiling, widest, start_only, prorata)


def _month_options(problem: Problem, t: int) -> MonthOptions | None:
    """What month t can buy: the capacities worth buying, priced by their cheapest mix."""
    p = problem
    e = min(t + p.V - 1, p.T - 1)
    useful = [(s, q) for s, q in sorted(p.price.items())
              if q < s * p.later_max[t] + p.margin or q < p.V * p.margin]
    cover = int(p.cum[e + 1] - p.cum[t])
    if not useful or cover == 0:
        return None
    limit = cover + max(s for s, _ in useful)
    key = tuple(useful)
    step = math.gcd(*(s for s, _ in useful))
    if key not in p.knaps or len(p.knaps[key]) * step < limit:
        # Priced once per pack set, up to the largest window any month can need.
        top = max(limit, p.widest + max(s for s, _ in useful))
        p.knaps[key] = Knapsack([(s // step, q) for s, q in useful], top // step + 1)
    knap = p.knaps[key]
    keep = pareto_caps(knap.key, step, limit)
    caps = keep * step
    opt = MonthOptions(step, caps, knap.spend[keep], knap.packs[keep], knap, useful,
                       smallest_pack(knap, step, useful, caps))
    if p.prorata and t + p.V - 1 >= p.T - 1:
        # A mix lasting to the end holds at least what is left after the carried balance,
        # which is below the month's calls (none in start mode's first month: b = 0).
        lo = int(p.cum[p.T] - p.cum[t]) - max(int(p.resid[t]) - 1, 0)
        counts, caps, prices = _end_mixes(p.product, useful, lo, limit)
        sizes = np.array(sorted((s for s, _ in useful), reverse=True), dtype=np.int64)
        # (packs bought early are used up in month t: fewer calls than it has)
        rows, opt.mix_held, opt.mix_early = _split_mixes(
            p.product, counts, sizes, int(p.resid[t]) if t > 0 and not p.start_only else 0)
        opt.mix_counts, opt.mix_caps, opt.mix_prices = counts[rows], caps[rows], prices[rows]
        opt.mix_packs = opt.mix_counts.sum(axis=1)
    return opt


def _extend(problem: Problem, queue: Queue, t: int, labels: Labels) -> MonthOptions | None:
    """Every move from month t's kept labels, queued where it leads; returns the month's
    purchase options (None when it buys nothing), which back-tracking needs."""
    p = problem
    n = len(labels.balance)
    idx = np.arange(n, dtype=np.int64)
    zeros = np.zeros(n, dtype=np.int64)
    # No purchase: the rest of month t is postpaid, the next month starts empty (the month
    # before it is covered only when months without calls lie between).
    dest = np.full(n, int(p.nxt[t + 1]))
    queue.send(t, NOTHING, Moves(
        dest, zeros,
        labels.cost + p.rate[t] * (p.resid[t] - labels.balance), labels.spend, labels.calls,
        labels.packs, idx, zeros,
        p.covered(dest, (p.resid[t] <= labels.balance) | (dest > t + 1))))

    if p.start_only and t > 0 or not p.start_only and p.resid[t] == 0:
        return None
    opt = _month_options(p, t)
    if opt is None:
        return None
    mixes = len(opt.mix_caps) if opt.mix_caps is not None else 0
    queue.charge(n * (len(opt.caps) + mixes), p.product)
    chunk = max(1, CHUNK // max(len(opt.caps), mixes, 1))
    for lo in range(0, n, chunk):
        part = labels.take(slice(lo, lo + chunk))
        _buy_capacities(p, queue, t, opt, part, idx[lo:lo + chunk])
        if opt.mix_counts is not None and len(opt.mix_caps):
            _buy_end_mixes(p, queue, t, opt, part, idx[lo:lo + chunk])
    return opt


def _buy_capacities(p: Problem, queue: Queue, t: int, opt: MonthOptions, labels: Labels,
                    idx: np.ndarray) -> None:
    """Each label × each capacity: where its balance runs out, and what that costs."""
    e = t + p.V - 1
    b, cost, spend = labels.balance, labels.cost, labels.spend
    T, cum = p.T, p.cum
    n, k = len(b), len(opt.caps)
    after = int(p.nxt[t + 1])
    P = cum[t] + b[:, None] + opt.caps[None, :]                 # n × k
    c2 = cost[:, None] + opt.prices[None, :]
    s2 = np.broadcast_to(spend[:, None] + opt.prices[None, :], (n, k))
    calls2 = np.broadcast_to(labels.calls[:, None] + opt.caps[None, :], (n, k))
    packs2 = np.broadcast_to(labels.packs[:, None] + opt.counts[None, :], (n, k))
    land = np.searchsorted(cum, P, side="right") - 1            # month where A runs out
    short = P < cum[t + 1]
    carry = ~short & (land < T) & (land <= e)
    ends = ~short & (land >= T) & (e >= T - 1)
    lapse = ~short & ~carry & ~ends
    dest = np.where(carry, land, np.where(ends, T, after))
    if e + 1 <= T - 1:
        dest = np.where(lapse, p.nxt[e + 1], dest)
    c2 = c2 + np.where(short, p.rate[t] * (cum[t + 1] - P), 0)
    b2 = np.where(carry, P - cum[np.minimum(land, T)], 0)
    # A pack the carried balance could spare is as well bought where it is drawn (with
    # prorata only where that purchase expires within the horizon; never in start mode,
    # where nothing is bought later).
    spare = carry & (b2 >= opt.smallest[None, :]) & (not p.start_only)
    if p.prorata:
        spare &= land + p.V - 1 < T
    valid = ~spare & ~(ends & p.prorata)     # prorata ends are priced as mixes instead
    option = np.broadcast_to(np.arange(k, dtype=np.int64)[None, :], (n, k))
    rows = np.broadcast_to(idx[:, None], (n, k))
    dest = dest[valid]
    queue.send(t, CAPACITY, Moves(dest, b2[valid], c2[valid], s2[valid],
                                  calls2[valid], packs2[valid], rows[valid], option[valid],
                                  p.covered(dest, ~short[valid] | (dest > t + 1))))


def _buy_end_mixes(p: Problem, queue: Queue, t: int, opt: MonthOptions, labels: Labels,
                   idx: np.ndarray) -> None:
    """Prorata: purchases that last to the end, less the billing engine's credit. Packs
    bought the month before (`mix_early`) are drawn first and used up within month t (the
    module docstring: so they neither lapse nor hold balance); that month must be covered."""
    e, T = t + p.V - 1, p.T
    b = labels.balance[:, None]
    R = p.cum[t] + b + opt.mix_caps[None, :] - p.cum[T]   # left over
    credit = np.zeros_like(R)
    before = np.zeros(len(opt.mix_caps), dtype=np.int64)
    share = e - (T - 1)
    for j, size in enumerate(sorted((s for s, _ in opt.sizes), reverse=True)):
        held = opt.mix_held[:, j] * size
        take = np.clip(R - before[None, :], 0, held[None, :])
        a, c = p.credit_frac[size]
        credit += (2 * take * share * a + c) // (2 * c) * p.fen
        before = before + held
    total = labels.cost[:, None] + opt.mix_prices[None, :] - credit
    early = opt.mix_early[None, :]
    ok = (R >= 0) & ((early == 0) | (labels.covered[:, None]
                                     & (p.cum[t] + b + early < p.cum[t + 1])))
    r_i, m_i = np.nonzero(ok)
    if len(r_i):
        queue.send(t, END_MIX, Moves(
            np.full(len(r_i), T), np.zeros(len(r_i), dtype=np.int64), total[r_i, m_i],
            labels.spend[r_i] + opt.mix_prices[m_i], labels.calls[r_i] + opt.mix_caps[m_i],
            labels.packs[r_i] + opt.mix_packs[m_i], idx[r_i], m_i,
            np.ones(len(r_i), dtype=bool)))


def _backtrack(end: Labels, kept: dict[int, Labels], options: dict) -> Schedule:
    """The best label at the horizon's end, then back through its predecessors' purchases."""
    best = int(np.lexsort((end.packs, -end.calls, end.spend, end.cost))[0])
    counts: dict[tuple[int, int], int] = {}
    at, i = end, best
    t = int(at.pred_month[i])
    while t >= 0:
        kind, option = int(at.kind[i]), int(at.option[i])
        if kind != NOTHING:
            for back, mix in options[t].packs(kind, option).items():
                for size, k in mix.items():
                    counts[t - back, size] = counts.get((t - back, size), 0) + k
        at, i = kept[t], int(at.pred_index[i])
        t = int(at.pred_month[i])
    return Schedule(counts, int(end.cost[best]), int(end.spend[best]))


def _split_mixes(product: Product, counts: np.ndarray, sizes: np.ndarray, below: int):
    """Each end mix as bought in its month, and once more for each smaller size it holds
    with its larger packs, of fewer than `below` calls, bought the month before: drawn
    first, they leave the balance in a pack of that size (module docstring). Returns the
    rows of `counts` behind each variant, the counts each buys in its own month, and the
    calls it buys the month before."""
    rows = [np.arange(len(counts))]
    held = [counts]
    early = [np.zeros(len(counts), dtype=np.int64)]
    present = counts > 0
    first = np.argmax(present, axis=1)                   # the mix's largest size
    before = np.cumsum(counts * sizes[None, :], axis=1) - counts * sizes[None, :]
    for j in range(1, counts.shape[1]):
        which = np.nonzero(present[:, j] & (first < j) & (before[:, j] < below))[0]
        if sum(len(r) for r in rows) + len(which) > MAX_MIXES:
            raise _too_many_mixes(product)
        now = counts[which].copy()
        now[:, :j] = 0
        rows.append(which)
        held.append(now)
        early.append(before[which, j])
    return np.concatenate(rows), np.concatenate(held), np.concatenate(early)


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
            raise _too_many_mixes(product)
        caps = (caps[:, None] + k[None, :] * s).reshape(-1)
        mixes = np.concatenate([np.repeat(mixes, len(k), axis=0),
                                np.tile(k, len(mixes))[:, None]], axis=1)
        ok = caps < limit
        mixes, caps = mixes[ok], caps[ok]
    prices = mixes @ np.array([price[s] for s in sizes], dtype=np.int64)
    ok = (caps > 0) & (caps >= lo)
    return mixes[ok], caps[ok], prices[ok]


def _too_many_mixes(product: Product) -> SolverError:
    """(engines.py then plans the product with the integer program.)"""
    return SolverError(f"{product.id}: --carry-over-value prorata would have to price more "
                       f"than {MAX_MIXES:,} pack mixes for the last purchase; use "
                       f"--carry-over-value zero")
