"""The fast paths of `packopt bill` (issue #16) against the straightforward ones.

The billing engine's path for a product with nothing bought or held (`_postpaid_bill`)
against its general loop, month by month; the JSON writer's months (`data.Months`) against
the standard library's text of the plain document; `toml_rs` against `tomllib` on catalogs;
the forecast readers' fast cells against the per-cell parser.
"""

from __future__ import annotations

import json
import sys
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import bill
from optimizer.billing import bill_product
from optimizer.domain.catalog import Catalog, Product, Tier
from optimizer.domain.records import Forecast
from optimizer.exceptions import InputError
from optimizer.io import catalog as catalog_io
from optimizer.io.forecast import parse_forecast
from optimizer.output.data import bill_dict
from optimizer.output.text import to_json

from helpers import M, SEED
from test_properties import cases

START = M("2027-01")
REPO = Path(__file__).resolve().parents[1]


@st.composite
def tier_tables(draw):
    """1-4 tiers with rising bounds and rates of 0-4 decimals, the top one maybe
    unpublished (then at least one published below it)."""
    k = draw(st.integers(1, 4))
    bounds = sorted(draw(st.lists(st.integers(1, 2_000_000), min_size=k - 1, max_size=k - 1,
                                  unique=True)))
    rates = [Decimal(draw(st.integers(0, 9999))).scaleb(-draw(st.integers(0, 4)))
             for _ in range(k)]
    tiers = [Tier(b, r) for b, r in zip(bounds, rates)] + [Tier(None, rates[-1])]
    if k > 1 and draw(st.booleans()):
        tiers[-1] = Tier(None, None)
    return tuple(tiers)


@settings(max_examples=200, deadline=None)
@given(tiers=tier_tables(), free=st.integers(0, 5_000),
       calls=st.lists(st.integers(0, 3_000_000) | st.integers(0, 20_000), min_size=1,
                      max_size=30),
       basis=st.sampled_from(["total", "after-packs"]), with_only=st.booleans())
def test_postpaid_path_is_the_general_loop(tiers, free, calls, basis, with_only):
    product = Product("p", "p", (), tiers, free)
    calls = tuple(calls)
    fast = bill_product(product, calls, START, [], basis, with_only)
    slow = bill_product(product, calls, START, [], basis, with_only, straight=True)
    assert fast == slow
    for a, b in zip(fast.months, slow.months):      # the Decimals' spelling too
        assert (str(a.rate), str(a.postpaid_cost), str(a.pack_spend)) == \
               (str(b.rate), str(b.postpaid_cost), str(b.pack_spend))
    assert str(fast.postpaid_cost) == str(slow.postpaid_cost)


@settings(max_examples=150, deadline=None)
@given(case=cases())
def test_bill_json_is_the_standard_library_text_of_the_plain_document(case):
    """Purchases, holdings, reminders and cohorts included: the months written straight
    from the bill are the text json.dumps gives for month_dict's dicts."""
    catalog, forecast, plan, holdings = case
    b = bill(catalog, forecast, plan, holdings)
    plain = json.dumps(bill_dict(b, cashflow=True), ensure_ascii=False, indent=2) + "\n"
    assert to_json(bill_dict(b, cashflow=True, lazy=True)) == plain


def test_bill_json_with_an_unpublished_rate_and_a_zero_month():
    tiers = (Tier(10, Decimal("0.0035")), Tier(None, None))
    cat = Catalog("CNY", 12, "total", (Product("p", "名", (), tiers, 0),))
    b = bill(cat, Forecast(START, 3, (("p", (0, 7, 11)),)))
    plain = json.dumps(bill_dict(b), ensure_ascii=False, indent=2) + "\n"
    assert to_json(bill_dict(b, lazy=True)) == plain
    assert '"postpaid_cost": 0.02' in plain           # 7 × 0.0035 = 0.0245, to the fen


@settings(max_examples=150, deadline=None)
@given(tables=st.lists(tier_tables(), min_size=1, max_size=3), free=st.integers(0, 5_000),
       months=st.integers(1, 14),
       calls=st.lists(st.integers(0, 3_000_000) | st.integers(0, 20_000), min_size=42,
                      max_size=42),
       basis=st.sampled_from(["total", "after-packs"]))
def test_postpaid_columns_json_is_the_records_json(tables, free, months, calls, basis):
    """Products with nothing bought or held keep their months as columns
    (`billing.PostpaidMonths`); the JSON written from them (`text._postpaid_columns`) is
    json.dumps' text of month_dict's dicts of the records, and writing it makes none."""
    products = tuple(Product(f"p{k}", f"名{k}", (), tables[k % len(tables)], free)
                     for k in range(3))
    cat = Catalog("CNY", 12, basis, products)
    demand = tuple((p.id, tuple(calls[k * 14:k * 14 + months]))
                   for k, p in enumerate(products))
    b = bill(cat, Forecast(START, months, demand))
    lazy = to_json(bill_dict(b, lazy=True))
    assert all("_records" not in pb.__dict__ for pb in b.products)     # no records made
    assert lazy == json.dumps(bill_dict(b), ensure_ascii=False, indent=2) + "\n"
    for pb, (pid, c) in zip(b.products, demand):
        slow = bill_product(cat.product(pid), c, START, [], basis, straight=True)
        assert pb == slow and slow == pb and hash(pb) == hash(slow)
        assert pb.months == slow.months


catalog_texts = sorted((REPO / "tests").rglob("*.toml")) + [REPO / "optimizer" / "data" / "seed_catalog.toml"]


