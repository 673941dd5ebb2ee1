"""Text every reader shares: opening a file as a table (CSV in any of the encodings and
delimiters Excel writes, or a workbook sheet), rows with line numbers, the cell parsers
(counts, months, products, decimals), and `Problems`, which collects every bad cell of a
file into one InputError naming the file, line and field of each."""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..domain.catalog import Catalog
from ..domain.months import Month
from ..domain.records import MAX_CALLS
from ..exceptions import InputError
from .months import FORMS_HINT, to_month

_INT_RE = re.compile(r"^\d+$", re.A)       # (0-9 only: not full-width digits)
_PLAIN_DECIMAL_RE = re.compile(r"\+?(\d+(\.\d*)?|\.\d+)", re.A)
_THOUSANDS_RE = re.compile(r"\d{1,3}([,_ \u00a0\u202f']\d{3})+", re.A)
_DOT_THOUSANDS_RE = re.compile(r"\d{1,3}(\.\d{3})+", re.A)
THOUSANDS_HINT = ("In Excel: format the column as a number without the 1000 separator, or "
                  "give packopt the .xlsx itself.")
# (a workbook's cell: the advice to give packopt the workbook itself is moot)
WORKBOOK_THOUSANDS_HINT = "In Excel: format the column as a number without the 1000 separator."
DELIMITERS = ",;\t"
# The largest count an input may give (calls, packs, sizes) and the bound amounts (prices,
# rates, budgets, scales) stay below: a quadrillion is past any OCR bill, and money of
# that order stays exact in Decimal arithmetic and within what the solvers take.
MAX_WHOLE = MAX_CALLS
MAX_AMOUNT = Decimal(10) ** 15
LIMIT_WORDS = "at most 10^15"           # (counts)
AMOUNT_WORDS = "below 10^15"            # (amounts)
PLAIN_DIGITS = len(str(MAX_WHOLE)) - 1  # a cell of this many digits or fewer is within
SHEET_IN_PATH = "the path, as book.xlsx#NAME"    # how files but the forecast name a sheet
ZIP_MAGIC = b"PK\x03\x04"                  # .xlsx and .xlsm are zip files
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # .xls (Excel 97-2003)


@dataclass
class Table:
    """A file's rows as text cells with their line numbers (for a workbook sheet, the
    row numbers), the header first; `notes` says how it was read when that matters (an
    encoding other than UTF-8, say)."""

    source: str
    rows: list[tuple[int, list[str]]]
    notes: list[str] = field(default_factory=list)
    others: tuple[str, ...] = ()    # a workbook's other sheets, when its first was read

    def sheet_hint(self, how: str = "--sheet NAME") -> str | None:
        """For a header error: where else in the workbook the data may be."""
        from .workbook import other_sheets_hint
        return other_sheets_hint(self.others, how)


class Problems:
    """Every bad cell of one file, so that one InputError reports them all.

    `problems(parse, ...)` runs a cell parser and returns its value, or None after
    recording the InputError it raised; `check()` raises them together, in file order
    (the first `InputError.SHOWN`, then a count).
    """

    def __init__(self):
        self.errors: list[InputError] = []

    def __call__(self, parse, *args, **kwargs):
        try:
            return parse(*args, **kwargs)
        except InputError as e:
            self.errors.append(e)
            return None

    def add(self, error: InputError) -> None:
        self.errors.append(error)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def check(self) -> None:
        """Raise the problems in file order (by line; a line's in the order found)."""
        if self.errors:
            raise InputError.collected(sorted(self.errors, key=lambda e: (
                e.line is None, e.line or 0)))


# --------------------------------------------------------------------------- files

