"""Any-month purchases shared by several demand scenarios (PuLP): one dated schedule,
postpaid following each scenario.

The purchase counts x[t, s] are shared; each scenario gets its own usage block, because
the same packs are drawn differently under different demand. What each block must encode
is what billing does (docs/pricing.md, rule 2): packs are drawn automatically, soonest-
expiring first, whenever they have balance.

Under the `total` tier basis a month's rate is fixed by its own calls, so a scenario's
cost falls with every call drawn from packs. Among the draws that take as much as the
live balance allows each month ("draw-max": postpaid only once every live lot is empty),
soonest-expiring first leaves, for every later month j, the most balance that is still
valid at j (it spends the lots that lapse first), so it draws at least as much as any
other draw-max order in every month (by induction over the months). The model may
therefore let a scenario draw from its lots in any order as long as it draws the maximum:
its cheapest such draw costs what billing charges. That drops the order binaries of the
general cohort model (any_milp._cohort_model); what is left per scenario is one binary a
month ("this month pays postpaid") and continuous draws. Lots that are still valid in the
horizon's last month never lapse inside it, so they are pooled into one balance.

Just in time does not hold across scenarios (a purchase first drawn in month t under one
scenario may wait under another), but a purchase in a month where no scenario has calls
left for packs is as well made a month later (same draws, later expiry), so purchases are
offered only in months with demand in some scenario.

Under `after-packs` more pack usage can push a month into a dearer tier: each scenario
gets the general cohort block (draw order and tier binaries), sharing the counts.

A purchase holding a pack that no scenario could draw within its validity is dearer than
the same purchase without it (the draws are the same), so each month's capacity stays
below its largest window's demand plus the largest pack.
"""

from __future__ import annotations

import pulp

from ..billing import month_fee
from ..domain.catalog import Product
from ..domain.money import to_units
from .any_milp import purchase_counts, useful_packs
from .start_milp import ProductModel, postpaid_expr


def add_any_scenarios(prob: pulp.LpProblem, product: Product, series_calls, series_resid,
                      validity: int, basis: str, scale: int, tag: str = "", late=(),
                      start_only: bool = False, plain: bool = False) -> ProductModel:
    """One product's shared purchases and one usage block per scenario.

    `series_calls[k]`, `series_resid[k]`: scenario k's calls and what new packs can serve
    (after the free quota and the holdings drawn before any new pack). `late`: (last usable
    month index, calls) of holdings that outlive some new pack. `start_only`: purchases in
    the first month only. `pm.postpaid[k]` is scenario k's postpaid cost (money units).
    `plain`: the general cohort block under `total` too (for comparison: benchmarks).
    """
    K, T, V = len(series_resid), len(series_resid[0]), validity
    pm = ProductModel(product)
    windows = [[sum(r[t:t + V]) for t in range(T)] for r in series_resid]
    window = [max(w[t] for w in windows) for t in range(T)]
    packs = useful_packs(product, max(window, default=0))
    if not packs and not late:
        # Nothing worth buying: each month's bill as the billing engine charges it.
        pm.constants = [sum(to_units(month_fee(product, calls[m], calls[m] - min(
            calls[m], product.free_calls) - resid[m], basis)[4], scale) for m in range(T))
            for calls, resid in zip(series_calls, series_resid)]
        pm.postpaid = list(pm.constants)
        return pm
    s_max = max((p.calls for p in packs), default=0)
    price = {p.calls: to_units(p.price, scale) for p in packs}
    pm.unit_prices = price
    if basis == "total":
        months = [t for t in range(T) if any(r[t] > 0 for r in series_resid)]
    else:
        months = [t for t in range(T) if window[t] > 0]
    if start_only:
        months = [0] if window[0] > 0 else []
    buy_months = months if packs else []

    # x[t, s]: packs of size s bought at the start of month t (shared by every scenario).
    x = purchase_counts(prob, product, packs, buy_months, window, s_max, tag)
    pm.counts = x
    pm.pack_spend = pulp.lpSum(price[s] * v for (t, s), v in x.items())
    bought = {t: pulp.lpSum(s * x[t, s] for s in price if (t, s) in x) for t in buy_months}
    # Lots: key -> (first month, last usable month, draw order key, capacity, capacity bound).
    lots = {}
    for t in buy_months:
        if any((t, s) in x for s in price):
            ub = window[t] + s_max - 1
            # A pack no scenario can draw only adds its price.
            prob += bought[t] <= ub, f"cap{tag}_{t}"
            lots["b", t] = (t, t + V - 1, (t + V - 1, 1, t), bought[t], ub)
    for i, (expiry, amount) in enumerate(late):
        lots["h", i] = (0, expiry, (expiry, 0, i), amount, amount)
    for k, (calls, resid) in enumerate(zip(series_calls, series_resid)):
        stag = f"{tag}k{k}"
        if basis == "total" and not plain:
            rate = [to_units(product.rate(d)[0], scale) for d in calls]
            covered = _total_block(prob, lots, resid, rate, T, stag)
            pm.postpaid.append(pulp.lpSum(rate[m] * (resid[m] - covered[m])
                                          for m in range(T) if resid[m] > 0))
        else:
            covered = _cohort_block(prob, lots, resid, T, stag)
            pm.postpaid.append(pulp.lpSum(
                postpaid_expr(prob, product, m, calls[m],
                              calls[m] - min(calls[m], product.free_calls) - resid[m],
                              resid[m], covered[m], basis, scale, stag)
                for m in range(T) if resid[m] > 0))
        pm.constants.append(0)
    return pm


