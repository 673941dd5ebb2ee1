"""Forecasts, plans and holdings: the domain records and their CSV/JSON readers.

Every reader checks its input where it enters and raises InputError naming the
file, the line and the field, so nothing downstream sees a malformed value.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import Catalog
from .exceptions import InputError
from .months import Month

_INT_RE = re.compile(r"^\d+$")


@dataclass(frozen=True)
class Forecast:
    """Monthly calls per product over a contiguous horizon starting at `start`."""

    start: Month
    months: int
    demand: tuple[tuple[str, tuple[int, ...]], ...]   # (product id, calls per month)
    source: str = "forecast"

    def products(self) -> list[str]:
        return [pid for pid, _ in self.demand]

    def calls(self, pid: str) -> tuple[int, ...]:
        for p, calls in self.demand:
            if p == pid:
                return calls
        raise KeyError(pid)

    def month(self, index: int) -> Month:
        return self.start + index

    def index(self, month: Month) -> int:
        return month - self.start

    def scaled(self, factor) -> "Forecast":
        """Demand multiplied by `factor` (a Fraction or Decimal), rounded half up per month."""
        from decimal import ROUND_HALF_UP, Decimal
        f = Decimal(str(factor))
        return Forecast(self.start, self.months, tuple(
            (pid, tuple(int((Decimal(c) * f).to_integral_value(ROUND_HALF_UP)) for c in calls))
            for pid, calls in self.demand), self.source)


@dataclass(frozen=True)
class Purchase:
    """`count` packs of `size` calls of `product`, bought at the start of `month`."""

    product: str
    month: Month
    size: int
    count: int
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Plan:
    purchases: tuple[Purchase, ...]
    source: str = "plan"

    def for_product(self, pid: str) -> list[Purchase]:
        return [p for p in self.purchases if p.product == pid]


@dataclass(frozen=True)
class Holding:
    """Pack balance already owned: `calls_left` calls usable up to and including `expires`."""

    product: str
    expires: Month
    calls_left: int
    line: int | None = field(default=None, compare=False)


# --------------------------------------------------------------------------- helpers

def read_text(path: str | Path, what: str) -> str:
    """A UTF-8 file's text (a BOM is accepted), or a clear InputError."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise InputError(f"cannot read {what} ({e.strerror})", source=str(path)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise InputError("not UTF-8 text", source=str(path), line=line) from None
    if not text.strip():
        raise InputError(f"the {what} file is empty", source=str(path), line=1, field="header")
    return text


