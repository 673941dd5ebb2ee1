"""Reports of a sweep: the markdown scaling table, the solver table (solved counts and
shifted geometric means, as Mittelmann's MILP benchmarks report) and the log-log plots of
time against products and against months."""

from __future__ import annotations

import math
import re
from collections import defaultdict

STATUS_TEXT = {"optimal": "optimal", "feasible": "timed out (plan, gap open)",
               "no_solution": "timed out, no plan", "killed": "timed out (killed)",
               "error": "ERROR", "skipped": "skipped"}


def _s(x) -> str:
    if x is None:
        return "–"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 0.1:
        return f"{x:.2f}"
    return f"{x:.3f}"


TIMED_OUT = ("feasible", "no_solution", "killed")


def _ratio(x, status: str = "optimal") -> str:
    """A time ratio; at least that much ("≥") when the run was stopped by its limit."""
    if x is None:
        return "–"
    return f"≥{x:.1f}×" if status in TIMED_OUT else f"{x:.1f}×"


def _x(ratio) -> str:
    return "–" if ratio is None else f"{ratio:.2f}×"


def _money(x) -> str:
    return "–" if x is None else f"{float(x):,.2f}"


def status_text(row) -> str:
    st = STATUS_TEXT.get(row["status"], row["status"])
    if row["status"] == "skipped":
        return row["note"] or st
    if row["status"] == "feasible" and row.get("gap"):
        st = f"timed out (gap {_money(row['gap'])})"
    return st


def _smoke_limits(cfg) -> str:
    if not cfg.get("smoke"):
        return ""
    from .families import FAMILIES
    short = [f"{f} {FAMILIES[f].smoke_time_limit:g} s" for f in cfg.get("families", ())
             if f in FAMILIES and FAMILIES[f].smoke_time_limit is not None]
    return f" (smoke limits: {', '.join(short)})" if short else ""


