"""Month cells as spreadsheets write them (docs/cli.md, "Months").

Accepted: `YYYY-MM`, `YYYY-M`, `YYYY/MM`, `YYYY/M`, `YYYYMM`, `YYYY年M月`, a date on the
1st of a month (`2027-01-01`, `2027/1/1`, and `M/D/YYYY` or `D/M/YYYY` with the order read
from the whole column: the field that is 1 in every row is the day), and English month
abbreviations with a 2- or 4-digit year (`Jan-27`, `Jan 2027`). Anything else, a date not
on the 1st included, is refused with a message that says what the text looks like and how
to write it.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from typing import Iterable

from ..domain.months import Month

FORMS_HINT = ("Months are written YYYY-MM (also 2027/1, 202701, 2027年1月, Jan-27, Jan 2027, "
              "or a date on the 1st of the month).")

ABBREVIATIONS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                 "dec")
_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")

_YEAR_MONTH = re.compile(r"(\d{4})[-/](\d{1,2})", re.A)
_COMPACT = re.compile(r"(\d{4})(\d{2})", re.A)
_CHINESE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月", re.A)
_CHINESE_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日", re.A)
_ISO_DATE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})", re.A)
_SLASH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.A)
_ABBREVIATED = re.compile(r"([A-Za-z]{3})[- ](\d{2}|\d{4})", re.A)
_DATE_TIME = re.compile(r"(\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}/\d{1,2}/\d{4})[ T]\d{1,2}:\d{2}"
                        r"(:\d{2}(\.\d+)?)?", re.A)
_QUARTER = re.compile(r"(?i).*\bQ[1-4]\b.*|.*\d\s*Q[1-4].*|.*季度.*")
_SERIAL = re.compile(r"\d{5}(\.0+)?", re.A)
_EXCEL_DAY = re.compile(r"(\d{1,2})[- ]([A-Za-z]{3,9})[- ](\d{2}|\d{4})", re.A)
_NAME_ONLY = re.compile(r"[A-Za-z]{3,9}\.?")
_FULL_NAME = re.compile(r"([A-Za-z]{4,9})[- ,]+(\d{2}|\d{4})", re.A)
_EXCEL_EPOCH = date(1899, 12, 30)
# What a month's header may hold besides digits and separators (`looks_like_month`).
_MONTH_WORDS = re.compile("|".join(sorted(_NAMES + ABBREVIATIONS + ("sept",), key=len,
                                          reverse=True)) + "|[年月日]")


def day_first(values: Iterable[str]) -> bool | None:
    """How the column's `a/b/YYYY` dates are ordered: True for D/M/YYYY, False for
    M/D/YYYY, None when the column has none.

    The field that is 1 in every row is the day; when both are (all January 1st), either
    order reads the same. When neither is, the order that puts more dates on the 1st wins,
    so that the others are refused as dates not on the 1st rather than read the other way;
    a tie goes to M/D/YYYY (Excel's own order), never to each date alone, which read
    `2/1/2027` as February and `1/3/2027` as March in one column.
    """
    pairs = [(int(m.group(1)), int(m.group(2)), times)
             for v, times in Counter(values).items()       # each distinct text once
             if (m := _SLASH_DATE.fullmatch(v.strip()))]
    if not pairs:
        return None
    month_first = sum(times for _, b, times in pairs if b == 1)   # M/D/YYYY: on the 1st
    day_first_ = sum(times for a, _, times in pairs if a == 1)
    return day_first_ > month_first


def to_month(text: str, *, day_is_first: bool | None = None, workbook: bool = False) -> Month:
    """The month `text` names, or ValueError whose message says what `text` looks like
    and how to write it (`workbook`: a cell of one, not told to give packopt the workbook)."""
    v = text.strip()
    if m := (_YEAR_MONTH.fullmatch(v) or _COMPACT.fullmatch(v) or _CHINESE.fullmatch(v)):
        return _of(v, int(m.group(1)), int(m.group(2)))
    if m := _ISO_DATE.fullmatch(v):
        return _on_first(v, int(m.group(1)), int(m.group(3)), int(m.group(4)))
    if m := _CHINESE_DATE.fullmatch(v):         # 2027年1月1日: a date on the 1st
        return _on_first(v, int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _SLASH_DATE.fullmatch(v):
        a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if day_is_first is None:         # judged alone: only a 1 tells which is the day
            if b == 1 and a != 1:
                day_is_first = False
            elif a == 1 and b != 1:
                day_is_first = True
            elif a == b == 1:
                return Month.of(year, 1)
            else:
                raise ValueError(f"'{v}' is a date that is not the 1st of a month, whichever "
                                 f"field is the day: write the month as YYYY-MM")
        day, month = (a, b) if day_is_first else (b, a)
        order = "D/M/YYYY" if day_is_first else "M/D/YYYY"
        if day != 1 or not 1 <= month <= 12:
            raise ValueError(f"'{v}' is a date that is not the 1st of a month (read as "
                             f"{order}): write the month as YYYY-MM")
        return _of(v, year, month)
    if (m := _EXCEL_DAY.fullmatch(v)) and int(m.group(1)) == 1 and len(m.group(2)) == 3:
        v = f"{m.group(2)} {m.group(3)}"        # 1-Jan-27 (Excel's d-mmm-yy): the month
    if m := _ABBREVIATED.fullmatch(v):
        name, year = m.group(1).lower(), m.group(2)
        if name in ABBREVIATIONS:
            return Month.of(int(year) + (2000 if len(year) == 2 else 0),
                            ABBREVIATIONS.index(name) + 1)
    raise _not_month(v, _why(v, workbook))


def _of(text: str, year: int, month: int) -> Month:
    if year < 1:
        raise _not_month(text, "there is no year 0 (write the year in full, e.g. 2027)")
    if not 1 <= month <= 12:
        raise _not_month(text, f"there is no month {month} (write YYYY-MM, month 01 to 12)")
    return Month.of(year, month)


def _on_first(text: str, year: int, month: int, day: int) -> Month:
    month_ = _of(text, year, month)
    if day != 1:
        raise ValueError(f"'{text}' is a date, not a month: a date is read as its month "
                         f"only when it is the 1st (write {month_})")
    return month_


def _not_month(text: str, why: str) -> ValueError:
    return ValueError(f"'{text}' is not a month: {why}")


def _why(v: str, workbook: bool = False) -> str:
    """What a refused month looks like, and how to write it."""
    low = v.lower()
    if not v:
        return "it is empty (write YYYY-MM)"
    if v.startswith("="):
        return ("it is a formula with no saved value; open the workbook in Excel and save "
                "it, or type the month as YYYY-MM")
    if _DATE_TIME.fullmatch(v):
        return ("it is a date and time (Excel's date cells exported with their time); "
                "format the column as dates without the time, or write the month as YYYY-MM")
    if _SERIAL.fullmatch(v) and 20000 <= float(v) < 80000:
        day = _EXCEL_EPOCH + timedelta(days=int(float(v)))
        return (f"it looks like an Excel date serial number ({day.isoformat()}); format the "
                f"column as dates or as text YYYY-MM" +
                ("" if workbook else ", or give packopt the .xlsx itself"))
    if _QUARTER.fullmatch(v):
        return "it is a quarter; give one row (or column) per month, as YYYY-MM"
    if _EXCEL_DAY.fullmatch(v):
        return ("it looks like an Excel date with a day; format the column as mmm-yy or "
                "yyyy-mm, or write the month as YYYY-MM")
    if m := _FULL_NAME.fullmatch(v):
        name = m.group(1).lower()
        if name in _NAMES:
            year = m.group(2) if len(m.group(2)) == 4 else "20" + m.group(2)
            return f"write {name[:3].title()} {year} or {year}-{_NAMES.index(name) + 1:02d}"
    if _NAME_ONLY.fullmatch(v) and (low.rstrip(".")[:3] in ABBREVIATIONS):
        return (f"it has no year; write {v[:3].title()} 2027 or YYYY-MM "
                f"(2027-{ABBREVIATIONS.index(low[:3]) + 1:02d}), with your year")
    if re.fullmatch(r"\d{1,2}[/.-]\d{4}", v):
        return "the month before the year is not read; write YYYY-MM"
    if re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", v):
        return "dates with dots are not read; write the month as YYYY-MM"
    return "write it as YYYY-MM"


def looks_like_month(text: str) -> bool:
    """Whether a column header is meant as a month (so a bad one is an error rather than
    an extra column ignored): it has a digit, 年/月, or starts with a month's name, and no
    other word (`2027 Total`, `FY2027`, `Notes (v2)` are extra columns; a quarter counts,
    to be told to give months)."""
    v = text.strip().lower()
    if _QUARTER.fullmatch(v) or _DATE_TIME.fullmatch(v):
        return True
    if re.search(r"[^\W\d_]", _MONTH_WORDS.sub("", v)):
        return False            # a word that names no month
    word = re.match(r"[a-z]*", v).group()
    return bool(re.search(r"\d|年|月", v)) or word in ABBREVIATIONS or word in _NAMES \
        or word == "sept"


def month_headers(header: list[str]) -> list[bool]:
    """Which cells of a wide header are meant as months (`looks_like_month`); a quarter
    (`Q1 2027`) beside month columns is a subtotal column, not a month (a quarter alone is
    told to give months)."""
    like = [bool(h) and looks_like_month(h) for h in header]
    quarter = [m and bool(_QUARTER.fullmatch(h.strip())) for m, h in zip(like, header)]
    if any(m and not q for m, q in zip(like, quarter)):
        return [m and not q for m, q in zip(like, quarter)]
    return like
