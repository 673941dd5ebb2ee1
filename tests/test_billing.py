"""The billing engine against the rules of docs/pricing.md, case by case, with hand-checked
numbers."""

from decimal import Decimal

import pytest

from optimizer import InputError, bill
from optimizer.billing import postpaid_only_cost

from helpers import SEED, custom_catalog, forecast, holding, is_fen, plan

# --------------------------------------------------------------------------- tier boundaries


@pytest.mark.parametrize("calls, rate, fee", [
    (0, "0.15", "0"),
    (1000, "0.15", "0"),                 # all free
    (1001, "0.15", "0.15"),              # 1 x 0.15
    (10000, "0.15", "1350"),             # 9,000 x 0.15 (10,000 is inside the first tier)
    (10001, "0.10", "900.10"),           # 9,001 x 0.10 (all units at the second tier)
    (100000, "0.10", "9900"),            # 99,000 x 0.10
    (100001, "0.06", "5940.06"),         # 99,001 x 0.06
    (1000000, "0.06", "59940"),          # 999,000 x 0.06 (still published)
])
def test_tier_boundaries_are_inclusive_upper_bounds(calls, rate, fee):
    b = bill(SEED, forecast({"general_print": [calls]}))
    m = b.product("general_print").months[0]
    assert m.rate == Decimal(rate)
    assert m.rate_published
    assert m.postpaid_cost == Decimal(fee)
    assert b.total_cost == Decimal(fee)
    assert is_fen(b.total_cost)
    assert b.warnings == ()


def test_crossing_a_tier_lowers_the_whole_bill_all_units():
    """All-units tiers: one more call can make the month cheaper (10,000 -> 10,001)."""
    at = bill(SEED, forecast({"id_card": [10000]})).total_cost
    above = bill(SEED, forecast({"id_card": [10001]})).total_cost
    assert (at, above) == (Decimal("1350"), Decimal("900.10"))
    assert above < at


def test_above_one_million_is_priced_at_last_published_rate_with_a_warning():
    b = bill(SEED, forecast({"general_print": [1000001, 500000, 2000000],
                             "id_card": [5000, 5000, 5000]}))
    pb = b.product("general_print")
    m1, m2, m3 = pb.months
    assert m1.postpaid_cost == Decimal("59940.06")    # 999,001 x 0.06
    assert m2.postpaid_cost == Decimal("29940")       # 499,000 x 0.06 (published)
    assert m3.postpaid_cost == Decimal("119940")      # 1,999,000 x 0.06
    assert (m1.rate_published, m2.rate_published, m3.rate_published) == (False, True, False)
    assert [str(m) for m in pb.unpublished_months] == ["2027-01", "2027-03"]
    assert len(b.warnings) == 1
    w = b.warnings[0]
    assert "general_print" in w
    assert "2027-01" in w and "2027-03" in w and "2027-02" not in w
    assert "contact sales" in w
    assert "id_card" not in w


def test_negotiated_rate_replaces_the_unpublished_tier_without_warning():
    cat = SEED.with_negotiated_rates({"general_print": Decimal("0.04")})
    b = bill(cat, forecast({"general_print": [1000001, 1000000],
                            "bank_card": [1000001, 0]}))
    gp = b.product("general_print").months
    assert gp[0].rate == Decimal("0.04") and gp[0].rate_published
    assert gp[0].postpaid_cost == Decimal("39960.04")     # 999,001 x 0.04
    assert gp[1].postpaid_cost == Decimal("59940")        # 1,000,000 is still 0.06
    # bank_card got no negotiated rate: it is still warned about.
    assert b.product("bank_card").months[0].postpaid_cost == Decimal("59940.06")
    assert len(b.warnings) == 1 and "bank_card" in b.warnings[0]
    assert "general_print" not in b.warnings[0]
    # The seed catalog itself is unchanged.
    assert SEED.product("general_print").tiers[-1].rate is None


# --------------------------------------------------------------------------- tier basis

