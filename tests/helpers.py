"""Small builders shared by the library-level tests (not fixtures: plain functions)."""

from __future__ import annotations

from decimal import Decimal

from optimizer.io.catalog import load_catalog, parse_catalog
from optimizer.domain.records import Forecast, Holding, Plan, Purchase
from optimizer.domain.months import Month

SEED = load_catalog()

FEN = Decimal("0.01")


def M(text: str) -> Month:
    return Month.parse(text)


def D(text: str) -> Decimal:
    return Decimal(text)


def forecast(demand: dict[str, list[int]], start: str = "2027-01") -> Forecast:
    """A forecast built directly: {product id: [calls per month]}; all lists equally long."""
    lengths = {len(v) for v in demand.values()}
    assert len(lengths) == 1, "every product must cover the same months"
    return Forecast(M(start), lengths.pop(), tuple((pid, tuple(c)) for pid, c in demand.items()),
                    "test forecast")


def plan(*rows: tuple[str, str, int, int]) -> Plan:
    """A plan from (product, month, size, count) rows."""
    return Plan(tuple(Purchase(p, M(m), size, count) for p, m, size, count in rows), "test plan")


def holding(product: str, expires: str, calls_left: int) -> Holding:
    return Holding(product, M(expires), calls_left)


def is_fen(amount: Decimal) -> bool:
    """True when an amount is a whole number of fen (no sub-fen digits)."""
    return amount == amount.quantize(FEN)


def catalog_text(products: str, **top) -> str:
    """A catalog TOML: top-level keys (strings quoted when given as str) then product tables."""
    lines = []
    for k, v in top.items():
        lines.append(f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}")
    return "\n".join(lines) + "\n\n" + products.strip() + "\n"


def custom_catalog(products: str, source: str = "custom.toml", **top):
    return parse_catalog(catalog_text(products, **top), source)


def two_pack_model(at_least: int):
    """min 3x + 5y with 2x + 3y >= `at_least` over integers 0..10: a model small enough
    for any solver, for tests of the solver adapter (7: the optimum 11 at (2, 1))."""
    import pulp
    prob = pulp.LpProblem("small", pulp.LpMinimize)
    x = prob.add_variable("x", 0, 10, cat="Integer")
    y = prob.add_variable("y", 0, 10, cat="Integer")
    prob += 3 * x + 5 * y
    prob += 2 * x + 3 * y >= at_least
    return prob, x, y
