"""Demand scenarios: alternative forecasts with weights, read from CSV or a workbook sheet.

Two forms: `scenario,weight,product,month,calls` (each scenario a full forecast) or
`scenario,weight,scale` (each scenario the base forecast times a multiplier). Columns after
those are ignored with a note; every bad cell is reported at once.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from ..domain.catalog import Catalog
from ..domain.records import Forecast, Scenario
from ..exceptions import InputError
from .forecast import assemble_forecast
from .months import day_first
from .text import (SHEET_IN_PATH, Problems, Table, csv_rows, ignored_columns_note, is_total,
                   parse_count, parse_decimal, parse_month, read_table, resolve_product,
                   shown, too_large, too_large_words, total_row_note, trim, unsaved_formula,
                   wrong_column)

_FULL = ["scenario", "weight", "product", "month", "calls"]
_SCALE = ["scenario", "weight", "scale"]


def _positive(value: str, what: str, *, source: str, line: int) -> Decimal:
    text = value.strip()
    d = parse_decimal(text.removeprefix("-"), plain=True)    # '-1' is plain, but negative
    if d is None and text.startswith("="):     # (a workbook saved without its values)
        raise InputError(unsaved_formula(shown(text), what), source=source, line=line,
                         field=what)
    if d is None or text.endswith("."):     # '5.' has never been a weight or scale
        comma = (f" (write the decimal point as '.': {text.replace(',', '.')})"
                 if re.fullmatch(r"\d*,\d+", text) else "")
        raise InputError(f"{what} '{shown(value)}' is not a plain decimal number{comma}",
                         source=source, line=line, field=what)
    if d == 0 or text.startswith("-"):
        raise InputError(f"{what} must be positive, not {shown(text)}", source=source,
                         line=line, field=what)
    if too_large(d):
        raise InputError(too_large_words(what, value), source=source, line=line, field=what)
    return d


def parse_scenarios(text: str, catalog: Catalog, base: Forecast | None,
                    source: str = "scenarios", *,
                    notes: list[str] | None = None) -> tuple[Scenario, ...]:
    """Scenarios from CSV text: full forecasts, or multiples of `base` (scale form)."""
    return scenarios_from_table(Table(source, csv_rows(text, source, "scenarios")), catalog,
                                base, notes)


def scenarios_from_table(table: Table, catalog: Catalog, base: Forecast | None,
                         notes: list[str] | None = None) -> tuple[Scenario, ...]:
    """Scenarios from a table read from CSV or a workbook sheet; notes go to `notes`.

    The header decides the form; the rows are then sorted out once and read by the form's
    own step, so that every bad cell is reported together.
    """
    notes = [] if notes is None else notes
    notes.extend(table.notes)
    rows, source = table.rows, table.source
    line0 = rows[0][0]
    form = _scenario_form(rows, base, source, notes,
                          table.sheet_hint(SHEET_IN_PATH))
    problems = Problems()
    weights: dict[str, tuple[Decimal, int]] = {}
    data = _scenario_rows(rows, form, source, problems, notes)
    if form == _SCALE:
        return _scale_scenarios(data, base, weights, source, problems)
    return _full_scenarios(data, catalog, weights, source, line0, problems, base)


def _scenario_form(rows, base: Forecast | None, source: str, notes: list[str],
                   sheet_hint: str | None = None) -> list[str]:
    """Which form the header names (_FULL or _SCALE), checked before any row is read: a
    header of neither, a file of no scenarios, or scale scenarios without a forecast stop
    here. Columns after the form's go to a note."""
    line0, header = rows[0]
    head = [h.lower() for h in header]
    form = _SCALE if head[:3] == _SCALE else _FULL if head[:5] == _FULL else None
    if form is None:
        raise InputError("header must be scenario,weight,product,month,calls (full forecasts) "
                         "or scenario,weight,scale (multiples of the forecast)", source=source,
                         line=line0, field=wrong_column(header, _FULL if "product" in head
                                                        or len(head) > 3 else _SCALE),
                         hint=sheet_hint)
    if extra := [h for h in header[len(form):] if h]:
        notes.append(ignored_columns_note(source, extra))
    if len(rows) == 1:
        raise InputError("the scenarios file has a header but no scenarios", source=source,
                         line=line0 + 1, field="scenario")
    if form == _SCALE and base is None:
        raise InputError("scale scenarios multiply a forecast: give FORECAST too",
                         source=source, line=line0, field="scale")
    return form


