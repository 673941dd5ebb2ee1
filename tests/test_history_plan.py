"""`plan --history` and `backtest` read every history format the same way: the 36-month,
five-product history of issue #12 as a monthly file, as a FOCUS export (daily rows) and as
a Tencent-style bill through --columns/--map give the same forecast, plan and look back."""

from __future__ import annotations

import calendar
import csv
import json
import random
from datetime import date, datetime, timedelta

from click.testing import CliRunner

from cli import cli
from history_data import START, csv_text, five_products
from optimizer.domain.months import Month

SKU = {"general_print": "GeneralBasicOCR", "id_card": "IDCardOCR", "bank_card": "BankCardOCR",
       "business_card": "BusinessCardOCR", "license_plate": "LicensePlateOCR"}
FOCUS = ["ChargeCategory", "ChargePeriodStart", "ChargePeriodEnd", "ConsumedQuantity",
         "ConsumedUnit", "ServiceName", "SkuId", "ChargeDescription", "BilledCost"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def days(month: Month) -> list[date]:
    year, mo = month.ordinal // 12, month.ordinal % 12 + 1
    return [date(year, mo, d) for d in range(1, calendar.monthrange(year, mo)[1] + 1)]


def split(total: int, parts: int, rng: random.Random) -> list[int]:
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    return [b - a for a, b in zip([0] + cuts, cuts + [total])]


def focus_file(path, demand, rng):
    """Daily FOCUS usage rows (whole months covered), with a storage row that is not calls."""
    start = Month.parse(START)
    rows = [FOCUS]
    for pid, calls in demand.items():
        for i, total in enumerate(calls):
            for day, part in zip(days(start + i), split(total, 28, rng) + [0] * 3):
                t = datetime.combine(day, datetime.min.time())
                rows.append(["Usage", t.isoformat() + "Z", (t + timedelta(days=1)).isoformat()
                             + "Z", part, "Requests", "OCR", SKU[pid], "", "0"])
    rows.append(["Usage", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "5", "GB", "COS",
                 "Storage", "", "0"])
    rows.append(["Tax", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "", "", "OCR",
                 "GeneralBasicOCR", "VAT", "1.00"])
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows[:1] + rng.sample(rows[1:], len(rows) - 1))
    return path


def tencent_file(path, demand):
    """A GB18030 usage export with a title line, Chinese headers and action names."""
    start = Month.parse(START)
    names = {pid: f"OCR-{SKU[pid][:-3]}" for pid in demand}
    with path.open("w", newline="", encoding="gb18030") as f:
        w = csv.writer(f)
        w.writerow(["腾讯云用量明细"])
        w.writerow(["账单月份", "产品名称", "用量", "单位"])
        for pid, calls in demand.items():
            for i, c in enumerate(calls):
                w.writerow([str(start + i), names[pid], c, "次"])
    mapping = path.with_suffix(".map.csv")
    mapping.write_text("pattern,product\n" + "".join(
        f"{names[pid]},{pid}\n" for pid in demand))
    return path, mapping


def test_every_history_format_gives_the_same_plan_and_look_back(tmp_path):
    demand = five_products()
    monthly = tmp_path / "usage.csv"
    monthly.write_text(csv_text(demand))
    focus = focus_file(tmp_path / "focus.csv", demand, random.Random(7))
    tencent, mapping = tencent_file(tmp_path / "bill.csv", demand)
    extra = {"focus": (), "tencent": ("--columns", "month=账单月份,product=产品名称,calls=用量",
                                      "--map", mapping)}

    def plan(path, key=None):
        r = run("plan", "--history", path, *extra.get(key, ()), "--format", "json")
        assert r.exit_code == 0, r.output
        out = json.loads(r.stdout)
        return out["products"], out["total_cost"], out["forecast"]["products"]

    base = plan(monthly)
    assert len(base[0]) == 5 and base[1] > 0
    assert plan(focus, "focus") == base
    assert plan(tencent, "tencent") == base

    def look_back(path, key=None):
        r = run("backtest", path, *extra.get(key, ()), "--format", "json")
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout)["windows"]

    windows = look_back(monthly)
    assert len(windows) == 2
    assert look_back(focus, "focus") == windows == look_back(tencent, "tencent")


def test_focus_rows_in_other_units_are_reported_not_counted(tmp_path):
    demand = five_products()
    focus = focus_file(tmp_path / "focus.csv", demand, random.Random(3))
    r = run("forecast", focus, "--months", "3", "--method", "median")
    assert r.exit_code == 0, r.output
    assert "GB" in r.stderr or "Storage" in r.stderr


def test_a_spreadsheet_with_title_lines_and_a_total_row_reads_like_the_csv(tmp_path):
    """Workbooks as people make them: a title and a blank line above the header, dates
    as month headers, a Total row. The forecast reader and the history reader both skip
    the title lines (with a note) and read the same figures as the plain CSV."""
    import datetime

    import openpyxl
    demand = five_products()
    start = Month.parse(START)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["OCR usage, exported from the finance workbook"])
    ws.append([])
    ws.append(["Product"] + [datetime.date(2024 + i // 12, i % 12 + 1, 1) for i in range(36)])
    for pid, calls in demand.items():
        ws.append([pid, *calls])
    ws.append(["Total", *(sum(c[i] for c in demand.values()) for i in range(36))])
    book = tmp_path / "usage.xlsx"
    wb.save(book)
    monthly = tmp_path / "usage.csv"
    monthly.write_text(csv_text(demand))

    def plan(*args):
        r = run("plan", *args, "--format", "json")
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout)
    with_history = plan("--history", book)
    assert with_history["products"] == plan("--history", monthly)["products"]
    as_forecast = plan(book)                      # the same workbook as a forecast
    assert as_forecast["horizon"] == {"start": str(start), "months": 36}
    assert as_forecast["products"] == plan(monthly)["products"]
    r = run("plan", book, "--format", "json")
    assert "lines 1 to 2, above the header (line 3), skipped" in r.stderr
