"""The packopt command line: a thin shell over the `optimizer` library.

Each command parses its options, reads its inputs (`optimizer.io.inputs`), makes one library
call and hands the result to `optimizer.output.views`; library exceptions become one-line
messages and exit codes (docs/cli.md). This is the only module that knows about the terminal.
"""

from __future__ import annotations

import gc

# Importing the program makes tens of thousands of objects (classes, functions, NumPy's
# tables), all kept to the end, which the cycle collector would traverse again and again
# meanwhile: a tenth of a small plan's run. Collection resumes once the imports are done.
_collecting = gc.isenabled()
gc.disable()


def _interrupted_while_loading(signum, frame):
    """Ctrl-C in the first tenth of a second, while the program loads: the same quiet
    status 130 as later (not a KeyboardInterrupt traceback from some import)."""
    import sys
    sys.stderr.write("packopt: interrupted\n")
    raise SystemExit(130)


import signal  # noqa: E402

try:
    _loading_handler = signal.signal(signal.SIGINT, _interrupted_while_loading)
except ValueError:          # imported outside the main thread: no handler to set
    _loading_handler = None

import atexit
import contextlib
import functools
import importlib
import os
import re
import shlex
import sys
from dataclasses import dataclass, replace

import click

from optimizer import __version__
from optimizer.domain.catalog import TIER_BASES
from optimizer.exceptions import InputError, PackoptError
from optimizer.io.config import (flag_origin, name_origin, named_origins, path_origin,
                                 set_config, set_envvars, value_origin)
from optimizer.io.inputs import read_inputs
from optimizer.io.options import catalog_in_force, parse_amount, parse_scales
from optimizer.io.text import UNMAPPED_WORDS
from optimizer.output import cells, forecasts, text, views
from optimizer.output.files import check_csv_paths, check_paths, distinct_paths, write_extras
from optimizer.output.progress import run_in_worker, spinner

if _collecting:
    gc.enable()
if _loading_handler is not None:
    signal.signal(signal.SIGINT, _loading_handler)      # the importer's own, back

TABLE_WIDTH = 120          # fixed width when stdout is not a terminal: stable output
FORMATS = ("table", "json", "csv", "markdown")
DEFAULT_SCALES = "0.5,0.8,1,1.2,1.5"
ENV_PREFIX = "PACKOPT_"
FORECAST_METHODS = ("auto", "median", "seasonal-naive", "trend", "ets")   # forecasting.CHOICES


# --------------------------------------------------------------------------- errors

