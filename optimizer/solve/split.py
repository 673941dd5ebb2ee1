"""Products that share a monthly cap, planned exactly by splitting its room between them.

The joint integer program of products that compete for a monthly cap starts from a weak
bound: its relaxation buys fractions of packs, so with each product's own optimum as a
floor the root bound is the sum of those floors, and the gap is the packs' granularity
(one 1,000,000-call pack takes a whole 30,000 CNY month). HiGHS closes it by enumeration:
the issue's 3 x 24 forecast with three scenarios under a 30,000 monthly cap took 18 s
and 22,916 nodes for the cost, 30 s more for the tie-break. Here each product is planned
alone in a share of the room, exactly (its own search or integer program, whole packs),
so a share's bound already prices the granularity; a few shares settle it.

**Nodes.** A node gives each product a room (`Room`: what it may spend in each month).
Its bound is the sum of each product's optimum in its room: every joint plan the
node holds gives each product a plan within its room, so no such plan costs less. When
the products' plans keep the caps together, the node is solved by them.

**Branching.** Otherwise some month is over its cap C: the products
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
first one that keeps the caps has the least key of all.

**What a node pays for, and when.** A child's rooms are inside its parent's, so its key
is at least the parent's. A child waits in the queue at its parent's key, unplanned;
taken, it is planned for cost alone and waits again at max((cost, -1), its parent's key)
(spend is never negative); taken again, its products' tie-breaks are proven, each
re-solve starting from its plan with that cost as a floor, so only the proofs remain.
Branching is always on keyed plans. So a child dearer than the optimum is never planned
and one never taken never pays for its proofs. Among equal keys a node whose plans keep
the caps goes first, then the newest: depth first through the many shares of equal cost
when the cap only moves purchases. (The issue's 3 x 24 forecast under 30,000 a month: the
split took 20 s when every child was planned and keyed as it was made, 16 s now; with
every child keyed it had been 66 s end to end, 50 s now. Bounding by cost alone and
branching on those plans was tried: the products' untied plans, one of many at their
cost, broke the caps where their least-key plans did not, and the search split the
optimal cost's many ties one by one: 80 s end to end.) A product whose plan in the
parent's room fits the child's keeps it: the optimum of a larger room is the optimum of
a smaller one that holds it.

Gives up (None, with the least open bound, a floor for the joint model) after MAX_NODES
nodes, when its clock runs out, or when a product's solve is not proven. Not for yearly
or total caps: there a share shrinks by one pack's price at a time, which a product meets
by moving that pack to another month (benchmarks/README.md).
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from .engines import EngineResult, Request, Room, purchase_key, spend_of

MAX_NODES = 40          # nodes branched on before the joint model takes over


@dataclass(order=True)
class _Node:
    key: tuple                  # (cost, spend, -calls, packs) of its plans, or a bound on it
    breaks: bool                # whether its plans break the caps (equal keys: kept first)
    order: int                  # the newest first among equal keys (depth first)
    rooms: tuple[Room, ...] = field(compare=False)
    plans: tuple[EngineResult, ...] | None = field(compare=False)   # None: not planned yet
    keyed: bool = field(default=True, compare=False)    # its plans' tie-breaks proven
    parent: _Node | None = field(default=None, compare=False)


Solve = Callable[[str, Room, bool, int, "EngineResult | None"], EngineResult]


def _one_by_one(job: Callable[[int], Any], n: int) -> list:
    return [job(k) for k in range(n)]


# Long (99 lines): the memo of products' plans in their rooms is shared by the planning,
# the keying and the branching of the nodes taken; split, it would travel through every
# call.
def split_rooms(req: Request, names: list[str], solve_one: Solve, floors: dict[str, int],
                in_threads: Callable[[Callable[[int], Any], int], list] = _one_by_one
                ) -> tuple[list[EngineResult] | None, int]:
    """The products' joint optimum under `req`'s monthly cap (the others spend nothing),
    as one result per product, or None when the search gives up; and its proven lower
    bound on their total cost. `solve_one(pid, room, keyed, floor, start)`: the product's
    optimum within `room` (`keyed`: with its tie-break proven), `floor` a lower bound on
    its cost, `start` its plan of that cost to start from (or None; its solve's seconds
    are what the tie-break's share of time is measured by, not the short re-solve's).
    `in_threads(job, n)`: [job(0), ..., job(n - 1)], at once where the caller allows."""
    whole = Room.of(req)
    memo: dict = {}                 # (pid, room) -> (its optimum there, keyed) or None
    counter = itertools.count()

    def solved(pid: str, room: Room, floor: int, keyed: bool, start=None):
        got = solve_one(pid, room, keyed, floor, start)
        proven = got.optimal and got.objective is not None and (got.tie_break or not keyed)
        memo[pid, room] = (got, keyed) if proven else None

    def make(rooms: tuple[Room, ...], plans: list[EngineResult], keyed: bool,
             parent: _Node | None) -> _Node:
        cost = sum(r.objective for r in plans)
        breaks = _worst_month(whole, [spend_of(req, [r]) for r in plans]) is not None
        if not req.tie_break:
            key = (cost,)
        elif keyed:
            spend, calls, packs = purchase_key(req, plans)
            key = (cost, spend, -calls, packs)
        else:
            # Its key once keyed is at least its cost's and its parent's (a smaller room's
            # least key is no less): at its parent's, a child of the same cost is taken
            # among the parent's equals, not before them.
            key = max((cost, -1), parent.key) if parent is not None else (cost, -1)
        return _Node(key, breaks, -next(counter), rooms, tuple(plans),
                     keyed or not req.tie_break, parent)

    def node(rooms: tuple[Room, ...], parent: _Node | None, keyed: bool) -> _Node | None:
        for i, room in enumerate(rooms):
            pid = names[i]
            if (pid, room) in memo:
                continue
            floor = floors.get(pid, 0)
            if parent is not None:
                mine = memo.get((pid, parent.rooms[i]))
                if mine is not None and room.keeps(spend_of(req, [mine[0]])):
                    # The optimum of a larger room that fits this one is its optimum.
                    memo[pid, room] = mine
                    continue
                floor = max(floor, parent.plans[i].objective)  # a smaller room costs no less
            solved(pid, room, floor, keyed)
        if any(memo[names[i], room] is None for i, room in enumerate(rooms)):
            return None
        got = [memo[names[i], room] for i, room in enumerate(rooms)]
        return make(rooms, [r for r, _ in got], all(k for _, k in got), parent)

    def tied(n: _Node) -> _Node | None:
        """`n` with each product's tie-break proven (at its cost, from its plan)."""
        todo = [i for i, room in enumerate(n.rooms) if not memo[names[i], room][1]]
        in_threads(lambda k: solved(names[todo[k]], n.rooms[todo[k]], n.plans[todo[k]].objective,
                                    True, n.plans[todo[k]]), len(todo))
        return node(n.rooms, None, True)

    root = node(tuple(whole for _ in names), None, True)
    if root is None:
        return None, sum(floors.get(pid, 0) for pid in names)
    queue, taken, seen = [root], 0, {root.rooms}
    while queue and taken < MAX_NODES and not req.clock.expired():
        n = heapq.heappop(queue)
        if n.plans is None:
            # Planned only once taken, at its parent's key till then: a child dearer than
            # the optimum is never planned (the 3 x 24 forecast under 15,000 a month, split
            # first: a dearer child's product took 25 s in its room, beside a sibling at
            # the optimum's cost).
            planned = node(n.rooms, n.parent, False)
            if planned is None:
                return None, min([n.key[0]] + [m.key[0] for m in queue])
            heapq.heappush(queue, planned)
            continue
        if not n.keyed:
            # Keyed only once taken: a node never taken never pays for its tie-break (the
            # issue's 3 x 24 forecast under 30,000 a month: a child 8 CNY above the
            # optimum, whose proofs took 6 s).
            keyed = tied(n)
            if keyed is None:
                return None, min([n.key[0]] + [m.key[0] for m in queue])
            heapq.heappush(queue, keyed)
            continue
        if not n.breaks:
            return list(n.plans), n.key[0]
        spent = [spend_of(req, [r]) for r in n.plans]
        month = _worst_month(whole, spent)
        taken += 1
        # (A child reached by another order of the same splits is there already.)
        fresh = [rooms for rooms in _children(n.rooms, [s[month] for s in spent], month,
                                              whole.months[month]) if rooms not in seen]
        seen.update(fresh)
        for rooms in fresh:
            heapq.heappush(queue, _Node(n.key, True, -next(counter), rooms, None, False, n))
    return None, min((m.key[0] for m in queue), default=0)


