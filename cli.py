"""The packopt command line: a thin shell over the `optimizer` library.

Each command parses its options, calls one library function, formats the result with
`optimizer.report`, and turns the library's own exceptions into one-line messages and
exit codes. This is the only module that knows about the terminal.

Exit codes: 0 success; 2 bad input or usage (InputError, InfeasibleError, Click usage
errors); 1 solver failure (SolverError, BillingMismatchError, any other packopt error).
"""

from __future__ import annotations

import csv
import functools
import importlib
import io
import json
import os
import re
import shutil
import sys
from decimal import Decimal, InvalidOperation
from importlib import resources

import click

from optimizer import __version__, report
from optimizer.billing import bill as bill_forecast
from optimizer.catalog import TIER_BASES, load_catalog
from optimizer.exceptions import InfeasibleError, InputError, PackoptError
from optimizer.inputs import parse_forecast, read_forecast, read_holdings, read_plan

EXAMPLE_FORECAST = "data/example_forecast.csv"
TABLE_WIDTH = 120          # fixed width when stdout is not a terminal: stable output
FORMATS = ("table", "json", "csv")


# --------------------------------------------------------------------------- errors

class CommandError(click.ClickException):
    """A library error as Click shows it: `Error: <one line>` on stderr, with an exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(re.sub(r"\s*\n\s*", " ", message).strip())
        self.exit_code = exit_code


def exit_code_for(error: PackoptError) -> int:
    """2 for bad input (including an infeasible request), 1 for solver/engine failures."""
    return 2 if isinstance(error, (InputError, InfeasibleError)) else 1


def library_errors(f):
    """Run a command body, turning packopt's exceptions into CommandError."""
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except PackoptError as e:
            raise CommandError(str(e), exit_code_for(e)) from e
    return wrapper


# --------------------------------------------------------------------------- shared options

def catalog_options(f):
    """--catalog, --tier-basis, --negotiated-rate: which price list is in force."""
    f = click.option("--negotiated-rate", "negotiated_rates", multiple=True,
                     metavar="PRODUCT=RATE",
                     help="Rate per call for a product's unpublished top tier (volume above "
                          "the last published bound). Repeatable.")(f)
    f = click.option("--tier-basis", type=click.Choice(TIER_BASES),
                     help="What sets a month's tier: 'total' (all calls of the month) or "
                          "'after-packs' (calls not covered by packs). Overrides the "
                          "catalog's tier_basis.")(f)
    f = click.option("--catalog", "catalog_path", metavar="FILE",
                     help="Catalog TOML (default: the built-in seed catalog).")(f)
    return f


def output_options(f):
    """--format and --no-color, shared by every command."""
    f = click.option("--no-color", is_flag=True,
                     help="No colour in tables (the NO_COLOR variable does the same).")(f)
    f = click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
                     show_default=True, help="Output format.")(f)
    return f


def billing_options(f):
    """--holdings, --months, --cashflow: shared by `bill` and `plan`."""
    f = click.option("--cashflow", is_flag=True,
                     help="Cash flow: packs paid in their purchase month, postpaid paid the "
                          "month after use, 120% of it frozen until the next settlement.")(f)
    f = click.option("--months", "-v", "months", is_flag=True,
                     help="Month-by-month view: calls, free, pack, postpaid, rate, postpaid "
                          "cost, balance, waste and reminder months.")(f)
    f = click.option("--holdings", "holdings_path", metavar="FILE",
                     help="Packs already owned: CSV product,expires,calls_left.")(f)
    return f


def check_csv_views(fmt: str, **views: bool) -> None:
    """CSV is one table: at most one of the alternative views may be asked for."""
    chosen = [f"--{name}" for name, on in views.items() if on]
    if fmt == "csv" and len(chosen) > 1:
        raise click.UsageError(f"{' and '.join(chosen)} cannot be combined with --format csv "
                               f"(CSV is one table; choose one of them, or use --format json)")