def beyond_parser(text: str, error: Exception) -> tuple[str, int | None] | None:
    """What a RecursionError or ValueError from Python's TOML or JSON parser means, and
    the line it points at: nesting deeper than the parser follows, or a number of more
    digits than Python converts (4,300). None for any other error (a bug: raised as is)."""
    if isinstance(error, RecursionError):
        depth = 0
        for at, ch in enumerate(text):
            depth += (ch in "[{") - (ch in "]}")
            if depth > NESTING_SHOWN:
                return "arrays or tables nested too deeply", text.count("\n", 0, at) + 1
        return "arrays or tables nested too deeply", None
    if isinstance(error, ValueError) and "digits" in str(error):
        long = re.search(r"\d{%d,}" % (sys.get_int_max_str_digits() or 4300), text)
        return (f"a number of more than {sys.get_int_max_str_digits() or 4300:,} digits",
                text.count("\n", 0, long.start()) + 1 if long else None)
    return None


NESTING_SHOWN = 100     # brackets deep at which `beyond_parser` names the line


def toml_error(text: str, error: Exception, source: str,
               field: str | None = None) -> InputError | None:
    """The InputError for a TOML text Python's parser refused (`error`), naming its line:
    its own message's line (none at the end of the document: the last), or what
    `beyond_parser` finds; None for any other error (a bug: raised as is)."""
    import tomllib
    if isinstance(error, tomllib.TOMLDecodeError):
        at = re.search(r"line (\d+)", str(error))
        return InputError(f"not valid TOML ({error})", source=source, field=field,
                          line=int(at.group(1)) if at else max(1, len(text.splitlines())))
    words = beyond_parser(text, error)
    return None if words is None else InputError(f"not valid TOML: {words[0]}", source=source,
                                                 line=words[1], field=field)


def bundled_text(name: str) -> str:
    """A data file shipped inside the package (optimizer/data/), read beside this module
    rather than through importlib.resources, whose import costs more than the read."""
    return (Path(__file__).resolve().parent.parent / "data" / name).read_text("utf-8")


