"""A purchase plan as given (often a hand-edited copy of `plan`'s output), billed, checked
against the catalog, and set beside the optimal plan: `packopt bill --plan PLAN --compare`.

Light at import: the planner (and with it the solver stack) is loaded only when the
comparison is asked for, so `bill` without `--compare` starts fast.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from ..billing import Bill, ProductBill, bill
from ..domain.catalog import Catalog
from ..domain.records import Forecast, Holding, Plan
from ..io.inputs import Inputs


@dataclass(frozen=True)
class Change:
    """Packs of one size bought in one month: more (or fewer) in the plan than the optimum."""

    month: str
    size: int
    count: int


@dataclass(frozen=True)
class ProductDifference:
    """One product's cost in the plan and in the optimum, and how their purchases differ."""

    product: str
    plan_cost: Decimal
    optimal_cost: Decimal
    more: tuple[Change, ...]         # bought in the plan beyond the optimum
    fewer: tuple[Change, ...]        # bought in the optimum, missing from the plan

    @property
    def difference(self) -> Decimal:
        """What the plan costs beyond the optimum (negative never, for a proven optimum)."""
        return self.plan_cost - self.optimal_cost


@dataclass(frozen=True)
class EditedComparison:
    """The plan's bill beside the optimal plan's, per product."""

    plan: Bill
    optimal: Bill
    status: str                      # the optimum's: "optimal" or "feasible"
    purchase_months: str             # the mode the optimum was planned in
    measure: str                     # "total_cost" or, with prorata carry-over, "net_cost"
    products: tuple[ProductDifference, ...]

    @property
    def plan_cost(self) -> Decimal:
        return getattr(self.plan, self.measure)

    @property
    def optimal_cost(self) -> Decimal:
        return getattr(self.optimal, self.measure)

    @property
    def difference(self) -> Decimal:
        return self.plan_cost - self.optimal_cost


@dataclass(frozen=True)
class BillReport:
    bill: Bill                                 # a warning per stale or unreadable `cost`
    comparison: EditedComparison | None        # with `compare`


def bill_report(inputs: Inputs, *, compare: bool = False,
                carry_over: str = "zero", solver: str = "highs") -> BillReport:
    """Bill `inputs.plan`; warn of each `cost` cell of the plan file that disagrees with the
    catalog or is not a number (`inputs.plan_warnings`: the catalog's price is what is
    billed); with `compare`, set the bill beside the optimal plan for the same forecast,
    holdings and catalog."""
    b = with_warnings(bill(inputs.catalog, inputs.forecast, inputs.plan, inputs.holdings),
                      inputs.plan_warnings)
    comparison = None
    if compare:
        comparison = compare_with_optimum(inputs.catalog, inputs.forecast, b, inputs.plan,
                                          holdings=inputs.holdings, carry_over=carry_over,
                                          solver=solver)
    return BillReport(b, comparison)


def with_warnings(b: Bill, warnings) -> Bill:
    """`b` with `warnings` first among its warnings."""
    return replace(b, warnings=tuple(warnings) + b.warnings) if warnings else b


def optimum_mode(plan: Plan | None, forecast: Forecast) -> str:
    """Compare like with like: a plan that buys only in the first month against the best
    such plan; one that buys later against the best plan buying in any month."""
    if plan is None or all(p.month == forecast.start for p in plan.purchases):
        return "start"
    return "any"


def compare_with_optimum(catalog: Catalog, forecast: Forecast, plan_bill: Bill,
                         plan: Plan | None, *, holdings: tuple[Holding, ...] = (),
                         carry_over: str = "zero", solver: str = "highs"
                         ) -> EditedComparison:
    """The optimal plan (in the purchase mode of `optimum_mode`) beside `plan_bill`."""
    from ..solve.planner import plan as optimal_plan

    mode = optimum_mode(plan, forecast)
    result = optimal_plan(catalog, forecast, purchase_months=mode, solver=solver,
                          holdings=holdings, carry_over=carry_over)
    measure = "net_cost" if carry_over == "prorata" else "total_cost"
    products = tuple(product_difference(plan_bill, pb, result.bill.product(pb.product), measure)
                     for pb in plan_bill.products)
    return EditedComparison(plan_bill, result.bill, result.status, mode, measure, products)


def _counts(b: Bill, pb: ProductBill) -> dict[tuple[str, int], int]:
    out: dict[tuple[str, int], int] = {}
    for lot in pb.purchases:
        key = (str(b.start + lot.start), lot.size)
        out[key] = out.get(key, 0) + lot.count
    return out


def product_difference(plan_bill: Bill, pb: ProductBill, best: ProductBill,
                       measure: str = "total_cost") -> ProductDifference:
    """One product: both costs, and the packs the plan has beyond or short of the optimum."""
    mine, theirs = _counts(plan_bill, pb), _counts(plan_bill, best)
    more, fewer = [], []
    for key in sorted(set(mine) | set(theirs)):
        d = mine.get(key, 0) - theirs.get(key, 0)
        if d:
            (more if d > 0 else fewer).append(Change(key[0], key[1], abs(d)))
    return ProductDifference(pb.product, getattr(pb, measure), getattr(best, measure),
                             tuple(more), tuple(fewer))
