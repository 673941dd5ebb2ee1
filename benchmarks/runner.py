"""The runner: sweeps families x sizes x methods x repeats, verifies, summarises.

Each run happens in a forked child process (Linux): its peak memory is its own (the peak
RSS counter is reset at the start of the child, and a CBC subprocess is measured through
RUSAGE_CHILDREN), a run that overstays its time limit can be killed with everything it
started, and Ctrl-C stops the sweep cleanly: the runs finished so far are verified,
printed and written.

Verification, per instance, over every run of every method:
* a run that claims "optimal" must bill (optimizer.billing.bill) to exactly its objective;
* every "optimal" run must bill to the cheapest cost any run found (to the fen);
* a run stopped by the time limit must not claim a lower bound above that cheapest cost;
* a crash is a failure;
* other modes (any month, scenarios, budget): the benchmark's own re-bill of the plan must
  match what the planner reported (base bill, every scenario's bill, the expected cost),
  and the prepaid spend must be within the budget (methods.py lists these as "problems").
Methods that do not apply to an instance's mode are recorded as skipped ("n/a (...)").
Any failure makes `main` return 1 and names the instance (family, size, seed) and method.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

from .families import FAMILIES, Family, Instance
from .floor import bill_only
from .methods import IP_KINDS, method_names, not_applicable, run_method, split_method
from .solvers_extra import EXTRA

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FAMILIES = ("example", "mixed-12m", "mixed-24m", "after-packs")
SMOKE_FAMILIES = ("example", "mixed-12m", "mixed-24m", "after-packs", "any-12m", "any-24m",
                  "any-36m", "scenarios-12m", "budget-12m", "any-scenarios-12m",
                  "any-worst-12m")
MODE_FAMILIES = ("any-12m", "any-24m", "any-36m", "scenarios-12m", "budget-12m",
                 "any-scenarios-12m", "any-worst-12m", "any-after-24m")
# CBC on the big-M baseline claims "optimal" for plans that are not (benchmarks/README.md,
# "Findings"), so the default sweep runs that baseline with HiGHS only; `--methods baseline
# --solvers cbc` (or baseline-cbc) runs it, and the runner then fails on its wrong answers.
# ours-milp-highs runs wherever one forecast has no budget (n/a with scenarios or budgets):
# the planner's integer program beside its dynamic program or cost curves and the big-M
# baseline, in the same run.
DEFAULT_METHODS = ("ours-highs", "ours-cbc", "ours-milp-highs", "ours-joint-highs",
                   "ours-joint-cbc", "baseline-highs", "baseline-pp-highs", "exhaustive")
TARGETS = {"e2e_example_s": 1.0, "solve_example_s": 0.2, "mixed_1000x12_s": 10.0}
# Other modes (from their issues): (family, products, seconds, what), whole plan() call.
MODE_TARGETS = (("any-12m", 9, 1.0, "any month, 9 products x 12 months"),
                ("any-36m", 9, 5.0, "any month, 9 products x 36 months"),
                ("any-24m", 100, 60.0, "any month, 100 products x 24 months"),
                ("any-after-24m", 9, 2.0, "any month, after-packs, 9 products x 24 months"),
                ("any-after-24m", 100, 30.0,
                 "any month, after-packs, 100 products x 24 months"),
                ("scenarios-12m", 9, 10.0, "scenarios, 9 products x 12 months x 50 scenarios"),
                ("budget-12m", 200, 10.0, "budget, 200 products x 12 months"))


@dataclass
class Config:
    families: tuple[str, ...] = DEFAULT_FAMILIES
    sizes: tuple[int, ...] | None = None          # None: each family's own sweep
    solvers: tuple[str, ...] = ("highs", "cbc")
    kinds: tuple[str, ...] | None = None          # None: DEFAULT_METHODS
    methods: tuple[str, ...] | None = None        # explicit method names (override kinds)
    repeat: int = 3
    time_limit: float | None = 60.0
    exhaustive_limit: int = 100_000
    seed: int | None = None
    smoke: bool = False
    isolate: bool = True                          # fork a child per run
    e2e: bool = True
    e2e_repeat: int = 5
    progress: bool = True
    floor: bool = True                            # the "bill only" row per instance

    def method_list(self) -> list[str]:
        if self.methods:
            return list(self.methods)
        if self.kinds:
            return method_names(self.kinds, self.solvers)
        # With SCIP or CP-SAT asked for, the solvers side by side: every integer-programming
        # method with every solver listed, CBC included; otherwise the default sweep.
        side_by_side = any(s in EXTRA for s in self.solvers)
        out = []
        for m in DEFAULT_METHODS:
            kind, solver = split_method(m)
            if (solver is None or solver in self.solvers) and m not in out:
                out.append(m)
            if solver == "highs" and kind in IP_KINDS:
                out += [f"{kind}-{s}" for s in self.solvers if s != "highs"
                        and (s in EXTRA or side_by_side) and f"{kind}-{s}" not in out]
        return out


@dataclass
class Report:
    config: dict
    machine: dict
    runs: list[dict] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    e2e: dict | None = None
    targets: list[dict] = field(default_factory=list)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures

    @classmethod
    def from_json(cls, data: dict) -> "Report":
        return cls(data["config"], data["machine"], data["runs"], data["rows"],
                   data["failures"], data.get("e2e"), data.get("targets", []),
                   data.get("interrupted", False))

    def to_json(self) -> dict:
        from .report import solver_table
        return {"config": self.config, "machine": self.machine, "interrupted": self.interrupted,
                "ok": self.ok, "failures": self.failures, "targets": self.targets,
                "e2e": self.e2e, "solver_table": solver_table(self), "rows": self.rows,
                "runs": self.runs}


# --------------------------------------------------------------------------- machine

def machine_info() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    versions = {}
    for mod in ("pulp", "highspy", "numpy", "pyscipopt", "ortools"):
        try:
            from importlib.metadata import version
            versions[mod] = version(mod.replace("highspy", "highspy"))
        except Exception:
            versions[mod] = "?"
    commit = ""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                capture_output=True, text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "optimizer", "cli.py"],
                               cwd=REPO, capture_output=True, text=True, timeout=5).stdout
        if commit and dirty.strip():
            commit += " (optimizer/ or cli.py modified)"
    except Exception:
        pass
    return {"cpus": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "platform": platform.platform(), "packages": versions, "commit": commit}


# --------------------------------------------------------------------------- isolation

def _status_kb(key: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _measured(method: str, inst: Instance, time_limit, exhaustive_limit) -> dict:
    """run_method plus memory: peak RSS of this process since the start, and of its children."""
    try:                                  # reset VmHWM to the current RSS (Linux >= 4.0)
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    rss0 = _status_kb("VmRSS")
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    rec = run_method(method, inst, time_limit, exhaustive_limit)
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    # CPU seconds of this process (user + system): what a loaded shared machine disturbs
    # less than the wall time (a CBC subprocess is not included).
    rec["cpu_s"] = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    hwm = _status_kb("VmHWM")
    if hwm is None:                       # not Linux: ru_maxrss (KiB on Linux, bytes on macOS)
        hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    rec["rss_peak_mb"] = round(hwm / 1024, 1)
    rec["rss_growth_mb"] = round((hwm - (rss0 or hwm)) / 1024, 1)
    rec["solver_process_mb"] = round(child / 1024, 1) if child else None
    rec["mem_mb"] = max(rec["rss_growth_mb"], rec["solver_process_mb"] or 0.0)
    return rec


def _child(conn, method, inst, time_limit, exhaustive_limit):
    os.setpgid(0, 0)                      # our own group: killable with its CBC children
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the parent decides what Ctrl-C means
    try:
        conn.send(_measured(method, inst, time_limit, exhaustive_limit))
    finally:
        conn.close()


def run_isolated(method: str, inst: Instance, time_limit, exhaustive_limit) -> dict:
    """One run in a forked child; killed (status "killed") well after its time limit."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, method, inst, time_limit, exhaustive_limit))
    proc.start()
    child.close()
    hard = None if time_limit is None else time_limit * 1.5 + 30
    t0 = time.perf_counter()
    try:
        if parent.poll(hard):
            try:
                return parent.recv()
            except EOFError:
                pass
        else:
            _kill(proc)
            return _dead(method, "killed", f"killed after {time.perf_counter() - t0:.0f} s "
                         f"(time limit {time_limit} s not honoured)", t0)
        proc.join(5)
        return _dead(method, "error", f"the run's process died (exit code {proc.exitcode})", t0)
    except KeyboardInterrupt:
        _kill(proc)
        raise
    finally:
        parent.close()
        if proc.is_alive():
            _kill(proc)
        proc.join(1)


