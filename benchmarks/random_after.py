"""Random forecasts of issue #15's hardest class: 24 months, any month, after-packs, three
scale scenarios and a monthly budget, planned as a user would plan them.

    python -m benchmarks.random_after [--seed 1] [--count 12] [--time-limit 60]
        [--baseline /path/to/other-checkout]

Each instance: two to four products of the seed catalog, a base level of 5,000 to
400,000 calls a month with ±30 % noise month by month and the second year ×0.9–1.3,
scenarios ×0.8/×1/×1.25, ×0.88/×1/×1.14 or ×0.7/×1/×1.3 (weights 1/2/1), a monthly budget
of 10,000 to 100,000 CNY. Each is one `cli.py plan ... --format json` run as a fresh
process (`time_limits.run`); the table gives the wall time, the plan's status, its gap
and whether the tie-break was proven. The same seed gives the same instances.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

from .time_limits import REPO, _long, run

PRODUCTS = ["general_print", "id_card", "vat_invoice", "bank_card", "business_license",
            "general_handwriting", "vehicle_license", "business_card", "license_plate"]
SCALES = [(0.8, 1.25), (0.88, 1.14), (0.7, 1.3)]
CAPS = [10_000, 15_000, 20_000, 30_000, 40_000, 60_000, 100_000]


def instance(rng: random.Random) -> tuple[str, str, int, int]:
    """(forecast CSV, scenarios CSV, monthly budget, products) of one random instance."""
    products = rng.sample(PRODUCTS, rng.randint(2, 4))
    rows = []
    for p in products:
        base = rng.choice([5000, 20000, 50000, 150000, 400000])
        growth = rng.uniform(0.9, 1.3)
        for m in range(24):
            noise = 1 + 0.3 * rng.uniform(-1, 1)
            rows.append((p, m, int(base * noise * (growth if m >= 12 else 1))))
    low, high = rng.choice(SCALES)
    scenarios = f"scenario,weight,scale\nlow,1,{low}\nbase,2,1\nhigh,1,{high}\n"
    return _long(rows), scenarios, rng.choice(CAPS), len(products)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=12)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--baseline", help="another checkout to run beside this one")
    opts = ap.parse_args(argv)
    checkouts = [("ours", REPO)] + ([("baseline", Path(opts.baseline).resolve())]
                                    if opts.baseline else [])
    rng = random.Random(opts.seed)
    print("| # | products | monthly budget | checkout | wall s | status | gap | "
          "expected cost | tie-break |")
    print("|--:|--:|--:|---|--:|---|--:|--:|---|")
    with tempfile.TemporaryDirectory(prefix="packopt-random-after-") as tmp:
        for k in range(opts.count):
            forecast, scenarios, cap, n = instance(rng)
            f, s = Path(tmp) / f"f{k}.csv", Path(tmp) / f"s{k}.csv"
            f.write_text(forecast)
            s.write_text(scenarios)
            args = [str(f), "--purchase-months", "any", "--tier-basis", "after-packs",
                    "--scenarios", str(s), "--monthly-budget", str(cap),
                    "--time-limit", str(opts.time_limit)]
            for label, checkout in checkouts:
                r = run(checkout, args, opts.time_limit * 3 + 60)
                print(f"| {k} | {n} | {cap:,} | {label} | {r['wall']:.1f} | "
                      f"{r.get('status', r.get('error', r['exit']))} | {r.get('gap', '')} | "
                      f"{r.get('cost', '')} | {r.get('tie_break', '')} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
