"""Solving: `plan()` routes each request to an exact method and re-bills the result.

planner.py      plan(): check, route, solve, assemble, re-bill and verify; PlanResult
engines.py      the three engines behind one result type (EngineResult)
dynamic.py      the dynamic program: exact schedules under the total basis (any month, or
                purchases in the first month only)
dpkernel.py     the same search compiled with numba, for large plans (optional)
curves.py       start mode's exact cost curves; budget.py: a budget over them (knapsack)
start_milp.py   the start-mode integer program (PuLP); any_milp.py: the any-month one
solvers.py      the PuLP adapter: HiGHS or CBC, our own status enum
knapsack.py     the NumPy unbounded knapsack the curves and the dynamic program share
demand.py       residual demand and count bounds, shared by every method
"""
