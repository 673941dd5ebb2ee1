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

Under `after-packs` more pack usage can push a month into a dearer tier, so neither a
draw below the maximum nor skipped balance may be left to the model: each scenario is
the same stream of purchases, with billing's start and draw written exactly (one binary
each a month, `_after_stream_block`) and tier binaries on the calls packs leave. With a
holding that outlives new packs, with prorata credit, and under `algorithm="milp"`, each
scenario gets the general cohort block (draw order and tier binaries) instead.

A purchase holding a pack that no scenario could draw within its validity is dearer than
the same purchase without it (the draws are the same), so each month's capacity stays
below its largest window's demand plus the largest pack.
"""

from __future__ import annotations

import math

import numpy as np
import pulp

from ..billing import month_fee
from ..domain.catalog import Product
from ..domain.money import to_units
from .any_milp import purchase_counts, useful_packs
from .knapsack import INF
from .start_milp import ProductModel, add_credit, postpaid_expr

HULL_POINTS = 2_000_000   # capacities priced for the spend cuts; beyond it, no cuts
HULL_VERTICES = 20_000    # points a hull is taken over; a finer lattice is blocked first


def _buy_months(series_resid, window, basis: str, start_only: bool, idle: bool) -> list:
    """The months a purchase may be made in. Under `total`, just in time: a purchase in a
    month with no calls to serve can wait for the next one at the same spend. `idle`:
    months without calls may buy too, as they must under a cap per month or block (waiting
    can move a purchase into a month or block with no room: a plan 10 CNY dearer than the
    optimum was called optimal, found by benchmarks/cross_milp.py) and under prorata (the
    end's larger packs bought a month early are drawn first and leave the balance in a
    dearer pack)."""
    if start_only:
        return [0] if window[0] > 0 else []
    if basis == "total" and not idle:
        return [t for t in range(len(window)) if any(r[t] > 0 for r in series_resid)]
    return [t for t in range(len(window)) if window[t] > 0]


# Long (102 lines): the shared purchases and their bounds, then one block per scenario by
# its route, which share those locals; the blocks themselves are functions of their own.
def add_any_scenarios(prob: pulp.LpProblem, product: Product, series_calls, series_resid,
                      validity: int, basis: str, scale: int, tag: str = "", late=(),
                      start_only: bool = False, plain: bool = False,
                      prorata: bool = False, ahead: bool = False) -> ProductModel:
    """One product's shared purchases and one usage block per scenario.

    `series_calls[k]`, `series_resid[k]`: scenario k's calls and what new packs can serve
    (after the free quota and the holdings drawn before any new pack). `late`: (last usable
    month index, calls) of holdings that outlive some new pack. `start_only`: purchases in
    the first month only. `pm.postpaid[k]` is scenario k's postpaid cost (money units).
    `plain`: the general cohort block under `total` too (for comparison: benchmarks).
    `prorata`: `pm.postpaid[k]` is less scenario k's carry-over credit: the balance each
    purchase row still holds at the horizon's end under that scenario's draws, credited
    row by row as billing does (start_milp.add_credit; each scenario a cohort block, whose
    draw order decides which rows hold the balance).
    `ahead`: a cap per month or 12-month block applies, so buying ahead of demand can pay.
    """
    T, V = len(series_resid[0]), validity
    pm = ProductModel(product)
    windows = [[sum(r[t:t + V]) for t in range(T)] for r in series_resid]
    window = [max(w[t] for w in windows) for t in range(T)]
    # (With prorata every pack stays: the dominance argument of useful_packs ignores credit.)
    packs = list(product.packs) if prorata and max(window, default=0) > 0 else \
        useful_packs(product, max(window, default=0), basis)
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
    buy_months = _buy_months(series_resid, window, basis, start_only,
                             idle=ahead or prorata) if packs else []

    # x[t, s]: packs of size s bought at the start of month t (shared by every scenario).
    x = purchase_counts(prob, product, packs, buy_months, window, s_max, tag)
    pm.counts = x
    pm.pack_spend = pulp.lpSum(price[s] * v for (t, s), v in x.items())
    bought = {t: pulp.lpSum(s * x[t, s] for s in price if (t, s) in x) for t in buy_months}
    # Lots: key -> (first month, last usable month, draw order key, capacity, capacity bound).
    lots, ubs = {}, {}
    for t in buy_months:
        if any((t, s) in x for s in price):
            ub = window[t] + s_max - 1
            # A pack no scenario can draw only adds its price.
            prob += bought[t] <= ub, f"cap{tag}_{t}"
            lots["b", t] = (t, t + V - 1, (t + V - 1, 1, t), bought[t], ub)
            ubs[t] = ub
    for i, (expiry, amount) in enumerate(late):
        lots["h", i] = (0, expiry, (expiry, 0, i), amount, amount)
    # Under `total` with nothing but new packs and no credit: the stream model.
    # Under `after-packs` too (issue #15), with every month's draw forced to billing's.
    stream = not plain and not late and not prorata
    if stream:
        useful = _spend_cuts(prob, x, bought, price, ubs, window, tag,
                             exact=pm.relaxable if basis != "total" else None)
        # cum[t]: useful calls bought at the start of months 0..t (the stream's end).
        cum, prev = {}, 0
        for t in sorted(ubs):
            cum[t] = prob.add_variable(f"cum{tag}_{t}", 0, sum(ubs[u] for u in ubs if u <= t))
            prob += cum[t] == prev + useful[t], f"cum{tag}_{t}"
            prev = cum[t]
    for k, (calls, resid) in enumerate(zip(series_calls, series_resid)):
        stag = f"{tag}k{k}"
        if stream and basis != "total":
            covered = _after_stream_block(prob, cum, ubs, resid, T, V, stag)
            pm.postpaid.append(pulp.lpSum(
                postpaid_expr(prob, product, m, calls[m],
                              calls[m] - min(calls[m], product.free_calls) - resid[m],
                              resid[m], covered[m], basis, scale, stag)
                for m in range(T) if resid[m] > 0))
        elif stream:
            rate = [to_units(product.rate(d)[0], scale) for d in calls]
            covered = _stream_block(prob, cum, ubs, resid, rate, T, V, stag)
            pm.postpaid.append(pulp.lpSum(rate[m] * (resid[m] - covered[m])
                                          for m in range(T) if resid[m] > 0))
        elif basis == "total" and not plain and not prorata:
            rate = [to_units(product.rate(d)[0], scale) for d in calls]
            covered = _total_block(prob, lots, resid, rate, T, stag)
            pm.postpaid.append(pulp.lpSum(rate[m] * (resid[m] - covered[m])
                                          for m in range(T) if resid[m] > 0))
        else:
            covered, left = _cohort_block(prob, lots, resid, T, stag)
            cost = [postpaid_expr(prob, product, m, calls[m],
                                  calls[m] - min(calls[m], product.free_calls) - resid[m],
                                  resid[m], covered[m], basis, scale, stag)
                    for m in range(T) if resid[m] > 0]
            if prorata:
                # Purchases still valid after the horizon: what this scenario leaves in
                # them is credited per row.
                for t in buy_months:
                    rows = {s: x[t, s] for s in price if (t, s) in x}
                    if t + V - 1 >= T and rows:
                        cost.append(-add_credit(prob, product, rows, left[("b", t), T - 1],
                                                t + V - T, V, scale, f"{stag}_{t}",
                                                lots["b", t][4]))
            pm.postpaid.append(pulp.lpSum(cost))
        pm.constants.append(0)
    return pm


def _spend_cuts(prob, x, bought, price, ubs, window, tag, exact: list | None = None
                ) -> dict:
    """Each purchase's useful capacity, and cuts bounding its spend from below by it.
    Returns month -> the capacity the stream model counts (an expression or variable).

    Under zero carry-over value a lot bought in month t serves at most `window[t]` calls
    in any scenario, so a capacity C draws in every scenario as min(C, W) would, W the
    window rounded up to the pack sizes' lattice: a capacity of at least the window is
    never drawn empty before it lapses (or exactly at its end). The stream counts that
    useful capacity u[t] ≤ min(C, W) (the model sets it as large as it may: balance
    never costs more), and the spend is at
    least h(u[t]), h(u) the least spend of any capacity of at least u, so at least the
    lower convex hull of h, as cuts. The relaxation's own bound is the hull of the
    spend over every capacity up to the cap, a fraction of a pack far larger than the
    window at that pack's price per call; this one prices the window at what covering it
    costs. Capacities beyond the largest of the least spend covering the window draw the
    same and cost more: cut off (that largest one stays, for the tie-break's "more
    calls").

    `exact` (under `after-packs`, where balance can cost more: drawing less may lower a
    month's tier), a list: u[t] = min(C, W) exactly, with one binary a purchase month,
    each appended to the list. Without them (u[t] ≤ min(C, W): the model may leave some
    of a purchase undrawn) the model is a relaxation, often tight and sometimes far
    faster to prove (`engines._relaxed_first`).
    """
    from .knapsack import cheapest_spend
    sizes = sorted(price)
    useful = dict(bought)
    if not sizes or not ubs:
        return useful
    step = math.gcd(*sizes)
    n = max(ubs.values()) // step + 1
    if n > HULL_POINTS:
        return useful
    spend = cheapest_spend([(s // step, price[s]) for s in sizes], n)
    for t, ub in ubs.items():
        here = [s for s in sizes if (t, s) in x]
        need = -(-min(window[t], ub) // step)    # lattice points below the window
        w = need * step                          # the window, up to the lattice
        g = spend[:ub // step + 1]
        top = g[need:]
        if not here or not len(top) or top.min() >= INF:
            continue
        best = int(top.min())
        hi = need + int(np.nonzero(top == best)[0][-1])
        calls = pulp.lpSum(s * x[t, s] for s in here)
        # No more than the largest capacity of the least spend covering the window.
        prob += calls <= hi * step, f"enough{tag}_{t}"
        # u: the capacity lot t is counted with in every scenario's stream. (Whole lattice
        # steps as an integer variable would guard against a count left at k + 1e-6 by
        # the solver's tolerance, but made one product 5x slower; _verify re-bills
        # anyway.)
        u = prob.add_variable(f"useful{tag}_{t}", 0, w)
        prob += u <= calls, f"useful{tag}_{t}"
        if exact is not None:
            # over: the purchase holds at least the window, so it counts as the window.
            over = prob.add_variable(f"over{tag}_{t}", cat="Binary")
            exact.append(over)
            prob += u >= w * over, f"usefulw{tag}_{t}"
            prob += u >= calls - hi * step * over, f"usefulc{tag}_{t}"
        useful[t] = u
        # h below the window: the least spend of a capacity at least this large.
        h = np.minimum.accumulate(g[::-1])[::-1][:need]
        at = np.arange(need) * step
        if need > HULL_VERTICES:
            # A lattice too fine for a hull in Python (1-call packs: 48 months took 95 s).
            # h never falls, so on each block of points it is at least its value at the
            # block's start: the hull of that step function (both ends of each step) lies
            # below h, a little weaker than h's own.
            block = -(-need // (HULL_VERTICES // 2))
            starts = np.arange(0, need, block)
            at = np.stack([starts, np.minimum(starts + block - 1, need - 1)], 1) \
                .reshape(-1) * step
            h = np.repeat(h[starts], 2)
        add_hull_cuts(prob, pulp.lpSum(price[s] * x[t, s] for s in here), u,
                      lower_hull(np.append(at, w).tolist(), np.append(h, best).tolist()),
                      f"hull{tag}_{t}")
    return useful


def add_hull_cuts(prob, spent, amount, hull: list, name: str) -> None:
    """Rows keeping `spent` on or above each segment of `hull` at `amount` (half a unit
    of slack against the slope's rounding; spend is a whole number of units)."""
    for j, ((c0, v0), (c1, v1)) in enumerate(zip(hull, hull[1:])):
        slope = (v1 - v0) / (c1 - c0)
        prob += spent >= v0 + slope * (amount - c0) - 0.5, f"{name}_{j}"


def lower_hull(at: list, values: list) -> list[tuple[int, int]]:
    """The lower convex hull of the points (at[i], values[i]), `at` increasing (points at
    INF left out)."""
    hull: list[tuple[int, int]] = []
    for c, v in zip(at, values):
        if v >= INF:
            continue
        while len(hull) >= 2 and ((hull[-1][1] - hull[-2][1]) * (c - hull[-2][0])
                                  >= (v - hull[-2][1]) * (hull[-1][0] - hull[-2][0])):
            hull.pop()
        hull.append((c, v))
    return hull


def _stream_block(prob, cum, ubs, resid, rate, T, V, tag) -> dict:
    """One scenario's draws under `total` as a position in the stream of purchases (no
    holding outlives new packs). Returns month -> calls drawn from packs (an expression).

    New packs share one validity, so soonest-expiring first is purchase order: the lots
    are one stream, P(m) the calls bought up to month m, and a scenario's state is how far
    into it it has drawn or lost. Month m starts at a(m) = max(q(m-1), P(m-V)) (the lots
    bought up to m-V lapsed at the end of month m-1), draws d(m) ≤ min(resid, P(m) - a(m)),
    and ends at q(m) = a(m) + d(m). The model may set a(m) above that maximum (it only
    loses balance) and, without a binary, draw less than it can; by induction over the
    months, with draw-max in every month (d = resid, or d = P(m) - a(m)) its position is
    never behind billing's and it draws no more in any month, so its cost is billing's
    or more, and billing's draw is one of its solutions.

    Draw-max needs a binary only in a month that some later month of the scenario pays a
    higher rate than: drawing δ more in a month whose rate no later month exceeds moves
    the position by δ, so later months lose at most δ calls in all, each at a rate no
    higher (forward, month by month, this turns any solution into billing's draw at no
    higher cost; every month that had draw-max keeps it). Later here means up to the
    horizon's end, not only within the validity: a position moved ahead can reach past a
    lapse boundary and cost a draw after it. One binary a month at most per scenario, and
    continuous positions, instead of a usage variable per lot and month.
    """
    later_max, top = {}, 0
    for m in reversed([m for m in range(T) if resid[m] > 0]):
        later_max[m] = top
        top = max(top, rate[m])

    covered, prev = {}, None
    for m, here, lapse, avail_ub, _ in _stream_months(cum, ubs, resid, T, V):
        if avail_ub is None:
            covered[m] = 0
            continue
        # a[m]: stream position where month m starts drawing; d[m]: calls it draws.
        a = prob.add_variable(f"pos{tag}_{m}", 0)
        d = prob.add_variable(f"draw{tag}_{m}", 0, min(resid[m], avail_ub))
        if prev is not None:
            # Month m starts where the last one ended ...
            prob += a >= prev, f"after{tag}_{m}"
        if lapse is not None:
            # ... or past the lots that have lapsed.
            prob += a >= lapse, f"lapse{tag}_{m}"
        # A month draws only what the live lots hold.
        prob += d <= here - a, f"avail{tag}_{m}"
        if later_max[m] > rate[m]:
            # paid: month m pays postpaid, so it draws every live lot empty.
            paid = prob.add_variable(f"paid{tag}_{m}", cat="Binary")
            prob += resid[m] - d <= resid[m] * paid, f"paid{tag}_{m}"
            prob += here - a - d <= avail_ub * (1 - paid), f"drained{tag}_{m}"
        covered[m] = d
        prev = a + d
    return covered


def _stream_months(cum, ubs, resid, T, V):
    """The walk both stream blocks share: for each month with calls left for packs, in
    order, (m, P(m), P(m-V) or None when no purchase has lapsed, the live purchases'
    largest capacity or None when no purchase can serve month m, the lapsed purchase
    months). P(m) = cum at the last purchase month up to m: calls bought by then."""
    months = sorted(ubs)             # purchase months with some pack on offer

    def upto(m):
        return cum[max(t for t in months if t <= m)]

    for m in range(T):
        if resid[m] <= 0:
            continue
        live = [t for t in months if m - V < t <= m]
        if not live:
            yield m, None, None, None, []
            continue
        gone = [t for t in months if t <= m - V]
        yield m, upto(m), upto(m - V) if gone else None, sum(ubs[t] for t in live), gone


def _after_stream_block(prob, cum, ubs, resid, T, V, tag) -> dict:
    """One scenario's draws under `after-packs` as a position in the stream of purchases
    (no holding outlives new packs, no credit). Returns month -> calls drawn from packs.

    As in `_stream_block`, the lots are one stream in purchase order (new packs share one
    validity, so soonest-expiring first is purchase order; packs bought in the same month
    are one lot), P(m) = cum is the calls bought up to month m (each purchase counted
    with its useful capacity min(C, W), which `_spend_cuts` shows draws exactly as C in
    every scenario), and billing's draw is, month by month over the months with calls
    left for packs,

        a(m) = max(q(prev), P(m-V)),   d(m) = min(resid(m), P(m) - a(m)),   q(m) = a(m) + d(m)

    (q(prev): where the last month with calls ended; months without calls draw nothing,
    and P is nondecreasing, so the lapse at m-V covers every lapse since). Under
    `after-packs` drawing less can be cheaper (the tier volume, calls − pack usage,
    rises and may reach a lower rate), and so can skipping balance, so neither the max
    nor the min may be relaxed: each is written exactly with one binary (`lapsed`: the
    draw starts at the lapse boundary, else where the last month ended; `full`: the month
    is covered, else every live lot is drained). For given counts every variable is then
    fixed to billing's value (ties aside, where both sides agree), so the model's cost of
    any purchases is their bill, and its optimum is the true optimum. The big-Ms are the
    largest capacities that can lie between the two terms.
    """
    months = sorted(ubs)             # purchase months with some pack on offer
    covered, prev = {}, None
    for m, here, lapse, avail_ub, gone in _stream_months(cum, ubs, resid, T, V):
        if avail_ub is None:
            covered[m] = 0
            continue
        if prev is None:
            a = lapse if lapse is not None else 0
        elif lapse is None:
            a = prev
        else:
            # a: where month m starts drawing, the later of the two.
            a = prob.add_variable(f"pos{tag}_{m}", 0, sum(ubs[t] for t in months if t <= m))
            lapsed = prob.add_variable(f"lapsed{tag}_{m}", cat="Binary")
            prob += a >= prev, f"after{tag}_{m}"
            prob += a >= lapse, f"lapse{tag}_{m}"
            # prev ≤ P(m-1) and lapse ≥ 0: the gaps are at most these capacities.
            prob += a <= prev + sum(ubs[t] for t in gone) * lapsed, f"afterub{tag}_{m}"
            prob += a <= lapse + sum(ubs[t] for t in months if m - V < t < m) * (1 - lapsed), \
                f"lapseub{tag}_{m}"
        d = prob.add_variable(f"draw{tag}_{m}", 0, min(resid[m], avail_ub))
        # A month draws no more than the live lots hold ...
        prob += d <= here - a, f"avail{tag}_{m}"
        # ... and as much as they hold, up to its calls (billing draws automatically).
        full = prob.add_variable(f"full{tag}_{m}", cat="Binary")
        prob += d >= resid[m] * full, f"full{tag}_{m}"
        prob += d >= here - a - avail_ub * full, f"drained{tag}_{m}"
        covered[m] = d
        prev = a + d
    return covered


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
    (a holding before a purchase expiring the same month). Returns (month -> calls drawn,
    (lot, month) -> the lot's balance after that month)."""
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
    return covered, left


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
        if not result.optimal or worst <= result.objective or len(chosen) == len(costs):
            # Proven (the plan reaches the subset's bound), or stopped with the subset's
            # bound still a bound. (Every scenario in and still above: the model and the
            # bill disagree, which the planner's verification reports.)
            return replace(result, objective=worst, bound=min(result.bound, worst))
        chosen.append(max((k for k in range(len(costs)) if k not in chosen),
                          key=lambda k: costs[k]))


def billed_units(req, group, counts: dict, forecast) -> int:
    """What the billing engine charges `group` under `forecast` for the engines' counts
    (money units; with prorata carry-over, less the credit: what the models minimise)."""
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
    return sum(to_units(b.product(pid).total_cost - (b.product(pid).carry_over_value
                                                      if req.prorata else 0), req.scale)
               for pid in group)
