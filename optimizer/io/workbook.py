"""Excel workbooks (.xlsx, .xlsm) read as tables: one sheet's rows as text cells.

openpyxl reads the sheet (read-only, cached values for formulas); it is imported only
when a workbook is read. Cells become the text a CSV reader would see, without the
ambiguities of Excel's CSV export: a number is written plainly (25000.0 is `25000`, 1e-05
is `0.00001`), a date or date-time as ISO text (`2027-01-01`), so a month typed in Excel,
which Excel turns into a date on the 1st, reads back as that month. A formula with no
saved value (a workbook written by a program and never opened in Excel) reads as its
formula text, which the cell parsers refuse with a message that says so. Line numbers are
the sheet's row numbers.
"""

from __future__ import annotations

import contextlib
import io
from datetime import date, datetime, time
from decimal import Decimal

from ..exceptions import InputError, PackoptError


FIX = "save it again from Excel as .xlsx, or as CSV UTF-8"     # for a damaged workbook


def cell_text(value) -> str:
    """A cell's value as the text the readers parse."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value)) if abs(value) < 1e15 else repr(value)
        # a number cell is a number: written plainly, as typed (1e-05 is 0.00001, 0.1 stays
        # 0.1), for the readers that take plain decimals only (weights, scales)
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value).strip()


def _open(raw: bytes, path: str, *, data_only: bool):
    try:
        import openpyxl
    except ImportError as e:     # an installation problem: say so
        raise PackoptError(f"reading .xlsx needs openpyxl ({e}); install packopt with "
                           f"`pip install -e .` or `pip install openpyxl`") from None
    try:
        return openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=data_only)
    except Exception:       # a zip that is no workbook fails in many ways inside openpyxl,
        # whose words (BadZipFile: File is not a zip file, KeyError: ...) would not help
        raise InputError(f"not a readable .xlsx workbook: {FIX}", source=path) from None


def _sheet(wb, path: str, what: str, name: str | None):
    sheets = wb.worksheets
    if not sheets:
        raise InputError(f"the workbook has no worksheet with the {what}", source=path)
    if name is None:
        # The first sheet the user sees: a hidden one (an old version kept) is not it.
        return next((ws for ws in sheets if _shown(ws)), sheets[0])
    for ws in sheets:
        if ws.title == name:
            return ws
    for ws in sheets:
        if ws.title.strip().lower() == name.strip().lower():
            return ws
    names = ", ".join(f"'{ws.title}'" for ws in sheets)
    raise InputError(f"no sheet '{name}' in the workbook (its sheets: {names})",
                     source=path)


def _shown(ws) -> bool:
    return getattr(ws, "sheet_state", "visible") == "visible"


# Number formats that East-Asian Excel stores by id alone (ECMA-376 18.8.30: ids 27-36 and
# 50-58 are dates and times in the zh, ja and ko locales), which openpyxl does not know:
# their cells come as plain numbers, a month typed as 2027年1月 as 46388.
_EAST_ASIAN_DATES = frozenset(range(27, 37)) | frozenset(range(50, 59))


def _values(ws) -> list[list]:
    """Every row of the sheet from row 1 (empty rows as []), as stored (a date cell as a
    date, in East-Asian formats too)."""
    from openpyxl.utils.datetime import WINDOWS_EPOCH, from_excel
    ws.reset_dimensions()        # some writers record a wrong used range: read every row
    epoch = getattr(ws.parent, "epoch", WINDOWS_EPOCH)
    out = []
    for cells in ws.iter_rows():
        row = [c.value for c in cells]
        for i, c in enumerate(cells):
            v = row[i]
            if isinstance(v, (int, float)) and not isinstance(v, bool) and \
                    getattr(getattr(c, "style_array", None), "numFmtId", 0) in _EAST_ASIAN_DATES:
                with contextlib.suppress(ValueError, OverflowError, TypeError):
                    row[i] = from_excel(v, epoch)
        out.append(row)
    return out


def _trimmed(row: list[str]) -> list[str]:
    end = len(row)
    while end and not row[end - 1]:
        end -= 1
    return row[:end]


def sheet_rows(raw: bytes, path: str, what: str, sheet: str | None
               ) -> tuple[str, list[tuple[int, list[str]]], tuple[str, ...], list[str]]:
    """The source name (`path, sheet 'Name'`), the non-empty rows of the first sheet, or
    of `sheet`, as (row number, text cells); when the first sheet was taken for want of
    `sheet`, the names of the others (a header error then names them: the data is often
    on a sheet after a page of notes); and notes on how it was read."""
    wb = _open(raw, path, data_only=True)
    try:
        ws = _sheet(wb, path, what, sheet)
        title = ws.title
        others = () if sheet is not None else tuple(
            w.title for w in wb.worksheets if w.title != title)
        try:
            values = _values(ws)
        except Exception:       # (a damaged sheet: openpyxl's words would not help)
            raise InputError(f"the sheet cannot be read: {FIX}",
                             source=f"{path}, sheet '{title}'") from None
        merged = _merged_ranges(raw, getattr(ws, "_worksheet_path", None))
    finally:
        wb.close()
    if any(v is None for row in values for v in row):
        values = _with_formulas(raw, path, title, values,
                                _blank_results(raw, getattr(ws, "_worksheet_path", None)))
    source = f"{path}, sheet '{title}'"
    merged = [m for m in merged if _at(values, m[1], m[0]) is not None]
    notes = [_filled_down(values, merged, source)] if merged else []
    rows = [(r, cells) for r, row in enumerate(values, start=1)
            if (cells := _trimmed([cell_text(v) for v in row]))]
    # A table set in from the sheet's edge (column A left as a margin) starts at its first
    # column that holds anything, as it starts at its first row that does.
    lead = min((next(i for i, c in enumerate(cells) if c) for _, cells in rows), default=0)
    if lead:
        rows = [(r, cells[lead:]) for r, cells in rows]
    # Every row as wide as the widest, as Excel pads a sheet saved as CSV: a row whose
    # last cells are empty then reads 'calls is empty', not 'expected 3 fields, found 2'.
    width = max((len(cells) for _, cells in rows), default=0)
    rows = [(r, cells + [""] * (width - len(cells))) for r, cells in rows]
    if not rows:
        raise InputError(f"the {what} sheet is empty", source=source, line=1, field="header",
                         hint=other_sheets_hint(others))
    return source, rows, others, notes


def _merged_ranges(raw: bytes, part: str | None) -> list[tuple[int, int, int, int]]:
    """The sheet's merged ranges over several rows, as (min_col, min_row, max_col,
    max_row). openpyxl's read-only sheets do not give them, so they are read from the
    sheet's XML (`part`, its name in the workbook's zip; none: no merges known)."""
    if not part:
        return []
    import re
    import zipfile

    from openpyxl.utils.cell import range_boundaries
    try:
        xml = zipfile.ZipFile(io.BytesIO(raw)).read(part)
    except (KeyError, zipfile.BadZipFile, OSError):
        return []
    refs = re.findall(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"', xml)
    bounds = [range_boundaries(ref.decode()) for ref in refs]
    return [b for b in bounds if b[3] > b[1]]


def _at(values: list[list], row: int, col: int):
    """The value at a 1-based sheet row and column (None past the rows read)."""
    cells = values[row - 1] if row <= len(values) else []
    return cells[col - 1] if col <= len(cells) else None


def _filled_down(values: list[list], merged, source: str) -> str:
    """A cell merged over rows shows its value on each of them (a product's name over
    its months), and Excel stores it in the first row only: `values` get it on every row
    (its first column; a merge across columns stays one cell). Returns the note."""
    for min_col, min_row, _, max_row in merged:
        value = _at(values, min_row, min_col)
        for r in range(min_row, min(max_row, len(values))):
            cells = values[r]
            cells.extend([None] * (min_col - len(cells)))
            cells[min_col - 1] = value
    from openpyxl.utils.cell import get_column_letter
    spans = [f"{get_column_letter(c)}{r0}:{get_column_letter(c)}{r1}" for c, r0, _, r1 in merged]
    return (f"{source}: merged cell{'s' if len(spans) > 1 else ''} {', '.join(spans[:5])}"
            f"{', ...' if len(spans) > 5 else ''} read as {'their' if len(spans) > 1 else 'its'}"
            f" value on each row")


def other_sheets_hint(others: tuple[str, ...], how: str = "--sheet NAME") -> str | None:
    """Advice for a header not found on a workbook's first sheet: its other sheets."""
    if not others:
        return None
    names = ", ".join(f"'{n}'" for n in others[:10]) + (", ..." if len(others) > 10 else "")
    return f"The first sheet was read; the workbook also has {names}: to read one, name it " \
           f"with {how}."


