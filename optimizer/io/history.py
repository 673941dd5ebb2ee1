"""Usage history for `forecast`, `plan --history` and `backtest` (STAND-IN).

A minimal reader with the interface of the full history reader (issue #12, item 1): it
reads only the plain monthly forecast formats (long or wide, CSV or .xlsx) through
`io/forecast.py`. The full reader (daily rows, FOCUS exports, column and product mappings,
partial-month detection) replaces this module at merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..domain.catalog import Catalog
from ..domain.months import Month
from ..domain.records import Forecast
from ..exceptions import InputError
from .forecast import read_forecast


@dataclass(frozen=True)
class History:
    usage: Forecast       # monthly calls per catalog product over the history's months
                          # (contiguous; months before a product's first usage are 0)
    partial: tuple[tuple[str, Month], ...] = ()   # (product id, month) partial first/last
    unmapped: tuple[tuple[str, int], ...] = ()    # (label, total calls) mapped to no product
    notes: tuple[str, ...] = ()                   # one line each, for stderr


def read_history(path: str | Path, catalog: Catalog, *, columns: str | None = None,
                 mapping=None, sheet: str | None = None) -> History:
    """The monthly usage in the file at `path` (plain monthly forecast formats only)."""
    if columns is not None or mapping is not None:
        raise InputError("--columns and --map need the full history reader",
                         source=str(path), field="columns" if columns else "map")
    notes: list[str] = []
    usage = read_forecast(path, catalog, sheet=sheet, notes=notes)
    return History(usage, (), (), tuple(notes))