def _scenario_rows(rows, form: list[str], source: str, problems: Problems,
                   notes: list[str]) -> list[tuple[int, list[str]]]:
    """The data rows as (line, fields): rows of the wrong width or without a scenario name
    go to `problems`, Total rows (and rows without a product) of the full form to a note."""
    header = rows[0][1]
    head = [h.lower() for h in header]
    data = []
    for line, row in rows[1:]:
        row = trim(row, len(header))
        if len(row) < len(form) or len(row) > len(header):
            problems.add(InputError(f"expected {len(header)} fields ({','.join(head)}), found "
                                    f"{len(row)}", source=source, line=line, field="row"))
        elif form == _FULL and (not row[2] or is_total(row[2])):
            notes.append(total_row_note(source, line, row[2], ()))
        elif not row[0]:
            problems.add(InputError("scenario name is empty", source=source, line=line,
                                    field="scenario"))
        else:
            data.append((line, row))
    return data


def _weight_of(weights: dict[str, tuple[Decimal, int]], name: str, raw: str, line: int,
               source: str, problems: Problems) -> Decimal | None:
    """The weight on a row of scenario `name`; a scenario's rows must all give the same
    one, so the first (with its line) is kept in `weights` to check the others against."""
    w = problems(_positive, raw, "weight", source=source, line=line)
    if w is None:
        return None
    if name in weights and weights[name][0] != w:
        problems.add(InputError(f"scenario '{name}' has weight {weights[name][0]} on line "
                                f"{weights[name][1]} but {w} here", source=source,
                                line=line, field="weight"))
        return None
    weights.setdefault(name, (w, line))
    return w


def _scale_scenarios(data, base: Forecast, weights: dict[str, tuple[Decimal, int]],
                     source: str, problems: Problems) -> tuple[Scenario, ...]:
    """Scale form: one row a scenario, the base forecast times its scale."""
    out = []
    for line, row in data:
        name = row[0]
        if name in weights:
            problems.add(InputError(f"scenario '{name}' is given twice (first on line "
                                    f"{weights[name][1]})", source=source, line=line,
                                    field="scenario"))
            continue
        w = _weight_of(weights, name, row[1], line, source, problems)
        scale = problems(_positive, row[2], "scale", source=source, line=line)
        scaled = None if scale is None else problems(_scaled, base, scale, source, line)
        if w is not None and scaled is not None:
            out.append(Scenario(name, w, scaled))
    problems.check()
    return tuple(out)


