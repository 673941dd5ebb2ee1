"""Forecast, plan and holdings readers: what they accept, and errors naming source/line/field."""

import json

import pytest

from optimizer import InputError, read_forecast, read_holdings, read_plan
from optimizer.billing import check_plan_against
from optimizer.domain.records import Purchase
from optimizer.io.forecast import parse_forecast
from optimizer.io.holdings import parse_holdings
from optimizer.io.plans import parse_plan_csv, parse_plan_json

from helpers import SEED, M, forecast, plan


def write(tmp_path, text: str, name: str, bom: bool = False) -> str:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return str(path)


def error(fn, *args) -> InputError:
    """The InputError that fn(*args) raises; it must name its source."""
    with pytest.raises(InputError) as e:
        fn(*args)
    assert e.value.source, f"the error names its file: {e.value}"
    return e.value


# --------------------------------------------------------------------------- forecast: accepted

LONG = """product,month,calls
id_card,2027-01,25000
id_card,2027-02,26000
bank_card,2027-01,900
bank_card,2027-02,0
"""

WIDE = """product,2027-01,2027-02
bank_card,900,0
id_card,25000,26000
"""


def test_long_form():
    f = parse_forecast(LONG, SEED, "f.csv")
    assert f.start == M("2027-01") and f.months == 2 and f.source == "f.csv"
    # Products come in catalog order, whatever the file's order.
    assert f.demand == (("id_card", (25000, 26000)), ("bank_card", (900, 0)))
    assert f.products() == ["id_card", "bank_card"]
    assert f.calls("bank_card") == (900, 0)


def test_wide_form_equals_long_form():
    assert parse_forecast(WIDE, SEED, "w.csv").demand == parse_forecast(LONG, SEED, "l.csv").demand


def test_long_form_rows_in_any_order_across_a_year_boundary():
    text = ("product,month,calls\nid_card,2028-01,3\nid_card,2027-11,1\n"
            "id_card,2027-12,2\n")
    f = parse_forecast(text, SEED, "f.csv")
    assert (str(f.start), f.months, f.calls("id_card")) == ("2027-11", 3, (1, 2, 3))


def test_products_by_id_or_by_the_seeds_chinese_name():
    text = ("product,month,calls\n身份证识别,2027-01,5\n增值税发票,2027-01,7\n"
            "行驶证/驾驶证识别,2027-01,9\n")
    f = parse_forecast(text, SEED, "f.csv")
    assert dict(f.demand) == {"id_card": (5,), "vat_invoice": (7,), "vehicle_license": (9,)}
    wide = "product,2027-01\n身份证识别,5\n"
    assert parse_forecast(wide, SEED, "w.csv").demand == (("id_card", (5,)),)


def test_blank_lines_and_spaces_are_tolerated():
    text = "\nproduct,month,calls\n\n id_card , 2027-01 , 5 \n\n"
    assert parse_forecast(text, SEED, "f.csv").demand == (("id_card", (5,)),)


@pytest.mark.parametrize("text", [LONG, WIDE])
def test_utf8_bom_is_accepted(tmp_path, text):
    path = write(tmp_path, text.replace("id_card", "身份证识别"), "bom.csv", bom=True)
    f = read_forecast(path, SEED)
    assert f.source == path
    assert dict(f.demand)["id_card"] == (25000, 26000)


def test_crlf_line_endings(tmp_path):
    path = write(tmp_path, LONG.replace("\n", "\r\n"), "crlf.csv")
    assert read_forecast(path, SEED).demand == parse_forecast(LONG, SEED).demand


# --------------------------------------------------------------------------- forecast: errors

H = "product,month,calls\n"


