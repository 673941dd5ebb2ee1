"""python -m benchmarks export: the instance library (issue #13, item 2).

    python -m benchmarks export --family mixed-12m,any-24m --sizes 3,9 [--months 6,12]
        [--seed 2027] --dir DIR
    python -m benchmarks export --reference --dir DIR     # the committed reference set
    python -m benchmarks export --check DIR [--time-limit 120]

For each instance (a family's seeded generator at a size, a number of months and a seed)
DIR/NAME/ gets:

* forecast.csv and catalog.toml: the inputs as `packopt plan` and `packopt bill` read
  them (`packopt plan forecast.csv --catalog catalog.toml [--purchase-months any]`);
* one MPS file per integer formulation, all products in one model: `ours` (the planner's
  integer program, optimizer/solve/start_milp.py in start mode, any_milp.py in any month,
  the model `plan(..., algorithm="milp")` solves product by product) and `baseline` (the
  straightforward big-M model of benchmarks/baseline.py; not for any month under
  after-packs, which it does not model). With `--split product`, one model per product
  instead (DIR/NAME/ours/PRODUCT.mps.gz: the planner's own decomposition, and the
  baseline-pp method). Written by PuLP's writeMPS, original variable and row names,
  minimised, and gzipped (deterministically: no name, no time stamp);
* the proven optimum, found by `plan()` on the files as read back (its exact dynamic
  program or exact search; the manifest names which) and, in start mode where the pack
  mixes number at most --exhaustive-limit, by the exhaustive search of exhaustive.py
  too, which must agree to the fen.

DIR/manifest.json lists every instance: family, size, months, seed, options, files, the
optimum in CNY and in fen, and for each MPS file its optimal objective in fen and the
constant offset the file cannot hold (MPS has no objective constant: the fees no decision
changes, and products without packs, which are not in the model): the instance's optimum
in fen = the MPS optimum + offset. The manifest holds no times or versions, so exporting
the same instances again writes the same bytes (tests/test_export.py checks it).

`--check DIR` solves every MPS file of a manifest with HiGHS (highspy directly: relative
gap 0, absolute gap 0.5 fen, one thread) and compares the optimum plus offset with the
manifest's, to the fen; exit status 1 on any disagreement or unsolved file.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from .families import FAMILIES, Instance, mixed
from .files import catalog_toml, forecast_csv

FORMULATIONS = ("ours", "baseline")
GZIP_FROM = 0                # bytes: MPS files larger than this are gzipped (0: all)
EXHAUSTIVE_LIMIT = 20_000    # pack mixes: the exhaustive search runs up to this many
MANIFEST = "manifest.json"
FORMAT = 1

# The committed reference set (benchmarks/reference/): (family, products, months, split).
# Families whose generator is `mixed` take other months than their own (the product draws
# are the same; the demand series is generated over the given months). Chosen so that
# HiGHS proves every file well within two minutes on a loaded 2-CPU machine (benchmarks/
# README.md): joint models up to 9 products (HiGHS needs 30-90 s, load-dependent, for
# the joint models of mixed-12m 30 x 12 and any-12m 9 x 12, and does not close the last
# fen of mixed-12m 100 x 12, after-packs 30 x 12 or any-12m 30 x 12 in 120 s), one model
# per product beyond; any month runs 24 and 36 months at 2-3 products only (at 9 products
# x 24 months single products' models can take HiGHS minutes).
REFERENCE = (
    ("mixed-12m", 3, 6, "joint"), ("mixed-12m", 9, 12, "joint"),
    ("mixed-12m", 30, 12, "product"), ("mixed-12m", 100, 12, "product"),
    ("mixed-24m", 9, 24, "joint"), ("mixed-24m", 100, 24, "product"),
    ("mixed-36m", 100, 36, "product"),
    ("after-packs", 3, 6, "joint"), ("after-packs", 9, 12, "joint"),
    ("after-packs", 30, 12, "product"), ("after-packs", 100, 12, "product"),
    ("after-packs-24m", 9, 24, "joint"),
    ("any-12m", 3, 6, "joint"), ("any-12m", 9, 12, "product"),
    ("any-12m", 30, 12, "product"), ("any-12m", 100, 12, "product"),
    ("any-24m", 3, 24, "joint"), ("any-36m", 2, 36, "joint"),
    ("any-after-24m", 3, 12, "joint"), ("any-after-24m", 3, 24, "joint"),
)
# Formulations left out of reference instances, with the reason: {(family, products,
# months): {formulation: reason}}. The 100-product instance holds the 30 as its first 30.
_HARD = ("left out of the reference set: HiGHS does not prove the big-M model of product "
         "vehicle_license-0030 in 120 s (export it with --split product to try)")
REFERENCE_SKIP: dict[tuple[str, int, int], dict[str, str]] = {
    ("any-12m", 30, 12): {"baseline": _HARD},
    ("any-12m", 100, 12): {"baseline": _HARD},
}


# --------------------------------------------------------------------------- instances

def make_instance(family: str, size: int, months: int | None = None,
                  seed: int | None = None) -> Instance:
    """A family's instance; with `months`, the family's generator over that many months
    (families made by `mixed`, in start mode or any month, only)."""
    fam = FAMILIES[family]
    inst = fam.instance(size, seed)
    if months is None or months == inst.months:
        return inst
    if fam.fixed_size or set(inst.plan_options) - {"purchase_months"}:
        raise SystemExit(f"--months: family {family} keeps its {inst.months} months (only "
                         f"families generated by `mixed`, start mode or any month, take others)")
    return replace(mixed(months, fam.basis, family)(size, inst.seed), options=inst.options)


def exportable(inst: Instance) -> str | None:
    """Why the instance cannot be exported (None when it can): one forecast, no budget."""
    o = inst.plan_options
    if set(o) - {"purchase_months"}:
        return "the library holds one-forecast instances without budgets"
    return None


def instance_name(inst: Instance) -> str:
    return f"{inst.family}-{inst.size}x{inst.months}-s{inst.seed}"


def read_back(folder: Path):
    """The catalog and forecast as packopt reads the exported files."""
    from optimizer.io.catalog import load_catalog
    from optimizer.io.forecast import read_forecast
    catalog = load_catalog(folder / "catalog.toml")
    return catalog, read_forecast(folder / "forecast.csv", catalog)


# --------------------------------------------------------------------------- models

def _ours_block(prob, catalog, forecast, i: int, purchase_months: str):
    """Product i's part of the planner's integer program: its cost expression."""
    from optimizer.domain.money import money_scale
    from optimizer.solve.any_milp import add_any_mode
    from optimizer.solve.demand import residual_demand
    from optimizer.solve.start_milp import add_start_mode
    pid, calls = forecast.demand[i]
    product = catalog.product(pid)
    scale = money_scale(catalog)
    if purchase_months == "any":
        pm = add_any_mode(prob, product, calls, residual_demand(product, calls, forecast.start),
                          catalog.validity_months, catalog.tier_basis, scale, tag=f"_{i}")
    else:
        pm = add_start_mode(prob, product, calls, forecast.start, catalog.validity_months,
                            catalog.tier_basis, scale, (), tag=f"_{i}")
    return pm.pack_spend + pm.postpaid[0]


def _baseline_block(prob, catalog, forecast, i: int, purchase_months: str):
    """Product i's big-M model (benchmarks/baseline.py): its cost expression, or its fixed
    cost in money units when it has no packs (the baseline builds no model for it)."""
    from optimizer.billing import postpaid_only_cost
    from optimizer.domain.money import money_scale, to_units

    from .baseline import add_product, add_product_any
    pid, calls = forecast.demand[i]
    product = catalog.product(pid)
    scale = money_scale(catalog)
    if not product.packs:
        return to_units(postpaid_only_cost(product, calls, catalog.tier_basis), scale)
    if purchase_months == "any":
        return add_product_any(prob, product, calls, catalog.validity_months, scale,
                               f"_0_{i}").cost
    return add_product(prob, product, calls, catalog.validity_months, catalog.tier_basis,
                       scale, f"_0_{i}").cost


BLOCKS = {"ours": _ours_block, "baseline": _baseline_block}


def build_models(formulation: str, catalog, forecast, purchase_months: str, split: str):
    """The formulation's models: [(product id or "all", problem or None, offset in money
    units)]. `joint`: one model of every product (the offset holds the fixed costs, those
    of products without packs too); `product`: one model per product (the planner's
    decomposition; the baseline-pp method), None for a product with nothing to decide."""
    import pulp
    block = BLOCKS[formulation]
    if split == "joint":
        prob = pulp.LpProblem(f"packopt_{formulation}", pulp.LpMinimize)
        objective = pulp.lpSum(block(prob, catalog, forecast, i, purchase_months)
                               for i in range(len(forecast.demand)))
        prob += objective
        return [("all", prob, round(objective.constant))]
    models = []
    for i, (pid, _) in enumerate(forecast.demand):
        prob = pulp.LpProblem(f"packopt_{formulation}_{i}", pulp.LpMinimize)
        objective = pulp.lpSum([block(prob, catalog, forecast, i, purchase_months)])
        if not objective.keys():
            models.append((pid, None, round(objective.constant)))
            continue
        prob += objective
        models.append((pid, prob, round(objective.constant)))
    return models


def not_modelled(formulation: str, catalog, purchase_months: str) -> str | None:
    if formulation == "baseline" and purchase_months == "any" and \
            catalog.tier_basis != "total":
        return "the big-M baseline models any month under the total basis only"
    return None


def _exact_in_mps(prob) -> None:
    """Every number writeMPS writes (12 digits after the point) reads back exactly."""
    def ok(v):
        return v is None or float(f"{v:.12e}") == float(v)
    for name, c in prob._constraints.items():
        if not ok(c.constant) or not all(ok(a) for a in c.values()):
            raise ValueError(f"row {name}: a coefficient does not survive MPS's 13 digits")
    if not all(ok(a) for a in prob.objective.values()):
        raise ValueError("an objective coefficient does not survive MPS's 13 digits")
    for v in prob.variables():
        if not (ok(v.lowBound) and ok(v.upBound)):
            raise ValueError(f"variable {v.name}: a bound does not survive MPS's 13 digits")


def write_mps(prob, path: Path) -> tuple[Path, dict]:
    """Write `prob` as MPS at `path` (`path`.gz when large); (file written, model sizes)."""
    _exact_in_mps(prob)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d) / "model.mps"
        prob.writeMPS(str(tmp))
        data = tmp.read_bytes()
    if len(data) > GZIP_FROM:
        path = path.with_name(path.name + ".gz")
        with open(path, "wb") as raw, gzip.GzipFile("", "wb", 9, raw, mtime=0) as gz:
            gz.write(data)
    else:
        path.write_bytes(data)
    variables = prob.variables()
    sizes = {"rows": len(prob._constraints), "columns": len(variables),
             "integers": sum(v.cat == "Integer" for v in variables),
             "nonzeros": sum(len(c) for c in prob._constraints.values()),
             "mps_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return path, sizes


# --------------------------------------------------------------------------- optimum

def _fen(amount: Decimal) -> int:
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise RuntimeError(f"{amount} is not a whole number of fen")
    return int(fen)


def proven_optimum(inst: Instance, catalog, forecast, exhaustive_limit: int) -> dict:
    """The optimum by plan() on the files as read back, and by exhaustive search where
    it is small enough; the two must agree."""
    from optimizer.billing import bill
    from optimizer.solve.planner import plan

    from .exhaustive import TooLarge, count_mixes, search
    opts = inst.plan_options
    r = plan(catalog, forecast, regret=False, **opts)
    if r.status != "optimal":
        raise RuntimeError(f"{instance_name(inst)}: plan() did not prove an optimum "
                           f"({r.status})")
    billed = bill(catalog, forecast, r.plan)
    if billed.total_cost != r.bill.total_cost:
        raise RuntimeError(f"{instance_name(inst)}: the plan re-bills to "
                           f"{billed.total_cost}, not {r.bill.total_cost}")
    how = sorted({s.method for s in r.solves}) or ["fixed"]
    proved = [f"plan() ({', '.join(how)})"]
    if opts.get("purchase_months", "start") == "start":
        try:
            mixes = count_mixes(catalog, forecast, exhaustive_limit)
        except TooLarge:
            mixes = None
        if mixes is not None:
            ex = search(catalog, forecast)
            if ex.cost != r.bill.total_cost:
                raise RuntimeError(f"{instance_name(inst)}: exhaustive search finds "
                                   f"{ex.cost}, plan() {r.bill.total_cost}")
            proved.append(f"exhaustive search ({mixes} pack mixes)")
    return {"total_cny": str(r.bill.total_cost), "pack_cost_cny": str(r.bill.pack_cost),
            "total_fen": _fen(r.bill.total_cost), "proved_by": proved,
            "product_fen": {pb.product: _fen(pb.total_cost) for pb in r.bill.products},
            "plan": [[p.product, str(p.month), p.size, p.count] for p in r.plan.purchases]}


# --------------------------------------------------------------------------- export

def export_instance(inst: Instance, out: Path, formulations=FORMULATIONS,
                    exhaustive_limit: int = EXHAUSTIVE_LIMIT, skip: dict | None = None,
                    split: str = "joint") -> dict:
    """Write one instance's files under out/NAME/; its manifest entry."""
    from optimizer.domain.money import money_scale
    why = exportable(inst)
    if why:
        raise SystemExit(f"{inst.label}: {why}")
    name = instance_name(inst)
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "forecast.csv").write_text(forecast_csv(inst.forecast), encoding="utf-8")
    (folder / "catalog.toml").write_text(catalog_toml(
        inst.catalog, f"{inst.family}, {inst.size} products x {inst.months} months, seed "
        f"{inst.seed} (python -m benchmarks export)"), encoding="utf-8")
    catalog, forecast = read_back(folder)
    if forecast.demand != inst.forecast.demand or forecast.start != inst.forecast.start:
        raise RuntimeError(f"{name}: the forecast does not read back as written")
    if money_scale(catalog) != 100:
        raise RuntimeError(f"{name}: the library's figures are in fen; this catalog needs "
                           f"a finer unit")
    months = inst.plan_options.get("purchase_months", "start")
    command = "packopt plan forecast.csv --catalog catalog.toml" + (
        " --purchase-months any" if months == "any" else "")
    entry = {"name": name, "family": inst.family, "size": inst.size, "months": inst.months,
             "seed": inst.seed, "tier_basis": catalog.tier_basis, "purchase_months": months,
             "options": {k: str(v) for k, v in inst.plan_options.items()},
             "forecast": f"{name}/forecast.csv", "catalog": f"{name}/catalog.toml",
             "command": command, "split": split,
             "optimum": proven_optimum(inst, catalog, forecast, exhaustive_limit),
             "mps": [], "skipped": []}
    for stale in folder.glob("*.mps*"):
        stale.unlink()
    for form in FORMULATIONS:
        if (folder / form).is_dir():
            shutil.rmtree(folder / form)
    per_product = entry["optimum"]["product_fen"]
    for form in formulations:
        why = (skip or {}).get(form) or not_modelled(form, catalog, months)
        if why:
            entry["skipped"].append({"formulation": form, "reason": why})
            continue
        if split == "product":
            (folder / form).mkdir()
        for pid, prob, offset in build_models(form, catalog, forecast, months, split):
            if prob is None:
                continue                      # nothing to decide: no file
            target = folder / f"{form}.mps" if pid == "all" else folder / form / f"{pid}.mps"
            path, sizes = write_mps(prob, target)
            want = entry["optimum"]["total_fen"] if pid == "all" else per_product[pid]
            entry["mps"].append({"formulation": form, "product": pid,
                                 "file": path.relative_to(out).as_posix(),
                                 "objective_fen": want - offset, "offset_fen": offset,
                                 **sizes})
    return entry


