"""Usage history readers (optimizer/io/history.py): every fixture is built here.

FOCUS exports carry the columns the FinOps Open Cost and Usage Specification names; the
Tencent-style bill is a GB18030 CSV with title lines above its Chinese header, read
through --columns and --map; daily rows, monthly long and wide files, and workbooks. The
checks that matter most: every call of the file is either in the usage or in the
unmapped totals (nothing is dropped silently), the same usage written in different
formats reads the same, and bad input names the file, line and field.
"""

from __future__ import annotations

import calendar
import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from optimizer.domain.months import Month
from optimizer.exceptions import InputError
from optimizer.io.catalog import alias_key
from optimizer.io.forecast import read_forecast
from optimizer.io.history import parse_columns, read_history, unit_factor

from helpers import SEED, M, custom_catalog

FOCUS_HEADER = ["BillingAccountId", "BillingPeriodStart", "BillingPeriodEnd", "ChargeCategory",
                "ChargeClass", "ChargeDescription", "ChargeFrequency", "ChargePeriodStart",
                "ChargePeriodEnd", "ConsumedQuantity", "ConsumedUnit", "BilledCost",
                "BillingCurrency", "ProviderName", "ServiceCategory", "ServiceName", "SkuId"]


def write_csv(path: Path, rows, encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)
    return path


def focus_row(start: datetime, end: datetime, quantity, *, sku="GeneralBasicOCR",
              service="Optical Character Recognition", description="", unit="Requests",
              category="Usage", charge_class=""):
    """One FOCUS row; the billing period is the charge period's month."""
    first = start.replace(day=1, hour=0, minute=0, second=0)
    nxt = (first + timedelta(days=32)).replace(day=1)
    iso = "%Y-%m-%dT%H:%M:%SZ"
    values = {"BillingAccountId": "100012345678", "BillingPeriodStart": first.strftime(iso),
              "BillingPeriodEnd": nxt.strftime(iso), "ChargeCategory": category,
              "ChargeClass": charge_class, "ChargeDescription": description,
              "ChargeFrequency": "Usage-Based", "ChargePeriodStart": start.strftime(iso),
              "ChargePeriodEnd": end.strftime(iso), "ConsumedQuantity": str(quantity),
              "ConsumedUnit": unit, "BilledCost": "0.10", "BillingCurrency": "CNY",
              "ProviderName": "Tencent Cloud", "ServiceCategory": "AI and Machine Learning",
              "ServiceName": service, "SkuId": sku}
    return [values[h] for h in FOCUS_HEADER]


def daily(day: date, quantity, **kw):
    start = datetime.combine(day, datetime.min.time())
    return focus_row(start, start + timedelta(days=1), quantity, **kw)


def days_of(month: Month):
    year, mo = month.ordinal // 12, month.ordinal % 12 + 1
    return [date(year, mo, d) for d in range(1, calendar.monthrange(year, mo)[1] + 1)]


