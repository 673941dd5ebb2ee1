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
from decimal import Decimal
from importlib import resources
from typing import Callable

import numpy as np

from optimizer.domain.catalog import Catalog
from optimizer.io.catalog import load_catalog
from optimizer.domain.records import Forecast
from optimizer.io.forecast import parse_forecast
from optimizer.domain.months import Month

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
    # Keyword options passed to plan(...) beside catalog and forecast: purchase_months,
    # scenarios (a tuple of optimizer.solve.planner.Scenario), objective, budget. A tuple of
    # (name, value) pairs, so the instance stays frozen; empty for start mode.
    options: tuple[tuple[str, object], ...] = ()

    @property
    def plan_options(self) -> dict:
        return dict(self.options)

    @property
    def scenarios(self) -> tuple:
        return tuple(self.plan_options.get("scenarios", ()))

    @property
    def start_mode_single(self) -> bool:
        """Plain start mode, one forecast, no budget: what every method can solve."""
        o = self.plan_options
        return o.get("purchase_months", "start") == "start" and not o.get("scenarios") \
            and o.get("budget") is None and o.get("monthly_budget") is None \
            and o.get("yearly_budget") is None

    @property
    def label(self) -> str:
        extra = f"x{len(self.scenarios)}sc" if self.scenarios else ""
        return f"{self.family}/{self.size}x{self.months}{extra}"

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
    make: Callable[..., Instance] = field(repr=False)
    seed: int = 2027
    fixed_size: bool = False   # the size is the data's (e.g. the bundled example)
    smoke_params: tuple[tuple[str, object], ...] = ()   # extra make() keywords in smoke runs
    smoke_time_limit: float | None = None   # a shorter per-run limit in smoke runs

    def instance(self, size: int, seed: int | None = None, smoke: bool = False) -> Instance:
        params = dict(self.smoke_params) if smoke else {}
        return self.make(size, self.seed if seed is None else seed, **params)


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


def any_month(months: int, basis: str, family: str) -> Callable[[int, int], Instance]:
    """`mixed` products, planned with purchase_months="any" (packs bought in any month)."""
    base = mixed(months, basis, family)

    def make(size: int, seed: int) -> Instance:
        return replace(base(size, seed), options=(("purchase_months", "any"),))
    return make


SCALE_RANGE = (0.5, 1.5)       # scenario demand multipliers, drawn uniform
WEIGHT_RANGE = (1, 9)          # scenario weights, whole numbers drawn uniform


def scale_scenarios(months: int, basis: str, family: str,
                    count: int = 50) -> Callable[..., Instance]:
    """`mixed` products in start mode with `count` scenarios, each the forecast times a
    multiplier (0.5-1.5, to the hundredth) with a weight (1-9); objective expected."""
    base = mixed(months, basis, family)

    def make(size: int, seed: int, scenarios: int = count) -> Instance:
        from optimizer.solve.planner import Scenario
        inst = base(size, seed)
        rng = np.random.default_rng([seed, 1_000_003, scenarios])
        scen = []
        for k in range(scenarios):
            mult = Decimal(f"{rng.uniform(*SCALE_RANGE):.2f}")
            weight = Decimal(int(rng.integers(WEIGHT_RANGE[0], WEIGHT_RANGE[1] + 1)))
            scen.append(Scenario(f"s{k + 1:02d}x{mult}", weight, inst.forecast.scaled(mult)))
        return replace(inst, options=(("scenarios", tuple(scen)), ("objective", "expected")))
    return make


def any_scenarios(months: int, basis: str, family: str, count: int = 20,
                  objective: str = "expected") -> Callable[..., Instance]:
    """`scale_scenarios` with packs bought in any month: one dated schedule shared by every
    scenario (scenario_any.py's model, one per product; worst-case: one joint model)."""
    base = scale_scenarios(months, basis, family, count)

    def make(size: int, seed: int, scenarios: int = count) -> Instance:
        inst = base(size, seed, scenarios)
        opts = dict(inst.options, purchase_months="any", objective=objective)
        return replace(inst, options=tuple(opts.items()))
    return make


BUDGET_SHARE = Decimal("0.5")  # the budget: this share of the unconstrained optimum's packs


def budgeted(months: int, basis: str, family: str) -> Callable[[int, int], Instance]:
    """`mixed` products in start mode with a cap on total prepaid spend: half of what the
    unconstrained optimum spends on packs (found by one plan() call here, with HiGHS)."""
    base = mixed(months, basis, family)

    def make(size: int, seed: int) -> Instance:
        from optimizer.solve.planner import plan
        inst = base(size, seed)
        free = plan(inst.catalog, inst.forecast, solver="highs")
        if free.status != "optimal":
            raise RuntimeError(f"{family} size {size}: the unconstrained plan is not optimal")
        cap = (free.bill.pack_cost * BUDGET_SHARE).quantize(Decimal("0.01"))
        return replace(inst, options=(("budget", cap),))
    return make


