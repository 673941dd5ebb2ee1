"""Inputs as planners have them: the files Excel writes (workbooks, "CSV UTF-8", Chinese
Excel's GBK CSV, semicolon CSVs), the month forms spreadsheets produce, every bad cell of
a file in one message, extra columns and total rows; and `plan --format xlsx`.

Every fixture is built here the way Excel writes it: workbooks with openpyxl (real dates
and numbers in cells, formulas with their saved values patched in as Excel saves them),
CSVs with a BOM or GBK bytes and CRLF line endings.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cli import cli
from optimizer import InputError, read_forecast, read_holdings, read_plan, read_scenarios
from optimizer.domain.months import Month
from optimizer.io.forecast import parse_forecast
from optimizer.io.months import day_first, to_month
from optimizer.io.text import sniff_delimiter

from helpers import SEED, M

EXAMPLE = Path(__file__).parent.parent / "optimizer" / "data" / "example_forecast.csv"
README_TOTAL = 398231.0          # README.md: `packopt plan` on the bundled example
NAMES = {p.id: p.name for p in SEED.products}


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def example():
    """The bundled example forecast: [(product, [calls × 12])] and its 12 months."""
    rows = list(csv.reader(EXAMPLE.open(encoding="utf-8")))
    months = [M(h) for h in rows[0][1:]]
    return [(r[0], [int(c) for c in r[1:]]) for r in rows[1:]], months


def first_of(m: Month) -> datetime:
    return datetime(m.ordinal // 12, m.ordinal % 12 + 1, 1)


def excel_csv(path: Path, rows, *, encoding: str = "utf-8-sig", delimiter: str = ","):
    """A CSV as Excel saves it: CRLF line endings, and "CSV UTF-8" starts with a BOM."""
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return path


def workbook(path: Path, sheets: dict[str, list[list]], formats: dict[str, str] = None):
    """An .xlsx with the given sheets (first one first); `formats` sets number formats of
    date cells per sheet, as Excel shows a typed month (e.g. 'mmm-yy')."""
    wb = openpyxl.Workbook()
    for k, (title, rows) in enumerate(sheets.items()):
        ws = wb.active if k == 0 else wb.create_sheet()
        ws.title = title
        for row in rows:
            ws.append(row)
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, datetime) and formats and title in formats:
                    cell.number_format = formats[title]
    wb.save(path)
    return path


def with_saved_values(path: Path, values: dict[str, object], sheet: int = 1) -> Path:
    """Put saved (cached) formula results into a workbook, as Excel does when it saves:
    openpyxl writes formulas without them."""
    name = f"xl/worksheets/sheet{sheet}.xml"
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    xml = parts[name].decode()
    for ref, value in values.items():
        xml, n = re.subn(rf'(<c r="{ref}"[^>]*>\s*<f>[^<]*</f>)\s*<v\s*/>', rf"\g<1><v>{value}</v>",
                         xml)
        assert n == 1, ref
    parts[name] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)
    return path


def total_cost(*args) -> float:
    result = run("plan", *args, "--format", "json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)["total_cost"]


# --------------------------------------------------------------------------- Done when 1

def test_the_readme_example_typed_in_excel_plans_to_the_same_total_in_every_form(tmp_path):
    """A forecast typed in Excel with months as dates, saved as .xlsx, as "CSV UTF-8" and as
    Chinese Excel's default CSV: each plans to the README's total."""
    data, months = example()
    long = [["product", "month", "calls"]] + [
        [pid, first_of(m), c] for pid, calls in data for m, c in zip(months, calls)]
    xlsx = workbook(tmp_path / "forecast.xlsx", {"Forecast": long},
                    formats={"Forecast": "mmm-yy"})
    # Excel (US) exports a date cell shown as mmm-yy as "Jan-27"; "CSV UTF-8" has a BOM
    utf8 = excel_csv(tmp_path / "utf8.csv", [["product", "month", "calls"]] + [
        [pid, f"{m:%b-%y}" if isinstance(m, datetime) else m, c]
        for pid, m, c in long[1:]])
    # Chinese Excel: product names in Chinese, dates as 2027/1/1, GBK, CRLF
    gbk = excel_csv(tmp_path / "gbk.csv", [["product", "month", "calls"]] + [
        [NAMES[pid], f"{m.year}/{m.month}/{m.day}", c] for pid, m, c in long[1:]],
        encoding="gbk")
    assert gbk.read_bytes().count(b"\r\n") == len(long)
    assert total_cost() == README_TOTAL
    for path in (xlsx, utf8, gbk):
        assert total_cost(path) == README_TOTAL, path
    result = run("plan", gbk, "--format", "json")
    assert result.stderr == (f"packopt: {gbk} is not UTF-8: read it as GB18030 (Chinese Excel's "
                             f"default CSV encoding); save it as \"CSV UTF-8\" to avoid this "
                             f"note\n")


def test_the_wide_example_as_a_workbook_with_totals_and_notes(tmp_path):
    """Months as date cells across the header, a Total column of formulas (saved values
    as Excel keeps them), a notes column and a Total row: the same plan, with notes."""
    data, months = example()
    rows = [["product", *map(first_of, months), "Total", "notes"]]
    for k, (pid, calls) in enumerate(data, start=2):
        rows.append([pid, *calls, f"=SUM(B{k}:M{k})", "from sales"])
    rows.append(["Total", *(sum(c[i] for _, c in data) for i in range(12))])
    path = workbook(tmp_path / "wide.xlsx", {"Plan 2027": rows}, formats={"Plan 2027": "mmm-yy"})
    sums = {f"N{k}": sum(calls) for k, (_, calls) in enumerate(data, start=2)}
    sums["N3"] += 1          # one row's total is off by one: a warning, not an error
    with_saved_values(path, sums)
    result = run("plan", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["total_cost"] == README_TOTAL
    src = f"{path}, sheet 'Plan 2027'"
    assert result.stderr.splitlines() == [
        f"packopt: {src}: column 'notes' ignored",
        f"packopt: {src}: column 'Total' skipped; warning: line 3 gives {sums['N3']} for "
        f"general_handwriting, but its months add up to {sums['N3'] - 1}",
        f"packopt: {src}, line 11: 'Total' row skipped (its figures match the products' sums)",
    ]
    assert run("plan", path, "-q", "--format", "json").stderr == ""


# --------------------------------------------------------------------------- month forms

JAN = M("2027-01")


@pytest.mark.parametrize("text, month", [
    ("2027-01", "2027-01"), ("2027-1", "2027-01"), ("2027/01", "2027-01"), ("2027/1", "2027-01"),
    ("202701", "2027-01"), ("2027年1月", "2027-01"), ("2027年12月", "2027-12"),
    ("2027-01-01", "2027-01"), ("2027/1/1", "2027-01"), ("2027/12/01", "2027-12"),
    ("1/1/2027", "2027-01"), ("Jan-27", "2027-01"), ("Jan 2027", "2027-01"),
    ("1-Jan-27", "2027-01"), ("01-Dec-2027", "2027-12"),          # Excel's d-mmm-yy, the 1st
    ("dec-2027", "2027-12"), ("Sep 27", "2027-09"), (" 2027-3 ", "2027-03"),
    ("2027年1月1日", "2027-01"), ("2027年12月01日", "2027-12"),
])
def test_month_forms(text, month):
    assert to_month(text) == M(month)


@pytest.mark.parametrize("text, says", [
    ("2027-13", "'2027-13' is not a month: there is no month 13"),
    ("202700", "there is no month 0"),
    ("2027-01-15", "'2027-01-15' is a date, not a month: a date is read as its month only "
                   "when it is the 1st (write 2027-01)"),
    ("2027/2/28", "is a date, not a month"),
    ("3/15/2027", "'3/15/2027' is a date that is not the 1st of a month"),
    ("2027-Q1", "it is a quarter"), ("Q3 2027", "it is a quarter"), ("2027年第1季度", "quarter"),
    ("46388", "it looks like an Excel date serial number (2027-01-01)"),
    ("2027-01-01 00:00:00", "it is a date and time"),
    ("15-Jan-27", "it looks like an Excel date with a day"),
    ("January 2027", "write Jan 2027 or 2027-01"),
    ("Feb", "it has no year"),
    ("01/2027", "the month before the year is not read"),
    ("1.1.2027", "dates with dots are not read"),
    ("soon", "'soon' is not a month: write it as YYYY-MM"),
    ("=DATE(2027,1,1)", "a formula with no saved value"),
    ("0000-12", "there is no year 0"), ("0000/1/1", "there is no year 0"),
    ("2027年1月5日", "is a date, not a month"),
    ("２０２７-０１", "is not a month"), ("2027-０１", "is not a month"),
])
def test_refused_month_forms_say_why(text, says):
    with pytest.raises(ValueError) as e:
        to_month(text)
    assert says in str(e.value)


@pytest.mark.parametrize("column, order", [
    (["1/1/2027", "2/1/2027", "12/1/2027"], False),      # M/D/YYYY: the second field is 1
    (["1/1/2027", "1/2/2027", "1/12/2027"], True),       # D/M/YYYY: the first field is 1
    (["1/1/2027"], False),                               # either: January both ways
    (["2027-01", "Jan-27"], None),                       # no a/b/YYYY dates at all
    (["1/1/2027", "2/1/2027", "3/1/2027", "1/4/2027"], False),   # mostly M/D: 1/4 is a typo
    (["1/1/2027", "2/1/2027", "1/3/2027"], False),       # a tie: M/D, never each date alone
])
def test_day_month_order_is_taken_from_the_whole_column(column, order):
    assert day_first(column) is order


@pytest.mark.parametrize("dates, months", [
    (["1/1/2027", "2/1/2027", "3/1/2027"], ["2027-01", "2027-02", "2027-03"]),
    (["1/1/2027", "1/2/2027", "1/3/2027"], ["2027-01", "2027-02", "2027-03"]),
])
def test_a_csv_with_either_date_order_reads_the_same_months(dates, months):
    text = "product,month,calls\n" + "".join(f"id_card,{d},{k}\n" for k, d in
                                             enumerate(dates, start=1))
    f = parse_forecast(text, SEED, "f.csv")
    assert (str(f.start), f.months, f.calls("id_card")) == (months[0], 3, (1, 2, 3))


def test_a_date_off_the_first_in_an_ordered_column_is_refused():
    text = ("product,month,calls\nid_card,1/1/2027,1\nid_card,2/1/2027,2\n"
            "id_card,3/1/2027,3\nid_card,1/4/2027,4\n")
    with pytest.raises(InputError) as e:
        parse_forecast(text, SEED, "f.csv")
    assert (e.value.line, e.value.field) == (5, "month")
    assert "'1/4/2027' is a date that is not the 1st of a month (read as M/D/YYYY)" in str(e.value)


@pytest.mark.parametrize("text, line, bad", [
    ("product,month,calls\nid_card,1/1/2027,1\nid_card,2/1/2027,2\nid_card,1/3/2027,3\n",
     4, "1/3/2027"),
    ("product,month,calls\nid_card,2/1/2027,1\nid_card,1/2/2027,2\n", 3, "1/2/2027"),
    ("product,1/1/2027,2/1/2027,1/3/2027\nid_card,1,2,3\n", 1, "1/3/2027")])
def test_dates_fitting_neither_order_alone_are_refused(text, line, bad):
    """Neither field is 1 in every row: one order for the column (M/D/YYYY on a tie). Each
    date judged alone read 2/1 as February and 1/3 as March in one column (accepted), and
    2/1 and 1/2 as one month twice (a 'duplicate row')."""
    with pytest.raises(InputError) as e:
        parse_forecast(text, SEED, "f.csv")
    assert e.value.line == line
    assert f"'{bad}' is a date that is not the 1st of a month (read as M/D/YYYY)" in str(e.value)


BASE = "product,month,calls\nid_card,2027-01,25000\nid_card,2027-02,3000\nid_card,2027-03,0\n"


@pytest.mark.parametrize("forms", [
    ("2027-1", "2027-2", "2027-3"), ("2027/01", "2027/02", "2027/03"), ("2027/1", "2027/2", "2027/3"),
    ("202701", "202702", "202703"), ("2027年1月", "2027年2月", "2027年3月"),
    ("2027-01-01", "2027-02-01", "2027-03-01"), ("2027/1/1", "2027/2/1", "2027/3/1"),
    ("1/1/2027", "2/1/2027", "3/1/2027"), ("1/1/2027", "1/2/2027", "1/3/2027"),
    ("Jan-27", "Feb-27", "Mar-27"), ("Jan 2027", "Feb 2027", "Mar 2027"),
])
def test_each_accepted_form_gives_the_same_plan_as_the_plain_csv(tmp_path, forms):
    text = BASE
    for plain, form in zip(("2027-01", "2027-02", "2027-03"), forms):
        text = text.replace(f",{plain},", f",{form},")
    plain_path = tmp_path / "plain.csv"
    plain_path.write_text(BASE)
    form_path = excel_csv(tmp_path / "form.csv", list(csv.reader(io.StringIO(text))))
    a, b = read_forecast(plain_path, SEED), read_forecast(form_path, SEED)
    assert (a.start, a.months, a.demand) == (b.start, b.months, b.demand)
    a, b = run("plan", plain_path, "--format", "csv"), run("plan", form_path, "--format", "csv")
    assert a.exit_code == b.exit_code == 0 and a.stdout == b.stdout


def test_wide_headers_in_excel_forms(tmp_path):
    f = parse_forecast("product,Jan-27,Feb-27,2027年3月\nid_card,25000,3000,0\n", SEED, "w.csv")
    assert f == parse_forecast(BASE, SEED, "w.csv")
    f = parse_forecast("product,1/1/2027,1/2/2027,1/3/2027\nid_card,25000,3000,0\n", SEED, "w.csv")
    assert f == parse_forecast(BASE, SEED, "w.csv")


# --------------------------------------------------------------------------- delimiters, encodings

@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_are_taken_from_the_header_line(tmp_path, delimiter):
    rows = [r.split(",") for r in BASE.splitlines()]
    path = excel_csv(tmp_path / "f.csv", rows, delimiter=delimiter)
    assert read_forecast(path, SEED).demand == (("id_card", (25000, 3000, 0)),)


def test_excels_sep_line_names_the_delimiter():
    assert sniff_delimiter("sep=;\nproduct;month;calls\n") == (";", 1)
    text = "sep=;\r\nproduct;month;calls\r\nid_card;2027-01;5\r\n"
    assert parse_forecast(text, SEED, "f.csv").demand == (("id_card", (5,)),)


def test_a_semicolon_file_with_decimal_commas_in_weights_says_so(tmp_path):
    path = tmp_path / "sc.csv"
    path.write_text("scenario;weight;scale\r\nlow;0,25;0,7\r\n", encoding="utf-8")
    fc = parse_forecast(BASE, SEED)
    with pytest.raises(InputError) as e:
        read_scenarios(path, SEED, fc)
    assert len(e.value.problems) == 2
    assert "weight '0,25' is not a plain decimal number (write the decimal point as '.': " \
           "0.25)" in str(e.value)
    assert "line 2, field 'scale': scale '0,7'" in str(e.value)


def test_utf16_unicode_text_is_read_with_a_note(tmp_path):
    path = tmp_path / "f.txt"          # Excel's "Unicode Text": UTF-16 with a BOM, tabs
    path.write_bytes(BASE.replace(",", "\t").replace("\n", "\r\n").encode("utf-16"))
    notes = []
    assert read_forecast(path, SEED, notes=notes).demand == (("id_card", (25000, 3000, 0)),)
    assert notes == [f"{path}: read as UTF-16 (Excel's Unicode Text)"]


def test_gb18030_note_and_the_utf8_with_bom_has_none(tmp_path):
    text = BASE.replace("id_card", "身份证识别")
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(text.encode("gbk"))
    bom = tmp_path / "bom.csv"
    bom.write_bytes(text.encode("utf-8-sig"))
    notes = []
    assert read_forecast(gbk, SEED, notes=notes).demand == read_forecast(bom, SEED).demand
    assert len(notes) == 1 and "read it as GB18030" in notes[0]
    notes = []
    read_forecast(bom, SEED, notes=notes)
    assert notes == []


def test_gb18030_with_its_byte_order_mark_is_read(tmp_path):
    """GB18030's own mark (84 31 95 33) decodes to U+FEFF: it was left at the header's
    start, and the file refused ('field '\ufeffproduct': header must be ...')."""
    path = tmp_path / "gb.csv"
    path.write_bytes(b"\x84\x31\x95\x33" + BASE.replace("id_card", "身份证识别").encode("gb18030"))
    assert read_forecast(path, SEED).demand == (("id_card", (25000, 3000, 0)),)


def test_a_file_neither_utf8_nor_gb18030_names_the_likely_cause(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"product,month,calls\r\nid_card,2027-01,5\r\n\xff\xfe\xff,2027-01,5\r\n")
    result = run("bill", path)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"Error: {path}, line 3: not UTF-8 text, nor GB18030: save it "
                             f"from Excel as \"CSV UTF-8 (Comma delimited)\", or give packopt "
                             f"the .xlsx itself\n")


def test_a_utf8_file_with_a_row_in_another_encoding_names_that_row(tmp_path):
    """A UTF-8 mark with a GB18030 row pasted in: read as GB18030, the mark garbled the
    header into '锘縫roduct'; the row is at fault, and the line counts the mark's bytes."""
    path = tmp_path / "f.csv"
    path.write_bytes("product,month,calls\nid_card,2027-01,5\n".encode("utf-8-sig") +
                     "身份证识别,2027-02,6\n".encode("gbk"))
    result = run("plan", path)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(f"Error: {path}, line 3: not UTF-8 text, though the file "
                                    f"starts with UTF-8's byte-order mark"), result.stderr


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("rows, closed", [
    (['"id_card,2027-02,6', "id_card,2027-03,7"], "is never closed, so lines 3 to 4"),
    (['"id_card,2027-02,6', 'id_card,2027-03,7"', "id_card,2027-04,8"],
     "is closed only on line 4, so lines 3 to 4")])
