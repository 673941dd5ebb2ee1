"""The default route against `algorithm="milp"` on random capped instances: two or three
products with packs, 3 to 13 months, either tier basis, none to three scenarios (expected
or worst case), a total, monthly or yearly cap. The two routes share no method where it
matters (spend frontiers, products apart under the caps, stream models against the cohort
and just-in-time models), so where both prove an optimum they must agree on its cost and,
with both tie-breaks proven, on its (spend, calls, packs); a plan either only finds must
not beat the other's proven optimum. It found the scenario models buying only in months
with calls under a monthly cap (issue #15, eighth session).

    python -m benchmarks.cross_milp --seeds 1,2 [--count 150] [--months 3,4,5,6,7,13]
        [--time-limit 60] [--purchase-months any[,start]] [--carry-over zero[,prorata]]
        [--no-cap]

With several purchase modes or carry-over valuations, each instance draws one of them.
`--no-cap` drops the cap each instance draws (the exact searches against the integer
programs: under prorata `milp` is the cohort model, the default the dynamic program or
the after-packs search).

Prints one line per instance and one per difference; exits 1 when any instance differs
or crashes.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from decimal import Decimal

from optimizer import Forecast, Month, Scenario, parse_catalog, plan

CATALOG = """
free_calls_per_month = 300
validity_months = {validity}
tier_basis = "{basis}"
[[product]]
id = "p"
packs = [ {{ calls = 1000, price = "90" }}, {{ calls = 3000, price = "240" }} ]
tiers = [ {{ up_to = 1500, rate = "0.15" }}, {{ up_to = 3000, rate = "0.10" }},
          {{ rate = "0.06" }} ]
[[product]]
id = "r"
packs = [ {{ calls = 2000, price = "150" }}, {{ calls = 5000, price = "330" }} ]
tiers = [ {{ up_to = 2500, rate = "0.12" }}, {{ rate = "0.08" }} ]
[[product]]
id = "s"
packs = [ {{ calls = 500, price = "40" }}, {{ calls = 4000, price = "280" }} ]
tiers = [ {{ up_to = 1000, rate = "0.11" }}, {{ rate = "0.09" }} ]
"""


def instance(rng: random.Random, months: list[int], modes=("any",), carry=("zero",),
             capped: bool = True):
    """A random capped request: (catalog, forecast, plan options, description)."""
    basis = rng.choice(["total", "after-packs"])
    validity = rng.choice([2, 3, 12])
    T, n = rng.choice(months), rng.choice([2, 3])
    cat = parse_catalog(CATALOG.format(validity=validity, basis=basis), "cross.toml")
    demand = tuple((pid, tuple(rng.choice([0, rng.randint(0, 4000), rng.randint(2000, 9000)])
                               for _ in range(T))) for pid in "prs"[:n])
    fc = Forecast(Month.parse("2027-01"), T, demand)
    k = rng.choice([0, 0, 2, 3])
    scenarios = tuple(Scenario(f"s{j}", Decimal(rng.randint(1, 3)), fc.scaled(
        Decimal(rng.choice(["0.7", "1", "1.3", "1.6"])))) for j in range(k))
    objective = rng.choice(["expected", "expected", "worst-case"]) if k else "expected"
    cap = rng.choice(["budget", "monthly_budget", "yearly_budget"])
    amount = Decimal(rng.choice([0, 90, 150, 300, 500, 800, 1200, 2000]))
    if cap == "yearly_budget":
        amount *= 4
    options = dict(purchase_months="any", scenarios=scenarios, objective=objective,
                   regret=False, **{cap: amount})
    if len(modes) > 1 or len(carry) > 1 or modes != ("any",) or carry != ("zero",):
        # (drawn only when asked for: the default sweep's instances stay as they were)
        options.update(purchase_months=rng.choice(modes), carry_over=rng.choice(carry))
    if not capped:
        del options[cap]             # (drawn all the same: the instances stay as they were)
    what = (f"basis={basis} validity={validity} months={T} products={n} scenarios={k} "
            f"{objective} {cap}={amount if capped else None} {options['purchase_months']} "
            f"{options.get('carry_over', 'zero')} demand={demand}")
    return cat, fc, options, what


def key(result) -> tuple:
    """(objective cost, spend, calls bought, packs) of a plan."""
    bought = result.plan.purchases
    return (result.objective_cost, result.bill.pack_cost,
            sum(b.size * b.count for b in bought), sum(b.count for b in bought))


def compare(default, milp) -> str | None:
    """Why the two results disagree, or None."""
    a, b = key(default), key(milp)
    if default.status == milp.status == "optimal":
        if a[0] != b[0] or (default.tie_break_proven and milp.tie_break_proven and a != b):
            return f"both optimal: {a} against {b}"
    elif default.status == "optimal" and b[0] < a[0]:
        return f"milp's feasible plan {b} beats the proven {a}"
    elif milp.status == "optimal" and a[0] < b[0]:
        return f"the default route's feasible plan {a} beats milp's proven {b}"
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--count", type=int, default=150)
    parser.add_argument("--months", default="3,4,5,6,7,13")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--purchase-months", default="any")
    parser.add_argument("--carry-over", default="zero")
    parser.add_argument("--no-cap", action="store_true")
    args = parser.parse_args(argv)
    modes = tuple(args.purchase_months.split(","))
    carry = tuple(args.carry_over.split(","))
    months = [int(m) for m in args.months.split(",")]
    bad = 0
    for seed in (int(s) for s in args.seeds.split(",")):
        rng = random.Random(seed)
        for i in range(args.count):
            cat, fc, options, what = instance(rng, months, modes, carry, not args.no_cap)
            try:
                t0 = time.perf_counter()
                default = plan(cat, fc, time_limit=args.time_limit, **options)
                t1 = time.perf_counter()
                milp = plan(cat, fc, algorithm="milp", time_limit=args.time_limit, **options)
                t2 = time.perf_counter()
            except Exception as e:        # a crash is a finding too
                bad += 1
                print(f"seed {seed} #{i}: crash {e!r}: {what}", flush=True)
                continue
            why = compare(default, milp)
            bad += why is not None
            print(f"seed {seed} #{i}: {default.status}/{milp.status} in {t1 - t0:.1f}/"
                  f"{t2 - t1:.1f} s" + (f": DIFFERS, {why}: {what}" if why else ""),
                  flush=True)
    print(f"{bad} instance(s) differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
