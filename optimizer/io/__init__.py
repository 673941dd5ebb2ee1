"""Readers: every file and option value a user gives, checked where it enters (an
InputError names the file, line and field).

text.py holds what they share (decoding, CSV rows, the cell and decimal parsers);
catalog.py reads the catalog TOML; forecast.py, plans.py, holdings.py and scenarios.py
read the CSV (and plan JSON) inputs into the records of `optimizer.domain`; options.py
reads option values (amounts, scales, negotiated rates).
"""