@pytest.mark.parametrize("text, line, field, words", [
    (H + "id_card,2027-01,-5\n", 2, "calls", "negative"),
    (H + "id_card,2027-01,5\nid_card,2027-02,12.5\n", 3, "calls", "whole number"),
    (H + "id_card,2027-01,1e3\n", 2, "calls", "whole number"),
    (H + 'id_card,2027-01,"1,000"\n', 2, "calls", "thousands separators"),
    (H + "id_card,2027-01,\n", 2, "calls", "empty"),
    (H + "id_card,2027-01,lots\n", 2, "calls", "whole number"),
    (H + "id_card,2027-13,5\n", 2, "month", "YYYY-MM"),
    # 2027/01 and 2027-1 are months now (docs/cli.md, "Months"); these still are not:
    (H + "id_card,2027/13,5\n", 2, "month", "no month 13"),
    (H + "id_card,2027-01-15,5\n", 2, "month", "a date, not a month"),
    (H + "id_card,2027-01,5\nid_card,2027-02,5\n身份证识别,2027-01,6\n", 4, "month", "line 2"),
    (H + "id_crad,2027-01,5\n", 2, "product", "did you mean 'id_card'"),
    (H + "id_card,2027-01\n", 2, "calls", "3 fields"),
    ("product,2027-01,2027-02\nid_card,5,-1\n", 2, "2027-02", "negative"),
    ("product,2027-01,2027-02\nid_card,5,2.5\n", 2, "2027-02", "whole number"),
    ('product,2027-01,2027-02\nid_card,"1,000",2\n', 2, "2027-01", "thousands separators"),
    ("product,2027-01,2027-13\nid_card,5,2\n", 1, "2027-13", "YYYY-MM"),
    ("product,2027-01,2027-01\nid_card,5,2\n", 1, "2027-01", "twice"),
    ("product,2027-01\nid_card,5\nid_card,6\n", 3, "product", "duplicate"),
    ("product,2027-01\nid_crad,5\n", 2, "product", "did you mean 'id_card'"),
])
def test_forecast_errors_name_source_line_and_field(text, line, field, words):
    err = error(parse_forecast, text, SEED, "f.csv")
    assert (err.source, err.line, err.field) == ("f.csv", line, field)
    assert words in err.message
    assert str(err).startswith(f"f.csv, line {line}, field '{field}': ")


def test_missing_product_month_names_the_product_and_the_month():
    text = H + "id_card,2027-01,5\nbank_card,2027-01,5\nid_card,2027-02,5\n"
    err = error(parse_forecast, text, SEED, "f.csv")
    assert (err.line, err.field) == (3, "month")          # bank_card's row
    assert "bank_card" in err.message and "2027-02" in err.message


def test_a_month_missing_for_every_product_is_a_gap():
    text = H + "id_card,2027-01,5\nid_card,2027-03,5\n"
    err = error(parse_forecast, text, SEED, "f.csv")
    assert (err.line, err.field) == (2, "month") and "2027-02" in err.message


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff"])
def test_empty_forecast_file(tmp_path, text):
    path = write(tmp_path, text, "empty.csv")
    err = error(read_forecast, path, SEED)
    assert err.source == path
    assert err.line == 1 and err.field
    assert "empty" in err.message


def test_empty_forecast_text():
    err = error(parse_forecast, "", SEED, "f.csv")
    assert err.line == 1 and err.field and "empty" in err.message


@pytest.mark.parametrize("text", [H, "product,2027-01,2027-02\n"])
def test_header_only(text):
    err = error(parse_forecast, text, SEED, "f.csv")
    assert err.line is not None and err.field
    assert "no data rows" in err.message


@pytest.mark.parametrize("header, field", [
    ("product,month,count", "count"),
    ("sku,month,calls", "sku"),
    ("product,month", "calls"),                 # the missing column
    ("product", "product"),
    ("month,product,month", "month"),
    ("product,month,", "column 3 (empty)"),         # a trailing delimiter: was a traceback
    ("product,month,,calls", "column 3 (empty)"),
])
def test_wrong_header_names_the_wrong_column(header, field):
    err = error(parse_forecast, header + "\nid_card,2027-01,5\n", SEED, "f.csv")
    assert (err.line, err.field) == (1, field)
    assert "header" in err.message


def test_unknown_product_without_a_close_match_points_to_the_catalog():
    err = error(parse_forecast, H + "zzzz,2027-01,5\n", SEED, "f.csv")
    assert "did you mean" not in err.message and "catalog" in err.message


def test_unreadable_or_non_utf8_forecast(tmp_path):
    err = error(read_forecast, tmp_path / "nope.csv", SEED)
    assert err.source == str(tmp_path / "nope.csv")
    path = tmp_path / "latin1.csv"
    path.write_bytes(H.encode() + b"id_card,2027-01,5\n\xe9t\xe9,2027-01,5\n")
    err = error(read_forecast, path, SEED)
    assert err.line == 3 and "UTF-8" in err.message


# --------------------------------------------------------------------------- plan CSV

PH = "product,month,size,count\n"


