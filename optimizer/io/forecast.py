"""Forecast files, long (`product,month,calls`) or wide (`product,YYYY-MM,...`), as CSV
or as a workbook sheet, read into a `Forecast` whose products all cover one contiguous run
of months.

Every bad cell of a file is reported in one InputError. Extra columns are ignored with a
note; `Total`/`合计` rows, rows without a product and a wide file's `Total` column are
skipped with a note, and their figures are checked against the products' sums (a mismatch
is a warning in the note). Notes go to the `notes` list the caller passes.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..domain.catalog import Catalog
from ..domain.months import Month
from ..domain.records import Forecast
from ..exceptions import InputError
from .months import day_first, month_headers, to_month
from .text import (
    PLAIN_DIGITS,
    Problems,
    Table,
    below_title,
    blank_product_error,
    bundled_text,
    csv_rows,
    ignored_columns_note,
    is_total,
    parse_count,
    parse_month,
    read_figure,
    read_table,
    resolve_product,
    total_row_note,
    trim,
    wrong_column,
)

LONG = ["product", "month", "calls"]
_SPLIT_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+", re.A)


def parse_forecast(text: str, catalog: Catalog, source: str = "forecast", *,
                   notes: list[str] | None = None) -> Forecast:
    """Read a long (`product,month,calls`) or wide (`product,YYYY-MM,...`) forecast CSV
    (comma, semicolon or tab separated); notes on what was skipped go to `notes`."""
    return forecast_from_table(Table(source, csv_rows(text, source, "forecast")), catalog,
                               notes)


def read_forecast(path: str | Path, catalog: Catalog, *, sheet: str | None = None,
                  notes: list[str] | None = None) -> Forecast:
    """A forecast from a CSV file or a workbook (its first sheet, or `sheet`)."""
    return forecast_from_table(read_table(path, "forecast", sheet=sheet), catalog, notes)


def forecast_from_table(table: Table, catalog: Catalog,
                        notes: list[str] | None = None) -> Forecast:
    notes = [] if notes is None else notes
    table, _ = below_title(table, lambda row: len(row) > 1 and
                           row[0].strip().lower() == "product")
    notes.extend(table.notes)
    rows, source = table.rows, table.source
    line0, header = rows[0]
    head = [h.lower() for h in header]
    if head[:3] != LONG and all(head.count(name) == 1 for name in LONG) and all(head):
        # The long form's columns in another order (month,calls,product, as `forecast`
        # reads a history): read as product,month,calls, the other columns after them.
        # (Not with an empty header cell: a column left out shifts the names.)
        order = [head.index(name) for name in LONG] + \
            [c for c, h in enumerate(head) if h not in LONG]
        rows = [(line, [row[c] if c < len(row) else "" for c in order] + row[len(head):])
                for line, row in rows]
        line0, header = rows[0]
        head = [h.lower() for h in header]
    if head[:3] == LONG:
        return _long_form(rows, catalog, source, notes)
    if head and head[0] == "product" and len(head) > 1:
        if head[1] in ("month", "calls") or head[2:3] == ["calls"]:
            # a long-form header gone wrong: name its first wrong (or missing) column
            raise InputError("header must be exactly product,month,calls (long form) or "
                             "product,YYYY-MM,... (wide form)", source=source, line=line0,
                             field=wrong_column(header, LONG))
        return _wide_form(rows, catalog, source, notes)
    raise InputError("header must be product,month,calls (long form) or "
                     "product,YYYY-MM,YYYY-MM,... (wide form)",
                     source=source, line=line0,
                     field=(header[0] or "column 1 (empty)") if header else "header",
                     hint=table.sheet_hint())


def _extra_columns(header: list[str], rows, used: set[int], source: str,
                   notes: list[str]) -> None:
    """A note naming the columns not read (unnamed ones only when they hold something)."""
    names = []
    for col, h in enumerate(header):
        if col in used:
            continue
        if h:
            names.append(h)
        elif any(col < len(r) and r[col] for _, r in rows[1:]):
            names.append(f"column {col + 1} (no header)")
    if names:
        notes.append(ignored_columns_note(source, names))


def _long_form(rows, catalog: Catalog, source: str, notes: list[str]) -> Forecast:
    line0, header = rows[0]
    problems = Problems()
    data, totals = _long_rows(rows, source, problems)
    _extra_columns(header, rows, {0, 1, 2}, source, notes)
    order = day_first(row[1] for _, row in data + totals)
    cells, first_line, seen, unplaced = _long_cells(data, catalog, source, order, problems)
    if not data:
        # Every row lacks its product: not a total of nothing, but data without products.
        for line, row in totals:
            if not row[0] and row[2]:
                problems.add(InputError("no product given (and no row with one for this to "
                                        "be their total)", source=source, line=line,
                                        field="product"))
    if unplaced or not cells:
        problems.check()
    # (a missing month reported with the other problems: it came one run later)
    forecast = assemble_forecast(cells, first_line, catalog, source, line0, problems, seen)
    for line, row in totals:
        checks = []
        if row[2]:
            month = _month_or_none(row[1], order)
            if not row[1]:
                checks.append(("in all", row[2], sum(sum(c) for _, c in forecast.demand)))
            elif month is None:
                checks.append((f"for '{row[1]}'", row[2], None))
            else:
                checks.append((f"for {month}", row[2], _month_sum(forecast, month)))
        _total_row(source, line, row[0], checks, notes, problems)
    problems.check()
    return forecast


def _long_rows(rows, source: str, problems: Problems) -> tuple[list, list]:
    """A long file's rows as (data rows, total rows), each (line, cells); rows of the wrong
    width go to `problems`."""
    header = rows[0][1]
    width = len(header)
    data, totals = [], []
    total_label: dict[str, bool] = {}          # label -> is_total(label), asked once
    for line, row in rows[1:]:
        if len(row) > width:
            row = trim(row, width)
        if len(row) > width:
            joined = ",".join(row[2:3 + len(row) - width])
            if _SPLIT_THOUSANDS.fullmatch(joined):
                # an unquoted 25,000 splits into two CSV fields: say what happened
                problems(parse_count, joined, source=source, line=line, field_name="calls")
            else:
                problems.add(InputError(f"expected {width} fields ({','.join(header)}), "
                                        f"found {len(row)}", source=source, line=line,
                                        field="row"))
        elif len(row) < 3:
            problems.add(InputError(f"expected {'at least ' if width > 3 else ''}3 fields "
                                    f"(product,month,calls), found {len(row)}", source=source,
                                    line=line, field="calls"))
        else:
            total = total_label.get(row[0])
            if total is None:
                total = total_label[row[0]] = not row[0] or is_total(row[0])
            (totals if total else data).append((line, row))
    return data, totals


def _long_cells(data, catalog: Catalog, source: str, order, problems: Problems):
    """The data rows read into (product, month) -> (calls, line) cells: (cells, each
    product's first line, the (product, month) of every row whose product and month were
    read, whether some row's product or month was not). Bad cells go to `problems`."""
    cells: dict[tuple[str, Month], tuple[int, int]] = {}   # (pid, month) -> (calls, line)
    first_line: dict[str, int] = {}
    # A product's and a month's text read once (the errors, though, on every line).
    products: dict[str, object] = {}
    month_of: dict[str, Month] = {}
    seen: dict = {}             # (pid, month) -> line, of rows whose calls may be bad
    unplaced = False            # a row whose product or month is unreadable
    for line, row in data:
        key, text, count = row[0], row[1], row[2]
        prod = products.get(key)
        if prod is None:
            prod = problems(resolve_product, catalog, key, source=source, line=line)
            if prod is not None:
                products[key] = prod
        month = month_of.get(text)
        if month is None:
            month = problems(parse_month, text, source=source, line=line, day_is_first=order)
            if month is not None:
                month_of[text] = month
        if count.isascii() and count.isdecimal() and len(count) <= PLAIN_DIGITS:
            calls = int(count)          # plain digits, what parse_count reads so
        else:
            calls = problems(parse_count, count, source=source, line=line,
                             field_name="calls")
        if prod is None or month is None:
            unplaced = True
            continue
        # (a row whose calls are bad still places its product and month: a duplicate of
        # it, and the months missing around it, are told in the same message)
        where = (prod.id, month)
        if where in seen:
            problems.add(InputError(f"duplicate row for {prod.id} {month} (first given on "
                                    f"line {seen[where]})", source=source,
                                    line=line, field="month"))
            continue
        seen[where] = line
        first_line.setdefault(prod.id, line)
        if calls is not None:
            cells[where] = (calls, line)
    return cells, first_line, set(seen), unplaced


def _total_row(source: str, line: int, label: str, checks, notes: list[str],
               problems: Problems) -> None:
    """A skipped total row's note, or, for a row with no product that is no total, its
    error (text.blank_product_error)."""
    error = None if label else blank_product_error(source, line, checks)
    if error is None:
        notes.append(total_row_note(source, line, label, checks))
    else:
        problems.add(error)


def _wide_form(rows, catalog: Catalog, source: str, notes: list[str]) -> Forecast:
    """A wide file (`product,YYYY-MM,...`): the header names the months, one row a product.

    Split into header, rows and totals steps so each stays readable; every problem of the
    header and the rows is still reported together by the one `Problems`.
    """
    line0, header = rows[0]
    problems = Problems()
    months, total_col = _wide_header(header, line0, source, problems)
    if not months and not problems:
        raise InputError("header must be product,month,calls (long form) or "
                         "product,YYYY-MM,YYYY-MM,... (wide form)", source=source,
                         line=line0, field=header[1] or "column 2 (empty)")
    used = {0, *(c for c, _, _ in months)} | ({total_col} if total_col is not None else set())
    used |= {c for c, m in enumerate(month_headers(header)) if m}   # bad months
    _extra_columns(header, rows, used, source, notes)
    by_product, first_line, totals, row_totals = _wide_rows(rows, months, total_col, catalog,
                                                            source, problems)
    problems.check()
    forecast = _wide_forecast(by_product, months, first_line, catalog, source, line0)
    if total_col is not None:
        notes.append(_total_column_note(source, header[total_col], row_totals))
    _wide_total_rows(totals, months, total_col, forecast, source, notes, problems)
    problems.check()
    return forecast


def _wide_header(header: list[str], line0: int, source: str,
                 problems: Problems) -> tuple[list[tuple[int, str, Month]], int | None]:
    """The month columns of a wide header as (column, header, month), and its first Total
    column. Bad or repeated months go to `problems`; other columns are left to the note on
    extra columns."""
    marks = month_headers(header)
    order = day_first(h for h, m in zip(header[1:], marks[1:]) if m)
    months: list[tuple[int, str, Month]] = []           # (column, header, month)
    total_col = None
    for col, h in enumerate(header[1:], start=1):
        if not h or (not marks[col] and not is_total(h)):
            continue                                    # an extra column: noted below
        if is_total(h):
            total_col = col if total_col is None else total_col
            continue
        month = problems(parse_month, h, source=source, line=line0, field_name=h,
                         day_is_first=order)
        if month is None:
            continue
        twice = next((k for _, k, m in months if m == month), None)
        if twice is not None:
            problems.add(InputError(f"month {month} appears twice in the header (also as "
                                    f"'{twice}')" if twice != h else
                                    f"month {month} appears twice in the header",
                                    source=source, line=line0, field=h))
            continue
        months.append((col, h, month))
    ordinals = sorted(m.ordinal for _, _, m in months)
    for a, b in zip(ordinals, ordinals[1:]):
        if b - a > 1:
            # (else each product's row was blamed for the month no column names)
            gap = f"{Month(a + 1)}" + (f" to {Month(b - 1)}" if b - a > 2 else "")
            problems.add(InputError(
                f"the header has no column for {gap} (between {Month(a)} and {Month(b)}): "
                f"every month of the horizon needs one", source=source, line=line0,
                field=next(h for _, h, m in months if m.ordinal == b)))
    return months, total_col


def _wide_rows(rows, months: list[tuple[int, str, Month]], total_col: int | None,
               catalog: Catalog, source: str, problems: Problems):
    """Read a wide file's data rows into (product, month) -> (calls, line) cells.

    Returns the cells, each product's line, the Total rows (checked once the forecast is
    assembled) and each row's Total-column figure beside its months' sum. Problems go to
    `problems`.
    """
    header = rows[0][1]
    need = max(c for c, m in enumerate(month_headers(header)) if m) + 1
    cols = [col for col, _, _ in months]
    by_product: dict[str, list[int]] = {}      # product -> calls, in the header's order
    first_line: dict[str, int] = {}
    totals, row_totals = [], []
    for line, row in rows[1:]:
        row = trim(row, len(header))
        if len(row) > len(header) or len(row) < need:
            problems.add(_wide_width_error(row, header, source, line))
            continue
        row = row + [""] * (len(header) - len(row))
        if not row[0] or is_total(row[0]):
            totals.append((line, row))
            continue
        prod = problems(resolve_product, catalog, row[0], source=source, line=line)
        if prod is not None and prod.id in first_line:
            problems.add(InputError(f"duplicate row for {prod.id} (first given on line "
                                    f"{first_line[prod.id]})", source=source, line=line,
                                    field="product"))
            continue
        texts = [row[col] for col in cols]
        if all(texts) and (joined := "".join(texts)).isascii() and joined.isdecimal() and \
                max(map(len, texts)) <= PLAIN_DIGITS:
            values = list(map(int, texts))      # plain digits, what parse_count reads so
        else:
            values = [problems(parse_count, row[col], source=source, line=line, field_name=h)
                      for col, h, _ in months]
        if prod is None or None in values:
            continue
        first_line[prod.id] = line
        by_product[prod.id] = values
        if total_col is not None and row[total_col]:
            row_totals.append((line, prod.id, row[total_col], sum(values)))
    return by_product, first_line, totals, row_totals


def _wide_forecast(by_product: dict[str, list[int]], months, first_line: dict,
                   catalog: Catalog, source: str, line0: int) -> Forecast:
    """The Forecast of a wide file's rows: straight from the rows when the header's months
    are one contiguous run (every product then covers every month), else through
    `assemble_forecast`, which names each product's missing months."""
    ordinals = sorted(m.ordinal for _, _, m in months)
    if by_product and ordinals == list(range(ordinals[0], ordinals[0] + len(ordinals))):
        order = sorted(range(len(months)), key=lambda k: months[k][2].ordinal)
        same = order == list(range(len(order)))
        demand = tuple((p.id, tuple(v) if same else tuple(v[k] for k in order))
                       for p in catalog.products if (v := by_product.get(p.id)) is not None)
        return Forecast(Month(ordinals[0]), len(ordinals), demand, source)
    cells = {(pid, month): (calls, first_line[pid]) for pid, values in by_product.items()
             for (_, _, month), calls in zip(months, values)}
    return assemble_forecast(cells, first_line, catalog, source, line0)


def _wide_width_error(row: list[str], header: list[str], source: str,
                      line: int) -> InputError:
    """A row with more or fewer fields than the header; an unquoted 25,000 split in two
    is the usual cause of one too many, so say so."""
    hint = ("; a number with thousands separators (25,000) splits into two "
            "fields: write it plainly (25000)"
            if len(row) > len(header) and any(re.fullmatch(r"\d{3}", c)
                                              for c in row[2:]) else "")
    return InputError(f"expected {len(header)} fields as in the header, "
                      f"found {len(row)}{hint}", source=source, line=line,
                      field=header[min(len(row), len(header) - 1)])


def _total_column_note(source: str, name: str, row_totals) -> str:
    """The note on a skipped Total column: a warning for each row whose figure is not
    the sum of its months (or cannot be read), else that it matches."""
    wrong = [f"line {line} gives {given} for {pid}, but its months add up to {expected}"
             for line, pid, given, expected in row_totals
             if read_figure(given) not in (None, expected)]
    unread = [(line, given) for line, _, given, _ in row_totals if read_figure(given) is None]
    if unread:
        wrong.append(f"{len(unread)} of its figures cannot be read (line {unread[0][0]}: "
                     f"{unread[0][1]!r})")
    note = f"{source}: column '{name}' skipped"
    if wrong:
        note += "; warning: " + "; ".join(wrong)
    elif row_totals:
        note += " (it matches each row's sum)"
    return note


def _wide_total_rows(totals, months: list[tuple[int, str, Month]], total_col: int | None,
                     forecast: Forecast, source: str, notes: list[str],
                     problems: Problems) -> None:
    """A note for each skipped Total row, its figures checked against the forecast's
    month sums (and its Total-column figure against the grand total); an error for a row
    with no product that is no total."""
    grand = sum(sum(c) for _, c in forecast.demand)
    for line, row in totals:
        checks = [(f"for {month}", row[col], _month_sum(forecast, month))
                  for col, _, month in months if row[col]]
        if total_col is not None and row[total_col]:
            checks.append(("in all", row[total_col], grand))
        _total_row(source, line, row[0], checks, notes, problems)


def _month_or_none(text: str, order: bool | None) -> Month | None:
    try:
        return to_month(text, day_is_first=order)
    except ValueError:
        return None


def _month_sum(forecast: Forecast, month: Month) -> int | None:
    i = month - forecast.start
    if not 0 <= i < forecast.months:
        return None
    return sum(calls[i] for _, calls in forecast.demand)


def assemble_forecast(cells: dict, first_line: dict, catalog: Catalog, source: str,
                      header_line: int, problems: Problems | None = None,
                      seen: set = frozenset()) -> Forecast:
    """A Forecast from (product, month) -> (calls, line) cells, checking the horizon.

    Every product must cover the same contiguous run of months; each product's missing
    months are reported together, with the file's other `problems` when given (`seen`:
    the (product, month) of rows whose calls were bad, not missing).
    """
    line0 = header_line
    if not cells:
        raise InputError("the forecast has a header but no data rows", source=source,
                         line=line0 + 1, field="product")
    by_product: dict[str, dict[int, int]] = {}     # product -> month ordinal -> calls
    for (pid, month), (calls, _) in cells.items():
        got = by_product.get(pid)
        if got is None:
            got = by_product[pid] = {}
        got[month.ordinal] = calls
    lo = min(min(got) for got in by_product.values())
    hi = max(max(got) for got in by_product.values())
    if seen:        # (the months of rows whose calls were bad count for the horizon)
        lo = min(lo, min(month.ordinal for _, month in seen))
        hi = max(hi, max(month.ordinal for _, month in seen))
    start, end, n = Month(lo), Month(hi), hi - lo + 1
    span = range(lo, hi + 1)
    problems = Problems() if problems is None else problems
    for pid in first_line:
        got = by_product.get(pid, {})
        missing = [Month(o) for o in span if o not in got and (pid, Month(o)) not in seen] \
            if len(got) < n else []
        if missing:
            listed = ", ".join(str(m) for m in missing[:3]) + (
                f" and {len(missing) - 3} more" if len(missing) > 3 else "")
            problems.add(InputError(f"no calls given for {pid} in {listed}: every product "
                                    f"must cover every month from {start} to {end}",
                                    source=source, line=first_line[pid], field="month"))
    problems.check()
    order = [p.id for p in catalog.products if p.id in first_line]
    demand = tuple((pid, tuple(map(by_product[pid].__getitem__, span))) for pid in order)
    return Forecast(start, n, demand, source)


EXAMPLE_FORECAST = "example_forecast.csv"


def example_forecast(catalog: Catalog) -> Forecast:
    """The bundled 9-product example forecast (what `plan` and `whatif` use without one)."""
    text = bundled_text(EXAMPLE_FORECAST)
    return parse_forecast(text, catalog, "bundled example forecast")
