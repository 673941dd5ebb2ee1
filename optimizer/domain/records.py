"""Forecasts, purchase plans, holdings and scenarios: the records every layer passes around.

Readers live in `optimizer.io`; these are plain frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .months import Month


@dataclass(frozen=True)
class Forecast:
    """Monthly calls per product over a contiguous horizon starting at `start`."""

    start: Month
    months: int
    demand: tuple[tuple[str, tuple[int, ...]], ...]   # (product id, calls per month)
    source: str = "forecast"

    @property
    def end(self) -> Month:
        """The horizon's last month."""
        return self.start + (self.months - 1)

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



@dataclass(frozen=True)
class Scenario:
    """One demand forecast among several, with its (positive) weight."""

    name: str
    weight: Decimal
    forecast: Forecast
