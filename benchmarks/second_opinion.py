"""Every integer program HiGHS calls optimal during a plan, solved a second time by HiGHS
with presolve off: a check for wrong optima from the solver (benchmarks/README.md,
"Findings" 4). Billing cannot catch those: a plan that is not the cheapest bills at the
cost the solver gave it.

    python -m benchmarks.second_opinion any-scenarios-12m --basis after-packs --size 9 \
        --seeds 1,2,3 [--check-limit 120]

Prints one line per plan and one per difference; exits 1 when any model differs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from benchmarks.families import FAMILIES
from optimizer.solve import solvers
from optimizer.solve.planner import plan


def second_opinion(prob, limit: float) -> float | None:
    """`prob`'s optimum by HiGHS with presolve off (with the objective's constant), or
    None when that solve does not prove one within `limit` seconds."""
    import highspy
    with tempfile.TemporaryDirectory(prefix="packopt-second-") as tmp:
        path = os.path.join(tmp, "model.mps")
        prob.writeMPS(path)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.readModel(path)
    for key, value in (("mip_rel_gap", 0.0), ("mip_abs_gap", solvers.ABS_GAP),
                       ("presolve", "off"), ("time_limit", limit)):
        h.setOptionValue(key, value)
    h.run()
    if h.modelStatusToString(h.getModelStatus()) != "Optimal":
        return None
    constant = prob.objective.constant if prob.objective is not None else 0
    return h.getInfo().objective_function_value + constant


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("family", choices=sorted(FAMILIES))
    ap.add_argument("--basis", default=None, help="tier basis (default: the family's)")
    ap.add_argument("--size", type=int, default=9)
    ap.add_argument("--seeds", default="2027", help="comma-separated instance seeds")
    ap.add_argument("--time-limit", type=float, default=300.0, help="for each plan")
    ap.add_argument("--check-limit", type=float, default=120.0, help="for each second solve")
    opts = ap.parse_args(argv)
    real = solvers.solve
    counts = {"checked": 0, "unsettled": 0, "different": 0}

    def checked(prob, solver="highs", *args, **kwargs):
        out = real(prob, solver, *args, **kwargs)
        if solver == "highs" and out.status is solvers.Status.OPTIMAL and prob.isMIP():
            other = second_opinion(prob, opts.check_limit)
            key = "unsettled" if other is None else \
                "different" if abs(other - out.objective) > solvers.ABS_GAP else "checked"
            counts[key] += 1
            if key == "different":
                print(f"  DIFFERENT {prob.name}: {out.objective} against {other}", flush=True)
        return out

    solvers.solve = checked          # the planner imports it from the module when it solves
    try:
        for seed in (int(s) for s in opts.seeds.split(",")):
            inst = FAMILIES[opts.family].instance(opts.size, seed=seed)
            catalog = inst.catalog.with_tier_basis(opts.basis) if opts.basis else inst.catalog
            t0 = time.perf_counter()
            r = plan(catalog, inst.forecast, regret=False, time_limit=opts.time_limit,
                     **inst.plan_options)
            print(f"{opts.family} size {opts.size} seed {seed}: {r.status} "
                  f"{r.objective_cost} in {time.perf_counter() - t0:.1f} s; models so far: "
                  f"{counts['checked']} agree, {counts['different']} differ, "
                  f"{counts['unsettled']} unsettled", flush=True)
    finally:
        solvers.solve = real
    return 1 if counts["different"] else 0


if __name__ == "__main__":
    sys.exit(main())
