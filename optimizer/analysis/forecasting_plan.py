"""From a usage history to what `plan --history` and `backtest` work on: the history read
with the catalog in force, a plan and holdings, and (for `plan --history`) the forecast's
low/base/high scenarios as the planner's inputs."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..domain.catalog import Catalog
from ..domain.records import Holding, Plan
from ..io.history import History, read_history
from ..io.holdings import read_holdings
from ..io.inputs import Inputs
from ..io.options import catalog_in_force
from ..io.plans import read_plan
from .forecasting import ForecastResult, forecast_history


@dataclass(frozen=True)
class HistoryInputs:
    catalog: Catalog
    history: History
    plan: Plan | None
    holdings: tuple[Holding, ...]
    notes: tuple[str, ...]


def read_history_inputs(path: str, *, catalog: str | None = None,
                        tier_basis: str | None = None, negotiated_rates=(),
                        columns: str | None = None, mapping: str | None = None,
                        sheet: str | None = None, plan: str | None = None,
                        holdings: str | None = None) -> HistoryInputs:
    """The catalog in force, the history at `path` (read with `columns`, `mapping` and
    `sheet`), and the plan and holdings files when given."""
    cat = catalog_in_force(catalog, tier_basis, negotiated_rates)
    h = read_history(path, cat, columns=columns, mapping=mapping, sheet=sheet)
    notes = list(h.notes)     # the reader's notes name unmapped labels with their totals
    # (a plan here is what was really bought: within the history)
    p = read_plan(plan, cat, notes=notes, forecast=h.usage, history=True) if plan else None
    held = read_holdings(holdings, cat, notes=notes) if holdings else ()
    return HistoryInputs(cat, h, p, held, tuple(notes))


def history_inputs(path: str, months: int, method: str = "auto", **files
                   ) -> tuple[Inputs, ForecastResult]:
    """`plan --history`: the history forecast `months` ahead by `method`, as planner inputs
    (the P50 forecast and the low/base/high scenarios); `files` as for
    `read_history_inputs`. The forecast's notes follow the reader's, in `Inputs.notes` and
    in the forecast's own (what JSON and the report show: usage no product took, partial
    months)."""
    hi = read_history_inputs(path, **files)
    fr = forecast_history(hi.history, months, method=method)
    fr = replace(fr, notes=hi.notes + fr.notes)
    return Inputs(hi.catalog, fr.base, None, hi.holdings, fr.scenarios(), fr.notes), fr
