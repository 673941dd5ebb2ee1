"""The six golden examples of docs/pricing.md (the price list's own), reproduced to the fen
through `bill`."""

from decimal import Decimal

import pytest

from optimizer import bill
from optimizer.io.forecast import parse_forecast
from optimizer.io.plans import parse_plan_csv

from helpers import SEED, forecast, is_fen, plan


@pytest.mark.parametrize("product, calls, expected", [
    # 1: 900 calls are all inside the free 1,000: nothing to pay.
    ("id_card", 900, Decimal("0")),
    # 2: (9000 - 1000) x 0.15 = 1,200
    ("vehicle_license", 9000, Decimal("1200")),
    # 3: (90000 - 1000) x 0.10 = 8,900
    ("general_print", 90000, Decimal("8900")),
    # 4: (900000 - 1000) x 0.06 = 53,940
    ("bank_card", 900000, Decimal("53940")),
])
def test_postpaid_golden_examples_1_to_4(product, calls, expected):
    b = bill(SEED, forecast({product: [calls]}))
    assert b.total_cost == expected
    assert b.postpaid_cost == expected
    assert b.pack_cost == 0
    assert b.postpaid_only_cost == expected
    assert is_fen(b.total_cost)
    month = b.product(product).months[0]
    assert month.free == min(calls, 1000)
    assert month.pack == 0
    assert month.postpaid == calls - min(calls, 1000)
    assert month.postpaid_cost == expected
    assert b.warnings == ()


def test_golden_examples_1_to_4_from_csv_by_name():
    """The same four examples read from a CSV that names products as the seed does."""
    text = ("product,month,calls\n"
            "身份证识别,2027-01,900\n"
            "行驶证/驾驶证识别,2027-01,9000\n"
            "通用印刷体识别,2027-01,90000\n"
            "银行卡识别,2027-01,900000\n")
    b = bill(SEED, parse_forecast(text, SEED, "golden.csv"))
    costs = {p.product: p.postpaid_cost for p in b.products}
    assert costs == {"general_print": Decimal("8900"), "id_card": Decimal("0"),
                     "vehicle_license": Decimal("1200"), "bank_card": Decimal("53940")}
    assert b.total_cost == Decimal("64040")   # 0 + 1,200 + 8,900 + 53,940


@pytest.mark.parametrize("monthly", [
    [25000] * 12,                                   # steady: 300,000 calls in the year
    [300000] + [0] * 11,                            # all in the first month
    [0] * 11 + [300000],                            # all in the last month
    [10000, 20000, 30000, 40000, 50000, 50000,      # seasonal, still 300,000
     40000, 30000, 15000, 10000, 3000, 2000],
])
def test_golden_example_5_three_100k_packs_cover_300k_calls_in_a_year(monthly):
    # 5: 3 x 5,000 = 15,000; 300,000 calls within the year draw no postpaid.
    assert sum(monthly) == 300000
    b = bill(SEED, forecast({"id_card": monthly}), plan(("id_card", "2027-01", 100000, 3)))
    pb = b.product("id_card")
    assert b.pack_cost == Decimal("15000")
    assert b.postpaid_cost == 0
    assert b.total_cost == Decimal("15000")
    assert all(m.postpaid == 0 and m.postpaid_cost == 0 for m in pb.months)
    # Free calls come first, so the packs are not fully used: the rest expires at month 12.
    free = sum(min(c, 1000) for c in monthly)
    assert sum(m.pack for m in pb.months) == 300000 - free
    assert pb.waste_calls == free
    assert pb.carry_over_calls == 0


def test_golden_example_5_matches_the_documented_bill_example():
    """The `bill` example of docs/cli.md (id_card_year.csv, id_card_plan.csv): 25,000 calls a
    month; postpaid only 28,800; savings 13,800."""
    b = bill(SEED, forecast({"id_card": [25000] * 12}), plan(("id_card", "2027-01", 100000, 3)))
    assert b.postpaid_only_cost == Decimal("28800")   # 12 x (25,000 - 1,000) x 0.10
    assert b.savings == Decimal("13800")
    assert b.waste_calls == 12000


def test_golden_example_6_bank_card_2500_calls_one_1000_pack():
    # 6: (2500 - 1000 - 1000) x 0.15 + 120 = 195
    f = parse_forecast("product,month,calls\nbank_card,2027-01,2500\n", SEED, "f.csv")
    p = parse_plan_csv("product,month,size,count\nbank_card,2027-01,1000,1\n", SEED, "p.csv")
    b = bill(SEED, f, p)
    m = b.product("bank_card").months[0]
    assert (m.free, m.pack, m.postpaid) == (1000, 1000, 500)
    assert m.rate == Decimal("0.15")
    assert m.postpaid_cost == Decimal("75")
    assert b.pack_cost == Decimal("120")
    assert b.total_cost == Decimal("195")
    assert is_fen(b.total_cost)
