"""Baselines the optimum is compared with: pure postpaid and the rule of thumb."""

from __future__ import annotations

import pulp

from ..domain.catalog import Catalog, Product
from ..domain.money import money_scale, to_units
from ..domain.records import Forecast, Holding, Plan, Purchase
from ..exceptions import SolverError
from ..solve.demand import count_bounds
from ..solve.solvers import Status, solve


def rule_of_thumb(catalog: Catalog, forecast: Forecast, holdings: tuple[Holding, ...] = ()
                  ) -> Plan:
    """The common heuristic: the cheapest packs covering the year's calls, bought up front.

    "The year's calls" are those beyond the free quota (and beyond holdings) inside the
    packs' validity window.
    """
    window = min(catalog.validity_months, forecast.months)
    purchases = []
    for pid, calls in forecast.demand:
        product = catalog.product(pid)
        if not product.packs:
            continue
        held = sum(h.calls_left for h in holdings if h.product == pid
                   and h.expires >= forecast.start)
        need = sum(max(d - product.free_calls, 0) for d in calls[:window]) - held
        if need <= 0:
            continue
        for size, k in cheapest_cover(product, need).items():
            if k:
                purchases.append(Purchase(pid, forecast.start, size, k))
    return Plan(tuple(purchases), "rule of thumb")


def cheapest_cover(product: Product, need: int) -> dict[int, int]:
    """Cheapest pack counts whose calls add up to at least `need` (a covering knapsack)."""
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