def test_after_packs_basis_pack_usage_moves_the_month_into_a_dearer_tier():
    """20,000 calls, one 10,000 pack.

    total:       tier volume 20,000 -> 0.10; postpaid 19,000 - 10,000 = 9,000 -> 900
    after-packs: tier volume 20,000 - 10,000 = 10,000 -> 0.15; 9,000 x 0.15 = 1,350
    Pure postpaid is 19,000 x 0.10 = 1,900 under both readings, so under after-packs
    the pack (800 + 1,350 = 2,150) costs more than buying nothing.
    """
    f = forecast({"general_print": [20000]})
    p = plan(("general_print", "2027-01", 10000, 1))
    total = bill(SEED, f, p)
    after = bill(SEED.with_tier_basis("after-packs"), f, p)
    assert total.tier_basis == "total" and after.tier_basis == "after-packs"
    mt, ma = total.product("general_print").months[0], after.product("general_print").months[0]
    assert (mt.pack, mt.postpaid, ma.pack, ma.postpaid) == (10000, 9000, 10000, 9000)
    assert (mt.tier_volume, mt.rate) == (20000, Decimal("0.10"))
    assert (ma.tier_volume, ma.rate) == (10000, Decimal("0.15"))
    assert total.total_cost == Decimal("1700")
    assert after.total_cost == Decimal("2150")
    assert total.postpaid_only_cost == after.postpaid_only_cost == Decimal("1900")
    assert after.total_cost > after.postpaid_only_cost


def test_after_packs_basis_crossing_from_006_to_010():
    """150,000 calls, one 100,000 pack: total -> 49,000 x 0.06; after-packs -> 49,000 x 0.10."""
    f = forecast({"id_card": [150000]})
    p = plan(("id_card", "2027-01", 100000, 1))
    assert bill(SEED, f, p).postpaid_cost == Decimal("2940")
    assert bill(SEED.with_tier_basis("after-packs"), f, p).postpaid_cost == Decimal("4900")


def test_bases_agree_when_no_pack_is_used():
    f = forecast({"id_card": [900, 9000, 10001, 150000, 1000001]})
    total = bill(SEED, f)
    after = bill(SEED.with_tier_basis("after-packs"), f)
    assert [m.postpaid_cost for m in total.products[0].months] == \
        [m.postpaid_cost for m in after.products[0].months]
    assert total.total_cost == after.total_cost == Decimal("0") + Decimal("1200") + \
        Decimal("900.10") + Decimal("8940") + Decimal("59940.06")


def test_bad_tier_basis_is_an_input_error():
    with pytest.raises(InputError) as e:
        SEED.with_tier_basis("net")
    assert e.value.field == "tier_basis"


# --------------------------------------------------------------------------- validity

def test_pack_bought_in_month_3_is_gone_in_month_15():
    """id_card 1,500 calls a month (500 above the free quota) for 15 months, 10,000 pack in 2027-03.

    2027-01, 2027-02: no pack yet -> 500 x 0.15 = 75 each.
    2027-03 .. 2028-02 (12 months, t .. t+11): 500 from the pack each -> 6,000 used.
    End of 2028-02: 4,000 left expire (waste). 2028-03: postpaid again, 75.
    """
    f = forecast({"id_card": [1500] * 15})
    b = bill(SEED, f, plan(("id_card", "2027-03", 10000, 1)))
    pb = b.product("id_card")
    months = pb.months
    assert [m.pack for m in months] == [0, 0] + [500] * 12 + [0]
    assert [m.postpaid for m in months] == [500, 500] + [0] * 12 + [500]
    assert [m.postpaid_cost for m in months] == [Decimal("75")] * 2 + [0] * 12 + [Decimal("75")]
    assert [str(m.month) for m in months if m.waste] == ["2028-02"]
    assert months[13].waste == 4000
    assert months[13].balance == 0 and months[14].balance == 0
    assert pb.waste_calls == 4000
    assert pb.carry_over_calls == 0
    assert b.total_cost == Decimal("800") + 3 * Decimal("75")
    assert months[2].pack_spend == Decimal("800")
    assert sum(m.pack_spend for m in months) == Decimal("800")


def test_balance_still_valid_after_the_horizon_is_carry_over_not_waste():
    f = forecast({"id_card": [1500] * 12})
    b = bill(SEED, f, plan(("id_card", "2027-06", 10000, 1)))   # usable 2027-06 .. 2028-05
    pb = b.product("id_card")
    assert sum(m.pack for m in pb.months) == 7 * 500
    assert pb.carry_over_calls == 10000 - 3500
    assert pb.waste_calls == 0
    assert pb.months[-1].balance == 6500
    assert b.carry_over_calls == 6500 and b.waste_calls == 0


