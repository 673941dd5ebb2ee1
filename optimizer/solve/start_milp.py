"""The start-mode integer program (PuLP): one product's packs against its postpaid overflow.

Start mode (all packs bought in the horizon's first month) reduces to one number per
product, the new capacity C = Σ size·count, because every new pack shares one expiry.
Packs are drawn automatically in month order, so C fills the months' residual demand
greedily: the "incremental" piecewise-linear formulation below encodes exactly that
fill (month k may draw only if every earlier month is full) with binaries whose big-M
constants are the months' own demands, which keeps the relaxation tight.

Money is in integer units (fen, or finer if the catalog needs it), so every integer
solution has an integer objective and a gap below one unit proves optimality.
`ProductModel` and `postpaid_expr` are shared with the any-month program (any_milp.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pulp

from ..billing import Lot, month_fee
from ..domain.catalog import Product
from ..domain.money import to_units
from ..domain.months import Month
from .demand import count_bounds, residual_demand


@dataclass
class ProductModel:
    """Handles to one product's variables and cost expressions inside a PuLP problem."""

    product: Product
    counts: dict[int, pulp.LpVariable] = field(default_factory=dict)   # size -> packs bought
    pack_spend: pulp.LpAffineExpression | int = 0                       # money units
    postpaid: list = field(default_factory=list)   # per demand scenario, money units
    constants: list = field(default_factory=list)  # per scenario: postpaid no decision changes
    weighted: bool = False   # postpaid[0] is already the weighted sum over scenarios
    unit_prices: dict = field(default_factory=dict)   # pack size -> price, money units
    start: dict | None = None     # counts of a good plan for the solver to start from
    # Binaries that only make the model exact where a cheaper answer is rare: without
    # them it is a relaxation (engines._relaxed_first solves it so first).
    relaxable: list = field(default_factory=list)

    @property
    def cost(self):
        """Pack spend plus postpaid for a single-scenario model."""
        assert len(self.postpaid) == 1
        return self.pack_spend + self.postpaid[0]

    @property
    def constant(self) -> int:
        return self.constants[0]

    def price_of(self, key) -> int:
        """Price in money units of one pack behind a `counts` key (size or (month, size))."""
        size = key if isinstance(key, int) else key[1]
        return self.unit_prices[size]


def add_start_mode(prob: pulp.LpProblem, product: Product, calls, start: Month,
                   validity: int, basis: str, scale: int, held: list[Lot] = (),
                   tag: str = "", weights: list[int] | None = None,
                   prorata: bool = False) -> ProductModel:
    """Add one product's start-mode model to `prob`.

    `calls` is one demand series, or a list of series (scenarios) that share the pack
    decision; `pm.postpaid[k]` is then scenario k's postpaid cost. `held` are lots that
    expire no later than the new packs (they are drawn first). With `weights` (and the
    total tier basis) the scenarios' weighted postpaid is built as one chain instead, in
    `pm.postpaid[0]`, which is much tighter than one chain per scenario. With `prorata`
    and a horizon shorter than the validity, `pm.postpaid[k]` is less scenario k's
    carry-over credit (`add_credit`): what is minimised is then the net cost.
    """
    series = [tuple(calls)] if calls and isinstance(calls[0], int) else [tuple(c) for c in calls]
    T = len(series[0])
    window = min(validity, T)
    pm = ProductModel(product)
    fills = []
    for calls_k in series:
        resid = residual_demand(product, calls_k, start, held)
        used_held = [d - min(d, product.free_calls) - r for d, r in zip(calls_k, resid)]
        # Data: months the new packs can serve (inside validity, with demand left).
        months = [m for m in range(window) if resid[m] > 0] if product.packs else []
        constant = sum(to_units(month_fee(product, calls_k[m], used_held[m], basis)[4], scale)
                       for m in range(T) if m not in months)
        fills.append((calls_k, used_held, resid, months))
        pm.constants.append(constant)
    needs = [sum(resid[m] for m in months) for _, _, resid, months in fills]
    if not any(needs):
        pm.postpaid = list(pm.constants)
        return pm
    w_max = max(p.calls for p in product.packs)
    cap_ub = max(needs) + w_max      # more capacity than this: drop a pack, nothing changes
    bounds = count_bounds(product, cap_ub)

    # Variables.
    # n[s]: packs of size s bought in the first month.
    n = {p.calls: prob.add_variable(f"n{tag}_{p.calls}", 0, bounds[p.calls], cat="Integer")
         for p in product.packs}
    pm.counts = n
    capacity = pulp.lpSum(s * v for s, v in n.items())
    price = {p.calls: to_units(p.price, scale) for p in product.packs}
    pm.unit_prices = price
    pm.pack_spend = pulp.lpSum(price[s] * v for s, v in n.items())
    credit = prorata and T < validity        # the new packs outlive the horizon
    if weights is not None and len(series) > 1 and basis == "total" and not credit:
        pm.postpaid = [_weighted_chain(prob, product, capacity, fills, needs, weights, cap_ub,
                                       pm.constants, scale, tag)]
        pm.weighted = True
        return pm
    for k, ((calls_k, used_held, resid, months), need) in enumerate(zip(fills, needs)):
        stag = f"{tag}s{k}" if len(series) > 1 else tag
        covered, left = _add_drawdown(prob, capacity, resid, months, cap_ub - need, stag)
        postpaid = [postpaid_expr(prob, product, m, calls_k[m], used_held[m], resid[m],
                                   covered[m], basis, scale, stag) for m in months]
        if credit:
            # Every month is in the window, so what is left after them carries over.
            left = left if months else capacity
            postpaid.append(-add_credit(prob, product, n, left, validity - T, validity,
                                        scale, f"{stag}_0", max(cap_ub - need, 0)))
        pm.postpaid.append(pulp.lpSum(postpaid) + pm.constants[k])
    return pm


