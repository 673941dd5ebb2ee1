"""The price list as data: packs, postpaid tiers, free quota and validity.

Records only; reading a catalog TOML lives in `optimizer.io.catalog`.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property
from itertools import repeat

from ..exceptions import InputError

TIER_BASES = ("total", "after-packs")
UNPUBLISHED = "unpublished"


@dataclass(frozen=True)
class Pack:
    """A prepaid pack: `calls` calls for `price` (exact decimal, catalog currency)."""

    calls: int
    price: Decimal


@dataclass(frozen=True)
class Tier:
    """All-units tier: a month whose tier volume is <= up_to pays `rate` for every postpaid
    call (docs/pricing.md, rule 4).

    `up_to` is None for the last tier; `rate` is None where no rate is published.
    """

    up_to: int | None
    rate: Decimal | None


_TIER_TABLES: dict[int, tuple] = {}


def _tier_table(tiers: tuple[Tier, ...]) -> tuple:
    """(tiers, bounds, rates) of a tiers table, worked out once per table: the catalog
    reader shares one table among the products written with it (5,000 cloned products:
    one table). Keyed by identity; the entry holds the table, so its id stays its own."""
    hit = _TIER_TABLES.get(id(tiers))
    if hit is None or hit[0] is not tiers:
        if len(_TIER_TABLES) >= 4096:
            _TIER_TABLES.clear()
        bounds = []
        for t in tiers:
            if t.up_to is None:
                break
            bounds.append(t.up_to)
        ascending = all(a < b for a, b in zip(bounds, bounds[1:]))
        rates, last = [], None
        for t in tiers:
            if t.rate is not None:
                last = t.rate
                rates.append((t.rate, True))
            else:
                rates.append(None if last is None else (last, False))
        hit = (tiers, bounds if ascending and len(bounds) < len(tiers) else None, rates)
        if type(tiers) is tuple:         # (a list could change: not kept)
            _TIER_TABLES[id(tiers)] = hit
    return hit


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    packs: tuple[Pack, ...]
    tiers: tuple[Tier, ...]
    free_calls: int
    aliases: tuple[str, ...] = ()   # other names in bills and exports (io/history.py)

    @property
    def has_packs(self) -> bool:
        return bool(self.packs)

    def pack(self, calls: int) -> Pack | None:
        for p in self.packs:
            if p.calls == calls:
                return p
        return None

    @property
    def _bounds(self) -> list[int] | None:
        """The tiers' upper bounds before the open-ended one, when they ascend (what a
        binary search needs; validated catalogs always do), else None."""
        return _tier_table(self.tiers)[1]

    def tier_index(self, volume: int) -> int:
        """Index of the tier reached by a month's tier volume (inclusive upper bounds; which
        volume is the catalog's `tier_basis`, docs/pricing.md, rule 5)."""
        bounds = self._bounds
        if bounds is not None:
            return bisect_left(bounds, volume)
        for i, t in enumerate(self.tiers):
            if t.up_to is None or volume <= t.up_to:
                return i
        return len(self.tiers) - 1

    @property
    def _rates(self) -> list[tuple[Decimal, bool] | None]:
        """Per tier, what `rate` returns for it (None: no published rate at or below it)."""
        return _tier_table(self.tiers)[2]

    def rate(self, volume: int) -> tuple[Decimal, bool]:
        """(rate per call, published?) for a month's tier volume.

        An unpublished top tier is priced at the last published rate (docs/pricing.md,
        rule 6 and 'Readings': unpublished rate); the flag lets the caller warn.
        """
        found = self._rates[self.tier_index(volume)]
        if found is None:
            raise AssertionError("validated catalogs have a published rate")
        return found

    def rates(self, volumes) -> list[tuple[Decimal, bool]]:
        """`rate(v)` for each of `volumes` (a bill's months, in one call)."""
        _, bounds, found = _tier_table(self.tiers)
        if bounds is None or None in found:
            return [self.rate(v) for v in volumes]
        return [found[i] for i in map(bisect_left, repeat(bounds), volumes)]

    def tier_rates(self) -> list[tuple[int | None, Decimal, bool]]:
        """Every tier as (up_to, effective rate, published?)."""
        out = []
        last = None
        for t in self.tiers:
            if t.rate is not None:
                last = t.rate
            out.append((t.up_to, t.rate if t.rate is not None else last, t.rate is not None))
        return out


@dataclass(frozen=True)
class Catalog:
    currency: str
    validity_months: int
    tier_basis: str
    products: tuple[Product, ...]
    source: str = "built-in seed catalog"
    # Products whose unpublished top tier a negotiated rate replaced (--negotiated-rate):
    # the report names those rates among the prices its figures rest on.
    negotiated: tuple[str, ...] = ()

    @cached_property
    def _index(self) -> dict[str, Product]:
        """Id or name -> the first product with that id or name (what a scan would find)."""
        index: dict[str, Product] = {}
        for p in self.products:
            index.setdefault(p.id, p)
            index.setdefault(p.name, p)
        return index

    def get(self, key: str) -> Product | None:
        """A product by id or by name (exact), else None."""
        return self._index.get(key)

    def product(self, pid: str) -> Product:
        p = self.get(pid)
        if p is None:
            raise KeyError(pid)
        return p

    def suggest(self, key: str) -> str | None:
        """The closest product id to a misspelt one, for error messages."""
        import difflib  # error messages only: kept off the import path
        by_lower = {p.id.lower(): p.id for p in self.products}
        by_lower.update({p.name.lower(): p.id for p in self.products})
        hits = difflib.get_close_matches(key.strip().lower(), list(by_lower), n=1, cutoff=0.5)
        return by_lower[hits[0]] if hits else None

    def with_tier_basis(self, basis: str | None) -> "Catalog":
        if basis is None:
            return self
        if basis not in TIER_BASES:
            raise InputError(f"tier basis must be one of {', '.join(TIER_BASES)}, not '{basis}'",
                             field="tier_basis")
        return replace(self, tier_basis=basis)

    def with_negotiated_rates(self, rates: dict[str, Decimal]) -> "Catalog":
        """Replace the unpublished top tier of named products with a negotiated rate."""
        if not rates:
            return self
        products, negotiated = [], list(self.negotiated)
        for p in self.products:
            r = rates.get(p.id)
            if r is not None and p.tiers[-1].rate is None:
                p = replace(p, tiers=p.tiers[:-1] + (Tier(None, r),))
                negotiated.append(p.id)
            products.append(p)
        return replace(self, products=tuple(products), negotiated=tuple(negotiated))

