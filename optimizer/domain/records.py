"""Forecasts, purchase plans, holdings and scenarios: the records every layer passes around.

Frozen dataclasses that check themselves on construction, so a record built in code is
refused with the same InputError wording the readers in `optimizer.io` use for a file.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from functools import cached_property
from decimal import ROUND_HALF_UP, Decimal

from ..exceptions import InputError
from .months import Month


def _is_whole(value) -> bool:
    """An integer (NumPy's too) but not a bool: True is 1 to Python, never a count here."""
    return type(value) is int or (isinstance(value, numbers.Integral)
                                  and not isinstance(value, bool))


def _check_count(value, what: str, minimum: int, **where) -> None:
    """A whole number >= minimum, worded as the CSV readers word it."""
    if not _is_whole(value):
        raise InputError(f"{what} must be a whole number, not {value!r}", **where)
    if value < minimum:
        raise InputError(f"{what} must not be negative ({value})" if minimum == 0 else
                         f"{what} must be at least {minimum}, not {value}", **where)


def _check_month(value, what: str, **where) -> None:
    if not isinstance(value, Month):
        raise InputError(f"{what} must be a Month (such as Month.parse('2027-01')), "
                         f"not {value!r}", **where)


MAX_CALLS = 10 ** 15      # a month's calls, and any count an input gives, at most


@dataclass(frozen=True)
class Forecast:
    """Monthly calls per product over a contiguous horizon starting at `start`."""

    start: Month
    months: int
    demand: tuple[tuple[str, tuple[int, ...]], ...]   # (product id, calls per month)
    source: str = "forecast"

    def __post_init__(self):
        _check_month(self.start, "start", source=self.source, field="start")
        _check_count(self.months, "months", 1, source=self.source, field="months")
        seen = set()
        for pid, calls in self.demand:
            if pid in seen:
                raise InputError(f"product {pid} is given twice", source=self.source,
                                 field="product")
            seen.add(pid)
            if len(calls) != self.months:
                self._wrong_length(pid, len(calls))
            # one type test and one comparison per month: readers build big forecasts
            bad = next((i for i, c in enumerate(calls)
                        if (type(c) is not int and not _is_whole(c)) or c < 0
                        or c > MAX_CALLS), None)
            if bad is not None:
                _check_count(calls[bad], "calls", 0, source=self.source,
                             field=f"{pid} {self.month(bad)}")
                raise InputError("too large: more than 10^15 calls, the most packopt takes",
                                 source=self.source, field=f"{pid} {self.month(bad)}")

    def _wrong_length(self, pid: str, given: int):
        if given < self.months:
            raise InputError(f"no calls given for {pid} in {self.month(given)}: every product "
                             f"must cover every month from {self.start} to {self.end}",
                             source=self.source, field="month")
        raise InputError(f"{given} months of calls given for {pid}, but the horizon "
                         f"{self.start} to {self.end} has {self.months}",
                         source=self.source, field="month")

    @property
    def end(self) -> Month:
        """The horizon's last month."""
        return self.start + (self.months - 1)

    def products(self) -> list[str]:
        return [pid for pid, _ in self.demand]

    @cached_property
    def _calls(self) -> dict[str, tuple[int, ...]]:
        return dict(self.demand)

    def calls(self, pid: str) -> tuple[int, ...]:
        return self._calls[pid]

    def month(self, index: int) -> Month:
        return self.start + index

    def index(self, month: Month) -> int:
        return month - self.start

    def scaled(self, factor) -> "Forecast":
        """Demand multiplied by `factor` (a Fraction or Decimal), rounded half up per month.
        A factor taking a month past 10^15 calls is refused as the scale's fault, not the
        file's (its message named a cell of the forecast, which held 120,000)."""
        f = Decimal(str(factor))
        demand = tuple(
            (pid, tuple(int((Decimal(c) * f).to_integral_value(ROUND_HALF_UP)) for c in calls))
            for pid, calls in self.demand)
        for pid, calls in demand:
            k = next((k for k, c in enumerate(calls) if c > MAX_CALLS), None)
            if k is not None:
                raise InputError(f"scale {f.normalize():f} takes {pid}'s calls in "
                                 f"{self.month(k)} past 10^15, the most packopt takes",
                                 field="scale")
        return Forecast(self.start, self.months, demand, self.source)


@dataclass(frozen=True)
class Purchase:
    """`count` packs of `size` calls of `product`, bought at the start of `month`."""

    product: str
    month: Month
    size: int
    count: int
    line: int | None = field(default=None, compare=False)

    def __post_init__(self):
        _check_month(self.month, "month", line=self.line, field="month")
        _check_count(self.size, "size", 1, line=self.line, field="size")
        _check_count(self.count, "count", 0, line=self.line, field="count")


@dataclass(frozen=True)
class Plan:
    purchases: tuple[Purchase, ...]
    source: str = "plan"

    @cached_property
    def _by_product(self) -> dict[str, list[Purchase]]:
        out: dict[str, list[Purchase]] = {}
        for p in self.purchases:
            out.setdefault(p.product, []).append(p)
        return out

    def for_product(self, pid: str) -> list[Purchase]:
        return list(self._by_product.get(pid, ()))


@dataclass(frozen=True)
class Holding:
    """Pack balance already owned: `calls_left` calls usable up to and including `expires`."""

    product: str
    expires: Month
    calls_left: int
    line: int | None = field(default=None, compare=False)

    def __post_init__(self):
        _check_month(self.expires, "expires", line=self.line, field="expires")
        _check_count(self.calls_left, "calls_left", 0, line=self.line, field="calls_left")


@dataclass(frozen=True)
class Scenario:
    """One demand forecast among several, with its (positive) weight."""

    name: str
    weight: Decimal
    forecast: Forecast

    def __post_init__(self):
        w = self.weight
        if not isinstance(w, Decimal) or not w.is_finite():
            raise InputError(f"scenario '{self.name}' has weight {w!r}; a weight is a finite "
                             f"Decimal, such as Decimal('0.5')", field="weight")
        if w <= 0:
            raise InputError(f"scenario '{self.name}' has weight {w}; weights must be "
                             f"positive", field="weight")
        if not isinstance(self.forecast, Forecast):
            raise InputError(f"scenario '{self.name}' needs a Forecast, not "
                             f"{self.forecast!r}", field="forecast")