class CommandError(click.ClickException):
    """A library error as Click shows it: `Error: <one line>` on stderr, with an exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(re.sub(r"\s*\n\s*", " ", message).strip())
        self.exit_code = exit_code


_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


_pipe_closed = []      # set once the kernel says stdout's reader has gone (SIGPIPE)


def _reader_gone(signum, frame):
    """SIGPIPE: `packopt ... | head` closed the pipe. Python's buffered write then returns
    having written part of the output and raises nothing (its flush neither), so without
    this the command ended with status 0, its output cut."""
    _pipe_closed.append(signum)


def _terminated(signum, frame):
    """SIGTERM (a script's `timeout`, a job killed): end as Python's default would, with
    status 143, but after the exit handlers (a solver's temporary files)."""
    atexit._run_exitfuncs()
    os._exit(128 + signum)


class PackoptGroup(click.Group):
    """Click's group, but a usage error is one line on stderr like every other error."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        # A command builds many small objects and keeps them to its end (a bill of 5,000
        # products × 24 months: 120,000 month records), which the cycle collector would
        # traverse again and again at its default threshold: collect rarely meanwhile.
        threshold = gc.get_threshold()
        gc.set_threshold(max(threshold[0], 100_000), *threshold[1:])
        try:
            return self._main(args, prog_name, complete_var, **extra)
        finally:
            gc.set_threshold(*threshold)

    def __call__(self, *args, **kwargs):
        """The program itself (the console script, `python cli.py`): run, flush the output,
        run the exit handlers, then end the process at once instead of letting Python free
        every module and object one by one (a tenth of a small plan's run). Tests and
        library callers use `main`, which returns or raises as Click's does."""
        signal.signal(signal.SIGTERM, _terminated)
        if hasattr(signal, "SIGPIPE"):
            signal.signal(signal.SIGPIPE, _reader_gone)
        try:
            self.main(*args, **kwargs)
            code = 0
        except SystemExit as e:
            code = e.code
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
        try:
            sys.stdout.flush()
        except BrokenPipeError:             # `packopt ... | head`: the reader has gone
            code = code or 1
        except OSError as e:                # a full disk, say: one line, not a traceback
            if not code:                    # (unless a failed write was reported already)
                with contextlib.suppress(OSError, ValueError):
                    print(f"Error: cannot write the output: {e.strerror or e}",
                          file=sys.stderr)
            code = code or 1
        if _pipe_closed:
            code = code or 1
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        atexit._run_exitfuncs()             # what Python would run at exit (logging, ...)
        os._exit(code or 0)

    def _main(self, args, prog_name, complete_var, **extra):
        try:
            return super().main(args, prog_name, complete_var, False, **extra)
        except _NO_ARGS_IS_HELP as e:        # bare `packopt`: show the help, as Click does
            e.show()
            sys.exit(e.exit_code)
        except click.UsageError as e:
            name_origin(e)              # a bad value from PACKOPT_* or a config file: say so
            where = e.ctx.command_path if e.ctx is not None else "packopt"
            if where == "packopt":
                # (an option's missing value is found before the command's context exists)
                first = next((a for a in (sys.argv[1:] if args is None else args)
                              if not a.startswith("-")), None)
                if first in self.commands:
                    where = f"packopt {first}"
            message = e.format_message()
            if "(from " not in message and (given := named_origins(e.ctx, message)):
                message += f" ({given})"
            click.echo(f"Error: {message} (see '{where} --help')", err=True)
            sys.exit(e.exit_code)
        except click.ClickException as e:
            e.show()
            sys.exit(e.exit_code)
        except click.Abort as e:
            if isinstance(e.__cause__, KeyboardInterrupt):
                # Ctrl-C while inputs are read or output written (a solve ends the process
                # itself, solve_interruptibly): 130 like a solve, not 1, "the solver failed".
                click.echo("packopt: interrupted", err=True)
                sys.exit(130)
            click.echo("Aborted!", err=True)
            sys.exit(1)


# Parameters naming a file or folder (besides those whose name ends in "_path").
PATH_PARAMS = frozenset({"forecast", "history", "output", "output_dir"})


def _no_empty_paths(kwargs) -> None:
    """An empty file name is a usage error: taken for "not given", `bill F --plan ""` (a
    script's unset variable) billed pure postpaid with exit 0."""
    ctx = click.get_current_context(silent=True)
    for p in ctx.command.params if ctx else ():
        if kwargs.get(p.name) == "" and (p.name in PATH_PARAMS or p.name.endswith("_path")):
            name = p.opts[0] if isinstance(p, click.Option) else p.human_readable_name
            # (only a file the command can do without may be left out: plan's FORECAST)
            raise click.UsageError(f"{name} is an empty file name: give a file"
                                   + ("" if p.required else f", or leave {name} out"))


def library_errors(f):
    """Run a command body, turning packopt's exceptions into CommandError."""
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        _no_empty_paths(kwargs)
        try:
            return f(*args, **kwargs)
        except PackoptError as e:
            ctx, source = click.get_current_context(silent=True), getattr(e, "source", None)
            where = flag_origin(ctx, source)
            given = None if where else path_origin(ctx, source, kwargs)
            message = f"{e} (from {where})" if where else f"{e} ({given})" if given else str(e)
            raise CommandError(message, e.exit_code) from e
    return wrapper


# --------------------------------------------------------------------------- config file

def config_option(f):
    return click.option("--config", metavar="FILE.toml", is_eager=True, expose_value=False,
                        callback=set_config, envvar=ENV_PREFIX + "CONFIG",
                        help="Option defaults from a TOML file (command line > environment "
                             "PACKOPT_* > config file > built-in default).")(f)


# --------------------------------------------------------------------------- shared options

def _not_nan(ctx, param, value):
    """A float option's value, refusing NaN (which every range check lets through)."""
    if value is not None and value != value:
        raise click.BadParameter(f"{value} is not a number.", param=param)
    return value


# name -> (parameter declarations, click.option keywords); commands pick them with `shared`.
SHARED = {
    "catalog": (("--catalog", "catalog_path"), dict(
        metavar="FILE", help="Catalog TOML (default: the built-in seed catalog).")),
    "tier_basis": (("--tier-basis",), dict(
        type=click.Choice(TIER_BASES),
        help="What sets a month's tier: 'total' (all calls of the month) or 'after-packs' "
             "(calls not covered by packs). Overrides the catalog's tier_basis.")),
    "negotiated_rate": (("--negotiated-rate", "negotiated_rates"), dict(
        multiple=True, metavar="PRODUCT=RATE",
        help="Rate per call for a product's unpublished top tier (volume above the last "
             "published bound). Repeatable.")),
    "carry_over": (("--carry-over-value", "carry_over"), dict(
        type=click.Choice(["zero", "prorata"]), default="zero", show_default=True,
        help="Value of pack balance still valid when the horizon ends: 'zero', or 'prorata' "
             "(price per call × unexpired share of validity, credited against cost; `plan` "
             "then minimises cost less that credit). Both figures are reported either way.")),
    "holdings": (("--holdings", "holdings_path"), dict(
        metavar="FILE", help="Packs already owned: CSV product,expires,calls_left.")),
    "sheet": (("--sheet",), dict(
        metavar="NAME", help="The sheet of a FORECAST workbook (.xlsx) to read (default: the "
                             "first). Other workbooks: FILE.xlsx#SHEET.")),
    "months": (("--months/--no-months", "-v", "months"), dict(
        default=False, help="Month-by-month view: calls, free, pack, postpaid, rate, postpaid "
                           "cost, balance, waste and reminder months.")),
    "cashflow": (("--cashflow/--no-cashflow",), dict(
        default=False, help="Cash flow: packs paid in their purchase month, postpaid paid the "
                           "month after use, 120% of it frozen until the next settlement.")),
    "report": (("--report", "report_path"), dict(
        metavar="FILE.html|FILE.pdf",
        help="Also write a report for a budget request (summary, purchases, cost bars, "
             "month-by-month charts, cash flow): self-contained HTML, or PDF, by the "
             "extension.")),
    "chart": (("--chart", "chart_path"), dict(
        metavar="FILE.png|FILE.svg",
        help="Also write a chart, PNG or SVG by the extension: cost by product, then pack "
             "balance against demand month by month, one panel per product with packs.")),
    "solver": (("--solver",), dict(type=click.Choice(["highs", "cbc"]), default="highs",
                                   show_default=True, help="MILP solver.")),
    "columns": (("--columns",), dict(
        metavar="TEXT", help="Which columns of a HISTORY bill export hold the month, product "
                             "and calls: month=COL,product=COL,calls=COL (docs/cli.md).")),
    "map": (("--map", "map_path"), dict(
        metavar="FILE", help="Product mapping for a HISTORY export: patterns -> catalog "
                             "product ids (docs/cli.md).")),
    "history_sheet": (("--sheet",), dict(
        metavar="NAME", help="The sheet of a HISTORY workbook (.xlsx) to read (default: the "
                             "first).")),
    "method": (("--method",), dict(
        type=click.Choice(FORECAST_METHODS), default="auto", show_default=True,
        help="Forecasting method: 'auto' picks per product by rolling-origin backtest "
             "(lowest MASE); or one method for every product.")),
    "time_limit": (("--time-limit",), dict(
        type=click.FloatRange(min=0, min_open=True), metavar="SECONDS", callback=_not_nan,
        help="Stop the solver after SECONDS; the best plan found is reported as 'feasible' "
             "with its proven gap.")),
    "monthly_budget": (("--monthly-budget",), dict(
        metavar="CNY", help="Cap on the prepaid spend of any one month.")),
    "yearly_budget": (("--yearly-budget",), dict(
        metavar="CNY", help="Cap on the prepaid spend of each 12-month block from the "
                            "horizon's start (months 1-12, 13-24, ...): budgets are annual, "
                            "horizons need not be.")),
}


def shared(*names: str):
    """Add the named shared options, in this order, to a command."""
    def add(f):
        for name in reversed(names):
            decls, kwargs = SHARED[name]
            f = click.option(*decls, **kwargs)(f)
        return f
    return add


catalog_options = shared("catalog", "tier_basis", "negotiated_rate")
billing_options = shared("carry_over", "holdings", "months", "cashflow", "report", "chart")
holdings_option, solver_option, sheet_option = map(shared, ("holdings", "solver", "sheet"))
history_options = shared("method", "columns", "map", "history_sheet")


@dataclass(frozen=True)
class Output:
    """How a command writes its result: format, colour, BOM, notes."""

    fmt: str
    no_color: bool
    excel_bom: bool
    quiet: bool

    def note(self, message: str) -> None:
        """A note for the user on stderr (never on stdout), unless --quiet (but for usage
        no product takes, never dropped silently); on a terminal wrapped between words, so
        that no number or name is split."""
        if not self.quiet or UNMAPPED_WORDS in message:
            text = f"packopt: {message}"
            if _stderr_isatty():
                import textwrap  # terminals only: not on a script's path
                text = textwrap.fill(text, _stderr_columns(), break_long_words=False,
                                     break_on_hyphens=False)
            click.echo(text, err=True)


def output_options(f=None, *, formats=FORMATS, default="table"):
    """--format, --no-color, --excel-bom, -q/--quiet and --config, shared by every command.

    The command receives them as one `out: Output` argument.
    """
    if f is None:
        return functools.partial(output_options, formats=formats, default=default)
    @functools.wraps(f)
    def wrapper(*args, fmt, no_color, excel_bom, quiet, **kwargs):
        ctx = click.get_current_context()
        if excel_bom and fmt != "csv" and \
                ctx.get_parameter_source("excel_bom") is click.core.ParameterSource.COMMANDLINE:
            raise click.UsageError("--excel-bom applies only to --format csv")
        return f(*args, out=Output(fmt, no_color, excel_bom and fmt == "csv", quiet), **kwargs)

    wrapper = click.option("-q", "--quiet/--no-quiet", default=False,
                           help="No notes or progress on stderr (errors, and usage that maps to no "
                                "product, still go there).")(wrapper)
    wrapper = click.option("--excel-bom/--no-excel-bom", default=False,
                           help="Start CSV output with a UTF-8 byte-order mark, so that Excel "
                                "reads the UTF-8 correctly.")(wrapper)
    wrapper = click.option("--no-color", is_flag=True,
                           help="No colour in tables (the NO_COLOR variable does the same)."
                           )(wrapper)
    wrapper = click.option("--format", "fmt", type=click.Choice(formats), default=default,
                           show_default=True,
                           help="Output format: a table, JSON, CSV, or a Markdown pipe table "
                                "for pasting into documents (plan: xlsx with --output)."
                           )(wrapper)
    return config_option(wrapper)


def check_csv_views(fmt: str, **views: bool) -> None:
    """CSV is one table: at most one of the alternative views may be asked for."""
    chosen = [f"--{name.replace('_', '-')}" for name, on in views.items() if on]
    if fmt == "csv" and len(chosen) > 1:
        raise click.UsageError(f"{' and '.join(chosen)} cannot be combined with --format csv "
                               f"(CSV is one table; choose one of them, or use --format json)")


def inputs(out: Output, forecast, **files):
    """`read_inputs`, with its notes (encoding, columns ignored, totals) on stderr."""
    i = read_inputs(forecast, **files)
    for note in i.notes:
        out.note(note)
    return i


def given(name: str) -> bool:
    """Whether the option `name` was given (on the command line, environment or config)."""
    source = click.get_current_context().get_parameter_source(name)
    return source is not None and source is not click.core.ParameterSource.DEFAULT


def own_keys_only(ctx, param, value):
    """`forecast --months/--output/--scenarios` mean other things in other commands (plan's
    month view, plan's output workbook and scenarios input): PACKOPT_MONTHS or a top-level
    config key set for those must never make `forecast` write over a file. So these have
    environment variables of their own (PACKOPT_FORECAST_*), and from a config file only
    the [forecast] table sets them."""
    if ctx.get_parameter_source(param.name) is click.core.ParameterSource.DEFAULT_MAP \
            and f"[{ctx.info_name}]" not in (value_origin(ctx, param) or ""):
        return param.default
    return value


def history_read(out: Output, history: str, check=None, **files):
    """`read_history_inputs` (the history, plan and holdings), with its notes on stderr;
    `check(hi)` first, so that a history it refuses gives its error alone."""
    hi = load_analysis("forecasting_plan").read_history_inputs(history, **files)
    if check is not None:
        check(hi)
    for note in hi.notes:
        out.note(note)
    return hi


def check_history_only(flag: str, **options) -> None:
    """Options that apply only with `flag` are refused without it when typed on the command
    line (a PACKOPT_* variable or config key may be meant for another command)."""
    ctx = click.get_current_context()
    for name, value in options.items():
        if value is not None and ctx.get_parameter_source(name) is \
                click.core.ParameterSource.COMMANDLINE:
            raise click.UsageError(f"--{name.removesuffix('_path').replace('_', '-')} applies "
                                   f"only with {flag}")


def check_history_plan(forecast: str | None, scenarios_path: str | None) -> None:
    if forecast is not None:
        raise click.UsageError("give FORECAST or --history HISTORY, not both")
    if scenarios_path is not None:
        raise click.UsageError("--scenarios cannot be combined with --history (the scenarios "
                               "come from the forecast's P10/P50/P90)")


@contextlib.contextmanager
def scenarios_from_history(active: bool):
    """With --history the scenarios come from the forecast: when the planner refuses a
    combination with scenarios, say where they came from (the user gave no --scenarios)."""
    try:
        yield
    except InputError as e:
        if active and "--scenarios" in e.message:
            raise InputError(f"--history plans on the forecast's low/base/high scenarios, "
                             f"and {e.message}", field=e.field) from e
        raise


def example_note(fc, out: Output) -> None:
    out.note(f"no FORECAST given; using the bundled example forecast "
             f"({fc.start}..{fc.end}, {len(fc.demand)} products)")


def load_analysis(name: str):
    """optimizer.analysis.<name>, imported only by the commands that solve (it pulls in the
    solver stack)."""
    return importlib.import_module(f"optimizer.analysis.{name}")


# --------------------------------------------------------------------------- output

def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _stdout_isatty() -> bool:
    return _isatty(sys.stdout)


def _stderr_isatty() -> bool:
    return _isatty(sys.stderr)


def _stderr_columns() -> int:
    """The terminal's width; TABLE_WIDTH when unknown, or 0 (a pseudo-terminal that was
    never sized, as `script` and some CI runners make)."""
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns or TABLE_WIDTH
    except (OSError, ValueError):
        return TABLE_WIDTH


def progress(message: str, out: Output, delay: float = 1.0):
    """A spinner on stderr for long work, only on a terminal and without --quiet."""
    return spinner(message, enabled=not out.quiet and _stderr_isatty(), delay=delay,
                   color=not out.no_color)


def solve_interruptibly(message: str, out: Output, work):
    """Run a solve with the spinner; Ctrl-C ends the process at once with status 130 and
    nothing on stdout (the solve runs in a worker thread, so the interrupt is not held up)."""
    try:
        return run_in_worker(work, message, enabled=not out.quiet and _stderr_isatty(),
                             color=not out.no_color)
    except KeyboardInterrupt:
        click.echo("packopt: interrupted", err=True)
        sys.stderr.flush()
        atexit._run_exitfuncs()             # a solver's temporary files, among others
        os._exit(130)


def emit(out: Output, content) -> None:
    """Write a command's result (what `views` built for out.fmt) on stdout: the only place
    that does."""
    tty = _stdout_isatty()
    if tty:
        import shutil  # terminals only: not on a script's path
    width = shutil.get_terminal_size((TABLE_WIDTH, 24)).columns if tty else TABLE_WIDTH
    try:
        text.write_result(lambda s: click.echo(s, nl=False, color=True),  # a terminal's
                          out.fmt, content, width=width, terminal=tty,     # colours
                          no_color=out.no_color or bool(os.environ.get("NO_COLOR")),
                          excel_bom=out.excel_bom)
    except OSError as e:            # a full disk, say (Click ends a broken pipe itself)
        if isinstance(e, BrokenPipeError):
            raise
        raise CommandError(f"cannot write the output: {e.strerror or e}", 1) from None


# --------------------------------------------------------------------------- commands

@click.group(name="packopt", cls=PackoptGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="packopt",
                      message="%(prog)s %(version)s")
@click.option("--config", metavar="FILE.toml", is_eager=True, expose_value=False,
              callback=set_config, envvar=ENV_PREFIX + "CONFIG",
              help="Option defaults from a TOML file: top-level keys for every command, "
                   "[plan], [bill], [forecast]... tables for one. Precedence: command "
                   "line > environment PACKOPT_<OPTION> > config file > default.")
def cli():
    """Plan purchases of prepaid OCR call packs against tiered postpaid billing.

    Finds the cheapest mix of expiring prepaid packs and postpaid usage for a monthly
    call forecast, proven optimal to the fen, and replays any purchase plan with the
    exact billing rules.

    \b
    Examples:
        packopt plan                          # the bundled example forecast
        packopt plan forecast.csv --compare
        packopt plan forecast.csv --report plan.html --chart plan.png
        packopt plan forecast.csv --budget 20000 --scenarios scenarios.csv
        packopt plan forecast.csv --format csv > plan.csv
        packopt bill forecast.csv --plan plan.csv --months
        packopt whatif forecast.csv --scale 0.7,1,1.3
        packopt catalog
    """


@cli.command(name="catalog")
@catalog_options
@output_options
@library_errors
def catalog_cmd(catalog_path, tier_basis, negotiated_rates, out: Output):
    """Print the catalog in use: packs, tiers, free quota, validity.

    \b
    Examples:
        packopt catalog
        packopt catalog --format json
        packopt catalog --format markdown > prices.md
        packopt catalog --catalog my_prices.toml \\
            --negotiated-rate license_plate=0.04
    """
    emit(out, views.catalog_view(out.fmt, catalog_in_force(catalog_path, tier_basis,
                                                          negotiated_rates)))


@cli.command(name="bill")
@click.argument("forecast")
@click.option("--plan", "plan_path", metavar="PLAN",
              help="Purchase plan: CSV product,month,size,count (a cost column is checked "
                   "against the catalog) or the JSON of `packopt plan --format json`. "
                   "Without it, nothing is bought.")
@click.option("--compare/--no-compare", default=False,
              help="Also plan the optimum and show it beside this plan: the difference per "
                   "product and the packs that differ.")
@catalog_options
@billing_options
@sheet_option
@output_options
@library_errors
def bill_cmd(forecast, plan_path, compare, catalog_path, tier_basis, negotiated_rates,
             carry_over, holdings_path, months, cashflow, report_path, chart_path, sheet,
             out: Output):
    """Bill a purchase plan against FORECAST, month by month.

    FORECAST is a CSV or .xlsx, long (product,month,calls) or wide (product,
    YYYY-MM,...). Free quota first, then packs soonest-expiring first, then postpaid at the
    all-units tier rate. JSON output has the same shape as `plan`, with status
    "billed"; CSV gives one row per product (or per month with --months).

    \b
    Examples:
        packopt bill forecast.csv --plan plan.csv
        packopt bill forecast.csv --plan plan.json --months
        packopt bill forecast.csv --plan plan.csv --tier-basis after-packs \\
            --format json
        packopt bill forecast.csv --holdings held.csv --cashflow
        packopt bill forecast.csv --plan edited.csv --compare
        packopt bill forecast.csv --plan plan.csv --report bill.pdf \\
            --chart bill.png
    """
    check_csv_views(out.fmt, months=months, cashflow=cashflow, compare=compare)
    check_paths(report_path, chart_path)
    distinct_paths(dict(FORECAST=forecast, plan=plan_path, holdings=holdings_path,
                        catalog=catalog_path), report=report_path, chart=chart_path)
    i = inputs(out, forecast, catalog=catalog_path, tier_basis=tier_basis, plan=plan_path,
               negotiated_rates=negotiated_rates, holdings=holdings_path, sheet=sheet)
    edited = load_analysis("edited")
    r = solve_interruptibly("Planning the optimum…", out, lambda: edited.bill_report(
        i, compare=compare, carry_over=carry_over))
    write_extras(r.bill, command="bill", forecast=i.forecast.source, catalog=i.catalog,
                 plan=plan_path, carry_over=carry_over, report_path=report_path,
                 chart_path=chart_path, comparison=r.comparison)
    emit(out, views.bill_view(out.fmt, r.bill, title=views.bill_title(plan_path, forecast),
                              months=months, cashflow=cashflow, carry_over=carry_over,
                              comparison=r.comparison, catalog=i.catalog))
    warn_beside(out, r.bill.warnings)
    cashflow_note(out, r.bill, cashflow)


@cli.command(name="plan")
@click.argument("forecast", required=False)
@click.option("--purchase-months", type=click.Choice(["start", "any"]), default="start",
              show_default=True,
              help="'start': every pack bought in the first month; 'any': packs may be bought "
                   "at the start of any month (top-ups, delayed purchases).")
@solver_option
@shared("time_limit")
@click.option("--compare/--no-compare", default=False,
              help="Also show pure postpaid and the rule of thumb, and what the optimizer "
                   "is worth.")
@click.option("--scenarios", "scenarios_path", metavar="FILE",
              help="Weighted demand scenarios: CSV scenario,weight,product,month,calls (full "
                   "forecasts) or scenario,weight,scale (multiples of FORECAST). Packs are "
                   "chosen once; postpaid follows each scenario.")
@click.option("--objective", type=click.Choice(["expected", "worst-case"]), default="expected",
              show_default=True,
              help="With --scenarios: minimise the weighted expected cost or the worst "
                   "scenario's cost.")
@click.option("--budget", metavar="CNY",
              help="Cap on the total prepaid spend over the horizon (packs go where they "
                   "save most); the output shows what raising the cap is worth.")
@shared("monthly_budget", "yearly_budget")
@click.option("--output", metavar="FILE.xlsx",
              help="With --format xlsx: the workbook to write (sheets Plan, Costs, Months).")
@click.option("--history", "history_path", metavar="HISTORY",
              help="Plan from a usage history (monthly, daily rows, a FOCUS or other bill "
                   "export) instead of FORECAST: forecast --horizon months "
                   "(see `packopt forecast`), then plan on its low/base/high scenarios "
                   "(P10/P50/P90) for the expected cost.")
@click.option("--horizon", type=click.IntRange(1, 120), default=12, show_default=True,
              help="With --history: the months to forecast and plan.")
@shared("method", "columns", "map")
@catalog_options
@billing_options
@sheet_option
@output_options(formats=FORMATS + ("xlsx",))
@library_errors
def plan_cmd(forecast, purchase_months, solver, time_limit, compare, scenarios_path, objective,
             budget, monthly_budget, yearly_budget, output, history_path, horizon, method,
             columns, map_path, catalog_path, tier_basis, negotiated_rates, carry_over,
             holdings_path, months, cashflow, report_path, chart_path, sheet, out: Output):
    """Find the minimum-cost pack purchase plan for FORECAST.

    FORECAST is a CSV or .xlsx, long (product,month,calls) or wide (product,
    YYYY-MM,...); without it the bundled 9-product example forecast is used. The plan's cost is
    re-billed by the billing engine and compared with pure postpaid. Status is
    "optimal" only when optimality is proven to the fen.

    `--format csv` writes product,month,size,count,cost, which `packopt bill
    --plan` reads back; so does the workbook of `--format xlsx --output FILE`.

    \b
    Examples:
        packopt plan
        packopt plan forecast.csv --compare
        packopt plan forecast.csv --purchase-months any --time-limit 60
        packopt plan forecast.csv --budget 20000    # best use of 20,000 CNY
        packopt plan forecast.csv --scenarios scenarios.csv --objective worst-case
        packopt plan forecast.csv --report plan.pdf --chart plan.png
        packopt plan forecast.csv --format markdown # for a budget request
        packopt plan forecast.csv --format csv > plan.csv
        packopt bill forecast.csv --plan plan.csv     # same total, to the fen
        packopt plan forecast.xlsx --format xlsx --output plan.xlsx
        packopt plan --history usage.csv --horizon 12 --report plan.html
    """
    check_csv_views(out.fmt, months=months, cashflow=cashflow, compare=compare)
    if (out.fmt == "xlsx") != bool(output):
        raise click.UsageError("--format xlsx and --output FILE.xlsx go together (other "
                               "formats go to stdout)")
    check_paths(report_path, chart_path, output)
    distinct_paths(dict(FORECAST=forecast, HISTORY=history_path, scenarios=scenarios_path,
                        holdings=holdings_path, catalog=catalog_path, map=map_path),
                   output=output, report=report_path, chart=chart_path)
    budget = parse_amount(budget, "--budget")
    monthly_budget = parse_amount(monthly_budget, "--monthly-budget")
    yearly_budget = parse_amount(yearly_budget, "--yearly-budget")
    # (fr, with --history: the forecast the plan is made from)
    i, fr = _plan_inputs(out, forecast, history_path, horizon, method, columns, map_path,
                         scenarios_path, sheet, catalog=catalog_path, tier_basis=tier_basis,
                         negotiated_rates=negotiated_rates, holdings=holdings_path)
    if objective == "worst-case" and not i.scenarios:
        out.note("--objective worst-case without --scenarios: one forecast is its own worst "
                 "case, so this is the plan of least cost for it")
    planning = load_analysis("planning")
    with scenarios_from_history(fr is not None):
        report = solve_interruptibly("Solving…", out, lambda: planning.plan_report(
            i.catalog, i.forecast, compare_baselines=compare, budget=budget,
            monthly_budget=monthly_budget, yearly_budget=yearly_budget,
            purchase_months=purchase_months, solver=solver,
            time_limit=time_limit, holdings=i.holdings, scenarios=i.scenarios,
            objective=objective, carry_over=carry_over))
    result = report.result
    _plan_notes(out, report)
    workbook = []          # --format xlsx: written together with the report and chart
    if out.fmt == "xlsx":
        from optimizer.output.xlsx import plan_workbook
        book = plan_workbook(result.bill, title=views.plan_title(result), result=result,
                             comparison=report.comparison, cashflow=cashflow)
        workbook = [(output, book.save, "workbook")]
    write_extras(result.bill, command="plan", forecast=history_path or i.forecast.source,
                 catalog=i.catalog, carry_over=carry_over, report_path=report_path,
                 chart_path=chart_path, result=result, budget_value=report.budget_value,
                 comparison=report.comparison, forecast_result=fr, also=workbook)
    content = None if out.fmt == "xlsx" else views.plan_view(
        out.fmt, result, months=months, cashflow=cashflow, comparison=report.comparison,
        budget_value=report.budget_value, catalog=i.catalog, forecast=fr,
        history=history_path, compared=compare)
    if forecast is None and history_path is None:
        example_note(i.forecast, out)
    if content is not None:          # --format xlsx wrote its workbook: nothing on stdout
        emit(out, content)
    warn_beside(out, result.bill.warnings)
    cashflow_note(out, result.bill, cashflow)


def _plan_inputs(out: Output, forecast, history_path, horizon, method, columns, map_path,
                 scenarios_path, sheet, **files):
    """`plan`'s inputs and, with --history, the forecast made from it (else None)."""
    if history_path is None:
        check_history_only("--history", horizon=horizon, method=method, columns=columns,
                           map_path=map_path)
        return inputs(out, forecast, scenarios=scenarios_path, sheet=sheet, **files), None
    check_history_plan(forecast, scenarios_path)
    i, fr = load_analysis("forecasting_plan").history_inputs(
        history_path, horizon, method, columns=columns, mapping=map_path, sheet=sheet,
        **files)
    for note in i.notes:
        out.note(note)
    return i, fr


def _plan_notes(out: Output, report) -> None:
    """What the plan's output does not say, on stderr: a plan file's status when it is not
    proven optimal (the table and JSON carry it; the file is the plan alone), and the
    figures left out for want of time."""
    if out.fmt in ("csv", "xlsx") and report.result.status != "optimal":
        out.note(f"the plan is {cells.status_line(report.result)}")
    for note in report.notes:
        out.note(note)
    for what in report.left_out:
        out.note(f"left out {what}")


def cashflow_note(out: Output, bill, cashflow: bool) -> None:
    """The CSV cash flow stops at 9999-12: what it leaves out goes to stderr (the table and
    JSON carry it)."""
    note = cells.settled_after_note(bill) if cashflow and out.fmt == "csv" else None
    if note:
        out.note(note)


def warn_beside(out: Output, warnings) -> None:
    """Warnings where the output has no place for them (CSV, a workbook) go to stderr once
    it is written (a failed write is one error line): a plan written to a file was silent
    about the rate its cost rests on."""
    if out.fmt in ("csv", "xlsx"):
        for w in warnings:
            out.note(f"warning: {w}")


@cli.command(name="whatif")
@click.argument("forecast", required=False)
@click.option("--scale", "scales", metavar="X,Y,...",
              help=f"Demand levels as multiples of FORECAST, comma-separated (default "
                   f"{DEFAULT_SCALES} when --scenarios is not given either).")
@click.option("--scenarios", "scenarios_path", metavar="FILE",
              help="Demand levels from a scenarios CSV (scenario,weight,product,month,calls or "
                   "scenario,weight,scale); weights are ignored here.")
@click.option("--plan", "plan_path", metavar="PLAN",
              help="The plan to examine (CSV or the JSON of `packopt plan`); default: the "
                   "optimal plan for FORECAST.")
@click.option("--break-even/--no-break-even", "break_even", default=None,
              help="Per product, the range of demand (× forecast) over which its packs stay "
                   "optimal. On by default, except with --format csv, where it replaces the "
                   "levels table when asked for.")
@click.option("--purchase-months", type=click.Choice(["start", "any"]), default=None,
              help="How the plans each demand level would want may buy: 'start' or 'any' "
                   "month, as in `plan`. Default: 'any' when --plan buys after the first "
                   "month, else 'start'.")
@click.option("--budget", metavar="CNY",
              help="Cap on the total prepaid spend: the examined plan and every level's best "
                   "plan keep within it (break-even ranges are then per product under the "
                   "same cap); --monthly-budget and --yearly-budget likewise.")
@shared("monthly_budget", "yearly_budget")
@solver_option
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              callback=_not_nan,
              help="Stop solving after SECONDS in all: a level's best plan not proven by then "
                   "shows its gap (the regret is at least the one shown), and a break-even "
                   "search stopped shows the range proven so far.")
@holdings_option
@catalog_options
@sheet_option
@output_options
@library_errors
def whatif_cmd(forecast, scales, scenarios_path, plan_path, break_even, purchase_months,
               budget, monthly_budget, yearly_budget, solver, time_limit, holdings_path,
               catalog_path, tier_basis, negotiated_rates, sheet, out: Output):
    """What a plan costs if demand comes in lower or higher, and how much you would regret it.

    Bills one plan (the optimal plan for FORECAST, or --plan) under each demand level
    and sets it beside the plan that would be optimal for that level: the difference
    is the regret. Then, per product, the break-even range: the multiples of the
    forecast over which the plan's packs stay optimal (searched from ×0.1 to ×10).
    Without FORECAST the bundled example forecast is used.

    \b
    Examples:
        packopt whatif                          # example forecast, ×0.5 … ×1.5
        packopt whatif forecast.csv --scale 0.7,1,1.3
        packopt whatif forecast.csv --plan plan.csv --scenarios scenarios.csv
        packopt whatif forecast.csv --budget 20000 --scale 0.7  # 30 % less demand
        packopt whatif forecast.csv --no-break-even --format markdown
        packopt whatif forecast.csv --format csv --break-even > break_even.csv
    """
    levels = parse_scales(scales) if scales is not None else []     # ("" is refused)
    budget = parse_amount(budget, "--budget")
    monthly_budget = parse_amount(monthly_budget, "--monthly-budget")
    yearly_budget = parse_amount(yearly_budget, "--yearly-budget")
    i = inputs(out, forecast, catalog=catalog_path, tier_basis=tier_basis, plan=plan_path,
               negotiated_rates=negotiated_rates, holdings=holdings_path,
               scenarios=scenarios_path, sheet=sheet)
    whatif = load_analysis("whatif")
    if not levels and not i.scenarios:
        levels, dropped = whatif.scales_within(i.forecast, parse_scales(DEFAULT_SCALES))
        if dropped:
            out.note(f"default demand level{'s' * (len(dropped) > 1)} "
                     f"{', '.join(f'×{s.normalize():f}' for s in dropped)} left out: "
                     f"{'they take' if len(dropped) > 1 else 'it takes'} some month past "
                     f"10^15 calls, the most packopt takes")
    w = solve_interruptibly("Solving each demand level…", out, lambda: whatif.examine(
        i.catalog, i.forecast, levels, i.scenarios, plan=i.plan, holdings=i.holdings,
        solver=solver, budget=budget, monthly_budget=monthly_budget,
        yearly_budget=yearly_budget, purchase_months=purchase_months, time_limit=time_limit,
        with_break_even=out.fmt != "csv" if break_even is None else break_even,
        plan_warnings=i.plan_warnings))
    if w.status not in (None, "optimal"):
        out.note(f"the plan examined is the best found in the time limit, within "
                 f"{w.gap:,.2f} {i.catalog.currency} of the optimum")
    if w.narrower and out.fmt == "csv":     # (the table and JSON carry it; CSV has no place)
        out.note("the optimal costs are those of the best plans buying only in the first "
                 "month (--purchase-months start), while this plan buys later too: they can "
                 "cost more than this plan, a negative regret")
    content = views.whatif_view(out.fmt, w.examined, w.rows, w.scale_count, w.ranges,
                                plan_name=plan_path, catalog=i.catalog, status=w.status,
                                gap=w.gap, warnings=w.warnings,
                                purchase_months=w.purchase_months, narrower=w.narrower)
    if forecast is None:
        example_note(i.forecast, out)
    emit(out, content)
    warn_beside(out, w.warnings)


@cli.command(name="forecast")
@click.argument("history")
@click.option("--months", "horizon", type=click.IntRange(1, 120), default=12,
              show_default=True, envvar="PACKOPT_FORECAST_MONTHS", callback=own_keys_only,
              help="Months to forecast, from the month after the history.")
@click.option("--output", metavar="FILE", envvar="PACKOPT_FORECAST_OUTPUT",
              callback=own_keys_only,
              help="Write the forecast (P50, product,month,calls) to FILE; stdout then shows "
                   "the table of methods, errors and bands unless --format is given.")
@click.option("--scenarios", "scenarios_path", metavar="FILE",
              envvar="PACKOPT_FORECAST_SCENARIOS", callback=own_keys_only,
              help="Also write low/base/high scenarios (P10/P50/P90, weights 0.3/0.4/0.3) "
                   "to FILE, for `plan --scenarios`.")
@history_options
@catalog_options
@output_options(default="csv")
@library_errors
def forecast_cmd(history, horizon, output, scenarios_path, method, columns, map_path, sheet,
                 catalog_path, tier_basis, negotiated_rates, out: Output):
    """Forecast monthly calls per product from a usage HISTORY.

    HISTORY holds past calls, CSV or .xlsx: monthly (the forecast formats), daily
    or per-batch rows (product,date,calls), a FOCUS cost-and-usage export, or
    another bill export through --columns/--map (docs/cli.md, 'History files').
    Per product the method is chosen by a rolling-origin backtest (or --method);
    its backtest MAPE and MASE and the P10-P90 band are shown. CSV output (the
    default) is the forecast itself, which `packopt plan` reads; the method of each
    product then goes to stderr.

    \b
    Examples:
        packopt forecast usage.csv --months 12 > forecast.csv
        packopt forecast usage.csv --output forecast.csv --scenarios scenarios.csv
        packopt plan forecast.csv --scenarios scenarios.csv
        packopt forecast usage.csv --method ets --format json
    """
    distinct_paths(dict(HISTORY=history, catalog=catalog_path, map=map_path),
                   output=output, scenarios=scenarios_path)
    check_csv_paths(output=output, scenarios=scenarios_path)
    typed = [flag for flag, name in (("--tier-basis", "tier_basis"),
                                     ("--negotiated-rate", "negotiated_rates"))
             if click.get_current_context().get_parameter_source(name)
             is click.core.ParameterSource.COMMANDLINE]
    if typed:
        # (accepted, they changed nothing: a forecast prices no call. From a config file
        # or the environment, set for every command, they are let be.)
        raise click.UsageError(f"{' and '.join(typed)} price plans and bills; a forecast "
                               f"prices nothing: give {'them' if len(typed) > 1 else 'it'} "
                               f"to plan, bill or backtest")
    bom = out.excel_bom            # (the files' too: the table below has none)
    if output and not given("fmt"):
        out = Output("table", out.no_color, False, out.quiet)
    hi = history_read(out, history, catalog=catalog_path, tier_basis=tier_basis,
                      negotiated_rates=negotiated_rates, columns=columns, mapping=map_path,
                      sheet=sheet)
    r = load_analysis("forecasting").forecast_history(hi.history, horizon, method=method)
    for note in r.notes + (tuple(map(forecasts.method_line, r.products))
                           if out.fmt == "csv" else ()):
        out.note(note)
    forecasts.write_forecast_files(r, output, scenarios_path, bom=bom)
    # (JSON's notes: the reader's too, usage no product took among them; stderr had them)
    emit(out, forecasts.forecast_view(out.fmt, replace(r, notes=hi.notes + r.notes), history))


@cli.command(name="backtest")
@click.argument("history")
@click.option("--plan", "plan_path", metavar="PLAN",
              help="What the planner really bought over the history (CSV or plan JSON): "
                   "billed in each window beside packopt's plan.")
@click.option("--holdings", "holdings_path", metavar="FILE",
              help="Packs held at the history's start (CSV product,expires,calls_left), "
                   "replayed with --plan.")
@click.option("--output-dir", metavar="DIR",
              help="Write each window's actual usage, forecast and plans as CSV files, so "
                   "that `packopt bill` reproduces every figure.")
@solver_option
@history_options
@catalog_options
@output_options
@library_errors
def backtest_cmd(history, plan_path, holdings_path, output_dir, solver,
                 method, columns, map_path, sheet, catalog_path, tier_basis,
                 negotiated_rates, out: Output):
    """Look back: what packopt would have cost in each past 12-month window of HISTORY.

    Each window with at least 12 months of history before it is forecast from those
    months only, planned, and the plan billed on what actually happened; beside it
    the hindsight optimum (the plan optimal for the actual usage), pure postpaid and
    the rule of thumb (sized on the 12 months before), and with --plan what you
    really bought. HISTORY takes the forms `packopt forecast` reads (monthly, daily
    rows, FOCUS exports, other exports through --columns/--map).

    \b
    Examples:
        packopt backtest usage.csv
        packopt backtest usage.csv --output-dir backtest/  # for packopt bill
        packopt backtest usage.csv --plan bought.csv --format json
    """
    backtest = load_analysis("backtest")
    hi = history_read(out, history, catalog=catalog_path, tier_basis=tier_basis,
                      negotiated_rates=negotiated_rates, columns=columns, mapping=map_path,
                      sheet=sheet, plan=plan_path, holdings=holdings_path,
                      check=lambda hi: backtest.windows_of(hi.history.usage, hi.history.partial))
    bt = solve_interruptibly("Backtesting…", out, lambda: backtest.backtest(
        hi.catalog, hi.history.usage, partial=hi.history.partial, method=method,
        past_plan=hi.plan, holdings=hi.holdings, solver=solver))
    for note in bt.notes:
        out.note(note)
    bt = replace(bt, notes=hi.notes + bt.notes)        # (JSON's: the reader's too)
    files = forecasts.write_window_files(output_dir, bt, hi.catalog) if output_dir else None
    flags = " ".join(f"--{k.replace('_', '-')} {shlex.quote(str(v))}" for k, v in (
        ("catalog", catalog_path), ("tier_basis", tier_basis)) if v is not None)
    flags += "".join(f" --negotiated-rate {shlex.quote(r)}" for r in negotiated_rates)
    emit(out, forecasts.backtest_view(out.fmt, bt, history, files, flags.strip()))


set_envvars(cli, ENV_PREFIX)


if __name__ == "__main__":
    cli(prog_name="packopt")
