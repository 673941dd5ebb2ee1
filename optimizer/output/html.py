"""A self-contained HTML report of a bill or plan: inline CSS and inline SVG, nothing else.

No scripts, no fonts, no images, no network: the file opens anywhere and can be attached
to a budget request. Figures come from the same `Bill` the JSON is built from, formatted
with `formats.fmt_money`; every key figure also carries its plain value in a `data-value`
attribute (as in the JSON) so that tests can check the rendered page against the JSON.
"""

from __future__ import annotations

import math
from decimal import Decimal
from html import escape

from ..billing import Bill, ProductBill
from . import cells, data
from .formats import csv_money, fmt_int, fmt_money, fmt_pct, pct

CSS = """
:root { --pack: #3a6ea5; --post: #e08a2c; --free: #c9d6e3; --bal: #2b8a3e; --exp: #c92a2a;
        --rem: #e8a317; --ink: #1f2933; --mute: #6b7785; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", sans-serif;
       color: var(--ink); margin: 2rem auto; max-width: 1000px; padding: 0 1rem;
       line-height: 1.4; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #dde3ea;
     padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
.sub { color: var(--mute); margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1rem 0; }
.card { border: 1px solid #dde3ea; border-radius: 6px; padding: .6rem .9rem; min-width: 170px; }
.card .label { color: var(--mute); font-size: .8rem; }
.card .value { font-size: 1.3rem; font-weight: 600; }
.card.good .value { color: var(--bal); }
table { border-collapse: collapse; margin: .5rem 0; font-size: .9rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e6eaef; }
th { text-align: left; background: #f4f6f8; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; border-top: 2px solid #c5ced8; }
.warn { color: #8a5a00; background: #fff6e0; padding: .4rem .7rem; border-radius: 4px; }
svg { display: block; margin: .3rem 0 1rem; }
svg text { font-family: inherit; font-size: 11px; fill: var(--ink); }
.legend span { display: inline-block; margin-right: 1rem; font-size: .85rem; }
.sw { display: inline-block; width: .8rem; height: .8rem; vertical-align: -1px;
      margin-right: .3rem; border-radius: 2px; }
footer { color: var(--mute); font-size: .8rem; margin-top: 2rem; }
@media print { body { margin: 0; } h2 { break-after: avoid; } svg { break-inside: avoid; } }
"""


def _num(x) -> str:
    """A plain value for data-value: money with 2 decimals, counts as integers."""
    if isinstance(x, Decimal):
        return csv_money(x)
    return str(x)


def _money_td(x: Decimal, field: str | None = None) -> str:
    attr = f' data-field="{escape(field)}"' if field else ""
    return f'<td class="num"{attr} data-value="{_num(x)}">{fmt_money(x)}</td>'


