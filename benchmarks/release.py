"""This checkout against another one (a release) on the commands issue #16 times, in one run.

    python -m benchmarks.release --baseline /path/to/release-checkout [--repeat 5]

Each case is a `packopt` command run as a fresh process (`python cli.py ...`, process
start, reading the CSV and the catalog, solving, re-billing and writing included), the
baseline's and ours alternately, `--repeat` times each; the table gives medians of the wall
time and of the CPU time (user + system, which a shared machine's load disturbs less), the
ratios baseline / ours, and the peak resident memory of each (ru_maxrss of the process). The inputs are written to a temporary folder from the seeded families of
families.py (`mixed`: the forecast as a wide CSV, its cloned products as a catalog TOML).

Every answer is checked: each plan must be "optimal" (which `plan` only reports once the
billing engine has re-billed it to the fen) and both checkouts must report the same total
and prepaid cost; the bills must be byte-identical. The exit status is 1 if any check fails.
Also timed: `python -c "import numpy, click, rich"`, the floor the bundled example's end-to-end
time is compared with. Bytecode is cached as after an install (PYTHONPYCACHEPREFIX in the
temporary folder; PYTHONDONTWRITEBYTECODE is dropped), and each command runs once untimed
first, so that neither side is timed compiling its own source (or, for ours, numba's cache).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .families import mixed
from .files import catalog_toml, forecast_csv

REPO = Path(__file__).resolve().parents[1]

# name -> (products, months, command after `cli.py`, with {csv} and {toml} to fill in)
CASES = {
    "example": (0, 12, ["plan", "--format", "json"]),
    "start-1000x12": (1000, 12, ["plan", "{csv}", "--catalog", "{toml}", "--format", "json"]),
    "any-1000x12": (1000, 12, ["plan", "{csv}", "--catalog", "{toml}",
                               "--purchase-months", "any", "--format", "json"]),
    "any-1000x60": (1000, 60, ["plan", "{csv}", "--catalog", "{toml}",
                               "--purchase-months", "any", "--format", "json"]),
    "bill-5000x24": (5000, 24, ["bill", "{csv}", "--catalog", "{toml}", "--format", "json"]),
    # the same forecast in long form (product,month,calls: one row per product and month)
    "bill-5000x24-long": (5000, 24, ["bill", "{long}", "--catalog", "{toml}", "--format",
                                     "json"]),
    "bill-2500x24": (2500, 24, ["bill", "{csv}", "--catalog", "{toml}", "--format", "json"]),
    # any month under after-packs with a total cap on the bundled example (issue #15)
    "after-budget": (0, 12, ["plan", "--purchase-months", "any", "--tier-basis",
                             "after-packs", "--budget", "300000", "--format", "json"]),
}
FLOOR = [sys.executable, "-c", "import numpy, click, rich"]


def write_inputs(products: int, months: int, folder: Path) -> tuple[Path, Path]:
    """The `mixed` family's instance as a wide forecast CSV (and a long one beside it) and
    a catalog TOML."""
    inst = mixed(months, "total", "release")(products, 2027)
    csv = folder / f"f{products}x{months}.csv"
    with open(folder / f"l{products}x{months}.csv", "w", encoding="utf-8") as f:
        f.write("product,month,calls\n")
        for pid, calls in inst.forecast.demand:
            for i, c in enumerate(calls):
                f.write(f"{pid},{inst.forecast.month(i)},{c}\n")
    toml = folder / f"f{products}x{months}.toml"
    csv.write_text(forecast_csv(inst.forecast), encoding="utf-8")
    toml.write_text(catalog_toml(inst.catalog), encoding="utf-8")
    return csv, toml


ENV = dict(os.environ)


TIME = Path("/usr/bin/time")


def run_once(cmd: list[str], cwd: Path) -> tuple[float, float, float, int, str, str]:
    """(wall seconds, CPU seconds, peak RSS MB, exit code, stdout, stderr) of one
    process.

    The peak RSS comes from GNU time when it is there: a child forked from this (large)
    process would report this process's resident pages as its own peak (Linux keeps the
    peak across exec), so the command is started from the small `time` process instead.
    """
    with tempfile.TemporaryDirectory() as d:
        mem_file = Path(d) / "maxrss"
        full = [str(TIME), "-f", "%M", "-o", str(mem_file), *cmd] if TIME.exists() else cmd
        t0 = time.perf_counter()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = subprocess.Popen(full, cwd=cwd, stdout=out, stderr=err, env=ENV)
            _, status, usage = os.wait4(p.pid, 0)
            wall = time.perf_counter() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            try:
                kb = int(mem_file.read_text().split()[-1])
            except (OSError, ValueError, IndexError):
                kb = usage.ru_maxrss
            return (wall, usage.ru_utime + usage.ru_stime, kb / 1024, p.returncode,
                    out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


def _long(csv) -> str:
    """The long-form forecast written beside the wide one."""
    return str(Path(csv).with_name("l" + Path(csv).name[1:])) if csv else ""


def check(case: str, base_out: str, ours_out: str) -> list[str]:
    problems = []
    if case.startswith("bill"):
        if base_out != ours_out:
            problems.append(f"{case}: the bills differ")
        return problems
    try:
        a, b = json.loads(base_out), json.loads(ours_out)
    except ValueError as e:
        return [f"{case}: unreadable JSON ({e})"]
    for side, d in (("baseline", a), ("ours", b)):
        if d.get("status") != "optimal":
            problems.append(f"{case}: {side} status {d.get('status')}")
    for key in ("total_cost", "pack_cost"):
        if a.get(key) != b.get(key):
            problems.append(f"{case}: {key} {a.get(key)} (baseline) != {b.get(key)} (ours)")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.release", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", required=True, help="a checkout of the release to compare")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cases", default=",".join(c for c in CASES if c != "after-budget"),
                    help="comma separated (after-budget, minutes on the release, only when "
                         "named): "
                    + ", ".join(CASES))
    ap.add_argument("--json", metavar="FILE", help="write every run as JSON")
    args = ap.parse_args(argv)
    base = Path(args.baseline).resolve()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    runs, problems = [], []
    with tempfile.TemporaryDirectory(prefix="packopt-release-") as tmp:
        # As installed code runs: bytecode compiled once and cached (here outside both
        # checkouts), whatever PYTHONDONTWRITEBYTECODE says; one warm-up run of each
        # command writes it (and numba's cache), untimed.
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        ENV["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        inputs = {}
        for case in cases:
            n, months, _ = CASES[case]
            if n and (n, months) not in inputs:
                inputs[n, months] = write_inputs(n, months, Path(tmp))
        for case in cases:
            n, months, template = CASES[case]
            csv, toml = inputs.get((n, months), ("", ""))
            for root in (base, REPO):
                run_once([sys.executable, "cli.py", *[a.format(csv=csv, toml=toml,
                                                               long=_long(csv))
                                                      for a in template]], root)
        run_once(FLOOR, REPO)
        for rep in range(args.repeat):
            if "example" in cases:
                wall, cpu, mb, _, _, _ = run_once(FLOOR, REPO)
                runs.append({"case": "floor", "side": "floor", "rep": rep, "wall_s": wall,
                             "cpu_s": cpu, "rss_mb": mb})
            for case in cases:
                n, months, template = CASES[case]
                csv, toml = inputs.get((n, months), ("", ""))
                cmd = [a.format(csv=csv, toml=toml, long=_long(csv)) for a in template]
                outs = {}
                for side, root in (("baseline", base), ("ours", REPO)):
                    wall, cpu, mb, code, out, err = run_once([sys.executable, "cli.py", *cmd],
                                                             root)
                    if code != 0:
                        problems.append(f"{case} {side}: exit {code}: {err.strip()[-300:]}")
                    outs[side] = out
                    runs.append({"case": case, "side": side, "rep": rep, "wall_s": wall,
                                 "cpu_s": cpu, "rss_mb": mb})
                    print(f"{case} {side} #{rep + 1}: {wall:.2f} s, CPU {cpu:.2f} s, "
                          f"{mb:.0f} MB", flush=True, file=sys.stderr)
                problems += check(case, outs["baseline"], outs["ours"])
    print(table(runs, cases, args.repeat))
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": runs, "problems": problems}, indent=1))
    for p in problems:
        print("FAILED:", p, file=sys.stderr)
    return 1 if problems else 0


def table(runs, cases, repeat) -> str:
    def med(case, side, key="wall_s"):
        xs = [r[key] for r in runs if r["case"] == case and r["side"] == side]
        return statistics.median(xs) if xs else None
    lines = [f"Medians of {repeat} alternating runs: wall and CPU (user + system) seconds, "
             f"peak RSS MB.", "",
             "| case | release wall | ours wall | release / ours | release CPU | ours CPU "
             "| release / ours (CPU) | release MB | ours MB |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for case in cases:
        b, o = med(case, "baseline"), med(case, "ours")
        bc, oc = med(case, "baseline", "cpu_s"), med(case, "ours", "cpu_s")
        lines.append(f"| {case} | {b:.2f} | {o:.2f} | {b / o:.1f}× | {bc:.2f} | {oc:.2f} | "
                     f"{bc / oc:.1f}× | {med(case, 'baseline', 'rss_mb'):.0f} | "
                     f"{med(case, 'ours', 'rss_mb'):.0f} |")
    floor = med("floor", "floor")
    if floor is not None and "example" in cases:
        lines += ["", f"`python -c \"import numpy, click, rich\"`: {floor:.3f} s wall, "
                  f"{med('floor', 'floor', 'cpu_s'):.3f} s CPU; the example end to end is "
                  f"{med('example', 'ours') / floor:.2f}× that wall "
                  f"({med('example', 'ours', 'cpu_s') / med('floor', 'floor', 'cpu_s'):.2f}× "
                  f"CPU; release {med('example', 'baseline') / floor:.2f}× wall)."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
