"""The any-month integer program (PuLP): packs may be bought at the start of any month.

Under the `total` tier basis a month's rate is fixed by its own calls, and delaying a
purchase to the month in which it is first drawn never lowers any month's pack usage
(later expiry, same FIFO position). So some optimal plan buys only in months where the
balance already held runs out ("just in time"); then at most one purchase has balance at
any month end, and the balance is one number per month. That structure gives a model with
one integer block per purchase month, a scalar balance and bounds taken from the demand
itself, instead of a usage variable per purchase and month.

Under `after-packs` more pack usage can push a month into a dearer tier, the argument
fails, and the general model below (each purchase its own cohort, drawn soonest-expiring
first) is used instead.
"""

from __future__ import annotations

import math

import numpy as np
import pulp

from ..billing import month_fee
from ..domain.catalog import Product
from ..domain.money import to_units
from .demand import count_bounds
from .start_milp import ProductModel, add_credit, postpaid_expr


def useful_packs(product: Product, window_need: int, basis: str = "total"):
    """Packs that can appear in an optimal plan (zero carry-over value): a pack dearer
    than covering the largest validity window's whole need with one size is never worth
    buying, nor one whose price per call is at least every postpaid rate. Each call it
    serves lowers a month's fee by at most that month's rate (under `after-packs` only
    when rates do not rise with volume: drawing packs lowers the tier volume), so it saves
    no more than it costs, and the tie-break prefers the lower spend."""
    if window_need <= 0 or not product.packs:
        return []
    cover = min(-(-window_need // p.calls) * p.price for p in product.packs)
    packs = [p for p in product.packs if p.price <= cover]
    rates = [r for _, r, _ in product.tier_rates()]
    if rates and (basis == "total" or all(a >= b for a, b in zip(rates, rates[1:]))):
        packs = [p for p in packs if p.price < p.calls * max(rates)]
    return packs


def add_any_mode(prob: pulp.LpProblem, product: Product, calls, resid, validity: int,
                 basis: str, scale: int, tag: str = "", late=(),
                 start_only: bool = False, just_in_time: bool = True,
                 prorata: bool = False, spend_cuts: bool = False) -> ProductModel:
    """One product's purchases in any month (or, with `start_only`, the first month only).

    `resid[m]`: calls of month m left after the free quota and the holdings that expire
    before any new pack. `late`: (last usable month index, calls) of holdings that outlive
    some new pack; they are cohorts drawn in expiry order like purchases (general model).
    `just_in_time=False` takes the general model under `total` too (needed when a cap per
    month or block can make buying ahead of demand pay).
    With `prorata`, `pm.postpaid[0]` is less the carry-over credit of the purchases that
    outlive the horizon, each cohort's (always the general model: the end's larger packs
    may pay to be bought a month early, even in a month without calls, so that they are
    drawn first; dynamic.py's docstring). `spend_cuts`: in the general model,
    bound each purchase's spend by what it serves (for a total or yearly cap).
    """
    T = len(resid)
    V = validity
    pm = ProductModel(product)
    window = [sum(resid[t:t + V]) for t in range(T)]     # need a purchase at t can serve
    # (With prorata every pack stays: the dominance argument of useful_packs ignores credit.)
    packs = list(product.packs) if prorata and max(window, default=0) > 0 else \
        useful_packs(product, max(window, default=0), basis)
    if late or start_only or not just_in_time or (prorata and packs):
        pm.unit_prices = {p.calls: to_units(p.price, scale) for p in packs}
        return _cohort_model(prob, pm, product, calls, resid, V, packs,
                             max((p.calls for p in packs), default=0), pm.unit_prices,
                             window, basis, scale, tag, late, start_only, prorata,
                             spend_cuts)
    if not packs:
        # Nothing worth buying: each month's bill as the billing engine charges it.
        pm.constants = [sum(to_units(month_fee(product, calls[m], calls[m] - min(
            calls[m], product.free_calls) - resid[m], basis)[4], scale) for m in range(T))]
        pm.postpaid = list(pm.constants)
        return pm
    s_max = max(p.calls for p in packs)
    price = {p.calls: to_units(p.price, scale) for p in packs}
    pm.unit_prices = price
    if basis == "total":
        return _jit_model(prob, pm, product, calls, resid, V, packs, s_max, price, window,
                          scale, tag)
    return _cohort_model(prob, pm, product, calls, resid, V, packs, s_max, price, window,
                         basis, scale, tag)


def purchase_counts(prob, product, packs, buy_months, window, s_max, tag) -> dict:
    """Integer pack counts per purchase month, bounded by what that month's packs can serve."""
    x = {}
    for t in buy_months:
        bounds = count_bounds(product, window[t] + s_max)
        for p in packs:
            if bounds[p.calls] > 0:
                x[t, p.calls] = prob.add_variable(f"x{tag}_{t}_{p.calls}", 0, bounds[p.calls],
                                                  cat="Integer")
    return x


def _jit_model(prob, pm, product, calls, resid, V, packs, s_max, price, window, scale, tag):
    T = len(resid)
    buy_months = [t for t in range(T) if resid[t] > 0]   # a purchase waits for demand
    # Largest balance worth carrying out of month m: what the next V-1 months can draw,
    # plus less than one pack (one pack more would only expire).
    cap = [sum(resid[m + 1:m + V]) + s_max for m in range(T)]

    # Variables.
    # x[t, s]: packs of size s bought at the start of month t.
    x = purchase_counts(prob, product, packs, buy_months, window, s_max, tag)
    # y[t]: some pack is bought in month t.
    y = {t: prob.add_variable(f"y{tag}_{t}", cat="Binary") for t in buy_months}
    # u[m]: calls of month m drawn from packs; bal[m]: balance at the end of month m.
    u = {m: prob.add_variable(f"u{tag}_{m}", 0, resid[m]) for m in range(T)}
    bal = {m: prob.add_variable(f"bal{tag}_{m}", 0, cap[m]) for m in range(T)}
    # lost[m]: balance that expires at the end of month m.
    lost = {m: prob.add_variable(f"lost{tag}_{m}", 0) for m in range(T)}
    # full[m]: month m draws all its calls from packs (no postpaid).
    full = {m: prob.add_variable(f"full{tag}_{m}", cat="Binary") for m in range(T)
            if resid[m] > 0}
    pm.counts = x

    # Constraints.
    for m in range(T):
        bought = pulp.lpSum(s * x[m, s] for s in (p.calls for p in packs) if (m, s) in x)
        before = bal[m - 1] if m > 0 else 0
        # Balance flows: what was held plus what is bought, less what is drawn or expires.
        prob += bal[m] == before + bought - u[m] - lost[m], f"flow{tag}_{m}"
        if m in y:
            for s in (p.calls for p in packs):
                if (m, s) in x:
                    # A count is positive only in a purchase month.
                    prob += x[m, s] <= x[m, s].upBound * y[m], f"buy{tag}_{m}_{s}"
            # Just in time: a purchase month draws all the balance held before it.
            prob += before - u[m] <= (cap[m - 1] if m > 0 else 0) * (1 - y[m]), \
                f"jit{tag}_{m}"
        if m in full:
            # Packs are drawn automatically: postpaid only once the balance is gone.
            prob += u[m] >= resid[m] * full[m], f"drawn{tag}_{m}"
            prob += bal[m] <= cap[m] * full[m], f"empty{tag}_{m}"
        else:
            prob += u[m] == 0, f"nodemand{tag}_{m}"
        # Balance outlives month m only if its purchase is less than V months old.
        recent = [y[t] for t in range(max(0, m - V + 2), m + 1) if t in y]
        prob += bal[m] <= cap[m] * pulp.lpSum(recent) if recent else bal[m] == 0, \
            f"expiry{tag}_{m}"

    pm.pack_spend = pulp.lpSum(price[s] * v for (t, s), v in x.items())
    rate = [to_units(product.rate(calls[m])[0], scale) for m in range(T)]
    pm.constants = [0]
    pm.postpaid = [pulp.lpSum(rate[m] * (resid[m] - u[m]) for m in range(T))]
    return pm


# Long (92 lines): one model's rows in the order the docstring explains them; split, the
# shared variables would travel through many small functions.
def _cohort_model(prob, pm, product, calls, resid, V, packs, s_max, price, window, basis,
                  scale, tag, late=(), start_only=False, prorata=False, spend_cuts=False):
    """General model: each month's purchase (and each late holding) is a cohort, drawn
    soonest-expiring first (a holding before a purchase expiring the same month)."""
    T = len(resid)
    buy_months = [t for t in range(T) if window[t] > 0 and (t == 0 or not start_only)] \
        if packs else []
    # Variables.
    # x[t, s]: packs of size s bought at the start of month t.
    x = purchase_counts(prob, product, packs, buy_months, window, s_max, tag)
    # Cohorts: key -> (first month, last usable month, draw order key, capacity bound).
    cohorts = {("b", t): (t, t + V - 1, (t + V - 1, 1, t), window[t] + s_max)
               for t in buy_months}
    for i, (expiry, amount) in enumerate(late):
        cohorts["h", i] = (0, expiry, (expiry, 0, i), amount)
    alive = {c: [m for m in range(first, min(T, last + 1)) if resid[m] > 0]
             for c, (first, last, _, _) in cohorts.items()}
    # use[c, m]: calls of month m drawn from cohort c.
    use = {(c, m): prob.add_variable(f"use{tag}_{c[0]}{c[1]}_{m}", 0, resid[m])
           for c in cohorts for m in alive[c]}
    # left[c, m]: cohort c's balance after month m's draw (m in its validity).
    left = {(c, m): prob.add_variable(f"left{tag}_{c[0]}{c[1]}_{m}", 0, ub)
            for c, (first, last, _, ub) in cohorts.items()
            for m in range(first, min(T, last + 1))}
    # gone[c, m]: cohort c is empty after month m's draw (later cohorts may draw).
    gone = {(c, m): prob.add_variable(f"gone{tag}_{c[0]}{c[1]}_{m}", cat="Binary")
            for c in cohorts for m in alive[c]}
    # paid[m]: month m pays postpaid (every cohort alive is empty).
    paid = {m: prob.add_variable(f"paid{tag}_{m}", cat="Binary") for m in range(T)
            if resid[m] > 0}
    pm.counts = x

    # Constraints.
    for c, (first, last, _, ub) in cohorts.items():
        if c[0] == "b":
            start = pulp.lpSum(s * x[first, s] for s in (p.calls for p in packs)
                               if (first, s) in x)
        else:
            start = ub
        for m in range(first, min(T, last + 1)):
            prev = left[c, m - 1] if m > first else start
            drawn = use[c, m] if (c, m) in use else 0
            # A cohort's balance falls by what each month draws from it.
            prob += left[c, m] == prev - drawn, f"left{tag}_{c[0]}{c[1]}_{m}"
            if (c, m) in gone:
                # Empty means empty.
                prob += left[c, m] <= ub * (1 - gone[c, m]), f"gone{tag}_{c[0]}{c[1]}_{m}"
    for m in range(T):
        if resid[m] == 0:
            continue
        order = sorted((c for c in cohorts if (c, m) in use), key=lambda c: cohorts[c][2])
        postpaid = resid[m] - pulp.lpSum(use[c, m] for c in order)
        # Packs draw no more than the month's calls.
        prob += postpaid >= 0, f"cover{tag}_{m}"
        # Postpaid only when every cohort alive is empty ...
        prob += postpaid <= resid[m] * paid[m], f"paid{tag}_{m}"
        for i, c in enumerate(order):
            prob += paid[m] <= gone[c, m], f"paidgone{tag}_{c[0]}{c[1]}_{m}"
            # ... and a later-expiring cohort draws only once the earlier ones are empty.
            for later in order[i + 1:]:
                prob += use[later, m] <= resid[m] * gone[c, m], \
                    f"fifo{tag}_{c[0]}{c[1]}_{later[0]}{later[1]}_{m}"

    pm.pack_spend = pulp.lpSum(price[s] * v for (t, s), v in x.items())
    if spend_cuts:
        # Under a total or yearly cap: each purchase costs at least the least spend of
        # what it serves (the relaxation otherwise buys fractions of the largest pack at
        # its price per call, and the cap's bound stays at the uncapped optimum).
        for t in buy_months:
            _drawn_hull_cuts(prob, {s: v for (u, s), v in x.items() if u == t}, price,
                             [use[("b", t), m] for m in alive["b", t]], window[t],
                             f"{tag}_{t}")
    cost = []
    for m in range(T):
        if resid[m] == 0:
            continue          # nothing left after the free quota and early holdings: no fee
        held_used = calls[m] - min(calls[m], product.free_calls) - resid[m]
        covered = pulp.lpSum(use[c, m] for c in cohorts if (c, m) in use)
        cost.append(postpaid_expr(prob, product, m, calls[m], held_used, resid[m], covered,
                                   basis, scale, tag))
    if prorata:
        # Purchases still valid after the horizon: their balance is credited per row.
        for t in buy_months:
            if t + V - 1 >= T:
                rows = {s: x[t, s] for s in (p.calls for p in packs) if (t, s) in x}
                if rows:
                    cost.append(-add_credit(prob, product, rows, left[("b", t), T - 1],
                                            t + V - T, V, scale, f"{tag}_{t}",
                                            cohorts["b", t][3]))
    pm.constants = [0]
    pm.postpaid = [pulp.lpSum(cost)]
    return pm


def _drawn_hull_cuts(prob, rows: dict, price: dict, draws: list, window: int,
                     tag: str) -> None:
    """Cuts bounding one purchase's spend (`rows`: size -> packs) from below by the calls
    drawn from it (the sum of `draws`): a mix that serves that many holds at least as
    many, so it costs at least h(drawn), h the least spend of any capacity of at least
    that, and so at least h's lower convex hull (valid whatever the rest is worth:
    carry-over credit, waste)."""
    from .knapsack import INF, cheapest_spend
    from .scenario_any import HULL_POINTS, HULL_VERTICES, add_hull_cuts, lower_hull
    if not rows or not draws:
        return
    sizes = sorted(rows)
    step = math.gcd(*sizes)
    need = -(-window // step)
    n = need + max(sizes) // step + 1
    if n > HULL_POINTS or need > HULL_VERTICES:
        return
    g = cheapest_spend([(s // step, price[s]) for s in sizes], n)
    h = np.minimum.accumulate(g[::-1])[::-1][:need + 1]
    if h[-1] >= INF:
        return
    add_hull_cuts(prob, pulp.lpSum(price[s] * v for s, v in rows.items()), pulp.lpSum(draws),
                  lower_hull((np.arange(need + 1) * step).tolist(), h.tolist()),
                  f"drawnhull{tag}")
