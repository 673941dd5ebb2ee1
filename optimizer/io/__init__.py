"""Readers: every file and option value a user gives, checked where it enters (an
InputError names the file, line and field).

text.py holds what they share (a file as a table: CSV in the encodings and delimiters
Excel writes, or a workbook sheet through workbook.py; the cell and decimal parsers;
`Problems`, every bad cell of a file in one InputError); months.py reads the month forms
spreadsheets write; catalog.py reads the catalog TOML; forecast.py, plans.py, holdings.py
and scenarios.py read the tables (and plan JSON) into the records of `optimizer.domain`;
options.py reads option values (amounts, scales, negotiated rates); inputs.py reads all of
a command's files in one call.
"""