# Long (85 lines): the report's sections in the order a reader meets them, each a few lines;
# split, they would pass the same half-dozen locals around.
def markdown(report) -> str:
    out = []
    cfg = report.config
    mach = report.machine
    extra = "".join(f", {name} {mach['packages'][mod]}" for mod, name in
                    (("pyscipopt", "PySCIPOpt"), ("ortools", "OR-Tools"))
                    if mach["packages"].get(mod, "?") != "?"
                    and any(m.endswith(("-scip", "-cpsat")) for m in cfg.get("method_list", ())))
    out.append(f"Machine: {mach['cpus']} CPUs, {mach['cpu_model']}, Python {mach['python']}, "
               f"PuLP {mach['packages'].get('pulp')}, highspy {mach['packages'].get('highspy')}"
               f"{extra}; commit {mach.get('commit') or '?'}. Repeats: {cfg['repeat']} (medians), "
               f"time limit {cfg['time_limit']} s per run{_smoke_limits(cfg)}.")
    out.append("")
    out.append("| instance | basis | method | status | build s | solve s | re-bill s | total s "
               "| CPU s | solve ×ours | total ×ours | billed cost (CNY) | mem MB | verified |")
    out.append("|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
    na = [r for r in report.rows if r["status"] == "skipped"
          and str(r["note"]).startswith("n/a")]
    for r in report.rows:
        if any(r is x for x in na):
            continue                     # listed once below the table
        timed = r["status"] not in ("skipped",)
        out.append("| " + " | ".join([
            r["instance"], r["basis"], r["method"], status_text(r),
            _s(r["build_s"]) if timed else "–", _s(r["solve_s"]) if timed else "–",
            _s(r["bill_s"]) if timed else "–", _s(r["wall_s"]) if timed else "–",
            _s(r.get("cpu_s")) if timed and r.get("cpu_s") is not None else "–",
            _ratio(r["solve_ratio"], r["status"]), _ratio(r["wall_ratio"], r["status"]),
            _money(r["billed"]),
            "–" if r["mem_mb"] is None else f"{r['mem_mb']:.0f}",
            r["verified"] if not str(r["verified"]).startswith(("skipped", "n/a")) else "–",
        ]) + " |")
    out.append("")
    out.append("×ours: the method's median time divided by ours-highs' median on the same "
               "instance, same run (≥ where the method was stopped by its time limit). "
               "total = the whole call (build + solve + re-bill + the "
               "planner's tie-break re-solve); CPU = user + system seconds of the run's "
               "process (no CBC subprocess); mem = peak RSS growth of the run, or the CBC "
               "process's peak when larger.")
    speed = speedup_lines(report)
    if speed:
        out.append("")
        out.append("Speed-up of ours-highs over the straightforward big-M model (the "
                   "baseline's median total time divided by ours-highs', same instance, "
                   "same run):")
        out.append("")
        out.extend(speed)
    by_note: dict[str, list[dict]] = {}
    for r in na:
        by_note.setdefault(r["note"], []).append(r)
    for note, rows in by_note.items():
        fams = ", ".join(dict.fromkeys(r["family"] for r in rows))
        meths = ", ".join(dict.fromkeys(r["method"] for r in rows))
        out.append("")
        out.append(f"Not run, {note}: {meths} on {fams}.")
    growth = growth_lines(report)
    if growth:
        out.append("")
        out.append("Growth with products (log-log slope of median solve time between sizes):")
        out.append("")
        out.extend(growth)
    if report.targets or report.e2e:
        out.append("")
        out.append("| target | limit s | measured s | met |")
        out.append("|---|--:|--:|---|")
        for t in report.targets:
            out.append(f"| {t['target']} | {t['limit_s']} | {_s(t['measured_s'])} | "
                       f"{'yes' if t['met'] else 'NO'} |")
    if report.e2e:
        e = report.e2e
        out.append("")
        out.append(f"End to end: `{e['command']}` × {e['runs']}: median {e['median_s']:.3f} s "
                   f"(min {e['min_s']:.3f}, max {e['max_s']:.3f}).")
    table = solver_table(report)
    if table:
        out.append("")
        out.extend(solver_lines(table, report.config))
    if report.failures:
        out.append("")
        out.append("**Verification failures:**")
        out.extend(f"- {f}" for f in report.failures)
    if report.interrupted:
        out.append("")
        out.append("_Interrupted: the table holds the runs finished before Ctrl-C._")
    return "\n".join(out) + "\n"


SHIFT_S = 1.0          # the shifted geometric mean's shift, seconds (as Mittelmann uses)


def shifted_geomean(times, shift: float = SHIFT_S) -> float:
    """exp(mean(log(t + shift))) - shift: ratios of slow runs count, tiny ones are damped."""
    return math.exp(sum(math.log(t + shift) for t in times) / len(times)) - shift


def _limit(cfg, family) -> float | None:
    limit = cfg.get("time_limit")
    if cfg.get("smoke"):
        from .families import FAMILIES
        short = FAMILIES[family].smoke_time_limit if family in FAMILIES else None
        if short is not None:
            limit = short if limit is None else min(limit, short)
    return limit


def solver_table(report) -> list[dict]:
    """Per family and method: runs proven optimal and verified ("solved") out of
    instances x repeats, and the shifted geometric mean of the total time, where a run not
    solved counts at the time limit (a run the runner did not start because the method had
    timed out on that instance or a smaller one, too). Instances a method does not apply to
    (n/a) are left out of its count; a method skipped for a missing solver has no times."""
    cfg = report.config
    repeat = cfg.get("repeat", 1)
    order = list(cfg.get("method_list") or ()) + ["bill-only"]
    fams = list(dict.fromkeys(r["family"] for r in report.runs))
    out = []
    for fam in fams:
        runs = [r for r in report.runs if r["family"] == fam]
        labels = list(dict.fromkeys(r["instance"] for r in runs))
        methods = list(dict.fromkeys(order + [r["method"] for r in runs]))
        ref = None
        limit = _limit(cfg, fam)
        for m in methods:
            mine = [r for r in runs if r["method"] == m]
            if not mine:
                continue
            times, solved, total, missing = [], 0, 0, None
            for label in labels:
                at = [r for r in mine if r["instance"] == label]
                if not at or (len(at) == 1 and at[0]["status"] == "skipped"
                              and str(at[0]["note"]).startswith("n/a")):
                    continue
                if any(r["status"] == "skipped" and "not installed" in str(r["note"])
                       for r in at):
                    missing = at[0]["note"]
                    continue
                n = repeat if m != "bill-only" else len(at)
                total += n
                for k in range(n):
                    r = at[k] if k < len(at) else None
                    ok = r is not None and r["status"] == "optimal" \
                        and r.get("verified") == "yes"
                    solved += ok
                    if ok:
                        times.append(r["wall_s"])
                    elif limit is not None:
                        times.append(limit)
                    elif r is not None and r["status"] != "skipped":
                        times.append(r["wall_s"])
            if missing and not total:
                out.append({"family": fam, "method": m, "solved": 0, "runs": 0,
                            "sgm_s": None, "ratio": None, "note": missing})
                continue
            if not total:
                continue
            sgm = shifted_geomean(times) if times else None
            row = {"family": fam, "method": m, "solved": solved, "runs": total,
                   "sgm_s": sgm, "ratio": None, "note": ""}
            if m == "ours-highs":
                ref = row
            out.append(row)
        for row in out:
            if row["family"] == fam and ref and ref["sgm_s"] and row["sgm_s"] is not None:
                row["ratio"] = row["sgm_s"] / ref["sgm_s"]
    return out


def solver_lines(table, cfg) -> list[str]:
    limit = cfg.get("time_limit")
    shown = "none" if limit is None else f"{limit:g} s"
    intro = ("Solved and shifted geometric mean per family and method: *solved* = runs "
             "proven optimal and verified within the time limit, out of instances × "
             f"repeats; *sgm* = shifted geometric mean of the total time (shift "
             f"{SHIFT_S:g} s), a run not solved counted at the time limit ({shown}), as "
             "Mittelmann's benchmarks do; ×ours = sgm / ours-highs' sgm on the same "
             "family, same run. bill-only: read the files + one re-bill of the optimal "
             "plan, the floor.")
    lines = [intro, "",
             "| family | method | solved | sgm s | ×ours |", "|---|---|--:|--:|--:|"]
    for r in table:
        if r["note"]:
            lines.append(f"| {r['family']} | {r['method']} | – | – | {r['note']} |")
            continue
        lines.append(f"| {r['family']} | {r['method']} | {r['solved']}/{r['runs']} | "
                     f"{_s(r['sgm_s'])} | "
                     f"{_x(r['ratio'])} |")
    return lines


def speedup_lines(report) -> list[str]:
    """One line per instance where a big-M baseline ran beside a proven ours-highs."""
    lines = []
    for label in dict.fromkeys(r["instance"] for r in report.rows):
        parts = [f"{r['method']} {_ratio(r['wall_ratio'], r['status'])}"
                 for r in report.rows if r["instance"] == label
                 and r["method"].startswith("baseline") and r["wall_ratio"] is not None]
        if parts:
            lines.append(f"- {label}: " + ", ".join(parts))
    return lines


def growth_lines(report) -> list[str]:
    series = defaultdict(list)
    for r in report.rows:
        if r["status"] == "optimal" and r["solve_s"]:
            series[(r["family"], r["method"])].append((r["size"], r["solve_s"]))
    lines = []
    for (fam, method), pts in sorted(series.items()):
        pts.sort()
        if len(pts) < 2:
            continue
        parts = []
        for (n1, t1), (n2, t2) in zip(pts, pts[1:]):
            slope = math.log(t2 / t1) / math.log(n2 / n1)
            parts.append(f"{n1}→{n2}: {slope:.2f}")
        lines.append(f"- {fam}, {method}: " + ", ".join(parts))
    return lines


def plot(report, path: str) -> None:
    """Log-log solve time against products, one panel per family, one line per method."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fams = list(dict.fromkeys(r["family"] for r in report.rows))
    if not fams:
        return
    cols = min(3, len(fams))
    nrows = math.ceil(len(fams) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(5.2 * cols, 4.2 * nrows), squeeze=False)
    methods = [m for m in dict.fromkeys(r["method"] for r in report.rows) if m != "bill-only"]
    cmap = plt.get_cmap("tab20")
    style = {m: cmap(i % 20) for i, m in enumerate(methods)}
    for ax, fam in zip(axes.flat, fams):
        floor = sorted((r["size"], max(r["wall_s"], 1e-4)) for r in report.rows
                       if r["family"] == fam and r["method"] == "bill-only")
        if floor:
            ax.plot(*zip(*floor), color="grey", linestyle="--", linewidth=1,
                    label="bill only (total: read + re-bill)")
        for m in methods:
            rows = sorted((r for r in report.rows if r["family"] == fam and r["method"] == m
                           and r["solve_s"] is not None and r["status"] != "skipped"),
                          key=lambda r: r["size"])
            done = [(r["size"], max(r["solve_s"], 1e-4)) for r in rows
                    if r["status"] == "optimal"]
            stopped = [(r["size"], max(r["solve_s"], 1e-4)) for r in rows
                       if r["status"] != "optimal"]
            if done:
                ax.plot(*zip(*done), marker="o", color=style[m], label=m)
            if stopped:
                ax.plot(*zip(*stopped), marker="x", linestyle="none", markersize=9,
                        color=style[m], label=f"{m} (timed out)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        if fam == "mixed-12m":
            ax.axhline(10, color="grey", linestyle=":", linewidth=1)
            ax.text(0.02, 10, "10 s target (1000×12)", va="bottom", fontsize=7, color="grey",
                    transform=ax.get_yaxis_transform())
        ax.set_title(fam)
        ax.set_xlabel("products")
        ax.set_ylabel("solve time, s (median)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    _save(fig, axes, len(fams), path,
          "packopt benchmarks: solve time vs products (dashed: the bill-only floor)")
    plt.close(fig)


MONTHS_FAMILY = re.compile(r"^(any|mixed)-(\d+)m$")


def plot_months(report, path: str) -> None:
    """Log-log median total time against months, one panel per series (any-*m, mixed-*m)
    and number of products, one line per method; x marks a run stopped by the time limit."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = defaultdict(list)
    for r in report.rows:
        m = MONTHS_FAMILY.match(r["family"])
        if m and r["status"] != "skipped" and r["wall_s"] is not None:
            panels[(m.group(1), r["size"])].append(r)
    panels = {k: v for k, v in panels.items() if len({r["months"] for r in v}) >= 2}
    if not panels:
        raise ValueError("no months sweep in this report: run families such as "
                         "any-12m,any-24m,any-36m (or mixed-12m,mixed-24m,...) at one size")
    keys = sorted(panels)
    cols = min(2, len(keys))
    nrows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(6 * cols, 4.4 * nrows), squeeze=False)
    methods = list(dict.fromkeys(r["method"] for v in panels.values() for r in v))
    cmap = plt.get_cmap("tab20")
    style = {m: cmap(i % 20) for i, m in enumerate(methods)}
    for ax, key in zip(axes.flat, keys):
        rows = panels[key]
        for m in methods:
            pts = sorted((r["months"], max(r["wall_s"], 1e-4), r["status"]) for r in rows
                         if r["method"] == m)
            done = [(x, y) for x, y, st in pts if st == "optimal"]
            stopped = [(x, y) for x, y, st in pts if st != "optimal"]
            kw = {"color": "grey", "linestyle": "--"} if m == "bill-only" else \
                {"color": style[m], "marker": "o"}
            if done:
                ax.plot(*zip(*done), label=m, **kw)
            if stopped:
                ax.plot(*zip(*stopped), marker="x", linestyle="none", markersize=9,
                        color=style[m], label=f"{m} (stopped)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        xs = sorted({r["months"] for r in rows})
        ax.set_xticks(xs)
        ax.set_xticklabels([str(x) for x in xs])
        ax.minorticks_off()
        ax.set_title(f"{key[0]}-*m, {key[1]} products")
        ax.set_xlabel("months")
        ax.set_ylabel("total time, s (median)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=6)
    _save(fig, axes, len(keys), path,
          "packopt benchmarks: time vs months (x: stopped by the time limit)")
    plt.close(fig)


def _save(fig, axes, used: int, path, title: str) -> None:
    """A grid of plots written out: the panels past the `used` ones blanked, the title."""
    for ax in list(axes.flat)[used:]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
