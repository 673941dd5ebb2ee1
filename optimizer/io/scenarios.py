"""Demand scenarios: alternative forecasts with weights, read from CSV.

Two forms: `scenario,weight,product,month,calls` (each scenario a full forecast) or
`scenario,weight,scale` (each scenario the base forecast times a multiplier).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from ..domain.catalog import Catalog
from ..domain.records import Forecast, Scenario
from ..exceptions import InputError
from .forecast import assemble_forecast
from .text import csv_rows, parse_count, parse_decimal, parse_month, read_text, resolve_product

_FULL = ["scenario", "weight", "product", "month", "calls"]
_SCALE = ["scenario", "weight", "scale"]


def _positive(value: str, what: str, *, source: str, line: int) -> Decimal:
    d = parse_decimal(value, plain=True)
    if d is None or value.strip().endswith("."):     # '5.' has never been a weight or scale
        raise InputError(f"{what} '{value}' is not a plain decimal number", source=source,
                         line=line, field=what)
    if d <= 0:
        raise InputError(f"{what} must be positive, not {value}", source=source, line=line,
                         field=what)
    return d


def parse_scenarios(text: str, catalog: Catalog, base: Forecast | None,
                    source: str = "scenarios") -> tuple[Scenario, ...]:
    """Scenarios from CSV text: full forecasts, or multiples of `base` (scale form)."""
    rows = csv_rows(text, source, "scenarios")
    line0, header = rows[0]
    head = [h.lower() for h in header]
    if head not in (_FULL, _SCALE):
        raise InputError("header must be scenario,weight,product,month,calls (full forecasts) "
                         "or scenario,weight,scale (multiples of the forecast)", source=source,
                         line=line0, field=next((h for h, want in zip(header, _FULL)
                                                 if h.lower() != want), header[-1]))
    if len(rows) == 1:
        raise InputError("the scenarios file has a header but no scenarios", source=source,
                         line=line0 + 1, field="scenario")
    weights: dict[str, tuple[Decimal, int]] = {}

    def weight_of(name: str, raw: str, line: int) -> None:
        w = _positive(raw, "weight", source=source, line=line)
        if name in weights and weights[name][0] != w:
            raise InputError(f"scenario '{name}' has weight {weights[name][0]} on line "
                             f"{weights[name][1]} but {w} here", source=source, line=line,
                             field="weight")
        weights.setdefault(name, (w, line))

    def name_of(row: list[str], line: int) -> str:
        """The row's scenario name, once the row has the header's fields."""
        if len(row) != len(head):
            raise InputError(f"expected {len(head)} fields ({','.join(head)}), found "
                             f"{len(row)}", source=source, line=line, field="row")
        if not row[0]:
            raise InputError("scenario name is empty", source=source, line=line,
                             field="scenario")
        return row[0]

    if head == _SCALE:
        if base is None:
            raise InputError("scale scenarios multiply a forecast: give FORECAST too",
                             source=source, line=line0, field="scale")
        out = []
        for line, row in rows[1:]:
            name = name_of(row, line)
            if name in weights:
                raise InputError(f"scenario '{name}' is given twice (first on line "
                                 f"{weights[name][1]})", source=source, line=line,
                                 field="scenario")
            weight_of(name, row[1], line)
            scale = _positive(row[2], "scale", source=source, line=line)
            out.append(Scenario(name, weights[name][0], base.scaled(scale)))
        return tuple(out)

    cells: dict[str, dict] = {}
    first: dict[str, dict] = {}
    order: list[str] = []
    for line, row in rows[1:]:
        name = name_of(row, line)
        weight_of(name, row[1], line)
        pid = resolve_product(catalog, row[2], source=source, line=line).id
        month = parse_month(row[3], source=source, line=line)
        calls = parse_count(row[4], source=source, line=line, field_name="calls")
        sc = cells.setdefault(name, {})
        if name not in order:
            order.append(name)
        if (pid, month) in sc:
            raise InputError(f"duplicate row for scenario '{name}', {pid} {month} (first on "
                             f"line {sc[(pid, month)][1]})", source=source, line=line,
                             field="month")
        sc[(pid, month)] = (calls, line)
        first.setdefault(name, {}).setdefault(pid, line)
    return tuple(Scenario(name, weights[name][0],
                          assemble_forecast(cells[name], first[name], catalog, source, line0))
                 for name in order)


def read_scenarios(path: str | Path, catalog: Catalog, base: Forecast | None
                   ) -> tuple[Scenario, ...]:
    """Scenarios from a file; with `base`, each must cover its horizon and products."""
    scenarios = parse_scenarios(read_text(path, "scenarios"), catalog, base, str(path))
    if base is not None:
        check_scenarios(scenarios, base, str(path))
    return scenarios


def check_scenarios(scenarios, base: Forecast, source: str) -> None:
    """Every scenario covers the forecast's horizon and exactly its products."""
    for s in scenarios:
        f = s.forecast
        if (f.start, f.months) != (base.start, base.months):
            raise InputError(f"scenario '{s.name}' covers {f.start}..{f.end} "
                             f"but the forecast covers {base.start}..{base.end}",
                             source=source, field="month")
        if sorted(f.products()) != sorted(base.products()):
            missing = sorted(set(base.products()) - set(f.products()))
            extra = sorted(set(f.products()) - set(base.products()))
            detail = "; ".join(x for x in (
                f"missing {', '.join(missing)}" if missing else "",
                f"not in the forecast: {', '.join(extra)}" if extra else "") if x)
            raise InputError(f"scenario '{s.name}' has other products than the forecast "
                             f"({detail})", source=source, field="product")
