"""What new packs face: residual demand after the free quota and holdings, and bounds on
useful pack counts. Shared by every solving method."""

from __future__ import annotations

from ..billing import Lot, bill_product
from ..domain.catalog import Product
from ..domain.months import Month


def count_bounds(product: Product, max_capacity: int) -> dict[int, int]:
    """Upper bound on the count of each pack size in some optimal plan.

    Capacity above `max_capacity` is never useful. Dominance: if k packs of size s cost at
    least one pack of size k·s, an optimal plan needs at most k−1 of them (swap k for one).
    """
    bounds = {}
    for p in product.packs:
        ub = max_capacity // p.calls + (1 if max_capacity % p.calls else 0)
        for q in product.packs:
            if q.calls > p.calls and q.calls % p.calls == 0:
                k = q.calls // p.calls
                if p.price * k >= q.price:
                    ub = min(ub, k - 1)
        bounds[p.calls] = max(ub, 0)
    return bounds



def held_usage(product: Product, calls, start: Month, held: list[Lot]) -> list[int]:
    """Calls drawn from holdings each month (they expire first, so C cannot change it)."""
    if not held:
        return [0] * len(calls)
    pb = bill_product(product, calls, start, held, "total", with_postpaid_only=False)
    return [mb.pack for mb in pb.months]


def residual_demand(product: Product, calls, start: Month, held=()) -> list[int]:
    """Calls left each month for new packs: after the free quota and the holdings (which
    expire before any new pack, so they are drawn first whatever is bought)."""
    used = held_usage(product, calls, start, list(held))
    return [d - min(d, product.free_calls) - h for d, h in zip(calls, used)]

