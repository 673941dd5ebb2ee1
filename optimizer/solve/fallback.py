"""The rule of thumb, a plan that needs no solver: each 12-month block's cheapest covering
packs bought at its start. `--compare` sets it beside the optimum (analysis/compare.py),
and the planner beside what a time limit stopped (planner._better_when_stopped): short
limits left the integer programs' incumbents at buying nothing (the issue's 3 × 24
forecast with three scenarios under a monthly cap, `--time-limit 2`: pure postpaid, a gap
of 14 %), where the rule of thumb is a few percent above the optimum.
"""

from __future__ import annotations

import math
import threading
from fractions import Fraction
from functools import lru_cache

from ..domain.catalog import Catalog, Product
from ..domain.money import money_scale, to_units
from ..domain.records import Forecast, Holding
from ..exceptions import SolverError
from .demand import count_bounds

YEAR = 12          # the rule of thumb renews once a year


def block_cover(catalog: Catalog, forecast: Forecast, holdings: tuple[Holding, ...] = (),
                products=None, block: int = YEAR) -> list[tuple[str, int, int, int]]:
    """The rule of thumb, renewed every year: at the start of each 12-month block of the
    horizon, the cheapest packs covering that block's calls beyond the free quota (those
    the packs' validity reaches; the first block's also beyond the holdings), bought then.
    (product, month index, size, count) for `products` (default: every one). `block`:
    renewed every so many months instead (what a time limit stopped under a cap per month
    is set beside: a year's packs at once break it)."""
    window = min(catalog.validity_months, block)
    out = []
    for pid, calls in forecast.demand:
        product = catalog.product(pid)
        if not product.packs or (products is not None and pid not in products):
            continue
        held = sum(h.calls_left for h in holdings if h.product == pid
                   and h.expires >= forecast.start)
        for first in range(0, forecast.months, block):
            need = sum(max(d - product.free_calls, 0) for d in calls[first:first + window])
            need -= held if first == 0 else 0
            if need > 0:
                out += [(pid, first, size, k)
                        for size, k in cheapest_cover(product, need).items() if k]
    return out


# Up to this many sizes (multiples of the packs' common divisor) a cover is priced by the
# dynamic program of `_cover_by_table`; beyond it (a 1-call pack against millions of calls)
# by an integer program.
COVER_TABLE_POINTS = 1_000_000


