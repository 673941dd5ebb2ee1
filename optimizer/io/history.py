"""Usage history files: what each catalog product was used, month by month, read from the
files a planner has (docs/cli.md, "History files").

Told apart by their header, as CSV (any encoding `read_table` reads) or a workbook sheet:

- **monthly**: the forecast formats, long (`product,month,calls`) or wide
  (`product,YYYY-MM,...`), with past months;
- **daily** or per-call-batch rows: `product,date,calls`, dates `YYYY-MM-DD` with or
  without a time, summed to calendar months;
- **FOCUS** cost-and-usage exports (the FinOps Open Cost and Usage Specification): the
  rows whose `ChargeCategory` is Usage, the month of `ChargePeriodStart`, the calls of
  `ConsumedQuantity` in a call-like `ConsumedUnit`, the product by `SkuId`,
  `ChargeDescription` or `ServiceName`;
- **any other export** (Tencent Cloud's bill-detail or usage-detail files) through
  `columns` (`month=COL,product=COL,calls=COL`, or `date=COL` for dates, and an optional
  `unit=COL`).

Labels become catalog products through a `--map` file of patterns first, then the
catalog's ids, names and `aliases` (compared as `catalog.alias_key` does). A label that
maps to nothing is never dropped silently: it goes to `History.unmapped` with its total
and into a note. The months run from the first to the last month of the file; a product
has 0 calls in a month with no rows (a new product's leading months).

Quantities: in monthly and daily files calls are whole non-negative numbers, as in a
forecast. In FOCUS and `columns` exports quantities are decimals: negative ones (usage
corrections and refunds) are netted against their product's month, and each product's
month total, once summed, is rounded half up to whole calls; a month whose net total is
below zero is an error. Both are said in a note.

Partial months: when the rows carry dates (daily files, FOCUS, `date=`), a first month
whose rows start after its 1st, or a last month whose rows end before its last day, is
flagged in `History.partial` for every product (the export covers only part of it);
dates all on the 1st of their month, with no time, are monthly figures and flag nothing.
"""

from __future__ import annotations

import fnmatch
import functools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from ..domain.catalog import Catalog
from ..domain.months import Month
from ..domain.records import MAX_CALLS, Forecast
from ..exceptions import InputError
from .catalog import alias_key
from .forecast import _wide_header
from .months import day_first, looks_like_month, month_headers, to_month
from .text import (
    UNMAPPED_WORDS,
    Problems,
    Table,
    below_title,
    ignored_columns_note,
    is_total,
    parse_count,
    parse_month,
    read_table,
    shown,
    too_large,
    too_large_words,
    total_row_note,
    trim,
)


@dataclass(frozen=True)
class History:
    """Monthly usage per catalog product, with what the reader could not count.

    `usage` covers the history's months, contiguous, every product every month (months
    before a product's first usage are 0). `partial` lists (product, month) covered only
    part-way by the file; `unmapped` the labels that map to no catalog product with their
    total calls, largest first; `notes` one line each, for stderr.
    """

    usage: Forecast
    partial: tuple[tuple[str, Month], ...]
    unmapped: tuple[tuple[str, int], ...]
    notes: tuple[str, ...]


HEADER_SEARCH = 30          # rows looked at for a header below a bill's title lines
FOCUS_REQUIRED = ("ChargeCategory", "ChargePeriodStart", "ConsumedQuantity")
FOCUS_LABELS = ("SkuId", "ChargeDescription", "ServiceName")   # tried in this order
_FOCUS_SHOWN = ("ServiceName", "SkuId", "ChargeDescription")   # an unmapped label, as shown
COLUMN_KEYS = ("month", "date", "product", "calls", "unit")

# count-based units (FOCUS "Unit Format": Count, Unit, Request, ...) and Chinese 次/千次
_CALL_UNITS = {"count", "counts", "unit", "units", "request", "requests", "call", "calls",
               "apicall", "apicalls", "invocation", "invocations", "transaction",
               "transactions", "time", "times", "次", "次数", "个", "张", "条"}
_CN_MULTIPLIERS = {"千": 1000, "万": 10000, "百万": 1000000}
# `1K Requests`, `1M Requests`, `thousand calls`: before a unit of calls only.
_LATIN_MULTIPLIERS = {"k": 1000, "thousand": 1000, "m": 1000000, "million": 1000000}

_DATE = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})|(\d{4})年\s*(\d{1,2})月\s*(\d{1,2})日?"
                   r"|(\d{4})(\d{2})(\d{2})", re.A)
_SLASH = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.A)      # M/D/YYYY or D/M/YYYY
_TIME = re.compile(r"(?:[T ]\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?\s*"
                   r"(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)?", re.I | re.A)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.A)
_THOUSANDS = re.compile(r"[+-]?\d{1,3}([, \u00a0']\d{3})+(\.\d+)?", re.A)


# --------------------------------------------------------------------------- entry point

