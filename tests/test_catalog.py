"""The seed catalog's content, TOML loading, and every validation error's source/line/field."""

from decimal import Decimal
from pathlib import Path

import pytest

from optimizer import InputError, load_catalog

from helpers import SEED

IDS = ["general_print", "general_handwriting", "id_card", "vehicle_license", "business_license",
       "business_card", "bank_card", "license_plate", "vat_invoice"]
NAMES = ["通用印刷体识别", "通用手写体识别", "身份证识别", "行驶证/驾驶证识别", "营业执照识别",
         "名片识别", "银行卡识别", "车牌识别", "增值税发票"]


# --------------------------------------------------------------------------- the seed

def test_seed_catalog_has_the_nine_products_of_the_seed():
    assert [p.id for p in SEED.products] == IDS
    assert [p.name for p in SEED.products] == NAMES
    assert SEED.currency == "CNY"
    assert SEED.validity_months == 12
    assert SEED.tier_basis == "total"
    assert SEED.source == "built-in seed catalog"


@pytest.mark.parametrize("pid", IDS[:-1])
def test_seed_pack_products(pid):
    p = SEED.product(pid)
    assert p.has_packs
    assert [(k.calls, k.price) for k in p.packs] == [
        (1000, Decimal("120")), (10000, Decimal("800")), (100000, Decimal("5000")),
        (1000000, Decimal("30000")), (10000000, Decimal("200000"))]
    assert [(t.up_to, t.rate) for t in p.tiers] == [
        (10000, Decimal("0.15")), (100000, Decimal("0.10")), (1000000, Decimal("0.06")),
        (None, None)]
    assert p.free_calls == 1000
    assert p.pack(10000).price == Decimal("800") and p.pack(5000) is None


def test_seed_vat_invoice_is_postpaid_only():
    v = SEED.product("vat_invoice")
    assert not v.has_packs and v.packs == ()
    assert [(t.up_to, t.rate) for t in v.tiers] == [
        (10000, Decimal("0.50")), (100000, Decimal("0.35")), (1000000, Decimal("0.20")),
        (None, None)]
    assert v.free_calls == 1000


def test_lookup_by_id_or_seed_name_and_suggestions():
    assert SEED.get("身份证识别").id == "id_card"
    assert SEED.get("id_card").name == "身份证识别"
    assert SEED.get("ID_CARD") is None
    assert SEED.suggest("id_crad") == "id_card"
    assert SEED.suggest("bankcard") == "bank_card"
    with pytest.raises(KeyError):
        SEED.product("nope")


def test_rate_of_the_unpublished_tier_is_the_last_published_one():
    p = SEED.product("general_print")
    assert p.rate(1000000) == (Decimal("0.06"), True)
    assert p.rate(1000001) == (Decimal("0.06"), False)
    assert p.tier_rates()[-1] == (None, Decimal("0.06"), False)


# --------------------------------------------------------------------------- loading TOML

def write(tmp_path: Path, text: str, name: str = "cat.toml", bom: bool = False) -> str:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return str(path)


GOOD = """\
currency = "USD"
free_calls_per_month = 200
validity_months = 6
tier_basis = "after-packs"

[[product]]
id = "scan"
name = "Scanner"
packs = [ { calls = 10000, price = "800" }, { calls = 1000, price = 120 } ]
tiers = [ { up_to = 10000, rate = "0.15" }, { up_to = 100000, rate = 0.1 },
          { rate = "unpublished" } ]

[[product]]
id = "fax"
free_calls_per_month = 0
tiers = [ { up_to = 500, rate = "0.5" }, { rate = 0.25 } ]
"""