def test_pack_expiring_in_the_last_month_of_the_horizon_is_waste():
    f = forecast({"id_card": [1500] * 12})
    pb = bill(SEED, f, plan(("id_card", "2027-01", 10000, 1))).product("id_card")
    assert pb.waste_calls == 10000 - 12 * 500
    assert pb.months[-1].waste == 4000
    assert pb.carry_over_calls == 0


def test_balance_does_not_include_packs_bought_in_later_months():
    """A pack bought in 2027-05 is not part of the balance held at the end of 2027-01..04."""
    f = forecast({"id_card": [1500] * 6})
    pb = bill(SEED, f, plan(("id_card", "2027-05", 1000, 1))).product("id_card")
    assert [m.balance for m in pb.months] == [0, 0, 0, 0, 500, 0]
    assert [m.pack_spend for m in pb.months] == [0, 0, 0, 0, Decimal("120"), 0]


def test_holdings_expiring_before_the_horizon_are_ignored_with_a_warning():
    f = forecast({"id_card": [5000]})
    b = bill(SEED, f, holdings=(holding("id_card", "2026-12", 10000),
                                holding("bank_card", "2027-06", 10000)))
    assert b.product("id_card").months[0].pack == 0
    assert b.total_cost == Decimal("600")             # 4,000 x 0.15
    assert any("id_card" in w and "2026-12" in w for w in b.warnings)
    assert any("bank_card" in w and "not in the forecast" in w for w in b.warnings)


def test_holdings_cost_nothing_and_count_in_postpaid_only_cost():
    """Packs already owned are sunk: they cost 0 and they serve the no-purchase baseline too."""
    f = forecast({"id_card": [6000, 6000]})
    b = bill(SEED, f, holdings=(holding("id_card", "2027-01", 3000),))
    pb = b.product("id_card")
    assert pb.pack_cost == 0
    assert [m.pack for m in pb.months] == [3000, 0]
    assert [m.postpaid_cost for m in pb.months] == [Decimal("300"), Decimal("750")]
    assert pb.postpaid_only_cost == Decimal("1050")
    assert pb.savings == 0
    # Without the holding the same forecast costs 2 x 5,000 x 0.15.
    assert postpaid_only_cost(SEED.product("id_card"), (6000, 6000)) == Decimal("1500")


# --------------------------------------------------------------------------- drawdown order

def test_soonest_expiring_first_with_two_lots_and_a_holding():
    """Holding (3,000, expires 2027-04), lot J (10,000 bought 2027-01, expires 2027-12),
    lot F (10,000 bought 2027-02, expires 2028-01).

    2027-01: need 2,000  -> holding 3,000 -> 1,000
    2027-02: need 5,000  -> holding 1,000 -> 0, J 10,000 -> 6,000 (F untouched)
    2027-03: need 10,000 -> J 6,000 -> 0, F 10,000 -> 6,000
    2027-04: need 0 (1,000 calls, all free)
    """
    f = forecast({"id_card": [3000, 6000, 11000, 1000]})
    p = plan(("id_card", "2027-02", 10000, 1), ("id_card", "2027-01", 10000, 1))
    pb = bill(SEED, f, p, holdings=(holding("id_card", "2027-04", 3000),)).product("id_card")
    lots = pb.lots
    assert [(l.size, l.start, l.expiry) for l in lots] == [(None, 0, 3), (10000, 0, 11),
                                                          (10000, 1, 12)]
    assert [m.lot_balances for m in pb.months] == [
        (1000, 10000, 10000), (0, 6000, 10000), (0, 0, 6000), (0, 0, 6000)]
    assert [m.pack for m in pb.months] == [2000, 5000, 10000, 0]
    assert [m.postpaid for m in pb.months] == [0, 0, 0, 0]
    assert pb.waste_calls == 0 and pb.carry_over_calls == 6000
    assert pb.pack_cost == Decimal("1600")


def test_a_later_expiring_holding_is_drawn_after_a_sooner_expiring_purchase():
    f = forecast({"id_card": [3000]})
    p = plan(("id_card", "2027-01", 1000, 1))                     # expires 2027-12
    pb = bill(SEED, f, p, holdings=(holding("id_card", "2028-06", 5000),)).product("id_card")
    held, bought = pb.lots
    assert held.size is None and bought.size == 1000
    assert pb.months[0].lot_balances == (4000, 0)