def add_credit(prob, product: Product, rows: dict, left, share: int, validity: int,
               scale: int, tag: str, most: int | None = None):
    """The prorata credit (money units) of one purchase month's rows, as billing values it
    (billing.carry_over_credit; docs/pricing.md, rule 7 and 'Readings').

    `rows`: pack size -> packs bought that month (variables); `left`: calls of that month's
    purchase still held at the horizon's end (at most `most` calls, if given); `share`:
    months of validity left after it.
    The rows are drawn smallest size first, so the largest holds the balance: `l[s]` is the
    balance of row s, filled from the largest size down (`full[s]`: row s holds all its
    calls, only then may a smaller row hold any). Each row's credit is rounded half up to
    the fen once: an integer `fen[s]` ≤ l[s] × price per call × share / validity × 100 + ½,
    which the minimisation pushes up to exactly that rounding; the half is granted only
    to a row that holds some calls (a binary), which keeps the relaxation from crediting
    half a fen per fraction of a call.
    """
    sizes = sorted(rows, reverse=True)
    price = {p.calls: to_units(p.price, scale) for p in product.packs}
    unit = scale // 100                        # money units per fen
    row = {s: s * (rows[s].upBound if rows[s].upBound is not None else 0) for s in sizes}
    ub = {s: min(u, most) if most is not None else u for s, u in row.items()}   # of l[s]
    # l[s]: calls of row s held at the horizon's end, whole calls (continuous, the solver's
    # tolerance on the big-M rows let a row hold a fraction of a call more than billing,
    # enough to round its credit up one fen).
    l = {s: prob.add_variable(f"held{tag}_{s}", 0, ub[s], cat="Integer") for s in sizes}
    prob += pulp.lpSum(l.values()) == left, f"heldsum{tag}"
    for i, s in enumerate(sizes):
        prob += l[s] <= s * rows[s], f"heldcap{tag}_{s}"
        if i + 1 < len(sizes):
            # full[s]: row s holds all its calls; a smaller row holds calls only then.
            full = prob.add_variable(f"heldfull{tag}_{s}", cat="Binary")
            prob += l[s] >= s * rows[s] - row[s] * (1 - full), f"heldfull{tag}_{s}"
            nxt = sizes[i + 1]
            prob += l[nxt] <= ub[nxt] * full, f"heldnext{tag}_{s}"
            if i > 0:
                prob += full <= prev_full, f"heldchain{tag}_{s}"
            prev_full = full
    credit = []
    for s in sizes:
        # Credit per call in fen, a/c in lowest terms (as billing.carry_over_credit):
        # price × share / validity × 100 fen per currency unit, per call.
        a, c = price[s] * share * 100, s * validity * scale
        g = math.gcd(a, c)
        a, c = a // g, c // g
        top = (2 * ub[s] * a + c) // (2 * c)
        # fen[s]: row s's credit in fen, rounded half up.
        fen = prob.add_variable(f"credit{tag}_{s}", 0, max(top, 0), cat="Integer")
        # some[s]: row s holds some calls at the end (no balance, no rounding up).
        some = prob.add_variable(f"creditsome{tag}_{s}", cat="Binary")
        prob += l[s] <= ub[s] * some, f"creditsome{tag}_{s}"
        # fen ≤ l·a/c + ½, in whole numbers: a solver's tolerance cannot round it up.
        prob += 2 * c * fen <= 2 * a * l[s] + c * some, f"credit{tag}_{s}"
        credit.append(unit * fen)
    return pulp.lpSum(credit)