def test_plan_csv():
    text = PH + ("id_card,2027-01,100000,3\n身份证识别,2027-02,1000,0\n"
                 "bank_card,2027-03,10000,2\n")
    p = parse_plan_csv(text, SEED, "p.csv")
    assert p.source == "p.csv"
    assert p.purchases == (Purchase("id_card", M("2027-01"), 100000, 3),
                           Purchase("bank_card", M("2027-03"), 10000, 2))
    assert [x.line for x in p.purchases] == [2, 4]       # the count-0 row is dropped
    assert p.for_product("id_card") == [p.purchases[0]]


def test_plan_csv_with_the_cost_column_that_plan_writes():
    p = parse_plan_csv("product,month,size,count,cost\nid_card,2027-01,1000,2,240.00\n",
                       SEED, "p.csv")
    assert p.purchases == (Purchase("id_card", M("2027-01"), 1000, 2),)


@pytest.mark.parametrize("row, field, words", [
    ("id_card,2027-01,5000,1", "size", "no pack of 5000"),
    ("vat_invoice,2027-01,1000,1", "product", "postpaid only"),
    ("id_card,2027-01,1000,-1", "count", "negative"),
    ("id_card,2027-01,1000,1.5", "count", "whole number"),
    ("id_card,2027-01,0,1", "size", "at least 1"),
    ("id_card,2027-13,1000,1", "month", "YYYY-MM"),
    ("id_crad,2027-01,1000,1", "product", "did you mean 'id_card'"),
    ("id_card,2027-01,1000", "row", "fields"),
])
def test_plan_csv_errors(row, field, words):
    err = error(parse_plan_csv, PH + "id_card,2027-01,1000,1\n" + row + "\n", SEED, "p.csv")
    assert (err.source, err.line, err.field) == ("p.csv", 3, field)
    assert words in err.message


def test_plan_csv_wrong_header_and_empty(tmp_path):
    err = error(parse_plan_csv, "product,month,calls\nid_card,2027-01,1\n", SEED, "p.csv")
    assert err.line == 1 and err.field and "header" in err.message
    err = error(read_plan, write(tmp_path, "", "p.csv"), SEED)
    assert err.line == 1 and err.field and "empty" in err.message


# --------------------------------------------------------------------------- plan JSON

PLAN_JSON = """{
  "status": "optimal",
  "tier_basis": "total",
  "products": [
    {"product": "id_card",
     "purchases": [
       {"month": "2027-01", "size": 100000, "count": 3, "cost": 15000.0},
       {"month": "2027-04", "size": 1000, "count": 2, "cost": 240.0}
     ],
     "months": [{"month": "2027-01", "calls": 25000}]},
    {"product": "vat_invoice",
     "purchases": [],
     "months": [{"month": "2027-01", "calls": 100}]}
  ]
}
"""


def test_plan_json_written_by_plan():
    p = parse_plan_json(PLAN_JSON, SEED, "p.json")
    assert p.purchases == (Purchase("id_card", M("2027-01"), 100000, 3),
                           Purchase("id_card", M("2027-04"), 1000, 2))


def test_plan_json_compact_and_read_plan_dispatch(tmp_path):
    compact = json.dumps(json.loads(PLAN_JSON))
    assert parse_plan_json(compact, SEED, "p.json").purchases == \
        parse_plan_json(PLAN_JSON, SEED, "p.json").purchases
    assert read_plan(write(tmp_path, PLAN_JSON, "p.json", bom=True), SEED).purchases == \
        parse_plan_json(PLAN_JSON, SEED).purchases
    assert read_plan(write(tmp_path, PH + "id_card,2027-01,1000,1\n", "p.csv"), SEED).purchases \
        == (Purchase("id_card", M("2027-01"), 1000, 1),)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_plan_json_in_utf16_or_utf32_with_its_mark_is_read(tmp_path, encoding):
    """What PowerShell's `>` writes; read as a CSV table before ('field '{': header must
    be ...')."""
    path = tmp_path / "p.json"
    text = PLAN_JSON if encoding != "utf-16-be" else "\ufeff" + PLAN_JSON
    path.write_bytes(text.encode(encoding))
    assert read_plan(path, SEED).purchases == parse_plan_json(PLAN_JSON, SEED).purchases


