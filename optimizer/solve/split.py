"""Products that share a cap, planned exactly by splitting the cap's room between them.

The joint integer program of products that compete for a monthly, yearly or total cap
starts from a weak bound: its relaxation buys fractions of packs, so with each product's
own optimum as a floor the root bound is the sum of those floors, and the gap is the packs'
granularity (one 1,000,000-call pack takes a whole 30,000 CNY month). HiGHS closes it by
enumeration: the issue's 3 x 24 forecast with three scenarios under a 30,000 monthly cap
took 18 s and 22,916 nodes for the cost, 30 s more for the tie-break. Here each product
is planned alone in a share of the room, exactly (its own search or integer program,
whole packs), so a share's bound already prices the granularity; a few shares settle it.

**Nodes.** A node gives each product a room (`Room`: per month, per 12-month block, in
all). Its bound is the sum of each product's optimum in its room: every joint plan the
node holds gives each product a plan within its room, so no such plan costs less. When
the products' plans keep the caps together, the node is solved by them.

**Branching.** Otherwise some month (block, total) is over its cap C: the products
spend s_1 >= s_2 >= ... > 0 there, more than C in sum. Every joint plan spends less
than s_j on product j for a first j, and at least s_i on each product i before it; so
the children are, for each j, product j's room there at most s_j - 1 and every
product's but 1..j-1 at most C - (s_1 + ... + s_(j-1)) (no plan spends s_i on each).
Each child cuts off the plan of the product j it re-plans, and rooms only shrink by whole
units, so the search ends; a plan of no purchases fits every room, so some node is
solved.

**Order and the tie-break.** Nodes are taken least bound first, and the first whose plans
keep the caps is the optimum. Among equal costs the plan must have the least prepaid
spend, then the most calls, then the fewest packs: the key (cost, spend, -calls, packs)
adds over products, and each product's least key in its room (its solve with the
tie-break proven) bounds its part of any plan the node holds (equal cost in sum means
equal cost for each, and so on down the keys). So nodes are ordered by that key, and the
first one that keeps the caps has the least key of all. (Bounding by cost alone first
and keying only the nodes at the optimal cost was tried: the products' untied plans,
one of many at their cost, broke the caps where their least-key plans did not, and the
search split the optimal cost's many ties one by one: that command took 80 s end to
end, against 66 s keyed throughout and 95 s with the joint model.)

Gives up (None, with the least open bound, a floor for the joint model) after MAX_NODES
nodes, when its clock runs out, or when a product's solve is not proven. The planner
uses it under a monthly cap only: under a yearly or total cap a share shrinks by one
pack's price at a time, which a product meets by moving that pack to another month.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from ..domain.money import to_units
from .engines import YEAR, EngineResult, Request, Room, pack_size, spend_by_month

MAX_NODES = 40          # nodes taken from the queue before the joint model takes over


@dataclass(order=True)
class _Node:
    key: tuple                  # (cost, spend, -calls, packs) of its plans; (cost,) untied
    order: int
    rooms: tuple[Room, ...] = field(compare=False)
    plans: tuple[EngineResult, ...] = field(compare=False)


Solve = Callable[[str, Room, bool, int], EngineResult]


def _one_by_one(job: Callable[[int], Any], n: int) -> list:
    return [job(k) for k in range(n)]


def split_rooms(req: Request, names: list[str], solve_one: Solve, floors: dict[str, int],
                on_bound: Callable[[int], None] = lambda cost: None,
                in_threads: Callable[[Callable[[int], Any], int], list] = _one_by_one
                ) -> tuple[list[EngineResult] | None, int]:
    """The products' joint optimum under `req`'s caps (the others spend nothing), as one
    result per product, or None when the search gives up; and its proven lower bound on
    their total cost. `solve_one(pid, room, keyed, floor)`: the product's optimum within
    `room` (`keyed`: with its tie-break proven), `floor` a lower bound on its cost.
    `on_bound(cost)`: told each bound the search has proven on their cost, as it rises.
    `in_threads(job, n)`: [job(0), ..., job(n - 1)], at once where the caller allows."""
    whole = Room.of(req)
    memo: dict = {}
    prices = {pid: {p.calls: to_units(p.price, req.scale)
                    for p in req.catalog.product(pid).packs} for pid in names}
    months = req.forecast.months
    counter = itertools.count()

    def usage(r: EngineResult) -> list[int]:
        return spend_by_month(r.counts, {pid: prices[pid] for pid in r.counts}, months)

    def node(rooms: tuple[Room, ...], parent: tuple | None) -> _Node | None:
        plans = []
        for i, room in enumerate(rooms):
            pid = names[i]
            if (pid, room) not in memo:
                floor = floors.get(pid, 0)
                if parent is not None:
                    floor = max(floor, parent[i].objective)   # a smaller room costs no less
                got = solve_one(pid, room, req.tie_break, floor)
                proven = got.optimal and got.objective is not None and (
                    got.tie_break or not req.tie_break)
                memo[pid, room] = got if proven else None
            if memo[pid, room] is None:
                return None
            plans.append(memo[pid, room])
        cost = sum(r.objective for r in plans)
        if not req.tie_break:
            return _Node((cost,), next(counter), rooms, tuple(plans))
        bought = [(pack_size(k), n) for r in plans for c in r.counts.values()
                  for k, n in c.items()]
        return _Node((cost, sum(sum(usage(r)) for r in plans),
                      -sum(s * n for s, n in bought), sum(n for _, n in bought)),
                     next(counter), rooms, tuple(plans))

    root = node(tuple(whole for _ in names), None)
    if root is None:
        return None, sum(floors.get(pid, 0) for pid in names)
    queue, taken, seen = [root], 0, {root.rooms}
    while queue and taken < MAX_NODES and not req.clock.expired():
        n = heapq.heappop(queue)
        spent = [usage(r) for r in n.plans]
        over = _over(whole, spent)
        if over is None:
            return list(n.plans), n.key[0]
        taken += 1
        # (A child reached by another order of the same splits is there already.)
        fresh = [rooms for rooms in _children(n.rooms, spent, whole, over)
                 if rooms not in seen]
        seen.update(fresh)
        # Each child re-plans other products in other rooms: at once where the caller
        # allows (the 3 x 24 forecast under 30,000 a month: 15 s for its first two
        # one after the other).
        children = in_threads(lambda k: node(fresh[k], n.plans), len(fresh))
        if any(child is None for child in children):
            return None, min([n.key[0]] + [m.key[0] for m in queue])
        for child in children:
            heapq.heappush(queue, child)
        if queue:
            on_bound(queue[0].key[0])
    return None, min((m.key[0] for m in queue), default=0)


def _over(whole: Room, spent: list[list[int]]) -> tuple[str, int, int] | None:
    """The cap the products' spends break by the most: (kind, index, cap), or None."""
    total = [sum(s[t] for s in spent) for t in range(len(spent[0]))]
    worst = None
    for kind, index, used, cap in _limits(whole, total):
        if used > cap and (worst is None or used - cap > worst[0]):
            worst = (used - cap, kind, index, cap)
    return None if worst is None else worst[1:]