def read_history(path: str | Path, catalog: Catalog, *, columns: str | None = None,
                 mapping: str | Path | None = None, sheet: str | None = None) -> History:
    """Read a usage history file (CSV or .xlsx) into monthly usage per catalog product.

    `columns` is `--columns` text (`month=COL,product=COL,calls=COL`, `date=COL` instead
    of `month=`, optional `unit=COL`), for exports in no format told by its header;
    `mapping` the path of a `--map` CSV (`pattern,product`); `sheet` a workbook's sheet.
    Bad input is an InputError naming the file, line and field of every bad cell.
    """
    spec = parse_columns(columns) if columns is not None else None
    resolver = Resolver(catalog, read_map(mapping, catalog) if mapping is not None else ())
    table = read_table(path, "history", sheet=sheet)
    usage = _Usage(table.source, resolver)
    usage.notes.extend(table.notes)
    if spec is not None:
        _read_columns(table, spec, usage)
    elif (at := _find_header(table, lambda h: all(c.lower() in h for c in FOCUS_REQUIRED)))\
            is not None:
        _read_focus(table, at, usage)
    else:
        # A spreadsheet's title lines above the header are skipped, as a bill's are.
        table, at = below_title(table, lambda row: _plain_header({_fold(c) for c in row}),
                                HEADER_SEARCH)
        if at:
            usage.notes.append(table.notes[-1])       # which title lines were skipped
        line0, header = table.rows[0]
        usage.header_line = line0
        head = [h.strip().lower() for h in header]
        if {"product", "month", "calls"} <= set(head):
            _read_long(table, usage)
        elif head[0] == "product" and any(looks_like_month(h) for h in header[1:]) \
                and "date" not in head:
            _read_wide(table, usage)
        elif {"product", "date", "calls"} <= set(head):
            _read_daily(table, usage)
        else:
            # (two of a form's three columns: name the one missing, the field at fault)
            missing = next((c for form in (("product", "month", "calls"),
                                           ("product", "date", "calls"))
                            if sum(x in head for x in form) == 2
                            for c in form if c not in head), None)
            raise InputError(
                (f"no '{missing}' column (the header has {', '.join(header)}); "
                 if missing else "") +
                "not a usage history this reader knows: the header must be "
                "product,month,calls or product,YYYY-MM,... (monthly), product,date,calls "
                "(daily), a FOCUS export's (ChargeCategory, ChargePeriodStart, "
                "ConsumedQuantity, ...), or name the columns with --columns "
                "month=COL,product=COL,calls=COL", source=table.source, line=line0,
                field=missing or (header[0] if header else "header"),
                hint=None if missing else table.sheet_hint())
    return usage.history(catalog)


# --------------------------------------------------------------------------- products

@dataclass(frozen=True)
class MapRule:
    """One line of a `--map` file: labels matching `pattern` are product `product`."""

    pattern: str
    product: str
    line: int
    regex: re.Pattern

    def matches(self, label: str) -> bool:
        return bool(self.regex.search(_fold(label)))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def read_map(path: str | Path, catalog: Catalog) -> tuple[MapRule, ...]:
    """A `--map` file: header `pattern,product`, one rule a line, tried in file order.

    A pattern is a glob matched against the whole label (`*` any text, `?` one character,
    `[...]` one of), ignoring case; `re:` before it makes it a regular expression
    (Python's) searched anywhere in the label, ignoring case. `product` is a catalog id,
    name or alias.
    """
    table = read_table(path, "product map")
    line0, header = table.rows[0]
    head = [h.strip().lower() for h in header]
    if head[:2] != ["pattern", "product"]:
        raise InputError("header must be pattern,product", source=table.source, line=line0,
                         field=header[0] if head[:1] != ["pattern"] else
                         (header[1] if len(header) > 1 else "product"))
    plain = Resolver(catalog, ())
    problems = Problems()
    rules = []
    for line, row in table.rows[1:]:
        row = trim(row, 2) + [""] * (2 - len(row))
        pattern, product = row[0], row[1]
        if not pattern:
            problems.add(InputError("pattern is empty", source=table.source, line=line,
                                    field="pattern"))
            continue
        pid = plain.resolve((product,)) if product else None
        if pid is None:
            hint = catalog.suggest(product) if product else None
            problems.add(InputError(
                f"unknown product '{product}'" + (f"; did you mean '{hint}'?" if hint else
                                                  " (see `packopt catalog`)")
                if product else "product is empty", source=table.source, line=line,
                field="product"))
            continue
        try:
            # (a regular expression is not case-folded, only searched ignoring case:
            # folding turned \S into \s and \D into \d, and refused \Z and (?P<name>))
            regex = (re.compile(unicodedata.normalize("NFKC", pattern[3:]).strip(), re.I)
                     if pattern.startswith("re:") else
                     re.compile(fnmatch.translate(_fold(pattern)), re.I | re.S))
        except (re.error, OverflowError, RecursionError) as e:
            why = "nested too deeply" if isinstance(e, RecursionError) else str(e)
            problems.add(InputError(f"'{shown(pattern[3:])}' is not a regular expression "
                                    f"({why})", source=table.source, line=line,
                                    field="pattern"))
            continue
        rules.append(MapRule(pattern, pid, line, regex))
    problems.check()
    if not rules:
        raise InputError("the product map has a header but no rules", source=table.source,
                         line=line0 + 1, field="pattern")
    return tuple(rules)


