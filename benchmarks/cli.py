"""Command line of the benchmark runner: parse, run, print, write. Exit 1 on any failure."""

from __future__ import annotations

import argparse
import json
import sys

from .families import FAMILIES
from .methods import IP_KINDS, KINDS, SOLVER_FREE, split_method
from .solvers_extra import CORE, SOLVERS
from .runner import DEFAULT_FAMILIES, DEFAULT_METHODS, SMOKE_FAMILIES, Config, Report, run

EPILOG = """examples:
  python -m benchmarks --smoke
  python -m benchmarks --family mixed-12m --sizes 9,100 --solvers highs --repeat 3
  python -m benchmarks --family example,mixed-12m,mixed-24m,after-packs --repeat 3 \\
      --time-limit 60 --json bench.json --markdown bench.md --plot bench.png
  python -m benchmarks --family any-12m,any-36m --solvers highs,cbc,scip,cpsat \
      --time-limit 30 --repeat 1
methods: ours, ours-milp, ours-joint, baseline, baseline-pp (each with every --solvers;
scip and cpsat only the integer-programming ones), exhaustive; or full names such as
ours-highs,baseline-cbc,ours-milp-scip,exhaustive.
families: """ + ", ".join(FAMILIES)


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                description="Benchmark packopt's optimizer against baselines.")
    p.add_argument("--family", help="families, comma separated (default: "
                   f"{','.join(DEFAULT_FAMILIES)})")
    p.add_argument("--sizes", help="products per instance, comma separated (default: each "
                   "family's sweep; fixed-size families such as example ignore it)")
    p.add_argument("--solvers", default="highs,cbc", help="highs, cbc, scip, cpsat, comma "
                   "separated (default: highs,cbc); scip and cpsat run the integer-programming "
                   "methods only and need the bench extra: pip install -e '.[bench]'")
    p.add_argument("--methods", help=f"kinds ({', '.join(KINDS)}) or full method names "
                   f"(default: {','.join(DEFAULT_METHODS)})")
    p.add_argument("--repeat", type=int, help="runs per instance and method (default 3; "
                   "smoke: 1); medians are reported")
    p.add_argument("--time-limit", type=float, help="seconds per run (default 60; smoke 20); "
                   "0 for none")
    p.add_argument("--exhaustive-limit", type=int, default=100_000,
                   help="largest number of pack mixes the exhaustive search bills (default "
                   "100000)")
    p.add_argument("--seed", type=int, help="override every family's seed")
    p.add_argument("--smoke", action="store_true", help="smallest sizes, one repeat")
    p.add_argument("--json", metavar="FILE", help="write every run and the summary as JSON")
    p.add_argument("--markdown", metavar="FILE", help="write the scaling table as markdown")
    p.add_argument("--plot", metavar="FILE", help="write the log-log PNG (needs matplotlib)")
    p.add_argument("--no-e2e", action="store_true", help="skip timing `packopt plan` end to end")
    p.add_argument("--no-floor", action="store_true", help="skip the \"bill only\" row (read "
                   "+ one re-bill of each instance's optimal plan)")
    p.add_argument("--plot-months", metavar="FILE", help="write the log-log PNG of time "
                   "against months (families such as any-12m,any-24m,any-36m at one size)")
    p.add_argument("--in-process", action="store_true",
                   help="run methods in this process (no fork; memory figures are rougher)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--list", action="store_true", help="list the families and exit")
    p.add_argument("--from-json", metavar="FILE", help="re-render the table and plot of an "
                   "earlier --json report instead of running")
    return p


def config_from(args) -> Config:
    if args.family:
        families = tuple(_csv(args.family))
    else:
        families = SMOKE_FAMILIES if args.smoke else DEFAULT_FAMILIES
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise SystemExit(f"unknown family {unknown[0]!r}; known: {', '.join(FAMILIES)}")
    sizes = None
    if args.sizes:
        try:
            sizes = tuple(int(s) for s in _csv(args.sizes))
        except ValueError:
            raise SystemExit(f"--sizes must be whole numbers, not {args.sizes!r}") from None
        if any(s < 1 for s in sizes):
            raise SystemExit("--sizes must be positive")
    solvers = tuple(_csv(args.solvers))
    if any(s not in SOLVERS for s in solvers) or not solvers:
        raise SystemExit(f"--solvers must be one or more of {', '.join(SOLVERS)}")
    kinds, methods = None, None
    if args.methods:
        names = _csv(args.methods)
        if all(n in KINDS for n in names):
            kinds = tuple(names)
        else:
            expanded = []
            for n in names:
                if n in KINDS:
                    expanded += [n] if n in SOLVER_FREE else [
                        f"{n}-{s}" for s in solvers if s in CORE or n in IP_KINDS]
                else:
                    try:
                        split_method(n)
                    except ValueError as e:
                        raise SystemExit(str(e)) from None
                    expanded.append(n)
            methods = tuple(dict.fromkeys(expanded))
    repeat = args.repeat if args.repeat is not None else (1 if args.smoke else 3)
    if repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    tl = args.time_limit if args.time_limit is not None else (20.0 if args.smoke else 60.0)
    return Config(families=families, sizes=sizes, solvers=solvers, kinds=kinds,
                  methods=methods, repeat=repeat, time_limit=tl or None,
                  exhaustive_limit=args.exhaustive_limit, seed=args.seed, smoke=args.smoke,
                  isolate=not args.in_process, e2e=not args.no_e2e, floor=not args.no_floor,
                  e2e_repeat=1 if args.smoke else 5, progress=not args.quiet)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.list:
        for f in FAMILIES.values():
            print(f"{f.name:20} sizes {','.join(map(str, f.sizes)):12} smoke "
                  f"{','.join(map(str, f.smoke_sizes)):4} {f.months:3} months  {f.description}")
        return 0
    if args.from_json:
        with open(args.from_json, encoding="utf-8") as fh:
            report = Report.from_json(json.load(fh))
    else:
        cfg = config_from(args)
        from rich.console import Console
        report = run(cfg, Console(stderr=True))
    from .report import markdown
    text = markdown(report)
    print(text)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write(text)
    if args.json and not args.from_json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report.to_json(), fh, indent=1, default=str)
    for path, what in ((args.plot, "plot"), (args.plot_months, "plot_months")):
        if not path:
            continue
        try:
            from . import report as reports
            getattr(reports, what)(report, path)
        except ImportError:
            print(f"--{what.replace('_', '-')} needs matplotlib: pip install -e '.[bench]'",
                  file=sys.stderr)
    if report.failures:
        print(f"FAILED: {len(report.failures)} verification failure(s); first: "
              f"{report.failures[0]}", file=sys.stderr)
        return 1
    if report.interrupted:
        return 130
    return 0