def test_a_pack_on_two_lines_of_one_month_is_added_up_with_a_note(tmp_path):
    """Summed silently before: a copied row doubled a purchase without a word."""
    notes = []
    text = PH + "id_card,2027-01,1000,2\nid_card,2027-02,1000,1\nid_card,2027-01,1000,3\n"
    p = read_plan(write(tmp_path, text, "p.csv"), SEED, notes=notes)
    assert sum(x.count for x in p.purchases if x.month == M("2027-01")) == 5
    assert len(notes) == 1 and notes[0].endswith(
        "p.csv: id_card buys 1,000-call packs in 2027-01 on 2 lines (2, 4): counted "
        "together, 2 + 3 = 5")
    twice = json.loads(PLAN_JSON)
    twice["products"][0]["purchases"] *= 2
    notes = []
    read_plan(write(tmp_path, json.dumps(twice, indent=2), "p.json"), SEED, notes=notes)
    assert len(notes) == 2 and all("counted together" in n for n in notes)
    notes = []
    read_plan(write(tmp_path, PLAN_JSON, "p.json"), SEED, notes=notes)
    assert notes == []


@pytest.mark.parametrize("old, new, line, field, words", [
    # The error is in the second purchase, on line 8: the line must be that one.
    ('"size": 1000, "count": 2', '"size": 5000, "count": 2', 8, "size", "no pack of 5000"),
    ('"size": 1000, "count": 2', '"size": 1000, "count": -2', 8, "count", "non-negative"),
    ('"2027-04"', '"2027-13"', 8, "month", "YYYY-MM"),
    ('"size": 100000, "count": 3', '"size": 100000, "count": 2.5', 7, "count", "whole"),
])
def test_plan_json_errors_point_at_the_purchase(old, new, line, field, words):
    err = error(parse_plan_json, PLAN_JSON.replace(old, new), SEED, "p.json")
    assert (err.source, err.line) == ("p.json", line)
    assert err.field.endswith(field)
    assert words in err.message


def test_plan_json_postpaid_only_product():
    text = PLAN_JSON.replace('"purchases": [],',
                             '"purchases": [{"month": "2027-01", "size": 1000, "count": 1}],')
    err = error(parse_plan_json, text, SEED, "p.json")
    assert err.line == 12 and "postpaid only" in err.message and err.field.endswith("product")


def test_plan_json_structure_errors():
    err = error(parse_plan_json, '{"products": [\n  {"product": "id_card",}\n]}', SEED, "p.json")
    assert err.line == 2 and "JSON" in err.message
    err = error(parse_plan_json, '{"plan": []}', SEED, "p.json")
    assert err.field == "products"
    err = error(parse_plan_json, '{"products": [\n {"product": "id_crad"}]}', SEED, "p.json")
    assert err.line == 2 and "did you mean 'id_card'" in err.message


def test_a_plan_file_holding_a_json_array_is_read_as_json(tmp_path):
    """Not as a CSV whose header is the whole array (the error named a field
    '[{"product": ...'); it is the JSON that lacks the object `plan` writes."""
    err = error(read_plan, write(tmp_path, '[{"product": "id_card"}]', "p.json"), SEED)
    assert err.field == "products" and "packopt plan --format json" in err.message


# --------------------------------------------------------------------------- holdings

HH = "product,expires,calls_left\n"


def test_holdings():
    hs = parse_holdings(HH + "id_card,2027-06,4000\n银行卡识别,2028-01,100\nid_card,2027-09,0\n",
                        SEED, "h.csv")
    assert [(h.product, str(h.expires), h.calls_left, h.line) for h in hs] == [
        ("id_card", "2027-06", 4000, 2), ("bank_card", "2028-01", 100, 3)]


def test_holdings_from_file_with_bom(tmp_path):
    hs = read_holdings(write(tmp_path, HH + "id_card,2027-06,4000\n", "h.csv", bom=True), SEED)
    assert len(hs) == 1 and hs[0].calls_left == 4000


@pytest.mark.parametrize("row, field, words", [
    ("id_card,2027-06,-1", "calls_left", "negative"),
    ("id_card,2027-06,1,000", "row", "fields"),
    ("id_card,June,100", "expires", "YYYY-MM"),
    ("id_crad,2027-06,100", "product", "did you mean 'id_card'"),
    # No packs are sold for it, so none can be held (else its calls would be billed as free).
    ("vat_invoice,2027-06,100", "product", "postpaid only"),
])
def test_holdings_errors(row, field, words):
    err = error(parse_holdings, HH + row + "\n", SEED, "h.csv")
    assert (err.source, err.line, err.field) == ("h.csv", 2, field)
    assert words in err.message


def test_holdings_wrong_header():
    err = error(parse_holdings, "product,expiry,calls\nid_card,2027-06,1\n", SEED, "h.csv")
    assert err.line == 1 and err.field == "expiry" and "header" in err.message


