"""packopt: exact purchase plans for prepaid API call packs against tiered postpaid billing.

The public API (see docs/library.md). Every name but the exceptions is imported on first
use, so a command loads only what it runs: `bill` and `catalog` never load the solving
modules, and a plan loads PuLP and HiGHS only when it builds an integer program.
"""

from .exceptions import (
    BillingMismatchError,
    InfeasibleError,
    InputError,
    PackoptError,
    SolverError,
)

__version__ = "0.1.0"

# name -> module that defines it, imported on first use: a command loads only the modules
# it runs (the solving ones pull in NumPy and, for integer programs, PuLP).
_LAZY = {
    "Bill": "billing", "MonthBill": "billing", "ProductBill": "billing", "bill": "billing",
    "Catalog": "domain.catalog", "Pack": "domain.catalog", "Product": "domain.catalog",
    "Tier": "domain.catalog", "Month": "domain.months",
    "Forecast": "domain.records", "Holding": "domain.records", "Plan": "domain.records",
    "Purchase": "domain.records", "Scenario": "domain.records",
    "load_catalog": "io.catalog", "parse_catalog": "io.catalog",
    "parse_forecast": "io.forecast", "read_forecast": "io.forecast",
    "parse_holdings": "io.holdings", "read_holdings": "io.holdings",
    "Inputs": "io.inputs", "read_inputs": "io.inputs", "read_plan": "io.plans",
    "read_scenarios": "io.scenarios",
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
