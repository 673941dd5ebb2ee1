"""The command line, invoked for real through Click's CliRunner.

Every command works and has help; JSON carries the documented fields (README.md, 'Output
formats'); the golden examples reproduce through `bill`; every bad input gives exit 2,
exactly one line on stderr naming the file, line and field, and nothing on stdout.
"""

from __future__ import annotations

import csv
import io
import json
import re
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli as cli_module
from cli import cli
from optimizer import __version__, load_catalog
from optimizer.exceptions import BillingMismatchError, InfeasibleError, SolverError

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
G6_FORECAST = str(DATA / "golden6_forecast.csv")
G6_PLAN = str(DATA / "golden6_plan.csv")
ID_YEAR = str(DATA / "id_card_year.csv")
ID_PLAN = str(DATA / "id_card_plan.csv")
WIDE = str(DATA / "small_wide.csv")
HOLDINGS = str(DATA / "holdings.csv")


def run(*args, env=None):
    return CliRunner(env=env).invoke(cli, [str(a) for a in args])


def ok(*args, env=None):
    result = run(*args, env=env)
    assert result.exit_code == 0, (result.output, result.stderr, result.exception)
    return result


def as_json(*args):
    return json.loads(ok(*args, "--format", "json").stdout)


def as_csv(*args):
    return list(csv.reader(io.StringIO(ok(*args, "--format", "csv").stdout)))


def write(tmp_path, name, text, *, bom=False):
    p = tmp_path / name
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return str(p)


def assert_input_error(result, name, *, line=None, field=None, says=None, code=2):
    """Exit code, one line on stderr naming file/line/field, no traceback, empty stdout."""
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    msg = lines[0]
    assert msg.startswith("Error: "), msg
    assert name in msg, msg
    if line is not None:
        assert f"line {line}," in msg or msg.count(f"line {line}:") == 1, msg
    if field is not None:
        assert f"field '{field}'" in msg, msg
    if says is not None:
        assert re.search(says, msg), msg
    return msg


# --------------------------------------------------------------------------- basics

def test_version():
    result = ok("--version")
    assert result.stdout == f"packopt {__version__}\n"


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_group_help(flag):
    out = ok(flag).stdout
    for name in ("plan", "bill", "catalog"):
        assert name in out
    assert "Examples:" in out


@pytest.mark.parametrize("name", sorted(cli.commands))
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_every_command_has_help(name, flag):
    command = cli.commands[name]
    assert command.help and command.get_short_help_str().strip()
    out = ok(name, flag).stdout
    assert f"Usage: packopt {name}" in out
    assert "Examples:" in out
    for option in ("--format", "--catalog", "--tier-basis", "--negotiated-rate"):
        assert option in out


