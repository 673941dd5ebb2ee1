"""The pictures of a bill, drawn once with matplotlib: the HTML report inlines them as SVG,
`--chart FILE.png` writes them as one PNG.

Two pictures:

- **Cost by product** (`draw_costs`): per product, packs and postpaid as one stacked bar
  against pure postpaid (a thin grey bar), each labelled with its money.
- **Pack balance against demand** (`draw_month`), one panel per product that buys or
  holds packs: the month's calls as stacked bars (free, from packs, postpaid), the pack
  balance at the month's end as a line (the convention of the tables and the JSON),
  purchases (▲), expiry (red dashes) and the product-level balance events (● below 15 %
  of what is held, ◆ all packs used up), labelled in words and figures (events in words up
  to 24 months; beyond, their markers and the legend say it).

No label overlaps another: month labels are thinned to fit (every 1, 2, 3, 4, 6, 12 or 24
months, on calendar quarters and years), event labels are stacked on as few levels as keep
them apart, and `settle` hides any optional label that would still touch another text
(`text_boxes` lists what a test checks). Figures use matplotlib's object API with the Agg
canvas (no pyplot, no global state); SVG text is drawn as paths, so the page needs no font.
"""

from __future__ import annotations

import io
import math
import re

from ..billing import Bill, ProductBill
from . import data
from .formats import fmt_int, fmt_money

COLOURS = {"free": "#c9d6e3", "pack": "#3a6ea5", "postpaid": "#e08a2c", "balance": "#2b8a3e",
           "expire": "#c92a2a", "event": "#b7791f", "only": "#9aa5b1", "ink": "#1f2933",
           "mute": "#6b7785", "grid": "#e6eaef", "band": "#7048e8"}
FONT = 8                    # points: ticks, labels, legends
TITLE_FONT = 9
DPI = 110
WIDTH = 9.0                 # inches: one picture across a page
PANEL_HEIGHT = 2.9          # inches: one month panel
MAX_PANELS = 12             # month panels in the PNG
MONTH_STEPS = (1, 2, 3, 6, 12, 24)
MAX_LEVELS = 4              # rows of event labels above a month panel's bars
BAND = 0.32                 # share of a month panel's height kept free for event labels
OPTIONAL = "_packopt_optional"    # marks labels `settle` may hide
EVENT_WORDS = {"low": "below 15%", "exhausted": "all packs used up"}
EVENT_MARKERS = {"low": "o", "exhausted": "D"}
EVENT_SIGNS = {"low": "●", "exhausted": "◆"}
WORDED_EVENTS = 24          # events get words up to this many months; beyond, markers only


# --------------------------------------------------------------------------- figures

def new_figure(width: float, height: float):
    """A Figure on the Agg canvas with constrained layout (no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.get_layout_engine().set(h_pad=0.06, w_pad=0.06, hspace=0.04, wspace=0.04)
    return fig


def _count(v, _pos=None) -> str:
    return f"{v:,.0f}"


def _style_axes(ax) -> None:
    ax.tick_params(labelsize=FONT, colors=COLOURS["ink"], length=3)
    ax.grid(color=COLOURS["grid"], linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


# --------------------------------------------------------------------------- cost by product

def draw_costs(ax, bill: Bill) -> None:
    """Per product a bar of packs + postpaid and a thin one of pure postpaid, with money."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    products = list(bill.products)
    y = list(range(len(products)))
    pack = [float(pb.pack_cost) for pb in products]
    post = [float(pb.postpaid_cost) for pb in products]
    only = [float(pb.postpaid_only_cost) for pb in products]
    ax.barh(y, pack, height=0.5, color=COLOURS["pack"], label="packs")
    ax.barh(y, post, left=pack, height=0.5, color=COLOURS["postpaid"], label="postpaid")
    ax.barh([k + 0.36 for k in y], only, height=0.14, color=COLOURS["only"],
            label="pure postpaid (thin bar)")
    ax.set_yticks(y, [pb.product for pb in products])
    ax.set_ylim(len(products) - 0.45, -0.5)
    _style_axes(ax)
    ax.grid(axis="y", visible=False)
    ax.xaxis.set_major_formatter(FuncFormatter(_count))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, min_n_ticks=2))
    ax.set_xlabel(f"{bill.currency}", fontsize=FONT, color=COLOURS["mute"])
    ax.set_title(f"Cost by product ({bill.currency}): packs + postpaid, against pure postpaid",
                 loc="left", fontsize=TITLE_FONT, fontweight="bold", color=COLOURS["ink"])
    labels = []
    for k, pb in enumerate(products):
        text = f"{fmt_money(pb.total_cost)}"
        if pb.postpaid_only_cost != pb.total_cost:
            text += f"  (pure postpaid {fmt_money(pb.postpaid_only_cost)})"
        labels.append((max(pack[k] + post[k], only[k]), k, text))
    ax._packopt_cost_labels = labels
    ax.set_xlim(0, max([v for v, _, _ in labels] + [1.0]) * 1.6)


