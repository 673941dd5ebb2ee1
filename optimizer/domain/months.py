"""Calendar months (`Month`) as plain integers, so horizons are simple ranges.

A month is built one way: `Month.parse('2027-01')` from text or `Month.of(2027, 1)` from
numbers; its repr prints the first form.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$", re.A)


_new_month = object.__new__


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month; `ordinal` counts months since year 0 so arithmetic is integer.

    `Month(ordinal)` takes that count only: `Month('2027-01')` is refused rather than
    building a month that fails later, deep in the planner.
    """

    ordinal: int

    def __post_init__(self):
        if type(self.ordinal) is not int:
            if isinstance(self.ordinal, bool) or not hasattr(type(self.ordinal), "__index__"):
                raise TypeError(f"Month() takes a month count, not {self.ordinal!r}: build a "
                                f"month with Month.parse('2027-01') or Month.of(2027, 1)")
            object.__setattr__(self, "ordinal", operator.index(self.ordinal))   # NumPy ints

    @classmethod
    def parse(cls, text: str) -> "Month":
        """Parse strict `YYYY-MM`; raises ValueError otherwise."""
        m = _MONTH_RE.match(text.strip())
        if not m:
            raise ValueError(f"'{text}' is not a month in the form YYYY-MM")
        return cls.of(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, year: int, month: int) -> "Month":
        """The month `month` (1-12) of `year`."""
        if not 1 <= month <= 12:
            raise ValueError(f"month must be 1 to 12, not {month}")
        return cls(year * 12 + month - 1)

    @classmethod
    def is_month(cls, text: str) -> bool:
        return bool(_MONTH_RE.match(text.strip()))

    def __add__(self, months: int) -> "Month":
        if type(months) is int:
            # The common case, without __init__'s checks (an int plus an int is an int).
            m = _new_month(Month)
            m.__dict__["ordinal"] = self.ordinal + months
            return m
        return Month(self.ordinal + operator.index(months))

    def __eq__(self, other) -> bool:
        # As the dataclass's would be, less the tuples.
        if other.__class__ is Month:
            return self.ordinal == other.ordinal
        return NotImplemented

    def __hash__(self) -> int:
        # As the dataclass's hash would be, less the tuple (forecasts key cells by month).
        return hash(self.ordinal)

    def __sub__(self, other: "Month") -> int:
        return self.ordinal - other.ordinal

    def __str__(self) -> str:
        return f"{self.ordinal // 12:04d}-{self.ordinal % 12 + 1:02d}"

    def __repr__(self) -> str:
        return f"Month.parse('{self}')"


# The last month packopt reads or writes: "YYYY-MM" has four digits of year, and months
# after it (a settlement, an expiry) are left out of outputs or said in words.
LAST_MONTH = Month.of(9999, 12)


def months_text(n: int) -> str:
    """A number of months in words: '1 month', '12 months' (text said '1 months')."""
    return f"{n} month{'' if n == 1 else 's'}"