@pytest.mark.parametrize("parse, header, field", [
    (parse_plan_csv, "product,month,sizes,count", "sizes"),     # it named 'product'
    (parse_plan_csv, "product,month,,count", "column 3 (empty)"),
    (parse_plan_csv, "product,month,size", "count"),
    (parse_holdings, "product,expires,", "column 3 (empty)"),
])
def test_a_wrong_header_names_its_first_wrong_column(parse, header, field):
    err = error(parse, header + "\nid_card,2027-01,1000,1\n", SEED, "x.csv")
    assert (err.line, err.field) == (1, field) and "header" in err.message


# --------------------------------------------------------------------------- plan vs forecast

@pytest.mark.parametrize("month", ["2026-12", "2028-01"])
def test_purchase_outside_the_horizon(month):
    f = forecast({"id_card": [5000] * 12})
    p = parse_plan_csv(PH + "id_card,2027-01,1000,1\n" + f"id_card,{month},1000,1\n", SEED,
                       "p.csv")
    err = error(check_plan_against, p, f)
    assert (err.source, err.line, err.field) == ("p.csv", 3, "month")
    assert month in err.message and "2027-01..2027-12" in err.message


def test_purchase_at_either_end_of_the_horizon_is_fine():
    f = forecast({"id_card": [5000] * 12})
    check_plan_against(plan(("id_card", "2027-01", 1000, 1), ("id_card", "2027-12", 1000, 1)), f)


def test_purchase_of_a_product_not_in_the_forecast():
    f = forecast({"id_card": [5000] * 12})
    p = parse_plan_csv(PH + "bank_card,2027-01,1000,1\n", SEED, "p.csv")
    err = error(check_plan_against, p, f)
    assert (err.line, err.field) == (2, "product") and "bank_card" in err.message


def test_every_purchase_outside_the_forecast_is_in_one_message():
    """As every bad cell of a file is (it stopped at the first purchase)."""
    f = forecast({"id_card": [5000] * 12})
    p = parse_plan_csv(PH + "id_card,2026-01,1000,1\nid_card,2028-01,1000,1\n"
                       "bank_card,2027-01,1000,1\n", SEED, "p.csv")
    err = error(check_plan_against, p, f)
    assert [(q.line, q.field) for q in err.problems] == [(2, "month"), (3, "month"),
                                                         (4, "product")]


def test_a_plan_files_own_problems_and_those_against_the_forecast_in_one_message(tmp_path):
    """A bad pack size on one line and a month outside the horizon on the next came in two
    messages, one run after the other."""
    f = forecast({"id_card": [5000] * 12})
    path = tmp_path / "p.csv"
    path.write_text(PH + "id_card,2027-01,123,1\nid_card,2028-01,1000,1\n"
                    "bank_card,2027-01,1000,1\nid_card,2027-02,1000,x\n")
    err = error(lambda: read_plan(path, SEED, forecast=f))
    assert [(q.line, q.field) for q in err.problems] == [(2, "size"), (3, "month"),
                                                         (4, "product"), (5, "count")]
    alone = error(read_plan, path, SEED)              # (without the forecast: its own)
    assert [(q.line, q.field) for q in alone.problems] == [(2, "size"), (5, "count")]


# --------------------------------------------------------------------------- records built in code

from decimal import Decimal  # noqa: E402

from optimizer import Forecast, Holding, Month, Scenario  # noqa: E402

START = M("2027-01")


@pytest.mark.parametrize("months, demand, field, words", [
    (12, (("id_card", (1, 2, 3)),), "month", "no calls given for id_card in 2027-04"),
    (2, (("id_card", (1, 2, 3)),), "month", "3 months of calls given for id_card"),
    (3, (("id_card", (1, -2, 3)),), "id_card 2027-02", "calls must not be negative (-2)"),
    (3, (("id_card", (1, 2.0, 3)),), "id_card 2027-02", "calls must be a whole number, not 2.0"),
    (3, (("id_card", (1, 2, True)),), "id_card 2027-03", "calls must be a whole number, not True"),
    (3, (("id_card", (1, 2, "3")),), "id_card 2027-03", "calls must be a whole number"),
    (0, (), "months", "months must be at least 1, not 0"),
    (True, (("id_card", (1,)),), "months", "months must be a whole number, not True"),
    (1, (("id_card", (1,)), ("id_card", (2,))), "product", "product id_card is given twice"),
])
def test_a_forecast_built_in_code_is_checked(months, demand, field, words):
    with pytest.raises(InputError) as e:
        Forecast(START, months, demand, "mine")
    assert (e.value.source, e.value.field) == ("mine", field)
    assert e.value.message.startswith(words)