def _with_formulas(raw: bytes, path: str, title: str, values: list[list],
                   blank: set[tuple[int, int]]) -> list[list]:
    """`values` with each empty cell that holds a formula (no saved value) replaced by the
    formula's text; those in `blank` (row, column, from 1) saved an empty result and stay
    empty."""
    wb = _open(raw, path, data_only=False)
    try:
        formulas = _values(_sheet(wb, path, "", title))
    finally:
        wb.close()
    out = []
    for r, row in enumerate(values):
        f = formulas[r] if r < len(formulas) else []
        out.append([f[c] if v is None and c < len(f) and isinstance(f[c], str)
                    and f[c].startswith("=") and (r + 1, c + 1) not in blank else v
                    for c, v in enumerate(row)])
    return out


def _blank_results(raw: bytes, part: str | None) -> set[tuple[int, int]]:
    """(row, column) of the formula cells whose saved result is empty text: Excel writes
    `=IF(...,"",...)` showing nothing as `<c t="str"><f>...</f><v/></c>`, which openpyxl
    reads as no value, as it does a formula never calculated."""
    if not part:
        return set()
    import zipfile
    from xml.etree.ElementTree import ParseError, iterparse

    from openpyxl.utils.cell import coordinate_to_tuple
    out = set()
    try:
        with zipfile.ZipFile(io.BytesIO(raw)).open(part) as xml:
            for _, el in iterparse(xml):
                if el.tag.endswith("}c") or el.tag == "c":
                    kids = {k.tag.rsplit("}", 1)[-1]: k for k in el}
                    if "f" in kids and "v" in kids and not kids["v"].text and \
                            el.get("t") == "str" and el.get("r"):
                        out.add(coordinate_to_tuple(el.get("r")))
                    el.clear()
    except (KeyError, zipfile.BadZipFile, OSError, ParseError, ValueError):
        return set()
    return out