def dump(value, indent: str = "", width: int = 100) -> str:
    """JSON, indented, with every list item and every container that fits in `width`
    characters on one line (a manifest of 800 files stays readable)."""
    flat = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, (dict, list)) or len(indent) + len(flat) <= width or not value:
        return flat
    inner = indent + " "
    if isinstance(value, list):
        items = [inner + json.dumps(v, ensure_ascii=False) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + indent + "]"
    items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {dump(v, inner, width)}"
             for k, v in value.items()]
    return "{\n" + ",\n".join(items) + "\n" + indent + "}"


def export(specs, out: Path, formulations=FORMULATIONS,
           exhaustive_limit: int = EXHAUSTIVE_LIMIT, skips: dict | None = None,
           progress=None) -> dict:
    """Export (family, size, months, seed, split) specs to `out`; writes and returns the
    manifest."""
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for family, size, months, seed, split in specs:
        inst = make_instance(family, size, months, seed)
        if progress:
            progress(f"{instance_name(inst)} ...")
        entries.append(export_instance(inst, out, formulations, exhaustive_limit,
                                       (skips or {}).get((family, size, inst.months)),
                                       split))
    manifest = {
        "format": FORMAT,
        "about": "packopt instance library (python -m benchmarks export); see "
                 "benchmarks/README.md, 'Instance library'",
        "units": "money in CNY (decimal strings) and fen (integers, 1 CNY = 100 fen); every "
                 "MPS objective is in fen",
        "offset": "MPS files hold no objective constant: the instance's optimum in fen = the "
                  "MPS file's optimal objective + offset_fen",
        "instances": entries}
    (out / MANIFEST).write_text(dump(manifest) + "\n", encoding="utf-8")
    return manifest