def test_same_expiry_earlier_bought_first_holding_before_purchase():
    f = forecast({"id_card": [1500]})
    p = plan(("id_card", "2027-01", 1000, 1))                     # expires 2027-12
    pb = bill(SEED, f, p, holdings=(holding("id_card", "2027-12", 1000),)).product("id_card")
    assert pb.months[0].lot_balances == (500, 1000)


# --------------------------------------------------------------------------- reminders

def test_below_15_percent_and_exhausted_reminders():
    """One 1,000 pack of bank_card.

    2027-01: need 850 -> 150 left = exactly 15 %: not below, no reminder
    2027-02: need 1   -> 149 left < 15 %: "below 15%"
    2027-03: need 1,000 -> 149 used, exhausted; 851 postpaid
    2027-04: nothing left, nothing to remind
    """
    f = forecast({"bank_card": [1850, 1001, 2000, 3000]})
    pb = bill(SEED, f, plan(("bank_card", "2027-01", 1000, 1))).product("bank_card")
    r = [m.reminders for m in pb.months]
    assert r[0] == ()
    assert len(r[1]) == 1 and r[1][0].startswith("below 15%")
    assert len(r[2]) == 1 and r[2][0].startswith("exhausted")
    assert r[3] == ()
    assert pb.months[2].postpaid == 851
    assert pb.months[2].postpaid_cost == Decimal("127.65")


def test_straight_to_exhausted_reports_only_exhausted():
    f = forecast({"id_card": [12000]})
    pb = bill(SEED, f, plan(("id_card", "2027-01", 10000, 1))).product("id_card")
    assert len(pb.months[0].reminders) == 1
    assert pb.months[0].reminders[0].startswith("exhausted")


def test_a_draw_from_full_to_below_15_percent_reminds_once():
    f = forecast({"id_card": [9400, 1500]})                        # 8,400 then 500
    pb = bill(SEED, f, plan(("id_card", "2027-01", 10000, 1))).product("id_card")
    assert [len(m.reminders) for m in pb.months] == [0, 1]          # 1,600 left -> 1,100 left
    f = forecast({"id_card": [10000]})                             # 9,000: 1,000 left (10 %)
    pb = bill(SEED, f, plan(("id_card", "2027-01", 10000, 1))).product("id_card")
    assert len(pb.months[0].reminders) == 1
    assert pb.months[0].reminders[0].startswith("below 15%")


# --------------------------------------------------------------------------- cash flow

def test_cash_flow_packs_now_postpaid_next_month_120_percent_frozen():
    """id_card [11,000, 2,000, 20,000]; 1,000 pack in 2027-02 (120), 10,000 in 2027-03 (800).
    vat_invoice [1,001, 0, 10,000].

    id_card: 2027-01 10,000 x 0.10 = 1,000; 2027-02 covered by the pack = 0;
             2027-03 (19,000 - 10,000) x 0.10 = 900
    vat:     2027-01 1 x 0.50 = 0.50; 2027-02 0; 2027-03 9,000 x 0.50 = 4,500
    Postpaid per month: 1,000.50; 0; 5,400 -> paid in 2027-02, 2027-03, 2027-04.
    """
    f = forecast({"id_card": [11000, 2000, 20000], "vat_invoice": [1001, 0, 10000]})
    p = plan(("id_card", "2027-02", 1000, 1), ("id_card", "2027-03", 10000, 1))
    b = bill(SEED, f, p)
    cf = b.cashflow()
    assert [str(c.month) for c in cf] == ["2027-01", "2027-02", "2027-03", "2027-04"]
    assert [c.packs for c in cf] == [0, Decimal("120"), Decimal("800"), 0]
    assert [c.postpaid for c in cf] == [0, Decimal("1000.50"), 0, Decimal("5400")]
    assert [c.frozen for c in cf] == [0, Decimal("1200.60"), 0, Decimal("6480")]
    assert [c.outflow for c in cf] == [0, Decimal("1120.50"), Decimal("800"), Decimal("5400")]
    assert sum(c.outflow for c in cf) == b.total_cost == Decimal("7320.50")
    assert max(c.frozen for c in cf) == Decimal("6480")


# --------------------------------------------------------------------------- VAT invoice

