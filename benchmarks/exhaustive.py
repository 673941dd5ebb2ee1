"""Exhaustive search for start mode: every useful pack mix, each billed by the billing engine.

Products are independent in start mode, so the search runs product by product. For one
product it enumerates pack counts (largest size first) under two dominance rules, written
here independently of optimizer/model.py so the check is not circular:

* swap: when k packs of size s cost at least one pack of size k*s, keep at most k-1 of them
  (the swap buys the same capacity for no more money, under either tier basis). Under the
  `total` basis a month's rate does not depend on pack use, so more capacity never costs
  more postpaid and the swap also holds for any bigger pack with at least k*s calls;
  under `after-packs` it does not (more pack use can raise the rate), so only exact
  multiples count there;
* overbuy: a mix that still covers all the demand it can serve after dropping one of its
  packs is dearer than the mix without it (same draw, same fees, one pack less).

Every remaining mix is billed with `optimizer.billing.bill_product`; the cheapest is kept
(ties: the lower prepaid spend). No solver is involved.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from decimal import Decimal

from optimizer.billing import bill_product, make_lots
from optimizer.domain.catalog import Catalog, Product
from optimizer.domain.records import Forecast, Plan, Purchase


class TooLarge(Exception):
    """The enumeration would exceed the given number of mixes."""


class OutOfTime(Exception):
    """The time limit ran out during the enumeration."""


@dataclass
class ExhaustiveOutcome:
    plan: Plan
    cost: Decimal            # the sum of the per-product minima, as billed per product
    mixes: int               # pack mixes billed
    seconds: float


def swap_bounds(product: Product, basis: str) -> dict[int, int | None]:
    """Most packs of each size worth buying by the swap rule (None: no bound from it)."""
    bounds: dict[int, int | None] = {}
    for p in product.packs:
        ub = None
        for q in product.packs:
            if q.calls <= p.calls:
                continue
            if basis == "total":      # k packs of p worth at least q, and q holds them all
                k = max(math.ceil(q.price / p.price), 1) if p.price else 1
                if k * p.calls > q.calls:
                    continue
            elif q.calls % p.calls == 0 and p.price * (q.calls // p.calls) >= q.price:
                k = q.calls // p.calls
            else:
                continue
            ub = k - 1 if ub is None else min(ub, k - 1)
        bounds[p.calls] = ub
    return bounds


def servable(product: Product, calls: tuple[int, ...], validity: int) -> int:
    """Calls that packs bought in the first month could ever draw."""
    return sum(d - min(d, product.free_calls) for d in calls[:validity])


def mixes(product: Product, need: int, basis: str):
    """Pack count vectors {size: count} that survive both dominance rules."""
    sizes = sorted((p.calls for p in product.packs), reverse=True)
    bounds = swap_bounds(product, basis)

    def rec(i: int, capacity: int, chosen: dict[int, int]):
        if i == len(sizes):
            yield dict(chosen)
            return
        s = sizes[i]
        k = 0
        while True:
            chosen[s] = k
            yield from rec(i + 1, capacity + k * s, chosen)
            k += 1
            ub = bounds[s]
            # overbuy: the k-th pack of size s would leave need covered without it
            if (ub is not None and k > ub) or capacity + (k - 1) * s >= need:
                break
        del chosen[s]

    yield from rec(0, 0, {})


def count_mixes(catalog: Catalog, forecast: Forecast, limit: int) -> int:
    """How many mixes the search would bill; raises TooLarge past `limit`."""
    total = 0
    for pid, calls in forecast.demand:
        product = catalog.product(pid)
        if not product.packs:
            continue
        need = servable(product, calls, catalog.validity_months)
        for _ in mixes(product, need, catalog.tier_basis):
            total += 1
            if total > limit:
                raise TooLarge(f"more than {limit} pack mixes")
    return total


def search(catalog: Catalog, forecast: Forecast, deadline: float | None = None
           ) -> ExhaustiveOutcome:
    """The cheapest start-mode plan by enumeration (per product), billed mix by mix."""
    t0 = time.perf_counter()
    purchases: list[Purchase] = []
    total = Decimal(0)
    billed = 0
    for pid, calls in forecast.demand:
        product = catalog.product(pid)
        best = None
        candidates = mixes(product, servable(product, calls, catalog.validity_months),
                            catalog.tier_basis) \
            if product.packs else [{}]
        for mix in candidates:
            buys = [Purchase(pid, forecast.start, s, k) for s, k in sorted(mix.items()) if k]
            lots = make_lots(product, buys, [], forecast.start, catalog.validity_months)
            pb = bill_product(product, calls, forecast.start, lots, catalog.tier_basis,
                              with_postpaid_only=False)
            billed += 1
            key = (pb.total_cost, pb.pack_cost)
            if best is None or key < best[0]:
                best = (key, buys)
            if deadline is not None and billed % 256 == 0 and time.perf_counter() > deadline:
                raise OutOfTime(f"stopped after {billed} mixes")
        total += best[0][0]
        purchases.extend(best[1])
    return ExhaustiveOutcome(Plan(tuple(purchases), "exhaustive"), total, billed,
                             time.perf_counter() - t0)