def test_load_a_custom_catalog(tmp_path):
    path = write(tmp_path, GOOD, bom=True)
    cat = load_catalog(path)
    assert cat.source == path
    assert (cat.currency, cat.validity_months, cat.tier_basis) == ("USD", 6, "after-packs")
    scan, fax = cat.products
    assert scan.id == "scan" and scan.name == "Scanner" and scan.free_calls == 200
    # Packs are sorted by size; numbers and strings both give exact decimals.
    assert [(p.calls, p.price) for p in scan.packs] == [(1000, Decimal("120")),
                                                       (10000, Decimal("800"))]
    assert [(t.up_to, t.rate) for t in scan.tiers] == [
        (10000, Decimal("0.15")), (100000, Decimal("0.1")), (None, None)]
    assert scan.tiers[1].rate == Decimal("0.1")           # not the binary float 0.1000000000000000055
    assert str(scan.tiers[1].rate) == "0.1"
    # A product without a name is named by its id; without packs it is postpaid only.
    assert fax.name == "fax" and not fax.has_packs and fax.free_calls == 0
    assert fax.tiers[-1] == fax.tiers[-1].__class__(None, Decimal("0.25"))
    assert cat.get("Scanner") is scan


def test_defaults_of_a_minimal_catalog(tmp_path):
    cat = load_catalog(write(tmp_path, '[[product]]\nid = "x"\ntiers = [ { rate = "0.1" } ]\n'))
    assert (cat.currency, cat.validity_months, cat.tier_basis) == ("CNY", 12, "total")
    assert cat.product("x").free_calls == 0


def test_unreadable_catalog_is_an_input_error(tmp_path):
    with pytest.raises(InputError) as e:
        load_catalog(tmp_path / "missing.toml")
    assert e.value.source == str(tmp_path / "missing.toml")


# --------------------------------------------------------------------------- validation errors

HEAD = 'currency = "CNY"\nfree_calls_per_month = 1000\n\n'     # lines 1-3


def product(packs: str = 'packs = [ { calls = 1000, price = "120" } ]',
            tiers: str = 'tiers = [ { up_to = 10000, rate = "0.15" }, { rate = "0.10" } ]',
            extra: str = "") -> str:
    """A product table: [[product]] on line 4 of HEAD + product, id on 5, name on 6, ..."""
    body = '[[product]]\nid = "id_card"\nname = "身份证识别"\n' + extra
    return body + packs + "\n" + tiers + "\n"


def load_error(tmp_path, text) -> InputError:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as e:
        load_catalog(path)
    err = e.value
    assert err.source == path, "the error names the file"
    assert err.line is not None, f"the error names a line: {err}"
    assert err.field, f"the error names a field: {err}"
    assert path in str(err) and f"line {err.line}" in str(err)
    return err


def test_overlapping_tiers_on_the_documented_layout(tmp_path):
    # Two tiers per line, as in docs/cli.md's catalog example; tier 2 (line 8) is not above
    # tier 1.
    text = HEAD + product(tiers=(
        'tiers = [ { up_to = 10000, rate = "0.15" }, { up_to = 10000, rate = "0.10" },\n'
        '          { up_to = 1000000, rate = "0.06" }, { rate = "unpublished" } ]'))
    err = load_error(tmp_path, text)
    assert err.line == 8
    assert err.field.endswith("up_to") and "product[1]" in err.field
    assert "overlap" in err.message


def test_unsorted_tiers_one_per_line(tmp_path):
    text = HEAD + product(tiers=(
        'tiers = [\n'                                    # line 8
        '  { up_to = 100000, rate = "0.10" },\n'         # line 9
        '  { up_to = 10000, rate = "0.15" },\n'          # line 10: below the previous one
        '  { rate = "0.06" },\n]'))
    err = load_error(tmp_path, text)
    assert err.line == 10
    assert err.field.endswith("up_to")


def test_unsorted_tiers_in_the_second_product(tmp_path):
    second = product(tiers='tiers = [ { up_to = 500, rate = "0.2" },\n'
                           '  { up_to = 400, rate = "0.1" }, { rate = "0.05" } ]')
    second = second.replace('"id_card"', '"bank_card"').replace("身份证识别", "银行卡识别")
    text = HEAD + product() + "\n" + second      # product 2 starts on line 10
    err = load_error(tmp_path, text)
    assert err.line == 15
    assert "product[2]" in err.field and err.field.endswith("up_to")


