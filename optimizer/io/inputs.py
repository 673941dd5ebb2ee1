"""Everything one command reads, in one call: the catalog in force, then the forecast (or
the bundled example), a plan, holdings and scenarios, each checked against the catalog."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.catalog import Catalog
from ..domain.records import Forecast, Holding, Plan, Scenario
from .forecast import example_forecast, read_forecast
from .holdings import read_holdings
from .options import catalog_in_force
from .plans import read_plan
from .scenarios import read_scenarios


@dataclass(frozen=True)
class Inputs:
    catalog: Catalog
    forecast: Forecast
    plan: Plan | None = None
    holdings: tuple[Holding, ...] = ()
    scenarios: tuple[Scenario, ...] = ()


def read_inputs(forecast: str | None, *, catalog: str | None = None,
                tier_basis: str | None = None, negotiated_rates=(), plan: str | None = None,
                holdings: str | None = None, scenarios: str | None = None) -> Inputs:
    """Read the files a command was given (paths; None for those not given). Without a
    forecast path, the bundled example forecast."""
    cat = catalog_in_force(catalog, tier_basis, negotiated_rates)
    fc = read_forecast(forecast, cat) if forecast is not None else example_forecast(cat)
    return Inputs(cat, fc, read_plan(plan, cat) if plan else None,
                  read_holdings(holdings, cat) if holdings else (),
                  read_scenarios(scenarios, cat, fc) if scenarios else ())
