"""Usage histories built in the tests (seeded): the 36-month history of five products of
issue #12's "Done when" (seasonal, growing, flat, spiky, and a product launched 8 months
before the end), and series with a known pattern."""

from __future__ import annotations

import math
import random

from optimizer.domain.months import Month
from optimizer.domain.records import Forecast

START = "2024-01"
PRODUCTS = ("general_print", "id_card", "bank_card", "business_card", "license_plate")


def seasonal(i: int) -> float:
    """A yearly season (peak in spring, trough in autumn) on 3 % a year growth."""
    return 20000 * (1 + 0.4 * math.sin(2 * math.pi * i / 12)) * 1.03 ** (i / 12)


def growing(i: int) -> float:
    return 5000 + 1500 * i


def flat(i: int) -> float:
    return 8000.0


def five_products(months: int = 36, seed: int = 12) -> dict[str, list[int]]:
    """{product: calls per month}: seasonal, growing, flat (each with ±3 % noise), spiky
    (a 60,000-call month every 7 months on 2,000), new (launched 8 months before the end,
    growing)."""
    rng = random.Random(seed)

    def noisy(x: float) -> int:
        return int(round(x * (1 + rng.uniform(-0.03, 0.03))))

    launch = months - 8
    return {
        "general_print": [noisy(seasonal(i)) for i in range(months)],
        "id_card": [noisy(growing(i)) for i in range(months)],
        "bank_card": [noisy(flat(i)) for i in range(months)],
        "business_card": [60000 if i % 7 == 3 else noisy(2000) for i in range(months)],
        "license_plate": [0 if i < launch else noisy(3000 + 800 * (i - launch))
                          for i in range(months)],
    }


def as_forecast(demand: dict[str, list[int]], start: str = START,
                source: str = "history") -> Forecast:
    n = len(next(iter(demand.values())))
    return Forecast(Month.parse(start), n, tuple((p, tuple(c)) for p, c in demand.items()),
                    source)


def csv_text(demand: dict[str, list[int]], start: str = START) -> str:
    """The long form `product,month,calls`."""
    s = Month.parse(start)
    lines = ["product,month,calls"]
    for pid, calls in demand.items():
        lines += [f"{pid},{s + i},{c}" for i, c in enumerate(calls)]
    return "\n".join(lines) + "\n"