def _total_block(prob, lots, resid, rate, T, tag) -> dict:
    """One scenario's draws under `total`: draw-max in any order (see the module's note).
    Returns month -> calls drawn from packs (an expression).

    When every lot is pooled, a month whose rate no later month's exceeds needs no
    draw-max binary: a plan that kept balance back from it could draw those calls there
    instead and give up at most as many later calls, each at a rate no higher (drawing
    them back from the latest months first keeps every later month drawing the maximum).
    """
    pooled = {c: v for c, v in lots.items() if v[1] >= T - 1}
    single = {c: v for c, v in lots.items() if v[1] < T - 1}
    active = [m for m in range(T) if resid[m] > 0]
    later_max, top = {}, 0
    for m in reversed(active):
        later_max[m] = top
        top = max(top, rate[m])
    # use[c, m]: calls of month m drawn from lot c (a lot that lapses inside the horizon).
    use = {(c, m): prob.add_variable(f"use{tag}_{c[0]}{c[1]}_{m}", 0, resid[m])
           for c, (first, last, _, _, _) in single.items() for m in active
           if first <= m <= last}
    # pool[m]: calls of month m drawn from the pooled lots; bal[m]: their balance after it.
    pool = {m: prob.add_variable(f"pool{tag}_{m}", 0, resid[m]) for m in active
            if any(v[0] <= m for v in pooled.values())}
    bal = {}
    pool_ub = 0
    for m in range(T):
        arriving = [v for v in pooled.values() if v[0] == m]
        pool_ub += sum(v[4] for v in arriving)
        if not pool_ub:
            continue
        bal[m] = prob.add_variable(f"bal{tag}_{m}", 0, pool_ub)
        before = bal[m - 1] if m - 1 in bal else 0
        # The pool's balance falls by what month m draws from it.
        prob += bal[m] == before + pulp.lpSum(v[3] for v in arriving) - pool.get(m, 0), \
            f"pool{tag}_{m}"
    for c, (first, last, _, amount, _) in single.items():
        # A lot draws no more than it holds.
        drawn = [use[c, m] for m in active if (c, m) in use]
        if drawn:
            prob += pulp.lpSum(drawn) <= amount, f"hold{tag}_{c[0]}{c[1]}"
    covered = {}
    for m in active:
        here = [use[c, m] for c in single if (c, m) in use] + ([pool[m]] if m in pool else [])
        covered[m] = pulp.lpSum(here)
        if not here:
            continue
        prob += covered[m] <= resid[m], f"cover{tag}_{m}"
        if not single and later_max[m] <= rate[m]:
            continue
        # paid: month m pays postpaid, so every lot valid in month m is empty after it.
        paid = prob.add_variable(f"paid{tag}_{m}", cat="Binary")
        prob += resid[m] - covered[m] <= resid[m] * paid, f"paid{tag}_{m}"
        for c, (first, last, _, amount, ub) in single.items():
            if first <= m <= last:
                drawn = pulp.lpSum(use[c, j] for j in active if j <= m and (c, j) in use)
                prob += amount - drawn <= ub * (1 - paid), f"empty{tag}_{c[0]}{c[1]}_{m}"
        if m in bal:
            prob += bal[m] <= bal[m].upBound * (1 - paid), f"poolempty{tag}_{m}"
    return covered