class Resolver:
    """Labels to catalog product ids: the map's rules first (in file order, over every
    label of a row), then exact ids and names, then ids, names and aliases as
    `alias_key` compares them. Answers are cached per labels tuple."""

    def __init__(self, catalog: Catalog, rules: tuple[MapRule, ...]):
        self.rules = rules
        self.keys: dict[str, str] = {}
        for p in catalog.products:
            for text in (p.id, p.name, *p.aliases):
                self.keys.setdefault(alias_key(text), p.id)
        self.catalog = catalog
        self.cache: dict[tuple[str, ...], str | None] = {}
        self.mapped: set[tuple[str, ...]] = set()      # labels a --map rule resolved

    def adds_up(self, seen: set[tuple[str, ...]], labels: tuple[str, ...]) -> bool:
        """Whether monthly rows of `labels` add to those of `seen` (the same product and
        month): several SKUs of one product that a --map rule sends to it do, as daily
        rows do; the same labels twice, or the product under two of its catalog names,
        are a duplicate."""
        return labels not in seen and bool((seen | {labels}) & self.mapped)

    def resolve(self, labels: tuple[str, ...]) -> str | None:
        if labels in self.cache:
            return self.cache[labels]
        pid = None
        texts = [t for t in labels if t.strip()]
        for rule in self.rules:
            if any(rule.matches(t) for t in texts):
                pid = rule.product
                self.mapped.add(labels)
                break
        if pid is None:
            for t in texts:
                p = self.catalog.get(t.strip())
                pid = p.id if p is not None else self.keys.get(alias_key(t))
                if pid is not None:
                    break
        self.cache[labels] = pid
        return pid


# --------------------------------------------------------------------------- the sums

class _Usage:
    """Usage rows as they are read: summed by (product, month), and by label for the rows
    that map to no product; the dates the rows cover, when they carry dates."""

    def __init__(self, source: str, resolver: Resolver):
        self.source = source
        self.resolver = resolver
        self.problems = Problems()
        self.notes: list[str] = []
        self.cells: dict[tuple[str, Month], Decimal] = {}
        self.lines: dict[tuple[str, Month], int] = {}
        self.labels: dict[tuple[str, Month], set[tuple[str, ...]]] = {}   # of its rows
        self.summed: dict[str, set[str]] = {}   # product -> the labels of monthly rows summed
        self.unmapped: dict[str, Decimal] = {}
        self.unmapped_lines: dict[str, int] = {}
        self.months: set[Month] = set()
        self.first: datetime | None = None      # the earliest instant the rows cover
        self.last: datetime | None = None       # the end (exclusive) of the latest
        self.monthly_dates = True               # every dated row is on a 1st, at 00:00
        self.negative = 0                       # rows with a negative quantity
        self.header_line = 1
        self.calls_field = "calls"              # the quantity's column, for errors

    def add(self, line: int, labels: tuple[str, ...], shown: str, month: Month,
            calls, *, unique: bool = False) -> None:
        """Count `calls` for the product `labels` map to (or for `shown`, unmapped);
        `unique` refuses a second row for the same product and month (monthly files)."""
        self.months.add(month)
        if calls < 0:
            self.negative += 1
        pid = self.resolver.resolve(labels)
        if pid is None:
            self.unmapped[shown] = self.unmapped.get(shown, 0) + calls
            self.unmapped_lines.setdefault(shown, line)
            return
        key = (pid, month)
        if key in self.cells and unique:
            seen = self.labels[key]
            if not self.resolver.adds_up(seen, labels):
                self.problems.add(InputError(
                    f"duplicate row for {pid} {month} (first given on line {self.lines[key]})",
                    source=self.source, line=line, field="month"))
                return
            self.summed.setdefault(pid, set()).update(x[0] for x in seen | {labels})
        self.cells[key] = self.cells.get(key, 0) + calls
        self.lines.setdefault(key, line)
        self.labels.setdefault(key, set()).add(labels)

    def cover(self, start: datetime, end: datetime, *, period: bool = True) -> None:
        """The rows cover [start, end): a charge `period` as the file gives it, or a day."""
        if period:
            self.monthly_dates = False      # periods say exactly what they cover
        self.first = start if self.first is None else min(self.first, start)
        self.last = end if self.last is None else max(self.last, end)

    def history(self, catalog: Catalog) -> History:
        self.problems.check()
        if not self.cells:
            listed = _unmapped_list(self._unmapped_totals())
            raise InputError("no usage of a catalog product in the file" +
                             (f": the rows name {listed}; add them to the catalog's "
                              f"aliases or a --map file" if listed else ""),
                             source=self.source, line=self.header_line + 1, field="product")
        start, end = min(self.months), max(self.months)
        n = end - start + 1
        products = [p.id for p in catalog.products if any(
            (p.id, start + i) in self.cells for i in range(n))]
        rounded = 0
        demand = []
        for pid in products:
            calls = []
            for i in range(n):
                total = self.cells.get((pid, start + i), 0)
                whole = int(Decimal(total).to_integral_value(ROUND_HALF_UP))
                rounded += whole != total
                if whole < 0:
                    self.problems.add(InputError(
                        f"the quantities of {pid} in {start + i} add up to {total}, below "
                        f"zero (corrections larger than the usage they correct)",
                        source=self.source, line=self.lines[(pid, start + i)],
                        field=self.calls_field))
                elif whole > MAX_CALLS:       # (the month's first row named: rows add up)
                    self.problems.add(InputError(
                        f"the calls of {pid} in {start + i} add up to {whole:,}, more than "
                        f"10^15, the most packopt takes", source=self.source,
                        line=self.lines[(pid, start + i)], field=self.calls_field))
                calls.append(whole)
            demand.append((pid, tuple(calls)))
        self.problems.check()
        usage = Forecast(start, n, tuple(demand), self.source)
        self._quantity_notes(rounded)
        for pid, labels in self.summed.items():
            self.notes.append(f"{self.source}: {pid}: the monthly rows of "
                              f"{', '.join(repr(x) for x in sorted(labels))} added up")
        self._new_product_notes(usage)
        self._gap_notes(usage)
        unmapped = self._unmapped_totals()
        if unmapped:
            total = sum(c for _, c in unmapped)
            self.notes.append(
                f"{self.source}: {len(unmapped)} label{'s map' if len(unmapped) > 1 else ' maps'} "
                f"{UNMAPPED_WORDS} ({total:,} calls not counted): "
                f"{_unmapped_list(unmapped, self.unmapped_lines, catalog)}; add them to the "
                f"catalog's aliases or a --map file")
        partial = self._partial(usage)
        return History(usage, partial, tuple(unmapped), tuple(self.notes))

    def _unmapped_totals(self) -> list[tuple[str, int]]:
        totals = [(label, int(Decimal(c).to_integral_value(ROUND_HALF_UP)))
                  for label, c in self.unmapped.items()]
        return sorted(totals, key=lambda lc: (-lc[1], lc[0]))

    def _quantity_notes(self, rounded: int) -> None:
        if self.negative:
            self.notes.append(f"{self.source}: {self.negative} row"
                              f"{'s' if self.negative > 1 else ''} with a negative quantity "
                              f"(corrections, refunds) netted against their product's month")
        if rounded:
            self.notes.append(f"{self.source}: {rounded} product-month total"
                              f"{'s' if rounded > 1 else ''} not a whole number of calls, "
                              f"rounded half up")

    def _gap_notes(self, usage: Forecast) -> None:
        """Months inside a product's rows with no row of it, read as 0: a month left out of
        the export, or a mistyped year (1024-06 among 2026's rows: 12,000 months of 0)."""
        for pid, _ in usage.demand:
            have = [i for i in range(usage.months) if (pid, usage.start + i) in self.cells]
            gaps = [usage.start + i for i in range(have[0], have[-1] + 1)
                    if (pid, usage.start + i) not in self.cells] if have else []
            if gaps:
                shown = ", ".join(str(m) for m in gaps[:6])
                more = f" and {len(gaps) - 6:,} more" if len(gaps) > 6 else ""
                self.notes.append(f"{self.source}: {pid} has no row for {shown}{more} "
                                  f"({len(gaps):,} month{'s' if len(gaps) > 1 else ''} "
                                  f"between its first and last, read as 0)")

    def _new_product_notes(self, usage: Forecast) -> None:
        """Months of a product read as 0 because the file's rows (of any label) reach
        before or after its own: a launch, or usage that stopped, or rows of another
        service in months this product has none (a forecast then starts from zeros)."""
        for pid, calls in usage.demand:
            first = next((i for i, c in enumerate(calls) if c), None)
            if first:
                self.notes.append(f"{self.source}: {pid} has no usage before "
                                  f"{usage.month(first)}; its months from {usage.start} "
                                  f"are 0")
            last = max((i for i, c in enumerate(calls) if c), default=None)
            if last is not None and last < usage.months - 1:
                self.notes.append(f"{self.source}: {pid} has no usage after "
                                  f"{usage.month(last)}; its months to {usage.end} are 0 "
                                  f"(the file's rows reach {usage.end})")

    def _partial(self, usage: Forecast) -> tuple[tuple[str, Month], ...]:
        """The first and last months the rows' dates do not cover whole, for every
        product, with a note on each."""
        if self.first is None:
            return ()
        if self.monthly_dates:
            self.notes.append(f"{self.source}: every date is the 1st of its month: read as "
                              f"monthly figures (no partial months told)")
            return ()
        months = []
        first_day = _first_instant(usage.start)
        if self.first > first_day:
            months.append(usage.start)
            self.notes.append(f"{self.source}: {usage.start} is partial: the rows start on "
                              f"{_when(self.first)}")
        end = _first_instant(usage.end + 1)
        if self.last < end and usage.end not in months:
            months.append(usage.end)
        if self.last < end:
            self.notes.append(f"{self.source}: {usage.end} is partial: the rows reach only "
                              f"{_until(self.last)}")
        return tuple((pid, m) for m in months for pid in usage.products())