def _place_cost_labels(ax, renderer) -> None:
    """The money labels right of the bars; the x range grows until the longest fits."""
    labels = getattr(ax, "_packopt_cost_labels", [])
    if not labels:
        return
    box = ax.get_window_extent(renderer)
    texts = []
    for value, k, text in labels:
        t = ax.annotate(text, (value, k), xytext=(4, 0), textcoords="offset points",
                        va="center", ha="left", fontsize=FONT, color=COLOURS["ink"])
        texts.append((value, t))
    widths = [t.get_window_extent(renderer).width + 10 for _, t in texts]
    # value + width * top / axes_width <= top for every label
    top = max(v / max(1 - w / box.width, 0.05) for (v, _), w in zip(texts, widths))
    ax.set_xlim(0, max(top, 1.0))


# --------------------------------------------------------------------------- month panels

def draw_month(ax, pb: ProductBill, band=None) -> None:
    """One product's months: calls as bars, balance at month end, purchases, expiry, events;
    with `band` (P10 and P90 calls per month, `plan --history`) the forecast's band."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    series = data.month_series(pb)
    n = len(series)
    x = list(range(n))
    bottom = [0] * n
    for key, name in (("free", "free calls"), ("pack", "calls from packs"),
                      ("postpaid", "postpaid calls")):
        vals = [s[key] for s in series]
        ax.bar(x, vals, bottom=bottom, width=0.72, color=COLOURS[key], label=name)
        bottom = [b + v for b, v in zip(bottom, vals)]
    balance = [s["balance"] for s in series]
    ax.plot(x, balance, color=COLOURS["balance"], marker="o", markersize=2.5, linewidth=1.8,
            label="pack balance at month end")
    top = max(bottom + balance + [1])
    if band is not None:
        edges = [i - 0.5 for i in range(n + 1)]        # each month's band spans its bar
        low, high = list(band[0]) + [band[0][-1]], list(band[1]) + [band[1][-1]]
        ax.fill_between(edges, low, high, step="post", color=COLOURS["band"], alpha=0.14,
                        linewidth=0, zorder=3)
        for edge in (low, high):
            ax.step(edges, edge, where="post", color=COLOURS["band"], linewidth=0.9, zorder=3)
        top = max(top, *high)
    labels = []                          # (month index, text, colour, preferred side)
    for i, s in enumerate(series):
        if s["bought"]:
            ax.plot([i], [0], marker="^", markersize=7, color=COLOURS["pack"], clip_on=False,
                    zorder=5, linestyle="none")
            labels.append((i, f"▲ {fmt_int(s['bought'])} calls bought", COLOURS["pack"],
                           "left"))
        if s["expiring"]:
            ax.axvline(i + 0.5, color=COLOURS["expire"], linestyle="--", linewidth=1)
            labels.append((i, f"{fmt_int(s['expiring'])} calls expire", COLOURS["expire"],
                           "right"))
        if s["event"]:
            ax.plot([i], [s["balance"]], marker=EVENT_MARKERS[s["event"]], markersize=6,
                    color=COLOURS["event"], linestyle="none", zorder=6)
            if n <= WORDED_EVENTS:
                labels.append((i, f"{EVENT_SIGNS[s['event']]} {EVENT_WORDS[s['event']]}",
                               COLOURS["event"], "left"))
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylim(0, top * 1.04 / (1 - BAND))
    _style_axes(ax)
    ax.grid(axis="x", visible=False)
    ax.yaxis.set_major_formatter(FuncFormatter(_count))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True, min_n_ticks=2))
    ax.set_ylabel("calls", fontsize=FONT, color=COLOURS["mute"])
    ax.set_title(pb.product, loc="left", fontsize=TITLE_FONT, fontweight="bold",
                 color=COLOURS["ink"])
    ax.set_xticks(x, [s["month"] for s in series])
    ax._packopt_month = {"months": [s["month"] for s in series], "labels": labels,
                         "top": top}


def _thin_months(ax, renderer) -> None:
    """Month labels every 1, 2, 3, 6, 12 or 24 months, whichever first leaves room
    between them; steps that divide a year start on a calendar quarter or year."""
    info = getattr(ax, "_packopt_month", None)
    if info is None:
        return
    months = info["months"]
    n = len(months)
    box = ax.get_window_extent(renderer)
    per_month = box.width / (n + 0.2)
    widest = max(t.get_window_extent(renderer).width for t in ax.get_xticklabels()) + 10
    step = next((s for s in MONTH_STEPS if s * per_month >= widest), MONTH_STEPS[-1])
    index = [int(m[:4]) * 12 + int(m[5:]) - 1 for m in months]
    ticks = [i for i in range(n) if index[i] % step == 0] or [0]
    ax.set_xticks(ticks, [months[i] for i in ticks])


def _place_month_labels(ax, renderer) -> None:
    """Event labels in a band above the bars, each on the lowest level where it touches
    no other; a label that would need more than MAX_LEVELS levels is left out (its marker
    stays)."""
    from matplotlib.transforms import blended_transform_factory

    info = getattr(ax, "_packopt_month", None)
    if info is None or not info["labels"]:
        return
    box = ax.get_window_extent(renderer)
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    levels: list[list[tuple[float, float]]] = []
    placed = []
    height = 0.0
    for i, text, colour, side in info["labels"]:
        t = ax.text(i, 1.0, text, transform=trans, fontsize=FONT, color=colour, va="top",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.4,
                          "alpha": 0.85})
        width = t.get_window_extent(renderer).width
        height = max(height, t.get_window_extent(renderer).height)
        left = ax.transData.transform((i - 0.36, 0))[0]       # the bar's left edge
        right = ax.transData.transform((i + 0.45, 0))[0]      # just before the month's end
        if side == "right" and right - width < box.x0:
            side = "left"
        if side == "left" and left + width > box.x1:
            side = "right"
        if side == "left":
            t.set_x(i - 0.36)
            t.set_ha("left")
            x0 = left
        else:
            t.set_x(i + 0.45)
            t.set_ha("right")
            x0 = right - width
        span = (x0 - 4, x0 + width + 4)
        level = next((k for k, used in enumerate(levels)
                      if all(span[1] <= a or span[0] >= b for a, b in used)), len(levels))
        if level >= MAX_LEVELS:
            t.remove()
            continue
        if level == len(levels):
            levels.append([])
        levels[level].append(span)
        setattr(t, OPTIONAL, True)
        placed.append((t, level))
    step = (height + 3) / box.height
    for t, level in placed:
        t.set_y(1 - 3 / box.height - level * step)
    band = 3 / box.height + len(levels) * step + 0.02
    if band > BAND:                                  # more levels than the band holds
        ax.set_ylim(0, info["top"] * 1.04 / (1 - band))


# --------------------------------------------------------------------------- layout

def text_boxes(fig, renderer=None) -> list:
    """Every text the figure shows, with its box in pixels: titles, tick labels within the
    axes' range, axis labels, legend entries, annotations. What `settle` keeps apart and
    what the tests check."""
    from matplotlib.text import Text

    renderer = renderer or fig.canvas.get_renderer()
    ticks = set()
    shown = []
    for ax in fig.get_axes():
        for axis, (lo, hi) in ((ax.xaxis, sorted(ax.get_xlim())),
                               (ax.yaxis, sorted(ax.get_ylim()))):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                for label in (tick.label1, tick.label2):
                    ticks.add(id(label))
                    loc = tick.get_loc()
                    if (label.get_visible() and label.get_text().strip()
                            and lo - 1e-9 <= loc <= hi + 1e-9):
                        shown.append(label)
    for t in fig.findobj(Text):
        if id(t) in ticks or not t.get_visible() or not t.get_text().strip():
            continue
        shown.append(t)
    return [(t, t.get_window_extent(renderer)) for t in shown]


def _overlap(a, b, pad: float = 1.0) -> bool:
    return (a.x0 < b.x1 - pad and b.x0 < a.x1 - pad and
            a.y0 < b.y1 - pad and b.y0 < a.y1 - pad)


def settle(fig) -> None:
    """Lay the figure out and freeze it, thin the month labels, place the event and money
    labels, then hide any optional label that still touches another text."""
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    renderer = fig.canvas.get_renderer()
    for ax in fig.get_axes():
        _thin_months(ax, renderer)
        _place_cost_labels(ax, renderer)
        _place_month_labels(ax, renderer)
    fig.draw_without_rendering()
    kept = []
    for t, box in sorted(text_boxes(fig, renderer), key=lambda tb: getattr(tb[0], OPTIONAL,
                                                                            False)):
        if getattr(t, OPTIONAL, False) and any(_overlap(box, b) for b in kept):
            t.set_visible(False)
            continue
        kept.append(box)


# --------------------------------------------------------------------------- the pictures

def month_legend(fig_or_sub, band: bool = False) -> None:
    """The month panels' legend, under them (with the forecast band's, when drawn)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(color=COLOURS["free"], label="free calls"),
               Patch(color=COLOURS["pack"], label="calls from packs"),
               Patch(color=COLOURS["postpaid"], label="postpaid calls"),
               Line2D([], [], color=COLOURS["balance"], marker="o", markersize=2.5,
                      linewidth=1.8, label="pack balance at month end"),
               Line2D([], [], color=COLOURS["pack"], marker="^", linestyle="none",
                      label="packs bought"),
               Line2D([], [], color=COLOURS["expire"], linestyle="--",
                      label="unused balance expires"),
               Line2D([], [], color=COLOURS["event"], marker="o", linestyle="none",
                      label="balance below 15% of packs held"),
               Line2D([], [], color=COLOURS["event"], marker="D", markersize=5,
                      linestyle="none", label="all packs used up")]
    if band:
        handles.append(Patch(facecolor=COLOURS["band"], alpha=0.3, edgecolor=COLOURS["band"],
                             label="forecast P10–P90"))
    fig_or_sub.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=FONT,
                      frameon=False)


