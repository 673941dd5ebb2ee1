"""The rule of thumb's covering knapsack (optimizer/solve/fallback.py): the cheapest packs
whose calls reach a need. A time limit's fallback asks for hundreds of them (renewed every
month of a long horizon), so up to a size it is priced by a table instead of an integer
program; both must give the least cost, and the table the most calls among equal costs."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.io.catalog import parse_catalog
from optimizer.solve import fallback


def product(packs):
    text = "[[product]]\nid = \"x\"\npacks = [" + ", ".join(
        f'{{ calls = {c}, price = "{p}" }}' for c, p in packs) + ']\ntiers = [ { rate = "1" } ]\n'
    return parse_catalog(text, "c.toml").product("x")


def least(packs, need):
    """(cost in fen, calls) of the cheapest cover, the most calls among equal costs, by a
    plain table over every exact size up to need + the largest pack."""
    top = max(c for c, _ in packs)
    best = [0] + [None] * (need + top)
    for size in range(1, need + top + 1):
        options = [best[size - c] + round(p * 100) for c, p in packs
                   if c <= size and best[size - c] is not None]
        best[size] = min(options) if options else None
    covers = [(cost, -size) for size, cost in enumerate(best) if size >= need and cost is not None]
    cost, calls = min(covers)
    return cost, -calls


PACKS = st.lists(st.tuples(st.integers(1, 40), st.integers(1, 5000).map(lambda f: f / 100)),
                 min_size=1, max_size=4, unique_by=lambda t: t[0])


@settings(max_examples=150, deadline=None)
@given(packs=PACKS, need=st.integers(1, 400))
def test_the_table_and_the_integer_program_give_the_least_cost(packs, need):
    prod = product(packs)
    price = {c: round(p * 100) for c, p in packs}
    table = fallback._cover_by_table(prod, need, math.gcd(*price))
    cost, calls = least(packs, need)
    assert sum(price[c] * k for c, k in table.items()) == cost
    assert sum(c * k for c, k in table.items()) == calls
    milp = fallback._cover_by_program(prod, need)
    assert sum(price[c] * k for c, k in milp.items()) == cost
    assert sum(c * k for c, k in milp.items()) >= need


def test_the_cover_takes_the_table_up_to_its_size_and_the_program_beyond(monkeypatch):
    used = []
    for name in ("_cover_by_table", "_cover_by_program"):
        real = getattr(fallback, name)
        monkeypatch.setattr(fallback, name,
                            lambda *a, real=real, name=name: used.append(name) or real(*a))
    prod = product([(7, 0.5), (100, 6.0)])
    fallback.cheapest_cover.__wrapped__(prod, 1234)
    monkeypatch.setattr(fallback, "COVER_TABLE_POINTS", 100)
    fallback.cheapest_cover.__wrapped__(prod, 1234)
    assert used == ["_cover_by_table", "_cover_by_program"]


@settings(max_examples=60, deadline=None)
@given(packs=PACKS, needs=st.lists(st.integers(1, 400), min_size=2, max_size=6))
def test_one_table_serves_every_need_of_a_product(packs, needs):
    """Needs asked in any order, larger or smaller than the table built so far: each
    the least cost, the most calls among equal costs, as a table of its own gave."""
    prod = product(packs)
    price = {c: round(p * 100) for c, p in packs}
    step = math.gcd(*price)
    for need in needs:
        table = fallback._cover_by_table(prod, need, step)
        assert (sum(price[c] * k for c, k in table.items()),
                sum(c * k for c, k in table.items())) == least(packs, need)


def test_a_smaller_need_reuses_the_products_table():
    """The fallback asks for hundreds of covers per request (every block of every renewal):
    one table per product, built again only for a larger need."""
    prod = product([(7, 0.5), (100, 6.0)])
    fallback._cover_by_table(prod, 5000, 1)
    built = fallback._TABLES[prod, 1]
    for need in (10, 4000, 333):
        fallback._cover_by_table(prod, need, 1)
    assert fallback._TABLES[prod, 1] is built
    fallback._cover_by_table(prod, 9000, 1)
    assert fallback._TABLES[prod, 1] is not built


@settings(max_examples=120, deadline=None)
@given(packs=PACKS, need=st.integers(1, 5000))
def test_packs_cheapest_per_call_set_aside_keep_the_least_cost(packs, need):
    """Large needs set aside packs of the size cheapest per call before the table (a
    1-call pack against millions of calls no longer needs an integer program): still the
    least cost, and the most calls among equal costs."""
    prod = product(packs)
    price = {c: round(p * 100) for c, p in packs}
    got = fallback.cheapest_cover.__wrapped__(prod, need)
    assert (sum(price[c] * k for c, k in got.items()),
            sum(c * k for c, k in got.items())) == least(packs, need)


def test_a_fine_lattice_against_a_large_need_takes_no_integer_program(monkeypatch):
    """One call at a time against ten million: the cheapest-per-call packs set aside leave
    a need the table takes."""
    def unwanted(*args):
        raise AssertionError("an integer program for this cover")
    monkeypatch.setattr(fallback, "_cover_by_program", unwanted)
    prod = product([(1, 0.13), (13, 1.07), (5000, 420.0)])
    got = fallback.cheapest_cover.__wrapped__(prod, 10_000_003)
    assert sum(c * k for c, k in got.items()) >= 10_000_003
    assert got[13] >= 769_000           # (13 calls for 1.07: the cheapest per call)
