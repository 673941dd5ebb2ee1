"""A self-contained HTML report of a bill or plan: inline CSS and inline SVG, nothing else.

No scripts, no fonts, no images, no network: the file opens anywhere and can be attached
to a budget request (`files.py` also prints it to PDF). The page explains itself: a title in
words, when and from what it was made, the saving first, the prices and assumptions the
figures rest on, then the purchases, the pictures (`chart.py`, drawn once with matplotlib)
and the tables. Figures come from the same `Bill` the JSON is built from, formatted with
`formats.fmt_money`; every key figure also carries its plain value in a `data-value`
attribute (as in the JSON) so that tests can check the rendered page against the JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from html import escape
from pathlib import PurePath

from ..billing import Bill
from ..domain.catalog import Catalog
from ..domain.months import months_text
from . import cells, data
from .formats import csv_money, fmt_int, fmt_money, fmt_pct, fmt_rate, pct
from .text import total_lines

CSS = """
:root { --pack: #3a6ea5; --post: #e08a2c; --bal: #2b8a3e; --ink: #1f2933; --mute: #6b7785;
        --line: #dde3ea; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
       "Noto Sans CJK JP", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif;
       color: var(--ink); margin: 2rem auto; max-width: 1000px; padding: 0 1rem;
       line-height: 1.4; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid var(--line);
     padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
.sub { color: var(--mute); margin-top: 0; }
.lead { font-size: 1.1rem; }
.cards { display: grid; gap: .7rem; margin: 1rem 0;
         grid-template-columns: repeat(var(--cols, 5), minmax(0, 1fr)); }
@media (max-width: 640px) { .cards { grid-template-columns: 1fr 1fr; } }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .55rem .8rem; }
.card .label { color: var(--mute); font-size: .8rem; }
.card .value { font-size: 1.2rem; font-weight: 600; white-space: nowrap;
               font-variant-numeric: tabular-nums; }
.card.good .value { color: var(--bal); }
dl.basis { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem;
           margin: .5rem 0; font-size: .92rem; }