def test_an_unclosed_quote_is_blamed_on_the_line_that_opens_it(tmp_path, eol, rows, closed):
    """csv reads on to the closing quote; the row used to carry the line it ended on (4),
    with a complaint about its fields. Forecast and history readers alike."""
    path = tmp_path / "f.csv"
    path.write_bytes(eol.join(["product,month,calls", "id_card,2027-01,5", *rows, ""]).encode())
    for command in ("plan", "forecast"):
        result = run(command, path)
        assert (result.exit_code, result.stdout) == (2, "")
        assert result.stderr == (f"Error: {path}, line 3: a quote (\") opened on this line "
                                 f"{closed} read as one row of 1 field: close it or remove "
                                 f"it\n"), result.stderr


@pytest.mark.parametrize("calls", ["１００００", "١٠٠٠٠", "1０"])
def test_digits_other_than_0_to_9_are_refused(tmp_path, calls):
    """Python's int() and Decimal read full-width and Arabic-Indic digits; the docs (and
    SPEC) ask for plain numbers, as '+100' and '1_000' are refused."""
    path = tmp_path / "f.csv"
    path.write_text(f"product,month,calls\nid_card,2027-01,{calls}\n", encoding="utf-8")
    result = run("bill", path)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"Error: {path}, line 2, field 'calls': '{calls}' has digits "
                             f"other than 0-9 (full-width?): type the number with 0-9\n")
    wide = tmp_path / "w.csv"
    wide.write_text(f"product,2027-01\nid_card,{calls}\n", encoding="utf-8")
    assert "has digits other than 0-9" in run("bill", wide).stderr
    plain = tmp_path / "p.csv"
    plain.write_text("product,month,calls\nid_card,2027-01,10000\n")
    budget = run("plan", plain, "--budget", "１０００")
    assert budget.exit_code == 2 and "--budget" in budget.stderr


