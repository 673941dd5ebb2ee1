"""Packs already owned: CSV `product,expires,calls_left`."""

from __future__ import annotations

from pathlib import Path

from ..domain.catalog import Catalog
from ..domain.records import Holding
from ..exceptions import InputError
from .text import csv_rows, parse_count, parse_month, read_text, resolve_product


def parse_holdings(text: str, catalog: Catalog, source: str = "holdings") -> tuple[Holding, ...]:
    """Packs already owned: CSV `product,expires,calls_left` (expires = last usable month)."""
    rows = csv_rows(text, source, "holdings")
    line0, header = rows[0]
    if [h.lower() for h in header] != ["product", "expires", "calls_left"]:
        raise InputError("header must be product,expires,calls_left", source=source,
                         line=line0, field=header[0] if header else "header")
    out = []
    for line, row in rows[1:]:
        if len(row) != 3:
            raise InputError(f"expected 3 fields (product,expires,calls_left), found {len(row)}",
                             source=source, line=line, field="row")
        prod = resolve_product(catalog, row[0], source=source, line=line)
        if not prod.has_packs:
            raise InputError(f"{prod.id} is postpaid only: it has no packs to hold",
                             source=source, line=line, field="product")
        expires = parse_month(row[1], source=source, line=line, field_name="expires")
        calls = parse_count(row[2], source=source, line=line, field_name="calls_left")
        if calls:
            out.append(Holding(prod.id, expires, calls, line))
    return tuple(out)


def read_holdings(path: str | Path, catalog: Catalog) -> tuple[Holding, ...]:
    return parse_holdings(read_text(path, "holdings"), catalog, str(path))