def parse_negotiated_rates(values, catalog) -> dict[str, Decimal]:
    """PRODUCT=RATE options, checked against the catalog in use."""
    rates: dict[str, Decimal] = {}
    for raw in values:
        src = "--negotiated-rate"
        if "=" not in raw:
            raise InputError(f"expected PRODUCT=RATE, got '{raw}'", source=src)
        key, value = (s.strip() for s in raw.split("=", 1))
        product = catalog.get(key)
        if product is None:
            hint = catalog.suggest(key)
            raise InputError(f"unknown product '{key}'" +
                             (f"; did you mean '{hint}'?" if hint else " (see `packopt catalog`)"),
                             source=src)
        if product.tiers[-1].rate is not None:
            raise InputError(f"{product.id} has no unpublished top tier in {catalog.source}; "
                             f"a negotiated rate replaces only an unpublished one", source=src)
        try:
            rate = Decimal(value)
        except InvalidOperation:
            rate = None
        if rate is None or not rate.is_finite() or rate < 0:
            raise InputError(f"rate for {product.id} must be a non-negative decimal number, "
                             f"not '{value}'", source=src)
        rates[product.id] = rate
    return rates


def load_inputs(catalog_path, tier_basis, negotiated_rates):
    """The catalog in force after --catalog, --tier-basis and --negotiated-rate."""
    catalog = load_catalog(catalog_path)
    catalog = catalog.with_tier_basis(tier_basis)
    return catalog.with_negotiated_rates(parse_negotiated_rates(negotiated_rates, catalog))


def load_planner():
    """The optimizer, imported only by `plan` (it pulls in the MILP stack)."""
    return importlib.import_module("optimizer.planner")


# --------------------------------------------------------------------------- output

def _stdout_isatty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def render(parts, no_color: bool) -> str:
    """Rich renderables (or plain strings) to text; colour only on a terminal."""
    from rich.console import Console
    from rich.text import Text

    tty = _stdout_isatty()
    no_color = no_color or bool(os.environ.get("NO_COLOR"))   # no styles at all, not even bold
    console = Console(file=io.StringIO(), force_terminal=tty and not no_color,
                      color_system=None if no_color else "auto",
                      width=shutil.get_terminal_size((TABLE_WIDTH, 24)).columns if tty
                      else TABLE_WIDTH, highlight=False, emoji=False,
                      legacy_windows=False)
    with console.capture() as cap:
        for part in parts:
            # lines of prose stay whole (soft wrap); tables fit the width
            console.print(part, soft_wrap=isinstance(part, (str, Text)))
    text = cap.get()
    if console.color_system is None:    # Rich pads lines to the table width: trim them
        text = "".join(line.rstrip() + "\n" for line in text.splitlines())
    return text


def to_json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def to_csv(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def table(columns, rows, *, title=None, total=None, right_from=1, left=(), wrap=()):
    """A Rich table: first column(s) left, numbers right, an optional bold total line.

    Columns do not wrap, except those named in `wrap` (free text such as purchase lists).
    """
    from rich import box
    from rich.table import Table

    t = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", title_style="bold",
              show_edge=False, pad_edge=False)
    for i, c in enumerate(columns):
        right = i >= right_from and c not in left
        t.add_column(c, justify="right" if right else "left", no_wrap=c not in wrap)
    for r in rows:
        t.add_row(*r)
    if total is not None:
        t.add_section()
        t.add_row(*total, style="bold")
    return t


def horizon_text(b) -> str:
    end = b.start + (b.months - 1)
    return f"{b.start}..{end} ({b.months} month{'' if b.months == 1 else 's'})"


def bill_parts(b, *, purchases_title: str, months: bool, cashflow: bool, extra=()):
    """Purchases, cost by product, the optional month and cash-flow views, `extra`, warnings."""
    from rich.text import Text

    rows, total = report.purchase_cells(b)
    if rows:
        parts = [table(report.PURCHASE_COLUMNS, rows, total=total, right_from=2,
                       title=purchases_title)]
    else:
        parts = [Text(f"{purchases_title}: none", style="bold")]
    parts += [f"Held: {line}" for line in report.holding_lines(b)]
    rows, total = report.summary_cells(b)
    parts += ["", table(report.SUMMARY_COLUMNS, rows, total=total, title="Cost by product")]
    pct = report.fmt_pct(report.pct(b.savings, b.postpaid_only_cost))
    parts.append(f"Total cost {report.fmt_money(b.total_cost)} {b.currency} "
                 f"(packs {report.fmt_money(b.pack_cost)}, postpaid "
                 f"{report.fmt_money(b.postpaid_cost)}) against "
                 f"{report.fmt_money(b.postpaid_only_cost)} pure postpaid: saving "
                 f"{report.fmt_money(b.savings)} {b.currency} ({pct}).")
    if months:
        for pb in b.products:
            parts.append("")
            parts.append(table(report.MONTH_COLUMNS, report.month_cells(pb), right_from=1,
                               left=("Reminders",), wrap=("Reminders",),
                               title=f"{pb.product} ({pb.name}), month by month"))
        if any(not mb.rate_published for pb in b.products for mb in pb.months):
            parts.append("* volume above the top published tier: priced at the last "
                         "published rate (unpublished rate: contact sales)")
    if cashflow:
        rows, line = report.cashflow_cells(b)
        parts.append("")
        parts.append(table(report.CASHFLOW_COLUMNS, rows, title="Cash flow"))
        parts.append(line)
    parts.extend(extra)
    for w in b.warnings:
        parts.append(Text(f"Warning: {w}", style="yellow"))
    return parts


