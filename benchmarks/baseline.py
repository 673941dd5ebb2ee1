"""The straightforward formulation: the model one writes first, kept as the yardstick.

Per product (start mode, every pack bought in the first month):

    n_s  integer    packs of size s bought (no bounds beyond n_s >= 0)
    u_m  continuous calls of month m drawn from packs, 0 <= u_m <= r_m (r_m = d_m - free)
    o_m  continuous postpaid calls of month m, o_m = r_m - u_m
    b_m  binary     1 when month m may pay postpaid, i.e. the balance is gone (months
                    inside the packs' validity; after it postpaid is unconstrained)

    sum_{k<=m} u_k <= C = sum_s s n_s                  cumulative draw within capacity
    o_m <= M b_m                                       no postpaid ...
    C - sum_{k<=m} u_k <= M (1 - b_m)                  ... while balance remains

with one large constant M = the product's total demand plus its largest pack. Months after
the packs' validity draw nothing (u_m = 0). Under the `after-packs` basis each month also
picks its tier with binaries y_mk and big-M constraints on the tier volume free + o_m and on
the fee. This is what issue 4 calls "the direct big-M model"; it is exact, but its
relaxation is weak. Nothing here is shared with optimizer/model.py except the money scale.

`solve_baseline` builds either one joint model for every product or one model per product,
solves at zero gap with optimizer.solvers.solve, and returns the plan read from the counts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pulp

from optimizer.catalog import Catalog, Product
from optimizer.inputs import Forecast, Plan, Purchase
from optimizer.model import money_scale, to_units
from optimizer.solvers import Status, solve


@dataclass
class ProductVars:
    product: Product
    counts: dict[int, pulp.LpVariable]
    cost: pulp.LpAffineExpression


@dataclass
class BaselineOutcome:
    status: str                     # optimal | feasible | no_solution | infeasible | error
    objective_units: int | None     # sum of the models' objectives, money units
    bound_units: float | None
    plan: Plan
    build_seconds: float
    solve_seconds: float
    models: int
    variables: int
    constraints: int
    messages: list[str] = field(default_factory=list)


def add_product(prob: pulp.LpProblem, product: Product, calls: tuple[int, ...], validity: int,
                basis: str, scale: int, tag: str) -> ProductVars:
    """One product's big-M model added to `prob`; returns its counts and cost expression."""
    T = len(calls)
    free = [min(d, product.free_calls) for d in calls]
    r = [d - f for d, f in zip(calls, free)]
    biggest = max(p.calls for p in product.packs)
    M = sum(r) + biggest
    rates = product.tier_rates()

    n = {p.calls: pulp.LpVariable(f"n{tag}_{p.calls}", lowBound=0, cat="Integer")
         for p in product.packs}
    u = {m: pulp.LpVariable(f"u{tag}_{m}", 0, r[m] if m < validity else 0) for m in range(T)}
    o = {m: pulp.LpVariable(f"o{tag}_{m}", 0) for m in range(T)}
    b = {m: pulp.LpVariable(f"b{tag}_{m}", cat="Binary") for m in range(min(T, validity))}
    capacity = pulp.lpSum(s * v for s, v in n.items())

    for m in range(T):
        prob += o[m] == r[m] - u[m], f"post{tag}_{m}"
        drawn = pulp.lpSum(u[k] for k in range(m + 1))
        prob += drawn <= capacity, f"cap{tag}_{m}"
        if m in b:        # after expiry the balance is gone and postpaid is free to run
            prob += o[m] <= M * b[m], f"nopost{tag}_{m}"
            prob += capacity - drawn <= M * (1 - b[m]), f"empty{tag}_{m}"

    pack_cost = pulp.lpSum(to_units(p.price, scale) * n[p.calls] for p in product.packs)
    fees = []
    for m in range(T):
        if basis == "total":
            fees.append(to_units(product.rate(calls[m])[0], scale) * o[m])
            continue
        # after-packs: the tier volume free + o_m picks the rate; one binary per tier.
        fee = pulp.LpVariable(f"fee{tag}_{m}", 0)
        y = {k: pulp.LpVariable(f"y{tag}_{m}_{k}", cat="Binary") for k in range(len(rates))}
        prob += pulp.lpSum(y.values()) == 1, f"tier{tag}_{m}"
        vol = free[m] + o[m]
        top_rate = max(to_units(rt, scale) for _, rt, _ in rates)
        lower = 0
        for k, (up_to, rate, _) in enumerate(rates):
            if up_to is not None:
                prob += vol <= up_to + M * (1 - y[k]), f"tierhi{tag}_{m}_{k}"
            if lower:
                prob += vol >= lower + 1 - M * (1 - y[k]), f"tierlo{tag}_{m}_{k}"
            prob += fee >= to_units(rate, scale) * o[m] - top_rate * M * (1 - y[k]), \
                f"fee{tag}_{m}_{k}"
            lower = up_to or 0
        fees.append(fee)
    return ProductVars(product, n, pack_cost + pulp.lpSum(fees))


