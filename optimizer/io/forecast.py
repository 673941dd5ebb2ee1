"""Forecast CSV, long (`product,month,calls`) or wide (`product,YYYY-MM,...`), read into a
`Forecast` whose products all cover one contiguous run of months."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from ..domain.catalog import Catalog
from ..domain.months import Month
from ..domain.records import Forecast
from ..exceptions import InputError
from .text import csv_rows, parse_count, parse_month, read_text, resolve_product


def parse_forecast(text: str, catalog: Catalog, source: str = "forecast") -> Forecast:
    """Read a long (`product,month,calls`) or wide (`product,YYYY-MM,...`) forecast CSV."""
    rows = csv_rows(text, source, "forecast")
    line0, header = rows[0]
    head = [h.lower() for h in header]
    cells: dict[tuple[str, Month], tuple[int, int]] = {}   # (pid, month) -> (calls, line)
    first_line: dict[str, int] = {}

    def put(pid: str, month: Month, calls: int, line: int, fld: str):
        if (pid, month) in cells:
            raise InputError(f"duplicate row for {pid} {month} (first given on line "
                             f"{cells[(pid, month)][1]})", source=source, line=line, field=fld)
        cells[(pid, month)] = (calls, line)
        first_line.setdefault(pid, line)

    if head == ["product", "month", "calls"]:
        for line, row in rows[1:]:
            if len(row) > 3 and re.fullmatch(r"\d{1,3}(,\d{3})+", ",".join(row[2:])):
                # an unquoted 25,000 splits into two CSV fields: say what happened
                parse_count(",".join(row[2:]), source=source, line=line, field_name="calls")
            if len(row) != 3:
                raise InputError(f"expected 3 fields (product,month,calls), found {len(row)}",
                                 source=source, line=line,
                                 field="calls" if len(row) < 3 else "row")
            prod = resolve_product(catalog, row[0], source=source, line=line)
            month = parse_month(row[1], source=source, line=line)
            calls = parse_count(row[2], source=source, line=line, field_name="calls")
            put(prod.id, month, calls, line, "month")
    elif head and head[0] == "product" and len(head) > 1:
        months = []
        for col, h in enumerate(header[1:], start=2):
            try:
                months.append(Month.parse(h))
            except ValueError:
                if col == 2 and h.lower() in ("month", "calls"):
                    # a long-form header gone wrong: name its first wrong (or missing) column
                    want = ["product", "month", "calls"]
                    bad = next((c for c, w in zip(header, want) if c.lower() != w), None)
                    bad = bad or (header[3] if len(header) > 3 else want[len(header)])
                    raise InputError("header must be exactly product,month,calls (long form) or "
                                     "product,YYYY-MM,... (wide form)", source=source,
                                     line=line0, field=bad) from None
                raise InputError(f"column header '{h}' is not a month in the form YYYY-MM",
                                 source=source, line=line0, field=h) from None
        if len(set(months)) != len(months):
            dup = next(m for m in months if months.count(m) > 1)
            raise InputError(f"month {dup} appears twice in the header", source=source,
                             line=line0, field=str(dup))
        for line, row in rows[1:]:
            if len(row) != len(header):
                hint = ("; a number with thousands separators (25,000) splits into two "
                        "fields: write it plainly (25000)"
                        if len(row) > len(header) and any(re.fullmatch(r"\d{3}", c)
                                                          for c in row[2:]) else "")
                raise InputError(f"expected {len(header)} fields as in the header, "
                                 f"found {len(row)}{hint}", source=source, line=line,
                                 field=header[min(len(row), len(header) - 1)])
            prod = resolve_product(catalog, row[0], source=source, line=line)
            for h, month, v in zip(header[1:], months, row[1:]):
                calls = parse_count(v, source=source, line=line, field_name=h)
                put(prod.id, month, calls, line, "product")
    else:
        raise InputError("header must be product,month,calls (long form) or "
                         "product,YYYY-MM,YYYY-MM,... (wide form)",
                         source=source, line=line0, field=header[0] if header else "header")

    return assemble_forecast(cells, first_line, catalog, source, line0)


def assemble_forecast(cells: dict, first_line: dict, catalog: Catalog, source: str,
                      header_line: int) -> Forecast:
    """A Forecast from (product, month) -> (calls, line) cells, checking the horizon.

    Every product must cover the same contiguous run of months.
    """
    line0 = header_line
    if not cells:
        raise InputError("the forecast has a header but no data rows", source=source,
                         line=line0 + 1, field="product")
    all_months = sorted({m for _, m in cells})
    start, end = all_months[0], all_months[-1]
    n = end - start + 1
    for pid in first_line:
        for i in range(n):
            m = start + i
            if (pid, m) not in cells:
                raise InputError(f"no calls given for {pid} in {m}: every product must cover "
                                 f"every month from {start} to {end}", source=source,
                                 line=first_line[pid], field="month")
    order = [p.id for p in catalog.products if p.id in first_line]
    demand = tuple((pid, tuple(cells[(pid, start + i)][0] for i in range(n))) for pid in order)
    return Forecast(start, n, demand, source)


def read_forecast(path: str | Path, catalog: Catalog) -> Forecast:
    return parse_forecast(read_text(path, "forecast"), catalog, str(path))


EXAMPLE_FORECAST = "data/example_forecast.csv"


def example_forecast(catalog: Catalog) -> Forecast:
    """The bundled 9-product example forecast (what `plan` and `whatif` use without one)."""
    text = resources.files("optimizer").joinpath(EXAMPLE_FORECAST).read_text("utf-8")
    return parse_forecast(text, catalog, "bundled example forecast")
