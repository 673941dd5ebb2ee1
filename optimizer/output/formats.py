"""Numbers as every output format writes them: money, counts, rates, percentages.

The one place that rounds and formats: JSON numbers (`money`, `pct`, `share`), CSV money
(`csv_money`) and table strings with thousands separators (`fmt_money`, `fmt_int`, ...).
Money stays `Decimal` until one of these is applied.
"""

from __future__ import annotations

from decimal import Decimal

CENT = Decimal("0.01")


def money(x: Decimal) -> float:
    """A JSON number for an amount of money: exact to the fen, never -0.0."""
    return float(Decimal(x).quantize(CENT)) + 0.0


def rate_number(x: Decimal | None) -> float | None:
    """A per-call rate as a JSON number (rates keep all their decimals)."""
    return None if x is None else float(x) + 0.0


def price_number(x: Decimal) -> float:
    """A catalog's pack price as a JSON number: all its decimals, as rates keep theirs (a
    price of 0.003 rounded to the fen would read as a free pack)."""
    return float(Decimal(x)) + 0.0


def pct(part: Decimal, whole: Decimal) -> float | None:
    """part / whole in percent, 2 decimals; None when whole is zero."""
    if not whole:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(CENT)) + 0.0


def share(part: Decimal, whole: Decimal) -> float | None:
    """part / whole as a fraction with 4 decimals; None when whole is zero."""
    if not whole:
        return None
    return float((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))) + 0.0


def fmt_money(x: Decimal) -> str:
    """'1,234.50': thousands separators and 2 decimals, exact."""
    s = f"{Decimal(x).quantize(CENT):,.2f}"
    return "0.00" if s == "-0.00" else s


def fmt_price(x: Decimal) -> str:
    """A catalog's pack price: as `fmt_money`, but with the decimals it has beyond the fen
    ('0.003', '1,234.567'), never rounded to another price."""
    d = Decimal(x)
    if d == d.quantize(CENT):
        return fmt_money(d)
    return f"{d:,f}".rstrip("0")          # (not normalize(): it rounds to 28 digits)


def fmt_int(n: int) -> str:
    return f"{n:,}"


def fmt_pct(p: float | None) -> str:
    return "—" if p is None else f"{p:.1f}%"


def fmt_rate(x: Decimal) -> str:
    """A rate with at least 2 decimals and no trailing noise: 0.15, 0.06, 0.0035."""
    s = format(x.normalize(), "f")
    if "." not in s:
        s += ".00"
    elif len(s.split(".")[1]) < 2:
        s += "0"
    return s


def csv_money(x: Decimal) -> str:
    """Money in CSV: plain, 2 decimals, no separators."""
    s = str(Decimal(x).quantize(CENT))
    return "0.00" if s == "-0.00" else s


def csv_price(x: Decimal) -> str:
    """A catalog's pack price in CSV: as `csv_money`, with the decimals it has beyond the fen."""
    d = Decimal(x)
    return csv_money(d) if d == d.quantize(CENT) else format(d, "f").rstrip("0")
