"""Purchase plans: the CSV `product,month,size,count` and the JSON that `plan` writes."""

from __future__ import annotations

import codecs
import json
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Callable

from ..domain.catalog import Catalog
from ..domain.records import Forecast, Plan, Purchase
from ..exceptions import InputError
from .months import day_first
from .text import (
    LIMIT_WORDS,
    MAX_WHOLE,
    SHEET_IN_PATH,
    ZIP_MAGIC,
    Problems,
    Table,
    beyond_parser,
    csv_rows,
    decode_table,
    decode_text,
    data_rows,
    ignored_columns_note,
    parse_count,
    parse_decimal,
    parse_month,
    read_bytes,
    resolve_product,
    shown,
    split_sheet,
    table_from_bytes,
    wrong_column,
)


def _check_purchase(catalog: Catalog, pid: str, size: int, *, source: str, line: int,
                    fields: tuple[str, str] = ("product", "size")):
    """True when `pid` sells packs of `size` calls; `fields` name the product and size
    where the file has them (a column, or plan JSON's path)."""
    prod = catalog.product(pid)
    if not prod.has_packs:
        raise InputError(f"{pid} is postpaid only: it has no packs to buy",
                         source=source, line=line, field=fields[0])
    if prod.pack(size) is None:
        sizes = ", ".join(str(p.calls) for p in prod.packs)
        raise InputError(f"{pid} has no pack of {size} calls (sizes: {sizes})",
                         source=source, line=line, field=fields[1])
    return True


def parse_plan_csv(text: str, catalog: Catalog, source: str = "plan", *,
                   notes: list[str] | None = None) -> Plan:
    """A plan from CSV text (comma, semicolon or tab separated)."""
    return plan_from_table(Table(source, csv_rows(text, source, "plan")), catalog, notes)


def plan_from_table(table: Table, catalog: Catalog, notes: list[str] | None = None,
                    forecast: Forecast | None = None, *, history: bool = False) -> Plan:
    """A plan from the rows of a CSV file or a workbook sheet: `product,month,size,count`,
    then any other columns (such as the `cost` that `plan` writes), which are ignored.
    With `forecast`, purchases outside its months or products are among the file's
    problems, reported together (they came one message after the others); `history`:
    `forecast` is a usage history, and the messages say so."""
    notes = [] if notes is None else notes
    notes.extend(table.notes)
    rows, source = table.rows, table.source
    line0, header = rows[0]
    if [h.lower() for h in header[:4]] != ["product", "month", "size", "count"]:
        names = {h.lower() for h in header}
        hint = ("; this is another table packopt writes (--compare, --months, --cashflow, "
                "whatif...), not a plan: `packopt plan --format csv` alone writes the plan"
                if names & {"strategy", "pack_cost", "level", "outflow", "tier_volume"} else "")
        raise InputError(f"header must be product,month,size,count{hint}", source=source,
                         line=line0,
                         field=wrong_column(header, ["product", "month", "size", "count"]),
                         hint=None if hint else table.sheet_hint(SHEET_IN_PATH))
    extra = [h for h in header[4:] if h and h.lower() != "cost"]
    if extra:
        notes.append(ignored_columns_note(source, extra))
    problems = Problems()
    data = data_rows(table, 4, problems, notes,
                     lambda found: f"expected {len(header)} fields as in the header, "
                                   f"found {found}")
    order = day_first(row[1] for _, row in data)
    out = []
    for line, row in data:
        prod = problems(resolve_product, catalog, row[0], source=source, line=line)
        month = problems(parse_month, row[1], source=source, line=line, day_is_first=order)
        size = problems(parse_count, row[2], source=source, line=line, field_name="size",
                        what="size", minimum=1)
        count = problems(parse_count, row[3], source=source, line=line, field_name="count",
                         what="count")
        if prod is None or size is None:
            continue
        known = problems(_check_purchase, catalog, prod.id, size, source=source, line=line)
        if not known or month is None or count is None:
            continue
        if count:
            out.append(Purchase(prod.id, month, size, count, line))
    notes.extend(repeated_notes(out, source))
    if forecast is not None:
        from ..billing import plan_problems
        for e in plan_problems(Plan(tuple(out), source), forecast, history=history):
            problems.add(e)
    problems.check()
    return Plan(tuple(out), source)