def test_pack_without_price(tmp_path):
    # The second pack, on the same line as the first, has no price.
    text = HEAD + product(packs='packs = [ { calls = 1000, price = "120" }, { calls = 10000 } ]')
    err = load_error(tmp_path, text)
    assert err.line == 7
    assert err.field.endswith("price")
    assert "no price" in err.message


@pytest.mark.parametrize("free", ['"0"', '"0.00"', "0"])
def test_a_free_pack_is_refused(tmp_path, free):
    """A pack of price 0 leaves "the most calls bought" of the tie-break without an end
    (each method stopped at its own count: 119, 120 or 30 free packs at one cost)."""
    text = HEAD + product(packs=f'packs = [ {{ calls = 1000, price = "120" }}, '
                                f'{{ calls = 10, price = {free} }} ]')
    err = load_error(tmp_path, text)
    assert err.line == 7 and err.field.endswith("price")
    assert "above 0" in err.message and "free_calls_per_month" in err.message


def test_pack_without_price_on_its_own_line(tmp_path):
    text = HEAD + product(packs='packs = [\n  { calls = 1000, price = "120" },\n'
                                '  { calls = 10000 },\n]')
    err = load_error(tmp_path, text)
    assert err.line == 9
    assert err.field.endswith("price")


def test_unknown_top_level_key(tmp_path):
    text = 'currency = "CNY"\nvalidty_months = 12\n\n' + product()
    err = load_error(tmp_path, text)
    assert (err.line, err.field) == (2, "validty_months")


def test_unknown_product_key(tmp_path):
    text = HEAD + product(extra='rates = "0.1"\n')
    err = load_error(tmp_path, text)
    assert err.line == 7
    assert err.field.endswith("rates")


def test_unknown_pack_key(tmp_path):
    text = HEAD + product(packs='packs = [ { calls = 1000, price = "120" },\n'
                                '          { calls = 10000, price = "800", expires = 6 } ]')
    err = load_error(tmp_path, text)
    assert err.line == 8
    assert err.field.endswith("expires")
    assert "unknown" in err.message


def test_last_tier_with_up_to(tmp_path):
    text = HEAD + product(tiers='tiers = [ { up_to = 10000, rate = "0.15" },\n'
                                '  { up_to = 100000, rate = "0.10" } ]')
    err = load_error(tmp_path, text)
    assert err.line == 9
    assert err.field.endswith("up_to")


def test_non_last_tier_without_up_to(tmp_path):
    text = HEAD + product(tiers='tiers = [ { up_to = 10000, rate = "0.15" },\n'
                                '  { rate = "0.10" },\n  { rate = "0.06" } ]')
    err = load_error(tmp_path, text)
    assert err.line == 9
    assert err.field.endswith("up_to")
    assert "up_to" in err.message


def test_unpublished_in_a_non_last_tier(tmp_path):
    text = HEAD + product(tiers='tiers = [ { up_to = 10000, rate = "0.15" },\n'
                                '  { up_to = 100000, rate = "unpublished" },\n'
                                '  { rate = "0.06" } ]')
    err = load_error(tmp_path, text)
    assert err.line == 9
    assert err.field.endswith("rate")
    assert "unpublished" in err.message


def test_bad_tier_basis(tmp_path):
    text = HEAD + 'tier_basis = "net"\n\n' + product()
    err = load_error(tmp_path, text)
    assert (err.line, err.field) == (4, "tier_basis")


@pytest.mark.parametrize("text, line", [
    ('currency = "CNY"\nvalidity_months = \n\n[[product]]\nid = "x"\n', 2),
    ('currency = "CNY"\n[[product]\nid = "x"\n', 2),
    # An unclosed array runs to the end of the file: the error is on the last line.
    ('currency = "CNY"\n\n[[product]]\nid = "x"\ntiers = [ { rate = "0.1" },\n', 5),
])
def test_invalid_toml(tmp_path, text, line):
    err = load_error(tmp_path, text)
    assert err.line == line
    assert err.field == "toml"
    assert "TOML" in err.message