# --------------------------------------------------------------------------- commands

@click.group(name="packopt", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="packopt",
                      message="%(prog)s %(version)s")
def cli():
    """Plan purchases of prepaid OCR call packs against tiered postpaid billing.

    Finds the cheapest mix of expiring prepaid packs and postpaid usage for a monthly
    call forecast, proven optimal to the fen, and replays any purchase plan with the
    exact billing rules.

    \b
    Examples:
        packopt plan                          # the bundled example forecast
        packopt plan forecast.csv --compare
        packopt plan forecast.csv --format csv > plan.csv
        packopt bill forecast.csv --plan plan.csv --months
        packopt catalog
    """


@cli.command(name="catalog")
@catalog_options
@output_options
@library_errors
def catalog_cmd(catalog_path, tier_basis, negotiated_rates, fmt, no_color):
    """Print the catalog in use: packs, tiers, free quota, validity.

    \b
    Examples:
        packopt catalog
        packopt catalog --format json
        packopt catalog --catalog my_prices.toml --negotiated-rate license_plate=0.04
    """
    catalog = load_inputs(catalog_path, tier_basis, negotiated_rates)
    if fmt == "json":
        out = to_json(report.catalog_dict(catalog))
    elif fmt == "csv":
        out = to_csv(report.catalog_rows(catalog))
    else:
        head = (f"Catalog: {catalog.source} · currency {catalog.currency} · packs valid "
                f"{catalog.validity_months} months · tier basis {catalog.tier_basis}")
        note = ("Tiers are all-units: every postpaid call of a month is charged the rate of the "
                "tier its volume reaches (basis 'total': all calls of the month; 'after-packs': "
                "calls not covered by packs). The free quota is used first, then packs "
                "(soonest-expiring first), then postpaid.")
        out = render([head, table(report.CATALOG_COLUMNS, report.catalog_cells(catalog),
                                  right_from=2, left=report.CATALOG_COLUMNS[3:],
                                  wrap=report.CATALOG_COLUMNS[1:2]), note],
                     no_color)
    click.echo(out, nl=False, color=True)   # render() added colour only for a terminal


@cli.command(name="bill")
@click.argument("forecast")
@click.option("--plan", "plan_path", metavar="PLAN",
              help="Purchase plan: CSV product,month,size,count (extra columns ignored) or "
                   "the JSON of `packopt plan --format json`. Without it, nothing is bought.")
@catalog_options
@billing_options
@output_options
@library_errors
def bill_cmd(forecast, plan_path, catalog_path, tier_basis, negotiated_rates, holdings_path,
             months, cashflow, fmt, no_color):
    """Bill a purchase plan against FORECAST, month by month.

    FORECAST is a CSV, long (product,month,calls) or wide (product,YYYY-MM,...).
    Free quota first, then packs soonest-expiring first, then postpaid at the
    all-units tier rate. JSON output has the same shape as `plan`, with status
    "billed"; CSV gives one row per product (or per month with --months).

    \b
    Examples:
        packopt bill forecast.csv --plan plan.csv
        packopt bill forecast.csv --plan plan.json --months
        packopt bill forecast.csv --plan plan.csv --tier-basis after-packs --format json
        packopt bill forecast.csv --holdings held.csv --cashflow
    """
    check_csv_views(fmt, months=months, cashflow=cashflow)
    catalog = load_inputs(catalog_path, tier_basis, negotiated_rates)
    fc = read_forecast(forecast, catalog)
    plan = read_plan(plan_path, catalog) if plan_path else None
    holdings = read_holdings(holdings_path, catalog) if holdings_path else ()
    b = bill_forecast(catalog, fc, plan, holdings)

    if fmt == "json":
        out = to_json(report.bill_dict(b, cashflow=cashflow))
    elif fmt == "csv":
        rows = (report.month_rows(b) if months else report.cashflow_rows(b) if cashflow
                else report.summary_rows(b))
        out = to_csv(rows)
    else:
        head = (f"packopt bill: {plan_path or 'no purchases'} against {forecast}\n"
                f"Horizon {horizon_text(b)} · tier basis {b.tier_basis} · money in {b.currency}")
        out = render([head, *bill_parts(b, purchases_title="Packs bought", months=months,
                                      cashflow=cashflow)], no_color)
    click.echo(out, nl=False, color=True)   # render() added colour only for a terminal


