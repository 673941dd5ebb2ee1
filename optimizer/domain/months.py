"""Calendar months as plain integers, so horizons are simple ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month; `ordinal` counts months since year 0 so arithmetic is integer."""

    ordinal: int

    @classmethod
    def parse(cls, text: str) -> "Month":
        """Parse strict `YYYY-MM`; raises ValueError otherwise."""
        m = _MONTH_RE.match(text.strip())
        if not m:
            raise ValueError(f"'{text}' is not a month in the form YYYY-MM")
        return cls(int(m.group(1)) * 12 + int(m.group(2)) - 1)

    @classmethod
    def is_month(cls, text: str) -> bool:
        return bool(_MONTH_RE.match(text.strip()))

    def __add__(self, months: int) -> "Month":
        return Month(self.ordinal + months)

    def __sub__(self, other: "Month") -> int:
        return self.ordinal - other.ordinal

    def __str__(self) -> str:
        return f"{self.ordinal // 12:04d}-{self.ordinal % 12 + 1:02d}"

    def __repr__(self) -> str:
        return f"Month('{self}')"
