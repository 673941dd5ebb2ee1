"""A plan as an Excel workbook (`plan --format xlsx --output FILE`; docs/cli.md).

Three sheets (and those of the views asked for), each the table the CSV output writes, with
numbers as numbers:
- **Plan**: `product,month,size,count,cost`, one row per purchase. It is the first sheet,
  so `packopt bill FORECAST --plan FILE.xlsx` reads it back and bills the same cost to the
  fen;
- **Costs**: per product what it costs and saves, a Total row, then the status, horizon,
  tier basis and currency;
- **Months**: per product and month the calls, free, pack and postpaid calls, the rate,
  postpaid cost, pack spend, balance, waste and reminders;
- with `--scenarios`, **Scenarios** (each scenario's bill of the plan and its regret); with
  `--compare`, **Compared** (the baselines); with `--cashflow`, **Cash flow**.

Money goes in as the exact decimal the CSV writes (`15000.00`), shown with 2 decimals;
months as text `YYYY-MM`, so Excel does not turn them into dates. openpyxl is imported
only here.
"""

from __future__ import annotations

from decimal import Decimal

from ..billing import Bill
from ..domain.months import months_text
from . import data
from .formats import csv_money

MONEY = {"cost", "pack_cost", "postpaid_cost", "total_cost", "postpaid_only_cost", "savings",
         "pack_spend", "packs", "postpaid", "outflow", "frozen", "carry_over_value", "net_cost",
         "regret", "expected_cost", "worst_cost", "expected_net_cost", "worst_net_cost"}
TEXT = {"product", "month", "reminders", "strategy", "scenario"}
PERCENT = {"savings_pct", "weight"}
MONEY_FORMAT, COUNT_FORMAT, RATE_FORMAT = "#,##0.00", "#,##0", "0.00##"


def _cell(column: str, value):
    """A CSV cell as the typed value and number format of its workbook cell."""
    if column in TEXT or value in ("", None):
        return value, None
    if column in MONEY:
        return Decimal(value), MONEY_FORMAT
    if column == "rate":
        return Decimal(value), RATE_FORMAT
    if column in PERCENT:
        return Decimal(value), None
    return value, COUNT_FORMAT


def _sheet(wb, title: str, rows: list[tuple], *, first: bool = False):
    """A sheet holding `rows` (the header first): bold header, frozen, filterable."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    header = rows[0]
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows[1:]:
        typed = [_cell(h, v) for h, v in zip(header, row)]
        ws.append([v for v, _ in typed])
        for cell, (_, fmt) in zip(ws[ws.max_row], typed):
            if fmt:
                cell.number_format = fmt
    ws.freeze_panes = "A2"
    if len(rows) > 1:
        ws.auto_filter.ref = ws.dimensions
    for i, h in enumerate(header, start=1):
        width = max([len(str(h))] + [len(str(r[i - 1])) for r in rows[1:200]])
        ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 8), 40)
    return ws


def plan_workbook(b: Bill, *, title: str, result=None, comparison=None, cashflow=False):
    """The openpyxl Workbook of the plan billed in `b` (its purchases, costs and months);
    with `result`'s scenarios, a Scenarios sheet, with a `comparison` (`--compare`) a
    Compared sheet, with `cashflow` a Cash flow sheet: the tables the CSV output writes
    for them (they were left out without a word)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    _sheet(wb, "Plan", data.plan_rows(b), first=True)
    costs = _sheet(wb, "Costs", data.summary_rows(b))
    total = ("Total", csv_money(b.pack_cost), csv_money(b.postpaid_cost),
             csv_money(b.total_cost), csv_money(b.postpaid_only_cost), csv_money(b.savings),
             b.waste_calls, b.carry_over_calls)
    typed = [_cell(h, v) for h, v in zip(data.SUMMARY_HEADER, total)]
    costs.append([v for v, _ in typed])
    for cell, (_, fmt) in zip(costs[costs.max_row], typed):
        cell.font = Font(bold=True)
        if fmt:
            cell.number_format = fmt
    costs.append([])
    for line in (title, f"Horizon {b.start}..{b.end} ({months_text(b.months)})",
                 f"Tier basis {b.tier_basis}", f"Money in {b.currency}"):
        costs.append([line])
    _sheet(wb, "Months", data.month_rows(b))
    if result is not None and result.scenarios:
        _sheet(wb, "Scenarios", data.scenario_rows(result))
    if comparison is not None:
        _sheet(wb, "Compared", data.comparison_rows(comparison))
    if cashflow:
        _sheet(wb, "Cash flow", data.cashflow_rows(b))
    return wb