def cost_legend(fig_or_sub) -> None:
    """The cost chart's legend, under it."""
    from matplotlib.patches import Patch

    handles = [Patch(color=COLOURS["pack"], label="packs"),
               Patch(color=COLOURS["postpaid"], label="postpaid"),
               Patch(color=COLOURS["only"], label="pure postpaid (thin bar)")]
    fig_or_sub.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=FONT,
                      frameon=False)


def cost_figure(bill: Bill):
    """Cost by product, as a figure of its own (for the report)."""
    fig = new_figure(WIDTH, 1.3 + 0.38 * len(bill.products))
    draw_costs(fig.add_subplot(), bill)
    cost_legend(fig)
    settle(fig)
    return fig


def month_figure(pb: ProductBill, band=None):
    """One product's pack balance against demand, as a figure of its own (for the report)."""
    fig = new_figure(WIDTH, PANEL_HEIGHT + 0.45)
    draw_month(fig.add_subplot(), pb, band)
    month_legend(fig, band is not None)
    settle(fig)
    return fig


def chart_figure(bill: Bill, *, title: str = "", max_panels: int = MAX_PANELS, band=None):
    """The PNG's figure: cost by product over the month panels of up to `max_panels`
    products with packs (two columns up to 24 months, one beyond)."""
    products = [pb for pb in bill.products if data.has_packs(pb)]
    hidden = max(len(products) - max_panels, 0)
    products = products[:max_panels]
    cols = 2 if len(products) > 1 and bill.months <= 24 else 1
    rows = math.ceil(len(products) / cols)
    width = 13.0 if cols == 2 else 11.0
    cost_h = 1.3 + 0.38 * len(bill.products)
    month_h = rows * PANEL_HEIGHT + 0.6 if products else 0.8
    fig = new_figure(width, cost_h + month_h + 0.5)
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=TITLE_FONT + 2, fontweight="bold",
                     color=COLOURS["ink"])
    top, bottom = fig.subfigures(2, 1, height_ratios=[cost_h, month_h])
    draw_costs(top.add_subplot(), bill)
    cost_legend(top)
    if products:
        axes = bottom.subplots(rows, cols, squeeze=False)
        band = band or {}
        for ax, pb in zip(axes.flat, products):
            draw_month(ax, pb, band.get(pb.product))
        for ax in list(axes.flat)[len(products):]:
            ax.set_visible(False)
        month_legend(bottom, any(pb.product in band for pb in products))
        if hidden:
            bottom.suptitle(f"Pack balance against demand ({hidden} more products with packs "
                            f"not shown)", x=0.01, ha="left", fontsize=TITLE_FONT,
                            color=COLOURS["mute"])
    else:
        ax = bottom.add_subplot()
        ax.axis("off")
        ax.text(0.5, 0.5, "No product buys or holds packs", ha="center", va="center",
                fontsize=TITLE_FONT, color=COLOURS["mute"], transform=ax.transAxes)
    settle(fig)
    return fig


