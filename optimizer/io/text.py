"""Text every reader shares: file decoding, CSV rows with line numbers, and the cell
parsers (counts, months, products, decimals), each raising InputError that names the
file, line and field."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..domain.catalog import Catalog
from ..domain.months import Month
from ..exceptions import InputError

_INT_RE = re.compile(r"^\d+$")
_PLAIN_DECIMAL_RE = re.compile(r"\+?(\d+(\.\d*)?|\.\d+)")


def read_text(path: str | Path, what: str, *, empty_field: str = "header",
              byte_offset: bool = False) -> str:
    """A UTF-8 file's text (a BOM is accepted), or a clear InputError.

    An undecodable byte is located by its line, or by its offset with `byte_offset` (the
    catalog's wording); an empty file is blamed on `empty_field`.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise InputError(f"cannot read {what} ({e.strerror})", source=str(path)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if byte_offset:
            raise InputError(f"not UTF-8 text (byte {e.start})", source=str(path)) from None
        line = raw[:e.start].count(b"\n") + 1
        raise InputError("not UTF-8 text", source=str(path), line=line) from None
    if not text.strip():
        raise InputError(f"the {what} file is empty", source=str(path), line=1,
                         field=empty_field)
    return text


def csv_rows(text: str, source: str, what: str) -> list[tuple[int, list[str]]]:
    """CSV rows with their 1-based line numbers; blank lines are skipped, and a text of
    none is refused as read_text refuses an empty `what` file."""
    reader = csv.reader(io.StringIO(text, newline=""))
    out = []
    try:
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            out.append((reader.line_num, [c.strip() for c in row]))
    except csv.Error as e:
        raise InputError(f"malformed CSV ({e})", source=source, line=reader.line_num) from None
    if not out:
        raise InputError(f"the {what} file is empty", source=source, line=1, field="header")
    return out


def parse_count(value: str, *, source: str, line: int, field_name: str, what: str = "calls",
                minimum: int = 0) -> int:
    """A non-negative whole number written plainly; explains the usual mistakes."""
    v = value.strip()
    if _INT_RE.match(v):
        n = int(v)
        if n < minimum:
            raise InputError(f"{what} must be at least {minimum}, not {v}",
                             source=source, line=line, field=field_name)
        return n
    if v == "":
        msg = f"{what} is empty"
    elif v.startswith("-") and _INT_RE.match(v[1:].replace(",", "").replace("_", "")):
        msg = f"{what} must not be negative ('{v}')"
    elif re.fullmatch(r"\d{1,3}([,_ ]\d{3})+", v):
        msg = f"'{v}' has thousands separators; write the plain number {re.sub(r'[,_ ]', '', v)}"
    elif re.fullmatch(r"-?\d*\.\d+|-?\d+\.\d*|-?\d+(\.\d*)?[eE][+-]?\d+", v):
        msg = f"{what} must be a whole number, not '{v}'"
    else:
        msg = f"'{v}' is not a whole number of {what}"
    raise InputError(msg, source=source, line=line, field=field_name)


def parse_month(value: str, *, source: str, line: int, field_name: str = "month") -> Month:
    try:
        return Month.parse(value)
    except ValueError:
        raise InputError(f"'{value}' is not a month in the form YYYY-MM",
                         source=source, line=line, field=field_name) from None


def resolve_product(catalog: Catalog, key: str, *, source: str, line: int | None,
                    field_name: str | None = "product"):
    """The product named by id or name, or an InputError suggesting the closest one."""
    p = catalog.get(key.strip())
    if p is None:
        hint = catalog.suggest(key)
        msg = f"unknown product '{key}'" + (f"; did you mean '{hint}'?" if hint else
                                            " (see `packopt catalog`)")
        raise InputError(msg, source=source, line=line, field=field_name)
    return p


def parse_decimal(text: str, *, plain: bool = False) -> Decimal | None:
    """The Decimal that `text` spells once stripped, or None; each caller words its error.

    `plain` takes only what a person types for an amount (digits, one point, a leading
    '+'; no '-', exponent, separator, NaN or Infinity), so its results are finite and
    non-negative. Otherwise anything `Decimal` reads, NaN included, for the caller to judge.
    """
    text = text.strip()
    if plain and not _PLAIN_DECIMAL_RE.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
