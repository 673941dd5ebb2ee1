"""Packs already owned: `product,expires,calls_left`, as CSV or a workbook sheet."""

from __future__ import annotations

from pathlib import Path

from ..domain.catalog import Catalog
from ..domain.records import Holding
from ..exceptions import InputError
from .months import day_first
from .text import (
    SHEET_IN_PATH,
    Problems,
    Table,
    csv_rows,
    data_rows,
    ignored_columns_note,
    parse_count,
    parse_month,
    read_table,
    resolve_product,
    wrong_column,
)

HEADER = ["product", "expires", "calls_left"]


def parse_holdings(text: str, catalog: Catalog, source: str = "holdings", *,
                   notes: list[str] | None = None) -> tuple[Holding, ...]:
    """Packs already owned: CSV `product,expires,calls_left` (expires = last usable month)."""
    return holdings_from_table(Table(source, csv_rows(text, source, "holdings")), catalog,
                               notes)


def holdings_from_table(table: Table, catalog: Catalog,
                        notes: list[str] | None = None) -> tuple[Holding, ...]:
    """Holdings from the rows of a CSV file or a workbook sheet; columns after the three
    are ignored with a note, and every bad cell is reported at once."""
    notes = [] if notes is None else notes
    notes.extend(table.notes)
    rows, source = table.rows, table.source
    line0, header = rows[0]
    if [h.lower() for h in header[:3]] != HEADER:
        raise InputError("header must be product,expires,calls_left", source=source,
                         line=line0, field=wrong_column(header, HEADER),
                         hint=table.sheet_hint(SHEET_IN_PATH))
    if extra := [h for h in header[3:] if h]:
        notes.append(ignored_columns_note(source, extra))
    problems = Problems()
    data = data_rows(table, 3, problems, notes,
                     lambda found: f"expected {len(header)} fields ({','.join(header)}), "
                                   f"found {found}")
    order = day_first(row[1] for _, row in data)
    out = []
    for line, row in data:
        prod = problems(resolve_product, catalog, row[0], source=source, line=line)
        if prod is not None and not prod.has_packs:
            problems.add(InputError(f"{prod.id} is postpaid only: it has no packs to hold",
                                    source=source, line=line, field="product"))
            prod = None
        expires = problems(parse_month, row[1], source=source, line=line,
                           field_name="expires", day_is_first=order)
        calls = problems(parse_count, row[2], source=source, line=line,
                         field_name="calls_left")
        if prod is not None and expires is not None and calls:
            out.append(Holding(prod.id, expires, calls, line))
    problems.check()
    return tuple(out)


def read_holdings(path: str | Path, catalog: Catalog, *,
                  notes: list[str] | None = None) -> tuple[Holding, ...]:
    """Holdings from a CSV file or a workbook (its first sheet, or `book.xlsx#Sheet`)."""
    return holdings_from_table(read_table(path, "holdings"), catalog, notes)