# --------------------------------------------------------------------------- check

def solve_mps(path: Path, time_limit: float | None) -> dict:
    """Solve one MPS file (gzipped or not) with HiGHS at zero gap: status, objective,
    bound, seconds."""
    import highspy

    from optimizer.solve.solvers import ABS_GAP, _silence_highs_banner
    _silence_highs_banner()
    with tempfile.TemporaryDirectory() as d:
        plain = path
        if path.suffix == ".gz":
            plain = Path(d) / path.name[:-3]
            with gzip.open(path, "rb") as src:
                plain.write_bytes(src.read())
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", ABS_GAP)
        h.setOptionValue("threads", 1)
        if time_limit:
            h.setOptionValue("time_limit", float(time_limit))
        status = h.readModel(str(plain))
        if status == highspy.HighsStatus.kError:
            return {"status": "unreadable", "objective": None, "bound": None, "seconds": 0.0}
        t0 = time.perf_counter()
        h.run()
        seconds = time.perf_counter() - t0
    ms = h.getModelStatus()
    info = h.getInfo()
    obj = info.objective_function_value if info.primal_solution_status == 2 else None
    bound = info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else None
    return {"status": h.modelStatusToString(ms), "optimal": ms == highspy.HighsModelStatus.kOptimal,
            "objective": obj, "bound": bound, "seconds": seconds}


