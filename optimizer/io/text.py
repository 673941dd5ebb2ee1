"""Reading CSV text: file decoding, rows with line numbers, and the cell parsers
every reader shares, each raising InputError that names the file, line and field."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..domain.catalog import Catalog
from ..domain.months import Month
from ..exceptions import InputError

_INT_RE = re.compile(r"^\d+$")


def read_text(path: str | Path, what: str) -> str:
    """A UTF-8 file's text (a BOM is accepted), or a clear InputError."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise InputError(f"cannot read {what} ({e.strerror})", source=str(path)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise InputError("not UTF-8 text", source=str(path), line=line) from None
    if not text.strip():
        raise InputError(f"the {what} file is empty", source=str(path), line=1, field="header")
    return text


def csv_rows(text: str, source: str) -> list[tuple[int, list[str]]]:
    """CSV rows with their 1-based line numbers; blank lines are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""))
    out = []
    try:
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            out.append((reader.line_num, [c.strip() for c in row]))
    except csv.Error as e:
        raise InputError(f"malformed CSV ({e})", source=source, line=reader.line_num) from None
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


def resolve_product(catalog: Catalog, key: str, *, source: str, line: int,
                    field_name: str = "product"):
    p = catalog.get(key.strip())
    if p is None:
        hint = catalog.suggest(key)
        msg = f"unknown product '{key}'" + (f"; did you mean '{hint}'?" if hint else
                                            " (see `packopt catalog`)")
        raise InputError(msg, source=source, line=line, field=field_name)
    return p