dl.basis dt { color: var(--mute); }
dl.basis dd { margin: 0; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .9rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e6eaef; vertical-align: top; }
th { text-align: left; background: #f4f6f8; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 600; border-top: 2px solid #c5ced8; }
.warn { color: #8a5a00; background: #fff6e0; padding: .4rem .7rem; border-radius: 4px; }
.note { color: var(--mute); font-size: .9rem; }
svg.chart { display: block; width: 100%; height: auto; margin: .3rem 0 1rem; }
details { margin: .3rem 0 1rem; }
summary { cursor: pointer; color: var(--mute); }
footer { color: var(--mute); font-size: .8rem; margin-top: 2rem; }
@page { size: A4 landscape; margin: 12mm; }
@media print { body { margin: 0; max-width: none; font-size: 10pt; }
               h2, h3 { break-after: avoid; } svg.chart, .cards, dl.basis { break-inside: avoid; }
               section.product { break-inside: avoid; }
               svg.chart { width: 78%; } summary { display: none; }
               table { font-size: 8.5pt; } th, td { padding: .12rem .45rem; } }
"""

BASIS_WORDS = {
    "total": "all calls of the month (free and pack-covered calls included) set its tier",
    "after-packs": "only the calls packs do not cover set the month's tier",
}


@dataclass(frozen=True)
class About:
    """What a report is of: the command, its input files, the catalog and the options the
    figures rest on, and the day it was made."""

    command: str                        # "plan" or "bill"
    forecast: str                       # the forecast's file name (or what stood for it)
    catalog: Catalog | None = None
    plan: str | None = None             # bill: the plan file
    carry_over: str = "zero"
    made: date = field(default_factory=date.today)
    version: str = ""

    def title(self, bill: Bill) -> str:
        """'Purchase plan for forecast.csv, 2027-01 – 2027-12' (bill: 'Bill of plan.csv ...')."""
        span = str(bill.start) if bill.months == 1 else f"{bill.start} – {bill.end}"
        path = PurePath(self.forecast)
        name = path.name if path.suffix else f"the {self.forecast}"   # the bundled example
        if self.command == "plan":
            return f"Purchase plan for {name}, {span}"
        what = PurePath(self.plan).name if self.plan else "no purchases"
        return f"Bill of {what} against {name}, {span}"


def _num(x) -> str:
    """A plain value for data-value: money with 2 decimals, counts as integers."""
    if isinstance(x, Decimal):
        return csv_money(x)
    return str(x)


def _money_td(x: Decimal, field: str | None = None) -> str:
    attr = f' data-field="{escape(field)}"' if field else ""
    return f'<td class="num"{attr} data-value="{_num(x)}">{fmt_money(x)}</td>'


def _cell(c: str, num: bool) -> str:
    if c.startswith("<td"):
        return c
    return f'<td class="{"num" if num else ""}">{escape(c).replace(chr(10), "<br>")}</td>'


def _table(columns, rows, *, right_from=1, total=None, attrs=None, left=()) -> str:
    """An HTML table from strings; `attrs` gives per-row attributes (data-*)."""
    num = [i >= right_from and c not in left for i, c in enumerate(columns)]
    head = "".join(f'<th class="{"num" if num[i] else ""}">'
                   f'{escape(c).replace(chr(10), "<br>")}</th>' for i, c in enumerate(columns))
    body = []
    for k, r in enumerate(rows):
        a = attrs[k] if attrs else ""
        body.append(f"<tr{a}>{''.join(_cell(c, num[i]) for i, c in enumerate(r))}</tr>")
    for line in total_lines(total) if total else []:
        body.append(f'<tr class="total">{"".join(_cell(c, num[i]) for i, c in enumerate(line))}'
                    f'</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# --------------------------------------------------------------------------- parts of the page

def lead(bill: Bill, about: About) -> str:
    """The saving, first and in words."""
    c = escape(bill.currency)
    what = "Buying these packs" if about.command == "plan" else "This plan"
    p = fmt_pct(pct(bill.savings, bill.postpaid_only_cost))
    span = f'over {bill.months} month{"" if bill.months == 1 else "s"}'
    if not any(pb.lots for pb in bill.products):
        return (f'<p class="lead">Nothing is bought: every call beyond the free quota is paid '
                f'postpaid, <b>{fmt_money(bill.total_cost)} {c}</b> {span} '
                f'(<span data-field="savings_pct">{p}</span> saved).</p>')
    if bill.savings >= 0:
        head = (f'{what} saves <b>{fmt_money(bill.savings)} {c}</b> '
                f'(<span data-field="savings_pct">{p}</span>) against paying postpaid for '
                f'every call')
    else:
        head = (f'{what} costs <b>{fmt_money(-bill.savings)} {c}</b> more than paying '
                f'postpaid for every call (<span data-field="savings_pct">{p}</span>)')
    return (f'<p class="lead">{head}: <b>{fmt_money(bill.total_cost)} {c}</b> instead of '
            f'{fmt_money(bill.postpaid_only_cost)} {c} {span}.</p>')


def summary_cards(bill: Bill) -> str:
    c = escape(bill.currency)
    cards = (("Saving against pure postpaid", "savings", bill.savings, " good"),
             ("Total cost", "total_cost", bill.total_cost, ""),
             ("Pure postpaid would cost", "postpaid_only_cost", bill.postpaid_only_cost, ""),
             ("Prepaid packs", "pack_cost", bill.pack_cost, ""),
             ("Postpaid", "postpaid_cost", bill.postpaid_cost, ""))
    # five cards in a row where they fit, else three and two: never one left on its own
    width = max(150, 11 * max(len(fmt_money(v)) for _, _, v, _ in cards) + 34)
    cols = 5 if 5 * width + 4 * 12 <= 960 else 3 if 3 * width + 2 * 12 <= 960 else 1
    out = [f'<div class="cards" style="--cols: {cols}">']
    for label, fld, value, cls in cards:
        out.append(f'<div class="card{cls}"><div class="label">{label} ({c})</div>'
                   f'<div class="value" data-field="{fld}" data-value="{_num(value)}">'
                   f'{fmt_money(value)}</div></div>')
    out.append("</div>")
    return "".join(out)


def basis(bill: Bill, about: About) -> str:
    """The prices and assumptions the figures rest on, in words."""
    rows = [("Forecast", escape(about.forecast))]
    if about.command == "bill":
        rows.append(("Plan", escape(about.plan or "none: nothing bought")))
    cat = about.catalog
    if cat is not None:
        rows.append(("Price list", f"{escape(cat.source)}; money in {escape(cat.currency)}; "
                                   f"packs usable for {months_text(cat.validity_months)} from the "
                                   f"month they are bought, then the rest expires"))
        frees = sorted({p.free_calls for p in cat.products})
        rows.append(("Free quota", " / ".join(fmt_int(f) for f in frees) +
                     " calls per product per month, used first; then packs, "
                     "soonest-expiring first; then postpaid"))
    rows.append(("Tier basis", f"{escape(bill.tier_basis)}: {BASIS_WORDS[bill.tier_basis]}; "
                               f"every postpaid call of a month is charged the rate of the "
                               f"tier reached (all-units)"))
    rows.append(("Unpublished rates", unpublished_words(bill, cat)))
    rows.append(("Carry-over", carry_over_words(bill, about.carry_over, about.command)))
    return ('<dl class="basis">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
            + "</dl>")


def unpublished_words(bill: Bill, catalog: Catalog | None) -> str:
    reached = [pb.product for pb in bill.products if pb.unpublished_months]
    if catalog is not None:
        open_top = [p for p in catalog.products
                    if p.tiers[-1].rate is None and any(pb.product == p.id
                                                        for pb in bill.products)]
    else:
        open_top = []
    deals = []
    if catalog is not None:
        billed = {pb.product for pb in bill.products}
        deals = [f"{escape(p.id)} {fmt_rate(p.tiers[-1].rate)}" for p in catalog.products
                 if p.id in catalog.negotiated and p.id in billed]
    agreed = (f"; above its top published tier, volume is priced at the negotiated rate "
              f"per call given (--negotiated-rate): {', '.join(deals)}") if deals else ""
    if not open_top and not reached:
        return "every tier reached has a price (published or negotiated)" + agreed
    text = ("volume above the top published tier has no published rate (contact sales); "
            "it is priced at the last published rate")
    if open_top:
        rates = sorted({fmt_rate(p.rate(10 ** 18)[0]) for p in open_top})
        text += f" ({', '.join(rates)} per call)"
    # (the pure-postpaid comparison the saving is measured against can reach it where the
    # plan's own postpaid does not: "No month reaches it" beside a warning that it does)
    baseline = [pb.product for pb in bill.products
                if pb.postpaid_only_unpublished and not pb.unpublished_months]
    if reached:
        text += f". Reached by {', '.join(escape(p) for p in reached)} (see the warnings)"
    if baseline:
        text += (f"{'; by' if reached else '. Reached by'} pure postpaid for "
                 f"{', '.join(escape(p) for p in baseline)}, the comparison the saving is "
                 f"measured against (see the warnings)")
    if not reached and not baseline:
        text += ". No month reaches it"
    return text + agreed


def carry_over_words(bill: Bill, carry_over: str, command: str = "plan") -> str:
    c = escape(bill.currency)
    if carry_over == "prorata":
        how = ("valued prorata (price per call × unexpired share of validity) and credited "
               + ("against the cost the plan minimises" if command == "plan"
                  else "in the net cost, not in the total"))     # (bill replays a plan)
    else:
        how = "valued at zero in the total cost"
    remain = "call remains" if bill.carry_over_calls == 1 else "calls remain"
    left = (f"{fmt_int(bill.carry_over_calls)} {remain} valid after the horizon, worth "
            f"{fmt_money(bill.carry_over_value)} {c} prorata (cost net of it: "
            f"{fmt_money(bill.net_cost)} {c})" if bill.carry_over_calls
            else "no balance remains valid after the horizon")
    return f"balance still valid when the horizon ends is {how}; {left}"


def purchases_table(bill: Bill, command: str) -> str:
    rows, attrs = [], []
    c = escape(bill.currency)
    for pb in bill.products:
        for lot in pb.purchases:
            month = str(bill.start + lot.start)
            rows.append([pb.product, month, fmt_int(lot.size), fmt_int(lot.count),
                         fmt_int(lot.calls), _money_td(lot.cost)])
            attrs.append(f' class="purchase" data-product="{escape(pb.product)}" '
                         f'data-month="{month}" data-size="{lot.size}" '
                         f'data-count="{lot.count}" data-cost="{_num(lot.cost)}"')
    if not rows:
        return ("<p>No packs: pure postpaid is cheapest.</p>" if command == "plan"
                else "<p>No packs bought.</p>")
    total = ["Total", "", "", "", fmt_int(sum(l.calls for pb in bill.products
                                              for l in pb.purchases)),
             _money_td(bill.pack_cost)]
    return _table(("Product", "Month", "Pack size (calls)", "Count", "Calls", f"Cost ({c})"),
                  rows, right_from=2, total=total, attrs=attrs)


def month_table(pb) -> str:
    return _table(cells.MONTH_COLUMNS, cells.month_cells(pb), left=("Reminders",))


# --------------------------------------------------------------------------- the page

def render_html(bill: Bill, about: About, *, result=None, budget_value=None, comparison=None,
                max_month_charts: int = 20, forecast=None) -> str:
    """The report as one HTML string (UTF-8, no external references).

    Each section is built by its own function as a list of chunks, so that the page
    reads as its table of contents; the chunks are joined with newlines.
    """
    from .chart import report_svgs

    title = about.title(bill)
    status = cells.status_line(result) if result is not None else "billed"
    from .forecasts import band_of

    cost_svg, month_svgs = report_svgs(bill, max_month_charts, band_of(forecast))
    h: list[str] = []
    h += _opening(bill, about, title, status)
    h += _overview(bill, about)
    h += _purchases_section(bill, about)
    h += _cost_section(bill, about, cost_svg)
    h += _forecast_section(forecast, about)
    h += _comparison_section(comparison)
    h += _scenarios_section(bill, result)
    h += _budget_section(bill, budget_value)
    h += _month_section(bill, month_svgs)
    h += _cashflow_section(bill)
    h.append(f"<footer>{escape(title)}. Made on {about.made.isoformat()} by packopt "
             f"{escape(about.version)}; every figure billed by its billing engine, exact to "
             f"the fen.</footer>")
    h.append("</body></html>")
    return "\n".join(h) + "\n"


def _opening(bill: Bill, about: About, title: str, status: str) -> list[str]:
    """The document head (inline CSS) and the title, with when, by what and in what
    money the report was made."""
    c = escape(bill.currency)
    head = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{escape(title)}</title><style>{CSS}</style></head><body>')
    sub = (f'<p class="sub">Made on {about.made.isoformat()} by packopt {escape(about.version)}'
           f' · {bill.months} month{"" if bill.months == 1 else "s"} · money in {c} · '
           f'<span data-field="status">{escape(status)}</span></p>')
    return [head, f"<h1>{escape(title)}</h1>", sub]


def _overview(bill: Bill, about: About) -> list[str]:
    """The saving first, then the key figures, the warnings and what they rest on."""
    h = [lead(bill, about), summary_cards(bill),
         (f'<p>{fmt_int(bill.waste_calls)} prepaid calls expire unused; '
          f'{fmt_int(bill.carry_over_calls)} remain valid after the horizon.</p>')]
    h += [f'<p class="warn">Warning: {escape(w)}</p>' for w in bill.warnings]
    h += ["<h2>Prices and assumptions</h2>", basis(bill, about)]
    return h


def _purchases_section(bill: Bill, about: About) -> list[str]:
    """The packs to buy (plan) or bought (bill), and the packs held already."""
    h = ["<h2>Packs to buy</h2>" if about.command == "plan" else "<h2>Packs bought</h2>",
         purchases_table(bill, about.command)]
    held = cells.holding_lines(bill)
    if held:
        h.append("<p>Held already: " + "; ".join(escape(x) for x in held) + "</p>")
    return h


def _cost_section(bill: Bill, about: About, cost_svg: str) -> list[str]:
    """Cost by product: the chart, the table and what pure postpaid would cost."""
    rows, total = cells.summary_cells(bill)
    h = ["<h2>Cost by product</h2>", cost_svg,
         _table(cells.SUMMARY_COLUMNS, rows, total=total)]
    line = cells.postpaid_only_line(bill, about.catalog)
    if line:
        h.append(f'<p class="note">{escape(line)}</p>')
    return h


def _forecast_section(forecast, about: About) -> list[str]:
    """`plan --history`: each product's forecasting method, backtest error and band."""
    if forecast is None:
        return []
    from .forecasts import BAND_WORDS, FORECAST_COLUMNS, forecast_cells

    rows, total = forecast_cells(forecast)
    b = forecast.base
    return [f"<h2>Forecast {b.start}..{b.end}</h2>",
            (f"<p>From the usage history {escape(about.forecast)} "
             f"({forecast.history_start}..{forecast.history_end}); the plan minimises the "
             f"expected cost over its low/base/high scenarios. The month charts below show "
             f"the P10–P90 band.</p>"),
            _table(FORECAST_COLUMNS, rows, right_from=2, total=total),
            f'<p class="note">{escape(BAND_WORDS)} Method chosen per product by '
            f'rolling-origin backtest (lowest MASE) unless --method names one; MAPE leaves '
            f'out months of 0 calls.</p>',
            *(f'<p class="note">{escape(n)}</p>' for n in forecast.notes)]


def _comparison_section(comparison) -> list[str]:
    """An edited plan beside the optimal one (`bill --compare`), or the optimal plan beside
    the baselines (`plan --compare`); nothing without one."""
    if comparison is None:
        return []
    if hasattr(comparison, "strategies"):
        rows, sentence = cells.comparison_cells(comparison)
        return ["<h2>Compared with</h2>",
                _table(cells.comparison_columns(comparison), rows),
                f"<p>{escape(sentence)}</p>"]
    rows, total, sentence = cells.edited_cells(comparison)
    return ["<h2>Beside the optimal plan</h2>",
            _table(cells.EDITED_COLUMNS, rows, total=total, left=cells.EDITED_COLUMNS[-1:]),
            f"<p>{escape(sentence)}</p>"]


def _scenarios_section(bill: Bill, result) -> list[str]:
    """Each demand scenario's cost, and the expected and worst; nothing without them."""
    if result is None or not result.scenarios:
        return []
    c = escape(bill.currency)
    rows, _ = cells.scenario_cells(result)
    return ["<h2>Scenarios</h2>", _table(cells.SCENARIO_COLUMNS, rows),
            (f"<p>Expected cost {fmt_money(result.expected_cost)} {c}; worst "
             f"{fmt_money(result.worst_cost)} {c} (objective: "
             f"{escape(result.objective)}).</p>")]


def _budget_section(bill: Bill, budget_value) -> list[str]:
    """What the budget cap costs and what raising it is worth; nothing without a cap."""
    if budget_value is None:
        return []
    return ["<h2>Budget</h2>",
            "".join(f"<p>{escape(line)}</p>" for line in
                    cells.budget_lines(budget_value, bill.currency))]


def _month_section(bill: Bill, month_svgs) -> list[str]:
    """A chart and a month table for each product with packs (up to the charted number)."""
    h = ["<h2>Pack balance against demand, month by month</h2>"]
    if not month_svgs:
        return h + ["<p>No product buys or holds packs.</p>"]
    h.append('<p class="note">Bars: the month\'s calls (free, from packs, postpaid). Line: '
             'pack balance left at the end of the month. Marked: packs bought, unused '
             'balance expiring, and the months the balance of all packs held falls below '
             '15% or runs out. The seller\'s notices for each pack are in the month '
             'table under each chart.</p>')
    for pb, picture in month_svgs:
        h.append(f'<section class="product"><h3>{escape(pb.product)} ({escape(pb.name)})'
                 f'</h3>{picture}<details><summary>{escape(pb.product)} month by month'
                 f'</summary>{month_table(pb)}</details></section>')
    more = sum(1 for pb in bill.products if data.has_packs(pb)) - len(month_svgs)
    if more:
        h.append(f"<p>{more} more products with packs are not charted.</p>")
    return h


def _cashflow_section(bill: Bill) -> list[str]:
    """When the money goes out: packs up front, postpaid a month later, plus the deposit."""
    rows, line = cells.cashflow_cells(bill)
    s = data.cashflow_summary(bill.cashflow())
    return ["<h2>Cash flow</h2>", _table(cells.CASHFLOW_COLUMNS, rows),
            (f'<p data-field="peak_frozen" data-value="{_num(s["peak_frozen"])}">'
             f'{escape(line)}.</p>'),
            ("<p>Packs are paid in their purchase month; postpaid is settled the month after "
             "use, and 120% of each postpaid bill is frozen until the next settlement.</p>")]
