"""Named, seeded instance families: the registry the runner sweeps.

Every instance is a catalog plus a forecast, generated from numpy `default_rng` with a
seed, so a family name, a size and a seed reproduce it exactly. Product i of a mixed
family is drawn from `default_rng([seed, i])`: the instance with 100 products contains the
one with 9 as its first nine products, so a size sweep grows one population.

Products are clones of the seed catalog's products (same packs, tiers and free quota)
with numbered ids, so a forecast can hold a thousand of them. Most are products with
packs; a few are the postpaid-only VAT invoice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Callable

import numpy as np

from optimizer.catalog import Catalog, load_catalog
from optimizer.inputs import Forecast, parse_forecast
from optimizer.months import Month

START = Month.parse("2027-01")
SHAPES = ("flat", "growing", "seasonal", "reverse-seasonal", "spiky")
ANNUAL_RANGE = (3_000, 30_000_000)     # calls a year, drawn log-uniform per product
POSTPAID_ONLY_SHARE = 0.08             # share of products that are the VAT invoice


@dataclass(frozen=True)
class Instance:
    """One benchmark problem: what the methods are given, and how it was made."""

    family: str
    size: int                 # products
    months: int
    basis: str                # tier basis
    seed: int
    catalog: Catalog
    forecast: Forecast
    shapes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.family}/{self.size}x{self.months}"

    @property
    def annual_calls(self) -> int:
        return sum(sum(calls[:12]) for _, calls in self.forecast.demand)


@dataclass(frozen=True)
class Family:
    """A generator with its size sweep (products) and the size used in smoke runs."""

    name: str
    description: str
    months: int
    basis: str
    sizes: tuple[int, ...]
    smoke_sizes: tuple[int, ...]
    make: Callable[[int, int], Instance] = field(repr=False)
    seed: int = 2027
    fixed_size: bool = False   # the size is the data's (e.g. the bundled example)

    def instance(self, size: int, seed: int | None = None) -> Instance:
        return self.make(size, self.seed if seed is None else seed)


# --------------------------------------------------------------------------- demand

def demand_shape(rng: np.random.Generator, shape: str, months: int) -> np.ndarray:
    """Relative monthly demand, normalised so that the first year averages 1."""
    m = np.arange(months, dtype=float)
    if shape == "flat":
        f = np.ones(months)
    elif shape == "growing":
        growth = rng.uniform(0.3, 2.0)                 # +30 % to +200 % a year
        f = (1.0 + growth) ** (m / 12.0)
    elif shape == "seasonal":                          # low early, peak late in the year
        peak, amp = rng.integers(8, 12), rng.uniform(0.3, 0.8)
        f = 1.0 + amp * np.cos(2 * math.pi * (m - peak) / 12.0)
    elif shape == "reverse-seasonal":                  # peak at the start, trough mid-year
        peak, amp = rng.integers(0, 3), rng.uniform(0.3, 0.8)
        f = 1.0 + amp * np.cos(2 * math.pi * (m - peak) / 12.0)
    elif shape == "spiky":                             # a quiet base with a few campaigns
        f = np.ones(months)
        hits = rng.choice(months, size=int(rng.integers(1, 4)), replace=False)
        f[hits] *= rng.uniform(3.0, 10.0, size=len(hits))
    else:
        raise ValueError(f"unknown demand shape {shape!r}")
    f = f * rng.lognormal(0.0, 0.08, size=months)      # month-to-month noise
    return f / f[:12].mean()


def product_demand(rng: np.random.Generator, months: int, shape: str) -> tuple[int, ...]:
    lo, hi = ANNUAL_RANGE
    annual = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    f = demand_shape(rng, shape, months)
    return tuple(int(round(x)) for x in np.maximum(annual / 12.0 * f, 0.0))


# --------------------------------------------------------------------------- families

def _seed_catalog(basis: str) -> Catalog:
    return load_catalog().with_tier_basis(basis)


def bundled_example(basis: str, family: str) -> Callable[[int, int], Instance]:
    """The 9-product forecast shipped with packopt (`packopt plan` with no argument)."""
    def make(size: int, seed: int) -> Instance:
        catalog = _seed_catalog(basis)
        text = resources.files("optimizer").joinpath("data/example_forecast.csv") \
            .read_text("utf-8")
        fc = parse_forecast(text, catalog, "bundled example forecast")
        return Instance(family, len(fc.demand), fc.months, basis, seed, catalog, fc)
    return make


def mixed(months: int, basis: str, family: str) -> Callable[[int, int], Instance]:
    """`size` products, each a seed product clone with its own volume and demand shape."""
    def make(size: int, seed: int) -> Instance:
        seedcat = _seed_catalog(basis)
        with_packs = [p for p in seedcat.products if p.has_packs]
        postpaid_only = [p for p in seedcat.products if not p.has_packs]
        products, demand, shapes = [], [], []
        for i in range(size):
            rng = np.random.default_rng([seed, i])
            pool = postpaid_only if postpaid_only and rng.random() < POSTPAID_ONLY_SHARE \
                else with_packs
            base = pool[int(rng.integers(len(pool)))]
            shape = SHAPES[i % len(SHAPES)]              # every shape in every 5 products
            pid = f"{base.id}-{i + 1:04d}"
            products.append(replace(base, id=pid, name=f"{base.name} #{i + 1}"))
            demand.append((pid, product_demand(rng, months, shape)))
            shapes.append(shape)
        catalog = replace(seedcat, products=tuple(products),
                          source=f"seed catalog, {size} cloned products")
        fc = Forecast(START, months, tuple(demand), f"{family} size {size} seed {seed}")
        return Instance(family, size, months, basis, seed, catalog, fc, tuple(shapes))
    return make


FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("example", "the bundled 9-product example forecast, total tier basis",
           12, "total", (9,), (9,), bundled_example("total", "example"), fixed_size=True),
    Family("example-after-packs", "the bundled example under the after-packs tier basis",
           12, "after-packs", (9,), (9,), bundled_example("after-packs", "example-after-packs"),
           fixed_size=True),
    Family("mixed-12m", "N seed-product clones x 12 months, mixed shapes and volumes, total "
           "basis", 12, "total", (9, 100, 1000), (5,), mixed(12, "total", "mixed-12m")),
    Family("mixed-24m", "N products x 24 months (packs bought at the start cover the first "
           "12), total basis", 24, "total", (9, 100), (5,), mixed(24, "total", "mixed-24m")),
    Family("after-packs", "N products x 12 months under the after-packs tier basis", 12,
           "after-packs", (9, 100), (5,), mixed(12, "after-packs", "after-packs")),
    Family("after-packs-24m", "N products x 24 months under the after-packs tier basis", 24,
           "after-packs", (9, 100), (5,), mixed(24, "after-packs", "after-packs-24m")),
)}


def family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown family {name!r}; known: {', '.join(FAMILIES)}") from None
