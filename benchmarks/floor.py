"""The "bill only" row: the floor no plan can beat.

For each instance the runner takes a proven optimal plan (ours-highs' when it has one) and
times what any method must do at the least: read the instance's catalog and forecast from
files (`load_catalog`, `read_forecast`) and bill the plan once with `optimizer.billing.bill`
(with scenarios: every scenario's forecast too, and the weighted expected cost). The files
are written once, untimed, from the in-memory instance: the catalog as TOML (without the
seed products' aliases, which the clones would share) and the forecast as a wide CSV.
"""

from __future__ import annotations

import tempfile
import time
from decimal import Decimal
from pathlib import Path

from optimizer.billing import bill
from optimizer.domain.months import Month
from optimizer.domain.records import Plan, Purchase
from optimizer.io.catalog import load_catalog
from optimizer.io.forecast import read_forecast

from .files import catalog_toml, forecast_csv

METHOD = "bill-only"


def plan_from_rows(rows) -> Plan:
    return Plan(tuple(Purchase(pid, Month.parse(month), size, count)
                      for pid, month, size, count in rows))


def bill_only(inst, plan_rows, repeat: int) -> list[dict]:
    """The floor's run records, one per timing of read + one re-bill."""
    plan = plan_from_rows(plan_rows)
    reads, bills = [], []
    billed = None
    with tempfile.TemporaryDirectory(prefix="packopt-floor-") as d:
        cat_path, fc_path = Path(d) / "catalog.toml", Path(d) / "forecast.csv"
        cat_path.write_text(catalog_toml(inst.catalog), encoding="utf-8")
        fc_path.write_text(forecast_csv(inst.forecast), encoding="utf-8")
        for _ in range(max(repeat, 1)):
            t0 = time.perf_counter()
            catalog = load_catalog(cat_path)
            forecast = read_forecast(fc_path, catalog)
            t1 = time.perf_counter()
            if inst.scenarios:
                weighted = sum((s.weight * bill(catalog, s.forecast, plan).total_cost
                                for s in inst.scenarios), Decimal(0))
                cost = weighted / sum((s.weight for s in inst.scenarios), Decimal(0))
            else:
                cost = bill(catalog, forecast, plan).total_cost
            t2 = time.perf_counter()
            reads.append(t1 - t0)
            bills.append(t2 - t1)
            billed = cost
    return [{"method": METHOD, "status": "optimal",
             "note": "floor: read the catalog and forecast files + one re-bill of the optimal "
                     "plan", "build_s": read_s, "solve_s": 0.0, "bill_s": bill_s,
             "wall_s": read_s + bill_s, "objective": str(billed), "bound": str(billed),
             "gap": "0", "billed": str(billed), "plan": plan_rows, "extra": {},
             "problems": [], "cpu_s": None, "rss_peak_mb": None, "rss_growth_mb": None,
             "solver_process_mb": None, "mem_mb": None}
            for read_s, bill_s in zip(reads, bills)]
