"""`--chart FILE.png`: pack balance against demand, month by month, with matplotlib (Agg).

One panel per product that buys or holds packs (at most `max_panels`): stacked bars of the
month's calls (free, from packs, postpaid), the pack balance usable at the start of each
month as a line, purchases marked ▲, expiry as red dashed lines, reminder months as dots.
"""

from __future__ import annotations

import math

from ..billing import Bill
from . import data

MAX_PANELS = 12


def month_chart(bill: Bill, path, *, title: str = "", max_panels: int = MAX_PANELS) -> None:
    """Write the PNG to `path` (raises OSError if it cannot be written)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    products = [pb for pb in bill.products if data.has_packs(pb)]
    hidden = max(len(products) - max_panels, 0)
    products = products[:max_panels]
    n = max(len(products), 1)
    cols = 1 if n == 1 else 2
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 3.0 * rows + 0.8), squeeze=False)
    short = FuncFormatter(lambda v, _: (f"{v / 1e6:g}M" if v >= 1e6 else
                                        f"{v / 1e3:g}k" if v >= 1e3 else f"{v:g}"))
    for k, ax in enumerate(axes.flat):
        if k >= len(products):
            ax.axis("off")
            if not products and k == 0:
                ax.text(0.5, 0.5, "No product buys or holds packs", ha="center",
                        va="center", transform=ax.transAxes)
            continue
        pb = products[k]
        series = data.month_series(pb)
        x = list(range(len(series)))
        labels = [s["month"][2:] for s in series]
        bottom = [0] * len(series)
        for key, colour, name in (("free", "#c9d6e3", "free"), ("pack", "#3a6ea5", "from packs"),
                                  ("postpaid", "#e08a2c", "postpaid")):
            vals = [s[key] for s in series]
            ax.bar(x, vals, bottom=bottom, color=colour, width=0.6, label=name)
            bottom = [b + v for b, v in zip(bottom, vals)]
        ax.plot(x, [s["balance_start"] for s in series], color="#2b8a3e", marker="o",
                markersize=3, linewidth=2, label="pack balance")
        top = max(max(bottom), max(s["balance_start"] for s in series), 1)
        for i, s in enumerate(series):
            if s["bought"]:
                ax.annotate(f"▲{short(s['bought'], None)}", (i, 0), xytext=(0, -24),
                            textcoords="offset points", ha="center", fontsize=7,
                            color="#3a6ea5", annotation_clip=False)
            if s["expiring"]:
                ax.axvline(i + 0.5, color="#c92a2a", linestyle="--", linewidth=1)
                ax.text(i + 0.45, top * 1.02, f"expires {short(s['expiring'], None)}",
                        color="#c92a2a", fontsize=7, ha="right", va="bottom")
            if s["reminders"]:
                ax.plot([i], [top * 1.1], marker="o", color="#e8a317", markersize=5,
                        linestyle="none")
        ax.set_ylim(0, top * 1.18)
        ax.set_xticks(x, labels, fontsize=7, rotation=90 if len(x) > 18 else 0)
        ax.yaxis.set_major_formatter(short)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title(pb.product, fontsize=9, loc="left")
        ax.grid(axis="y", color="#e6eaef")
        ax.set_axisbelow(True)
    handles, names = axes.flat[0].get_legend_handles_labels()
    note = "calls per month; ▲ packs bought; red dashes: balance expires; dots: reminders"
    if hidden:
        note += f"; {hidden} more products with packs not shown"
    fig.suptitle(title or "Pack balance against demand", fontsize=10, x=0.01, ha="left")
    if handles:
        fig.legend(handles, names, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.text(0.99, 0.005, note, fontsize=7, ha="right", va="bottom", color="#6b7785")
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    try:
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