def any_month_capped(months: int, basis: str, family: str,
                     cap: str) -> Callable[[int, int], Instance]:
    """`mixed` products in any month with one prepaid cap (issue 15): `budget`, half the
    unconstrained any-month optimum's pack spend; `yearly_budget`, that half split evenly
    over the 12-month blocks; `monthly_budget`, that half over the months."""
    base = mixed(months, basis, family)

    def make(size: int, seed: int) -> Instance:
        from optimizer.solve.planner import plan
        inst = base(size, seed)
        free = plan(inst.catalog, inst.forecast, purchase_months="any")
        half = free.bill.pack_cost * BUDGET_SHARE
        per = {"budget": 1, "yearly_budget": -(-months // 12), "monthly_budget": months}[cap]
        amount = (half / per).quantize(Decimal("0.01"))
        return replace(inst, options=(("purchase_months", "any"), (cap, amount)))
    return make


def worst_case_scenarios(months: int, basis: str, family: str) -> Callable[..., Instance]:
    """`scale_scenarios` with the worst-case objective (issue 15)."""
    base = scale_scenarios(months, basis, family)

    def make(size: int, seed: int, scenarios: int = 50) -> Instance:
        inst = base(size, seed, scenarios)
        return replace(inst, options=(("scenarios", inst.scenarios),
                                      ("objective", "worst-case")))
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
    # Other modes: only the planner (ours-*) solves these; the other methods are n/a.
    Family("any-12m", "N products x 12 months, packs bought in any month "
           "(purchase_months any), total basis", 12, "total", (9, 100), (3,),
           any_month(12, "total", "any-12m")),
    # smoke: the integer-program methods (ours-milp, baseline) can need more than 20 s on
    # 3x24 (the dynamic program a few hundredths); a 5 s limit keeps the smoke run short and
    # exercises the timed-out path (a plan with its gap, not a failure).
    Family("any-24m", "N products x 24 months, purchase_months any, total basis", 24, "total",
           (9, 100), (3,), any_month(24, "total", "any-24m"), smoke_time_limit=5.0),
    Family("any-36m", "N products x 36 months, purchase_months any, total basis", 36, "total",
           (9, 100), (2,), any_month(36, "total", "any-36m")),
    # Any month under after-packs: the exact search of after_packs.py; the cohort integer
    # program (ours-milp) is the comparison (it can need minutes on one 24-month product).
    Family("any-after-24m", "N products x 24 months, purchase_months any, after-packs basis",
           24, "after-packs", (9, 100), (2,), any_month(24, "after-packs", "any-after-24m"),
           smoke_time_limit=5.0),
    # The months sweep (12, 24, 36, 60 months at a given number of products, --sizes) beside
    # the products sweep: mixed-12m, mixed-24m, mixed-36m, mixed-60m in start mode and
    # any-12m, any-24m, any-36m, any-60m in any month; any-60m at 1,000 products is the
    # largest family (issue #16).
    Family("mixed-36m", "N products x 36 months, start mode, total basis", 36, "total",
           (9, 100, 1000), (3,), mixed(36, "total", "mixed-36m")),
    Family("mixed-60m", "N products x 60 months, start mode, total basis", 60, "total",
           (9, 100, 1000), (3,), mixed(60, "total", "mixed-60m")),
    Family("any-60m", "N products x 60 months, purchase_months any, total basis", 60, "total",
           (9, 100, 1000), (2,), any_month(60, "total", "any-60m"), smoke_time_limit=5.0),
    Family("scenarios-12m", "N products x 12 months, start mode, 50 scale scenarios "
           "(multipliers 0.5-1.5, weights 1-9; smoke: 5), objective expected", 12, "total",
           (9,), (3,), scale_scenarios(12, "total", "scenarios-12m"),
           smoke_params=(("scenarios", 5),)),
    Family("any-scenarios-12m", "N products x 12 months, packs bought in any month, 20 "
           "scale scenarios (as scenarios-12m; smoke: 3), objective expected", 12, "total",
           (9,), (3,), any_scenarios(12, "total", "any-scenarios-12m"),
           smoke_params=(("scenarios", 3),), smoke_time_limit=5.0),
    Family("any-scenarios-24m", "N products x 24 months (beyond the packs' validity), packs "
           "bought in any month, 20 scale scenarios (smoke: 3), objective expected", 24,
           "total", (9,), (3,), any_scenarios(24, "total", "any-scenarios-24m"),
           smoke_params=(("scenarios", 3),), smoke_time_limit=5.0),
    Family("any-worst-12m", "N products x 12 months, packs bought in any month, 50 scale "
           "scenarios (smoke: 3), objective worst-case", 12, "total", (9,), (3,),
           any_scenarios(12, "total", "any-worst-12m", 50, "worst-case"),
           smoke_params=(("scenarios", 3),), smoke_time_limit=5.0),
    Family("budget-12m", "N products x 12 months, start mode, total prepaid spend capped at "
           "50 % of the unconstrained optimum's pack cost", 12, "total", (9, 50, 200), (5,),
           budgeted(12, "total", "budget-12m")),
    Family("budget-any-24m", "N products x 24 months, any month, total prepaid spend capped "
           "at 50 % of the unconstrained any-month optimum's pack cost", 24, "total", (9,),
           (3,), any_month_capped(24, "total", "budget-any-24m", "budget")),
    Family("yearly-any-24m", "N products x 24 months, any month, each 12-month block's spend "
           "capped at 25 % of the unconstrained optimum's pack cost", 24, "total", (9,), (3,),
           any_month_capped(24, "total", "yearly-any-24m", "yearly_budget"),
           smoke_time_limit=5.0),
    Family("monthly-any-24m", "N products x 24 months, any month, each month's spend capped "
           "at 1/48 of the unconstrained optimum's pack cost", 24, "total", (9,), (3,),
           any_month_capped(24, "total", "monthly-any-24m", "monthly_budget"),
           smoke_time_limit=5.0),
    Family("worst-case-12m", "N products x 12 months, start mode, 50 scale scenarios "
           "(smoke: 5), objective worst-case", 12, "total", (9,), (3,),
           worst_case_scenarios(12, "total", "worst-case-12m"),
           smoke_params=(("scenarios", 5),)),
)}


def family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown family {name!r}; known: {', '.join(FAMILIES)}") from None