def _kill(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.join(5)


def _dead(method, status, note, t0) -> dict:
    return {"method": method, "status": status, "note": note, "build_s": 0.0, "solve_s": 0.0,
            "bill_s": 0.0, "wall_s": time.perf_counter() - t0, "objective": None,
            "bound": None, "gap": None, "billed": None, "plan": None, "extra": {},
            "problems": [],
            "rss_peak_mb": None, "rss_growth_mb": None, "solver_process_mb": None,
            "mem_mb": None}


# --------------------------------------------------------------------------- end to end

def packopt_command() -> list[str]:
    """The installed console script beside this interpreter, else `python cli.py`."""
    script = Path(sys.executable).with_name("packopt")
    if script.exists():
        return [str(script)]
    return [sys.executable, str(REPO / "cli.py")]


def time_cli(repeat: int, expected_cost: str | None) -> dict:
    """Wall time of `packopt plan --format json` on the bundled example, process start included."""
    cmd = packopt_command() + ["plan", "--format", "json"]
    times, problems, cost = [], [], None
    for _ in range(max(repeat, 1)):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
        times.append(time.perf_counter() - t0)
        if p.returncode != 0:
            problems.append(f"exit {p.returncode}: {p.stderr.strip()[:300]}")
            continue
        try:
            data = json.loads(p.stdout)
            cost = f"{Decimal(str(data['total_cost'])):.2f}"
            if data.get("status") != "optimal":
                problems.append(f"status {data.get('status')}")
        except (ValueError, KeyError) as e:
            problems.append(f"unreadable JSON ({e})")
    if expected_cost is not None and cost is not None and Decimal(cost) != Decimal(expected_cost):
        problems.append(f"packopt plan reports {cost}, the in-process plan bills {expected_cost}")
    return {"command": " ".join(cmd), "runs": len(times), "median_s": statistics.median(times),
            "min_s": min(times), "max_s": max(times), "times_s": times, "cost": cost,
            "problems": problems}


# --------------------------------------------------------------------------- the sweep

def instances_for(cfg: Config) -> list[Instance]:
    out = []
    for name in cfg.families:
        fam: Family = FAMILIES[name]
        if fam.fixed_size:
            sizes = fam.sizes
        elif cfg.sizes:
            sizes = cfg.sizes
        else:
            sizes = fam.smoke_sizes if cfg.smoke else fam.sizes
        for n in sizes:
            out.append(fam.instance(n, cfg.seed, smoke=cfg.smoke))
    return out


def _time_limit(cfg: Config, inst: Instance) -> float | None:
    """The run's limit: the configured one, or the family's shorter smoke limit."""
    short = FAMILIES[inst.family].smoke_time_limit if cfg.smoke else None
    if short is None:
        return cfg.time_limit
    return short if cfg.time_limit is None else min(cfg.time_limit, short)


def _is_timeout(rec: dict) -> bool:
    return rec["status"] in ("feasible", "no_solution", "killed")


# Long (92 lines): one sweep loop with its progress bar, timeouts and Ctrl-C handling, which
# share their state; the parts that stand alone (_measured, run_isolated, verify) are out.
def run(cfg: Config, console=None) -> Report:
    """Run the sweep; returns the report (also when interrupted by Ctrl-C)."""
    methods = cfg.method_list()
    cfg_dict = asdict(cfg)
    cfg_dict["method_list"] = methods
    report = Report(cfg_dict, machine_info())
    insts = instances_for(cfg)
    runner = run_isolated if cfg.isolate and hasattr(os, "fork") else \
        (lambda m, i, t, x: _measured(m, i, t, x))
    total = len(insts) * len(methods) * cfg.repeat
    progress = None
    if cfg.progress:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn)
        progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=console, auto_refresh=False,
                            transient=False)
        progress.start()
        task = progress.add_task("benchmarks", total=total)
    given_up: dict[tuple[str, str], str] = {}    # (family, method) -> why larger sizes skip
    if cfg.isolate and hasattr(os, "fork"):
        pid = os.fork()                  # in a child: the runs' processes must load the
        if pid == 0:                     # cache themselves, as `packopt plan` does
            try:
                warm_up(insts)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
    else:
        warm_up(insts)
    try:
        for inst in insts:
            for rep in range(cfg.repeat):
                for method in methods:
                    if progress:
                        progress.update(task, description=f"{inst.label} {method} #{rep + 1}")
                        progress.refresh()
                    key = (inst.family, method)
                    stop_repeats = any(r["method"] == method and r["instance"] == inst.label
                                       and (_is_timeout(r) or r["status"] == "skipped")
                                       for r in report.runs)
                    na = not_applicable(method, inst)
                    if stop_repeats:
                        pass
                    elif na:                       # another mode: not a run, not a failure
                        if rep == 0:
                            rec = _dead(method, "skipped", na, time.perf_counter())
                            rec["wall_s"] = 0.0
                            _record(report, inst, rep, rec)
                    elif key in given_up and rep == 0:
                        rec = _dead(method, "skipped", given_up[key], time.perf_counter())
                        rec["wall_s"] = 0.0
                        _record(report, inst, rep, rec)
                    elif key not in given_up:
                        rec = runner(method, inst, _time_limit(cfg, inst),
                                     cfg.exhaustive_limit)
                        _record(report, inst, rep, rec)
                        if _is_timeout(rec):
                            given_up[key] = f"skipped: timed out at {inst.size} products"
                        elif rec["status"] == "skipped":
                            given_up[key] = rec["note"]
                    if progress:
                        progress.advance(task)
                        progress.refresh()
                        if not progress.console.is_terminal and report.runs \
                                and report.runs[-1]["method"] == method \
                                and report.runs[-1]["instance"] == inst.label \
                                and report.runs[-1]["repeat"] == rep + 1:
                            last = report.runs[-1]     # a log line where no bar is drawn
                            progress.console.print(
                                f"{inst.label} {method} #{rep + 1}: {last['status']} "
                                f"{last['wall_s']:.2f} s", highlight=False)
        if cfg.floor:
            add_floor(report, insts, cfg.repeat)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        if progress:
            progress.stop()
    verify(report)
    summarise(report)
    if cfg.e2e and not report.interrupted:
        ex = next((r for r in report.rows if r["family"] == "example"
                   and r["method"] == "ours-highs"), None)
        try:
            report.e2e = time_cli(cfg.e2e_repeat, ex["billed"] if ex else None)
            for p in report.e2e["problems"]:
                report.failures.append(f"end to end packopt plan: {p}")
        except KeyboardInterrupt:
            report.interrupted = True
    report.targets = targets(report)
    return report


