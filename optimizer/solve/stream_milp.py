"""Any-month purchases under caps per month or per 12-month block (total tier basis): the
"stream" integer program, exact without just in time.

A cap on each month's (or block's) prepaid spend can make buying ahead of demand pay, so
the just-in-time argument of dynamic.py and any_milp.py fails and several purchases may
hold balance at once. What still holds, for packs bought in the plan (every one valid for
V months from its purchase month): soonest-expiring first is purchase order, so billing
draws the purchases as one stream, in purchase order. Let P_t be the calls bought in
months 0..t (cumulative) and π_m the stream's position after month m's draw. Lots bought
in month m-V or earlier have expired by month m, so month m starts at

    s_m = max(π_{m-1}, P_{m-V})          (the position the draw starts from)

and draws u_m = min(r_m, P_m - s_m) of its residual calls r_m (packs are drawn
automatically), leaving π_m = s_m + u_m. Under `total` the month's rate is fixed by its
calls, so the cost is Σ prices + Σ rate_m·(r_m - u_m): linear in u.

The model keeps s_m ≥ both terms (not equal) and u_m ≤ both terms of the min; where a
dearer month follows, a binary forces the min ("full, or every valid lot drained"). For
any purchases x the model's draws are then never above billing's, month by month (by
induction: s_m is at least billing's start, so what is available is at most billing's),
so the model never prices a plan below its bill, and billing's own draws are a feasible
choice: the optimum is billing's. In a month with no dearer month after it the binary is
dropped: drawing δ more there moves the stream on by δ, which lowers later months' draws
by at most δ in total, each at a rate no higher (the scenario models of scenario_any.py
use the same argument).

Pack counts are bounded by the cap of their month (a pack dearer than the cap is never
bought), by dominance (count_bounds), and packs are kept only when cheaper per call than
some later month's rate (a pack that is not saves no fee it costs: removing it lowers
later draws by at most its calls, each at a rate no higher than its price per call).
"""

from __future__ import annotations

import math

import pulp

from ..domain.catalog import Product
from ..domain.money import to_units
from .demand import count_bounds
from .start_milp import ProductModel


def add_stream_model(prob: pulp.LpProblem, product: Product, calls, resid, validity: int,
                     scale: int, tag: str = "",
                     month_spend_cap: int | None = None) -> ProductModel:
    """One product's any-month purchases under the `total` basis, buying ahead allowed.

    `resid[m]`: month m's calls left after the free quota and the holdings that expire
    before any new pack (no holding may outlive new packs). `month_spend_cap`: the most
    any one month may spend on packs (bounds the counts). `pm.counts` is keyed
    (month index, size)."""
    T, V = len(resid), validity
    pm = ProductModel(product)
    rate = [to_units(product.rate(d)[0], scale) for d in calls]
    price = {p.calls: to_units(p.price, scale) for p in product.packs}
    pm.unit_prices = price
    # later[t]: the dearest rate of a month t.. with calls left for packs.
    later = [0] * (T + 1)
    for m in range(T - 1, -1, -1):
        later[m] = max(later[m + 1], rate[m] if resid[m] > 0 else 0)
    # Data: which packs each month may buy.
    x: dict[tuple[int, int], pulp.LpVariable] = {}
    for t in range(T):
        reach = sum(resid[t:])          # bought at t, packs serve months t.. (and no further)
        useful = [p for p in product.packs if price[p.calls] < p.calls * later[t]
                  and (month_spend_cap is None or price[p.calls] <= month_spend_cap)]
        if not useful or reach == 0:
            continue
        s_max = max(p.calls for p in useful)
        bounds = count_bounds(_only(product, useful), min(sum(resid[t:t + V]), reach) + s_max)
        for p in useful:
            ub = bounds[p.calls]
            if month_spend_cap is not None:
                ub = min(ub, month_spend_cap // price[p.calls])
            if ub > 0:
                # x[t, s]: packs of size s bought at the start of month t.
                x[t, p.calls] = prob.add_variable(f"x{tag}_{t}_{p.calls}", 0, ub,
                                                  cat="Integer")
    pm.counts = x
    pm.pack_spend = pulp.lpSum(price[s] * v for (t, s), v in x.items())
    pm.constants = [0]
    if not x:
        pm.postpaid = [sum(rate[m] * resid[m] for m in range(T))]
        return pm
    # The stream is measured in units of g calls (the packs' gcd): smaller coefficients.
    g = math.gcd(*(s for _, s in x))
    bought = [pulp.lpSum(s // g * v for (t, s), v in x.items() if t == m) for m in range(T)]
    most = [sum(s // g * v.upBound for (t, s), v in x.items() if t == m) for m in range(T)]
    # P[m]: calls bought in months 0..m (the stream's length after month m's purchase).
    P, run, P_most = [], 0, []
    for m in range(T):
        run = run + bought[m]
        P.append(run)
        P_most.append(sum(most[:m + 1]))
    # s[m]: where month m's draw starts in the stream; u[m]: calls month m draws from packs.
    # (The position passes the calls drawn when lapsed balance is skipped: bounded by P.)
    s = {m: prob.add_variable(f"start{tag}_{m}", 0, P_most[m]) for m in range(T)}
    need = [r / g for r in resid]
    u = {m: prob.add_variable(f"use{tag}_{m}", 0, need[m]) for m in range(T)}
    for m in range(T):
        # The draw starts where the last one ended, or past every lot that has expired.
        if m > 0:
            prob += s[m] >= s[m - 1] + u[m - 1], f"after{tag}_{m}"
        if m - V >= 0:
            prob += s[m] >= P[m - V], f"lapse{tag}_{m}"
        # It draws no more than the month's calls and the balance still valid.
        prob += u[m] <= P[m] - s[m], f"valid{tag}_{m}"
        if resid[m] > 0 and later[m + 1] > rate[m]:
            # A dearer month follows: packs are drawn automatically all the same (the
            # month is covered, or every valid lot is drained).
            full = prob.add_variable(f"full{tag}_{m}", cat="Binary")
            alive = sum(most[max(0, m - V + 1):m + 1])
            prob += u[m] >= need[m] * full, f"cover{tag}_{m}"
            prob += u[m] >= P[m] - s[m] - alive * full, f"drain{tag}_{m}"
    pm.postpaid = [sum(rate[m] * resid[m] for m in range(T))
                   - pulp.lpSum(rate[m] * g * u[m] for m in range(T))]
    return pm


def _only(product: Product, packs) -> Product:
    """`product` with only `packs` (for count_bounds' dominance over those packs)."""
    from dataclasses import replace
    return replace(product, packs=tuple(packs))


def add_period_cuts(prob: pulp.LpProblem, models, months: int, period: int, caps,
                    name: str) -> None:
    """Cuts for a cap on each block of `period` months (`caps`: one per block): for every
    pack price q in a block, at most cap // q packs priced q or more (each costs at least
    q). Valid for any integer counts; the relaxation would otherwise spend a block's last
    fraction of the cap on a fraction of a dear pack. They halved the solver's branching on
    the benchmark families (benchmarks/README.md)."""
    for y in range(0, months, period):
        cap = caps[y // period]
        items = [(pm.price_of(key), v) for pm in models.values()
                 for key, v in pm.counts.items() if y <= key[0] < y + period]
        for q in sorted({p for p, _ in items if p > 0}):
            dear = [v for p, v in items if p >= q]
            most = sum(v.upBound if v.upBound is not None else cap for v in dear)
            if len(dear) > 1 and cap // q < most:
                # Packs priced q or more that block y can afford.
                prob += pulp.lpSum(dear) <= cap // q, f"{name}_{y}_{q}"