@pytest.mark.parametrize("text", ["", "\n\n  \n", "\ufeff"])
def test_empty_catalog_file(tmp_path, text):
    err = load_error(tmp_path, text)
    assert err.line == 1
    assert "empty" in err.message


def test_other_value_errors(tmp_path):
    err = load_error(tmp_path, HEAD + product(packs='packs = [ { calls = 1000, price = "-5" } ]'))
    assert (err.line, err.field.endswith("price")) == (7, True)
    err = load_error(tmp_path, HEAD + product(tiers='tiers = [ { rate = "cheap" } ]'))
    assert (err.line, err.field.endswith("rate")) == (8, True)
    err = load_error(tmp_path, 'validity_months = 0\n' + product())
    assert (err.line, err.field) == (1, "validity_months")
    err = load_error(tmp_path, HEAD + product() + "\n" + product())
    assert err.line == 11 and "two products" in err.message     # the second `id =`
    # a name used twice is the name's error, on its line, not the id's
    err = load_error(tmp_path, HEAD + product() + "\n" + product().replace("id_card",
                                                                            "bank_card"))
    assert (err.line, err.field) == (12, "product[2].name")
    assert "'身份证识别' names two products (product[1] too)" in err.message


# --------------------------------------------------------------------------- every error at once

def test_every_bad_value_of_a_catalog_in_one_error(tmp_path):
    # 3 bad prices in one packs list, 3 bad rates and an unsorted bound in one tiers list
    text = ('[[product]]\nid = "id_card"\n'
            'packs = [ { calls = 1000, price = "-1" }, { calls = 10000, price = "x" },\n'
            '          { calls = 100000, price = "nan" } ]\n'
            'tiers = [ { up_to = 10000, rate = "a" }, { up_to = 5000, rate = "b" },\n'
            '          { rate = "c" } ]\n')
    err = load_error(tmp_path, text)
    assert [(p.line, p.field) for p in err.problems] == [
        (3, "product[1].price"), (3, "product[1].price"), (4, "product[1].price"),
        (5, "product[1].rate"), (5, "product[1].up_to"), (5, "product[1].rate"),
        (6, "product[1].rate")]
    assert str(err).startswith(f"{err.source}: 7 problems: line 3, field 'product[1].price': "
                               f"pack 1 price must be a finite non-negative number, not '-1'; ")
    assert "tier 2 up_to 5000 is not above the previous tier's 10000" in str(err)


def test_every_bad_top_level_value_and_product_in_one_error(tmp_path):
    text = ('currency = ""\nfree_calls_per_month = -1\nvalidity_months = 0\n'
            'tier_basis = "x"\ncolour = "blue"\n'
            '[[product]]\nid = "a b"\nname = ""\ntiers = [ { rate = "0.1" } ]\n'    # 6-9
            '[[product]]\nid = "c"\nfax = 1\ntiers = [ { up_to = 10, rate = "0.1" } ]\n')
    err = load_error(tmp_path, text)
    assert [(p.line, p.field) for p in err.problems] == [
        (1, "currency"), (2, "free_calls_per_month"), (3, "validity_months"),
        (4, "tier_basis"), (5, "colour"), (7, "product[1].id"), (8, "product[1].name"),
        (12, "product[2].fax"), (13, "product[2].up_to")]


def test_products_sharing_a_bad_table_are_each_blamed(tmp_path):
    tiers = 'tiers = [ { up_to = 10, rate = "x" }, { rate = "0.1" } ]\n'
    err = load_error(tmp_path, f'[[product]]\nid = "a"\n{tiers}[[product]]\nid = "b"\n{tiers}')
    assert [(p.line, p.field) for p in err.problems] == [(3, "product[1].rate"),
                                                         (6, "product[2].rate")]