def _cohort_block(prob, lots, resid, T, tag) -> dict:
    """One scenario's draws in billing's order: each lot a cohort, soonest-expiring first
    (a holding before a purchase expiring the same month). Returns month -> calls drawn."""
    alive = {c: [m for m in range(first, min(T, last + 1)) if resid[m] > 0]
             for c, (first, last, _, _, _) in lots.items()}
    # use[c, m]: calls of month m drawn from lot c; left[c, m]: its balance after month m.
    use = {(c, m): prob.add_variable(f"use{tag}_{c[0]}{c[1]}_{m}", 0, resid[m])
           for c in lots for m in alive[c]}
    left = {(c, m): prob.add_variable(f"left{tag}_{c[0]}{c[1]}_{m}", 0, ub)
            for c, (first, last, _, _, ub) in lots.items()
            for m in range(first, min(T, last + 1))}
    # gone[c, m]: lot c is empty after month m's draw (later-expiring lots may draw).
    gone = {(c, m): prob.add_variable(f"gone{tag}_{c[0]}{c[1]}_{m}", cat="Binary")
            for c in lots for m in alive[c]}
    for c, (first, last, _, amount, ub) in lots.items():
        for m in range(first, min(T, last + 1)):
            prev = left[c, m - 1] if m > first else amount
            # A lot's balance falls by what each month draws from it.
            prob += left[c, m] == prev - use.get((c, m), 0), f"left{tag}_{c[0]}{c[1]}_{m}"
            if (c, m) in gone:
                # Empty means empty.
                prob += left[c, m] <= ub * (1 - gone[c, m]), f"gone{tag}_{c[0]}{c[1]}_{m}"
    covered = {}
    for m in range(T):
        if resid[m] == 0:
            continue
        order = sorted((c for c in lots if (c, m) in use), key=lambda c: lots[c][2])
        covered[m] = pulp.lpSum(use[c, m] for c in order)
        if not order:
            continue
        paid = prob.add_variable(f"paid{tag}_{m}", cat="Binary")
        # Packs draw no more than the month's calls; postpaid only once every lot is empty ...
        prob += covered[m] <= resid[m], f"cover{tag}_{m}"
        prob += resid[m] - covered[m] <= resid[m] * paid, f"paid{tag}_{m}"
        for i, c in enumerate(order):
            prob += paid <= gone[c, m], f"paidgone{tag}_{c[0]}{c[1]}_{m}"
            # ... and a later-expiring lot draws only once the earlier ones are empty.
            for later in order[i + 1:]:
                prob += use[later, m] <= resid[m] * gone[c, m], \
                    f"fifo{tag}_{c[0]}{c[1]}_{later[0]}{later[1]}_{m}"
    return covered


# --------------------------------------------------------------------------- worst case

def worst_case_by_generation(req, index: int, group: list[str], solve_group):
    """The worst-case plan of `group` over every scenario, from integer programs over a few.

    The dearest scenario's cost over a subset of the scenarios is at most that over all of
    them, so the subset's optimum bounds the true one from below. Start from the scenario
    with the most calls, solve, bill the plan under every scenario, and stop when no
    scenario costs more than the subset's optimum: the plan then reaches the bound, and
    (its tie-break keys minimised over a larger set of plans) it is also the plan the
    tie-break prefers. Otherwise add the dearest scenario and solve again. Scaled
    scenarios usually need one or two rounds instead of one model over all of them.

    `solve_group(req, index, group)` is engines.by_integer_program.
    """
    from dataclasses import replace

    order = sorted(range(len(req.scenarios)), reverse=True,
                   key=lambda k: sum(sum(req.scenarios[k].forecast.calls(pid)) for pid in group))
    chosen = [order[0]]
    seconds = build = 0.0
    while True:
        if len(chosen) == 1:
            # One scenario: its plain optimum (the single-forecast models).
            only = req.scenarios[chosen[0]].forecast
            sub = replace(req, forecast=only, scenarios=(), weights=(1,))
        else:
            sub = replace(req, scenarios=tuple(req.scenarios[k] for k in chosen),
                          weights=tuple(req.weights[k] for k in chosen))
        result = solve_group(sub, index, group)
        seconds += result.seconds
        build += result.build_seconds
        result = replace(result, seconds=seconds, build_seconds=build)
        if result.objective is None:
            return result            # out of time before any plan: buying nothing stands
        costs = [billed_units(req, group, result.counts, f) for f in req.series]
        worst = max(costs)
        if not result.optimal or worst <= result.objective:
            # Proven (the plan reaches the subset's bound), or stopped with the subset's
            # bound still a bound.
            return replace(result, objective=worst, bound=min(result.bound, worst))
        chosen.append(max((k for k in range(len(costs)) if k not in chosen),
                          key=lambda k: costs[k]))


def billed_units(req, group, counts: dict, forecast) -> int:
    """What the billing engine charges `group` under `forecast` for the engines' counts
    (money units)."""
    from ..billing import bill
    from ..domain.records import Forecast, Plan, Purchase

    start = req.forecast.start
    purchases = []
    for pid in group:
        for key, k in counts.get(pid, {}).items():
            month, size = (0, key) if isinstance(key, int) else key
            if k:
                purchases.append(Purchase(pid, start + month, size, k))
    holdings = tuple(h for h in req.holdings if h.product in group)
    sub = Forecast(start, forecast.months, tuple((pid, forecast.calls(pid)) for pid in group))
    b = bill(req.catalog, sub, Plan(tuple(purchases)), holdings)
    return sum(to_units(b.product(pid).total_cost, req.scale) for pid in group)
