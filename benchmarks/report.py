"""Reports of a sweep: the markdown scaling table and the log-log plot of solve time."""

from __future__ import annotations

import math
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


def markdown(report) -> str:
    out = []
    cfg = report.config
    mach = report.machine
    out.append(f"Machine: {mach['cpus']} CPUs, {mach['cpu_model']}, Python {mach['python']}, "
               f"PuLP {mach['packages'].get('pulp')}, highspy {mach['packages'].get('highspy')}"
               f"; commit {mach.get('commit') or '?'}. Repeats: {cfg['repeat']} (medians), "
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
    if report.failures:
        out.append("")
        out.append("**Verification failures:**")
        out.extend(f"- {f}" for f in report.failures)
    if report.interrupted:
        out.append("")
        out.append("_Interrupted: the table holds the runs finished before Ctrl-C._")
    return "\n".join(out) + "\n"


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
    methods = list(dict.fromkeys(r["method"] for r in report.rows))
    cmap = plt.get_cmap("tab10")
    style = {m: cmap(i % 10) for i, m in enumerate(methods)}
    for ax, fam in zip(axes.flat, fams):
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
    for ax in list(axes.flat)[len(fams):]:
        ax.axis("off")
    fig.suptitle("packopt benchmarks: solve time vs instance size (start mode)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