def test_utf16_or_utf32_without_a_mark_is_refused_and_utf32_with_one_read(tmp_path):
    """NUL bytes are valid UTF-8, so UTF-16 without its mark read as a header
    'p\\0r\\0o\\0...' and an error printing NULs; UTF-32's mark starts as UTF-16's does."""
    text = "product,month,calls\r\nid_card,2027-01,5\r\n"
    bare = tmp_path / "u16.csv"
    bare.write_bytes(text.encode("utf-16-le"))
    result = run("bill", bare)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"Error: {bare}, line 1: has NUL bytes (UTF-16 or UTF-32 text "
                             f"without a byte-order mark?): save it from Excel as \"CSV UTF-8 "
                             f"(Comma delimited)\"\n")
    wide = tmp_path / "u32.csv"
    wide.write_bytes(text.encode("utf-32"))         # (with its byte-order mark)
    notes = []
    assert read_forecast(wide, SEED, notes=notes).demand == (("id_card", (5,)),)
    assert notes == [f"{wide}: read as UTF-32"]


def test_an_old_xls_workbook_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "f.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    result = run("plan", path)
    assert result.exit_code == 2 and result.stdout == ""
    assert "an Excel 97-2003 workbook (.xls) is not read: save it as .xlsx or as CSV UTF-8" \
        in result.stderr


def test_a_workbook_with_a_password_is_told_apart_from_an_old_xls(tmp_path):
    """Excel keeps a workbook with a password to open in an OLE container, as an .xls: the
    user, who has an .xlsx, was told to save it as .xlsx."""
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100
    for name, body in (("f.xlsx", ole), ("f.bin", ole + "EncryptedPackage".encode("utf-16-le"))):
        path = tmp_path / name
        path.write_bytes(body)
        result = run("plan", path)
        assert result.exit_code == 2 and result.stdout == ""
        assert "a workbook with a password to open is not read: remove the password" \
            in result.stderr and ".xls" not in result.stderr.replace(str(path), "")


def test_a_broken_workbook_is_an_input_error(tmp_path):
    path = tmp_path / "f.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"not really a zip" * 10)
    result = run("plan", path)
    assert result.exit_code == 2 and result.stdout == "" and "Traceback" not in result.stderr
    # in plain words, without openpyxl's (BadZipFile: File is not a zip file)
    assert result.stderr == (f"Error: {path}: not a readable .xlsx workbook: save it again "
                             f"from Excel as .xlsx, or as CSV UTF-8\n")