@pytest.mark.parametrize("calls, rate, fee", [
    (1000, "0.50", "0"),
    (1001, "0.50", "0.50"),
    (10000, "0.50", "4500"),
    (10001, "0.35", "3150.35"),
    (100000, "0.35", "34650"),
    (100001, "0.20", "19800.20"),
    (1000000, "0.20", "199800"),
])
def test_vat_invoice_is_postpaid_only_at_050_035_020(calls, rate, fee):
    b = bill(SEED, forecast({"vat_invoice": [calls]}))
    m = b.product("vat_invoice").months[0]
    assert (m.rate, m.postpaid_cost) == (Decimal(rate), Decimal(fee))
    assert b.pack_cost == 0 and b.warnings == ()


def test_vat_invoice_above_top_tier_warns_and_cannot_take_packs():
    b = bill(SEED, forecast({"vat_invoice": [1000001]}))
    assert b.total_cost == Decimal("199800.20")
    assert len(b.warnings) == 1 and "vat_invoice" in b.warnings[0]
    with pytest.raises(InputError):
        bill(SEED, forecast({"vat_invoice": [5000]}), plan(("vat_invoice", "2027-01", 1000, 1)))


def test_a_purchase_outside_the_horizon_is_refused_by_bill():
    with pytest.raises(InputError) as e:
        bill(SEED, forecast({"id_card": [5000] * 3}), plan(("id_card", "2027-04", 1000, 1)))
    assert e.value.field == "month"


# --------------------------------------------------------------------------- custom catalog

CUSTOM = """
[[product]]
id = "alpha"
name = "Alpha"
free_calls_per_month = 0
packs = [ { calls = 1000, price = "50" } ]
tiers = [ { up_to = 1000, rate = "0.20" }, { rate = "0.10" } ]

[[product]]
id = "beta"
name = "Beta"
tiers = [ { up_to = 1000, rate = "0.20" }, { rate = "0.10" } ]
"""


def test_custom_catalog_validity_and_free_quota_override():
    """validity 3 months; default free quota 500, alpha overrides it with 0.

    alpha 300 calls a month, one 1,000 pack in 2027-01 (usable 2027-01..03):
      01..03: 300 from the pack each; end of 03: 100 expire; 04: 300 x 0.20 = 60.
    beta [400, 700]: 01 all free; 02 free 500, 200 x 0.20 = 40. 03/04 1,500 -> 1,000 x 0.10.
    """
    cat = custom_catalog(CUSTOM, currency="EUR", free_calls_per_month=500, validity_months=3)
    assert cat.validity_months == 3 and cat.currency == "EUR"
    assert cat.product("alpha").free_calls == 0 and cat.product("beta").free_calls == 500
    f = forecast({"alpha": [300] * 4, "beta": [400, 700, 1500, 1500]})
    b = bill(cat, f, plan(("alpha", "2027-01", 1000, 1)))
    a, be = b.product("alpha"), b.product("beta")
    assert [m.free for m in a.months] == [0, 0, 0, 0]
    assert [m.pack for m in a.months] == [300, 300, 300, 0]
    assert [m.waste for m in a.months] == [0, 0, 100, 0]
    assert [m.postpaid_cost for m in a.months] == [0, 0, 0, Decimal("60")]
    assert a.pack_cost == Decimal("50") and a.waste_calls == 100
    assert [m.free for m in be.months] == [400, 500, 500, 500]
    assert [m.postpaid_cost for m in be.months] == [0, Decimal("40"), Decimal("100"),
                                                    Decimal("100")]
    assert b.currency == "EUR"
    assert b.total_cost == Decimal("50") + Decimal("60") + Decimal("240")


def test_custom_catalog_tier_basis_from_file():
    cat = custom_catalog(CUSTOM, tier_basis="after-packs")
    assert cat.tier_basis == "after-packs"
    # alpha 1,500 calls, 1,000 pack: tier volume 500 -> 0.20 (total basis would give 0.10).
    b = bill(cat, forecast({"alpha": [1500]}), plan(("alpha", "2027-01", 1000, 1)))
    assert b.tier_basis == "after-packs"
    assert b.product("alpha").months[0].postpaid_cost == Decimal("100")
    assert bill(cat.with_tier_basis("total"), forecast({"alpha": [1500]}),
                plan(("alpha", "2027-01", 1000, 1))).postpaid_cost == Decimal("50")