@pytest.mark.parametrize("path", catalog_texts, ids=lambda p: p.name)
def test_toml_rs_reads_what_tomllib_reads(path):
    text = path.read_text("utf-8")
    try:
        expected = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError:
        with pytest.raises(tomllib.TOMLDecodeError):
            catalog_io.toml_loads(text)
        return
    got = catalog_io.toml_loads(text + " " * catalog_io.COMPILED_FROM)   # read by toml_rs
    assert got == expected
    assert repr(got) == repr(expected)          # Decimal spellings, int/bool types


toml_scalars = (st.integers(-10**12, 10**12) | st.booleans()
                | st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str)
                | st.text(max_size=8))


def _toml_value(v):
    return json.dumps(v, ensure_ascii=False) if not isinstance(v, bool) else str(v).lower()


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.dictionaries(st.sampled_from(["calls", "price", "rate", "up_to"]),
                                     toml_scalars, max_size=3), max_size=4),
       floats=st.lists(st.decimals(min_value=0, max_value=10**6, places=4,
                                   allow_nan=False), max_size=3))
def test_toml_rs_reads_generated_tables_as_tomllib(rows, floats):
    lines = ["[[product]]", "packs = [" + ", ".join(
        "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in r.items()) + " }"
        for r in rows) + "]"]
    lines += [f"f{i} = {d:f}" + ("" if "." in f"{d:f}" else ".0") for i, d in enumerate(floats)]
    text = "\n".join(lines) + "\n" + "#" * catalog_io.COMPILED_FROM     # read by toml_rs
    try:
        expected = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as e:
        with pytest.raises(tomllib.TOMLDecodeError) as got_error:
            catalog_io.toml_loads(text)
        assert str(got_error.value) == str(e)           # tomllib's message, as before
        return
    assert repr(catalog_io.toml_loads(text)) == repr(expected)
    assert "toml_rs" in sys.modules           # the compiled reader read it


def test_shared_tables_keep_each_products_own_spelling():
    text = """
[[product]]
id = "a"
tiers = [{ up_to = 10, rate = "0.15" }, { rate = "0.1" }]
[[product]]
id = "b"
tiers = [{ up_to = 10, rate = "0.150" }, { rate = "0.1" }]
[[product]]
id = "c"
tiers = [{ up_to = 10, rate = "0.15" }, { rate = "0.1" }]
[[product]]
id = "d"
packs = [{ calls = true, price = "1" }]
tiers = [{ rate = "0.1" }]
"""
    with pytest.raises(InputError) as e:        # true is no pack size, though 1 == true
        catalog_io.parse_catalog(text, "t.toml")
    assert e.value.field == "product[4].calls"
    cat = catalog_io.parse_catalog(text.split("[[product]]\nid = \"d\"")[0], "t.toml")
    a, b, c = cat.products
    assert str(a.tiers[0].rate) == "0.15" and str(b.tiers[0].rate) == "0.150"
    assert a.tiers is c.tiers and a.tiers is not b.tiers


cells = st.sampled_from(["0", "12", "007", "1,000", " 5", "", "-3", "2.5", "١٢", "x"])


@settings(max_examples=150, deadline=None)
@given(grid=st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=4),
       long=st.booleans())
def test_fast_cells_read_and_refuse_as_the_cell_parser(grid, long):
    """Wide and long files of plain and awkward cells: the readers' fast path for plain
    digits must give the forecast (or the error) the per-cell parser gives."""
    pids = [p.id for p in SEED.products][:len(grid)]
    months = ["2027-01", "2027-02", "2027-03"]
    if long:
        text = "product,month,calls\n" + "".join(
            f'{pid},{m},"{c}"\n' for pid, row in zip(pids, grid) for m, c in zip(months, row))
    else:
        text = "product," + ",".join(months) + "\n" + "".join(
            pid + "," + ",".join(f'"{c}"' for c in row) + "\n" for pid, row in zip(pids, grid))
    try:
        got = parse_forecast(text, SEED, "f.csv")
    except Exception as e:      # noqa: BLE001
        got = ("error", type(e).__name__, str(e))
    from optimizer.io.text import parse_count
    expected_ok = all(_parses(parse_count, c) for row in grid for c in row)
    if expected_ok:
        values = {pid: tuple(int(c.strip()) for c in row) for pid, row in zip(pids, grid)}
        assert got == Forecast(START, 3, tuple((p, values[p]) for p in pids), "f.csv")
    else:
        assert got[0] == "error"
        bad = [c for row in grid for c in row if not _parses(parse_count, c)]
        assert f"'{bad[0].strip()}'" in got[2] or "empty" in got[2] or "negative" in got[2]


def _parses(parse_count, c):
    try:
        parse_count(c, source="s", line=1, field_name="calls")
        return True
    except Exception:       # noqa: BLE001
        return False


@settings(max_examples=60, deadline=None)
@given(case=cases(), size=st.integers(1, 4000))
def test_json_in_pieces_is_the_whole_text(case, size):
    """`write_json` hands on `to_json`'s text, in pieces of about `size` characters."""
    from optimizer.output.text import write_json
    catalog, forecast, plan, holdings = case
    doc = bill_dict(bill(catalog, forecast, plan, holdings), lazy=True)
    pieces: list[str] = []
    write_json(doc, pieces.append, size)
    assert "".join(pieces) == to_json(doc)
    assert all(len(p) >= size for p in pieces[:-1])
