"""frontier._sweep's pass over a month's labels as one compiled loop (numba).

The NumPy sweep compares labels a block at a time and carries the least rank per spend
level with an accumulate over every level for each block: on the yearly-any-24m family's
larger searches (half a million labels a month, tens of thousands of levels) that is half
of a product's frontier time. Here each label in turn asks a Fenwick tree for the least
rank at its spend level or below (O(log levels)) and, if not beaten, enters it. Same
order, same answer.
"""

from __future__ import annotations

import numpy as np

from .dpkernel import available, jit

__all__ = ["available", "dominated"]

_NONE = np.iinfo(np.int64).max


@jit
def dominated(level, rank, levels):
    """dominated[i]: some label before i has a level no higher and a rank no higher.
    `level` in 0..levels-1, labels in sweep order."""
    n = len(level)
    tree = np.full(levels + 1, _NONE, dtype=np.int64)
    out = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        r = rank[i]
        j = level[i] + 1
        least = _NONE
        while j > 0:
            if tree[j] < least:
                least = tree[j]
            j -= j & -j
        if least <= r:
            out[i] = True
            continue            # (one it beats adds nothing the tree does not hold)
        j = level[i] + 1
        while j <= levels:
            if r < tree[j]:
                tree[j] = r
            j += j & -j
    return out