# --------------------------------------------------------------------------- a full year by hand

# One long test on purpose: it is a worked example checked by hand, month by month, and its
# expected table reads as one piece beside the arithmetic that produced it.
def test_hand_checked_year_three_products_packs_expiry_and_overflow():
    """Twelve months (2027-01..12), three products, total basis, seed catalog.

    general_print: holding of 30,000 calls expiring 2027-03; plan 1 x 100,000 in 2027-01
    (5,000; usable to 2027-12). Draw order: the holding first (expires sooner).
      month calls    free  need     holding  P(100k)   pack    postpaid  rate  fee
      01    21,000  1,000  20,000   ->10,000 100,000  20,000   0               0
      02     6,000  1,000   5,000   -> 5,000 100,000   5,000   0               0
      03     3,000  1,000   2,000   -> 3,000 (below 15 %, then expires: waste 3,000)
      04    41,000  1,000  40,000            -> 60,000 40,000  0               0
      05    41,000  1,000  40,000            -> 20,000 40,000  0               0
      06    41,000  1,000  40,000            -> 0 (exhausted) 20,000  20,000  0.10  2,000
      07     1,000  1,000       0                         0     0              0
      08       500    500       0                         0     0              0
      09    10,000  1,000   9,000                         0  9,000    0.15  1,350
      10    10,001  1,000   9,001                         0  9,001    0.10    900.10
      11   101,000  1,000 100,000                         0 100,000   0.06  6,000
      12         0      0       0                         0     0              0
      postpaid 10,250.10; packs 5,000; total 15,250.10; waste 3,000.
      Postpaid only (the holding is already owned, so it still serves 01..03):
      04..06 40,000 x 0.10 = 4,000 each -> 12,000 + 1,350 + 900.10 + 6,000 = 20,250.10.

    vat_invoice (postpaid only):
      01 900 -> 0; 02 1,000 -> 0; 03 1,001 -> 1 x 0.50 = 0.50; 04 10,000 -> 9,000 x 0.50 = 4,500;
      05 10,001 -> 9,001 x 0.35 = 3,150.35; 06 12,000 -> 11,000 x 0.35 = 3,850;
      07 50,000 -> 49,000 x 0.35 = 17,150; 08 100,000 -> 99,000 x 0.35 = 34,650;
      09 100,001 -> 99,001 x 0.20 = 19,800.20; 10 20,000 -> 19,000 x 0.35 = 6,650;
      11 5,000 -> 4,000 x 0.50 = 2,000; 12 0 -> 0.            total 91,751.05

    id_card: plan 1 x 10,000 in 2027-01 (800, usable to 2027-12) and 2 x 1,000 in 2027-12
    (240, usable to 2028-11). 1,800 calls a month (need 800) except 07: 800 calls (all free).
      A after each month: 9,200 8,400 7,600 6,800 6,000 5,200 5,200 4,400 3,600 2,800 2,000 1,200
      12: 2,000 -> 1,200 crosses below 15 % (1,500); end of 12: A expires, waste 1,200.
      A expires 2027-12, the 2 x 1,000 lot 2028-11, so A is drawn first and the new lot is
      never touched -> carry-over 2,000 (in the balance from 2027-12 on, not before).
      postpaid 0; packs 1,040; postpaid only 11 x 800 x 0.15 = 1,320.

    Totals: packs 6,040; postpaid 102,001.15; total 108,041.15;
    postpaid only 20,250.10 + 91,751.05 + 1,320 = 113,321.15; savings 5,280;
    waste 3,000 + 1,200 = 4,200; carry-over 2,000.
    """
    f = forecast({
        "general_print": [21000, 6000, 3000, 41000, 41000, 41000, 1000, 500, 10000, 10001,
                          101000, 0],
        "id_card": [1800] * 6 + [800] + [1800] * 5,
        "vat_invoice": [900, 1000, 1001, 10000, 10001, 12000, 50000, 100000, 100001, 20000,
                        5000, 0],
    })
    p = plan(("general_print", "2027-01", 100000, 1),
             ("id_card", "2027-01", 10000, 1),
             ("id_card", "2027-12", 1000, 2))
    b = bill(SEED, f, p, holdings=(holding("general_print", "2027-03", 30000),))

    gp = b.product("general_print")
    assert [m.free for m in gp.months] == [1000] * 7 + [500] + [1000] * 3 + [0]
    assert [m.pack for m in gp.months] == [20000, 5000, 2000, 40000, 40000, 20000,
                                           0, 0, 0, 0, 0, 0]
    assert [m.postpaid for m in gp.months] == [0] * 5 + [20000, 0, 0, 9000, 9001, 100000, 0]
    assert [m.rate for m in gp.months][5:11] == [Decimal(r) for r in
                                                 ("0.10", "0.15", "0.15", "0.15", "0.10", "0.06")]
    assert [m.postpaid_cost for m in gp.months] == [Decimal(x) for x in (
        "0", "0", "0", "0", "0", "2000", "0", "0", "1350", "900.10", "6000", "0")]
    assert [m.waste for m in gp.months] == [0, 0, 3000] + [0] * 9
    assert [m.balance for m in gp.months] == [110000, 105000, 100000, 60000, 20000] + [0] * 7
    assert [m.lot_balances for m in gp.months][:6] == [
        (10000, 100000), (5000, 100000), (3000, 100000), (0, 60000), (0, 20000), (0, 0)]
    assert [[r.split(":")[0] for r in m.reminders] for m in gp.months] == \
        [[], [], ["below 15%"], [], [], ["exhausted"]] + [[]] * 6
    assert gp.pack_cost == Decimal("5000")
    assert gp.postpaid_cost == Decimal("10250.10")
    assert gp.total_cost == Decimal("15250.10")
    assert gp.postpaid_only_cost == Decimal("20250.10")
    assert gp.savings == Decimal("5000")
    assert (gp.waste_calls, gp.carry_over_calls) == (3000, 0)

    vat = b.product("vat_invoice")
    assert [m.postpaid_cost for m in vat.months] == [Decimal(x) for x in (
        "0", "0", "0.50", "4500", "3150.35", "3850", "17150", "34650", "19800.20", "6650",
        "2000", "0")]
    assert [m.rate for m in vat.months][2:11] == [Decimal(r) for r in (
        "0.50", "0.50", "0.35", "0.35", "0.35", "0.35", "0.20", "0.35", "0.50")]
    assert vat.postpaid_cost == vat.postpaid_only_cost == Decimal("91751.05")
    assert vat.pack_cost == 0 and vat.lots == ()

    idc = b.product("id_card")
    assert [m.free for m in idc.months] == [1000] * 6 + [800] + [1000] * 5
    assert [m.pack for m in idc.months] == [800] * 6 + [0] + [800] * 5
    assert [m.postpaid for m in idc.months] == [0] * 12
    assert [m.lot_balances[0] for m in idc.months] == [
        9200, 8400, 7600, 6800, 6000, 5200, 5200, 4400, 3600, 2800, 2000, 1200]
    assert [m.balance for m in idc.months] == [
        9200, 8400, 7600, 6800, 6000, 5200, 5200, 4400, 3600, 2800, 2000, 2000]
    assert [m.waste for m in idc.months] == [0] * 11 + [1200]
    assert [[r.split(":")[0] for r in m.reminders] for m in idc.months] == \
        [[]] * 11 + [["below 15%"]]
    assert [m.pack_spend for m in idc.months] == [Decimal("800")] + [0] * 10 + [Decimal("240")]
    assert idc.pack_cost == Decimal("1040")
    assert idc.postpaid_cost == 0
    assert idc.postpaid_only_cost == Decimal("1320")
    assert (idc.waste_calls, idc.carry_over_calls) == (1200, 2000)

    assert b.pack_cost == Decimal("6040")
    assert b.postpaid_cost == Decimal("102001.15")
    assert b.total_cost == Decimal("108041.15")
    assert b.postpaid_only_cost == Decimal("113321.15")
    assert b.savings == Decimal("5280")
    assert (b.waste_calls, b.carry_over_calls) == (4200, 2000)
    assert b.warnings == ()

    # Cash flow: postpaid per month (all products) 0, 0, 0.50, 4,500, 3,150.35, 5,850,
    # 17,150, 34,650, 21,150.20, 7,550.10, 8,000, 0 -- each paid the month after.
    cf = b.cashflow()
    assert len(cf) == 13 and str(cf[-1].month) == "2028-01"
    assert [c.postpaid for c in cf] == [Decimal(x) for x in (
        "0", "0", "0", "0.50", "4500", "3150.35", "5850", "17150", "34650", "21150.20",
        "7550.10", "8000", "0")]
    assert [c.packs for c in cf] == [Decimal("5800")] + [0] * 10 + [Decimal("240"), 0]
    assert max(c.frozen for c in cf) == Decimal("41580")        # 1.2 x 34,650, in 2027-09
    assert str(max(cf, key=lambda c: c.frozen).month) == "2027-09"
    assert sum(c.outflow for c in cf) == b.total_cost


