"""Domain records: months, money units, the catalog, forecasts, plans, holdings, scenarios.

No I/O, no NumPy, no PuLP: every other layer builds on these.
"""
