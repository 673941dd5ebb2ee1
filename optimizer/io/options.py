"""Option values given as text (on the command line, in a config file or the environment):
negotiated rates, money amounts and demand scales, each checked with a message naming the flag."""

from __future__ import annotations

import re
from decimal import Decimal

from ..domain.catalog import Catalog
from ..exceptions import InputError
from .catalog import load_catalog
from .text import AMOUNT_WORDS, parse_decimal, resolve_product, shown, too_large, too_large_words


def parse_negotiated_rates(values, catalog) -> dict[str, Decimal]:
    """PRODUCT=RATE options, checked against the catalog in use. Two different rates for
    one product (by its id or name) conflict: which was meant cannot be guessed."""
    rates: dict[str, Decimal] = {}
    spelt: dict[str, str] = {}          # product id -> its rate as first written
    for raw in values:
        src = "--negotiated-rate"
        if "=" not in raw:
            raise InputError(f"expected PRODUCT=RATE, got '{raw}'", source=src)
        key, value = (s.strip() for s in raw.split("=", 1))
        product = resolve_product(catalog, key, source=src, line=None, field_name=None)
        if product.tiers[-1].rate is not None:
            raise InputError(f"{product.id} has no unpublished top tier in {catalog.source}; "
                             f"a negotiated rate replaces only an unpublished one", source=src)
        rate = parse_decimal(value)
        if rate is None or not rate.is_finite() or rate < 0 or too_large(rate):
            raise InputError(f"rate for {product.id} must be a non-negative decimal number "
                             f"{AMOUNT_WORDS}, not '{shown(value)}'", source=src)
        if product.id in rates and rates[product.id] != rate:
            raise InputError(f"conflicting rates for {product.id}: "
                             f"'{shown(spelt[product.id])}' and '{shown(value)}'; give one",
                             source=src)
        rates[product.id] = rate
        spelt.setdefault(product.id, value)
    return rates


def parse_amount(value: str | None, flag: str) -> Decimal | None:
    """A money option (--budget 20000, --monthly-budget 5000.50) as an exact Decimal."""
    if value is None:
        return None
    text = str(value).strip()
    amount = parse_decimal(text, plain=True)
    if amount is None:
        hint = " (no thousands separators)" if re.fullmatch(r"[\d,]+(\.\d*)?", text, re.A) \
            else " (digits 0-9, not full-width ones)" if any(
                c.isdigit() and not c.isascii() for c in text) else ""
        raise InputError(f"expected a non-negative amount in the catalog's currency, such as "
                         f"20000 or 1500.50, not '{shown(value)}'{hint}", source=flag)
    if too_large(amount):
        raise InputError(too_large_words("the amount", text), source=flag)
    return amount


def parse_scales(value: str) -> list[Decimal]:
    """--scale 0.5,0.8,1,1.2: positive decimal multiples of the forecast, in the order given."""
    scales = []
    for raw in value.split(","):
        d = parse_decimal(raw, plain=True)
        if d is not None and too_large(d):
            raise InputError(too_large_words("scale", raw.strip()), source="--scale")
        if d is None or d <= 0:
            spelt = parse_decimal(raw)
            hint = " (write it out, without an exponent)" if d is None and spelt is not None \
                and spelt.is_finite() and spelt > 0 and "e" in raw.lower() else ""
            raise InputError(f"each scale must be a positive decimal number (such as 0.8), "
                             f"not '{shown(raw.strip())}'{hint}", source="--scale")
        if d not in scales:
            scales.append(d)
    return scales


def catalog_in_force(path: str | None = None, tier_basis: str | None = None,
                     negotiated_rates=()) -> Catalog:
    """The catalog a command works with: the file at `path` (default: the built-in seed
    catalog), its tier basis overridden by `tier_basis`, and PRODUCT=RATE negotiated rates
    for unpublished top tiers."""
    catalog = load_catalog(path).with_tier_basis(tier_basis)
    return catalog.with_negotiated_rates(parse_negotiated_rates(negotiated_rates, catalog))