def month_chart(bill: Bill, path, *, title: str = "", max_panels: int = MAX_PANELS,
                fmt: str = "png", band=None) -> None:
    """Write the chart to `path` as PNG (or "svg"); raises OSError if it cannot be written.
    `band`: product -> (P10, P90) calls per month, drawn on the month panels."""
    fig = chart_figure(bill, title=title, max_panels=max_panels, band=band)
    meta = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    fig.savefig(path, format=fmt, dpi=DPI, metadata=meta)


# --------------------------------------------------------------------------- SVG for the page

def svg(fig, prefix: str, label: str) -> str:
    """The figure as an <svg> element to inline in HTML: no XML prolog, scaled to the page
    width, labelled for screen readers, every id prefixed with `prefix` so that several
    charts share a page."""
    from html import escape

    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r'(href="#|url\(#)([^")]+)',
                  lambda m: m.group(1) + (prefix + m.group(2) if m.group(2) in ids
                                          else m.group(2)), text)
    text = re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"',
                  lambda m: f'<svg {m.group(1)}class="chart" role="img" '
                            f'aria-label="{escape(label)}"', text, count=1)
    return text


def report_svgs(bill: Bill, max_month_charts: int, band=None
                ) -> tuple[str, list[tuple[ProductBill, str]]]:
    """The report's pictures as inline SVG: cost by product, then one month chart per
    product with packs (at most `max_month_charts`), with its forecast band if in `band`."""
    band = band or {}
    cost = svg(cost_figure(bill), "c-", "Cost by product")
    months = [(pb, svg(month_figure(pb, band.get(pb.product)), f"m{k}-", f"{pb.product}: pack balance against "
                                                    f"demand, month by month"))
              for k, pb in enumerate([pb for pb in bill.products
                                      if data.has_packs(pb)][:max_month_charts])]
    return cost, months