def _weighted_chain(prob, product, capacity, fills, needs, weights, cap_ub, constants,
                    scale, tag):
    """Σ_k w_k · postpaid_k(C) under the total basis, as one piecewise-linear chain in C.

    Each scenario's postpaid falls linearly while C fills one of its months (at that
    month's fixed rate), so the weighted sum is linear between the union of all
    scenarios' cumulative needs; segments must fill in order, exactly as months do.
    """
    cumulative = []
    for (calls_k, _, resid, months), need in zip(fills, needs):
        run, steps = 0, []
        for m in months:
            run += resid[m]
            steps.append((run, to_units(product.rate(calls_k[m])[0], scale)))
        cumulative.append(steps)
    points = sorted({0} | {c for steps in cumulative for c, _ in steps})
    lengths, slopes = [], []
    for lo, hi in zip(points, points[1:]):
        slope = 0
        for w, steps in zip(weights, cumulative):
            rate = next((r for c, r in steps if c > lo), 0)   # month being filled at C = lo
            slope += w * rate
        lengths.append(hi - lo)
        slopes.append(slope)
    base = sum(w * (constants[k] + sum(to_units(product.rate(fills[k][0][m])[0], scale)
                                       * fills[k][2][m] for m in fills[k][3]))
               for k, w in enumerate(weights))
    fill, _ = _add_drawdown(prob, capacity, lengths, list(range(len(lengths))),
                            cap_ub - max(needs), tag)
    return base - pulp.lpSum(slopes[i] * fill[i] for i in range(len(lengths)))


def _add_drawdown(prob, capacity, resid: list[int], months: list[int], waste_ub: int,
                  tag: str) -> dict:
    """Calls each month draws from `capacity`, filled in month order as billing does it,
    and the capacity left when every month is covered."""
    if not months:
        return {}, 0
    # c[m]: calls of month m covered by the new packs.
    c = {m: prob.add_variable(f"c{tag}_{m}", 0, resid[m]) for m in months}
    # full[j]: the first j serviceable months are fully covered (j = 1..len(months)).
    full = {j: prob.add_variable(f"full{tag}_{j}", cat="Binary")
            for j in range(1, len(months) + 1)}
    # waste: capacity left when every month is covered (expires or carries over).
    waste = prob.add_variable(f"waste{tag}", 0, max(waste_ub, 0))

    # Capacity bought is drawn month by month or left over.
    prob += capacity == pulp.lpSum(c.values()) + waste, f"capacity{tag}"
    # Packs are drawn automatically in month order: month j may draw only once the months
    # before it are full, and a month that is full lets the next one draw.
    for j in range(1, len(months) + 1):
        prev = months[j - 1]
        prob += c[prev] >= resid[prev] * full[j], f"fill{tag}_{j}"
        if j < len(months):
            nxt = months[j]
            prob += c[nxt] <= resid[nxt] * full[j], f"order{tag}_{j}"
    # Capacity can be left over only when every month is covered.
    prob += waste <= max(waste_ub, 0) * full[len(months)], f"leftover{tag}"
    return c, waste


def postpaid_expr(prob, product: Product, m: int, d: int, held_used: int, resid: int,
                   covered, basis: str, scale: int, tag: str):
    """Postpaid fee of month m as a linear expression of the calls `covered` by new packs."""
    rates = product.tier_rates()
    if basis == "total":
        rate = product.rate(d)[0]
        return to_units(rate, scale) * (resid - covered)
    # after-packs: the tier is set by d − pack_used = free + postpaid, which depends on
    # `covered`; choose the tier with binaries (cost is not monotone in capacity).
    free = min(d, product.free_calls)
    lo_vol, hi_vol = free, free + resid           # range of the month's tier volume
    options = []
    lower = -1
    for up_to, rate, _ in rates:
        top = up_to if up_to is not None else hi_vol
        a, b = max(lower + 1, lo_vol), min(top, hi_vol)
        if a <= b:
            options.append((a - free, b - free, to_units(rate, scale)))   # postpaid range
        lower = top
        if up_to is None or up_to >= hi_vol:
            break
    if len(options) == 1:
        return options[0][2] * (resid - covered)
    pick = {k: prob.add_variable(f"tier{tag}_{m}_{k}", cat="Binary") for k in range(len(options))}
    part = {k: prob.add_variable(f"post{tag}_{m}_{k}", 0, options[k][1])
            for k in range(len(options))}
    # Exactly one tier is reached; the month's postpaid calls lie in that tier's range.
    prob += pulp.lpSum(pick.values()) == 1, f"onetier{tag}_{m}"
    prob += pulp.lpSum(part.values()) == resid - covered, f"postsplit{tag}_{m}"
    for k, (lo, hi, _) in enumerate(options):
        prob += part[k] <= hi * pick[k], f"tierhi{tag}_{m}_{k}"
        if lo > 0:
            prob += part[k] >= lo * pick[k], f"tierlo{tag}_{m}_{k}"
    return pulp.lpSum(options[k][2] * part[k] for k in range(len(options)))
