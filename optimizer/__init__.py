"""packopt: exact purchase plans for prepaid API call packs against tiered postpaid billing."""

from .billing import Bill, bill
from .catalog import Catalog, load_catalog
from .exceptions import (BillingMismatchError, InfeasibleError, InputError, PackoptError,
                         SolverError)
from .inputs import (Forecast, Holding, Plan, Purchase, read_forecast, read_holdings,
                     read_plan)
from .months import Month

__version__ = "0.1.0"

__all__ = [
    "Bill", "bill", "Catalog", "load_catalog", "BillingMismatchError", "InfeasibleError",
    "InputError", "PackoptError", "SolverError", "Forecast", "Holding", "Plan", "Purchase",
    "read_forecast", "read_holdings", "read_plan", "Month", "__version__",
]
