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

Per product, packs bought at the start of any month (`purchase_months="any"`, total basis;
each month's purchase is its own cohort, valid V = validity months):

    x_ts    integer    packs of size s bought at the start of month t (every t, every s)
    w_tm    continuous calls of month m drawn from cohort t, t <= m <= t+V-1, 0 <= w_tm <= r_m
    o_m     continuous postpaid calls of month m, o_m = r_m - sum_t w_tm >= 0
    z_m     binary     1 when month m may pay postpaid, i.e. every live cohort is empty

    sum_m w_tm <= C_t = sum_s s x_ts                   cohort t draws within its capacity
    o_m <= M z_m                                       no postpaid ...
    sum_{t=m-V+1..m} (C_t - sum_{k=t..m} w_tk) <= M (1 - z_m)    ... while balance remains

with one M per product = its total demand plus the largest pack times the cohorts that can
be live at once (min(V, months)): an optimal plan leaves less than one pack unused in each
cohort (else drop that pack), so no live balance it carries exceeds M. The model lets any
live cohort serve a month where billing draws the soonest-expiring first; under the total
basis that does not change the cost: the binaries force each month to draw
min(r_m, live balance), and soonest-expiring first leaves at least as much live balance for
every later month as any other order, so for fixed counts the billed cost is the model's
least cost over the draws. (Under after-packs a smaller postpaid volume can be dearer, the
order matters, and this model would be inexact: not offered.)

`solve_baseline` builds either one joint model for every product or one model per product,
solves at zero gap with benchmarks.solvers_extra.solve (HiGHS, CBC, SCIP or CP-SAT), and
returns the plan read from the counts, each purchase with its month.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pulp

from optimizer.domain.catalog import Catalog, Product
from optimizer.domain.records import Forecast, Plan, Purchase
from optimizer.domain.money import money_scale, to_units
from optimizer.solve.solvers import Status

from .solvers_extra import solve


@dataclass
class ProductVars:
    product: Product
    counts: dict[tuple[int, int], pulp.LpVariable]    # (purchase month index, size)
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
    """One product's start-mode big-M model added to `prob`; returns its counts (all in
    month 0) and cost expression."""
    T = len(calls)
    free = [min(d, product.free_calls) for d in calls]
    r = [d - f for d, f in zip(calls, free)]
    biggest = max(p.calls for p in product.packs)
    M = sum(r) + biggest
    rates = product.tier_rates()

    n = {p.calls: prob.add_variable(f"n{tag}_{p.calls}", lowBound=0, cat="Integer")
         for p in product.packs}
    u = {m: prob.add_variable(f"u{tag}_{m}", 0, r[m] if m < validity else 0) for m in range(T)}
    o = {m: prob.add_variable(f"o{tag}_{m}", 0) for m in range(T)}
    b = {m: prob.add_variable(f"b{tag}_{m}", cat="Binary") for m in range(min(T, validity))}
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
        fee = prob.add_variable(f"fee{tag}_{m}", 0)
        y = {k: prob.add_variable(f"y{tag}_{m}_{k}", cat="Binary") for k in range(len(rates))}
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
    return ProductVars(product, {(0, s): v for s, v in n.items()}, pack_cost + pulp.lpSum(fees))


def add_product_any(prob: pulp.LpProblem, product: Product, calls: tuple[int, ...],
                    validity: int, scale: int, tag: str) -> ProductVars:
    """One product's any-month big-M model (total basis) added to `prob`: a cohort per
    purchase month, usage per cohort and month, one binary per month."""
    T = len(calls)
    V = validity
    r = [d - min(d, product.free_calls) for d in calls]
    biggest = max(p.calls for p in product.packs)
    M = sum(r) + min(V, T) * biggest

    def serves(t):                 # months cohort t can be drawn in
        return range(t, min(t + V, T))

    def live(m):                   # cohorts that can be drawn in month m
        return range(max(0, m - V + 1), m + 1)

    x = {(t, p.calls): prob.add_variable(f"x{tag}_{t}_{p.calls}", lowBound=0, cat="Integer")
         for t in range(T) for p in product.packs}
    w = {(t, m): prob.add_variable(f"w{tag}_{t}_{m}", 0, r[m])
         for t in range(T) for m in serves(t)}
    o = {m: prob.add_variable(f"o{tag}_{m}", 0) for m in range(T)}
    z = {m: prob.add_variable(f"z{tag}_{m}", cat="Binary") for m in range(T)}
    capacity = {t: pulp.lpSum(p.calls * x[t, p.calls] for p in product.packs) for t in range(T)}

    for t in range(T):
        # Cohort t draws at most what it bought.
        prob += pulp.lpSum(w[t, m] for m in serves(t)) <= capacity[t], f"cap{tag}_{t}"
    for m in range(T):
        # Postpaid is what the live cohorts do not cover.
        prob += o[m] == r[m] - pulp.lpSum(w[t, m] for t in live(m)), f"post{tag}_{m}"
        # No postpaid while any live cohort still has balance after this month's draw.
        balance = pulp.lpSum(capacity[t] - pulp.lpSum(w[t, k] for k in range(t, m + 1))
                             for t in live(m))
        prob += o[m] <= M * z[m], f"nopost{tag}_{m}"
        prob += balance <= M * (1 - z[m]), f"empty{tag}_{m}"

    pack_cost = pulp.lpSum(to_units(p.price, scale) * x[t, p.calls]
                           for t in range(T) for p in product.packs)
    # Total basis: the month's own calls fix its rate.
    fees = pulp.lpSum(to_units(product.rate(calls[m])[0], scale) * o[m] for m in range(T))
    return ProductVars(product, x, pack_cost + fees)


def solve_baseline(catalog: Catalog, forecast: Forecast, solver: str = "highs",
                   time_limit: float | None = None, joint: bool = True,
                   purchase_months: str = "start") -> BaselineOutcome:
    """Build and solve the big-M model: all products in one model, or one model each;
    packs bought in the first month (`start`) or in any month (`any`, total basis)."""
    if purchase_months not in ("start", "any"):
        raise ValueError(f"unknown purchase_months {purchase_months!r}")
    if purchase_months == "any" and catalog.tier_basis != "total":
        raise ValueError("the any-month baseline models the total tier basis only")
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
            if purchase_months == "any":
                handles.append(add_product_any(prob, product, calls, validity, scale,
                                               f"_{g}_{i}"))
            else:
                handles.append(add_product(prob, product, calls, validity,
                                           catalog.tier_basis, scale, f"_{g}_{i}"))
        prob += pulp.lpSum(h.cost for h in handles)
        out.build_seconds += time.perf_counter() - t0
        out.models += 1
        out.variables += len(prob.variables())
        out.constraints += prob.numConstraints()
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
            for (t, size), var in sorted(h.counts.items()):
                k = round(var.value() or 0)
                if k > 0:
                    purchases.append(Purchase(h.product.id, forecast.start + t, size, k))
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