def test_carry_over_value_is_prorata():
    """Balance still valid after the horizon is valued at its price times the unexpired
    share, to the fen (half up) per lot."""
    from optimizer.billing import bill
    from optimizer.io.catalog import load_catalog
    from optimizer.domain.records import Forecast, Plan, Purchase
    from optimizer.domain.months import Month
    start = Month.parse("2027-01")
    cat = load_catalog()
    # 3 months of 11,000 calls: 10,000 a month beyond free, drawn from one 100,000 pack.
    f = Forecast(start, 3, (("id_card", (11000, 11000, 11000)),))
    pb = bill(cat, f, Plan((Purchase("id_card", start + 1, 100000, 1),))).products[0]
    # Bought in month 2: used 20,000, 80,000 left, valid 10 more months of its 12.
    assert pb.carry_over_calls == 80000
    # 5,000 × 80,000 / 100,000 × 10/12 = 3,333.333…, rounded half up to the fen.
    assert pb.carry_over_value == Decimal("3333.33")
    assert pb.net_cost == pb.total_cost - Decimal("3333.33")
    # Month 1 is postpaid: 10,000 calls at 0.10 (11,000 in the month). The value is no credit.
    assert pb.total_cost == Decimal("5000") + Decimal("1000")


def test_carry_over_value_rounds_half_up_per_lot():
    from optimizer.billing import Lot, carry_over_credit
    # 1 call of a 1,000-call pack at 120: 0.12 × 6/12 = 0.06 exactly; 0.12 × 1/12 = 0.01.
    lot = Lot("x", 0, 11, 1000, 1000, 1, Decimal("120"), 0)
    assert carry_over_credit(lot, 1, 6) == Decimal("0.06")
    assert carry_over_credit(lot, 1, 11) == Decimal("0.01")
    # 0.125 → 0.13 (half up, not half even): 25 calls at 0.01 per call × 6/12.
    lot = Lot("y", 0, 11, 1000, 1000, 1, Decimal("10"), 0)
    assert carry_over_credit(lot, 25, 6) == Decimal("0.13")