def test_values_are_named_as_the_toml_spells_them(tmp_path):
    # not as Python shows them: Decimal('1000.5'), True, datetime.date(2027, 1, 1), 'nan'
    err = load_error(tmp_path, '[[product]]\nid = "id_card"\n'
                     'packs = [ { calls = 1000.5, price = "1" }, { calls = 10, price = nan } ]\n'
                     'tiers = [ { up_to = true, rate = 2027-01-01 }, { rate = "0.06" } ]\n')
    assert [p.message for p in err.problems] == [
        "pack 1 calls must be a whole number, not 1000.5",
        "pack 2 price must be a finite non-negative number, not nan",
        "tier 1 up_to must be a whole number, not true",
        "tier 1 rate must be a decimal number or string, not 2027-01-01"]
    err = load_error(tmp_path, 'tier_basis = ["total"]\n[[product]]\nid = "x"\n'
                     'tiers = [ { rate = "0.1" } ]\n')
    assert err.message == "tier_basis must be one of total, after-packs, not ['total']"


def test_counts_written_as_strings_are_read_as_prices_are(tmp_path):
    """`calls = "1000"` was refused as "must be a whole number, not '1000'" (prices take
    strings, so counts do too); text that is no whole number still is refused."""
    path = tmp_path / "c.toml"
    path.write_text('free_calls_per_month = "500"\n[[product]]\nid = "id_card"\n'
                    'packs = [ { calls = "1000", price = "100" } ]\n'
                    'tiers = [ { up_to = "10000", rate = "0.15" }, { rate = "0.1" } ]\n',
                    encoding="utf-8")
    product = load_catalog(path).product("id_card")
    assert [p.calls for p in product.packs] == [1000] and product.free_calls == 500
    assert product.tiers[0].up_to == 10000
    err = load_error(tmp_path, '[[product]]\nid = "id_card"\n'
                     'packs = [ { calls = "1,000", price = "1" } ]\ntiers = [ { rate = "0.1" } ]\n')
    assert err.message.endswith("pack 1 calls must be a whole number, not '1,000'")


@pytest.mark.parametrize("text, line, says", [
    ("[[products]]\nid = \"x\"\n", 4, "unknown key"),
    ("[product]\nid = \"x\"\n", 4, "a product is a [[product]] table"),
    ("product = 5\n", 4, "defines no [[product]]"),
])
def test_a_misspelt_product_table_is_found_on_its_line(tmp_path, text, line, says):
    """A table header ([[products]], [product]) is a key too: its error names its line."""
    path = write(tmp_path, HEAD + text)
    with pytest.raises(InputError) as e:
        load_catalog(path)
    assert any(p.line == line and says in p.message for p in e.value.problems or [e.value]), \
        str(e.value)


def test_a_catalog_not_in_utf8_is_named_on_the_line_of_its_first_bad_byte(tmp_path):
    path = tmp_path / "gb.toml"
    path.write_bytes((HEAD + product()).encode("gb18030"))    # 身份证识别 on line 6
    with pytest.raises(InputError) as e:
        load_catalog(str(path))
    assert e.value.line == 6 and "not UTF-8 text" in e.value.message
    assert "save it as UTF-8" in e.value.message


def test_a_free_pack_built_in_code_is_refused_by_the_planner():
    """A catalog built in code, past the reader's check, is refused by `plan` too."""
    from dataclasses import replace as swap

    from optimizer import Forecast, InputError, Month, Pack, load_catalog, plan
    cat = load_catalog()
    product = swap(cat.product("id_card"), packs=(Pack(10, Decimal(0)),) +
                   cat.product("id_card").packs)
    cat = swap(cat, products=tuple(product if p.id == "id_card" else p for p in cat.products))
    f = Forecast(Month.parse("2027-01"), 1, (("id_card", (5000,)),))
    with pytest.raises(InputError, match="price must be above 0"):
        plan(cat, f)