def _worst_month(whole: Room, spent: list[list[int]]) -> int | None:
    """The month the products' spends break the cap by the most, or None."""
    over = [sum(s[t] for s in spent) - cap for t, cap in enumerate(whole.months)]
    t = max(range(len(over)), key=lambda t: over[t])
    return t if over[t] > 0 else None


def _capped(room: Room, month: int, most: int) -> Room:
    """`room` with at most `most` left in `month`."""
    months = list(room.months)
    months[month] = min(months[month], most)
    return replace(room, months=tuple(months))


def _children(rooms: tuple[Room, ...], used: list[int], month: int,
              cap: int) -> list[tuple[Room, ...]]:
    """The shares of `month`'s cap when the products spend `used` there (module
    docstring, 'Branching')."""
    order = sorted((i for i in range(len(rooms)) if used[i] > 0), key=lambda i: -used[i])
    children, before = [], 0
    for j, q in enumerate(order):
        if before > cap:
            break               # (no plan spends that much on the products before q)
        # The products before q spend at least what they do now; q less than it does.
        child = [r if i in order[:j] else _capped(r, month, cap - before)
                 for i, r in enumerate(rooms)]
        child[q] = _capped(child[q], month, used[q] - 1)
        children.append(tuple(child))
        before += used[q]
    return children
