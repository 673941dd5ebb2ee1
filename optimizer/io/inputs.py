"""Everything one command reads, in one call: the catalog in force, then the forecast (or
the bundled example), a plan, holdings and scenarios, each checked against the catalog."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.catalog import Catalog
from ..domain.months import months_text
from ..domain.records import Forecast, Holding, Plan, Scenario
from .forecast import example_forecast, read_forecast
from .options import catalog_in_force


@dataclass(frozen=True)
class Inputs:
    """What a command read; `notes` tell the user how (an encoding other than UTF-8,
    columns ignored, total rows skipped and whether their figures match)."""

    catalog: Catalog
    forecast: Forecast
    plan: Plan | None = None
    holdings: tuple[Holding, ...] = ()
    scenarios: tuple[Scenario, ...] = ()
    notes: tuple[str, ...] = ()
    # A warning per `cost` the plan file states that the bill does not use (one that
    # disagrees with the catalog or is not a number), for the bill's warnings.
    plan_warnings: tuple[str, ...] = ()


def read_inputs(forecast: str | None, *, catalog: str | None = None,
                tier_basis: str | None = None, negotiated_rates=(), plan: str | None = None,
                holdings: str | None = None, scenarios: str | None = None,
                sheet: str | None = None) -> Inputs:
    """Read the files a command was given (paths; None for those not given). Without a
    forecast path, the bundled example forecast. Each file may be CSV or a workbook;
    `sheet` names the forecast workbook's sheet (default: the first)."""
    cat = catalog_in_force(catalog, tier_basis, negotiated_rates)
    notes: list[str] = []
    fc = (read_forecast(forecast, cat, sheet=sheet, notes=notes) if forecast is not None
          else example_forecast(cat))
    # The readers of the optional files load only when those files are given.
    if plan:
        from .plans import read_plan
    if holdings:
        from .holdings import read_holdings
    if scenarios:
        from .scenarios import read_scenarios
    held = read_holdings(holdings, cat, notes=notes) if holdings else ()
    notes += outlasting_notes(held, fc, cat.validity_months, holdings)
    costs: list[str] = []
    return Inputs(cat, fc, read_plan(plan, cat, notes=notes, forecast=fc, cost_warnings=costs)
                  if plan else None,
                  held, read_scenarios(scenarios, cat, fc, notes=notes) if scenarios else (),
                  tuple(notes), tuple(costs))


def outlasting_notes(held: tuple[Holding, ...], forecast: Forecast, validity: int,
                     source: str | None) -> list[str]:
    """A note per holding usable past what a pack bought by the horizon's start lasts: a
    typo (2099-06 for 2027-06) held its balance for decades without a word. Planned as
    given (a deal's packs may last longer than the catalog's)."""
    last = forecast.start + (validity - 1)
    return [f"{source}{f', line {h.line}' if h.line else ''}: {h.product}'s holding is "
            f"usable until {h.expires}, later than a pack bought by the horizon's start lasts "
            f"({months_text(validity)}: {last}); planned as given"
            for h in held if h.expires > last]