def test_a_forecast_needs_a_month_to_start():
    with pytest.raises(InputError, match="start must be a Month"):
        Forecast("2027-01", 1, (("id_card", (1,)),))


def test_numpy_integers_are_whole_numbers():
    np = pytest.importorskip("numpy")
    f = Forecast(START, 2, (("id_card", (np.int64(5), 7)),))
    assert f.calls("id_card") == (5, 7)
    assert Purchase("id_card", START + np.int64(1), np.int64(1000), np.int32(2)).month == \
        M("2027-02")


@pytest.mark.parametrize("args, field, words", [
    (("id_card", START, 0, 1), "size", "size must be at least 1, not 0"),
    (("id_card", START, 1000, -1), "count", "count must not be negative (-1)"),
    (("id_card", START, 1000, False), "count", "count must be a whole number, not False"),
    (("id_card", START, 1000.0, 1), "size", "size must be a whole number, not 1000.0"),
    (("id_card", "2027-01", 1000, 1), "month", "month must be a Month"),
])
def test_a_purchase_built_in_code_is_checked(args, field, words):
    with pytest.raises(InputError) as e:
        Purchase(*args, line=7)
    assert (e.value.line, e.value.field) == (7, field)
    assert e.value.message.startswith(words)


@pytest.mark.parametrize("args, field, words", [
    (("id_card", START, -5), "calls_left", "calls_left must not be negative (-5)"),
    (("id_card", START, 5.5), "calls_left", "calls_left must be a whole number, not 5.5"),
    (("id_card", 24300, 5), "expires", "expires must be a Month"),
])
def test_a_holding_built_in_code_is_checked(args, field, words):
    with pytest.raises(InputError) as e:
        Holding(*args)
    assert e.value.field == field and e.value.message.startswith(words)


@pytest.mark.parametrize("weight, words", [
    (Decimal(0), "scenario 'x' has weight 0; weights must be positive"),
    (Decimal("-1.5"), "scenario 'x' has weight -1.5; weights must be positive"),
    (Decimal("NaN"), "scenario 'x' has weight Decimal('NaN'); a weight is a finite Decimal"),
    (1, "scenario 'x' has weight 1; a weight is a finite Decimal"),
])
def test_a_scenario_weight_is_a_positive_decimal(weight, words):
    f = forecast({"id_card": [1]})
    with pytest.raises(InputError) as e:
        Scenario("x", weight, f)
    assert e.value.field == "weight" and e.value.message.startswith(words)


def test_month_is_built_one_way():
    m = Month.of(2027, 1)
    assert m == Month.parse("2027-01") == Month.parse(" 2027-01 ") and str(m) == "2027-01"
    assert repr(m) == "Month.parse('2027-01')" and eval(repr(m)) == m
    assert m + 13 == Month.of(2028, 2) and Month.of(2028, 2) - m == 13
    for wrong in ("2027-01", True, 24324.0, None):
        with pytest.raises(TypeError, match=r"Month\.parse\('2027-01'\) or Month\.of\(2027, 1\)"):
            Month(wrong)
    with pytest.raises(ValueError):
        Month.of(2027, 13)
    with pytest.raises(TypeError):
        m + 1.5


# --------------------------------------------------------------------------- one decimal parser

from optimizer.io.text import parse_decimal  # noqa: E402


@pytest.mark.parametrize("text, plain, value", [
    (" 1500.50 ", True, Decimal("1500.50")), ("+.5", True, Decimal("0.5")),
    ("5.", True, Decimal("5")), ("1e3", True, None), ("-1", True, None), ("1,000", True, None),
    ("nan", True, None), ("", True, None),
    ("1e3", False, Decimal("1E+3")), ("-1", False, Decimal("-1")), ("abc", False, None),
    ("1,000", False, None),
])
def test_parse_decimal(text, plain, value):
    assert parse_decimal(text, plain=plain) == value


def test_parse_decimal_leaves_nan_to_the_caller():
    assert parse_decimal("NaN").is_nan()