# --------------------------------------------------------------------------- every error at once

def thirty_six_bad_cells() -> str:
    """3 products × 12 months, every calls cell with a thousands separator."""
    return "product,month,calls\r\n" + "".join(
        f'{pid},2027-{m:02d},"25,{m:03d}"\r\n'
        for pid in ("id_card", "bank_card", "general_print") for m in range(1, 13))


def test_a_file_with_36_bad_cells_reports_them_all_in_one_run(tmp_path):
    path = tmp_path / "forecast.csv"
    path.write_text(thirty_six_bad_cells(), encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_forecast(path, SEED)
    assert [(p.line, p.field) for p in e.value.problems] == [(k, "calls") for k in range(2, 38)]
    result = run("plan", path)
    assert (result.exit_code, result.stdout) == (2, "")
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    msg = lines[0]
    assert msg.startswith(f"Error: {path}: 36 problems: line 2, field 'calls': '25,001' has "
                          f"thousands separators; write the plain number 25001; line 3, ")
    listed = re.findall(r"line (\d+), field 'calls': '25,(\d{3})' has thousands separators; "
                        r"write the plain number 25\d{3}", msg)
    assert [int(n) for n, _ in listed] == list(range(2, 22))          # the first 20
    assert msg.endswith("; and 16 more. In Excel: format the column as a number without the "
                        "1000 separator, or give packopt the .xlsx itself.")
    assert msg.count("In Excel") == 1                                  # the hint once


def test_a_workbooks_thousands_separators_get_no_advice_to_give_the_workbook(tmp_path):
    """The advice ended "or give packopt the .xlsx itself" for a file that was the .xlsx."""
    path = tmp_path / "f.xlsx"
    workbook(path, {"Sheet": [["product", "month", "calls"], ["id_card", "2027-01", "25,000"]]})
    result = run("plan", path)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.rstrip().endswith("'25,000' has thousands separators; write the "
                                           "plain number 25000. In Excel: format the column "
                                           "as a number without the 1000 separator.")


def test_mixed_problems_are_listed_in_file_order_each_with_line_field_and_fix():
    text = ("product,month,calls\n"
            "id_crad,2027-01,5\n"          # unknown product
            "id_card,2027-13,-5\n"         # bad month and negative calls: two problems
            "id_card,2027-02,12.5\n"
            "id_card,2027-03\n")            # missing field
    with pytest.raises(InputError) as e:
        parse_forecast(text, SEED, "f.csv")
    assert [(p.line, p.field) for p in e.value.problems] == [
        (2, "product"), (3, "month"), (3, "calls"), (4, "calls"), (5, "calls")]
    assert str(e.value) == (
        "f.csv: 5 problems: "
        "line 2, field 'product': unknown product 'id_crad'; did you mean 'id_card'?; "
        "line 3, field 'month': '2027-13' is not a month: there is no month 13 (write "
        "YYYY-MM, month 01 to 12); "
        "line 3, field 'calls': calls must not be negative ('-5'); "
        "line 4, field 'calls': calls must be a whole number, not '12.5'; "
        "line 5, field 'calls': expected 3 fields (product,month,calls), found 2. "
        "Months are written YYYY-MM (also 2027/1, 202701, 2027年1月, Jan-27, Jan 2027, or a "
        "date on the 1st of the month).")
    assert (e.value.line, e.value.field) == (2, "product")   # the first problem's


def test_more_than_twenty_problems_in_a_wide_file_are_counted():
    header = "product," + ",".join(f"2027-{m:02d}" for m in range(1, 13))
    text = header + "\n" + "".join(f"{p},{','.join(['-1'] * 12)}\n"
                                   for p in ("id_card", "bank_card"))
    with pytest.raises(InputError) as e:
        parse_forecast(text, SEED, "w.csv")
    assert len(e.value.problems) == 24
    assert str(e.value).count("must not be negative") == 20
    assert str(e.value).endswith("; and 4 more")
    assert "line 3, field '2027-08'" in str(e.value)


def test_every_missing_month_of_every_product_at_once():
    text = ("product,month,calls\nid_card,2027-01,1\nid_card,2027-02,1\nid_card,2027-03,1\n"
            "bank_card,2027-01,1\ngeneral_print,2027-02,1\n")
    with pytest.raises(InputError) as e:
        parse_forecast(text, SEED, "f.csv")
    assert [(p.line, p.field) for p in e.value.problems] == [(5, "month"), (6, "month")]
    assert "no calls given for bank_card in 2027-02, 2027-03: every product" in str(e.value)
    assert "no calls given for general_print in 2027-01, 2027-03" in str(e.value)


# --------------------------------------------------------------------------- the old contract

OLD = "product,month,calls\n"


@pytest.mark.parametrize("text, line, field, says", [
    (OLD + "id_card,2027-01,-5\n", 2, "calls", r"calls must not be negative \('-5'\)"),
    (OLD + "id_card,2027-01,12.5\n", 2, "calls", "calls must be a whole number, not '12.5'"),
    (OLD + 'id_card,2027-01,"25,000"\n', 2, "calls",
     "'25,000' has thousands separators; write the plain number 25000"),
    (OLD + "id_card,2027-13,5\n", 2, "month", "'2027-13' is not a month: there is no month 13"),
    (OLD + "id_card,2027-01,5\nid_card,2027-01,6\n", 3, "month",
     r"duplicate row for id_card 2027-01 \(first given on line 2\)"),
    (OLD + "id_card,2027-01,5\nid_card,2027-03,6\n", 2, "month",
     "no calls given for id_card in 2027-02"),
    (OLD + "idcard,2027-01,5\n", 2, "product", r"unknown product 'idcard'; did you mean 'id_card'\?"),
])
@pytest.mark.parametrize("as_workbook", [False, True])
def test_the_old_contract_holds_for_csv_and_workbooks(tmp_path, text, line, field, says,
                                                      as_workbook):
    rows = list(csv.reader(io.StringIO(text)))
    if as_workbook:
        path = workbook(tmp_path / "forecast.xlsx", {"Sheet1": rows})
        name = f"{path}, sheet 'Sheet1'"
    else:
        path = excel_csv(tmp_path / "forecast.csv", rows)
        name = str(path)
    for command in ("plan", "bill"):
        result = run(command, path)
        assert (result.exit_code, result.stdout) == (2, "")
        assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith(f"Error: {name}, line {line}, field '{field}': ")
        assert re.search(says, result.stderr), result.stderr


# --------------------------------------------------------------------------- extra content

def test_extra_columns_are_ignored_with_a_note():
    notes = []
    f = parse_forecast("product,month,calls,notes,owner\nid_card,2027-01,5,new,Li\n", SEED,
                       "f.csv", notes=notes)
    assert f.demand == (("id_card", (5,)),)
    assert notes == ["f.csv: columns 'notes', 'owner' ignored"]


def test_extra_columns_with_digits_in_their_header_are_no_months():
    """A wide sheet's `2027 Total`, `FY2027`, `Notes (v2)` beside its months were refused
    as months ("write it as YYYY-MM"); they are extra columns, as `Owner` is."""
    notes = []
    f = parse_forecast("product,2027-01,2027-02,2027 Total,FY2027,Notes (v2),2027年合计\n"
                       "id_card,1000,2000,3000,3000,new,3000\n", SEED, "f.csv", notes=notes)
    assert f.demand == (("id_card", (1000, 2000)),)
    assert notes == ["f.csv: columns '2027 Total', 'FY2027', 'Notes (v2)', '2027年合计' ignored"]
    with pytest.raises(InputError, match="'2027-13' is not a month"):
        parse_forecast("product,2027-12,2027-13\nid_card,1,2\n", SEED, "f.csv")


def test_a_total_row_of_unsaved_formulas_is_one_phrase():
    """A workbook written by a program keeps no saved values: a Total row of =SUM(...)
    over 24 months was 24 clauses of "cannot be read", 20 lines on an 80-column terminal."""
    months = [f"2027-{m:02d}" for m in range(1, 13)] + [f"2028-{m:02d}" for m in range(1, 13)]
    text = "product," + ",".join(months) + "\nid_card," + ",".join(["5"] * 24) + \
        "\nTotal," + ",".join("=SUM(B2:B2)" for _ in months) + "\n"
    notes = []
    parse_forecast(text, SEED, "f.csv", notes=notes)
    assert notes == ["f.csv, line 3: 'Total' row skipped; warning: its figures for 2027-01 to "
                     "2028-12 (24 figures) are formulas with no saved value, not checked (open "
                     "and save the workbook in Excel to check them)"]

def test_a_header_less_column_is_ignored_silently_when_empty_and_noted_when_not():
    notes = []
    parse_forecast("product,month,calls,,\nid_card,2027-01,5,,\n", SEED, "f.csv", notes=notes)
    assert notes == []
    parse_forecast("product,month,calls,\nid_card,2027-01,5,x\n", SEED, "f.csv", notes=notes)
    assert notes == ["f.csv: column 'column 4 (no header)' ignored"]


@pytest.mark.parametrize("rows, note", [
    (["Total,,26000"], "f.csv, line 4: 'Total' row skipped (its figures match the products' sums)"),
    (["合计,2027-01,26000"], "f.csv, line 4: '合计' row skipped (its figures match the products' "
                             "sums)"),
    (["Total,,25000"], "f.csv, line 4: 'Total' row skipped; warning: it gives 25000 calls in "
                       "all, but the products add up to 26000"),
    (["Total,2027-01,\"25,000\""], "f.csv, line 4: 'Total' row skipped; warning: it gives "
                                   "25,000 calls for 2027-01, but the products add up to 26000"),
    ([",2027-01,26000"], "f.csv, line 4: row without a product skipped (its figures match the "
                         "products' sums)"),
    (["Total,,"], "f.csv, line 4: 'Total' row skipped"),
    (["Total,2028-01,5"], "f.csv, line 4: 'Total' row skipped; warning: it gives 5 calls for "
                          "2028-01, not a month of the forecast"),
])
def test_total_rows_are_skipped_and_checked(rows, note):
    text = "product,month,calls\nid_card,2027-01,25000\nbank_card,2027-01,1000\n" + \
        "\n".join(rows) + "\n"
    notes = []
    f = parse_forecast(text, SEED, "f.csv", notes=notes)
    assert dict(f.demand) == {"id_card": (25000,), "bank_card": (1000,)}
    assert notes == [note]


@pytest.mark.parametrize("text, says", [
    ("product,month,calls\nid_card,2027-01,25000\n,2027-02,3000\n",
     "f.csv, line 3, field 'product': no product, and not a total row: it gives 3000 calls "
     "for 2027-02, not a month of the forecast. Give each row its product"),
    ("product,month,calls\nid_card,2027-01,25000\nbank_card,2027-01,1000\n,2027-01,1\n",
     "f.csv, line 4, field 'product': no product, and not a total row: it gives 1 calls for "
     "2027-01, but the products add up to 26000. Give each row its product"),
    ("product,2027-01,2027-02\nid_card,1,2\n,5,6\n",
     "f.csv, line 3, field 'product': no product, and not a total row: it gives 5 calls for "
     "2027-01, but the products add up to 1; it gives 6 calls for 2027-02, but the products "
     "add up to 2. Give each row its product")])
def test_a_row_without_a_product_that_is_no_total_is_an_error(text, says):
    """Skipped with a note, such a row's calls were left out of the plan (a product cell
    emptied, or merged over its months in a CSV export)."""
    with pytest.raises(InputError) as e:
        parse_forecast(text, SEED, "f.csv")
    assert str(e.value).startswith(says), str(e.value)


def test_a_product_merged_over_its_months_in_a_workbook_names_each_row(tmp_path):
    """Excel keeps a merged cell's value in its first row only: the product names its
    three months (the rows below it were skipped as rows without a product, and the
    horizon shrank to one month, exit 0)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["product", "month", "calls"])
    for p in ("id_card", "bank_card"):
        for m in (1, 2, 3):
            ws.append([p if m == 1 else None, f"2027-{m:02d}", 20000 + m])
    ws.merge_cells("A2:A4")
    ws.merge_cells("A5:A7")
    ws.merge_cells("D1:E2")          # (an empty merge off the table changes nothing)
    wb.save(tmp_path / "f.xlsx")
    notes = []
    f = read_forecast(tmp_path / "f.xlsx", SEED, notes=notes)
    assert dict(f.demand) == {"id_card": (20001, 20002, 20003),
                              "bank_card": (20001, 20002, 20003)}
    assert notes == [f"{tmp_path / 'f.xlsx'}, sheet 'Sheet': merged cells A2:A4, A5:A7 read as "
                     f"their value on each row"]


def test_a_wide_total_column_and_row():
    text = ("product,2027-01,2027-02,Total\nid_card,1,2,3\nbank_card,10,20,31\n"
            "合计,11,22,33\n")
    notes = []
    f = parse_forecast(text, SEED, "w.csv", notes=notes)
    assert dict(f.demand) == {"id_card": (1, 2), "bank_card": (10, 20)}
    assert notes == [
        "w.csv: column 'Total' skipped; warning: line 3 gives 31 for bank_card, but its "
        "months add up to 30",
        "w.csv, line 4: '合计' row skipped (its figures match the products' sums)",
    ]


def test_plan_holdings_and_scenarios_ignore_extra_columns_and_total_rows(tmp_path):
    notes = []
    plan = tmp_path / "plan.csv"
    plan.write_text("product,month,size,count,cost,who\nid_card,2027-01,1000,2,240.00,me\n"
                    "Total,,,,240.00,\n")
    assert [(p.product, p.size, p.count) for p in read_plan(plan, SEED, notes=notes).purchases] \
        == [("id_card", 1000, 2)]
    held = tmp_path / "held.csv"
    held.write_text("product,expires,calls_left,bought\nid_card,2027/6,100,2026-07\n")
    assert [(h.product, str(h.expires)) for h in read_holdings(held, SEED, notes=notes)] == \
        [("id_card", "2027-06")]
    assert notes == [f"{plan}: column 'who' ignored", f"{plan}, line 3: 'Total' row skipped",
                     f"{held}: column 'bought' ignored"]


def test_a_plan_or_holdings_row_with_every_field_but_its_product_is_an_error(tmp_path):
    """Excel saves a product cell merged over two purchases in the first row only: the
    second purchase (600 CNY) was skipped as a "row without a product" and went unbilled;
    a blank row with only a cost stays a total row, skipped."""
    plan = tmp_path / "plan.csv"
    plan.write_text("product,month,size,count\nid_card,2027-01,10000,2\n,2027-01,1000,5\n")
    with pytest.raises(InputError) as e:
        read_plan(plan, SEED)
    assert str(e.value).startswith(f"{plan}, line 3, field 'product': the product is empty "
                                   f"while every other field is filled")
    held = tmp_path / "held.csv"
    held.write_text("product,expires,calls_left\nid_card,2027-06,100\n,2027-09,50000\n")
    with pytest.raises(InputError, match="line 3, field 'product': the product is empty"):
        read_holdings(held, SEED)
    notes = []
    plan.write_text("product,month,size,count,cost\nid_card,2027-01,10000,2,1600\n,,,,1600\n")
    assert len(read_plan(plan, SEED, notes=notes).purchases) == 1
    assert notes == [f"{plan}, line 3: row without a product skipped"]


# --------------------------------------------------------------------------- workbooks

def test_numbers_dates_and_formulas_in_cells_are_taken_as_they_are(tmp_path):
    rows = [["product", "month", "calls"],
            ["id_card", datetime(2027, 1, 1), 25000.0],          # a float that is whole
            ["id_card", date(2027, 2, 1), "=B2*0+3000"],          # a formula, saved value 3000
            ["身份证识别", "2027-03", 0]]
    path = with_saved_values(workbook(tmp_path / "f.xlsx", {"F": rows}), {"C3": 3000})
    assert read_forecast(path, SEED).demand == (("id_card", (25000, 3000, 0)),)


def test_a_small_number_cell_is_a_plain_decimal_as_in_a_csv(tmp_path):
    """A weight of 0.00001 typed in Excel is a float whose repr is 1e-05: it reads as the
    plain decimal it is, as the same text in a CSV does (0.1 stays 0.1)."""
    base = parse_forecast(BASE, SEED)
    path = workbook(tmp_path / "sc.xlsx", {"S": [["scenario", "weight", "scale"],
                                                 ["rare", 0.00001, 1.5], ["base", 1, 0.1]]})
    scenarios = read_scenarios(path, SEED, base)
    assert [(s.name, s.weight) for s in scenarios] == [("rare", Decimal("0.00001")),
                                                       ("base", Decimal(1))]
    assert scenarios[1].forecast.calls("id_card") == (2500, 300, 0)
    forecast = tmp_path / "f.csv"
    forecast.write_text(BASE, encoding="utf-8")
    result = run("plan", forecast, "--scenarios", path, "-q", "--format", "json")
    assert result.exit_code == 0, result.stderr


def test_a_formula_without_a_saved_value_says_so(tmp_path):
    rows = [["product", "month", "calls"], ["id_card", "2027-01", "=1+1"]]
    path = workbook(tmp_path / "f.xlsx", {"F": rows})
    with pytest.raises(InputError) as e:
        read_forecast(path, SEED)
    assert str(e.value) == (f"{path}, sheet 'F', line 2, field 'calls': '=1+1' is a formula "
                            f"with no saved value: open the workbook in Excel and save it, or "
                            f"type the number")


@pytest.mark.parametrize("value, says", [
    (12.5, "calls must be a whole number, not '12.5'"),
    (1e-05, "calls must be a whole number, not '0.00001'"),     # a float, written plainly
    (-3, "calls must not be negative ('-3')"),
    ("25,000", "'25,000' has thousands separators"),
    (True, "'TRUE' is not a whole number of calls"),
    (None, "calls is empty"),       # (the row was 'expected 3 fields, found 2')
])
def test_bad_cells_in_a_workbook_name_the_sheet_row_and_column(tmp_path, value, says):
    rows = [["product", "month", "calls"], [], ["id_card", datetime(2027, 1, 1), value]]
    path = workbook(tmp_path / "f.xlsx", {"Q1": rows})
    with pytest.raises(InputError) as e:
        read_forecast(path, SEED)
    assert str(e.value).startswith(f"{path}, sheet 'Q1', line 3, field 'calls': {says}")


def test_empty_last_cells_of_workbook_rows_are_empty_fields_in_every_reader(tmp_path):
    """A sheet's rows end at their last value, so a row whose last cells are empty was
    'found 2' fields; as Excel pads a sheet saved as CSV, it is the empty cell named."""
    path = workbook(tmp_path / "b.xlsx", {
        "Plan": [["product", "month", "size", "count"], ["id_card", "2027-01", 1000]],
        "Wide": [["product", "2027-01", "2027-02"], ["id_card", 5]]})
    with pytest.raises(InputError) as e:
        read_plan(f"{path}#Plan", SEED)
    assert str(e.value) == f"{path}, sheet 'Plan', line 2, field 'count': count is empty"
    with pytest.raises(InputError) as e:
        read_forecast(path, SEED, sheet="Wide")
    assert str(e.value) == f"{path}, sheet 'Wide', line 2, field '2027-02': calls is empty"


def test_a_date_cell_not_on_the_first_is_refused(tmp_path):
    rows = [["product", "month", "calls"], ["id_card", datetime(2027, 1, 15), 5]]
    path = workbook(tmp_path / "f.xlsx", {"F": rows})
    with pytest.raises(InputError, match="'2027-01-15' is a date, not a month"):
        read_forecast(path, SEED)


def test_sheets_are_chosen_by_name(tmp_path):
    path = workbook(tmp_path / "book.xlsx", {
        "Read me": [["This workbook holds the 2027 forecast"]],
        "Forecast": [["product", "month", "calls"], ["id_card", "2027-01", 10]],
        "Scenarios": [["scenario", "weight", "scale"], ["low", 1, 0.5], ["high", 1, 1.5]],
        "Held": [["product", "expires", "calls_left"], ["id_card", "2027-06", 10]],
    })
    assert read_forecast(path, SEED, sheet="Forecast").demand == (("id_card", (10,)),)
    assert read_forecast(path, SEED, sheet="forecast").demand == (("id_card", (10,)),)
    with pytest.raises(InputError) as e:
        read_forecast(path, SEED)            # the first sheet is not a forecast
    assert e.value.source == f"{path}, sheet 'Read me'" and "header must be" in e.value.message
    with pytest.raises(InputError) as e:
        read_forecast(path, SEED, sheet="2028")
    assert str(e.value) == (f"{path}: no sheet '2028' in the workbook (its sheets: 'Read me', "
                            f"'Forecast', 'Scenarios', 'Held')")
    base = read_forecast(path, SEED, sheet="Forecast")
    scenarios = read_scenarios(f"{path}#Scenarios", SEED, base)
    assert [(s.name, s.forecast.calls("id_card")) for s in scenarios] == [("low", (5,)),
                                                                          ("high", (15,))]
    assert read_holdings(f"{path}#Held", SEED)[0].calls_left == 10
    result = run("plan", path, "--sheet", "Forecast", "--scenarios", f"{path}#Scenarios",
                 "--holdings", f"{path}#Held", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert run("plan", path, "--sheet", "Nope").stderr.startswith(f"Error: {path}: no sheet")


def test_a_header_missing_from_the_first_sheet_names_the_other_sheets(tmp_path):
    """A workbook opening on a page of notes: each reader's header error says which sheets
    there are and how to name one (the forecast's --sheet, other files' book.xlsx#NAME);
    a workbook of one sheet, or a sheet asked for by name, gets no such advice."""
    path = workbook(tmp_path / "book.xlsx", {
        "Notes": [["Prepared by finance"]],
        "Forecast": [["product", "month", "calls"], ["id_card", "2027-01", 10]],
        "Held": [["product", "expires", "calls_left"], ["id_card", "2027-06", 10]],
    })
    plain = tmp_path / "f.csv"
    plain.write_text("product,month,calls\nid_card,2027-01,10\n")
    says = "The first sheet was read; the workbook also has 'Forecast', 'Held': to read one, "
    for args, how in (
            (("plan", path), "name it with --sheet NAME."),
            (("forecast", path), "name it with --sheet NAME."),
            (("bill", plain, "--plan", path), "name it with the path, as book.xlsx#NAME."),
            (("plan", plain, "--holdings", path), "name it with the path, as book.xlsx#NAME."),
            (("plan", plain, "--scenarios", path),
             "name it with the path, as book.xlsx#NAME.")):
        result = run(*args)
        assert result.exit_code == 2 and result.stdout == ""
        assert f"{path}, sheet 'Notes', line 1" in result.stderr
        assert result.stderr.endswith(says + how + "\n"), result.stderr
    named = run("plan", path, "--sheet", "Held")
    assert named.exit_code == 2 and "workbook also has" not in named.stderr
    alone = workbook(tmp_path / "one.xlsx", {"Notes": [["Prepared by finance"]]})
    lone = run("plan", alone)
    assert lone.exit_code == 2 and "header must be" in lone.stderr
    assert "workbook also has" not in lone.stderr


def test_a_product_cell_of_a_formula_with_no_saved_value_says_so():
    with pytest.raises(InputError) as e:
        parse_forecast("product,month,calls\n=A5,2027-01,5\n", SEED, "f.csv")
    assert str(e.value) == ("f.csv, line 2, field 'product': '=A5' is a formula with no saved "
                            "value: open the workbook in Excel and save it, or type the product")


def test_a_sheet_named_with_a_hash_is_found(tmp_path):
    """`book.xlsx#My#Plan`: the path ends at the first '#' that leaves a file (it was cut
    at the last: no file 'book.xlsx#My')."""
    path = workbook(tmp_path / "book.xlsx", {
        "Notes": [["notes"]],
        "My#Plan": [["product", "month", "size", "count"], ["id_card", "2027-01", 1000, 1]]})
    forecast = tmp_path / "f.csv"
    forecast.write_text("product,month,calls\nid_card,2027-01,1500\n")
    result = run("bill", forecast, "--plan", f"{path}#My#Plan", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["pack_cost"] == 120.0


def test_sheet_asked_of_a_csv_is_an_error(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(BASE)
    result = run("bill", path, "--sheet", "F")
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {path}: sheet 'F' asked for, but this is not a workbook "
                             f"(.xlsx)\n")


def test_an_xlsm_or_a_misnamed_workbook_is_read_by_its_content(tmp_path):
    path = workbook(tmp_path / "f.xlsm", {"F": [["product", "month", "calls"],
                                               ["id_card", "2027-01", 7]]})
    assert read_forecast(path, SEED).demand == (("id_card", (7,)),)
    misnamed = tmp_path / "f.csv"
    misnamed.write_bytes(path.read_bytes())
    assert read_forecast(misnamed, SEED).demand == (("id_card", (7,)),)


def test_an_empty_sheet(tmp_path):
    path = workbook(tmp_path / "f.xlsx", {"F": []})
    with pytest.raises(InputError) as e:
        read_forecast(path, SEED)
    assert (e.value.line, e.value.field) == (1, "header") and "empty" in e.value.message


# --------------------------------------------------------------------------- plan --format xlsx

def test_plan_as_a_workbook_bills_back_to_the_fen(tmp_path):
    out = tmp_path / "plan.xlsx"
    result = run("plan", "--format", "xlsx", "--output", out)
    assert (result.exit_code, result.stdout) == (0, "")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Plan", "Costs", "Months"]
    plan_rows = list(wb["Plan"].iter_rows(values_only=True))
    assert plan_rows[0] == ("product", "month", "size", "count", "cost")
    assert plan_rows[1] == ("general_print", "2027-01", 100000, 2, 10000)
    costs = list(wb["Costs"].iter_rows(values_only=True))
    assert costs[10][:4] == ("Total", 343840, 54391, 398231)
    assert costs[12][0] == "packopt plan: optimal (proven to the fen)"
    months = list(wb["Months"].iter_rows(values_only=True))
    assert len(months) == 1 + 9 * 12 and months[1][:3] == ("general_print", "2027-01", 150000)
    csv_plan = run("plan", "--format", "csv").stdout
    assert [list(map(str, r)) for r in plan_rows[1:]] == [
        r[:4] + [str(int(float(r[4])))] for r in list(csv.reader(io.StringIO(csv_plan)))[1:]]
    billed = run("bill", EXAMPLE, "--plan", out, "--format", "json")
    assert billed.exit_code == 0 and billed.stderr == ""
    assert json.loads(billed.stdout)["total_cost"] == README_TOTAL


def test_a_plan_workbook_holds_the_scenarios_comparison_and_cash_flow_asked_for(tmp_path):
    """`--format xlsx` with --compare, --cashflow and --scenarios wrote the three plan
    sheets only, without a word; each is now a sheet holding the table the CSV output
    writes for it (the report holds the comparison too)."""
    forecast = tmp_path / "f.csv"
    forecast.write_text(BASE, encoding="utf-8")
    scen = tmp_path / "s.csv"
    scen.write_text("scenario,weight,scale\nlow,1,0.7\nbase,2,1\nhigh,1,1.5\n")
    out, report = tmp_path / "plan.xlsx", tmp_path / "r.html"
    args = [forecast, "--scenarios", scen, "--compare"]
    result = run("plan", *args, "--cashflow", "--format", "xlsx", "--output", out,
                 "--report", report)
    assert (result.exit_code, result.stdout) == (0, ""), result.stderr
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Plan", "Costs", "Months", "Scenarios", "Compared", "Cash flow"]
    data = json.loads(run("plan", *args, "--format", "json").stdout)
    scenarios = list(wb["Scenarios"].iter_rows(values_only=True))
    assert [(r[0], float(r[2])) for r in scenarios[1:]] == [
        (x["name"], x["total_cost"]) for x in data["scenarios"]]
    compared = list(wb["Compared"].iter_rows(values_only=True))
    assert compared[0][4] == "expected_cost"
    assert [(r[0], round(float(r[4]), 2)) for r in compared[1:]] == [
        (x["strategy"], x["cost"]) for x in data["comparison"]["strategies"]]
    flows = list(wb["Cash flow"].iter_rows(values_only=True))
    csv_flows = list(csv.reader(io.StringIO(run("plan", *args[:3], "--cashflow", "--format",
                                                "csv").stdout)))
    assert [[str(c) for c in r[:1]] + [f"{float(c):.2f}" for c in r[1:]] for r in flows[1:]] \
        == [r[:1] + [f"{float(c):.2f}" for c in r[1:]] for r in csv_flows[1:]]
    assert "<h2>Compared with</h2>" in report.read_text("utf-8")


def test_a_workbook_plans_cost_warnings_name_its_sheet(tmp_path):
    path = workbook(tmp_path / "plan.xlsx", {"Plan": [
        ["product", "month", "size", "count", "cost"], ["id_card", "2027-01", 100000, 3, "abc"],
        ["id_card", "2027-01", 100000, 3, 0.5]]})
    forecast = tmp_path / "f.csv"
    forecast.write_text(BASE, encoding="utf-8")
    result = run("bill", forecast, "--plan", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    billed = "(id_card 100,000 × 3 costs 15,000.00 CNY); the catalog's price is billed"
    assert json.loads(result.stdout)["warnings"][:2] == [
        f"{path}, sheet 'Plan', line 2: cost 'abc' is not a number {billed}",
        f"{path}, sheet 'Plan', line 3: cost 0.5 disagrees with the catalog {billed}"]


@pytest.mark.parametrize("args", [["--format", "xlsx"], ["--output", "p.xlsx"],
                                  ["--format", "csv", "--output", "p.xlsx"]])
def test_xlsx_and_output_go_together(args):
    result = run("plan", *args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == ("Error: --format xlsx and --output FILE.xlsx go together (other "
                             "formats go to stdout) (see 'packopt plan --help')\n")


def test_xlsx_is_a_format_of_plan_only():
    result = run("catalog", "--format", "xlsx")
    assert result.exit_code == 2 and "'xlsx' is not one of" in result.stderr


def test_an_unwritable_workbook_is_an_input_error(tmp_path):
    result = run("plan", "--format", "xlsx", "--output", tmp_path / "no" / "plan.xlsx")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"Error: {tmp_path / 'no' / 'plan.xlsx'}: cannot write the "
                             f"workbook (No such file or directory)\n")


def test_a_serial_number_month_in_a_workbook_is_not_told_to_give_the_workbook(tmp_path):
    """The advice for a CSV ('..., or give packopt the .xlsx itself') was given for a
    cell of the workbook itself."""
    path = workbook(tmp_path / "f.xlsx", {"F": [["product", "month", "calls"],
                                                ["id_card", 46388, 5000]]})
    with pytest.raises(InputError) as e:
        read_forecast(path, SEED)
    assert "Excel date serial number (2027-01-01)" in str(e.value)
    assert ".xlsx itself" not in str(e.value)


def _patched(path: Path, part: str, edit) -> Path:
    """A workbook with one of its XML parts edited (what Excel writes that openpyxl
    does not)."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts[part] = edit(parts[part])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)
    return path


@pytest.mark.parametrize("fmt_id", [27, 31, 57, 58])
def test_months_in_an_east_asian_date_format_read_as_months(tmp_path, fmt_id):
    """Chinese, Japanese and Korean Excel store their date formats by id alone (27-36,
    50-58, no definition in the file); openpyxl does not know them, so a month typed as
    2027年1月 came as 46388 and was refused as "an Excel date serial number"."""
    rows = [["product", "month", "calls"], ["id_card", datetime(2027, 1, 1), 25000],
            ["id_card", datetime(2027, 2, 1), 26000]]
    path = workbook(tmp_path / "f.xlsx", {"Forecast": rows},
                    formats={"Forecast": 'yyyy"年"m"月"'})

    def by_id(xml: bytes) -> bytes:
        xml, n = re.subn(rb'<numFmt numFmtId="(\d+)"[^>]*/>', b"", xml)
        assert n
        return re.sub(rb'numFmtId="1[6-9]\d"', f'numFmtId="{fmt_id}"'.encode(), xml)
    _patched(path, "xl/styles.xml", by_id)
    f = read_forecast(path, SEED)
    assert (f.start, f.months, f.demand) == (M("2027-01"), 2, (("id_card", (25000, 26000)),))


def test_a_formula_that_shows_nothing_is_an_empty_cell(tmp_path):
    """`=IF(...,"",...)` saved by Excel (an empty text result) was read as "a formula with no
    saved value: open the workbook in Excel and save it", which cannot help."""
    rows = [["product", "month", "calls"], ["id_card", "2027-01", 25000],
            ['=IF(1>2,"x","")', '=IF(1>2,"x","")', '=IF(1>2,1,"")']]
    path = workbook(tmp_path / "f.xlsx", {"Forecast": rows})
    _patched(path, "xl/worksheets/sheet1.xml", lambda xml: re.sub(
        rb'<c r="([A-C]3)"><f>(.*?)</f><v\s*/></c>', rb'<c r="\1" t="str"><f>\2</f><v/></c>',
        xml))
    assert read_forecast(path, SEED).demand == (("id_card", (25000,)),)
    # (a formula never calculated is still told as one)
    unsaved = workbook(tmp_path / "g.xlsx", {"Forecast": rows})
    with pytest.raises(InputError, match="formula with no saved value"):
        read_forecast(unsaved, SEED)


def test_a_table_set_in_from_column_a_reads_as_from_column_a(tmp_path):
    """A table from B2 (column A a margin) was refused by the forecast, plan and holdings
    readers ("header must be", with no field named); it starts at its first column that
    holds anything. A header with an empty first cell names that column."""
    def set_in(path, rows):
        wb = openpyxl.Workbook()
        for r, row in enumerate(rows, start=2):
            for c, v in enumerate(row, start=2):
                wb.active.cell(r, c, v)
        wb.save(path)
        return path
    forecast = set_in(tmp_path / "f.xlsx", [["product", "month", "calls"],
                                            ["id_card", "2027-01", 5000]])
    plan = set_in(tmp_path / "p.xlsx", [["product", "month", "size", "count"],
                                        ["id_card", "2027-01", 1000, 2]])
    assert read_forecast(forecast, SEED).demand == (("id_card", (5000,)),)
    assert [(p.product, p.count) for p in read_plan(plan, SEED).purchases] == [("id_card", 2)]
    with pytest.raises(InputError) as e:
        parse_forecast(",,\n,a,b\n", SEED, "f.csv")
    assert (e.value.line, e.value.field) == (2, "column 1 (empty)")


def test_whole_numbers_with_zero_decimals_are_whole_numbers():
    """pandas writes a float column as 25000.0, and the same value in a workbook was read:
    in a CSV it was refused ("must be a whole number, not '25000.0'"). 12.5 still is."""
    f = parse_forecast("product,month,calls\nid_card,2027-01,25000.0\nid_card,2027-02,3000.\n"
                       "id_card,2027-03,0.00\n", SEED, "f.csv")
    assert f.demand == (("id_card", (25000, 3000, 0)),)
    with pytest.raises(InputError, match="calls must be a whole number, not '12.50'"):
        parse_forecast("product,month,calls\nid_card,2027-01,12.50\n", SEED, "f.csv")


def test_quarter_subtotals_beside_months_are_extra_columns():
    """A planner's sheet with a `Q1 2027` subtotal after every three months was told "it is
    a quarter; give one column per month", which it does; a file of quarters alone still
    is."""
    notes = []
    f = parse_forecast("product,2027-01,2027-02,2027-03,Q1 2027,2027-04\nid_card,1,2,3,6,4\n",
                       SEED, "f.csv", notes=notes)
    assert f.demand == (("id_card", (1, 2, 3, 4)),)
    assert notes == ["f.csv: column 'Q1 2027' ignored"]
    with pytest.raises(InputError, match="it is a quarter; give one row"):
        parse_forecast("product,Q1 2027,Q2 2027\nid_card,1,2\n", SEED, "f.csv")


def test_a_hidden_first_sheet_is_not_the_one_read(tmp_path):
    """The first sheet the user sees is read: a hidden first sheet (an old version kept)
    was read silently."""
    path = tmp_path / "f.xlsx"
    wb = openpyxl.Workbook()
    old = wb.active
    old.title = "Forecast v1 (old)"
    old.append(["product", "month", "calls"])
    old.append(["id_card", "2027-01", 99999])
    old.sheet_state = "hidden"
    new = wb.create_sheet("Forecast")
    new.append(["product", "month", "calls"])
    new.append(["id_card", "2027-01", 5000])
    wb.active = 1
    wb.save(path)
    assert read_forecast(path, SEED).demand == (("id_card", (5000,)),)
