"""Size limits of the exact methods, checked before any of them allocates.

The dynamic program (dynamic.py) and the cost curves (curves.py) price every capacity on the
lattice of the pack sizes' greatest common divisor, up to the largest validity window's
need plus one pack: a catalog with a 1-call pack and a forecast of billions of calls would
need billions of lattice points (tens of GiB). `dp_points` estimates that size from the
data alone, before anything is allocated; beyond `DP_MAX_POINTS` the product is left to
the integer program, which has no lattice (its coefficients are the calls themselves).

The integer programs hold integer data in double precision, exact up to 2^53: a forecast
whose calls, or whose cost in money units, exceed `MAX_EXACT` is refused (`check_request`,
exit 2) with the limit named, rather than solved with numbers the solvers cannot hold
(docs/cli.md, 'Limits'). Below it a solver may still round a huge model badly; planner's
_verify catches that (the plan bills to another cost) and solves again with the other
solver, or reports a solver failure (exit 1).
"""

from __future__ import annotations

import math

from ..domain.catalog import Product
from ..domain.money import to_units
from ..exceptions import InputError

DP_MAX_POINTS = 2_000_000     # lattice points per product for the dynamic program
MAX_EXACT = 2 ** 53           # largest calls or money units (2^53: exact in a double)


def useful_sizes(product: Product, calls, resid, validity: int, scale: int,
                 prorata: bool = False) -> list[int]:
    """The sizes of the packs the dynamic program may buy in some month. dynamic.py keeps a
    pack only when its price is below size × a later month's rate (plus a margin of fen
    per lot with prorata): the union over months is a superset."""
    if not product.packs or not any(r > 0 for r in resid):
        return []
    top_rate = max((to_units(product.rate(d)[0], scale) for d, r in zip(calls, resid)
                    if r > 0), default=0)
    fen = max(scale // 100, 1)
    margin = (len(product.packs) * validity + 1) * fen if prorata else 0
    return [p.calls for p in product.packs
            if to_units(p.price, scale) < p.calls * top_rate + margin
            or to_units(p.price, scale) < validity * margin]


def dp_points(product: Product, calls, resid, validity: int, scale: int,
              prorata: bool = False) -> int:
    """An upper bound on the lattice points the dynamic program would price for one
    product: (largest window's need + the largest useful pack) / gcd of the useful packs."""
    useful = useful_sizes(product, calls, resid, validity, scale, prorata)
    if not useful:
        return 0
    T = len(resid)
    widest = max(sum(resid[t:t + validity]) for t in range(T))
    return (widest + max(useful)) // math.gcd(*useful) + 1


def dp_fits(product: Product, calls, resid, validity: int, scale: int,
            prorata: bool = False) -> bool:
    """True when the dynamic program's lattice for this product is within DP_MAX_POINTS."""
    return dp_points(product, calls, resid, validity, scale, prorata) <= DP_MAX_POINTS


def check_request(req) -> None:
    """Refuse (InputError, exit 2) a plan whose figures are beyond what the methods hold
    exactly: calls, or the cost of buying nothing (weighted over the scenarios, in money
    units), above MAX_EXACT, the largest whole number a double holds exactly."""
    total_weight = sum(req.weights)
    for pid in req.forecast.products():
        product = req.catalog.product(pid)
        top_rate = to_units(max((r for _, r, _ in product.tier_rates()), default=0), req.scale)
        for f in req.series:
            calls = f.calls(pid)
            most = max(calls, default=0)
            cost = top_rate * sum(calls) * total_weight
            if most > MAX_EXACT or cost > MAX_EXACT:
                what = (f"{most:,} calls in a month" if most > MAX_EXACT else
                        f"a postpaid cost of up to {cost:,} units of 1/{req.scale} "
                        f"{req.catalog.currency}" + (" (weighted over the scenarios)"
                                                     if total_weight > 1 else ""))
                why = ""
                if most <= MAX_EXACT and total_weight > 1000:
                    why = (f": the scenario weights are counted as whole numbers summing to "
                           f"{total_weight:,} (their decimals); fewer decimals in the weights "
                           f"lower it")
                elif most <= MAX_EXACT and req.scale > 100:
                    why = (f": the catalog's prices or rates have decimals finer than the "
                           f"fen, so money is counted in 1/{req.scale:,}")
                raise InputError(
                    f"{pid}: {what} is beyond the largest figure packopt plans exactly "
                    f"({MAX_EXACT:,} = 2^53; see docs/cli.md, 'Limits'){why}",
                    source=f.source, field="weight" if most <= MAX_EXACT and
                    total_weight > 1000 else "calls")
