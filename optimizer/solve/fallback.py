"""The rule of thumb, a plan that needs no solver: each 12-month block's cheapest covering
packs bought at its start. `--compare` sets it beside the optimum (analysis/compare.py),
and the planner beside what a time limit stopped (planner._better_when_stopped): short
limits left the integer programs' incumbents at buying nothing (the issue's 3 × 24
forecast with three scenarios under a monthly cap, `--time-limit 2`: pure postpaid, a gap
of 14 %), where the rule of thumb is a few percent above the optimum.
"""

from __future__ import annotations

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


@lru_cache(maxsize=4096)
def cheapest_cover(product: Product, need: int) -> dict[int, int]:
    """Cheapest pack counts whose calls add up to at least `need` (a covering knapsack).
    (Cached: the plans of one request ask for the same; callers do not change it.)"""
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