def repeated_notes(purchases, source: str) -> list[str]:
    """A note per pack bought on more than one line in one month: the lines are added up
    (two orders of one pack are one purchase to the bill), but a copied row is a likely
    mistake that the total alone would hide."""
    seen: dict[tuple, list[Purchase]] = {}
    for p in purchases:
        seen.setdefault((p.product, p.month, p.size), []).append(p)
    notes = []
    for (product, month, size), same in seen.items():
        if len(same) > 1:
            lines = ", ".join(str(p.line) for p in same if p.line is not None)
            counts = " + ".join(str(p.count) for p in same)
            notes.append(f"{source}: {product} buys {size:,}-call packs in {month} on "
                         f"{len(same)} lines{f' ({lines})' if lines else ''}: counted "
                         f"together, {counts} = {sum(p.count for p in same)}")
    return notes


def _json_int(text: str) -> int | str:
    """A JSON integer; one of more digits than any count packopt takes stays text (Python
    refuses to convert one of over 4,300 digits), for the field's check to refuse."""
    return int(text) if len(text) <= 18 else text


def parse_plan_json(text: str, catalog: Catalog, source: str = "plan",
                    forecast: Forecast | None = None, *,
                    notes: list[str] | None = None, history: bool = False) -> Plan:
    """Read the JSON that `plan --format json` writes (its products[].purchases): every bad
    field in one message, as a table's cells (with `forecast`, purchases outside it too)."""
    try:
        data, key_line = _with_lines(text)
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON ({e.msg})", source=source, line=e.lineno) from None
    except (RecursionError, ValueError) as e:
        words = beyond_parser(text, e)
        if words is None:
            raise
        raise InputError(f"not valid JSON: {words[0]}", source=source, line=words[1]) from None
    if not isinstance(data, dict) or not isinstance(data.get("products"), list):
        raise InputError("expected the JSON written by `packopt plan --format json` "
                         "(an object with a 'products' list)", source=source, field="products")
    if _a_forecast(data["products"]):
        first = next(e for e in data["products"] if isinstance(e, dict))
        raise InputError("this is the JSON `packopt forecast` writes (a forecast, with no "
                         "purchases): `packopt plan --format json` writes a plan",
                         source=source, line=key_line(first, "calls"),
                         field="products[0].purchases")
    problems = Problems()
    out = []
    paths: list[dict[str, str]] = []       # each purchase's fields as JSON paths
    for k, entry in enumerate(data["products"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("product"), str):
            problems.add(InputError(f"products[{k}] needs a 'product' name", source=source,
                                    line=key_line(entry, "product"),
                                    field=f"products[{k}].product"))
            continue
        pl = key_line(entry, "product")
        prod = problems(resolve_product, catalog, entry["product"], source=source, line=pl,
                        field_name=f"products[{k}].product")
        if "purchases" not in entry:
            problems.add(InputError(_no_purchases(entry), source=source, line=pl,
                                    field=f"products[{k}].purchases"))
            continue
        purchases = entry["purchases"]
        if not isinstance(purchases, list):
            problems.add(InputError("purchases must be a list", source=source, line=pl,
                                    field=f"products[{k}].purchases"))
            continue
        for j, p in enumerate(purchases):
            fld = f"products[{k}].purchases[{j}]"
            if not isinstance(p, dict):
                problems.add(InputError("each purchase must be an object", source=source,
                                        line=pl, field=fld))
                continue
            purchase = _json_purchase(p, fld, prod, partial(key_line, p), catalog, source,
                                      problems, f"products[{k}].product")
            if purchase is not None:
                out.append(purchase)
                paths.append({"product": f"products[{k}].product", "month": f"{fld}.month"})
    if notes is not None:
        notes.extend(repeated_notes(out, source))
    if forecast is not None:
        from ..billing import plan_problems
        for purchase, path in zip(out, paths):       # (named by their JSON paths)
            for e in plan_problems(Plan((purchase,), source), forecast, history=history):
                problems.add(InputError(e.message, source=e.source, line=e.line,
                                        field=path.get(e.field, e.field), hint=e.hint))
    problems.check()
    return Plan(tuple(out), source)


def _with_lines(text: str) -> tuple[object, Callable[[object, str], int | None]]:
    """JSON `text` read (its integers by `_json_int`), and a function giving the line of a
    key in one of its objects (else the object's first line; None for what is no object
    of it). The objects' spans come from the json module's own parser, run in Python (6 ms
    for a 64 kB plan); searching the text for a key found another purchase's, or the
    wrong key of the right purchase."""
    from bisect import bisect_right
    from json import decoder, scanner
    spans: dict[int, tuple[int, int]] = {}
    dec = json.JSONDecoder(parse_int=_json_int)

    def parse_object(s_and_end, *args):
        obj, end = decoder.JSONObject(s_and_end, *args)
        spans[id(obj)] = (s_and_end[1] - 1, end)
        return obj, end
    dec.parse_object = parse_object
    dec.scan_once = scanner.py_make_scanner(dec)
    data = dec.decode(text)
    breaks = [i for i, ch in enumerate(text) if ch == "\n"]

    def key_line(obj, key: str) -> int | None:
        span = spans.get(id(obj))
        if span is None:
            return None
        at = text.find(json.dumps(key), *span)
        at = span[0] if at < 0 else at      # (a key spelt with escapes: its object)
        return bisect_right(breaks, at) + 1
    return data, key_line


def _json_purchase(p: dict, fld: str, prod, line_of: Callable[[str], int | None],
                   catalog: Catalog, source: str, problems: Problems,
                   product_field: str) -> Purchase | None:
    """One purchase object of plan JSON at path `fld`, its problems added to `problems`
    (each at the line of its key, `line_of(key)`); None when it has one, or buys nothing."""
    mline = line_of("month")
    for key in PURCHASE_KEYS[:3]:
        if key not in p:
            problems.add(InputError(f"{key} is missing{_typo_hint(p, key)}",
                                    source=source, line=mline, field=f"{fld}.{key}"))
    month = ("month" in p or None) and problems(
        parse_month, str(p["month"]), source=source, line=mline,
        field_name=fld + ".month")
    vals = {}
    for key in ("size", "count"):
        if key not in p:
            continue                              # (missing: said above)
        v = p[key]
        least = 1 if key == "size" else 0
        if isinstance(v, bool) or not isinstance(v, int) or not least <= v <= MAX_WHOLE:
            problems.add(InputError(
                f"{key} must be a {'positive' if least else 'non-negative'} whole "
                f"number ({LIMIT_WORDS}), not {shown(json.dumps(v, ensure_ascii=False))}",
                source=source, line=line_of(key), field=f"{fld}.{key}"))  # (as JSON spells it)
        else:
            vals[key] = v
    if prod is None or "size" not in vals or not problems(
            _check_purchase, catalog, prod.id, vals["size"], source=source,
            line=line_of("size") or 0, fields=(product_field, f"{fld}.size")):
        return None
    if month is None or not vals.get("count"):
        return None
    return Purchase(prod.id, month, vals["size"], vals["count"], mline)


# The keys a purchase of plan JSON has (`cost` is checked against the catalog, not used),
# and those `plan --format json` writes for a product.
PURCHASE_KEYS = ("month", "size", "count", "cost")
PRODUCT_KEYS = ("product", "name", "purchases", "holdings", "months", "total_cost",
                "pack_cost", "postpaid_cost", "postpaid_only_cost", "net_cost", "savings",
                "savings_pct", "waste_calls", "carry_over_calls", "carry_over_value")


def _typo_hint(obj: dict, key: str, known=PURCHASE_KEYS) -> str:
    """'; ... did you mean' for a key of `obj` packopt does not read that is likely `key`
    misspelt ('purchase', 'sise'), else ''."""
    import difflib  # error messages only: kept off the import path
    others = {str(k).strip().lower(): k for k in obj if k not in known}
    hit = difflib.get_close_matches(key, list(others), n=1, cutoff=0.75)
    return (f": '{shown(str(others[hit[0]]))}' is not a key packopt reads (did you mean "
            f"'{key}'?)" if hit else "")


def _no_purchases(entry: dict) -> str:
    """Why a product of plan JSON with no `purchases` list is refused: a silent empty
    plan billed a misspelt key ('purchase') or a forecast's JSON as buying nothing."""
    hint = _typo_hint(entry, "purchases", PRODUCT_KEYS)
    return (f"no 'purchases' list{hint}" if hint else
            "no 'purchases' list (a product that buys nothing has \"purchases\": [])")


def _a_forecast(products: list) -> bool:
    """Whether plan JSON's products are a forecast's (`packopt forecast --format json`):
    calls and no purchases."""
    entries = [e for e in products if isinstance(e, dict)]
    return bool(entries) and all("purchases" not in e and "calls" in e for e in entries)


def _json_text(raw: bytes, path: str) -> str | None:
    """The text of a plan file that is JSON (an object, or the array a hand-edited one may
    be), else None (a table). UTF-8, or UTF-16 or UTF-32 with a byte-order mark (what
    PowerShell's `>` writes)."""
    if raw.startswith(ZIP_MAGIC):
        return None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # (and UTF-32's)
        text = decode_table(raw, path)[0]
        return text if text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[") else None
    if raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return decode_text(raw, path, "plan")
    return None


def read_plan(path: str | Path, catalog: Catalog, *, notes: list[str] | None = None,
              forecast: Forecast | None = None, history: bool = False,
              cost_warnings: list[str] | None = None) -> Plan:
    """A plan from CSV, from a workbook (its first sheet, or `book.xlsx#Sheet`), or from
    the JSON that `plan --format json` writes. With `forecast`, purchases outside it are
    reported with the file's other problems (`history`: as outside the usage history that
    `forecast` is, for `backtest`); with `cost_warnings`, a warning is added to
    it per `cost` the file states that the bill will not use (see `_stale_costs`).

    The file is read once, its kind told from those bytes: a pipe or FIFO (`--plan
    /dev/stdin`) can be read only once."""
    base, sheet = split_sheet(str(path))
    raw = read_bytes(base, "plan")
    text = _json_text(raw, str(path))
    if text is not None:
        plan = parse_plan_json(text, catalog, str(path), forecast, notes=notes,
                               history=history)
        if cost_warnings is not None:
            cost_warnings.extend(_stale_costs(_json_costs(text), str(path), catalog))
        return plan
    table = table_from_bytes(raw, base, "plan", sheet=sheet)
    plan = plan_from_table(table, catalog, notes, forecast, history=history)
    if cost_warnings is not None:
        cost_warnings.extend(_stale_costs(_table_costs(table), table.source, catalog))
    return plan


def _json_costs(text: str) -> list[tuple]:
    """The purchases' stated costs in plan JSON `parse_plan_json` accepted, as
    (where, product, size, count, cost)."""
    data = json.loads(text, parse_int=_json_int)
    return [(f"field 'products[{k}].purchases[{j}].cost'", entry["product"], p.get("size"),
             p.get("count"), str(p["cost"]))
            for k, entry in enumerate(data.get("products", []))
            for j, p in enumerate(entry.get("purchases", []))
            if isinstance(p, dict) and p.get("cost") is not None]


def _table_costs(table: Table) -> list[tuple]:
    """The `cost` cells of a plan table (the column `plan --format csv` writes), as
    (where, product, size, count, cost)."""
    rows = table.rows
    header = [h.lower() for h in rows[0][1]]
    if "cost" not in header[4:]:
        return []
    at = header.index("cost", 4)
    return [(f"line {line}", row[0], row[2], row[3], row[at])
            for line, row in rows[1:] if len(row) > at]


def _stale_costs(found, source: str, catalog: Catalog) -> tuple[str, ...]:
    """A warning per stated cost in `found` (where, product, size, count, cost: a plan
    file's `cost` cells) that disagrees with the catalog's price × count, or that is not a
    number at all ('abc', NaN, '15,000.00'): the bill uses the catalog's price, and a
    reader who trusts the file's costs should hear that they were not used. A blank cost
    (or JSON null) is skipped."""
    out = []
    for where, product, size, count, stated in found:
        prod = catalog.get(str(product).strip())
        try:
            size, count = int(size), int(count)
        except (TypeError, ValueError):
            continue                  # not a purchase (a Total row, say)
        pack = prod.pack(size) if prod is not None else None
        if pack is None or not stated.strip():
            continue
        due = pack.price * count
        due_text = f"{due:,.2f}" if due == due.quantize(Decimal("0.01")) else f"{due:,}"
        billed = (f"({prod.id} {size:,} × {count:,} costs {due_text} {catalog.currency}); "
                  f"the catalog's price is billed")
        cost = parse_decimal(stated)
        if cost is None or not cost.is_finite():
            out.append(f"{source}, {where}: cost '{shown(stated)}' is not a number {billed}")
        elif cost != due:
            out.append(f"{source}, {where}: cost {shown(stated)} disagrees with the catalog "
                       f"{billed}")
    return tuple(out)