def _table(columns, rows, *, right_from=1, total=None, attrs=None) -> str:
    """An HTML table from strings; `attrs` gives per-row attributes (data-*)."""
    head = "".join(f'<th class="{"num" if i >= right_from else ""}">'
                   f'{escape(c).replace(chr(10), "<br>")}</th>' for i, c in enumerate(columns))
    body = []
    for k, r in enumerate(rows):
        a = attrs[k] if attrs else ""
        cells = "".join(c if c.startswith("<td") else
                        f'<td class="{"num" if i >= right_from else ""}">'
                        f'{escape(c).replace(chr(10), "<br>")}</td>' for i, c in enumerate(r))
        body.append(f"<tr{a}>{cells}</tr>")
    if total:
        cells = "".join(c if c.startswith("<td") else
                        f'<td class="{"num" if i >= right_from else ""}">{escape(c)}</td>'
                        for i, c in enumerate(total))
        body.append(f'<tr class="total">{cells}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# --------------------------------------------------------------------------- SVG charts

def _axis(x: float) -> tuple[float, float]:
    """A round axis top at or above x and its tick step (1, 2, 2.5 or 5 × 10^k; ≤ 5 steps)."""
    if x <= 0:
        return 1.0, 0.25
    raw = x / 4
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return step * math.ceil(x / step - 1e-9), step


def _short(n: float) -> str:
    """Axis labels: 1.2M, 250k, 900."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:g}M"
    if n >= 1_000:
        return f"{n / 1_000:g}k"
    return f"{n:g}"


def cost_bars_svg(bill: Bill) -> str:
    """Per product: packs + postpaid (stacked) against pure postpaid, horizontal bars."""
    products = list(bill.products)
    top = max([float(pb.postpaid_only_cost) for pb in products] +
              [float(pb.total_cost) for pb in products] + [1.0])
    top, step = _axis(top)
    label_w, bar_w, row_h = 170, 560, 34
    h = 30 + row_h * len(products) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 150}" '
           f'height="{h}" role="img" aria-label="Cost by product">']
    for k in range(round(top / step) + 1):
        x = label_w + bar_w * k * step / top
        out.append(f'<line x1="{x:.1f}" y1="18" x2="{x:.1f}" y2="{h - 8}" stroke="#e6eaef"/>')
        out.append(f'<text x="{x:.1f}" y="12" text-anchor="middle">{_short(k * step)}'
                   f'</text>')
    for i, pb in enumerate(products):
        y = 24 + i * row_h
        w_pack = bar_w * float(pb.pack_cost) / top
        w_post = bar_w * float(pb.postpaid_cost) / top
        w_only = bar_w * float(pb.postpaid_only_cost) / top
        out.append(f'<text x="0" y="{y + 13}">{escape(pb.product)}</text>')
        out.append(f'<rect x="{label_w}" y="{y}" width="{w_pack:.1f}" height="14" '
                   f'fill="var(--pack)"><title>{escape(pb.product)} packs '
                   f'{fmt_money(pb.pack_cost)}</title></rect>')
        out.append(f'<rect x="{label_w + w_pack:.1f}" y="{y}" width="{w_post:.1f}" height="14" '
                   f'fill="var(--post)"><title>{escape(pb.product)} postpaid '
                   f'{fmt_money(pb.postpaid_cost)}</title></rect>')
        out.append(f'<rect x="{label_w}" y="{y + 17}" width="{w_only:.1f}" height="6" '
                   f'fill="#9aa5b1"><title>{escape(pb.product)} pure postpaid '
                   f'{fmt_money(pb.postpaid_only_cost)}</title></rect>')
        out.append(f'<text x="{label_w + max(w_pack + w_post, w_only) + 6:.1f}" y="{y + 13}">'
                   f'{fmt_money(pb.total_cost)}</text>')
    out.append("</svg>")
    legend = ('<div class="legend"><span><i class="sw" style="background:var(--pack)"></i>'
              'packs</span><span><i class="sw" style="background:var(--post)"></i>postpaid'
              '</span><span><i class="sw" style="background:#9aa5b1"></i>pure postpaid (thin '
              'bar)</span></div>')
    return legend + "".join(out)


def month_svg(pb: ProductBill) -> str:
    """Demand bars (free / pack / postpaid) and the pack balance line, month by month.

    Purchase months get a ▲, months whose balance expires a red dashed line, months with a
    low-balance or exhausted reminder an amber dot above the bar.
    """
    series = data.month_series(pb)
    n = len(series)
    left, right, top_pad, bottom = 60, 20, 26, 40
    col = max(min(700 // max(n, 1), 60), 18)
    w = left + col * n + right
    h = 240
    plot_h = h - top_pad - bottom
    top, step = _axis(max([s["calls"] for s in series] +
                          [s["balance_start"] for s in series] + [1]))

    def y(v: float) -> float:
        return top_pad + plot_h * (1 - v / top)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
           f'aria-label="{escape(pb.product)} balance against demand">']
    for k in range(round(top / step) + 1):
        v = k * step
        out.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{w - right}" y2="{y(v):.1f}" '
                   f'stroke="#e6eaef"/>')
        out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{_short(v)}'
                   f'</text>')
    pts = []
    for i, s in enumerate(series):
        x0 = left + i * col
        bw = col * 0.6
        bx = x0 + (col - bw) / 2
        base = 0
        for key, colour in (("free", "var(--free)"), ("pack", "var(--pack)"),
                            ("postpaid", "var(--post)")):
            v = s[key]
            if v:
                out.append(f'<rect x="{bx:.1f}" y="{y(base + v):.1f}" width="{bw:.1f}" '
                           f'height="{y(base) - y(base + v):.1f}" fill="{colour}"><title>'
                           f'{s["month"]} {key} {fmt_int(v)}</title></rect>')
            base += v
        pts.append((x0 + col / 2, y(s["balance_start"])))
        label = s["month"][2:] if n <= 24 or i % 3 == 0 else ""
        out.append(f'<text x="{x0 + col / 2:.1f}" y="{h - bottom + 14}" text-anchor="middle">'
                   f'{label}</text>')
        if s["bought"]:
            out.append(f'<text x="{x0 + col / 2:.1f}" y="{h - bottom + 28}" '
                       f'text-anchor="middle" style="fill:var(--pack)">▲ {_short(s["bought"])}'
                       f'<title>{s["month"]}: bought {fmt_int(s["bought"])} calls</title></text>')
        if s["expiring"]:
            xe = x0 + col
            out.append(f'<line x1="{xe:.1f}" y1="{top_pad - 10}" x2="{xe:.1f}" '
                       f'y2="{h - bottom}" stroke="var(--exp)" stroke-dasharray="4 3"/>')
            out.append(f'<text x="{xe - 3:.1f}" y="{top_pad - 14}" text-anchor="end" '
                       f'style="fill:var(--exp)">expires {_short(s["expiring"])}<title>{s["month"]}: '
                       f'{fmt_int(s["expiring"])} calls expire unused</title></text>')
        if s["reminders"]:
            out.append(f'<circle cx="{x0 + col / 2:.1f}" cy="{top_pad - 4}" r="4" '
                       f'fill="var(--rem)"><title>{s["month"]}: '
                       f'{escape("; ".join(s["reminders"]))}</title></circle>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{yy:.1f}" for i, (x, yy) in enumerate(pts))
    out.append(f'<path d="{path}" fill="none" stroke="var(--bal)" stroke-width="2"/>')
    for x, yy in pts:
        out.append(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="2.5" fill="var(--bal)"/>')
    out.append("</svg>")
    return "".join(out)


MONTH_LEGEND = (
    '<div class="legend"><span><i class="sw" style="background:var(--free)"></i>free calls</span>'
    '<span><i class="sw" style="background:var(--pack)"></i>calls from packs</span>'
    '<span><i class="sw" style="background:var(--post)"></i>postpaid calls</span>'
    '<span><i class="sw" style="background:var(--bal)"></i>pack balance at the start of the '
    'month</span><span>▲ packs bought</span>'
    '<span style="color:var(--exp)">┆ balance expires</span>'
    '<span><i class="sw" style="background:var(--rem);border-radius:50%"></i>reminder (below '
    '15% or exhausted)</span></div>')


# --------------------------------------------------------------------------- the page

def render_html(bill: Bill, *, title: str, result=None, budget_value=None,
                max_month_charts: int = 20) -> str:
    """The report as one HTML string (UTF-8, no external references)."""
    c = bill.currency
    end = bill.end
    saving_pct = pct(bill.savings, bill.postpaid_only_cost)
    status = cells.status_line(result) if result is not None else "billed"
    h: list[str] = []
    h.append(f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
             f'<meta name="viewport" content="width=device-width, initial-scale=1">'
             f'<title>{escape(title)}</title><style>{CSS}</style></head><body>')
    h.append(f"<h1>{escape(title)}</h1>")
    h.append(f'<p class="sub">Horizon {bill.start}..{end} ({bill.months} months) · tier basis '
             f'{escape(bill.tier_basis)} · money in {escape(c)} · status '
             f'<span data-field="status">{escape(status)}</span></p>')

    # summary
    h.append("<h2>Summary</h2>")
    h.append('<div class="cards">')
    for label, field, value, cls in (
            ("Total cost", "total_cost", bill.total_cost, ""),
            ("Pure postpaid would cost", "postpaid_only_cost", bill.postpaid_only_cost, ""),
            ("Saving against postpaid", "savings", bill.savings, " good"),
            ("Prepaid packs", "pack_cost", bill.pack_cost, ""),
            ("Postpaid", "postpaid_cost", bill.postpaid_cost, "")):
        h.append(f'<div class="card{cls}"><div class="label">{label} ({escape(c)})</div>'
                 f'<div class="value" data-field="{field}" data-value="{_num(value)}">'
                 f'{fmt_money(value)}</div></div>')
    h.append("</div>")
    h.append(f'<p>The plan costs <b>{fmt_money(bill.total_cost)} {escape(c)}</b> against '
             f'{fmt_money(bill.postpaid_only_cost)} {escape(c)} with pure postpaid billing: a '
             f'saving of <b>{fmt_money(bill.savings)} {escape(c)}</b> '
             f'(<span data-field="savings_pct">{fmt_pct(saving_pct)}</span>). '
             f'{fmt_int(bill.waste_calls)} prepaid calls expire unused; '
             f'{fmt_int(bill.carry_over_calls)} remain valid after the horizon'
             + (f', worth {fmt_money(bill.carry_over_value)} {escape(c)} prorata (cost net of '
                f'it: {fmt_money(bill.net_cost)} {escape(c)})' if bill.carry_over_calls else '')
             + '.</p>')
    for w in bill.warnings:
        h.append(f'<p class="warn">Warning: {escape(w)}</p>')

    # purchases
    h.append("<h2>Packs to buy</h2>" if result is not None else "<h2>Packs bought</h2>")
    rows, attrs = [], []
    for pb in bill.products:
        for lot in pb.purchases:
            month = str(bill.start + lot.start)
            rows.append([pb.product, month, fmt_int(lot.size), fmt_int(lot.count),
                         fmt_int(lot.calls), _money_td(lot.cost)])
            attrs.append(f' class="purchase" data-product="{escape(pb.product)}" '
                         f'data-month="{month}" data-size="{lot.size}" '
                         f'data-count="{lot.count}" data-cost="{_num(lot.cost)}"')
    if rows:
        total = ["Total", "", "", "", fmt_int(sum(l.calls for pb in bill.products
                                                   for l in pb.purchases)),
                 _money_td(bill.pack_cost)]
        h.append(_table(("Product", "Month", "Pack size", "Count", "Calls", f"Cost ({c})"),
                        rows, right_from=2, total=total, attrs=attrs))
    else:
        h.append("<p>No packs: pure postpaid is cheapest.</p>")
    held = cells.holding_lines(bill)
    if held:
        h.append("<p>Held already: " + "; ".join(escape(x) for x in held) + "</p>")

    # cost by product
    h.append("<h2>Cost by product</h2>")
    h.append(cost_bars_svg(bill))
    rows, total = cells.summary_cells(bill)
    h.append(_table(cells.SUMMARY_COLUMNS, rows, total=total))

    # scenarios and budget
    if result is not None and result.scenarios:
        h.append("<h2>Scenarios</h2>")
        rows, totals = cells.scenario_cells(result)
        h.append(_table(cells.SCENARIO_COLUMNS, rows))
        h.append(f"<p>Expected cost {fmt_money(result.expected_cost)} {escape(c)}; worst "
                 f"{fmt_money(result.worst_cost)} {escape(c)} (objective: "
                 f"{escape(result.objective)}).</p>")
    if budget_value is not None:
        h.append("<h2>Budget</h2>")
        h.append("".join(f"<p>{escape(line)}</p>" for line in
                         cells.budget_lines(budget_value, c)))

    # month by month
    charted = [pb for pb in bill.products if data.has_packs(pb)]
    h.append("<h2>Pack balance against demand, month by month</h2>")
    if charted:
        h.append(MONTH_LEGEND)
        for pb in charted[:max_month_charts]:
            h.append(f"<h3>{escape(pb.product)} ({escape(pb.name)})</h3>")
            h.append(month_svg(pb))
        if len(charted) > max_month_charts:
            h.append(f"<p>{len(charted) - max_month_charts} more products with packs are not "
                     f"charted.</p>")
    else:
        h.append("<p>No product buys or holds packs.</p>")

    # cash flow
    h.append("<h2>Cash flow</h2>")
    rows, line = cells.cashflow_cells(bill)
    h.append(_table(cells.CASHFLOW_COLUMNS, rows))
    s = data.cashflow_summary(bill.cashflow())
    h.append(f'<p data-field="peak_frozen" data-value="{_num(s["peak_frozen"])}">'
             f'{escape(line)}.</p>')
    h.append("<p>Packs are paid in their purchase month; postpaid is settled the month after "
             "use, and 120% of each postpaid bill is frozen until the next settlement.</p>")
    h.append("<footer>Made by packopt. Pricing rules: free quota first, then packs "
             "(soonest-expiring first), then postpaid at the all-units tier rate.</footer>")
    h.append("</body></html>")
    return "\n".join(h) + "\n"