@lru_cache(maxsize=4096)
def cheapest_cover(product: Product, need: int) -> dict[int, int]:
    """Cheapest pack counts whose calls add up to at least `need` (a covering knapsack);
    among equal costs the most calls. (Cached: the plans of one request ask for the same;
    callers do not change it.)"""
    step = math.gcd(*(p.calls for p in product.packs))
    top = max(p.calls for p in product.packs)
    # Some cheapest cover (the most calls among them) holds more than `bulk` packs of the
    # size cheapest per call (`_bulk`): they are set aside, the rest is covered alone.
    best, beyond = _bulk(product, step)
    bulk = max(0, (need - beyond) // best)
    rest = need - bulk * best
    if rest <= 0:
        counts = {p.calls: 0 for p in product.packs}
    elif -(-rest // step) + top // step <= COVER_TABLE_POINTS:
        counts = _cover_by_table(product, rest, step)
    else:
        counts = _cover_by_program(product, rest)
    counts[best] += bulk
    return counts


def _bulk(product: Product, step: int) -> tuple[int, int]:
    """(b, B): the size b of the pack cheapest per call, and B such that a cheapest cover
    of any need holds fewer than B calls of other packs. Among b / step other packs some
    add up to a multiple of b (two of their running sums agree modulo b), which as many
    packs of size b replace at no higher price and with the same calls: so some cheapest
    cover with the most calls holds fewer than b / step other packs."""
    best = min(product.packs, key=lambda p: (Fraction(p.price) / p.calls, -p.calls))
    others = [p.calls for p in product.packs if p is not best]
    return best.calls, (best.calls // step) * max(others, default=0)


def _cover_by_program(product: Product, need: int) -> dict[int, int]:
    """`cheapest_cover` by an integer program: no table for a very fine lattice."""
    import pulp     # here only: a plan that runs no integer program does not load PuLP

    from .solvers import Status, solve
    prob = pulp.LpProblem("cover", pulp.LpMinimize)
    bounds = count_bounds(product, need + max(p.calls for p in product.packs))
    n = {p.calls: prob.add_variable(f"n_{p.calls}", 0, bounds[p.calls], cat="Integer")
         for p in product.packs}
    scale = money_scale(Catalog("", 1, "total", (product,)))
    prob += pulp.lpSum(to_units(p.price, scale) * n[p.calls] for p in product.packs)
    prob += pulp.lpSum(s * v for s, v in n.items()) >= need
    out = solve(prob, "highs")
    if out.status is not Status.OPTIMAL:
        raise SolverError(f"{product.id}: could not size the rule-of-thumb packs")
    return {s: round(v.value() or 0) for s, v in n.items()}


def _cover_by_table(product: Product, need: int, step: int) -> dict[int, int]:
    """`cheapest_cover` by a complete-knapsack table over sizes in multiples of `step`: a
    time limit's fallback renews the rule of thumb every month of a long horizon, and an
    integer program for each of 240 covers took 2 s (`whatif --time-limit 1` over 60
    months ran 10 s). Exact: whole money units, no floating point. One table serves every
    need of a product (`_table`): a table for each of 258 needs took 1.4 s after a 2 s
    time limit had run out."""
    import numpy as np
    n = -(-need // step)                               # the least size that covers
    packs, tables = _table(product, step, n + max(p.calls for p in product.packs) // step)
    top = packs[-1].calls // step
    covering = tables[-1][n:n + top]                   # (beyond: a whole pack too many)
    least = covering.min()
    j = n + int(np.flatnonzero(covering == least)[-1])  # the most calls of that cost
    counts = {p.calls: 0 for p in packs}
    for i in range(len(packs) - 1, -1, -1):
        k = packs[i].calls // step
        if i == 0:
            counts[packs[0].calls] += j // k
            break
        # Packs of this size in the cover: steps back from j until the smaller packs alone
        # give the same cost there (they do at the latest below one pack of this size).
        col = j - k * np.arange(j // k + 1)
        c = int(np.argmax(tables[i][col] == tables[i - 1][col]))
        counts[packs[i].calls] += c
        j -= c * k
    return counts


_TABLES: dict = {}          # (product, step) -> (size, packs, tables), the last few
_TABLES_KEPT = 2            # (the fallback asks for one product's needs, then the next's)
_tables_lock = threading.Lock()


def _table(product: Product, step: int, size: int):
    """The cheapest cost of every size below at least `size` (in units of `step`), after
    each pack in turn, smallest first: (packs, [cost array after each]). Built again, twice
    as large, when a larger size is asked for."""
    import numpy as np
    key = (product, step)
    with _tables_lock:
        got = _TABLES.get(key)
        if got is not None and got[0] >= size:
            return got[1:]
        size = max(size, min(2 * got[0], COVER_TABLE_POINTS)) if got else size
        packs = sorted(product.packs, key=lambda p: p.calls)
        scale = money_scale(Catalog("", 1, "total", (product,)))
        unreached = np.int64(2) ** 62
        cost = np.full(size, unreached, dtype=np.int64)
        cost[0] = 0
        tables = []
        for p in packs:
            k, price = p.calls // step, to_units(p.price, scale)
            rows = -(-size // k)
            grid = np.full(rows * k, unreached, dtype=np.int64)
            grid[:size] = cost
            grid = grid.reshape(rows, k)               # column r: sizes r, r + k, r + 2k...
            ladder = np.arange(rows, dtype=np.int64)[:, None] * price
            grid = np.minimum.accumulate(grid - ladder, axis=0) + ladder
            cost = np.minimum(cost, grid.reshape(-1)[:size])
            tables.append(cost)
        _TABLES.pop(key, None)
        while len(_TABLES) >= _TABLES_KEPT:
            _TABLES.pop(next(iter(_TABLES)))
        _TABLES[key] = (size, packs, tables)
        return packs, tables