@cli.command(name="plan")
@click.argument("forecast", required=False)
@click.option("--purchase-months", type=click.Choice(["start", "any"]), default="start",
              show_default=True,
              help="'start': every pack bought in the first month; 'any': packs may be bought "
                   "at the start of any month (top-ups, delayed purchases).")
@click.option("--solver", type=click.Choice(["highs", "cbc"]), default="highs",
              show_default=True, help="MILP solver.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop the solver after SECONDS; the best plan found is reported as "
                   "'feasible' with its proven gap.")
@click.option("--compare", is_flag=True,
              help="Also show pure postpaid and the rule of thumb, and what the optimizer "
                   "is worth.")
@catalog_options
@billing_options
@output_options
@library_errors
def plan_cmd(forecast, purchase_months, solver, time_limit, compare, catalog_path, tier_basis,
             negotiated_rates, holdings_path, months, cashflow, fmt, no_color):
    """Find the minimum-cost pack purchase plan for FORECAST.

    FORECAST is a CSV, long (product,month,calls) or wide (product,YYYY-MM,...);
    without it the bundled 9-product example forecast is used. The plan's cost is
    re-billed by the billing engine and compared with pure postpaid. Status is
    "optimal" only when optimality is proven to the fen.

    `--format csv` writes product,month,size,count,cost, which `packopt bill
    --plan` reads back.

    \b
    Examples:
        packopt plan
        packopt plan forecast.csv --compare
        packopt plan forecast.csv --purchase-months any --time-limit 60
        packopt plan forecast.csv --format csv > plan.csv
        packopt bill forecast.csv --plan plan.csv     # same total, to the fen
    """
    check_csv_views(fmt, months=months, cashflow=cashflow, compare=compare)
    catalog = load_inputs(catalog_path, tier_basis, negotiated_rates)
    if forecast is None:
        text = resources.files("optimizer").joinpath(EXAMPLE_FORECAST).read_text("utf-8")
        fc = parse_forecast(text, catalog, "bundled example forecast")
    else:
        fc = read_forecast(forecast, catalog)
    holdings = read_holdings(holdings_path, catalog) if holdings_path else ()
    planner = load_planner()
    result = planner.plan(catalog, fc, purchase_months=purchase_months, solver=solver,
                          time_limit=time_limit, holdings=holdings)
    b = result.bill
    baselines = None
    if compare:
        thumb_plan = planner.rule_of_thumb(catalog, fc, holdings=holdings)
        baselines = (bill_forecast(catalog, fc, None, holdings),
                     bill_forecast(catalog, fc, thumb_plan, holdings), b)

    if fmt == "json":
        data = report.plan_dict(result, cashflow=cashflow)
        if baselines:
            data["comparison"] = report.comparison(*baselines)
        out = to_json(data)
    elif fmt == "csv":
        rows = (report.month_rows(b) if months else report.cashflow_rows(b) if cashflow
                else report.comparison_rows(*baselines) if compare else report.plan_rows(b))
        out = to_csv(rows)
    else:
        head = (f"packopt plan: {report.status_line(result)}\n"
                f"Horizon {horizon_text(b)} · tier basis {b.tier_basis} · money in "
                f"{b.currency} · packs bought at "
                f"{'the start' if result.purchase_months == 'start' else 'the start of any month'} · "
                f"solver {result.solver}")
        extra = []
        if baselines:
            rows, line = report.comparison_cells(*baselines)
            extra = ["", table(report.COMPARE_COLUMNS, rows, title="Compared with"), line]
        parts = [head, *bill_parts(b, purchases_title="Packs to buy", months=months,
                                      cashflow=cashflow, extra=extra)]
        out = render(parts, no_color)
    if forecast is None:
        click.echo(f"packopt: no FORECAST given; using the bundled example forecast "
                   f"({fc.start}..{fc.start + (fc.months - 1)}, "
                   f"{len(fc.demand)} products)", err=True)
    click.echo(out, nl=False, color=True)   # render() added colour only for a terminal


if __name__ == "__main__":
    cli(prog_name="packopt")