def test_another_packopt_table_given_as_a_plan_is_named_as_such():
    """`plan --compare --format csv` writes the strategies' table, which a user then gave
    to `whatif --plan`: the error says which file packopt writes the plan to."""
    text = "strategy,pack_cost,postpaid_cost,total_cost\npostpaid_only,0.00,10.00,10.00\n"
    err = error(parse_plan_csv, text, SEED, "up.csv")
    assert err.line == 1 and "another table packopt writes" in err.message
    err = error(parse_plan_csv, "item,month,size,count\nx,2027-01,1000,1\n", SEED, "p.csv")
    assert "another table" not in err.message


def test_plan_json_reports_every_bad_field_in_one_message():
    """As a table's cells are (it stopped at the first), and with the forecast, purchases
    outside it too."""
    text = PLAN_JSON.replace('"size": 100000, "count": 3', '"size": 5000, "count": 3') \
        .replace('"2027-04", "size": 1000, "count": 2', '"2027-13", "size": 1000, "count": -2')
    err = error(parse_plan_json, text, SEED, "p.json")
    assert [(q.line, q.field.rsplit(".", 1)[-1]) for q in err.problems] == \
        [(7, "size"), (8, "month"), (8, "count")]
    late = PLAN_JSON.replace('"2027-04"', '"2028-04"')
    err = error(lambda: parse_plan_json(late, SEED, "p.json",
                                        forecast({"id_card": [5000] * 12})))
    assert (err.line, err.field) == (8, "products[0].purchases[1].month")   # (its JSON path)
    assert "outside the forecast" in err.message


def test_plan_json_errors_name_the_line_of_their_own_key():
    """Keys in another order, one a line, and a product spelt with escapes: the line was
    that of the purchase's "month" (or the next purchase's), not of the bad field."""
    text = ('{"products": [\n {"product": "\\u8eab\\u4efd\\u8bc1\\u8bc6\\u522b",\n'
            '  "purchases": [\n   {\n    "size": 5000,\n    "count": 1,\n'
            '    "month": "2027-01"\n   },\n   {\n    "month": "2027-02",\n'
            '    "size": 1000,\n    "count": -1\n   }\n  ]\n }\n]}\n')
    err = error(parse_plan_json, text, SEED, "p.json")
    assert [(q.line, q.field) for q in err.problems] == [
        (5, "products[0].purchases[0].size"), (12, "products[0].purchases[1].count")]


@pytest.mark.parametrize("cell", ["1e+300", "1e20", "1E+16"])
def test_a_whole_count_written_with_an_exponent_past_the_limit_is_too_large(cell):
    """A workbook's number 1e300 reaches the reader as '1e+300': it is whole, only too
    large, and was called "must be a whole number"."""
    from optimizer.io.text import parse_count
    with pytest.raises(InputError) as e:
        parse_count(cell, source="f.xlsx", line=2, field_name="calls")
    assert "too large" in e.value.message and "whole" not in e.value.message


def test_a_holding_usable_past_what_a_pack_bought_at_the_start_lasts_gets_a_note(tmp_path):
    """A typo (2099-06 for 2027-06) held 300,000 calls for decades without a word."""
    from optimizer.io.inputs import read_inputs
    f = write(tmp_path, "product,month,calls\nid_card,2027-01,5000\nid_card,2027-02,5000\n",
              "f.csv")
    h = write(tmp_path, "product,expires,calls_left\nid_card,2027-12,100\n"
                        "id_card,2099-06,300000\n", "h.csv")
    i = read_inputs(f, holdings=h)
    assert len(i.holdings) == 2
    assert [n for n in i.notes if "usable until" in n] == [
        f"{h}, line 3: id_card's holding is usable until 2099-06, later than a pack bought by "
        f"the horizon's start lasts (12 months: 2027-12); planned as given"]


def test_a_missing_month_is_reported_with_the_files_other_problems():
    """Negative calls, a duplicate row, calls that are not a number and a product's missing
    month: one message with all four (the missing month came only once the others were
    fixed); the row whose calls are bad is not also reported missing."""
    text = (H + "id_card,2027-01,-5\nid_card,2027-02,5\nid_card,2027-02,6\n"
            "bank_card,2027-01,5\nbank_card,2027-03,x\nid_card,2027-03,5\n")
    err = error(parse_forecast, text, SEED, "f.csv")
    message = str(err)
    assert "4 problems" in message, message
    assert "no calls given for bank_card in 2027-02:" in message
    assert "bank_card in 2027-02, 2027-03" not in message