def check(folder: Path, time_limit: float | None = 120.0, names=None, progress=None
          ) -> list[dict]:
    """Solve every MPS file of the manifest in `folder`; one result per file, with
    `ok` True when HiGHS proves the manifest's optimum (plus offset) to the fen."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    results = []
    for inst in manifest["instances"]:
        if names and inst["name"] not in names:
            continue
        for m in inst["mps"]:
            r = solve_mps(folder / m["file"], time_limit)
            opt = inst["optimum"]
            want = opt["total_fen"] if m["product"] == "all" else opt["product_fen"][m["product"]]
            r.update(instance=inst["name"], formulation=m["formulation"], file=m["file"],
                     product=m["product"], expected_fen=want)
            got = None if r["objective"] is None else round(r["objective"]) + m["offset_fen"]
            r["total_fen"] = got
            if r.get("optimal"):
                r["ok"] = got == want and abs(r["objective"] - round(r["objective"])) < 1e-3
                r["problem"] = "" if r["ok"] else (
                    f"HiGHS proves {got} fen, the manifest says {want}")
            else:
                # Not proven in time: the bound must not exceed the optimum (consistency).
                r["ok"] = False
                bound = r["bound"]
                consistent = bound is None or bound + m["offset_fen"] <= want + 0.5
                r["problem"] = f"not solved ({r['status']}, {r['seconds']:.1f} s); bound " \
                    + ("consistent" if consistent else "ABOVE the optimum")
            if progress and not r["ok"]:
                progress(f"FAIL {m['file']}: {r['problem']}")
            results.append(r)
        if progress:
            for form in dict.fromkeys(m["formulation"] for m in inst["mps"]):
                mine = [r for r in results
                        if r["instance"] == inst["name"] and r["formulation"] == form]
                progress(f"{inst['name']:28} {form:9} {sum(r['ok'] for r in mine):3} of "
                         f"{len(mine):3} ok  {sum(r['seconds'] for r in mine):8.2f} s "
                         f"(longest {max(r['seconds'] for r in mine):.2f} s)")
    return results


# --------------------------------------------------------------------------- command

def _csv(text):
    return [t.strip() for t in text.split(",") if t.strip()]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks export",
                                description="Write benchmark instances as files: forecast "
                                "CSV, catalog TOML, MPS per formulation, proven optimum, "
                                "manifest (benchmarks/README.md, 'Instance library').")
    p.add_argument("--family", help="families, comma separated (one forecast, no budget)")
    p.add_argument("--sizes", help="products, comma separated (default: each family's "
                   "smallest sweep size)")
    p.add_argument("--months", help="months, comma separated (default: the family's own)")
    p.add_argument("--seed", type=int, help="seed (default: the family's, 2027)")
    p.add_argument("--formulations", default=",".join(FORMULATIONS),
                   help="ours, baseline (default: both)")
    p.add_argument("--split", choices=("joint", "product"), default="joint",
                   help="one model of every product (joint, the default) or one model per "
                   "product (product: the planner's decomposition)")
    p.add_argument("--reference", action="store_true",
                   help="the committed reference set (benchmarks/reference/)")
    p.add_argument("--exhaustive-limit", type=int, default=EXHAUSTIVE_LIMIT,
                   help=f"most pack mixes for the exhaustive check (default {EXHAUSTIVE_LIMIT})")
    p.add_argument("--dir", help="output folder")
    p.add_argument("--check", metavar="DIR", help="solve every MPS file of DIR's manifest "
                   "with HiGHS and compare with its optima")
    p.add_argument("--only", help="with --check: instance names, comma separated")
    p.add_argument("--time-limit", type=float, default=120.0,
                   help="with --check: seconds per MPS file (default 120; 0: none)")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)

    def say(text):
        print(text, file=sys.stderr, flush=True)
    if args.check:
        results = check(Path(args.check), args.time_limit or None,
                        set(_csv(args.only)) if args.only else None, say)
        bad = [r for r in results if not r["ok"]]
        print(f"{len(results) - len(bad)} of {len(results)} MPS files solved by HiGHS to "
              f"the manifest's optimum (total {sum(r['seconds'] for r in results):.1f} s)")
        for r in bad:
            print(f"FAIL {r['instance']} {r['formulation']}: {r['problem']}")
        return 1 if bad else 0
    if not args.dir:
        raise SystemExit("--dir is required (or --check DIR)")
    forms = tuple(_csv(args.formulations))
    if not forms or set(forms) - set(FORMULATIONS):
        raise SystemExit(f"--formulations: choose from {', '.join(FORMULATIONS)}")
    if args.reference:
        specs = [(f, n, m, args.seed, split) for f, n, m, split in REFERENCE]
        skips = REFERENCE_SKIP
    else:
        if not args.family:
            raise SystemExit("--family is required (or --reference)")
        families = _csv(args.family)
        unknown = [f for f in families if f not in FAMILIES]
        if unknown:
            raise SystemExit(f"unknown family {unknown[0]!r}; known: {', '.join(FAMILIES)}")
        try:
            sizes = [int(s) for s in _csv(args.sizes)] if args.sizes else None
            months = [int(m) for m in _csv(args.months)] if args.months else [None]
        except ValueError:
            raise SystemExit("--sizes and --months take whole numbers") from None
        if any(s < 1 for s in sizes or ()) or any(m is not None and m < 1 for m in months):
            raise SystemExit("--sizes and --months must be positive")
        specs = [(f, n, m, args.seed, args.split) for f in families
                 for n in (sizes or FAMILIES[f].sizes[:1]) for m in months]
        skips = None
    t0 = time.perf_counter()
    manifest = export(specs, Path(args.dir), forms, args.exhaustive_limit, skips, say)
    files = sum(len(e["mps"]) for e in manifest["instances"])
    print(f"{len(manifest['instances'])} instances, {files} MPS files written to {args.dir} "
          f"in {time.perf_counter() - t0:.1f} s")
    return 0