def _first_instant(month: Month) -> datetime:
    """The month's first instant; past 9999-12 (Python's last date), the last instant
    there is, which no row's date reaches."""
    if month.ordinal // 12 > datetime.max.year:
        return datetime.max
    return datetime(month.ordinal // 12, month.ordinal % 12 + 1, 1)


def _when(moment: datetime) -> str:
    return moment.date().isoformat() if moment.time() == datetime.min.time() else \
        moment.isoformat(sep=" ")


def _until(end: datetime) -> str:
    """The end (exclusive) of the rows, as the last day they cover."""
    if end == datetime.max:
        return f"{end.date().isoformat()} (its whole day)"
    if end.time() == datetime.min.time():
        return f"{(end - timedelta(days=1)).date().isoformat()} (its whole day)"
    return f"{end.isoformat(sep=' ')}"


def _unmapped_list(unmapped, lines=None, catalog: Catalog | None = None) -> str:
    shown = []
    for label, calls in unmapped[:10]:
        text = f"'{label}' {calls:,}"
        extra = []
        if lines is not None:
            extra.append(f"line {lines[label]}")
        hint = catalog.suggest(label) if catalog is not None else None
        if hint:
            extra.append(f"did you mean '{hint}'?")
        shown.append(text + (f" ({', '.join(extra)})" if extra else ""))
    if len(unmapped) > 10:
        shown.append(f"and {len(unmapped) - 10} more")
    return "; ".join(shown)


# --------------------------------------------------------------------------- cells

def slash_day_first(values) -> bool:
    """How a column's `a/b/YYYY` dates are ordered: D/M/YYYY when some first field is above
    12, else M/D/YYYY (what US-locale Excel writes; the order months take on a tie)."""
    return any(int(m.group(1)) > 12 for v in values if (m := _SLASH.match(v.strip())))


def parse_moment(text: str, *, source: str, line: int, field_name: str,
                 day_is_first: bool = False) -> datetime:
    """A date, or a date and time (`2027-01-15`, `2027/1/15`, `20270115`, `2027年1月15日`,
    `1/15/2027` or `15/1/2027` as `day_is_first` says (`slash_day_first` of the column),
    `2027-01-15T10:30:00Z`, `2027-01-15 10:30`). A UTC offset is not applied: the date is
    the one written."""
    v = text.strip()
    m = _DATE.match(v)
    if m is None and (s := _SLASH.match(v)):
        a, b, y = s.groups()
        m, (mo, d) = s, ((b, a) if day_is_first else (a, b))
    elif m:
        g = m.groups()
        y, mo, d = (g[0], g[2], g[3]) if g[0] else (g[4], g[5], g[6]) if g[4] else g[7:10]
    if m:
        t = _TIME.fullmatch(v[m.end():])
        if t is not None:
            try:
                return datetime(int(y), int(mo), int(d), int(t.group(1) or 0),
                                int(t.group(2) or 0), int(t.group(3) or 0))
            except ValueError as e:
                raise InputError(f"'{v}' is not a date ({e})", source=source, line=line,
                                 field=field_name) from None
    if not v:
        raise InputError("the date is empty", source=source, line=line, field=field_name)
    why = ("it is a month without a day (monthly usage goes in a 'month' column, or "
           "--columns month=COL)" if _is_month(v) else
           "write it as YYYY-MM-DD, a time may follow (2027-01-15T10:30:00Z)")
    raise InputError(f"'{v}' is not a date: {why}", source=source, line=line,
                     field=field_name)


def _is_month(text: str) -> bool:
    try:
        to_month(text)
        return True
    except ValueError:
        return False


def parse_quantity(text: str, *, source: str, line: int, field_name: str) -> Decimal:
    """A decimal quantity from an export: a sign, a point and an exponent allowed;
    thousands separators are not (what `1,234` means depends on the locale)."""
    v = text.strip()
    if _NUMBER.fullmatch(v):
        try:
            d = Decimal(v)
        except ArithmeticError:     # an exponent past Decimal's own range (1e99999999999)
            raise InputError(f"'{v}' has an exponent out of range: write the quantity as a "
                             f"plain number", source=source, line=line,
                             field=field_name) from None
        if not too_large(d):
            return d
        raise InputError(too_large_words("quantity", v), source=source, line=line,
                         field=field_name)
    if not v:
        msg = "the quantity is empty"
    elif _THOUSANDS.fullmatch(v):
        msg = (f"'{v}' has thousands separators; write the plain number "
               f"{re.sub(r'[^0-9.+-]', '', v)}")
    else:
        msg = f"'{v}' is not a number"
    raise InputError(msg, source=source, line=line, field=field_name)


@functools.lru_cache(maxsize=256)
def unit_factor(unit: str) -> int | None:
    """Calls per unit of `unit` when it counts calls (`Requests`, `1000 Requests`,
    `1K Requests`, `1M Requests`, `Count`, `次`, `千次`; empty is read as calls), else
    None."""
    v = unicodedata.normalize("NFKC", unit).strip().casefold()
    if not v:
        return 1
    factor = 1
    m = re.match(r"(\d{1,15})\s*[x×*]?\s*", v)
    if m and m.end() < len(v):
        factor, v = int(m.group(1)), v[m.end():]
    for prefix, k in sorted(_CN_MULTIPLIERS.items(), key=lambda pk: -len(pk[0])):
        if v.startswith(prefix) and v[len(prefix):] in _CALL_UNITS:
            factor, v = factor * k, v[len(prefix):]
            break
    v = re.sub(r"[\s_\-]+", "", v)
    for prefix, k in sorted(_LATIN_MULTIPLIERS.items(), key=lambda pk: -len(pk[0])):
        if v.startswith(prefix) and v[len(prefix):] in _CALL_UNITS:
            factor, v = factor * k, v[len(prefix):]
            break
    return factor if factor > 0 and v in _CALL_UNITS else None


# --------------------------------------------------------------------------- headers

def _find_header(table: Table, test) -> int | None:
    """The index in `table.rows` of the first row (among the first HEADER_SEARCH) whose
    lower-cased, stripped cells pass `test`; rows above it are a bill's title lines."""
    for i, (_, row) in enumerate(table.rows[:HEADER_SEARCH]):
        if test({_fold(c) for c in row}):
            return i
    return None


def _plain_header(cells: set[str]) -> bool:
    """A monthly (long or wide) or daily history's header."""
    return "product" in cells and ({"month", "calls"} <= cells or {"date", "calls"} <= cells
                                   or any(looks_like_month(c) for c in cells - {"product"}))


def _column(header: list[str], name: str) -> int | None:
    """The column `name` in `header`: exactly, else ignoring case and spaces."""
    for c, h in enumerate(header):
        if h.strip() == name.strip():
            return c
    for c, h in enumerate(header):
        if alias_key(h) == alias_key(name):
            return c
    return None


def _skipped_title(table: Table, at: int, usage: _Usage) -> None:
    usage.header_line = table.rows[at][0]
    if at:
        first, last = table.rows[0][0], table.rows[at][0] - 1
        lines = f"line {first}" if first == last else f"lines {first} to {last}"
        usage.notes.append(f"{table.source}: {lines}, above the header (line {last + 1}), "
                           f"skipped")


def parse_columns(text: str) -> dict[str, str]:
    """`--columns` text as {key: column name}: `product` and `calls`, one of `month` and
    `date`, optionally `unit`."""
    def bad(msg):
        return InputError(msg + " (write --columns month=COL,product=COL,calls=COL; "
                          "date=COL instead of month= for dates; unit=COL optional)",
                          field="--columns")
    spec: dict[str, str] = {}
    for part in (p for p in text.split(",") if p.strip()):
        key, eq, col = part.partition("=")
        key = key.strip().lower()
        if not eq or not col.strip():
            raise bad(f"'{part.strip()}' is not KEY=COLUMN")
        if key not in COLUMN_KEYS:
            raise bad(f"unknown key '{key}' (known: {', '.join(COLUMN_KEYS)})")
        if key in spec:
            raise bad(f"'{key}' is given twice")
        glued = re.search(r"([^\w\s])\s*(" + "|".join(COLUMN_KEYS) + r")\s*=", col)
        if glued:
            raise bad(f"'{part.strip()}' holds two pairs: separate them with ',', "
                      f"not '{glued.group(1)}'")
        spec[key] = col.strip()
    missing = [k for k in ("product", "calls") if k not in spec]
    if missing:
        raise bad(f"'{missing[0]}' is missing")
    if ("month" in spec) == ("date" in spec):
        raise bad("give one of month= and date=")
    return spec


# --------------------------------------------------------------------------- formats

def _read_long(table: Table, usage: _Usage) -> None:
    """`product,month,calls` (in any order, with other columns ignored): one row per
    product and month, whole calls."""
    header = table.rows[0][1]
    head = [h.strip().lower() for h in header]
    cp, cm, cc = head.index("product"), head.index("month"), head.index("calls")
    _ignored(table, {cp, cm, cc}, usage)
    rows, totals = _data_rows(table, (cp, cm, cc), usage)
    order = day_first(row[cm] for _, row in rows + totals)
    src, p = table.source, usage.problems
    by_month: dict[Month, int] = {}
    for line, row in rows:
        month = p(_monthly_month, row[cm], source=src, line=line, order=order)
        calls = p(parse_count, row[cc], source=src, line=line, field_name="calls")
        if month is not None and calls is not None:
            usage.add(line, (row[cp],), row[cp], month, calls, unique=True)
            by_month[month] = by_month.get(month, 0) + calls
    for line, row in totals:
        checks = []
        if row[cc]:
            month = _month_or_none(row[cm], order)
            checks.append((f"for {month}" if month else "in all", row[cc],
                           by_month.get(month) if month else sum(by_month.values())))
        usage.notes.append(total_row_note(src, line, row[cp], checks))


def _monthly_month(text: str, *, source: str, line: int, order: bool | None) -> Month:
    """A month of a monthly file; a day's date says how daily rows are read instead."""
    try:
        return parse_month(text, source=source, line=line, day_is_first=order)
    except InputError as e:
        if _DATE.match(text.strip()):
            e.message += "; for daily rows name the column 'date' (product,date,calls)"
            raise InputError(e.message, source=source, line=line, field="month",
                             hint=e.hint) from None
        raise


def _read_wide(table: Table, usage: _Usage) -> None:
    """`product,YYYY-MM,...`: one row a product; an empty cell is 0 calls (a product not
    yet used)."""
    line0, header = table.rows[0]
    src, p = table.source, usage.problems
    months, total_col = _wide_header(header, line0, src, p)
    used = {0, *(c for c, _, _ in months)} | ({total_col} if total_col is not None else set())
    used |= {c for c, m in enumerate(month_headers(header)) if m}
    _ignored(table, used, usage)
    by_month: dict[Month, int] = {}
    seen: dict[str, int] = {}
    seen_labels: dict[str, set[tuple[str, ...]]] = {}
    for line, row in table.rows[1:]:
        if _too_wide(row, header, src, line, p):
            continue
        row = trim(row, len(header))
        row = row + [""] * (len(header) - len(row))
        if not row[0] or is_total(row[0]):
            checks = [(f"for {m}", row[c], by_month.get(m)) for c, _, m in months if row[c]]
            usage.notes.append(total_row_note(src, line, row[0], checks))
            continue
        # (by product: its id and its name are one row; else each month was a duplicate)
        key = usage.resolver.resolve((row[0],)) or row[0]
        if key in seen and not usage.resolver.adds_up(seen_labels[key], (row[0],)):
            as_named = f" ('{row[0]}')" if key != row[0] else ""
            p.add(InputError(f"duplicate row for {key}{as_named} (first given on line "
                             f"{seen[key]})", source=src, line=line, field="product"))
            continue
        seen.setdefault(key, line)
        seen_labels.setdefault(key, set()).add((row[0],))
        for c, h, month in months:
            calls = p(parse_count, row[c] or "0", source=src, line=line, field_name=h)
            if calls is not None:
                usage.add(line, (row[0],), row[0], month, calls, unique=True)
                by_month[month] = by_month.get(month, 0) + calls
    if total_col is not None:
        usage.notes.append(f"{src}: column '{header[total_col]}' skipped")


def _read_daily(table: Table, usage: _Usage) -> None:
    """`product,date,calls` (any order, other columns ignored): rows per day or per batch
    of calls, summed to months; dates with or without a time."""
    header = table.rows[0][1]
    head = [h.strip().lower() for h in header]
    cp, cd, cc = head.index("product"), head.index("date"), head.index("calls")
    _ignored(table, {cp, cd, cc}, usage)
    rows, totals = _data_rows(table, (cp, cd, cc), usage)
    src, p = table.source, usage.problems
    order = slash_day_first(row[cd] for _, row in rows)
    for line, row in rows:
        moment = p(parse_moment, row[cd], source=src, line=line, field_name="date",
                   day_is_first=order)
        calls = p(parse_count, row[cc], source=src, line=line, field_name="calls")
        if moment is not None and calls is not None:
            usage.add(line, (row[cp],), row[cp], Month.of(moment.year, moment.month), calls)
            _cover_day(usage, moment)
    for line, row in totals:
        usage.notes.append(total_row_note(src, line, row[cp], ()))


def _read_focus(table: Table, at: int, usage: _Usage) -> None:
    """A FOCUS export: Usage rows, by ChargePeriodStart's month, ConsumedQuantity in a
    call-like ConsumedUnit, the product by SkuId, ChargeDescription or ServiceName."""
    _skipped_title(table, at, usage)
    line0, header = table.rows[at]
    col = {name: _column(header, name) for name in (
        *FOCUS_REQUIRED, "ChargePeriodEnd", "ConsumedUnit", "ChargeClass", *FOCUS_LABELS)}
    labels = [col[n] for n in FOCUS_LABELS if col[n] is not None]
    shown = [col[n] for n in _FOCUS_SHOWN if col[n] is not None]
    if not labels:
        raise InputError("a FOCUS export needs a ServiceName, SkuId or ChargeDescription "
                         "column to tell the products apart", source=table.source,
                         line=line0, field="ServiceName")
    src, p = table.source, usage.problems
    usage.calls_field = header[col["ConsumedQuantity"]]
    cat, start, end, qty, unit, cls = (col["ChargeCategory"], col["ChargePeriodStart"],
                                       col["ChargePeriodEnd"], col["ConsumedQuantity"],
                                       col["ConsumedUnit"], col["ChargeClass"])
    other: Counter = Counter()
    empty, corrections = 0, 0
    odd_units: dict[tuple[str, str], list] = {}
    moments: dict[str, datetime] = {}       # an export repeats its periods row after row

    def when(text: str, line: int, c: int) -> datetime | None:
        if text not in moments:
            moment = p(parse_moment, text, source=src, line=line, field_name=header[c])
            if moment is None:
                return None
            moments[text] = moment
        return moments[text]

    for line, row in table.rows[at + 1:]:
        if _too_wide(row, header, src, line, p):
            continue                    # (an unquoted 1,234 shifts every column after it)
        row = row + [""] * (len(header) - len(row))
        category = row[cat].strip()
        if category.lower() != "usage":
            other[category or "(empty)"] += 1
            continue
        if not row[qty].strip():
            empty += 1                  # FOCUS: null unless the usage is billed
            continue
        began = when(row[start], line, start)
        ended = when(row[end], line, end) if end is not None and row[end].strip() else None
        amount = p(parse_quantity, row[qty], source=src, line=line, field_name=header[qty])
        if began is None or amount is None or (end is not None and row[end].strip()
                                               and ended is None):
            continue
        if ended is not None and ended < began:
            p.add(InputError(f"the period ends ({row[end].strip()}) before it starts "
                             f"({row[start].strip()})", source=src, line=line,
                             field=header[end]))
            continue
        label = " / ".join(row[c] for c in shown if row[c].strip()) or "(no label)"
        factor = unit_factor(row[unit]) if unit is not None else 1
        if factor is None:
            entry = odd_units.setdefault((row[unit].strip(), label), [0, line])
            entry[0] += amount
            continue
        if cls is not None and row[cls].strip().lower() == "correction":
            corrections += 1
        usage.add(line, tuple(row[c] for c in labels), label,
                  Month.of(began.year, began.month), amount * factor)
        if ended is not None and ended > began:
            usage.cover(began, _exclusive(ended))
        else:       # (no end, or one equal to the start: a date-only export's day)
            _cover_day(usage, began)
    counted = sum(1 for _ in table.rows[at + 1:]) - sum(other.values())
    note = f"{src}: read as a FOCUS export, {counted:,} Usage row{'s' if counted != 1 else ''}"
    if other:
        note += "; skipped other charge categories: " + ", ".join(
            f"{k} {v:,}" for k, v in sorted(other.items()))
    if empty:
        note += f"; {empty:,} Usage rows without ConsumedQuantity skipped"
    if corrections:
        note += (f"; {corrections:,} correction{'s' if corrections > 1 else ''} "
                 f"(ChargeClass) counted in {'their' if corrections > 1 else 'its'} month")
    usage.notes.append(note)
    _unit_notes(src, odd_units, usage)


def _read_columns(table: Table, spec: dict[str, str], usage: _Usage) -> None:
    """Any export through `--columns`: the named columns, found in the first row that has
    them all (a bill's title lines above it are skipped)."""
    names = list(spec.values())
    at = _find_header(table, lambda h: all(
        any(alias_key(n) == alias_key(c) for c in h) for n in names))
    if at is None:      # blame the row that has most of them
        line0, header = max(table.rows[:HEADER_SEARCH], key=lambda lr: sum(
            _column(lr[1], n) is not None for n in names))
        missing = next(n for n in names if _column(header, n) is None)
        shown = ", ".join(f"'{h}'" for h in header if h)
        raise InputError(f"no column '{missing}' (named in --columns) in the header "
                         f"(its columns: {shown})", source=table.source, line=line0,
                         field=missing)
    _skipped_title(table, at, usage)
    line0, header = table.rows[at]
    col = {k: _column(header, n) for k, n in spec.items()}
    src, p = table.source, usage.problems
    cp, cc, cu = col["product"], col["calls"], col.get("unit")
    usage.calls_field = header[cc]
    rows = table.rows[at + 1:]
    order = day_first(r[col["month"]] for _, r in rows
                      if "month" in col and col["month"] < len(r))
    dates_order = "date" in col and slash_day_first(
        r[col["date"]] for _, r in rows if col["date"] < len(r))
    odd_units: dict[tuple[str, str], list] = {}
    for line, row in rows:
        if _too_wide(row, header, src, line, p):
            continue
        row = row + [""] * (len(header) - len(row))
        if not row[cp].strip() or is_total(row[cp]):
            label = next((c for c in row if is_total(c)), row[cp])
            usage.notes.append(total_row_note(src, line, label, ()))
            continue
        amount = p(parse_quantity, row[cc], source=src, line=line, field_name=header[cc])
        if "month" in col:
            month = p(_export_month, row[col["month"]], source=src, line=line,
                      field_name=header[col["month"]], order=order)
            moment = None
        else:
            moment = p(parse_moment, row[col["date"]], source=src, line=line,
                       field_name=header[col["date"]], day_is_first=dates_order)
            month = Month.of(moment.year, moment.month) if moment is not None else None
        if amount is None or month is None:
            continue
        factor = unit_factor(row[cu]) if cu is not None else 1
        if factor is None:
            entry = odd_units.setdefault((row[cu].strip(), row[cp]), [0, line])
            entry[0] += amount
            continue
        usage.add(line, (row[cp],), row[cp], month, amount * factor)
        if moment is not None:
            _cover_day(usage, moment)
    _unit_notes(src, odd_units, usage)


def _export_month(text: str, *, source: str, line: int, field_name: str,
                  order: bool | None) -> Month:
    """A month cell of an export: any month form, else a date or date-time's month."""
    try:
        return to_month(text, day_is_first=order)
    except ValueError:
        pass
    try:
        moment = parse_moment(text, source=source, line=line, field_name=field_name)
    except InputError:
        return parse_month(text, source=source, line=line, field_name=field_name,
                           day_is_first=order)
    return Month.of(moment.year, moment.month)


# --------------------------------------------------------------------------- helpers

def _unit_notes(source: str, odd_units: dict, usage: _Usage) -> None:
    """A note for each label used in a unit that does not count calls, with its total."""
    for (unit_text, label), (amount, line) in odd_units.items():
        usage.notes.append(f"{source}: usage of '{label}' in '{unit_text}' (not a count of "
                           f"calls) skipped: {amount.normalize():f} in all, first on line "
                           f"{line}")


LAST_MINUTE = time(23, 59)      # an end within it stands for the next midnight (`_exclusive`)


def _exclusive(end: datetime) -> datetime:
    """A period's end as FOCUS means it, the first instant after it: an end in a day's
    last minute (23:59:59, as some exports write an inclusive end) is the next midnight, so
    a month whose rows run to its last second is not taken for partial."""
    if end.time() >= LAST_MINUTE and end.date() < datetime.max.date():
        return datetime.combine(end.date() + timedelta(days=1), datetime.min.time())
    return end


def _cover_day(usage: _Usage, moment: datetime) -> None:
    """A dated row covers its whole day (a row dated the 1st may stand for its month)."""
    day = datetime.combine(moment.date(), datetime.min.time())
    usage.monthly_dates &= moment.day == 1 and moment == day
    # (the day after 9999-12-31 is past Python's dates: its last instant stands for it)
    end = day + timedelta(days=1) if day.date() < datetime.max.date() else datetime.max
    usage.cover(day, end, period=False)


def _ignored(table: Table, used: set[int], usage: _Usage) -> None:
    header = table.rows[0][1]
    names = [h for c, h in enumerate(header) if c not in used and h]
    if names:
        usage.notes.append(ignored_columns_note(table.source, names))


def _data_rows(table: Table, cols: tuple[int, ...], usage: _Usage):
    """The data rows, padded to reach every column of `cols`, and the total rows
    (`Total`/`合计`, or no product) apart; a short row's empty cells are refused by the
    cell parsers, each with its field."""
    need = max(cols) + 1
    rows, totals = [], []
    header = table.rows[0][1]
    for line, row in table.rows[1:]:
        if _too_wide(row, header, table.source, line, usage.problems):
            continue
        row = row + [""] * (need - len(row))
        (totals if not row[cols[0]] or is_total(row[cols[0]]) else rows).append((line, row))
    return rows, totals


def _too_wide(row: list[str], header: list[str], source: str, line: int,
              problems: Problems) -> bool:
    """Whether a row has more fields than the header (an unquoted 25,000 splits in two:
    say so), recorded as a problem."""
    width = len(trim(row, len(header)))
    if width <= len(header):
        return False
    hint = ("; a number with thousands separators (25,000) splits into two fields: write "
            "it plainly (25000)" if any(re.fullmatch(r"\d{3}", c) for c in row[1:]) else "")
    problems.add(InputError(f"expected {len(header)} fields as in the header, found "
                            f"{width}{hint}", source=source, line=line, field="row"))
    return True


def _month_or_none(text: str, order: bool | None) -> Month | None:
    try:
        return to_month(text, day_is_first=order)
    except ValueError:
        return None