def warm_up(insts: list[Instance]) -> None:
    """Untimed, before the sweep: one plan per mode at the size from which the planner's
    dynamic program runs compiled (dynamic.COMPILED_FROM product-months), so that numba
    compiles its kernel and writes it to its cache on disk once, here, rather than inside
    the first timed run that needs it (about 20 s on the loaded machine; every later run
    loads the cache). A failure here is left to the timed runs to report."""
    from optimizer.domain.records import Forecast
    from optimizer.solve import dynamic
    from optimizer.solve.planner import plan
    done = set()
    for inst in insts:
        opts = inst.plan_options
        mode = opts.get("purchase_months", "start")
        if mode in done or set(opts) - {"purchase_months"} \
                or inst.size * inst.months < dynamic.COMPILED_FROM:
            continue
        done.add(mode)
        n = -(-dynamic.COMPILED_FROM // inst.months)
        fc = inst.forecast
        small = Forecast(fc.start, fc.months, fc.demand[:n], "warm-up")
        try:
            plan(inst.catalog, small, purchase_months=mode, regret=False)
        except Exception:
            pass


def add_floor(report: Report, insts: list[Instance], repeat: int) -> None:
    """The "bill only" runs (floor.py): read + one re-bill of each instance's proven optimal
    plan, ours-highs' when it has one; none where no run proved an optimum."""
    for inst in insts:
        done = [r for r in report.runs if r["instance"] == inst.label
                and r["status"] == "optimal" and r.get("plan") is not None
                and not r.get("problems")]
        if not done:
            continue
        best = next((r for r in done if r["method"] == "ours-highs"), done[0])
        for rep, rec in enumerate(bill_only(inst, best["plan"], repeat)):
            _record(report, inst, rep, rec)


def _record(report: Report, inst: Instance, rep: int, rec: dict) -> None:
    rec.update(instance=inst.label, family=inst.family, size=inst.size, months=inst.months,
               basis=inst.basis, seed=inst.seed, repeat=rep + 1)
    report.runs.append(rec)


# --------------------------------------------------------------------------- verification

def verify(report: Report) -> None:
    """Mark each run verified or not and collect failures (see the module docstring)."""
    by_inst: dict[str, list[dict]] = {}
    for r in report.runs:
        by_inst.setdefault(r["instance"], []).append(r)
    for label, runs in by_inst.items():
        billed = [Decimal(r["billed"]) for r in runs if r["billed"] is not None]
        best = min(billed) if billed else None
        who = next((r["method"] for r in runs
                    if r["billed"] is not None and Decimal(r["billed"]) == best), None)
        for r in runs:
            where = f"{label} (family {r['family']}, size {r['size']}, seed {r['seed']}), " \
                    f"{r['method']} run {r['repeat']}"
            problem = None
            if r["status"] == "error":
                problem = f"crashed: {r['note']}"
            elif r.get("problems"):
                problem = "; ".join(r["problems"])
            elif r["status"] == "optimal":
                if r["billed"] is None or r["objective"] is None:
                    problem = "optimal but no billed cost"
                elif Decimal(r["billed"]) != Decimal(r["objective"]):
                    problem = (f"objective {r['objective']} but the plan bills "
                               f"{r['billed']}")
                elif Decimal(r["billed"]) != best:
                    problem = (f"claims optimal at {r['billed']} but {who} found a plan "
                               f"billed at {best}")
            elif r["status"] == "feasible" and r["bound"] is not None and best is not None \
                    and Decimal(r["bound"]) > best:
                problem = f"proves a lower bound {r['bound']} above the plan of {who} ({best})"
            if r["status"] == "optimal" and not problem:
                r["verified"] = "yes"
            elif problem:
                r["verified"] = "FAIL: " + problem
                report.failures.append(f"{where}: {problem}")
            elif r["status"] == "skipped":
                r["verified"] = r["note"]
            else:
                r["verified"] = "not optimal (bound consistent)" \
                    if r["status"] == "feasible" else "no plan"


def summarise(report: Report) -> None:
    """One row per (instance, method): medians over repeats, ratios to ours-highs."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in report.runs:
        groups.setdefault((r["instance"], r["method"]), []).append(r)
    rows = []
    for (label, method), runs in groups.items():
        first = runs[0]

        def med(key):
            vals = [r[key] for r in runs if r.get(key) is not None]
            return statistics.median(vals) if vals else None
        statuses = {r["status"] for r in runs}
        status = first["status"] if len(statuses) == 1 else "/".join(sorted(statuses))
        fails = [r["verified"] for r in runs if str(r.get("verified", "")).startswith("FAIL")]
        rows.append({
            "instance": label, "family": first["family"], "size": first["size"],
            "months": first["months"], "basis": first["basis"], "seed": first["seed"],
            "method": method, "repeats": len(runs), "status": status, "note": first["note"],
            "build_s": med("build_s"), "solve_s": med("solve_s"), "bill_s": med("bill_s"),
            "wall_s": med("wall_s"), "cpu_s": med("cpu_s"), "mem_mb": med("mem_mb"),
            "rss_peak_mb": med("rss_peak_mb"),
            "objective": first["objective"], "billed": first["billed"], "gap": first["gap"],
            "verified": fails[0] if fails else first.get("verified", ""),
            "extra": {k: v for k, v in first["extra"].items() if k != "traceback"},
        })
    for row in rows:
        ref = next((r for r in rows if r["instance"] == row["instance"]
                    and r["method"] == "ours-highs" and r["status"] == "optimal"), None)
        ok = ref is not None and row["status"] in ("optimal", "feasible", "no_solution",
                                                   "killed")
        row["solve_ratio"] = row["solve_s"] / ref["solve_s"] \
            if ok and ref["solve_s"] and row["solve_s"] is not None else None
        row["wall_ratio"] = row["wall_s"] / ref["wall_s"] \
            if ok and ref["wall_s"] and row["wall_s"] is not None else None
    report.rows = rows


def targets(report: Report) -> list[dict]:
    """The speed targets of the plan issue, measured."""
    out = []

    def row(family, size, method="ours-highs"):
        return next((r for r in report.rows if r["family"] == family and r["size"] == size
                     and r["method"] == method), None)
    if report.e2e:
        m = report.e2e["median_s"]
        out.append({"target": "packopt plan, bundled example, end to end (process start "
                    "included)", "limit_s": TARGETS["e2e_example_s"], "measured_s": m,
                    "met": m <= TARGETS["e2e_example_s"] and not report.e2e["problems"]})
    ex = row("example", 9)
    if ex and ex["solve_s"] is not None:
        out.append({"target": "solve part, bundled example (ours-highs solve_seconds)",
                    "limit_s": TARGETS["solve_example_s"], "measured_s": ex["solve_s"],
                    "met": ex["solve_s"] <= TARGETS["solve_example_s"]
                    and ex["status"] == "optimal"})
    big = row("mixed-12m", 1000)
    if big and big["wall_s"] is not None:
        out.append({"target": "1000 products x 12 months, proven optimal (ours-highs, "
                    "whole plan() call)", "limit_s": TARGETS["mixed_1000x12_s"],
                    "measured_s": big["wall_s"], "status": big["status"],
                    "met": big["wall_s"] <= TARGETS["mixed_1000x12_s"]
                    and big["status"] == "optimal"})
    for fam, size, limit, what in MODE_TARGETS:
        r = row(fam, size)
        if r and r["wall_s"] is not None and r["status"] != "skipped":
            out.append({"target": f"{what}, proven optimal (ours-highs, whole plan() call)",
                        "limit_s": limit, "measured_s": r["wall_s"], "status": r["status"],
                        "met": r["wall_s"] <= limit and r["status"] == "optimal"})
    return out
