"""Caps per month or 12-month block in any month (issue 15): the stream model (the default
route) against the cohort model it replaced, whole plan() call, in one process.

    python -m benchmarks.periodic_caps monthly-any-24m yearly-any-24m [--limit 60]

"today" is the same call with the cohort model forced back in (`_product_model` given
`algorithm="milp"`), behind the same frontier relaxation, with a time limit.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from benchmarks.families import FAMILIES
from optimizer.solve import engines
from optimizer.solve.planner import plan


def main(argv=None) -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("families", nargs="+")
    args.add_argument("--size", type=int, default=9)
    args.add_argument("--limit", type=float, default=60.0, help="time limit for today's")
    opts = args.parse_args(argv)
    stream = engines._product_model

    def cohort(req, prob, pid, tag):
        return stream(replace(req, algorithm="milp"), prob, pid, tag)

    try:
        for name in opts.families:
            inst = FAMILIES[name].instance(opts.size)
            for label, model, limit in (("ours", stream, None), ("today", cohort, opts.limit)):
                engines._product_model = model
                t0 = time.perf_counter()
                r = plan(inst.catalog, inst.forecast, regret=False, time_limit=limit,
                         **inst.plan_options)
                print(f"{name} {label}: {time.perf_counter() - t0:.2f} s {r.status} "
                      f"total {r.bill.total_cost} spend {r.bill.pack_cost} gap {r.gap}",
                      flush=True)
    finally:
        engines._product_model = stream


if __name__ == "__main__":
    main()