def read_bytes(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise InputError(f"cannot read {what} ({e.strerror})", source=str(path)) from None


def read_text(path: str | Path, what: str, *, empty_field: str = "header",
              byte_offset: bool = False) -> str:
    """A UTF-8 file's text (a BOM is accepted), or a clear InputError: for the catalog
    and plan JSON, which are UTF-8 by definition (tables go through `read_table`).

    An undecodable byte is located by its line, and by its offset too with `byte_offset`
    (the catalog's wording); an empty file is blamed on `empty_field`.
    """
    return decode_text(read_bytes(path, what), path, what, empty_field=empty_field,
                       byte_offset=byte_offset)


def decode_text(raw: bytes, path: str | Path, what: str, *, empty_field: str = "header",
                byte_offset: bool = False) -> str:
    """`read_text` of bytes already read (a pipe's can be read only once)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        where = f" (byte {e.start})" if byte_offset else ""
        raise InputError(f"not UTF-8 text{where}: save it as UTF-8", source=str(path),
                         line=line) from None
    if not text.strip():
        raise InputError(f"the {what} file is empty", source=str(path), line=1,
                         field=empty_field)
    return text


def decode_table(raw: bytes, source: str) -> tuple[str, str | None]:
    """The text of a CSV file and a note when it was not UTF-8: UTF-8 (BOM or not)
    first, UTF-16 with a BOM (Excel's "Unicode Text"), then GB18030 (Chinese Excel's
    default "CSV (逗号分隔)"); anything else is an InputError naming the likely cause."""
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):   # (before UTF-16's:
        try:                                                           # FF FE starts both)
            return raw.decode("utf-32"), f"{source}: read as UTF-32"
        except UnicodeDecodeError:
            pass
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), f"{source}: read as UTF-16 (Excel's Unicode Text)"
        except UnicodeDecodeError:
            pass
    if b"\x00" in raw:
        # NUL is valid UTF-8, but no CSV has one: UTF-16 or UTF-32 without its mark, whose
        # header would come out as 'p\0r\0o\0...'.
        raise InputError("has NUL bytes (UTF-16 or UTF-32 text without a byte-order "
                         "mark?): save it from Excel as \"CSV UTF-8 (Comma delimited)\"",
                         source=source, line=raw[:raw.index(b"\x00")].count(b"\n") + 1)
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as e:
        bad = e.start + (len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0)
    if raw.startswith(codecs.BOM_UTF8):
        # The mark says UTF-8, so the bytes that are not are a mistake of one line (a row
        # pasted in from a GB18030 file, say): read as GB18030, the mark garbled the header.
        raise InputError("not UTF-8 text, though the file starts with UTF-8's byte-order "
                         "mark (a row pasted from a file in another encoding?): save it "
                         "from Excel as \"CSV UTF-8 (Comma delimited)\"", source=source,
                         line=raw[:bad].count(b"\n") + 1) from None
    try:
        text = raw.decode("gb18030").removeprefix("\ufeff")     # (GB18030's own mark)
    except UnicodeDecodeError:
        line = raw[:bad].count(b"\n") + 1
        raise InputError("not UTF-8 text, nor GB18030: save it from Excel as \"CSV UTF-8 "
                         "(Comma delimited)\", or give packopt the .xlsx itself",
                         source=source, line=line) from None
    return text, (f"{source} is not UTF-8: read it as GB18030 (Chinese Excel's default CSV "
                  f"encoding); save it as \"CSV UTF-8\" to avoid this note")


def split_sheet(path: str) -> tuple[str, str | None]:
    """`book.xlsx#Sheet` names a workbook's sheet (when no file has that whole name)."""
    if "#" in path and not os.path.exists(path):
        # At the first '#' that leaves a file: a sheet's name may hold '#' too ('My#Plan').
        for at in (i for i, c in enumerate(path) if c == "#"):
            base, sheet = path[:at], path[at + 1:]
            if sheet and os.path.isfile(base):
                return base, sheet
    return path, None


def read_table(path: str | Path, what: str, *, sheet: str | None = None) -> Table:
    """A CSV file or a workbook's sheet as a Table.

    Workbooks (.xlsx, .xlsm; told by their content, not their name) are read from their
    first sheet, or from `sheet`, or the sheet named after a '#' in the path
    (`book.xlsx#Scenarios`). CSV files are decoded by `decode_table`, and their delimiter
    (comma, semicolon or tab) is taken from the header line.
    """
    path, named = split_sheet(str(path))
    return table_from_bytes(read_bytes(path, what), path, what, sheet=sheet or named)


def table_from_bytes(raw: bytes, path: str, what: str, *, sheet: str | None = None) -> Table:
    """`read_table` of bytes already read from `path` (a pipe's can be read only once);
    `sheet` as there, the one named in the path included."""
    if raw.startswith(ZIP_MAGIC):
        from .workbook import sheet_rows       # openpyxl only when a workbook is read
        source, rows, others, notes = sheet_rows(raw, path, what, sheet)
        return Table(source, rows, notes, others)
    if raw.startswith(_OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in raw or \
                path.lower().endswith((".xlsx", ".xlsm")):
            # (Excel keeps a workbook with a password to open in an OLE container too.)
            raise InputError("a workbook with a password to open is not read: remove the "
                             "password in Excel (File > Info > Protect Workbook) and save "
                             "it, or save it as CSV UTF-8", source=path)
        raise InputError("an Excel 97-2003 workbook (.xls) is not read: save it as .xlsx "
                         "or as CSV UTF-8", source=path)
    if sheet is not None:
        raise InputError(f"sheet '{sheet}' asked for, but this is not a workbook (.xlsx)",
                         source=path)
    text, note = decode_table(raw, path)
    if not text.strip():
        raise InputError(f"the {what} file is empty", source=path, line=1, field="header")
    return Table(path, csv_rows(text, path, what), [note] if note else [])


TITLE_LINES = 10     # lines without a delimiter looked past for the header's


def sniff_delimiter(text: str) -> tuple[str, int]:
    """The delimiter of the header line (the first non-blank one with a delimiter: a bill's
    title lines above it have none), the one it has most of among comma, semicolon and tab
    (comma if no line has one); and the number of lines before the header to skip: Excel's
    `sep=;` line is honoured and skipped."""
    seen = 0
    for i, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        m = re.fullmatch(r"\s*sep=(.)\s*", line)
        if m and not seen:
            return m.group(1), i + 1
        try:
            counts = [len(next(csv.reader([line], delimiter=d))) - 1 for d in DELIMITERS]
        except csv.Error:       # (a field past csv's limit: the reader then says so)
            counts = [line.count(d) for d in DELIMITERS]
        best = max(range(len(DELIMITERS)), key=lambda k: (counts[k], -k))
        if counts[best]:
            return DELIMITERS[best], 0
        seen += 1
        if seen == TITLE_LINES:
            break
    return ",", 0


def csv_rows(text: str, source: str, what: str,
             delimiter: str | None = None) -> list[tuple[int, list[str]]]:
    """CSV rows with their 1-based line numbers; blank lines are skipped, and a text of
    none is refused as read_text refuses an empty `what` file. The delimiter, unless
    given, is sniffed from the header line."""
    skip = 0
    if delimiter is None:
        delimiter, skip = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out = []
    end = 0                     # the line the last record ended on
    try:
        for row in reader:
            start, end = end + 1, reader.line_num
            if end <= skip or not row or not "".join(row).strip():
                continue
            if end > start and out and len(row) < len(out[0][1]):
                # A quoted cell ran over lines and left the record short: a quote not
                # closed on its line (blamed on the line after it, where the record ended).
                last = len(re.split(r"\r\n|\r|\n", text.rstrip("\r\n")))
                closed = ("is never closed" if end >= last else
                          f"is closed only on line {end}")
                raise InputError(f"a quote (\") opened on this line {closed}, so lines "
                                 f"{start} to {end} read as one row of {len(row)} "
                                 f"field{'s' if len(row) != 1 else ''}: close it or remove "
                                 f"it", source=source, line=start)
            out.append((start, [c.strip() for c in row]))
    except csv.Error as e:
        raise InputError(f"malformed CSV ({e})", source=source, line=reader.line_num) from None
    if not out:
        raise InputError(f"the {what} file is empty", source=source, line=1, field="header")
    return out


# --------------------------------------------------------------------------- header columns

TOTAL_NAMES = ("total", "grand total", "合计", "总计", "總計", "合計")


def is_total(label: str) -> bool:
    """A row or column label that marks a total (`Total`, `合计`, ...)."""
    return label.strip().lower() in TOTAL_NAMES


def trim(row: list[str], width: int) -> list[str]:
    """`row` without the empty cells past `width` (Excel pads CSV rows with commas)."""
    end = len(row)
    while end > width and not row[end - 1]:
        end -= 1
    return row[:end]


def read_figure(text: str) -> int | None:
    """A total's figure, thousands separators allowed (it is only checked, never used)."""
    v = text.strip()
    if re.fullmatch(r"\d{1,3}([,. _\u00a0\u202f']\d{3})+|\d+", v):
        return int(re.sub(r"\D", "", v))
    return None


def total_row_note(source: str, line: int, label: str, checks) -> str:
    """The note on a skipped total row (or a row without a product): whether its
    figures, each `(what, given text, expected sum or None)`, match the products'."""
    what = f"'{label}' row" if label else "row without a product"
    note = f"{source}, line {line}: {what} skipped"
    wrong, formulas = _unmatched(checks)
    if formulas:    # (a workbook written by a program: one phrase, not one per month)
        span = formulas[0] if len(formulas) == 1 else \
            f"{formulas[0]} to {formulas[-1].removeprefix('for ')} ({len(formulas)} figures)"
        wrong.append(f"its figures {span} are formulas with no saved value, not checked "
                     f"(open and save the workbook in Excel to check them)")
    if wrong:
        return note + "; warning: " + "; ".join(wrong)
    return note + (" (its figures match the products' sums)" if checks else "")


def blank_product_error(source: str, line: int, checks) -> InputError | None:
    """A row with no product whose figures are not the products' sums is not a total
    but data without its product (a product cell merged over several rows, or left
    blank): an error, where skipping it would plan without its calls. None when it
    checks out as a total (or has no figures)."""
    wrong, _ = _unmatched(checks)       # (unsaved formulas: not known to be no total)
    if not wrong:
        return None
    return InputError(f"no product, and not a total row: {'; '.join(wrong)}", source=source,
                      line=line, field="product",
                      hint="Give each row its product (a cell merged over rows, or blank?).")


def _unmatched(checks) -> tuple[list[str], list[str]]:
    """What of a total row's figures does not match the products' sums, and where its
    figures are formulas with no saved value (unchecked)."""
    wrong, formulas = [], []
    for where, given, expected in checks:
        got = read_figure(given)
        if expected is None:
            wrong.append(f"it gives {given} calls {where}, not a month of the forecast")
        elif got is None and given.startswith("="):
            formulas.append(where)
        elif got is None:
            wrong.append(f"its figure {given!r} {where} cannot be read")
        elif got != expected:
            wrong.append(f"it gives {given} calls {where}, but the products add up to "
                         f"{expected}")
    return wrong, formulas


# The words of the note naming usage no product takes: shown even with --quiet (SPEC:
# unmapped usage is never dropped silently).
UNMAPPED_WORDS = "to no catalog product"


def wrong_column(header: list[str], expected: list[str]) -> str:
    """The field an error about a header names: its first column that is not the expected
    one ("column 3 (empty)" for a blank cell), else the first expected column missing."""
    col = next((k for k, (c, w) in enumerate(zip(header, expected)) if c.lower() != w),
               len(header))
    if col >= len(header):
        return expected[col] if col < len(expected) else "header"
    return header[col] or f"column {col + 1} (empty)"


def ignored_columns_note(source: str, names: list[str]) -> str:
    named = ", ".join(f"'{n}'" for n in names)
    return f"{source}: column{'s' if len(names) > 1 else ''} {named} ignored"


# --------------------------------------------------------------------------- cells

def unsaved_formula(text: str, what: str) -> str:
    """The message for a workbook cell holding a formula that was never calculated."""
    return (f"'{text}' is a formula with no saved value: open the workbook in Excel and save "
            f"it, or type the {what}")


def _whole_beyond(v: str) -> bool:
    """Whether `v` spells a whole number above the largest count (in any notation)."""
    d = parse_decimal(v)
    return d is not None and d.is_finite() and d > MAX_WHOLE and d == d.to_integral_value()


def parse_count(value: str, *, source: str, line: int, field_name: str, what: str = "calls",
                minimum: int = 0) -> int:
    """A non-negative whole number written plainly (or with zero decimals, `25000.0`);
    explains the usual mistakes."""
    v = value.strip()
    w = shown(v)
    if re.fullmatch(r"\d+\.0*", v, re.A):
        v = v.split(".")[0]     # 25000.0: a whole number as pandas and growth formulas write it
    if _INT_RE.match(v):
        if len(v.lstrip("0")) > len(str(MAX_WHOLE)) or int(v) > MAX_WHOLE:
            raise InputError(too_large_words(what, v, LIMIT_WORDS),
                             source=source, line=line, field=field_name)
        n = int(v)
        if n < minimum:
            raise InputError(f"{what} must be at least {minimum}, not {w}",
                             source=source, line=line, field=field_name)
        return n
    hint = None
    thousands = WORKBOOK_THOUSANDS_HINT if _in_workbook(source) else THOUSANDS_HINT
    if v == "":
        msg = f"{what} is empty"
    elif v.startswith("="):
        msg = unsaved_formula(w, "number")
    elif any(c.isdigit() and not c.isascii() for c in v):
        msg = f"'{w}' has digits other than 0-9 (full-width?): type the number with 0-9"
    elif v.startswith("-") and _INT_RE.match(v[1:].replace(",", "").replace("_", "")):
        msg = f"{what} must not be negative ('{w}')"
    elif _THOUSANDS_RE.fullmatch(v):
        plain = re.sub(r"\D", "", v)
        msg = f"'{w}' has thousands separators; write the plain number {plain}"
        hint = thousands
    elif _DOT_THOUSANDS_RE.fullmatch(v):
        msg = (f"{what} must be a whole number, not '{w}' (if the '.' separates thousands, "
               f"write the plain number {v.replace('.', '')})")
        hint = thousands
    elif _whole_beyond(v):      # (a workbook's 1e300: whole, only too large)
        msg = too_large_words(what, v, LIMIT_WORDS)
    elif re.fullmatch(r"-?\d*\.\d+|-?\d+\.\d*|-?\d+(\.\d*)?[eE][+-]?\d+", v):
        msg = f"{what} must be a whole number, not '{w}'"
    else:
        msg = f"'{w}' is not a whole number of {what}"
    raise InputError(msg, source=source, line=line, field=field_name, hint=hint)


def _in_workbook(source) -> bool:
    """Whether a cell's source is a workbook's sheet (its advice then is not to give packopt
    the workbook)."""
    return ", sheet '" in str(source)


MONTH_MOST = 40     # characters of the longest month cell read (`2027年1月1日 0:00:00` has 19)


def parse_month(value: str, *, source: str, line: int | None, field_name: str = "month",
                day_is_first: bool | None = None) -> Month:
    """A month in any form `months.to_month` reads; `day_is_first` is the order of the
    column's `a/b/YYYY` dates (`months.day_first`)."""
    if len(value.strip()) > MONTH_MOST:     # (no month is written so long: not echoed whole)
        raise InputError(f"'{shown(value.strip())}' is not a month", source=source, line=line,
                         field=field_name, hint=FORMS_HINT)
    try:
        return to_month(value, day_is_first=day_is_first, workbook=_in_workbook(source))
    except ValueError as e:
        raise InputError(_escaped(str(e)) + odd_note(value), source=source, line=line,
                         field=field_name, hint=FORMS_HINT) from None


def resolve_product(catalog: Catalog, key: str, *, source: str, line: int | None,
                    field_name: str | None = "product"):
    """The product named by id or name, or an InputError suggesting the closest one."""
    p = catalog.get(key.strip())
    if p is None and key.strip().startswith("="):
        raise InputError(unsaved_formula(shown(key.strip()), "product"), source=source,
                         line=line, field=field_name)
    if p is None:
        hint = catalog.suggest(key)
        msg = f"unknown product '{shown(key)}'" + odd_note(key) + (
            f"; did you mean '{hint}'?" if hint else " (see `packopt catalog`)")
        raise InputError(msg, source=source, line=line, field=field_name)
    return p


# Dashes that look like '-' but are not (Word's hyphen, en dash, minus, full-width '-').
_LOOKALIKES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d")


_NAMES = {"\ufeff": "byte-order mark"}     # (Unicode: zero width no-break space)


def _odd(c: str) -> bool:
    """An invisible format character (BOM, zero-width space) or a look-alike dash: printed
    as is, a message about its cell would contradict itself ('id_card' is not 'id_card')."""
    return c in _LOOKALIKES or unicodedata.category(c) == "Cf"


def _escaped(text: str) -> str:
    """`text` with each odd character written as its escape (\\u200b)."""
    return "".join(f"\\u{ord(c):04x}" if _odd(c) else c for c in text)


def odd_note(text: str) -> str:
    """For a message about a cell: what its odd characters are, by name, or ''. They are
    not stripped (not even at a cell's edge, as spaces are): the cell may mean them."""
    odd = list(dict.fromkeys(c for c in str(text) if _odd(c)))
    if not odd:
        return ""
    named = ", ".join(f"{'an invisible ' if unicodedata.category(c) == 'Cf' else 'a '}"
                      f"{_NAMES.get(c) or unicodedata.name(c, 'format character').lower()} "
                      f"(U+{ord(c):04X}, shown as {_escaped(c)})" for c in odd)
    return f" (it contains {named})"


def shown(text: str, most: int = 40) -> str:
    """`text` for a message: control characters as spaces, invisible and look-alike ones
    escaped (`odd_note` names them), a long one cut in the middle (a cell of 5,000 digits
    is not repeated whole)."""
    text = _escaped("".join(" " if (c < " " or c == "\x7f") else c for c in str(text)))
    if len(text) <= most:
        return text
    return f"{text[:most // 2]}…{text[-(most // 2):]} ({len(text):,} characters)"


def too_large(d: Decimal) -> bool:
    """Whether an amount (a price, rate, budget or scale) is beyond what packopt takes."""
    return d.is_finite() and d.copy_abs() >= MAX_AMOUNT


def too_large_words(what: str, text, limit: str = AMOUNT_WORDS) -> str:
    """The message for a value past the bounds ('pack 1 price 1e400 is too large (below
    10^15)'), the value shown as `shown` shows it."""
    return f"{what} {shown(str(text))} is too large ({limit})"


def parse_decimal(text: str, *, plain: bool = False) -> Decimal | None:
    """The Decimal that `text` spells once stripped, or None; each caller words its error.

    `plain` takes only what a person types for an amount (digits, one point, a leading
    '+'; no '-', exponent, separator, NaN or Infinity), so its results are finite and
    non-negative. Otherwise anything `Decimal` reads, NaN included, for the caller to judge.
    """
    text = text.strip()
    if (plain and not _PLAIN_DECIMAL_RE.fullmatch(text)) or not text.isascii():
        return None             # (Decimal reads full-width digits too: not plainly typed)
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def data_rows(table: Table, width: int, problems: Problems, notes: list[str],
              fields_message) -> list[tuple[int, list[str]]]:
    """The rows after the header that carry data: a row with fewer than `width` fields or
    more than the header is a problem (`fields_message(found)` says so); a total row or
    one with no product is skipped with a note, unless it has every other field (then it
    is data without its product: a problem)."""
    header = table.rows[0][1]
    data = []
    for line, row in table.rows[1:]:
        row = trim(row, len(header))
        if len(row) < width or len(row) > len(header):
            problems.add(InputError(fields_message(len(row)), source=table.source, line=line,
                                    field="row"))
        elif not row[0] and all(c.strip() for c in row[1:width]):
            # Every field but the product: a purchase or a lot whose product cell was
            # merged over rows or left blank, not a total; skipped, it went unbilled.
            problems.add(InputError(
                "the product is empty while every other field is filled: a row of data, "
                "not a total",
                source=table.source, line=line, field=table.rows[0][1][0] or "product",
                hint="Give each row its product (a cell merged over rows, or blank?)."))
        elif not row[0] or is_total(row[0]):
            notes.append(total_row_note(table.source, line, row[0], ()))
        else:
            data.append((line, row))
    return data


def below_title(table: Table, is_header, search: int = 30) -> tuple[Table, int]:
    """`table` from its header on: the first of its first `search` rows that `is_header`
    accepts (the first row when none does), so a spreadsheet's title lines above the
    header are skipped, with a note. Also returns the header's index in `table.rows`."""
    at = next((i for i, (_, row) in enumerate(table.rows[:search]) if is_header(row)), 0)
    if not at:
        return table, 0
    first, last = table.rows[0][0], table.rows[at][0] - 1
    lines = f"line {first}" if first == last else f"lines {first} to {last}"
    note = f"{table.source}: {lines}, above the header (line {last + 1}), skipped"
    return Table(table.source, table.rows[at:], [*table.notes, note], table.others), at
