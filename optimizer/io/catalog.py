"""Catalog TOML: the built-in catalog and a user's `--catalog FILE`, one parser.

The built-in catalog (the price list of docs/pricing.md) is a TOML file shipped with the
package and loaded exactly like a user's file, so there is one parser and one set of checks.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from datetime import date, time
from decimal import Decimal
from functools import cached_property
from pathlib import Path

from ..domain.catalog import TIER_BASES, UNPUBLISHED, Catalog, Pack, Product, Tier
from ..exceptions import InputError
from .text import (LIMIT_WORDS, MAX_WHOLE, Problems, bundled_text, parse_decimal, read_text,
                   shown, toml_error, too_large, too_large_words)

_TOP_KEYS = {"currency", "free_calls_per_month", "validity_months", "tier_basis", "product"}
_PRODUCT_KEYS = {"id", "name", "packs", "tiers", "free_calls_per_month", "aliases"}
_PACK_KEYS = {"calls", "price"}
_TIER_KEYS = {"up_to", "rate"}


class _Locator:
    """Finds the line of a key in the TOML text (tomllib reports no positions)."""

    def __init__(self, text: str):
        self.text = text

    @cached_property
    def lines(self) -> list[str]:       # found only for an error
        return self.text.splitlines()

    @cached_property
    def product_lines(self) -> list[int]:
        return [i + 1 for i, ln in enumerate(self.lines)
                if re.match(r"^\s*\[\[\s*product\s*\]\]", ln)]

    def find(self, key: str, product: int | None = None, nth: int = 0) -> int | None:
        lo, hi = 0, len(self.lines)
        if product is not None and product < len(self.product_lines):
            lo = self.product_lines[product] - 1
            if product + 1 < len(self.product_lines):
                hi = self.product_lines[product + 1] - 1
        elif product is None and self.product_lines:
            hi = self.product_lines[0] - 1
        pat = re.compile(r"(^|[\s{,])" + re.escape(key) + r"\s*=")
        seen = 0
        for i in range(lo, hi):
            for _ in pat.finditer(self.lines[i]):     # several keys may share a line
                if seen == nth:
                    return i + 1
                seen += 1
        if product is not None and product < len(self.product_lines):
            return self.product_lines[product]
        if product is None:         # a table's header: [key], [[key]] or [key.sub]
            header = re.compile(r"^\s*\[\[?\s*" + re.escape(key) + r"\s*[\].]")
            return next((i + 1 for i, ln in enumerate(self.lines) if header.match(ln)), None)
        return None


def _spelt(value) -> str:
    """A TOML value as the user wrote it, for a message (`1000.5`, `true`, `'x'`), not as
    Python shows it (`Decimal('1000.5')`, `True`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{shown(value)}'"
    if isinstance(value, Decimal) and not value.is_finite():
        return {"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}.get(str(value), "nan")
    if isinstance(value, (date, time)):         # (datetime is a date)
        return value.isoformat()
    if isinstance(value, list):
        return shown("[" + ", ".join(_spelt(v) for v in value) + "]")
    if isinstance(value, dict):
        return shown("{ " + ", ".join(f"{k} = {_spelt(v)}" for k, v in value.items()) + " }")
    return shown(str(value))


def _decimal(value, what: str, err) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise err(f"{what} must be a decimal number or string, not {_spelt(value)}")
    d = parse_decimal(str(value))
    if d is None:
        raise err(f"{what} {_spelt(value)} is not a decimal number")
    if not d.is_finite() or d < 0:
        raise err(f"{what} must be a finite non-negative number, not {_spelt(value)}")
    if too_large(d):
        raise err(too_large_words(what, value))
    return d


def _whole(value, what: str, err, minimum: int) -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdecimal() \
            and len(value.strip()) <= 4000:
        value = int(value)      # "1000": prices may be strings, so counts may be too
    if isinstance(value, bool) or not isinstance(value, int):
        raise err(f"{what} must be a whole number, not {_spelt(value)}")
    if value < minimum:
        raise err(f"{what} must be at least {minimum}, not {shown(str(value))}")
    if value > MAX_WHOLE:
        raise err(too_large_words(what, value, LIMIT_WORDS))
    return value


# From this size on, a catalog is read by toml_rs: importing it costs about what tomllib
# takes to read 20 kB (the built-in catalog is 5 kB).
COMPILED_FROM = 20_000


def toml_loads(text: str) -> dict:
    """The TOML document as `tomllib.loads(text, parse_float=Decimal)` reads it; a large
    one read by the compiled `toml_rs` when it is installed (9× faster on a 5,000-product
    catalog); a text it refuses goes to `tomllib`, whose answer (and error) is the one given."""
    if len(text) >= COMPILED_FROM:
        try:
            import toml_rs
        except ImportError:     # pragma: no cover -- a dependency; tomllib reads the same
            toml_rs = None
        if toml_rs is not None:
            try:
                return toml_rs.loads(text, parse_float=Decimal, toml_version="1.0.0")
            except Exception:       # noqa: BLE001 -- tomllib decides, and words the error
                pass
    return tomllib.loads(text, parse_float=Decimal)


def parse_catalog(text: str, source: str) -> Catalog:
    """Parse and validate a catalog TOML text; every error names source, line and field."""
    loc = _Locator(text)
    try:
        data = toml_loads(text)
    except (ValueError, RecursionError) as e:      # (TOMLDecodeError is a ValueError)
        error = toml_error(text, e, source, "toml")
        if error is None:
            raise
        raise error from None

    def top_err(key):
        return lambda msg: InputError(msg, source=source, line=loc.find(key), field=key)

    problems = Problems()           # every problem of the file, in one message
    for key in sorted(set(data) - _TOP_KEYS):
        problems.add(top_err(key)(f"unknown key (expected one of "
                                  f"{', '.join(sorted(_TOP_KEYS))})"))
    currency = data.get("currency", "CNY")
    if not isinstance(currency, str) or not currency.strip():
        problems.add(top_err("currency")("currency must be a non-empty string"))
    free_default = problems(_whole, data.get("free_calls_per_month", 0),
                            "free_calls_per_month", top_err("free_calls_per_month"), 0)
    validity = problems(_whole, data.get("validity_months", 12), "validity_months",
                        top_err("validity_months"), 1)
    basis = data.get("tier_basis", "total")
    if basis not in TIER_BASES:
        problems.add(top_err("tier_basis")(f"tier_basis must be one of "
                                           f"{', '.join(TIER_BASES)}, not {_spelt(basis)}"))
    raw_products = data.get("product")
    if isinstance(raw_products, dict):
        problems.add(top_err("product")("a product is a [[product]] table (two brackets: "
                                        "one per product), not [product]"))
        raw_products = []
    elif not isinstance(raw_products, list) or not raw_products:
        problems.add(InputError("the catalog defines no [[product]]", source=source,
                                line=loc.find("product") if "product" in data else None,
                                field="product"))
        raw_products = []

    products: list[Product] = []
    seen: dict[str, int] = {}       # product id or name -> index, to refuse a name used twice
    tables: dict = {}               # a packs or tiers table -> its records (see _shared)
    for n, raw in enumerate(raw_products):
        def err(key, nth=0, n=n, name=None):
            """Error at the nth `key =` of product n; `name` is the field reported, if not key."""
            return lambda msg: InputError(msg, source=source, line=loc.find(key, n, nth),
                                          field=f"product[{n + 1}].{name or key}")
        # (a bad top-level default is reported once, not again for each product using it)
        products.append(_product(raw, n, err, free_default or 0, seen, tables, problems))
    problems.check()
    assert all(products)      # (a product with a problem was collected, and raised above)
    return Catalog(currency.strip(), validity, basis, tuple(products), source)


def _product(raw, n: int, err, free_default: int, seen: dict[str, int], tables: dict,
             problems: Problems) -> Product | None:
    """Product n of the catalog; `err(key, nth, name)` makes the error located at its key.
    Every problem of its keys, packs and tiers goes to `problems` (None returned), so one
    message names them all."""
    if not isinstance(raw, dict):
        problems.add(err("product")("each product must be a table"))
        return None
    found = len(problems.errors)
    head = _head(raw, err, free_default, seen, n, problems)
    packs = _shared(tables, raw, "packs", _packs, err, problems)
    tiers = _shared(tables, raw, "tiers", _tiers, err, problems)
    aliases = _aliases(raw, err, head[0], head[1], n, seen, problems) if head else ()
    if len(problems.errors) > found:
        return None
    return Product(head[0], head[1], packs, tiers, head[2], aliases)


def _head(raw: dict, err, free_default: int, seen: dict[str, int], n: int,
          problems: Problems) -> tuple[str, str, int] | None:
    """A product's id, name and free calls, checked (None when one is bad: its problems
    are in `problems`)."""
    found = len(problems.errors)
    for key in sorted(set(raw) - _PRODUCT_KEYS):
        problems.add(err(key)(f"unknown key (expected one of "
                              f"{', '.join(sorted(_PRODUCT_KEYS))})"))
    pid = raw.get("id")
    if not isinstance(pid, str) or not _ID.fullmatch(pid):
        problems.add(err("id")("id must be a non-empty string of letters, digits, '_', '-' "
                               "or '.'"))
        pid = None
    name = raw.get("name", pid)
    if "name" in raw and (not isinstance(name, str) or not name.strip()):
        problems.add(err("name")("name must be a non-empty string"))
        name = None
    for key in dict.fromkeys(k for k in (pid, name) if k is not None):  # name defaults to id
        if key in seen:
            problems.add(err("id" if key == pid else "name")(
                f"'{key}' names two products (product[{seen[key] + 1}] too)"))
        else:
            seen[key] = n
    free = problems(_whole, raw.get("free_calls_per_month", free_default),
                    "free_calls_per_month", err("free_calls_per_month"), 0)
    if len(problems.errors) > found:
        return None
    return pid, name.strip(), free


def _shared(tables: dict, raw: dict, key: str, read, err, problems: Problems):
    """`read(raw, err, found)`, the packs or tiers of a product, once per distinct table:
    products written with the same table (value for value, each value's type and spelling
    included) share its checked records, which are immutable. A table with problems gives
    None, its problems added to `problems` (for each product, at that product's lines)."""
    found = Problems()
    value = raw.get(key)
    # TOML's values are str, int, bool, Decimal (parse_float), dates, lists and tables,
    # whose repr tells apart any two that differ (1 and true, "1" and 1, 0.15 and 0.150).
    frozen = (key, repr(value)) if type(value) is list else None
    hit = tables.get(frozen)
    if hit is None:
        hit = read(raw, err, found)
        if found:
            problems.errors.extend(found.errors)
            return None
        if frozen is not None:
            tables[frozen] = hit
    return hit


_ID = re.compile(r"[A-Za-z0-9_.\-]+")
_IGNORED = re.compile(r"[\s_.\-]+")      # what alias_key ignores


def alias_key(text: str) -> str:
    """How a product's id, name or alias is compared with a label in a bill export:
    Unicode-normalised (full-width forms as ASCII), case, spaces, '_', '-' and '.'
    ignored, so `GeneralBasicOCR`, `General Basic OCR` and `general_basic_ocr` agree."""
    if not text.isascii():              # (NFKC leaves ASCII as it is)
        text = unicodedata.normalize("NFKC", text)
    return _IGNORED.sub("", text.casefold())


def _aliases(raw: dict, err, pid: str, name: str, n: int, seen: dict,
             problems: Problems) -> tuple[str, ...]:
    """A product's `aliases`: other names its usage goes by in bills and exports. An alias
    may not also name another product, as its id, name or alias (compared as `alias_key`
    compares them); two products whose ids differ only in case are left alone. Each
    problem goes to `problems`."""
    raw_aliases = raw.get("aliases", [])
    if not isinstance(raw_aliases, list) or not all(isinstance(a, str) and a.strip()
                                                     for a in raw_aliases):
        problems.add(err("aliases")("aliases must be a list of non-empty strings"))
        return ()
    out = []
    for i, text in enumerate((pid, name, *raw_aliases)):
        alias = i >= 2 and text.strip() not in (pid, name)
        key = "alias:" + alias_key(text)     # beside the exact ids and names in `seen`
        other, other_alias = seen.setdefault(key, (n, alias))
        if other != n and (alias or other_alias):
            problems.add(err("aliases" if alias else "id")(
                f"'{text}' also names product {other + 1} (as its id, name or an alias)"))
        elif alias:
            out.append(text.strip())
    return tuple(dict.fromkeys(out))


def _packs(raw: dict, err, found: Problems) -> tuple[Pack, ...]:
    """A product's packs, smallest first; each bad value goes to `found`."""
    packs = []
    raw_packs = raw.get("packs", [])
    if not isinstance(raw_packs, list):
        found.add(err("packs")("packs must be a list of { calls = N, price = \"P\" }"))
        return ()
    for k, rp in enumerate(raw_packs):
        def perr(name="calls", k=k):     # located by the pack's `calls =`
            return err("calls", k, name=name)
        if not isinstance(rp, dict):
            found.add(perr("packs")(f"pack {k + 1} must be a table "
                                    f"{{ calls = N, price = \"P\" }}"))
            continue
        for key in sorted(set(rp) - _PACK_KEYS):
            found.add(perr(key)(f"pack {k + 1} has unknown key '{key}'"))
        calls = price = None
        if "calls" not in rp:
            found.add(perr()(f"pack {k + 1} has no calls"))
        else:
            calls = found(_whole, rp["calls"], f"pack {k + 1} calls", perr(), 1)
        if "price" not in rp:
            size = f" ({_spelt(rp['calls'])} calls)" if "calls" in rp else ""
            found.add(perr("price")(f"pack {k + 1}{size} has no price"))
        else:
            price = found(_decimal, rp["price"], f"pack {k + 1} price", perr("price"))
            if price == 0:
                # (the tie-break's "most calls bought" would have no end: give free calls
                # as the free quota, or as a holding)
                found.add(perr("price")(
                    f"pack {k + 1} price must be above 0: a free pack has no most calls "
                    f"to buy; give free calls as free_calls_per_month or as a holding"))
                price = None
        if calls is not None and any(p.calls == calls for p in packs):
            found.add(perr()(f"two packs of {calls} calls"))
        elif calls is not None and price is not None:
            packs.append(Pack(calls, price))
    packs.sort(key=lambda p: p.calls)
    return tuple(packs)


def _tiers(raw: dict, err, found: Problems) -> tuple[Tier, ...]:
    """A product's tiers: rising inclusive bounds, the last open-ended and maybe unpublished;
    each bad value goes to `found`."""
    raw_tiers = raw.get("tiers")
    if not isinstance(raw_tiers, list) or not raw_tiers:
        found.add(err("tiers")("tiers must be a non-empty list of "
                               "{ up_to = N, rate = \"R\" }"))
        return ()
    tiers = []
    below = None        # the last good up_to, which the next must be above
    for k, rt in enumerate(raw_tiers):
        anchor = "rate" if isinstance(rt, dict) and "up_to" not in rt else "up_to"

        def terr(name, k=k, anchor=anchor):     # located by the tier's up_to (or rate)
            return err(anchor, k, name=name)
        if not isinstance(rt, dict):
            found.add(terr("tiers")(f"tier {k + 1} must be a table "
                                    f"{{ up_to = N, rate = \"R\" }}"))
            continue
        for key in sorted(set(rt) - _TIER_KEYS):
            found.add(terr(key)(f"tier {k + 1} has unknown key '{key}'"))
        last = k == len(raw_tiers) - 1
        up_to = None
        if last and "up_to" in rt:
            found.add(terr("up_to")("the last tier must have no up_to (it covers every "
                                    "higher volume)"))
        elif not last and "up_to" not in rt:
            found.add(terr("up_to")(f"tier {k + 1} needs up_to (only the last tier is "
                                    f"open-ended)"))
        elif not last:
            up_to = found(_whole, rt["up_to"], f"tier {k + 1} up_to", terr("up_to"), 1)
            if up_to is not None and below is not None and up_to <= below:
                found.add(terr("up_to")(f"tiers overlap or are unsorted: tier {k + 1} up_to "
                                        f"{up_to} is not above the previous tier's {below}"))
            below = up_to if up_to is not None else below
        rate_raw = rt.get("rate")
        if "rate" not in rt:
            found.add(terr("rate")(f"tier {k + 1} has no rate"))
        elif isinstance(rate_raw, str) and rate_raw.strip().lower() == UNPUBLISHED:
            if not last:
                found.add(terr("rate")("only the last tier may be 'unpublished'"))
            elif k == 0:
                found.add(terr("rate")("an 'unpublished' tier needs a published tier below "
                                       "it"))
            tiers.append(Tier(up_to, None))
        else:
            tiers.append(Tier(up_to, found(_decimal, rate_raw, f"tier {k + 1} rate",
                                           terr("rate"))))
    return tuple(tiers)


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The catalog in a TOML file, or the built-in seed catalog when path is None."""
    if path is None:
        text = bundled_text("seed_catalog.toml")
        return parse_catalog(text, "built-in seed catalog")
    text = read_text(path, "catalog", empty_field="product", byte_offset=True)
    return parse_catalog(text, str(path))