def test_python_cli_py_is_the_same_program():
    proc = subprocess.run([sys.executable, "cli.py", "bill", G6_FORECAST, "--plan", G6_PLAN,
                           "--format", "json"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["total_cost"] == 195.0
    proc = subprocess.run([sys.executable, "cli.py", "--help"], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0 and "Usage: packopt" in proc.stdout


def test_the_program_ends_with_its_output_flushed_and_exit_handlers_run(tmp_path):
    """The program ends its process itself (os._exit, skipping teardown): every byte of a
    long output still arrives, exit handlers still run, and exit codes are kept."""
    marker = tmp_path / "atexit-ran"
    script = ("import atexit, pathlib, sys; import cli; "
              f"atexit.register(pathlib.Path({str(marker)!r}).write_text, 'yes'); "
              "cli.cli(sys.argv[1:], prog_name='packopt')")
    proc = subprocess.run([sys.executable, "-c", script, "plan", "--format", "json"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "optimal"     # all of it, parseable
    assert marker.read_text() == "yes"
    bad = subprocess.run([sys.executable, "-c", script, "plan", str(tmp_path / "none.csv")],
                         cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "none.csv" in bad.stderr


def test_unknown_option_is_a_usage_error():
    result = run("bill", G6_FORECAST, "--no-such-option")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "No such option" in result.stderr


# --------------------------------------------------------------------------- catalog

def test_catalog_table():
    out = ok("catalog").stdout
    assert out.startswith("Catalog: built-in seed catalog · currency CNY · packs valid 12 months"
                          " · tier basis total\n")
    assert "通用印刷体识别" in out
    assert "10,000,000 → 200,000.00" in out
    assert "≤ 1,000,000 → 0.06" in out
    assert "above → unpublished (charged 0.06)" in out
    assert "postpaid only" in out          # vat_invoice has no packs
    assert "\x1b[" not in out


def test_catalog_json():
    data = as_json("catalog")
    assert data["currency"] == "CNY"
    assert data["validity_months"] == 12
    assert data["tier_basis"] == "total"
    ids = [p["id"] for p in data["products"]]
    assert ids[0] == "general_print" and ids[-1] == "vat_invoice" and len(ids) == 9
    gp = data["products"][0]
    assert gp["free_calls_per_month"] == 1000
    assert gp["packs"][0] == {"calls": 1000, "price": 120.0}
    assert gp["packs"][-1] == {"calls": 10_000_000, "price": 200000.0}
    assert gp["tiers"] == [
        {"up_to": 10000, "rate": 0.15, "published": True},
        {"up_to": 100000, "rate": 0.1, "published": True},
        {"up_to": 1000000, "rate": 0.06, "published": True},
        {"up_to": None, "rate": 0.06, "published": False},
    ]
    vat = data["products"][-1]
    assert vat["packs"] == [] and vat["tiers"][0]["rate"] == 0.5


def test_catalog_csv():
    rows = as_csv("catalog")
    assert rows[0] == ["product", "name", "free_calls_per_month", "kind", "calls", "up_to",
                       "price", "rate", "published"]
    assert rows[1] == ["general_print", "通用印刷体识别", "1000", "pack", "1000", "", "120.00",
                       "", ""]
    assert ["vat_invoice", "增值税发票", "1000", "tier", "", "10000", "", "0.50", "true"] in rows


def test_catalog_shows_pack_prices_below_the_fen(tmp_path):
    """A price of 0.003 is listed as given in every format, not rounded to a free pack."""
    path = write(tmp_path, "prices.toml", """
[[product]]
id = "alpha"
packs = [ { calls = 1, price = "0.003" }, { calls = 7, price = "0.0190" },
          { calls = 1000, price = "2500.5" }, { calls = 2000, price = "1234.567" } ]
tiers = [ { up_to = 100, rate = "0.0049" }, { rate = "0.0031" } ]
""")
    out = ok("catalog", "--catalog", path).stdout
    for shown in ("1 → 0.003 ", "7 → 0.019 ", "1,000 → 2,500.50", "2,000 → 1,234.567"):
        assert shown in out
    assert "0.00 " not in out and "0.02" not in out
    prices = [r[6] for r in as_csv("catalog", "--catalog", path)[1:5]]
    assert prices == ["0.003", "0.019", "2500.50", "1234.567"]
    packs = as_json("catalog", "--catalog", path)["products"][0]["packs"]
    assert [k["price"] for k in packs] == [0.003, 0.019, 2500.5, 1234.567]


def test_catalog_overrides():
    data = as_json("catalog", "--tier-basis", "after-packs",
                   "--negotiated-rate", "license_plate=0.04")
    assert data["tier_basis"] == "after-packs"
    lp = next(p for p in data["products"] if p["id"] == "license_plate")
    assert lp["tiers"][-1] == {"up_to": None, "rate": 0.04, "published": True}
    gp = data["products"][0]
    assert gp["tiers"][-1]["published"] is False


def test_catalog_from_file(tmp_path):
    path = write(tmp_path, "prices.toml", """
currency = "CNY"
free_calls_per_month = 500
validity_months = 6

[[product]]
id = "widget"
packs = [ { calls = 1000, price = "90" } ]
tiers = [ { up_to = 10000, rate = "0.12" }, { rate = 0.08 } ]
""")
    data = as_json("catalog", "--catalog", path)
    assert data["source"] == path
    assert data["validity_months"] == 6
    assert data["products"] == [{
        "id": "widget", "name": "widget", "free_calls_per_month": 500,
        "packs": [{"calls": 1000, "price": 90.0}],
        "tiers": [{"up_to": 10000, "rate": 0.12, "published": True},
                  {"up_to": None, "rate": 0.08, "published": True}]}]


# --------------------------------------------------------------------------- bill

CONTRACT_TOP = {"status", "tier_basis", "horizon", "total_cost", "pack_cost", "postpaid_cost",
            "postpaid_only_cost", "savings", "warnings", "products"}
CONTRACT_PRODUCT = {"product", "purchases", "total_cost", "pack_cost", "postpaid_cost",
                "postpaid_only_cost", "waste_calls", "carry_over_calls", "months"}
CONTRACT_PURCHASE = {"month", "size", "count", "cost"}
CONTRACT_MONTH = {"month", "calls", "free", "pack", "postpaid", "postpaid_cost"}
MONEY_KEYS = {"total_cost", "pack_cost", "postpaid_cost", "postpaid_only_cost", "savings", "cost"}


def check_spec_shape(data, status):
    """The documented JSON fields, with their types; money as numbers with at most 2 decimals."""
    assert CONTRACT_TOP <= set(data)
    assert data["status"] == status
    assert data["tier_basis"] in ("total", "after-packs")
    assert set(data["horizon"]) == {"start", "months"}
    assert re.fullmatch(r"\d{4}-\d{2}", data["horizon"]["start"])
    assert isinstance(data["horizon"]["months"], int)
    assert isinstance(data["warnings"], list)

    def money_ok(obj):
        for k, v in obj.items():
            if k in MONEY_KEYS:
                assert isinstance(v, float), (k, v)
                assert round(v, 2) == v, (k, v)

    money_ok(data)
    for p in data["products"]:
        assert CONTRACT_PRODUCT <= set(p)
        money_ok(p)
        assert isinstance(p["waste_calls"], int) and isinstance(p["carry_over_calls"], int)
        for pur in p["purchases"]:
            assert CONTRACT_PURCHASE <= set(pur)
            money_ok(pur)
            assert isinstance(pur["size"], int) and isinstance(pur["count"], int)
        assert len(p["months"]) == data["horizon"]["months"]
        for m in p["months"]:
            assert CONTRACT_MONTH <= set(m)
            money_ok(m)
            for k in ("calls", "free", "pack", "postpaid"):
                assert isinstance(m[k], int)


def test_bill_json_is_the_spec_example():
    """The documented JSON example (golden example 5: 3 packs of 100,000 id_card) via bill."""
    data = as_json("bill", ID_YEAR, "--plan", ID_PLAN)
    check_spec_shape(data, "billed")
    assert data["horizon"] == {"start": "2027-01", "months": 12}
    assert (data["total_cost"], data["pack_cost"], data["postpaid_cost"]) == (15000.0, 15000.0, 0.0)
    assert data["postpaid_only_cost"] == 28800.0
    assert data["savings"] == 13800.0
    assert data["warnings"] == []
    [p] = data["products"]
    assert p["product"] == "id_card"
    assert p["purchases"] == [{"month": "2027-01", "size": 100000, "count": 3, "cost": 15000.0}]
    assert (p["waste_calls"], p["carry_over_calls"]) == (12000, 0)
    first = {k: p["months"][0][k] for k in CONTRACT_MONTH}
    assert first == {"month": "2027-01", "calls": 25000, "free": 1000, "pack": 24000,
                     "postpaid": 0, "postpaid_cost": 0.0}


def test_golden_example_6_through_bill():
    data = as_json("bill", G6_FORECAST, "--plan", G6_PLAN)
    check_spec_shape(data, "billed")
    assert data["total_cost"] == 195.0
    assert (data["pack_cost"], data["postpaid_cost"]) == (120.0, 75.0)
    month = data["products"][0]["months"][0]
    assert (month["free"], month["pack"], month["postpaid"], month["rate"]) == (1000, 1000, 500, 0.15)
    assert month["reminders"] == ["exhausted: 2027-01 1000×1"]


@pytest.mark.parametrize("product, calls, cost", [
    ("id_card", 900, 0.0),                 # golden 1
    ("vehicle_license", 9000, 1200.0),     # golden 2
    ("general_print", 90000, 8900.0),      # golden 3
    ("bank_card", 900000, 53940.0),        # golden 4
])
def test_golden_examples_1_to_4_through_bill(tmp_path, product, calls, cost):
    path = write(tmp_path, "f.csv", f"product,month,calls\n{product},2027-01,{calls}\n")
    data = as_json("bill", path)
    assert data["total_cost"] == cost == data["postpaid_only_cost"]
    assert data["products"][0]["purchases"] == []


def test_bill_table_exact():
    out = ok("bill", G6_FORECAST, "--plan", G6_PLAN).stdout
    assert out == f"""\
packopt bill: {G6_PLAN} against {G6_FORECAST}
Horizon 2027-01..2027-01 (1 month) · tier basis total · money in CNY
Packs bought
Product     Month     Packs (size × count)   Calls     Cost
───────────────────────────────────────────────────────────
bank_card   2027-01              1,000 × 1   1,000   120.00

Total                                        1,000   120.00

Cost by product
              Pack   Postpaid    Total   Postpaid            Saving   Waste   Carry-over
Product       cost       cost     cost       only   Saving        %   calls        calls
────────────────────────────────────────────────────────────────────────────────────────
bank_card   120.00      75.00   195.00     225.00    30.00    13.3%       0            0

Total       120.00      75.00   195.00     225.00    30.00    13.3%       0            0
Total cost 195.00 CNY (packs 120.00, postpaid 75.00) against 225.00 pure postpaid: saving 30.00 CNY (13.3%).
"""
    assert "\x1b[" not in out


def test_bill_table_thousands_separators():
    out = ok("bill", ID_YEAR, "--plan", ID_PLAN).stdout
    assert "100,000 × 3" in out
    assert "15,000.00" in out and "28,800.00" in out and "13,800.00" in out
    assert "47.9%" in out
    assert "12,000" in out           # waste


def test_bill_csv_summary():
    rows = as_csv("bill", G6_FORECAST, "--plan", G6_PLAN)
    assert rows == [
        ["product", "pack_cost", "postpaid_cost", "total_cost", "postpaid_only_cost", "savings",
         "waste_calls", "carry_over_calls"],
        ["bank_card", "120.00", "75.00", "195.00", "225.00", "30.00", "0", "0"],
    ]


def test_bill_csv_months():
    rows = as_csv("bill", ID_YEAR, "--plan", ID_PLAN, "--months")
    assert rows[0][:6] == ["product", "month", "calls", "free", "pack", "postpaid"]
    assert len(rows) == 13
    assert rows[1][:6] == ["id_card", "2027-01", "25000", "1000", "24000", "0"]
    last = dict(zip(rows[0], rows[-1]))
    assert last["waste"] == "12000" and last["balance"] == "0"
    assert "below 15%" in dict(zip(rows[0], rows[-2]))["reminders"]


def test_bill_months_table_shows_balance_waste_and_reminders():
    out = ok("bill", ID_YEAR, "--plan", ID_PLAN, "-v").stdout
    assert "id_card (身份证识别), month by month" in out
    assert "276,000" in out            # balance after January
    assert "below 15%" in out
    assert re.search(r"2027-12 .* 0 +12,000", out)


def test_bill_without_plan_is_pure_postpaid():
    data = as_json("bill", WIDE)
    assert data["pack_cost"] == 0.0
    assert data["total_cost"] == data["postpaid_only_cost"]
    assert [p["product"] for p in data["products"]] == ["id_card", "bank_card", "vat_invoice"]


def test_bill_wide_and_long_forms_agree(tmp_path):
    long = write(tmp_path, "long.csv", "product,month,calls\n" + "".join(
        f"id_card,2027-{m:02d},25000\n" for m in range(1, 13)))
    assert as_json("bill", long, "--plan", ID_PLAN) == as_json("bill", ID_YEAR, "--plan", ID_PLAN)


def test_bill_accepts_product_names(tmp_path):
    path = write(tmp_path, "f.csv", "product,month,calls\n银行卡识别,2027-01,2500\n")
    assert as_json("bill", path, "--plan", G6_PLAN)["total_cost"] == 195.0


def test_bill_plan_with_cost_column(tmp_path):
    plan = write(tmp_path, "p.csv", "product,month,size,count,cost\nbank_card,2027-01,1000,1,120.00\n")
    assert as_json("bill", G6_FORECAST, "--plan", plan)["total_cost"] == 195.0


def test_bill_tier_basis_after_packs(tmp_path):
    # 12,000 calls, 10,000 from packs: 'total' tier by 12,000 (0.10); 'after-packs' by 2,000 (0.15)
    f = write(tmp_path, "f.csv", "product,month,calls\nid_card,2027-01,12000\n")
    p = write(tmp_path, "p.csv", "product,month,size,count\nid_card,2027-01,10000,1\n")
    total = as_json("bill", f, "--plan", p)
    after = as_json("bill", f, "--plan", p, "--tier-basis", "after-packs")
    assert total["tier_basis"] == "total" and after["tier_basis"] == "after-packs"
    assert total["postpaid_cost"] == 100.0      # 1,000 × 0.10
    assert after["postpaid_cost"] == 150.0      # 1,000 × 0.15


def test_bill_unpublished_tier_warns_and_negotiated_rate_applies(tmp_path):
    f = write(tmp_path, "f.csv", "product,month,calls\nlicense_plate,2027-01,1500000\n")
    data = as_json("bill", f)
    assert data["total_cost"] == 1499000 * 0.06
    [w] = data["warnings"]
    assert "license_plate" in w and "2027-01" in w and "contact sales" in w
    table = ok("bill", f).stdout
    assert "Warning: license_plate" in table
    data = as_json("bill", f, "--negotiated-rate", "license_plate=0.05")
    assert data["warnings"] == []
    assert data["total_cost"] == 74950.0



def _months_of(warning: str) -> set[str]:
    return set(re.findall(r"\d{4}-\d{2}", warning))


def test_plan_warns_where_a_scenario_reaches_the_unpublished_rate(tmp_path):
    """The forecast stays below 1,000,000 calls a month, a scenario goes above it: the
    scenario's cost, the expected and worst cost rest on the assumed rate, which `bill` of
    the plan on that scenario's demand warns of; `plan` named nothing."""
    rows = "".join(f"id_card,2027-{m:02d},{850000 + 10000 * m}\n" for m in range(1, 7))
    f = write(tmp_path, "f.csv", "product,month,calls\n" + rows)
    s = write(tmp_path, "s.csv", "scenario,weight,scale\nlow,1,0.8\nhigh,1,1.2\n")
    data = as_json("plan", f, "--scenarios", s)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(data))
    high = write(tmp_path, "high.csv", "product,month,calls\n" + "".join(
        f"id_card,2027-{m:02d},{(850000 + 10000 * m) * 12 // 10}\n" for m in range(1, 7)))
    billed = as_json("bill", high, "--plan", plan)
    [own] = [w for w in billed["warnings"] if "pure-postpaid" not in w]
    assert as_json("bill", f, "--plan", plan)["warnings"] == []      # none on the forecast
    [w] = data["warnings"]
    assert w.startswith("id_card: under scenario 'high', ") and "contact sales" in w
    assert _months_of(w) == _months_of(own) != set()
    assert "Warning: id_card: under scenario 'high'" in ok("plan", f, "--scenarios", s).stdout


def test_whatif_warns_where_a_level_reaches_the_unpublished_rate(tmp_path):
    f = write(tmp_path, "f.csv", "product,month,calls\n" + "".join(
        f"id_card,2027-{m:02d},900000\n" for m in range(1, 4)))
    data = as_json("whatif", f, "--scale", "1,1.5", "--no-break-even")
    assert data["warnings"] and all(w.startswith("id_card: ") for w in data["warnings"])
    assert not any("×1," in w for w in data["warnings"])            # ×1 stays below it
    [mine] = [w for w in data["warnings"] if w.startswith("id_card: under demand ×1.5, ")]
    plan = tmp_path / "plan.csv"
    plan.write_text("product,month,size,count\n" + "".join(
        f"{q['product']},{q['month']},{q['size']},{q['count']}\n" for q in data["plan"]))
    scaled = write(tmp_path, "x15.csv", "product,month,calls\n" + "".join(
        f"id_card,2027-{m:02d},1350000\n" for m in range(1, 4)))
    [own] = [w for w in as_json("bill", scaled, "--plan", plan)["warnings"]
             if "pure-postpaid" not in w]
    assert _months_of(mine) == _months_of(own)
    table = ok("whatif", f, "--scale", "1,1.5", "--no-break-even").stdout
    assert "Warning: id_card: under demand ×1.5" in table


def test_whatif_warns_of_the_holdings_it_ignores(tmp_path):
    """As `plan` and `bill` do: an expired holding, one of no forecast product."""
    f = write(tmp_path, "f.csv", "product,month,calls\nid_card,2027-01,20000\n")
    h = write(tmp_path, "h.csv", "product,expires,calls_left\nid_card,2026-05,5000\n"
                                 "bank_card,2027-12,100\n")
    args = ("whatif", f, "--holdings", h, "--scale", "1", "--no-break-even")
    assert as_json(*args)["warnings"] == as_json("bill", f, "--holdings", h)["warnings"] == [
        "id_card: holding that expired in 2026-05 (before the horizon) is ignored",
        "bank_card: holding ignored, the product is not in the forecast"]
    assert "Warning: bank_card: holding ignored" in ok(*args).stdout


def test_csv_output_gives_its_warnings_on_stderr(tmp_path):
    """A plan or bill written as CSV has no place for a warning: it goes to stderr (it was
    dropped), and the CSV stays the plan alone."""
    f = write(tmp_path, "f.csv", "product,month,calls\nlicense_plate,2027-01,1500000\n")
    g = write(tmp_path, "g.csv", "product,month,calls\nlicense_plate,2027-01,900000\n"
                                 "license_plate,2027-02,900000\n")
    for args in (("plan", f), ("bill", f), ("whatif", g, "--scale", "1,1.5")):
        result = ok(*args, "--format", "csv")
        assert "warning: license_plate: " in result.stderr, args
        assert "contact sales" in result.stderr and "contact sales" not in result.stdout
        assert "license_plate" not in ok(*args, "--format", "csv", "--quiet").stderr


def test_bill_holdings(tmp_path):
    f = write(tmp_path, "f.csv", "product,month,calls\nid_card,2027-01,11000\nid_card,2027-02,11000\n"
                                 "id_card,2027-03,11000\n")
    data = as_json("bill", f, "--holdings", HOLDINGS)
    p = data["products"][0]
    assert p["holdings"] == [{"expires": "2027-02", "calls": 20000}]
    assert [m["pack"] for m in p["months"]] == [10000, 10000, 0]
    assert data["pack_cost"] == 0.0
    assert "Held: id_card: 20,000 calls held, usable until 2027-02" in ok("bill", f, "--holdings",
                                                                           HOLDINGS).stdout


def test_bill_cashflow():
    data = as_json("bill", G6_FORECAST, "--plan", G6_PLAN, "--cashflow")
    cf = data["cashflow"]
    assert cf["months"] == [
        {"month": "2027-01", "packs": 120.0, "postpaid": 0.0, "outflow": 120.0, "frozen": 0.0},
        {"month": "2027-02", "packs": 0.0, "postpaid": 75.0, "outflow": 75.0, "frozen": 90.0},
    ]
    assert (cf["peak_frozen"], cf["peak_frozen_month"]) == (90.0, "2027-02")
    assert (cf["largest_outflow"], cf["largest_outflow_month"]) == (120.0, "2027-01")
    out = ok("bill", G6_FORECAST, "--plan", G6_PLAN, "--cashflow").stdout
    assert "Peak frozen 90.00 CNY in 2027-02; largest outflow 120.00 CNY in 2027-01" in out
    rows = as_csv("bill", G6_FORECAST, "--plan", G6_PLAN, "--cashflow")
    assert rows == [["month", "packs", "postpaid", "outflow", "frozen"],
                    ["2027-01", "120.00", "0.00", "120.00", "0.00"],
                    ["2027-02", "0.00", "75.00", "75.00", "90.00"]]


def test_cashflow_and_expiry_stop_at_9999_12(tmp_path):
    """The settlement after a horizon ending 9999-12 is said in words, not as '10000-01',
    and a cohort usable past 9999-12 has no expiry month."""
    f = write(tmp_path, "f.csv", "product,month,calls\nbank_card,9999-11,2500\n"
                                 "bank_card,9999-12,3500\n")
    p = write(tmp_path, "p.csv", "product,month,size,count\nbank_card,9999-12,1000,1\n")
    data = as_json("bill", f, "--plan", p, "--cashflow", "-v")
    cf = data["cashflow"]
    assert [m["month"] for m in cf["months"]] == ["9999-11", "9999-12"]
    left = cf["settled_after_last"]
    assert left == data["postpaid_cost"] - cf["months"][1]["postpaid"] > 0
    cohorts = data["products"][0]["months"][1]["cohorts"]
    assert cohorts == [{"bought": "9999-12", "expires": None, "balance": 0}]
    assert "10000" not in json.dumps(data)
    said = (f"The postpaid of 9999-12, {left:,.2f} CNY, is settled after 9999-12, the last "
            f"month packopt writes: not in the cash flow above")
    out = ok("bill", f, "--plan", p, "--cashflow").stdout
    assert said in out and "10000" not in out
    result = ok("bill", f, "--plan", p, "--cashflow", "--format", "csv")
    assert [r.split(",")[0] for r in result.stdout.split()] == ["month", "9999-11", "9999-12"]
    assert f"packopt: t{said[1:]}" in result.stderr
    before = write(tmp_path, "g.csv", "product,month,calls\nbank_card,9999-11,2500\n")
    assert as_json("bill", before, "--cashflow")["cashflow"]["settled_after_last"] is None


def test_invisible_and_lookalike_characters_are_named(tmp_path):
    """A BOM, zero-width space or Unicode hyphen in a cell is shown escaped and named, not
    printed as is ('unknown product 'id_card'; did you mean 'id_card'?')."""
    f = write(tmp_path, "f.csv", "product,month,calls\n\ufeffid_card,2027-01,5\n"
                                 "id_card\u200b,2027-02,5\nid_card,2027\u201003,5\n")
    err = run("plan", f).stderr
    assert ("line 2, field 'product': unknown product '\\ufeffid_card' (it contains an "
            "invisible byte-order mark (U+FEFF, shown as \\ufeff)); did you mean 'id_card'?"
            ) in err
    assert ("line 3, field 'product': unknown product 'id_card\\u200b' (it contains an "
            "invisible zero width space (U+200B, shown as \\u200b))") in err
    assert ("line 4, field 'month': '2027\\u201003' is not a month: write it as YYYY-MM (it "
            "contains a hyphen (U+2010, shown as \\u2010))") in err
    assert not {"\ufeff", "\u200b", "\u2010"} & set(err)


def test_bill_accepts_a_utf8_bom(tmp_path):
    f = write(tmp_path, "f.csv", "product,month,calls\nbank_card,2027-01,2500\n", bom=True)
    p = write(tmp_path, "p.csv", "product,month,size,count\nbank_card,2027-01,1000,1\n", bom=True)
    assert as_json("bill", f, "--plan", p)["total_cost"] == 195.0


# --------------------------------------------------------------------------- colour

def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    monkeypatch.setattr(cli_module, "_stdout_isatty", lambda: True)
    args = ("bill", G6_FORECAST, "--plan", G6_PLAN)
    assert "\x1b[" in ok(*args, env={"NO_COLOR": None, "TERM": "xterm-256color"}).stdout
    assert "\x1b[" not in ok(*args, "--no-color").stdout
    assert "\x1b[" not in ok(*args, env={"NO_COLOR": "1"}).stdout
    assert "\x1b[" not in ok(*args, "--format", "json").stdout


# --------------------------------------------------------------------------- plan

def test_plan_bundled_example_says_so_on_stderr():
    result = ok("plan", "--format", "json")
    assert "bundled example forecast" in result.stderr
    data = json.loads(result.stdout)              # stdout is pure JSON
    check_spec_shape(data, "optimal")
    assert data["horizon"] == {"start": "2027-01", "months": 12}
    assert len(data["products"]) == 9
    assert data["gap"] == 0.0
    assert data["solver"] == "highs" and data["purchase_months"] == "start"
    assert set(data["timings"]) == {"build_seconds", "solve_seconds", "bill_seconds",
                                    "search_seconds"}
    assert data["total_cost"] == round(data["pack_cost"] + data["postpaid_cost"], 2)
    assert data["savings"] == round(data["postpaid_only_cost"] - data["total_cost"], 2)


def test_plan_spec_example():
    data = as_json("plan", ID_YEAR)
    check_spec_shape(data, "optimal")
    [p] = data["products"]
    assert data["total_cost"] == 15000.0
    assert p["purchases"] == [{"month": "2027-01", "size": 100000, "count": 3, "cost": 15000.0}]


def test_plan_table():
    result = ok("plan", ID_YEAR)
    assert result.stderr == ""
    out = result.stdout
    assert out.startswith("packopt plan: optimal (proven to the fen)\n")
    assert "Packs to buy" in out and "100,000 × 3" in out
    assert "Total cost 15,000.00 CNY" in out


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_plan_round_trips_through_bill(tmp_path, fmt):
    """What `plan` reports equals what `bill` computes for the same plan, to the fen."""
    out = ok("plan", WIDE, "--format", fmt).stdout
    plan_file = write(tmp_path, f"plan.{fmt}", out)
    billed = as_json("bill", WIDE, "--plan", plan_file)
    planned = as_json("plan", WIDE)
    for key in ("total_cost", "pack_cost", "postpaid_cost", "postpaid_only_cost"):
        assert billed[key] == planned[key]
    assert [p["purchases"] for p in billed["products"]] == \
        [p["purchases"] for p in planned["products"]]


def test_plan_csv_rows():
    rows = as_csv("plan", ID_YEAR)
    assert rows == [["product", "month", "size", "count", "cost"],
                    ["id_card", "2027-01", "100000", "3", "15000.00"]]


def test_plan_compare():
    data = as_json("plan", ID_YEAR, "--compare")
    cmp = data["comparison"]
    names = [s["strategy"] for s in cmp["strategies"]]
    assert names == ["postpaid_only", "rule_of_thumb", "optimal"]
    postpaid, thumb, optimal = cmp["strategies"]
    assert postpaid["total_cost"] == data["postpaid_only_cost"] == 28800.0
    assert optimal["total_cost"] == data["total_cost"]
    assert cmp["optimizer_value"] == round(thumb["total_cost"] - optimal["total_cost"], 2)
    assert cmp["optimizer_value"] >= 0
    out = ok("plan", ID_YEAR, "--compare").stdout
    assert "Pure postpaid" in out and "Rule of thumb" in out and "Optimal plan" in out
    assert "The optimizer is worth" in out
    rows = as_csv("plan", ID_YEAR, "--compare")
    assert [r[0] for r in rows] == ["strategy", "postpaid_only", "rule_of_thumb", "optimal"]


def test_a_start_only_plan_past_the_packs_validity_says_the_rule_of_thumb_renews(tmp_path):
    """24 months in the default start mode: the rule of thumb renews in month 13 and beat
    the "optimal" plan by 51,400 CNY ("worth -51,400.00") with no word why."""
    f = write(tmp_path, "f24.csv", "product,month,calls\n" + "".join(
        f"id_card,{2027 + m // 12}-{m % 12 + 1:02d},30000\n" for m in range(24)))
    r = ok("plan", f, "--compare", "--format", "json")
    cmp = json.loads(r.stdout)["comparison"]
    assert cmp["rule_of_thumb_renewals"] == ["2028-01"] and cmp["optimizer_value"] < 0
    assert "from 2028-01 on this plan can only pay postpaid" in " ".join(r.stderr.split())
    text = " ".join(ok("plan", f, "--compare").stdout.split())
    assert "renews its packs in 2028-01, which --purchase-months start does not allow" in text
    anymonth = ok("plan", f, "--compare", "--purchase-months", "any", "--format", "json")
    assert json.loads(anymonth.stdout)["comparison"]["rule_of_thumb_renewals"] == []
    assert "can only pay postpaid" not in anymonth.stderr
    assert as_json("plan", ID_YEAR, "--compare")["comparison"]["rule_of_thumb_renewals"] == []


def test_compare_measures_the_strategies_on_what_the_plan_minimised(tmp_path):
    """--compare measured every strategy by its total on the base forecast: a prorata plan
    (cheapest net of its carry-over credit) was "worth -1,800.00 CNY", and a plan that
    weighed a high scenario "-200.00", while on their own objective both beat the rule of
    thumb. Each baseline is billed on every scenario (net of its credit under prorata)."""
    f = write(tmp_path, "f.csv", "product,month,calls\nid_card,2027-01,11000\n")
    s = write(tmp_path, "s.csv", "scenario,weight,scale\nlow,1,0.1\nbase,1,1\nhigh,1,3\n")
    thumb = write(tmp_path, "thumb.csv", "product,month,size,count\nid_card,2027-01,10000,1\n")
    scen = [("low", 1100), ("base", 11000), ("high", 33000)]
    for extra, measure in ((["--carry-over-value", "prorata"], "net_cost"),
                           (["--scenarios", s], "expected_cost"),
                           (["--scenarios", s, "--objective", "worst-case"], "worst_cost"),
                           (["--scenarios", s, "--carry-over-value", "prorata"],
                            "expected_net_cost")):
        data = as_json("plan", f, "--compare", *extra)
        cmp = data["comparison"]
        assert cmp["measure"] == measure
        costs = {d["strategy"]: d["cost"] for d in cmp["strategies"]}
        net = "net" in measure

        def on(plan_file):
            each = []
            for name, calls in scen if "--scenarios" in extra else [("base", 11000)]:
                g = write(tmp_path, f"{name}.csv", f"product,month,calls\nid_card,2027-01,"
                                                   f"{calls}\n")
                b = as_json("bill", g, *(["--plan", plan_file] if plan_file else []))
                each.append(b["net_cost"] if net else b["total_cost"])
            return max(each) if measure.startswith("worst") else sum(each) / len(each)
        assert costs["rule_of_thumb"] == pytest.approx(on(thumb), abs=0.006)
        assert costs["postpaid_only"] == pytest.approx(on(None), abs=0.006)
        mine = data["worst_cost"] if measure == "worst_cost" else \
            data["expected_cost"] if "--scenarios" in extra and not net else None
        if mine is not None:
            assert costs["optimal"] == mine
        assert cmp["optimizer_value"] == round(costs["rule_of_thumb"] - costs["optimal"], 2)
        assert cmp["optimizer_value"] >= 0      # (the optimum on its own measure)
        rows = as_csv("plan", f, "--compare", *extra)
        assert rows[0][4] == measure
        text = " ".join(ok("plan", f, "--compare", *extra).stdout.split())
        assert "(what the plan minimised" in text


@pytest.mark.parametrize("flag", ["--budget", "--monthly-budget", "--yearly-budget"])
def test_compare_under_a_cap_the_rule_of_thumb_breaks_says_so(flag):
    """The rule of thumb knows no cap: it buys 15,000 CNY of id_card packs up front, so
    beside a plan kept to 10,000 it is no baseline, and the optimizer is not "worth" a
    negative amount over it (a bill export under --yearly-budget showed -62,096 CNY)."""
    data = as_json("plan", ID_YEAR, "--compare", flag, "10000")
    cmp = data["comparison"]
    assert cmp["rule_of_thumb_breaks"] == [flag] and cmp["optimizer_value"] < 0
    out = ok("plan", ID_YEAR, "--compare", flag, "10000").stdout
    assert f"beyond the cap ({flag})" in " ".join(out.split())
    assert "The optimizer is worth" not in out
    assert as_json("plan", ID_YEAR, "--compare", flag, "20000")["comparison"][
        "rule_of_thumb_breaks"] == []


def test_plan_months_and_cashflow_views():
    out = ok("plan", ID_YEAR, "-v", "--cashflow").stdout
    assert "month by month" in out and "Cash flow" in out and "Peak frozen" in out
    rows = as_csv("plan", ID_YEAR, "--months")
    assert rows[0][:2] == ["product", "month"] and len(rows) == 13


def test_plan_with_holdings_and_options(tmp_path):
    data = as_json("plan", ID_YEAR, "--holdings", HOLDINGS, "--tier-basis", "after-packs",
                   "--time-limit", "30")
    assert data["tier_basis"] == "after-packs"
    assert data["products"][0]["holdings"] == [{"expires": "2027-02", "calls": 20000}]


# --------------------------------------------------------------------------- library errors

class FakePlanner:
    """Stands in for optimizer.analysis.planning to drive the error paths of `plan`."""

    def __init__(self, error):
        self.error = error

    def plan_report(self, *args, **kwargs):
        raise self.error

    def rule_of_thumb(self, *args, **kwargs):
        raise AssertionError("not reached")


@pytest.mark.parametrize("error, code", [
    (SolverError("id_card: the highs solver failed (crashed)"), 1),
    (BillingMismatchError("id_card: the model's cost 1 differs from the billed cost 2"), 1),
    (InfeasibleError("the budget of 100 CNY admits no plan"), 2),
])
def test_plan_library_errors_become_one_line_and_exit_codes(monkeypatch, error, code):
    monkeypatch.setattr(cli_module, "load_analysis", lambda name: FakePlanner(error))
    result = run("plan", ID_YEAR, "--format", "json")
    assert result.exit_code == code
    assert result.stdout == ""
    assert result.stderr == f"Error: {error}\n"


def test_plan_bundled_example_error_prints_only_the_error(monkeypatch):
    monkeypatch.setattr(cli_module, "load_analysis", lambda name: FakePlanner(SolverError("boom")))
    result = run("plan")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "Error: boom\n")


# --------------------------------------------------------------------------- usage errors

@pytest.mark.parametrize("args, flags", [
    (("bill", G6_FORECAST, "--months", "--cashflow", "--format", "csv"), "--months and --cashflow"),
    (("plan", ID_YEAR, "--compare", "--months", "--format", "csv"), "--months and --compare"),
])
def test_conflicting_options_name_the_flags(args, flags):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert flags in result.stderr and "--format csv" in result.stderr


@pytest.mark.parametrize("args", [
    ("plan", ID_YEAR, "--solver", "gurobi"),
    ("plan", ID_YEAR, "--purchase-months", "sometimes"),
    ("plan", ID_YEAR, "--time-limit", "0"),
    ("plan", ID_YEAR, "--time-limit", "soon"),
    ("bill", ID_YEAR, "--tier-basis", "monthly"),
    ("bill", ID_YEAR, "--format", "xml"),
    ("bill",),
])
def test_bad_option_values_are_usage_errors(args):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "Error:" in result.stderr


@pytest.mark.parametrize("value, says", [
    ("idcard=0.04", r"unknown product 'idcard'; did you mean 'id_card'\?"),
    ("license_plate", r"expected PRODUCT=RATE"),
    ("license_plate=cheap", r"rate for license_plate must be a non-negative decimal"),
    ("license_plate=-1", r"non-negative"),
])
def test_bad_negotiated_rate(value, says):
    result = run("bill", ID_YEAR, "--negotiated-rate", value)
    assert_input_error(result, "--negotiated-rate", says=says)


def test_conflicting_negotiated_rates_are_a_usage_error():
    # the product named by its id, then its name: both rates are named, none is guessed
    result = run("bill", ID_YEAR, "--negotiated-rate", "license_plate=0.05",
                 "--negotiated-rate", "车牌识别=0.01")
    assert result.stderr == ("Error: --negotiated-rate: conflicting rates for license_plate: "
                             "'0.05' and '0.01'; give one\n")
    assert_input_error(result, "--negotiated-rate")
    # the same rate twice is no conflict
    ok("bill", ID_YEAR, "--negotiated-rate", "license_plate=0.05",
       "--negotiated-rate", "license_plate=0.050")


def test_negotiated_rate_needs_an_unpublished_tier(tmp_path):
    path = write(tmp_path, "c.toml", """
[[product]]
id = "id_card"
tiers = [ { up_to = 10000, rate = "0.15" }, { rate = "0.10" } ]
""")
    result = run("catalog", "--catalog", path, "--negotiated-rate", "id_card=0.05")
    assert_input_error(result, "--negotiated-rate", says="no unpublished top tier")


# --------------------------------------------------------------------------- bad forecasts

LONG = "product,month,calls\n"


@pytest.mark.parametrize("text, line, field, says", [
    (LONG + "id_card,2027-01,100\nid_card,2027-02,-5\n", 3, "calls", "must not be negative"),
    (LONG + "id_card,2027-01,12.5\n", 2, "calls", "whole number"),
    (LONG + "id_card,2027-01,lots\n", 2, "calls", "not a whole number"),
    (LONG + "id_card,2027-01,\n", 2, "calls", "empty"),
    (LONG + 'id_card,2027-01,"25,000"\n', 2, "calls", "thousands separators.*25000"),
    (LONG + "id_card,2027-01,25,000\n", 2, "calls", "thousands separators.*25000"),
    (LONG + "id_card,2027-1-15,100\n", 2, "month", "is a date, not a month"),
    (LONG + "id_card,01/2027,100\n", 2, "month", "YYYY-MM"),
    (LONG + "id_card,2027-13,100\n", 2, "month", "YYYY-MM"),
    (LONG + "id_card,2027-01,1\nid_card,2027-02,1\nid_card,2027-01,2\n", 4, "month",
     r"duplicate row for id_card 2027-01 \(first given on line 2\)"),
    (LONG + "id_card,2027-01,1\nid_card,2027-03,1\n", 2, "month",
     "no calls given for id_card in 2027-02"),
    (LONG + "id_card,2027-01,1\nid_card,2027-02,1\nbank_card,2027-01,1\n", 4, "month",
     "no calls given for bank_card in 2027-02"),
    (LONG + "idcard,2027-01,1\n", 2, "product", r"unknown product 'idcard'; did you mean 'id_card'\?"),
    (LONG + "bank-card,2027-01,1\n", 2, "product", r"did you mean 'bank_card'\?"),
    ("product,month,calls,extra\nid_card,2027-01,1,2,3\n", 2, "row", "expected 4 fields"),
    ("product,2027-01,2027-02\nid_card,1,-2\n", 2, "2027-02", "must not be negative"),
    ("product,2027-01,2027-02\nid_card,1,2,000\n", 2, "2027-02", "thousands separators"),
    ("product,2027-01,Feb\nid_card,1,2\n", 1, "Feb", "'Feb' is not a month: it has no year"),
    ("product,2027-01,2027-02\nidcard,1,2\n", 2, "product", "did you mean 'id_card'"),
])
def test_bad_forecast(tmp_path, text, line, field, says):
    path = write(tmp_path, "forecast.csv", text)
    for command in (["bill", path], ["plan", path]):
        assert_input_error(run(*command), "forecast.csv", line=line, field=field, says=says)


@pytest.mark.parametrize("text, says", [
    ("", "the forecast file is empty"),
    ("\n  \n", "the forecast file is empty"),
    ("product,month,calls\n", "header but no data rows"),
])
def test_empty_forecast(tmp_path, text, says):
    path = write(tmp_path, "forecast.csv", text)
    for command in (["bill", path], ["plan", path]):
        assert_input_error(run(*command), "forecast.csv", says=says)


def test_missing_forecast_file(tmp_path):
    missing = str(tmp_path / "nope.csv")
    assert_input_error(run("bill", missing), "nope.csv", says="cannot read forecast")


def test_forecast_not_utf8(tmp_path):
    # GBK is read now (as GB18030, with a note); bytes that are neither are still refused
    p = tmp_path / "forecast.csv"
    p.write_bytes(b"product,month,calls\nid_card,2027-01,5\n\xe9t\xe9,2027-01,5\n")
    assert_input_error(run("bill", str(p)), "forecast.csv", line=3,
                       says="not UTF-8 text, nor GB18030: save it from Excel as \"CSV UTF-8")


# --------------------------------------------------------------------------- bad catalogs

CATALOG_HEAD = 'currency = "CNY"\nfree_calls_per_month = 1000\n\n[[product]]\nid = "id_card"\n'


@pytest.mark.parametrize("body, line, field, says", [
    ('packs = [ { calls = 1000, price = "120" } ]\n'
     'tiers = [ { up_to = 10000, rate = "0.15" }, { up_to = 5000, rate = "0.10" },\n'
     '          { rate = "0.06" } ]\n', 7, "product[1].up_to", "tiers overlap"),
    ('packs = [ { calls = 1000, price = "120" } ]\n'
     'tiers = [\n  { up_to = 10000, rate = "0.15" },\n  { up_to = 10000, rate = "0.10" },\n'
     '  { rate = "0.06" },\n]\n', 9, "product[1].up_to", "tiers overlap"),
    ('packs = [ { calls = 1000, price = "120" },\n          { calls = 10000 } ]\n'
     'tiers = [ { up_to = 10000, rate = "0.15" }, { rate = "0.06" } ]\n', 7,
     "product[1].price", "pack 2 \\(10000 calls\\) has no price"),
    ('packs = [ { calls = 1000, price = "cheap" } ]\n'
     'tiers = [ { up_to = 10000, rate = "0.15" }, { rate = "0.06" } ]\n', 6,
     "product[1].price", "not a decimal number"),
    ('packs = [ { calls = 1000, price = "120" } ]\n'
     'tiers = [ { up_to = 10000, rate = "0.15" }, { up_to = 20000, rate = "0.06" } ]\n', 7,
     "product[1].up_to", "last tier must have no up_to"),
    ('packs = [ { calls = 1000, price = "120" } ]\n'
     'tiers = [ { up_to = 10000, rate = "0.15" }, { rate = "0.06" } ]\ncolour = "red"\n', 8,
     "product[1].colour", "unknown key"),
])
def test_bad_catalog(tmp_path, body, line, field, says):
    path = write(tmp_path, "prices.toml", CATALOG_HEAD + body)
    for command in (["catalog"], ["bill", G6_FORECAST], ["plan", G6_FORECAST]):
        assert_input_error(run(*command, "--catalog", path), "prices.toml", line=line,
                           field=field, says=says)


def test_catalog_not_toml(tmp_path):
    path = write(tmp_path, "prices.toml", 'currency = "CNY"\n[[product]\n')
    assert_input_error(run("catalog", "--catalog", path), "prices.toml", line=2, field="toml",
                       says="not valid TOML")


def test_empty_catalog(tmp_path):
    path = write(tmp_path, "prices.toml", "")
    assert_input_error(run("catalog", "--catalog", path), "prices.toml", says="empty")


def test_catalog_with_bom_is_accepted(tmp_path):
    path = write(tmp_path, "prices.toml", CATALOG_HEAD +
                 'tiers = [ { up_to = 10000, rate = "0.15" }, { rate = "0.06" } ]\n', bom=True)
    assert as_json("catalog", "--catalog", path)["products"][0]["id"] == "id_card"


def test_forecast_product_missing_from_catalog(tmp_path):
    path = write(tmp_path, "prices.toml", CATALOG_HEAD +
                 'tiers = [ { up_to = 10000, rate = "0.15" }, { rate = "0.06" } ]\n')
    # the bundled example names products this catalog does not have
    result = run("plan", "--catalog", path)
    assert_input_error(result, "bundled example forecast", line=2, field="product",
                       says="unknown product 'general_print'")


# --------------------------------------------------------------------------- bad plans

PLAN = "product,month,size,count\n"


@pytest.mark.parametrize("text, line, field, says", [
    (PLAN + "bank_card,2027-01,1500,1\n", 2, "size", r"no pack of 1500 calls \(sizes: 1000"),
    (PLAN + "bank_card,2027-01,1000,-1\n", 2, "count", "must not be negative"),
    (PLAN + "bank_card,2027-01,1000,1.5\n", 2, "count", "whole number"),
    (PLAN + "bank_card,2027-01,1000,\n", 2, "count", "empty"),
    (PLAN + "bank_card,2027-01,0,1\n", 2, "size", "at least 1"),
    (PLAN + "bank_card,Q1 2027,1000,1\n", 2, "month", "a quarter"),
    (PLAN + "bank_card,2027-01,1000,1\nbankcard,2027-01,1000,1\n", 3, "product",
     "did you mean 'bank_card'"),
    (PLAN + "vat_invoice,2027-01,1000,1\n", 2, "product", "postpaid only"),
    (PLAN + "bank_card,2027-01,1000\n", 2, "row", "expected 4 fields"),
    (PLAN + "bank_card,2026-12,1000,1\n", 2, "month", "outside the forecast horizon"),
    (PLAN + "id_card,2027-01,1000,1\n", 2, "product", "not in the forecast"),
    ("product,month,count,size\nbank_card,2027-01,1,1000\n", 1, "count",
     "header must be product,month,size,count"),
])
def test_bad_plan(tmp_path, text, line, field, says):
    path = write(tmp_path, "plan.csv", text)
    assert_input_error(run("bill", G6_FORECAST, "--plan", path), "plan.csv", line=line,
                       field=field, says=says)


def test_empty_plan(tmp_path):
    path = write(tmp_path, "plan.csv", "")
    assert_input_error(run("bill", G6_FORECAST, "--plan", path), "plan.csv",
                       says="the plan file is empty")


STALE_PLAN = "product,month,size,count,cost\nid_card,2027-01,100000,3,1.00\n"


def piped(args, stdin: bytes, timeout: float = 60):
    """`python cli.py ARGS` with `stdin` on a pipe (a hang is a failure, not a stuck run)."""
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, input=stdin,
                          capture_output=True, timeout=timeout)


@pytest.mark.parametrize("command", ["bill", "whatif"])
def test_a_plan_is_read_from_a_pipe_once(command):
    """--plan /dev/stdin: the plan file is read once (a pipe's bytes are gone after one
    read: the JSON sniff then the table read found it empty), its stale cost too."""
    levels = ["--scale", "1"] if command == "whatif" else []
    proc = piped([command, ID_YEAR, "--plan", "/dev/stdin", "--format", "json", *levels],
                 STALE_PLAN.encode())
    assert proc.returncode == 0, proc.stderr.decode()
    data = json.loads(proc.stdout)
    assert any("/dev/stdin, line 2: cost 1.00 disagrees with the catalog" in w
               for w in data["warnings"]), data["warnings"]
    if command == "bill":
        assert data["total_cost"] == 15000.0
    plan_json = ok("plan", ID_YEAR, "--format", "json").stdout.encode()
    proc = piped(["bill", ID_YEAR, "--plan", "/dev/stdin", "--format", "json"], plan_json)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout)["total_cost"] == 15000.0


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_plan_is_read_from_a_fifo_without_hanging(tmp_path):
    """A named pipe gives its bytes to one reader: a second open of it waited forever."""
    import threading
    fifo = tmp_path / "plan.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_bytes, args=(STALE_PLAN.encode(),),
                              daemon=True)
    writer.start()
    proc = piped(["bill", ID_YEAR, "--plan", str(fifo), "--format", "json"], b"", timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout)["total_cost"] == 15000.0


def test_bad_plan_json(tmp_path):
    path = write(tmp_path, "plan.json", '{"products": [\n  {"product": "bank_card",\n'
                 '   "purchases": [{"month": "2027-01", "size": 1000, "count": -1}]}]}\n')
    assert_input_error(run("bill", G6_FORECAST, "--plan", path), "plan.json", line=3,
                       field="products[0].purchases[0].count", says="non-negative")
    # a value named as JSON spells it (true, null), not as Python does (True, None)
    path = write(tmp_path, "plan.json", '{"products": [{"product": "bank_card", "purchases": '
                 '[{"month": "2027-01", "size": null, "count": true}]}]}\n')
    assert_input_error(run("bill", G6_FORECAST, "--plan", path), "plan.json",
                       says=r"size must be a positive whole number \(at most 10\^15\), not null;"
                            r".* count must be a non-negative whole number .*, not true$")
    path = write(tmp_path, "plan.json", '{"products": [\n')
    assert_input_error(run("bill", G6_FORECAST, "--plan", path), "plan.json", says="not valid JSON")


@pytest.mark.parametrize("entry, field, says", [
    # a misspelt key billed the plan as buying nothing, silently
    ('{"product": "bank_card", "purchase": [{"month": "2027-01", "size": 1000, "count": 3}]}',
     "products[0].purchases", r"no 'purchases' list: 'purchase' is not a key packopt reads "
                              r"\(did you mean 'purchases'\?\)$"),
    ('{"product": "bank_card"}', "products[0].purchases",
     r"no 'purchases' list \(a product that buys nothing has \"purchases\": \[\]\)$"),
    ('{"product": "bank_card", "purchases": [{"month": "2027-01", "sise": 1000, "count": 3}]}',
     "products[0].purchases[0].size", r"size is missing: 'sise' is not a key .*'size'\?\)$"),
    ('{"product": "bank_card", "purchases": [{"size": 1000, "count": 3}]}',
     "products[0].purchases[0].month", "month is missing$"),
])
def test_plan_json_missing_its_purchases_is_refused(tmp_path, entry, field, says):
    path = write(tmp_path, "plan.json", '{"products": [\n' + entry + "\n]}\n")
    assert_input_error(run("bill", G6_FORECAST, "--plan", path), "plan.json", line=2,
                       field=field, says=says)


@pytest.mark.parametrize("product, month, size, field, says", [
    ("bank_card", "2027-01", 1500, "products[0].purchases[0].size", "no pack of 1500 calls"),
    ("vat_invoice", "2027-01", 1000, "products[0].product", "postpaid only"),
    ("bank_card", "2026-12", 1000, "products[0].purchases[0].month",
     "outside the forecast horizon"),
    ("id_card", "2027-01", 1000, "products[0].product", "not in the forecast"),
])
def test_plan_json_errors_name_the_json_path(tmp_path, product, month, size, field, says):
    """As every other plan JSON error does: these named the CSV column ('size')."""
    path = write(tmp_path, "plan.json", f'{{"products": [\n{{"product": "{product}", '
                 f'"purchases": [{{"month": "{month}", "size": {size}, "count": 1}}]}}]}}\n')
    assert_input_error(run("bill", G6_FORECAST, "--plan", path), "plan.json", line=2,
                       field=field, says=says)


def test_a_forecasts_json_is_not_taken_for_a_plan(tmp_path):
    """`forecast --format json` has products with no purchases: it was billed as a plan
    buying nothing."""
    from history_data import csv_text, five_products
    history = write(tmp_path, "history.csv", csv_text(five_products(24)))
    path = write(tmp_path, "fc.json", ok("forecast", history, "--months", "2", "--format",
                                         "json").stdout)
    assert_input_error(run("bill", G6_FORECAST, "--plan", path), "fc.json",
                       field="products[0].purchases",
                       says="this is the JSON `packopt forecast` writes")


@pytest.mark.parametrize("args", [
    (WIDE,),
    (ID_YEAR, "--scenarios", str(DATA / "scenarios_full.csv")),
    (str(DATA / "grow24.csv"), "--purchase-months", "any"),
    (),                                                    # the bundled example
])
def test_plan_json_still_reads_back(tmp_path, args):
    """Every product `plan --format json` writes has its purchases, empty or not."""
    plan_file = write(tmp_path, "plan.json", ok("plan", *args, "--format", "json").stdout)
    fc = args[0] if args else str(ROOT / "optimizer" / "data" / "example_forecast.csv")
    billed = as_json("bill", fc, "--plan", plan_file)
    planned = as_json("plan", *args)
    assert billed["pack_cost"] == planned["pack_cost"]
    assert [p["purchases"] for p in billed["products"]] == \
        [p["purchases"] for p in planned["products"]]


# --------------------------------------------------------------------------- bad holdings

@pytest.mark.parametrize("text, line, field, says", [
    ("product,expires,calls_left\nid_card,2027-02,-1\n", 2, "calls_left", "negative"),
    ("product,expires,calls_left\nid_card,Feb,1\n", 2, "expires", "YYYY-MM"),
    ("product,expires,calls_left\nidcard,2027-02,1\n", 2, "product", "did you mean 'id_card'"),
    ("product,calls_left\nid_card,1\n", 1, "calls_left", "header must be"),
])
def test_bad_holdings(tmp_path, text, line, field, says):
    path = write(tmp_path, "held.csv", text)
    for command in (["bill", ID_YEAR], ["plan", ID_YEAR]):
        assert_input_error(run(*command, "--holdings", path), "held.csv", line=line,
                           field=field, says=says)


def test_any_month_compare_shows_the_start_only_plan_side_by_side(tmp_path):
    """Growing demand over 18 months: buying in later months beats buying all at once."""
    calls = [2000, 3000, 5000, 8000, 12000, 18000, 25000, 30000, 35000, 40000, 45000, 50000,
             55000, 60000, 60000, 60000, 60000, 60000]
    f = tmp_path / "grow.csv"
    f.write_text("product,month,calls\n" + "".join(
        f"id_card,{2027 + (m // 12)}-{m % 12 + 1:02d},{c}\n" for m, c in enumerate(calls)))
    r = CliRunner().invoke(cli, ["plan", str(f), "--purchase-months", "any", "--compare",
                                 "--format", "json"])
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    cost = {s["strategy"]: s["total_cost"] for s in data["comparison"]["strategies"]}
    assert cost["optimal"] == data["total_cost"] < cost["optimal_start"]
    assert cost["optimal"] <= cost["rule_of_thumb"]
    # The rule of thumb renews every 12 months: its second year's packs are bought in 2028-01.
    thumb = next(s for s in data["comparison"]["strategies"] if s["strategy"] == "rule_of_thumb")
    assert {p["month"] for p in thumb["purchases"]} == {"2027-01", "2028-01"}
    assert len({p["month"] for p in data["products"][0]["purchases"]}) > 1
    # The dated schedule bills to the same cost.
    plan_csv = tmp_path / "plan.csv"
    r = CliRunner().invoke(cli, ["plan", str(f), "--purchase-months", "any", "--format", "csv"])
    plan_csv.write_text(r.stdout)
    r = CliRunner().invoke(cli, ["bill", str(f), "--plan", str(plan_csv), "--format", "json"])
    assert json.loads(r.stdout)["total_cost"] == data["total_cost"]


@pytest.mark.parametrize("args, flag", [
    (["plan", "--time-limit", "0"], "--time-limit"),
    (["plan", "--time-limit", "nan"], "--time-limit"),       # (every range check passes NaN)
    (["plan", "--solver", "gurobi"], "--solver"),
    (["plan", "--bogus"], "--bogus"),
    (["bill", "--format", "xml"], "--format"),
    (["nope"], "nope"),
])
def test_usage_errors_are_one_line(args, flag):
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and flag in lines[0]
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_budget_question_in_two_commands(tmp_path):
    """"What do we buy with 20,000 CNY of prepaid, and what if demand is 30 % lower?" """
    r = CliRunner().invoke(cli, ["plan", "--budget", "20000", "--format", "csv"])
    assert r.exit_code == 0, r.stderr
    plan_csv = tmp_path / "plan.csv"
    plan_csv.write_text(r.stdout)
    spent = sum(Decimal(row["cost"]) for row in csv.DictReader(io.StringIO(r.stdout)))
    assert 0 < spent <= 20000
    r = CliRunner().invoke(cli, ["whatif", "--budget", "20000", "--scale", "0.7", "--format",
                                 "json", "--no-break-even"])
    assert r.exit_code == 0, r.stderr
    level = json.loads(r.stdout)["levels"][0]
    assert level["optimal_pack_cost"] <= 20000 and level["regret"] >= 0
    # The numbers reproduce with bill: the examined plan at ×1 is the budgeted plan.
    example = Path(cli_module.__file__).parent / "optimizer" / "data" / "example_forecast.csv"
    billed = CliRunner().invoke(cli, ["bill", str(example), "--plan", str(plan_csv),
                                      "--format", "json"])
    planned = CliRunner().invoke(cli, ["plan", "--budget", "20000", "--format", "json"])
    assert json.loads(billed.stdout)["total_cost"] == json.loads(planned.stdout)["total_cost"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("buffered", [True, False])
def test_an_output_that_cannot_be_written_is_one_line_and_status_1(buffered):
    """stdout on a full disk: one line on stderr saying so, status 1, no traceback."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "cli.py", "plan", "--format", "json"],
                              cwd=ROOT, stdout=full, stderr=subprocess.PIPE, text=True,
                              env=env)
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("packopt:")]
    assert errors == ["Error: cannot write the output: No space left on device"]


def test_a_reader_that_goes_away_ends_the_program_quietly(tmp_path):
    """`packopt bill ... | head -c 10`: the rest is not wanted; no traceback, status 1.
    (The bill of 9 products × 120 months, ~500 kB of JSON, is more than a pipe holds.)"""
    ids = [p.id for p in load_catalog().products]
    rows = [f"{pid},{2027 + m // 12}-{m % 12 + 1:02d},{5000 + 97 * m}"
            for pid in ids for m in range(120)]
    big = tmp_path / "big.csv"
    big.write_text("product,month,calls\n" + "\n".join(rows) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.Popen([sys.executable, "cli.py", "bill", str(big), "--format", "json"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    first = proc.stdout.read(10)
    proc.stdout.close()                          # the reader goes away
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1 and first.startswith(b"{")
    assert "Traceback" not in err