@pytest.mark.parametrize("rows, told", [
    # the horizon's first month only on a row whose calls are bad: bank_card's missing
    # 2027-01, and id_card's 2027-03 in a horizon from 2027-01, were told a run later
    ("id_card,2027-01,-1\nid_card,2027-02,5\nbank_card,2027-02,5\n",
     [(2, "calls"), (4, "month")]),
    ("id_card,2027-01,-1\nid_card,2027-02,1\nid_card,2027-04,1\n",
     [(2, "calls"), (2, "month")]),
    # a duplicate of a row whose calls are bad
    ("id_card,2027-01,x\nid_card,2027-01,5\n", [(2, "calls"), (3, "month")]),
    # a product whose every row is bad, and which misses a month
    ("id_card,2027-01,1\nid_card,2027-02,1\nbank_card,2027-01,x\n",
     [(4, "calls"), (4, "month")]),
])
def test_rows_with_bad_calls_still_place_their_month(rows, told):
    err = error(parse_forecast, H + rows, SEED, "f.csv")
    assert [(q.line, q.field) for q in err.problems] == told, str(err)
    assert "from 2027-01 to" in str(err) or "duplicate" in str(err)


@pytest.mark.parametrize("head, field", [
    ("\ufeffproduct", "field '\\ufeffproduct'"),        # a second BOM
    ("product\u200b", "field 'product\\u200b'"),         # a zero-width space
    ("x" * 5000, "(5,000 characters)"),                    # cut, not echoed whole
])
def test_a_header_field_with_invisible_characters_or_thousands_of_them_is_shown(head, field):
    """It read "field 'product': header must be product,month,calls", its invisible
    character printed as is."""
    err = error(parse_forecast, head + ",month,calls\nid_card,2027-01,5\n", SEED, "f.csv")
    assert field in str(err) and len(str(err)) < 300, str(err)


@pytest.mark.parametrize("header, row", [
    ("month,calls,product", "{m},{c},id_card"),
    ("calls,product,note,month", "{c},id_card,x,{m}"),
])
def test_the_long_forms_columns_in_another_order_are_read(header, row):
    """`forecast` read such a history, `plan` refused it as a forecast."""
    text = header + "\n" + "".join(row.format(m=m, c=c) + "\n"
                                   for m, c in (("2027-01", 25000), ("2027-02", 26000)))
    assert parse_forecast(text, SEED, "f.csv").demand == (("id_card", (25000, 26000)),)
    err = error(parse_forecast, text.replace("26000", "-6"), SEED, "f.csv")
    assert (err.line, err.field) == (3, "calls")


def test_a_month_cell_of_thousands_of_characters_is_cut_in_the_message():
    err = error(parse_forecast, H + "id_card,2027-" + "1" * 5000 + ",5\n", SEED, "f.csv")
    assert "(5,005 characters)" in err.message and len(err.message) < 300


def test_a_row_without_a_product_in_a_file_of_no_other_rows_is_named():
    """It was taken for a total row, and the file said to have no data rows."""
    err = error(parse_forecast, H + ",2027-01,5\n", SEED, "f.csv")
    assert (err.line, err.field) == (2, "product") and "no product" in err.message


@pytest.mark.parametrize("header, field, words", [
    ("product,2027-01,2027-03", "2027-03", "no column for 2027-02 (between 2027-01 and 2027-03)"),
    ("product,2027-01,2027-05,2027-02", "2027-05", "no column for 2027-03 to 2027-04"),
])
def test_a_wide_header_that_skips_months_is_named(header, field, words):
    """It blamed each product's row (line 2) and a 'month' field the file does not have."""
    cells = ",5" * (header.count(",") or 1)
    err = error(parse_forecast, header + "\nid_card" + cells + "\n", SEED, "f.csv")
    assert (err.line, err.field) == (1, field) and words in err.message


@pytest.mark.parametrize("parse, header, field", [
    (parse_forecast, "product,,calls", "column 2 (empty)"),      # no field was named
    ("scenarios", "scenario,weight,", "column 3 (empty)"),
    ("scenarios", "scenario,wieght,scale", "wieght"),
    ("scenarios", "scenario,weight,product,month,", "column 5 (empty)"),
])
def test_a_header_with_a_blank_cell_names_that_cell(parse, header, field):
    from optimizer.io.scenarios import parse_scenarios
    base = forecast({"id_card": [5000] * 2})
    if parse == "scenarios":
        err = error(parse_scenarios, header + "\nlow,1,1\n", SEED, base, "s.csv")
    else:
        err = error(parse, header + "\nid_card,2027-01,5\n", SEED, "f.csv")
    assert (err.line, err.field) == (1, field) and "header" in err.message
