"""Money in integer units: the solvers work in fen (or finer, if a catalog's prices need
it), so every integer solution has an integer objective."""

from __future__ import annotations

from decimal import Decimal

from .catalog import Catalog


def money_scale(catalog: Catalog) -> int:
    """Units per currency unit so that every price and rate is a whole number of units."""
    exp = 2
    for p in catalog.products:
        values = [pk.price for pk in p.packs] + [r for _, r, _ in p.tier_rates() if r is not None]
        for v in values:
            exp = max(exp, -v.normalize().as_tuple().exponent)
    return 10 ** exp


def to_units(amount: Decimal, scale: int) -> int:
    v = amount * scale
    assert v == v.to_integral_value(), "money_scale makes every amount whole"
    return int(v)

