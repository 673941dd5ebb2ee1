"""Analysis on top of plans and bills: what-if, break-even, budget value, baselines."""