def _full_scenarios(data, catalog: Catalog, weights: dict[str, tuple[Decimal, int]],
                    source: str, line0: int, problems: Problems,
                    base: Forecast | None = None) -> tuple[Scenario, ...]:
    """Full form: each scenario's rows make a whole forecast, checked like one (every
    product over the same months), in the order the scenarios first appear. With `base`,
    a row outside its horizon is named at its own line (one row past it made the other
    products of its scenario 'miss' that month, blamed on their first lines)."""
    order = day_first(row[3] for _, row in data)
    cells: dict[str, dict] = {}
    first: dict[str, dict] = {}
    names: list[str] = []
    outside: dict[str, list] = {}       # rows past `base`'s horizon, per scenario
    bad: dict[str, set] = {}            # (product, month) of rows whose calls are bad
    unplaced = False                    # a row whose product or month is unreadable
    for line, row in data:
        name = row[0]
        if name not in names:
            names.append(name)
        _weight_of(weights, name, row[1], line, source, problems)
        prod = problems(resolve_product, catalog, row[2], source=source, line=line)
        month = problems(parse_month, row[3], source=source, line=line, day_is_first=order)
        calls = problems(parse_count, row[4], source=source, line=line, field_name="calls")
        if prod is None or month is None:
            unplaced = True
            continue
        if calls is None:   # (its month still counts: the scenario's gaps told with it)
            bad.setdefault(name, set()).add((prod.id, month))
            first.setdefault(name, {}).setdefault(prod.id, line)
            continue
        if base is not None and not base.start <= month <= base.end:
            outside.setdefault(name, []).append((line, month, prod, calls))
            continue
        sc = cells.setdefault(name, {})
        if (prod.id, month) in sc:
            problems.add(InputError(f"duplicate row for scenario '{name}', {prod.id} {month} "
                                    f"(first on line {sc[(prod.id, month)][1]})",
                                    source=source, line=line, field="month"))
            continue
        sc[(prod.id, month)] = (calls, line)
        first.setdefault(name, {}).setdefault(prod.id, line)
    for name, rows in outside.items():
        if name in cells:       # (a scenario wholly elsewhere is told so once, below)
            for line, month, _, _ in rows:
                problems.add(InputError(f"scenario '{name}' gives {month}, outside the "
                                        f"forecast's months ({base.start} to {base.end})",
                                        source=source, line=line, field="month"))
        else:
            for line, month, prod, calls in rows:
                cells.setdefault(name, {})[(prod.id, month)] = (calls, line)
                first.setdefault(name, {}).setdefault(prod.id, line)
    if unplaced:
        problems.check()
    out = []
    for name in names:
        if name not in cells:       # (every row of it bad: told already)
            problems.check()
        # (its problems joined to the file's, which it raises when there are any)
        f = assemble_forecast(cells[name], first.get(name, {}), catalog, source, line0,
                              problems, bad.get(name, frozenset()))
        out.append(Scenario(name, weights[name][0], f))
    problems.check()
    return tuple(out)


def read_scenarios(path: str | Path, catalog: Catalog, base: Forecast | None, *,
                   notes: list[str] | None = None) -> tuple[Scenario, ...]:
    """Scenarios from a CSV file or a workbook (its first sheet, or `book.xlsx#Sheet`);
    with `base`, each must cover its horizon and products."""
    table = read_table(path, "scenarios")
    scenarios = scenarios_from_table(table, catalog, base, notes)
    if base is not None:
        first = {}                      # each scenario's first row, for the message's line
        for line, row in table.rows[1:]:
            if row and row[0]:
                first.setdefault(row[0], line)
        check_scenarios(scenarios, base, table.source, first)
    return scenarios


def check_scenarios(scenarios, base: Forecast, source: str,
                    lines: dict[str, int] | None = None) -> None:
    """Every scenario covers the forecast's horizon and exactly its products; a scenario
    that does not is blamed on its line in `lines` (its first row), when given."""
    problems = Problems()
    lines = lines or {}
    for s in scenarios:
        f = s.forecast
        line = lines.get(s.name)
        if (f.start, f.months) != (base.start, base.months):
            rows = "" if line is None else ", whose rows start here,"
            problems.add(InputError(f"scenario '{s.name}'{rows} covers {f.start}..{f.end} "
                                    f"but the forecast covers {base.start}..{base.end}",
                                    source=source, line=line, field="month"))
        elif sorted(f.products()) != sorted(base.products()):
            missing = sorted(set(base.products()) - set(f.products()))
            extra = sorted(set(f.products()) - set(base.products()))
            detail = "; ".join(x for x in (
                f"missing {', '.join(missing)}" if missing else "",
                f"not in the forecast: {', '.join(extra)}" if extra else "") if x)
            problems.add(InputError(f"scenario '{s.name}' has other products than the "
                                    f"forecast ({detail})", source=source, line=line,
                                    field="product"))
    problems.check()


def _scaled(base: Forecast, scale, source: str, line: int) -> Forecast:
    """`base` times `scale`, a scale past what packopt takes named at its own cell; the
    scenario's forecast is this file's (a limit it passes was blamed on the forecast's)."""
    try:
        return replace(base.scaled(scale), source=source)
    except InputError as e:
        raise InputError(e.message, source=source, line=line, field="scale") from None