def _limits(room: Room, spent: list[int]):
    """(kind, index, spend, cap) of every cap in `room`, for spends by month `spent`."""
    if room.months is not None:
        for t, cap in enumerate(room.months):
            yield "month", t, spent[t], cap
    if room.blocks is not None:
        for b, cap in enumerate(room.blocks):
            yield "block", b, sum(spent[b * YEAR:(b + 1) * YEAR]), cap
    if room.total is not None:
        yield "total", 0, sum(spent), room.total


def _used(kind: str, index: int, spent: list[int]) -> int:
    if kind == "month":
        return spent[index]
    if kind == "block":
        return sum(spent[index * YEAR:(index + 1) * YEAR])
    return sum(spent)


def _capped(room: Room, kind: str, index: int, most: int) -> Room:
    """`room` with at most `most` left in one month, block or in all."""
    if kind == "total":
        return replace(room, total=min(room.total, most))
    values = list(room.months if kind == "month" else room.blocks)
    values[index] = min(values[index], most)
    return replace(room, **{"months" if kind == "month" else "blocks": tuple(values)})


def _children(rooms: tuple[Room, ...], spent: list[list[int]], whole: Room,
              over: tuple[str, int, int]) -> list[tuple[Room, ...]]:
    """The shares of the broken cap (module docstring, 'Branching')."""
    kind, index, cap = over
    used = [_used(kind, index, s) for s in spent]
    order = sorted((i for i in range(len(rooms)) if used[i] > 0), key=lambda i: -used[i])
    children, before = [], 0
    for j, q in enumerate(order):
        if before > cap:
            break               # (no plan spends that much on the products before q)
        # The products before q spend at least what they do now; q less than it does.
        child = [r if i in order[:j] else _capped(r, kind, index, cap - before)
                 for i, r in enumerate(rooms)]
        child[q] = _capped(child[q], kind, index, used[q] - 1)
        children.append(tuple(child))
        before += used[q]
    return children