def split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` as `parts` non-negative whole numbers (some of them 0)."""
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    return [b - a for a, b in zip([0] + cuts, cuts + [total])]


# a history of 3 products over 14 months: one new (leading zeros), one with a quiet month
MONTHS = [M("2026-01") + i for i in range(14)]
USAGE = {"general_print": [20000 + 1500 * i for i in range(14)],
         "id_card": [0] * 6 + [4000, 5200, 6100, 0, 7300, 8000, 9100, 9900],
         "bank_card": [1200, 900, 15000, 1100, 800, 1000, 1300, 1250, 990, 1010, 1400, 300,
                       1600, 1700]}
SKUS = {"general_print": "GeneralBasicOCR", "id_card": "IDCardOCR", "bank_card": "BankCardOCR"}


def expected_usage():
    return [(pid, tuple(USAGE[pid])) for pid in ("general_print", "id_card", "bank_card")]


def long_rows():
    rows = [["product", "month", "calls"]]
    for pid, calls in USAGE.items():
        first = next(i for i, c in enumerate(calls) if c)
        rows += [[pid, str(m), str(c)] for m, c in zip(MONTHS, calls)][first:]
    return rows


# --------------------------------------------------------------------------- FOCUS

def test_focus_export_reads_the_same_usage_as_the_monthly_file(tmp_path):
    """The FOCUS rows of each day (calls split at random across the days of the month, in
    Requests or in thousands) add up to the monthly file's usage, product by product."""
    rng = random.Random(12)
    rows = [FOCUS_HEADER]
    for pid, calls in USAGE.items():
        for month, total in zip(MONTHS, calls):
            days = days_of(month)
            for day, part in zip(days, split(total, len(days), rng)):
                if part or pid == "general_print":
                    kilo = part % 1000 == 0 and part and rng.random() < 0.5
                    rows.append(daily(day, part // 1000 if kilo else part, sku=SKUS[pid],
                                      unit="1000 Requests" if kilo else "Requests"))
    rng.shuffle(rows[1:])
    focus = read_history(write_csv(tmp_path / "focus.csv", rows), SEED)
    monthly = read_history(write_csv(tmp_path / "monthly.csv", long_rows()), SEED)
    assert focus.usage.start == monthly.usage.start == M("2026-01")
    assert focus.usage.months == monthly.usage.months == 14
    assert sorted(focus.usage.demand) == sorted(monthly.usage.demand) == sorted(
        expected_usage())
    assert focus.unmapped == monthly.unmapped == ()
    assert focus.partial == monthly.partial == ()


def test_focus_only_usage_rows_in_call_units_are_counted_and_the_rest_is_reported(tmp_path):
    rows = [FOCUS_HEADER,
            daily(date(2027, 1, 1), 1000),
            daily(date(2027, 1, 31), 500, sku="", service="通用印刷体识别"),   # by ServiceName
            daily(date(2027, 1, 31), 2, sku="IDCardOCR", unit="1000 Requests"),
            daily(date(2027, 1, 31), 250, sku="", service="OCR",
                  description="Bank Card"),                                # by ChargeDescription
            daily(date(2027, 1, 31), 70, category="Tax", unit=""),
            daily(date(2027, 1, 31), 80, category="Purchase"),
            daily(date(2027, 1, 31), 12.5, sku="COS-STD", service="Cloud Object Storage",
                  unit="GB"),
            daily(date(2027, 1, 31), 333, sku="SmartStructuralOCR"),
            daily(date(2027, 1, 31), 111, sku="SmartStructuralOCR")]
    h = read_history(write_csv(tmp_path / "f.csv", rows), SEED)
    assert dict(h.usage.demand) == {"general_print": (1500,), "id_card": (2000,),
                                    "bank_card": (250,)}
    assert h.unmapped == (("Optical Character Recognition / SmartStructuralOCR", 444),)
    text = "\n".join(h.notes)
    assert "read as a FOCUS export, 7 Usage rows" in text
    assert "Purchase 1, Tax 1" in text
    assert "'Cloud Object Storage / COS-STD' in 'GB' (not a count of calls) skipped: 12.5" \
        in text
    assert "444 calls not counted" in text and "(line 9)" in text


def test_focus_partial_months_from_the_charge_periods(tmp_path):
    """The export starts on Jan 10th at noon and ends with Mar 20th: Jan and Mar are
    partial, for every product; hourly rows ending at midnight reach the day before."""
    start = datetime(2027, 1, 10, 12)
    rows = [FOCUS_HEADER, focus_row(start, start + timedelta(hours=1), 10),
            daily(date(2027, 2, 14), 20, sku="IDCardOCR"),
            focus_row(datetime(2027, 3, 20, 23), datetime(2027, 3, 21), 30)]
    h = read_history(write_csv(tmp_path / "f.csv", rows), SEED)
    assert h.usage.start == M("2027-01") and h.usage.months == 3
    assert set(h.partial) == {(p, M(m)) for p in ("general_print", "id_card")
                              for m in ("2027-01", "2027-03")}
    text = "\n".join(h.notes)
    assert "2027-01 is partial: the rows start on 2027-01-10 12:00:00" in text
    assert "2027-03 is partial: the rows reach only 2027-03-20 (its whole day)" in text


def test_focus_whole_months_are_not_partial(tmp_path):
    rows = [FOCUS_HEADER,
            focus_row(datetime(2027, 1, 1), datetime(2027, 2, 1), 10),   # a monthly row
            focus_row(datetime(2027, 2, 1), datetime(2027, 3, 1), 10)]
    assert read_history(write_csv(tmp_path / "f.csv", rows), SEED).partial == ()


@pytest.mark.parametrize("end_of", [
    lambda day: day + timedelta(days=1) - timedelta(seconds=1),   # 23:59:59, inclusive
    lambda day: day,                                               # date-only, equal to it
])
def test_focus_inclusive_or_zero_length_ends_cover_their_day(tmp_path, end_of):
    """An export whose daily rows end at 23:59:59 took February for partial ('the rows
    reach only 2027-02-28 23:59:59') and fitted without it; one whose end equals the start
    said the rows reach only the day before the last."""
    rows = [FOCUS_HEADER]
    for month in ("2027-01", "2027-02"):
        for day in days_of(M(month)):
            start = datetime.combine(day, datetime.min.time())
            rows.append(focus_row(start, end_of(start), 1000))
    h = read_history(write_csv(tmp_path / "f.csv", rows), SEED)
    assert h.partial == () and not any("partial" in n for n in h.notes), h.notes
    assert h.usage.calls("general_print") == (31000, 28000)


def test_focus_corrections_are_netted_and_fractions_rounded_once_per_month(tmp_path):
    rows = [FOCUS_HEADER, daily(date(2027, 1, 1), 1000),
            daily(date(2027, 1, 2), -200, charge_class="Correction"),
            daily(date(2027, 1, 3), 0.4), daily(date(2027, 1, 4), 0.3),    # 0.7 -> 1
            daily(date(2027, 1, 31), "1.0005", sku="IDCardOCR", unit="1000 Requests")]
    h = read_history(write_csv(tmp_path / "f.csv", rows), SEED)
    assert dict(h.usage.demand) == {"general_print": (801,), "id_card": (1001,)}
    text = "\n".join(h.notes)
    assert "1 row with a negative quantity (corrections, refunds) netted" in text
    assert "1 correction (ChargeClass) counted in its month" in text
    assert "2 product-month totals not a whole number of calls, rounded half up" in text


def test_focus_month_below_zero_is_an_error(tmp_path):
    rows = [FOCUS_HEADER, daily(date(2027, 1, 1), 100),
            daily(date(2027, 2, 1), 50),
            daily(date(2027, 2, 2), -80, charge_class="Correction")]
    with pytest.raises(InputError) as e:
        read_history(write_csv(tmp_path / "f.csv", rows), SEED)
    assert e.value.line == 3 and e.value.field == "ConsumedQuantity"
    assert "general_print in 2027-02 add up to -30, below zero" in str(e.value)


def test_focus_bad_cells_are_all_reported(tmp_path):
    rows = [FOCUS_HEADER, daily(date(2027, 1, 1), "1,200"), daily(date(2027, 1, 2), "many")]
    rows[2][FOCUS_HEADER.index("ChargePeriodStart")] = "Jan 2nd"
    with pytest.raises(InputError) as e:
        read_history(write_csv(tmp_path / "f.csv", rows), SEED)
    msg = str(e.value)
    assert msg.startswith(f"{tmp_path / 'f.csv'}: 3 problems: ")
    assert "line 2, field 'ConsumedQuantity': '1,200' has thousands separators; write the " \
           "plain number 1200" in msg
    assert "line 3, field 'ChargePeriodStart': 'Jan 2nd' is not a date" in msg
    assert "line 3, field 'ConsumedQuantity': 'many' is not a number" in msg


def test_focus_with_nothing_mapped_names_what_the_rows_are(tmp_path):
    rows = [FOCUS_HEADER, daily(date(2027, 1, 1), 5, sku="CVM-S5", service="Compute")]
    with pytest.raises(InputError) as e:
        read_history(write_csv(tmp_path / "f.csv", rows), SEED)
    assert e.value.line == 2 and e.value.field == "product"
    assert "no usage of a catalog product in the file: the rows name 'Compute / CVM-S5' 5" \
        in str(e.value)


def test_focus_map_file_wins_over_aliases(tmp_path):
    """The map is tried before the aliases, over every label column of the row."""
    rows = [FOCUS_HEADER, daily(date(2027, 1, 1), 10, sku="SmartStructuralOCR"),
            daily(date(2027, 1, 1), 20, sku="IDCardOCR", description="Promo ID card")]
    mapping = write_csv(tmp_path / "map.csv", [["pattern", "product"],
                                               ["smart*", "general_print"],
                                               ["re:promo", "身份证识别"]])
    h = read_history(write_csv(tmp_path / "f.csv", rows), SEED, mapping=mapping)
    assert dict(h.usage.demand) == {"general_print": (10,), "id_card": (20,)}
    mapping = write_csv(tmp_path / "map2.csv", [["pattern", "product"],
                                                ["re:promo", "bank_card"]])
    h = read_history(tmp_path / "f.csv", SEED, mapping=mapping)
    assert dict(h.usage.demand) == {"bank_card": (20,)}
    assert h.unmapped == (("Optical Character Recognition / SmartStructuralOCR", 10),)


@pytest.mark.parametrize("wide", [False, True])
def test_monthly_rows_of_labels_a_map_sends_to_one_product_add_up(tmp_path, wide):
    """Two SKUs of one product in a monthly file (one through a --map rule) were refused as
    duplicates, where a daily or FOCUS file sums them; the same label twice, or the product
    under two of its catalog names, stays a duplicate."""
    mapping = write_csv(tmp_path / "map.csv", [["pattern", "product"],
                                               ["GeneralAccurateOCR", "general_print"]])
    rows = ([["product", "2026-01", "2026-02"], ["GeneralBasicOCR", 1000, 1100],
             ["GeneralAccurateOCR", 500, 600]] if wide else
            [["product", "month", "calls"], ["GeneralBasicOCR", "2026-01", 1000],
             ["GeneralAccurateOCR", "2026-01", 500], ["GeneralBasicOCR", "2026-02", 1100],
             ["GeneralAccurateOCR", "2026-02", 600]])
    h = read_history(write_csv(tmp_path / "f.csv", rows), SEED, mapping=mapping)
    assert dict(h.usage.demand) == {"general_print": (1500, 1700)}
    assert any("general_print: the monthly rows of 'GeneralAccurateOCR', 'GeneralBasicOCR' "
               "added up" in n for n in h.notes)
    twice = rows + [rows[2]]
    with pytest.raises(InputError, match="duplicate row for"):
        read_history(write_csv(tmp_path / "g.csv", twice), SEED, mapping=mapping)
    names = ([["product", "2026-01"], ["id_card", 5], ["身份证识别", 6]] if wide else
             [["product", "month", "calls"], ["id_card", "2026-01", 5],
              ["身份证识别", "2026-01", 6]])
    with pytest.raises(InputError, match="duplicate row for id_card"):
        read_history(write_csv(tmp_path / "h.csv", names), SEED, mapping=mapping)


# --------------------------------------------------------------------------- Tencent export

TENCENT_TITLE = [["腾讯云 费用中心 账单明细"], ["账单周期：2026-11-01 至 2027-01-31"], []]
TENCENT_HEADER = ["账单月份", "产品名称", "子产品名称", "计费项名称", "扣费时间", "用量",
                  "用量单位", "原价(元)"]


def tencent_rows():
    return TENCENT_TITLE + [TENCENT_HEADER,
        ["2026-11", "文字识别", "通用印刷体识别", "调用次数", "2026-11-03 10:00:00", "12000",
         "次", "1.80"],
        ["2026-11", "文字识别", "身份证识别", "调用次数", "2026-11-03 10:00:00", "2.5", "千次",
         "0.37"],
        ["2026-12", "文字识别", "通用印刷体识别", "调用次数", "2026-12-01 00:00:00", "15000",
         "次", "2.25"],
        ["2026-12", "文字识别", "卡证文字识别-银行卡", "调用次数", "2026-12-09 00:00:00",
         "800", "次", "0.12"],
        ["2026-12", "文字识别", "智能结构化识别", "调用次数", "2026-12-09 00:00:00", "640",
         "次", "0.10"],
        ["2027-01", "对象存储", "标准存储", "存储容量", "2027-01-05 00:00:00", "3.5", "GB",
         "0.40"],
        ["2027-01", "文字识别", "智能结构化识别", "调用次数", "2027-01-20 00:00:00", "1000",
         "次", "0.10"],
        ["合计", "", "", "", "", "", "", "5.04"]]


def test_tencent_bill_through_columns_and_map(tmp_path):
    """A GB18030 bill with title lines: the header is found below them, the sub-product
    mapped through the catalog's aliases and a --map file, units 次/千次 scaled, GB
    usage and unmapped products reported with their totals."""
    path = write_csv(tmp_path / "账单.csv", tencent_rows(), encoding="gb18030")
    mapping = write_csv(tmp_path / "map.csv", [["pattern", "product"],
                                               ["*银行卡*", "bank_card"]])
    h = read_history(path, SEED, columns="month=账单月份,product=子产品名称,calls=用量,"
                     "unit=用量单位", mapping=mapping)
    assert h.usage.start == M("2026-11") and h.usage.months == 3
    assert dict(h.usage.demand) == {"general_print": (12000, 15000, 0),
                                    "id_card": (2500, 0, 0), "bank_card": (0, 800, 0)}
    assert h.unmapped == (("智能结构化识别", 1640),)
    assert h.partial == ()                       # months, not dates: nothing to tell
    text = "\n".join(h.notes)
    assert "read it as GB18030" in text
    assert "lines 1 to 3, above the header (line 4), skipped" in text
    assert "line 12: '合计' row skipped" in text
    assert "usage of '标准存储' in 'GB' (not a count of calls) skipped: 3.5" in text
    assert "1 label maps to no catalog product (1,640 calls not counted): '智能结构化识别' " \
           "1,640 (line 9)" in text


def test_tencent_bill_by_charge_time_flags_partial_months(tmp_path):
    path = write_csv(tmp_path / "bill.csv", tencent_rows(), encoding="gb18030")
    h = read_history(path, SEED, columns="date=扣费时间,product=子产品名称,calls=用量,"
                     "unit=用量单位")
    assert dict(h.usage.demand)["general_print"] == (12000, 15000, 0)
    assert set(h.partial) == {(p, M(m)) for p in ("general_print", "id_card")
                              for m in ("2026-11", "2027-01")}
    assert dict(h.unmapped) == {"智能结构化识别": 1640, "卡证文字识别-银行卡": 800}


@pytest.mark.parametrize("columns, message", [
    ("month=账单月份,product=子产品名称", "'calls' is missing"),
    ("month=账单月份,date=扣费时间,product=子产品名称,calls=用量", "give one of month= and date="),
    ("month=账单月份,product=子产品名称,calls=用量,cost=原价", "unknown key 'cost'"),
    ("month=账单月份,product,calls=用量", "'product' is not KEY=COLUMN"),
    ("month=账单月份,product=子产品名称,calls=用量,calls=用量", "'calls' is given twice"),
    # pairs glued by another separator: that separator named, not "'product' is missing"
    ("month=账单月份;product=子产品名称;calls=用量", "separate them with ',', not ';'"),
    ("month=账单月份,product=子产品名称 | calls=用量", "separate them with ',', not '|'"),
])
def test_bad_columns_option(columns, message):
    with pytest.raises(InputError) as e:
        parse_columns(columns)
    assert e.value.field == "--columns" and message in str(e.value)


def test_columns_naming_a_missing_column(tmp_path):
    path = write_csv(tmp_path / "bill.csv", tencent_rows())
    with pytest.raises(InputError) as e:
        read_history(path, SEED, columns="month=账单月份,product=子产品,calls=用量")
    assert e.value.field == "子产品" and e.value.line == 4
    assert "no column '子产品' (named in --columns) in the header" in str(e.value)


def test_columns_bad_cells_name_line_and_field(tmp_path):
    rows = tencent_rows()
    rows[4][5] = "1,2000"
    rows[5][0] = "2026-13"
    with pytest.raises(InputError) as e:
        read_history(write_csv(tmp_path / "bill.csv", rows), SEED,
                     columns="month=账单月份,product=子产品名称,calls=用量")
    msg = str(e.value)
    assert "line 5, field '用量': '1,2000' is not a number" in msg
    assert "line 6, field '账单月份': '2026-13' is not a month" in msg


# --------------------------------------------------------------------------- daily rows

def test_daily_rows_sum_to_months_with_batches_datetimes_and_names(tmp_path):
    rows = [["date", "product", "calls", "note"],
            ["2027-01-01", "id_card", "100", "x"],
            ["2027-01-01T09:30:00Z", "id_card", "50", ""],          # a batch the same day
            ["2027/1/31 23:59", "身份证识别", "7", ""],               # by name
            ["2027-02-14 10:00:00+08:00", "IDCardOCR", "3", ""],      # by alias
            ["20270331", "id card", "1", ""],                          # alias_key: case, space
            ["2027年3月31日", "general_print", "9", ""]]
    h = read_history(write_csv(tmp_path / "d.csv", rows), SEED)
    assert dict(h.usage.demand) == {"general_print": (0, 0, 9), "id_card": (157, 3, 1)}
    assert h.partial == ()
    assert "column 'note' ignored" in "\n".join(h.notes)


def test_daily_rows_that_do_not_reach_the_month_ends_are_partial(tmp_path):
    rows = [["product", "date", "calls"], ["id_card", "2027-01-02", "5"],
            ["bank_card", "2027-02-27", "5"]]
    h = read_history(write_csv(tmp_path / "d.csv", rows), SEED)
    assert h.partial == (("id_card", M("2027-01")), ("bank_card", M("2027-01")),
                         ("id_card", M("2027-02")), ("bank_card", M("2027-02")))
    rows[1][1], rows[2][1] = "2027-01-01", "2027-02-28"
    assert read_history(write_csv(tmp_path / "d.csv", rows), SEED).partial == ()



def test_daily_rows_on_the_last_days_python_has(tmp_path):
    """A row dated 9999-12-31 covers a day that ends past Python's last date: a traceback
    (OverflowError) where the history's end is read."""
    rows = [["product", "date", "calls"], ["id_card", "9999-11-01", "5"],
            ["id_card", "9999-12-31", "5"]]
    h = read_history(write_csv(tmp_path / "d.csv", rows), SEED)
    assert h.partial == ()                       # 9999-11-01 .. 9999-12-31, whole months
    rows[2][1] = "9999-12-30"
    h = read_history(write_csv(tmp_path / "d.csv", rows), SEED)
    assert h.partial == (("id_card", M("9999-12")),)
    assert any("reach only 9999-12-30 (its whole day)" in n for n in h.notes)


@pytest.mark.parametrize("quantity", ["1e9999999999999999999", "1E-99999999999999999999"])
def test_a_quantity_whose_exponent_decimal_cannot_hold_is_an_input_error(tmp_path, quantity):
    """Decimal itself refuses such an exponent: decimal.InvalidOperation, a traceback."""
    rows = [["ChargeCategory", "ChargePeriodStart", "ConsumedQuantity", "ServiceName"],
            ["Usage", "2026-01-01", "5000", "IDCardOCR"],
            ["Usage", "2026-02-01", quantity, "IDCardOCR"]]
    with pytest.raises(InputError) as e:
        read_history(write_csv(tmp_path / "q.csv", rows), SEED)
    assert (e.value.line, e.value.field) == (3, "ConsumedQuantity")
    assert "exponent out of range" in e.value.message


@pytest.mark.parametrize("text, line, field, says", [
    # An unquoted 1,234 splits into two fields: the FOCUS reader took '1' as the quantity
    # and '234' as an unmapped product, exit 0 (the other readers refuse such a row).
    ("ChargeCategory,ChargePeriodStart,ConsumedQuantity,ServiceName\n"
     "Usage,2026-01-01,5000,IDCardOCR\nUsage,2026-02-01,1,234,IDCardOCR\n",
     3, "row", "thousands separators"),
    # A period that ends before it starts was taken as a day: the partial-month note then
    # said the rows reached only the day before one of them started.
    ("ChargeCategory,ChargePeriodStart,ChargePeriodEnd,ConsumedQuantity,ServiceName\n"
     "Usage,2026-11-20,2026-11-19,5000,IDCardOCR\n",
     2, "ChargePeriodEnd", "ends (2026-11-19) before it starts (2026-11-20)")])
def test_a_focus_row_it_cannot_read_is_refused(tmp_path, text, line, field, says):
    path = tmp_path / "f.csv"
    path.write_text(text)
    with pytest.raises(InputError) as e:
        read_history(path, SEED)
    assert (e.value.line, e.value.field) == (line, field)
    assert says in e.value.message


@pytest.mark.parametrize("sep", [";", "\t"])
def test_a_title_line_above_a_semicolon_or_tab_header(tmp_path, sep):
    """The delimiter was guessed from the first non-blank line: a bill's title, which has
    none, so comma, and the file was "not a usage history this reader knows"."""
    path = tmp_path / "t.csv"
    path.write_text("Tencent Cloud bill export\n\n" + "\n".join(sep.join(r) for r in (
        ("ChargeCategory", "ChargePeriodStart", "ConsumedQuantity", "ServiceName"),
        ("Usage", "2026-01-01", "5000", "IDCardOCR"),
        ("Usage", "2026-02-01", "5200", "IDCardOCR"))) + "\n")
    h = read_history(path, SEED)
    assert h.usage.calls("id_card") == (5000, 5200)


def test_daily_unmapped_rows_keep_their_totals_and_nothing_is_dropped(tmp_path):
    rng = random.Random(5)
    labels = ["id_card", "bank_card", "ocr_beta", "id_crad", "GeneralFastOCR"]
    rows, total = [["product", "date", "calls"]], 0
    for _ in range(300):
        calls = rng.randint(0, 5000)
        total += calls
        rows.append([rng.choice(labels), str(date(2026, 1, 1) + timedelta(rng.randint(0, 400))),
                     str(calls)])
    h = read_history(write_csv(tmp_path / "d.csv", rows), SEED)
    assert sum(sum(c) for _, c in h.usage.demand) + sum(c for _, c in h.unmapped) == total
    assert [label for label, _ in h.unmapped] == sorted(
        {"ocr_beta", "id_crad", "GeneralFastOCR"}, key=lambda k: -dict(h.unmapped)[k])
    assert [c for _, c in h.unmapped] == sorted((c for _, c in h.unmapped), reverse=True)
    assert "did you mean 'id_card'?" in "\n".join(h.notes)


@pytest.mark.parametrize("cell, field, message", [
    ("2027-01", "date", "'2027-01' is not a date: it is a month without a day"),
    ("2027-02-30", "date", "'2027-02-30' is not a date (day is out of range for month)"),
    ("13/13/2027", "date", "'13/13/2027' is not a date (month must be in 1..12)"),
    ("15.01.2027", "date", "'15.01.2027' is not a date: write it as YYYY-MM-DD"),
    ("", "date", "the date is empty"),
])
def test_daily_bad_dates(tmp_path, cell, field, message):
    rows = [["product", "date", "calls"], ["id_card", "2027-01-01", "5"],
            ["id_card", cell, "5"]]
    with pytest.raises(InputError) as e:
        read_history(write_csv(tmp_path / "d.csv", rows), SEED)
    assert (e.value.source, e.value.line, e.value.field) == (str(tmp_path / "d.csv"), 3, field)
    assert message in str(e.value)


@pytest.mark.parametrize("cell, message", [
    ("-5", "calls must not be negative ('-5')"),
    ("2.5", "calls must be a whole number, not '2.5'"),
    ("25,000", "has thousands separators"),
])
def test_daily_calls_are_whole_non_negative_counts(tmp_path, cell, message):
    rows = [["product", "date", "calls"], ["id_card", "2027-01-01", cell]]
    with pytest.raises(InputError) as e:
        read_history(write_csv(tmp_path / "d.csv", rows), SEED)
    assert (e.value.line, e.value.field) == (2, "calls") and message in str(e.value)



def test_rows_of_another_service_after_a_products_last_usage_are_told(tmp_path):
    """A bill export whose last months hold only another service's rows: the product's
    months there are read as 0 (the export covers them), which a forecast starts from;
    only the unmapped label was told, not the zeros."""
    rows = [["ServiceName", "ChargeCategory", "ChargePeriodStart", "ConsumedQuantity"]]
    rows += [["IDCardOCR", "Usage", f"{2024 + i // 12}-{i % 12 + 1:02d}-01", "50000"]
             for i in range(30)]
    rows += [["SpeechRecognition", "Usage", "2026-08-01", "10"]]
    h = read_history(write_csv(tmp_path / "u.csv", rows), SEED)
    assert h.usage.end == M("2026-08") and h.usage.calls("id_card")[-2:] == (0, 0)
    assert f"{tmp_path / 'u.csv'}: id_card has no usage after 2026-06; its months to " \
           f"2026-08 are 0 (the file's rows reach 2026-08)" in h.notes



def test_months_without_a_row_between_a_products_first_and_last_are_told(tmp_path):
    """A month left out of a monthly export, or a mistyped year, was read as 0 in silence:
    1024-06 among 2026's rows made a history of 12,000 months of zeros."""
    rows = [["product", "month", "calls"], ["id_card", "2026-01", "500"],
            ["id_card", "2026-04", "600"], ["bank_card", "2026-01", "7"],
            ["bank_card", "2026-02", "0"], ["bank_card", "2026-03", "0"],
            ["bank_card", "2026-04", "9"]]
    h = read_history(write_csv(tmp_path / "m.csv", rows), SEED)
    assert h.usage.calls("id_card") == (500, 0, 0, 600)
    gaps = [n for n in h.notes if "has no row for" in n]
    assert gaps == [f"{tmp_path / 'm.csv'}: id_card has no row for 2026-02, 2026-03 "
                    f"(2 months between its first and last, read as 0)"]   # zeros given: none
    rows[1][1] = "1024-01"
    h = read_history(write_csv(tmp_path / "m.csv", rows), SEED)
    assert any("id_card has no row for 1024-02" in n and "12,026 months" in n
               for n in h.notes)



def test_daily_rows_adding_up_past_the_most_calls_name_a_line(tmp_path):
    """Each row is within 10^15, their month is not: the error named no line and a field
    'id_card 2024-01' that no file has."""
    rows = [["product", "date", "calls"]] + [
        ["id_card", f"2024-01-{d:02d}", "900000000000000"] for d in range(1, 32)]
    with pytest.raises(InputError) as e:
        read_history(write_csv(tmp_path / "d.csv", rows), SEED)
    assert (e.value.line, e.value.field) == (2, "calls")
    assert "id_card in 2024-01 add up to 27,900,000,000,000,000" in e.value.message



def test_a_wide_history_naming_a_product_twice_is_one_error(tmp_path):
    """By id and by name: one duplicate row, not one 'duplicate' per month column blaming
    a field 'month' the wide form does not have."""
    path = tmp_path / "w.csv"
    path.write_text("product,2024-01,2024-02,2024-03\nid_card,1,2,3\n身份证识别,3,4,5\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_history(path, SEED)
    assert (e.value.line, e.value.field) == (3, "product")
    assert "problems" not in e.value.message and "id_card ('身份证识别')" in e.value.message



@pytest.mark.parametrize("header, missing", [("product,month", "calls"),
                                             ("month,calls", "product"),
                                             ("product,date", "calls")])
def test_a_header_short_of_one_column_names_it(tmp_path, header, missing):
    """The message listed every form the reader knows and blamed the header's first column
    ('product' for product,month): the column at fault is the one missing."""
    path = tmp_path / "m.csv"
    path.write_text(header + "\n" + ",".join("id_card" if c == "product" else "2026-01"
                                              if c in ("month", "date") else "5"
                                              for c in header.split(",")) + "\n")
    with pytest.raises(InputError) as e:
        read_history(path, SEED)
    assert (e.value.line, e.value.field) == (1, missing)
    assert e.value.message.startswith(f"no '{missing}' column")


# --------------------------------------------------------------------------- monthly

def test_monthly_long_history_fills_a_new_products_leading_months(tmp_path):
    h = read_history(write_csv(tmp_path / "m.csv", long_rows()), SEED)
    assert sorted(h.usage.demand) == sorted(expected_usage())
    assert f"{tmp_path / 'm.csv'}: id_card has no usage before 2026-07; its months from " \
           f"2026-01 are 0" in h.notes
    assert h.partial == () and h.unmapped == ()


def test_monthly_wide_history_equals_the_forecast_reader_on_a_full_file(tmp_path):
    rows = [["product"] + [str(m) for m in MONTHS] + ["Total"]]
    rows += [[pid] + [str(c) for c in calls] + [str(sum(calls))]
             for pid, calls in USAGE.items()]
    rows.append(["合计"] + [str(sum(USAGE[p][i] for p in USAGE)) for i in range(14)] + [""])
    path = write_csv(tmp_path / "w.csv", rows)
    h = read_history(path, SEED)
    assert h.usage.demand == read_forecast(path, SEED).demand
    assert any("'合计' row skipped (its figures match the products' sums)" in n
               for n in h.notes)


def test_monthly_wide_empty_cells_are_zero_and_aliases_resolve(tmp_path):
    rows = [["product", "2027-01", "2027-02", "2027-03"], ["IDCardOCR", "", "", "40"],
            ["通用印刷体识别", "10", "20", "30"]]
    h = read_history(write_csv(tmp_path / "w.csv", rows), SEED)
    assert dict(h.usage.demand) == {"general_print": (10, 20, 30), "id_card": (0, 0, 40)}


def test_monthly_duplicates_through_an_alias_are_errors(tmp_path):
    rows = [["product", "month", "calls"], ["id_card", "2027-01", "5"],
            ["IDCardOCR", "2027-01", "6"]]
    with pytest.raises(InputError) as e:
        read_history(write_csv(tmp_path / "m.csv", rows), SEED)
    assert (e.value.line, e.value.field) == (3, "month")
    assert "duplicate row for id_card 2027-01 (first given on line 2)" in str(e.value)


def test_unknown_header_says_what_is_read(tmp_path):
    with pytest.raises(InputError) as e:
        read_history(write_csv(tmp_path / "x.csv", [["sku", "when", "qty"], ["a", "b", "1"]]),
                     SEED)
    assert (e.value.line, e.value.field) == (1, "sku")
    assert "--columns month=COL,product=COL,calls=COL" in str(e.value)


# --------------------------------------------------------------------------- workbooks

def test_xlsx_daily_sheet_with_real_dates_and_a_focus_sheet(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Notes"
    ws.append(["nothing here"])
    ws = wb.create_sheet("Daily")
    ws.append(["product", "date", "calls"])
    ws.append(["id_card", datetime(2027, 1, 1), 1200.0])
    ws.append(["id_card", datetime(2027, 2, 28, 17, 45), 300])
    ws = wb.create_sheet("Focus")
    ws.append(FOCUS_HEADER)
    for row in ([daily(date(2027, 1, 1), 1200, sku="IDCardOCR"),
                 daily(date(2027, 2, 28), 300, sku="IDCardOCR")]):
        ws.append(row)
    wb.save(tmp_path / "usage.xlsx")
    a = read_history(tmp_path / "usage.xlsx", SEED, sheet="daily")
    b = read_history(tmp_path / "usage.xlsx", SEED, sheet="Focus")
    assert a.usage.demand == b.usage.demand == (("id_card", (1200, 300)),)
    assert a.usage.source == f"{tmp_path / 'usage.xlsx'}, sheet 'Daily'"
    assert a.partial == b.partial == ()


# --------------------------------------------------------------------------- the map file

@pytest.mark.parametrize("rows, line, field, message", [
    ([["pattern", "product"], ["*x*", "id_crad"]], 2, "product",
     "unknown product 'id_crad'; did you mean 'id_card'?"),
    ([["pattern", "product"], ["re:(", "id_card"]], 2, "pattern", "is not a regular expression"),
    ([["pattern", "product"], ["", "id_card"]], 2, "pattern", "pattern is empty"),
    ([["label", "product"], ["a", "id_card"]], 1, "label", "header must be pattern,product"),
    # (tracebacks, exit 1, from the regular expression's compiler)
    ([["pattern", "product"], ["re:a{99999999999}", "id_card"]], 2, "pattern",
     "is not a regular expression (the repetition number is too large)"),
    ([["pattern", "product"], ["re:" + "(" * 1500 + "a" + ")" * 1500, "id_card"]], 2,
     "pattern", "is not a regular expression (nested too deeply)"),
])
def test_bad_map_files(tmp_path, rows, line, field, message):
    mapping = write_csv(tmp_path / "map.csv", rows)
    daily_file = write_csv(tmp_path / "d.csv", [["product", "date", "calls"],
                                                ["id_card", "2027-01-01", "1"]])
    with pytest.raises(InputError) as e:
        read_history(daily_file, SEED, mapping=mapping)
    assert (e.value.source, e.value.line, e.value.field) == (str(mapping), line, field)
    assert message in str(e.value)


@pytest.mark.parametrize("pattern, mapped", [
    (r"re:^Mystery\SOCR", False),       # \S: no space (folded to \s it matched)
    (r"re:^\D+ OCR$", True),             # \D: no digits (folded to \d it matched none)
    (r"re:^mystery ocr\Z", True),        # \Z (folded to \z: refused)
    (r"re:(?P<name>MYSTERY) OCR", True),  # a named group (folded: refused)
])
def test_map_regular_expressions_keep_their_escapes_and_ignore_case(tmp_path, pattern,
                                                                     mapped):
    """A `re:` pattern was case-folded before it was compiled: its escapes changed."""
    mapping = write_csv(tmp_path / "map.csv", [["pattern", "product"], [pattern, "bank_card"]])
    daily_file = write_csv(tmp_path / "d.csv", [["product", "date", "calls"],
                                                ["id_card", "2027-01-01", "1"],
                                                ["Mystery OCR", "2027-01-01", "5"]])
    h = read_history(daily_file, SEED, mapping=mapping)
    assert ("bank_card" in h.usage.products()) == mapped


# --------------------------------------------------------------------------- units, aliases

@pytest.mark.parametrize("unit, factor", [
    ("Requests", 1), ("requests", 1), ("Count", 1), ("", 1), ("1000 Requests", 1000),
    ("API Calls", 1), ("次", 1), ("千次", 1000), ("万次", 10000), ("GB", None),
    ("Hours", None), ("GB-Hours", None), ("1000 Tokens", None),
    # (Azure's and others' units: were skipped as "not a count of calls")
    ("1K Requests", 1000), ("10K Transactions", 10000), ("1M Requests", 1000000),
    ("1 Million API Calls", 1000000), ("10K", None), ("MB", None), ("Minutes", None)])
def test_unit_factor(unit, factor):
    assert unit_factor(unit) == factor


def test_seed_aliases_name_each_product_once():
    keys = {}
    for p in SEED.products:
        for text in (p.id, p.name, *p.aliases):
            assert keys.setdefault(alias_key(text), p.id) == p.id, text
    assert "GeneralBasicOCR" in SEED.product("general_print").aliases
    assert "IDCardOCR" in SEED.product("id_card").aliases


def test_catalog_aliases_are_read_and_checked(tmp_path):
    product = """
[[product]]
id = "{id}"
name = "{name}"
aliases = {aliases}
tiers = [ {{ rate = "0.1" }} ]
"""
    c = custom_catalog(product.format(id="a", name="A", aliases='["Alpha OCR", "甲"]'))
    assert c.product("a").aliases == ("Alpha OCR", "甲")
    with pytest.raises(InputError) as e:
        custom_catalog(product.format(id="a", name="A", aliases='["x"]') +
                       product.format(id="b", name="B", aliases='["X"]'))
    assert e.value.field == "product[2].aliases" and e.value.line == 12
    assert "'X' also names product 1" in str(e.value)
    with pytest.raises(InputError) as e:
        custom_catalog(product.format(id="a", name="A", aliases='["a b"]') +
                       product.format(id="a_b", name="B", aliases="[]"))
    assert e.value.field == "product[2].id"
    with pytest.raises(InputError) as e:
        custom_catalog(product.format(id="a", name="A", aliases='["ok", 3]'))
    assert e.value.field == "product[1].aliases" and "list of non-empty strings" in str(e.value)


def test_monthly_file_with_days_says_how_daily_rows_are_named(tmp_path):
    rows = [["product", "month", "calls"], ["id_card", "2027-01-15", "5"]]
    with pytest.raises(InputError) as e:
        read_history(write_csv(tmp_path / "m.csv", rows), SEED)
    assert (e.value.line, e.value.field) == (2, "month")
    assert "'2027-01-15' is a date, not a month" in str(e.value)
    assert "for daily rows name the column 'date' (product,date,calls)" in str(e.value)


def test_alias_key_ignores_case_spaces_separators_and_full_width_forms():
    assert {alias_key(t) for t in ("GeneralBasicOCR", "general basic ocr", "General_Basic-OCR",
                                   "ＧｅｎｅｒａｌＢａｓｉｃＯＣＲ")} == {"generalbasicocr"}
    assert alias_key("身份证（正面）") == alias_key("身份证(正面)")


def test_an_unquoted_thousands_separator_is_a_row_too_wide(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("product,date,calls\nid_card,2027-01-01,25,000\nid_card,2027-01-02,5,,\n")
    with pytest.raises(InputError) as e:
        read_history(path, SEED)
    assert (e.value.line, e.value.field) == (2, "row")
    assert "expected 3 fields as in the header, found 4; a number with thousands " \
           "separators (25,000) splits into two fields" in str(e.value)


def test_dates_all_on_the_1st_are_monthly_figures_not_partial_months(tmp_path):
    rows = [["product", "date", "calls"], ["id_card", "2027-01-01", "500"],
            ["id_card", "2027-02-01", "600"]]
    h = read_history(write_csv(tmp_path / "d.csv", rows), SEED)
    assert h.usage.demand == (("id_card", (500, 600)),) and h.partial == ()
    assert any("every date is the 1st of its month: read as monthly figures" in n
               for n in h.notes)
    rows.append(["id_card", "2027-02-02", "1"])
    assert read_history(write_csv(tmp_path / "d.csv", rows), SEED).partial == (
        ("id_card", M("2027-02")),)


@pytest.mark.parametrize("dates, months", [
    # M/D/YYYY, what US-locale Excel writes (every row was refused, those on the 1st as
    # "a month without a day")
    (["1/1/2026", "1/15/2026", "2/1/2026", "2/28/2026 10:30"], ((100 + 200), (300 + 400))),
    # D/M/YYYY: a first field above 12 decides the column's order
    (["1/1/2026", "15/1/2026", "1/2/2026", "28/2/2026"], ((100 + 200), (300 + 400))),
])
def test_daily_rows_with_slash_dates_take_the_columns_order(tmp_path, dates, months):
    rows = [["product", "date", "calls"]] + [["id_card", d, c]
                                             for d, c in zip(dates, (100, 200, 300, 400))]
    h = read_history(write_csv(tmp_path / "d.csv", rows), SEED)
    assert h.usage.start == M("2026-01") and dict(h.usage.demand) == {"id_card": months}


def test_usage_no_product_takes_is_named_even_with_quiet(tmp_path):
    """-q silences notes, but not this one: SPEC, unmapped usage is never dropped silently
    (with CSV output its calls left no trace at all)."""
    from click.testing import CliRunner

    from cli import cli
    rows = [["product", "month", "calls"]] + [[p, f"2026-{m:02d}", "5000"] for m in range(1, 7)
                                               for p in ("id_card", "mystery_ocr")]
    path = write_csv(tmp_path / "h.csv", rows)
    r = CliRunner().invoke(cli, ["forecast", str(path), "-q", "--months", "2"])
    assert r.exit_code == 0, r.stderr
    assert "'mystery_ocr' 30,000" in r.stderr and "30,000 calls not counted" in r.stderr
    assert r.stderr.count("\n") == 1            # that note alone