def test_a_saving_measured_against_an_unpublished_rate_is_warned_of():
    """Packs cover the month above 1,000,000 calls, so the plan pays no unpublished rate,
    but the pure-postpaid cost it saves against does: the bill says so, naming the month."""
    f = forecast({"id_card": [3_000_000, 100_000]})
    covered = bill(SEED, f, plan(("id_card", "2027-01", 1_000_000, 3)))
    assert covered.warnings == (
        "id_card: the pure-postpaid comparison has volume above the top published tier in "
        "2027-01, priced at the last published rate 0.06 (unpublished rate: contact sales); "
        "the saving rests on it",)
    # With no packs the plan's own postpaid is the comparison: one warning, not two.
    alone = bill(SEED, f)
    assert len(alone.warnings) == 1 and "2027-01" in alone.warnings[0]
    assert "comparison" not in alone.warnings[0]


def test_frozen_amount_is_whole_fen_rounded_half_up():
    """120 % of a settled bill in whole fen, half up; vat_invoice's 1,001 calls a month
    leave 1 postpaid call at 0.50, so 0.60 is frozen after each settlement."""
    from optimizer.billing import frozen
    assert frozen(Decimal("0.15")) == Decimal("0.18")
    assert frozen(Decimal("0.01")) == Decimal("0.01")            # 0.012
    assert frozen(Decimal("0.0125")) == Decimal("0.02")          # 0.015: half up
    assert frozen(Decimal("0.04")) == Decimal("0.05")            # 0.048
    f = forecast({"vat_invoice": [1001, 1001]})
    cf = bill(SEED, f).cashflow()
    assert all(c.frozen == c.frozen.quantize(Decimal("0.01")) for c in cf)
    assert [c.frozen for c in cf] == [0, Decimal("0.60"), Decimal("0.60")]
