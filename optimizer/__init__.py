"""packopt: exact purchase plans for prepaid API call packs against tiered postpaid billing.

The public API (see docs/library.md). Reading inputs, billing and the records are light;
`plan`, `whatif` and the other solving entry points load the solver stack (PuLP, HiGHS,
NumPy) only when first used, so `bill` and `catalog` stay fast to start.
"""

from .billing import Bill, MonthBill, ProductBill, bill
from .domain.catalog import Catalog, Pack, Product, Tier
from .domain.months import Month
from .domain.records import Forecast, Holding, Plan, Purchase, Scenario
from .exceptions import (
    BillingMismatchError,
    InfeasibleError,
    InputError,
    PackoptError,
    SolverError,
)
from .io.catalog import load_catalog, parse_catalog
from .io.forecast import parse_forecast, read_forecast
from .io.holdings import parse_holdings, read_holdings
from .io.inputs import Inputs, read_inputs
from .io.plans import read_plan
from .io.scenarios import read_scenarios

__version__ = "0.1.0"

# name -> module that defines it, imported on first use (they pull in PuLP/NumPy).
_LAZY = {
    "plan": "solve.planner", "PlanResult": "solve.planner",
    "ScenarioOutcome": "solve.planner",
    "whatif": "analysis.whatif", "break_even": "analysis.whatif", "examine": "analysis.whatif",
    "WhatIf": "analysis.whatif", "WhatIfRow": "analysis.whatif", "BreakEven": "analysis.whatif",
    "compare": "analysis.compare", "Comparison": "analysis.compare",
    "rule_of_thumb": "analysis.compare",
    "budget_value": "analysis.budget", "BudgetValue": "analysis.budget",
    "plan_report": "analysis.planning", "PlanReport": "analysis.planning",
    "bill_report": "analysis.edited", "BillReport": "analysis.edited",
    "compare_with_optimum": "analysis.edited", "EditedComparison": "analysis.edited",
    "read_history": "io.history", "History": "io.history",
    "forecast_usage": "analysis.forecasting", "forecast_history": "analysis.forecasting",
    "ForecastResult": "analysis.forecasting", "ProductForecast": "analysis.forecasting",
    "backtest": "analysis.backtest", "Backtest": "analysis.backtest",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'optimizer' has no attribute {name!r}")


__all__ = [
    "Bill", "MonthBill", "ProductBill", "bill", "Catalog", "Pack", "Product", "Tier", "Month",
    "Forecast", "Holding", "Plan", "Purchase", "Scenario", "BillingMismatchError",
    "InfeasibleError", "InputError", "PackoptError", "SolverError", "load_catalog",
    "parse_catalog", "parse_forecast", "read_forecast", "parse_holdings", "read_holdings",
    "read_plan", "read_scenarios", "Inputs", "read_inputs", "__version__", *_LAZY,
]