def solve_baseline(catalog: Catalog, forecast: Forecast, solver: str = "highs",
                   time_limit: float | None = None, joint: bool = True) -> BaselineOutcome:
    """Build and solve the big-M model: all products in one model, or one model each."""
    scale = money_scale(catalog)
    validity = catalog.validity_months
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    groups: list[list[tuple[str, tuple[int, ...]]]] = []
    postpaid_only = 0
    for pid, calls in forecast.demand:
        product = catalog.product(pid)
        if not product.packs:              # nothing to decide: the fee is a constant
            from optimizer.billing import postpaid_only_cost
            postpaid_only += to_units(postpaid_only_cost(product, calls, catalog.tier_basis),
                                      scale)
            continue
        if joint and groups:
            groups[0].append((pid, calls))
        else:
            groups.append([(pid, calls)])

    out = BaselineOutcome("optimal", postpaid_only, float(postpaid_only), Plan(()), 0.0, 0.0,
                          0, 0, 0)
    purchases: list[Purchase] = []
    statuses = []
    for g, group in enumerate(groups):
        t0 = time.perf_counter()
        prob = pulp.LpProblem(f"baseline_{g}", pulp.LpMinimize)
        handles = []
        for i, (pid, calls) in enumerate(group):
            product = catalog.product(pid)
            handles.append(add_product(prob, product, calls, validity, catalog.tier_basis,
                                       scale, f"_{g}_{i}"))
        prob += pulp.lpSum(h.cost for h in handles)
        out.build_seconds += time.perf_counter() - t0
        out.models += 1
        out.variables += len(prob.variables())
        out.constraints += len(prob.constraints)
        remaining = None if deadline is None else max(deadline - time.perf_counter(), 0.01)
        res = solve(prob, solver, remaining)
        out.solve_seconds += res.seconds
        statuses.append(res.status)
        if res.message and res.status is not Status.OPTIMAL:
            out.messages.append(res.message)
        if not res.has_solution:
            out.objective_units = None
            out.bound_units = None
            continue
        if out.objective_units is not None:
            out.objective_units += round(res.objective)
        if out.bound_units is not None:
            out.bound_units = None if res.bound is None else out.bound_units + res.bound
        for h in handles:
            for size, var in sorted(h.counts.items()):
                k = round(var.value() or 0)
                if k > 0:
                    purchases.append(Purchase(h.product.id, forecast.start, size, k))
    if any(s is Status.INFEASIBLE for s in statuses):
        out.status = "infeasible"
    elif any(s is Status.ERROR for s in statuses):
        out.status = "error"
    elif any(not (s is Status.OPTIMAL or s is Status.FEASIBLE) for s in statuses):
        out.status = "no_solution"
    elif any(s is Status.FEASIBLE for s in statuses):
        out.status = "feasible"
    out.plan = Plan(tuple(purchases), "baseline")
    return out