def _rows(text: str, source: str) -> list[tuple[int, list[str]]]:
    """CSV rows with their 1-based line numbers; blank lines are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""))
    out = []
    try:
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            out.append((reader.line_num, [c.strip() for c in row]))
    except csv.Error as e:
        raise InputError(f"malformed CSV ({e})", source=source, line=reader.line_num) from None
    return out


def parse_count(value: str, *, source: str, line: int, field_name: str, what: str = "calls",
                minimum: int = 0) -> int:
    """A non-negative whole number written plainly; explains the usual mistakes."""
    v = value.strip()
    if _INT_RE.match(v):
        n = int(v)
        if n < minimum:
            raise InputError(f"{what} must be at least {minimum}, not {v}",
                             source=source, line=line, field=field_name)
        return n
    if v == "":
        msg = f"{what} is empty"
    elif v.startswith("-") and _INT_RE.match(v[1:].replace(",", "").replace("_", "")):
        msg = f"{what} must not be negative ('{v}')"
    elif re.fullmatch(r"\d{1,3}([,_ ]\d{3})+", v):
        msg = f"'{v}' has thousands separators; write the plain number {re.sub(r'[,_ ]', '', v)}"
    elif re.fullmatch(r"-?\d*\.\d+|-?\d+\.\d*|-?\d+(\.\d*)?[eE][+-]?\d+", v):
        msg = f"{what} must be a whole number, not '{v}'"
    else:
        msg = f"'{v}' is not a whole number of {what}"
    raise InputError(msg, source=source, line=line, field=field_name)


def parse_month(value: str, *, source: str, line: int, field_name: str = "month") -> Month:
    try:
        return Month.parse(value)
    except ValueError:
        raise InputError(f"'{value}' is not a month in the form YYYY-MM",
                         source=source, line=line, field=field_name) from None


def resolve_product(catalog: Catalog, key: str, *, source: str, line: int,
                    field_name: str = "product"):
    p = catalog.get(key.strip())
    if p is None:
        hint = catalog.suggest(key)
        msg = f"unknown product '{key}'" + (f"; did you mean '{hint}'?" if hint else
                                            f" (see `packopt catalog`)")
        raise InputError(msg, source=source, line=line, field=field_name)
    return p


# --------------------------------------------------------------------------- forecast

def parse_forecast(text: str, catalog: Catalog, source: str = "forecast") -> Forecast:
    """Read a long (`product,month,calls`) or wide (`product,YYYY-MM,...`) forecast CSV."""
    rows = _rows(text, source)
    if not rows:
        raise InputError("the forecast file is empty", source=source, line=1, field="header")
    line0, header = rows[0]
    head = [h.lower() for h in header]
    cells: dict[tuple[str, Month], tuple[int, int]] = {}   # (pid, month) -> (calls, line)
    first_line: dict[str, int] = {}

    def put(pid: str, month: Month, calls: int, line: int, fld: str):
        if (pid, month) in cells:
            raise InputError(f"duplicate row for {pid} {month} (first given on line "
                             f"{cells[(pid, month)][1]})", source=source, line=line, field=fld)
        cells[(pid, month)] = (calls, line)
        first_line.setdefault(pid, line)

    if head == ["product", "month", "calls"]:
        for line, row in rows[1:]:
            if len(row) > 3 and re.fullmatch(r"\d{1,3}(,\d{3})+", ",".join(row[2:])):
                # an unquoted 25,000 splits into two CSV fields: say what happened
                parse_count(",".join(row[2:]), source=source, line=line, field_name="calls")
            if len(row) != 3:
                raise InputError(f"expected 3 fields (product,month,calls), found {len(row)}",
                                 source=source, line=line,
                                 field="calls" if len(row) < 3 else "row")
            prod = resolve_product(catalog, row[0], source=source, line=line)
            month = parse_month(row[1], source=source, line=line)
            calls = parse_count(row[2], source=source, line=line, field_name="calls")
            put(prod.id, month, calls, line, "month")
    elif head and head[0] == "product" and len(head) > 1:
        months = []
        for col, h in enumerate(header[1:], start=2):
            try:
                months.append(Month.parse(h))
            except ValueError:
                if col == 2 and h.lower() in ("month", "calls"):
                    # a long-form header gone wrong: name its first wrong (or missing) column
                    want = ["product", "month", "calls"]
                    bad = next((c for c, w in zip(header, want) if c.lower() != w), None)
                    bad = bad or (header[3] if len(header) > 3 else want[len(header)])
                    raise InputError("header must be exactly product,month,calls (long form) or "
                                     "product,YYYY-MM,... (wide form)", source=source,
                                     line=line0, field=bad) from None
                raise InputError(f"column header '{h}' is not a month in the form YYYY-MM",
                                 source=source, line=line0, field=h) from None
        if len(set(months)) != len(months):
            dup = next(m for m in months if months.count(m) > 1)
            raise InputError(f"month {dup} appears twice in the header", source=source,
                             line=line0, field=str(dup))
        for line, row in rows[1:]:
            if len(row) != len(header):
                hint = ("; a number with thousands separators (25,000) splits into two "
                        "fields: write it plainly (25000)"
                        if len(row) > len(header) and any(re.fullmatch(r"\d{3}", c)
                                                          for c in row[2:]) else "")
                raise InputError(f"expected {len(header)} fields as in the header, "
                                 f"found {len(row)}{hint}", source=source, line=line,
                                 field=header[min(len(row), len(header) - 1)])
            prod = resolve_product(catalog, row[0], source=source, line=line)
            for h, month, v in zip(header[1:], months, row[1:]):
                calls = parse_count(v, source=source, line=line, field_name=h)
                put(prod.id, month, calls, line, "product")
    else:
        raise InputError("header must be product,month,calls (long form) or "
                         "product,YYYY-MM,YYYY-MM,... (wide form)",
                         source=source, line=line0, field=header[0] if header else "header")

    return assemble_forecast(cells, first_line, catalog, source, line0)


def assemble_forecast(cells: dict, first_line: dict, catalog: Catalog, source: str,
                      header_line: int) -> Forecast:
    """A Forecast from (product, month) -> (calls, line) cells, checking the horizon.

    Every product must cover the same contiguous run of months.
    """
    line0 = header_line
    if not cells:
        raise InputError("the forecast has a header but no data rows", source=source,
                         line=line0 + 1, field="product")
    all_months = sorted({m for _, m in cells})
    start, end = all_months[0], all_months[-1]
    n = end - start + 1
    for pid in first_line:
        for i in range(n):
            m = start + i
            if (pid, m) not in cells:
                raise InputError(f"no calls given for {pid} in {m}: every product must cover "
                                 f"every month from {start} to {end}", source=source,
                                 line=first_line[pid], field="month")
    order = [p.id for p in catalog.products if p.id in first_line]
    demand = tuple((pid, tuple(cells[(pid, start + i)][0] for i in range(n))) for pid in order)
    return Forecast(start, n, demand, source)




def read_forecast(path: str | Path, catalog: Catalog) -> Forecast:
    return parse_forecast(read_text(path, "forecast"), catalog, str(path))


# --------------------------------------------------------------------------- plans

def _check_purchase(catalog: Catalog, pid: str, size: int, *, source: str, line: int):
    prod = catalog.product(pid)
    if not prod.has_packs:
        raise InputError(f"{pid} is postpaid only: it has no packs to buy",
                         source=source, line=line, field="product")
    if prod.pack(size) is None:
        sizes = ", ".join(str(p.calls) for p in prod.packs)
        raise InputError(f"{pid} has no pack of {size} calls (sizes: {sizes})",
                         source=source, line=line, field="size")


def parse_plan_csv(text: str, catalog: Catalog, source: str = "plan") -> Plan:
    rows = _rows(text, source)
    if not rows:
        raise InputError("the plan file is empty", source=source, line=1, field="header")
    line0, header = rows[0]
    # Extra columns after the four (e.g. the `cost` that `plan --format csv` writes) are ignored.
    if [h.lower() for h in header[:4]] != ["product", "month", "size", "count"]:
        raise InputError("header must be product,month,size,count", source=source,
                         line=line0, field=header[0] if header else "header")
    out = []
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise InputError(f"expected {len(header)} fields as in the header, found {len(row)}",
                             source=source, line=line, field="row")
        prod = resolve_product(catalog, row[0], source=source, line=line)
        month = parse_month(row[1], source=source, line=line)
        size = parse_count(row[2], source=source, line=line, field_name="size",
                           what="size", minimum=1)
        count = parse_count(row[3], source=source, line=line, field_name="count", what="count")
        _check_purchase(catalog, prod.id, size, source=source, line=line)
        if count:
            out.append(Purchase(prod.id, month, size, count, line))
    return Plan(tuple(out), source)


def parse_plan_json(text: str, catalog: Catalog, source: str = "plan") -> Plan:
    """Read the JSON that `plan --format json` writes (its products[].purchases)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON ({e.msg})", source=source, line=e.lineno) from None
    if not isinstance(data, dict) or not isinstance(data.get("products"), list):
        raise InputError("expected the JSON written by `packopt plan --format json` "
                         "(an object with a 'products' list)", source=source, field="products")
    lines = text.splitlines()

    def line_of(needle: str, start: int = 0, nth: int = 0) -> int | None:
        """Line of the nth occurrence of needle from line index start (several may share one)."""
        for i in range(start, len(lines)):
            nth -= lines[i].count(needle)
            if nth < 0:
                return i + 1
        return None

    out = []
    cursor = 0
    for k, entry in enumerate(data["products"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("product"), str):
            raise InputError(f"products[{k}] needs a 'product' name", source=source,
                             field=f"products[{k}].product")
        pl = line_of(f'"{entry["product"]}"', cursor) or line_of(f'"{entry["product"]}"')
        cursor = pl or cursor
        prod = resolve_product(catalog, entry["product"], source=source, line=pl,
                               field_name=f"products[{k}].product")
        purchases = entry.get("purchases", [])
        if not isinstance(purchases, list):
            raise InputError("purchases must be a list", source=source, line=pl,
                             field=f"products[{k}].purchases")
        for j, p in enumerate(purchases):
            fld = f"products[{k}].purchases[{j}]"
            if not isinstance(p, dict):
                raise InputError("each purchase must be an object", source=source, line=pl,
                                 field=fld)
            mline = line_of('"month"', (pl or 1) - 1, j) or pl
            try:
                month = Month.parse(str(p.get("month", "")))
            except ValueError:
                raise InputError(f"'{p.get('month')}' is not a month in the form YYYY-MM",
                                 source=source, line=mline, field=fld + ".month") from None
            vals = {}
            for key in ("size", "count"):
                v = p.get(key)
                if isinstance(v, bool) or not isinstance(v, int) or v < (1 if key == "size" else 0):
                    raise InputError(f"{key} must be a {'positive' if key == 'size' else 'non-negative'}"
                                     f" whole number, not {v!r}", source=source, line=mline,
                                     field=f"{fld}.{key}")
                vals[key] = v
            _check_purchase(catalog, prod.id, vals["size"], source=source, line=mline or 0)
            if vals["count"]:
                out.append(Purchase(prod.id, month, vals["size"], vals["count"], mline))
    return Plan(tuple(out), source)


def read_plan(path: str | Path, catalog: Catalog) -> Plan:
    """A plan from CSV, or from the JSON that `plan --format json` writes."""
    text = read_text(path, "plan")
    if text.lstrip().startswith("{"):
        return parse_plan_json(text, catalog, str(path))
    return parse_plan_csv(text, catalog, str(path))


# --------------------------------------------------------------------------- holdings

def parse_holdings(text: str, catalog: Catalog, source: str = "holdings") -> tuple[Holding, ...]:
    """Packs already owned: CSV `product,expires,calls_left` (expires = last usable month)."""
    rows = _rows(text, source)
    if not rows:
        raise InputError("the holdings file is empty", source=source, line=1, field="header")
    line0, header = rows[0]
    if [h.lower() for h in header] != ["product", "expires", "calls_left"]:
        raise InputError("header must be product,expires,calls_left", source=source,
                         line=line0, field=header[0] if header else "header")
    out = []
    for line, row in rows[1:]:
        if len(row) != 3:
            raise InputError(f"expected 3 fields (product,expires,calls_left), found {len(row)}",
                             source=source, line=line, field="row")
        prod = resolve_product(catalog, row[0], source=source, line=line)
        if not prod.has_packs:
            raise InputError(f"{prod.id} is postpaid only: it has no packs to hold",
                             source=source, line=line, field="product")
        expires = parse_month(row[1], source=source, line=line, field_name="expires")
        calls = parse_count(row[2], source=source, line=line, field_name="calls_left")
        if calls:
            out.append(Holding(prod.id, expires, calls, line))
    return tuple(out)


def read_holdings(path: str | Path, catalog: Catalog) -> tuple[Holding, ...]:
    return parse_holdings(read_text(path, "holdings"), catalog, str(path))


def check_plan_against(plan: Plan, forecast: Forecast) -> None:
    """Purchases must fall inside the forecast's horizon and name forecast products."""
    end = forecast.start + (forecast.months - 1)
    known = set(forecast.products())
    for p in plan.purchases:
        if not (forecast.start <= p.month <= end):
            raise InputError(f"purchase month {p.month} is outside the forecast horizon "
                             f"{forecast.start}..{end}", source=plan.source, line=p.line,
                             field="month")
        if p.product not in known:
            raise InputError(f"{p.product} is not in the forecast {forecast.source}",
                             source=plan.source, line=p.line, field="product")
