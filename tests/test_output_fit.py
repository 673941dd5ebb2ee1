"""Tables that fit: on a terminal of any width from 60 columns every figure and header is
printed whole, with no "…" and no number split across lines; off a terminal the output is
as wide as the data needs (10¹² calls included). Checked through the real command with
stdout taken for a terminal of 60, 80, 100 and 120 columns.

A figure is whole when every token with a digit in the wide (off-terminal) output is also a
token of the narrow output: a cut figure ("120,00…") or one split across lines is not.
"""

from __future__ import annotations

import re

import pytest
from rich.cells import cell_len

import cli as cli_module
from optimizer.output.text import render, table
from test_cli import DATA, G6_FORECAST, ID_YEAR, ok, write

WIDTHS = (60, 80, 100, 120)


def on_terminal(monkeypatch, width, *args):
    """The command's stdout as a terminal `width` columns wide would get it (no colour)."""
    monkeypatch.setattr(cli_module, "_stdout_isatty", lambda: True)
    return ok(*args, "-q", env={"COLUMNS": str(width), "NO_COLOR": "1"}).stdout


def figures(text: str) -> set[str]:
    return {t for t in text.split() if re.search(r"\d", t)}


def assert_fits(text: str, width: int, wide: str) -> None:
    assert "…" not in text
    for line in text.splitlines():
        assert cell_len(line) <= width, (width, line)
    missing = figures(wide) - set(text.split())
    assert not missing, sorted(missing)[:10]


@pytest.fixture(scope="module")
def huge_forecast(tmp_path_factory):
    """10¹² calls a month: figures of 17 to 20 characters."""
    rows = ["product,month,calls"]
    for p, calls in (("id_card", 10 ** 12), ("license_plate", 240_000_000_000),
                     ("vat_invoice", 10 ** 12)):
        rows += [f"{p},2027-{m:02d},{calls}" for m in range(1, 13)]
    return write(tmp_path_factory.mktemp("huge"), "huge.csv", "\n".join(rows) + "\n")


COMMANDS = {
    "plan --compare -v": ("plan", "--compare", "-v"),
    "plan --cashflow (grow24, any month)": ("plan", str(DATA / "grow24.csv"),
                                            "--purchase-months", "any", "--cashflow", "-v"),
    "bill --compare -v": ("bill", str(DATA / "small_wide.csv"), "--compare", "-v"),
    "catalog": ("catalog",),
    "whatif": ("whatif", ID_YEAR, "--scale", "0.5,1"),
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", COMMANDS)
def test_every_figure_whole_at_any_width(monkeypatch, name, width):
    args = COMMANDS[name]
    wide = ok(*args, "-q").stdout                   # off a terminal: wide enough for the data
    assert "…" not in wide
    assert_fits(on_terminal(monkeypatch, width, *args), width, wide)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_trillion_calls_at_any_width(monkeypatch, huge_forecast, width):
    args = ("plan", huge_forecast, "--compare", "-v")
    wide = ok(*args, "-q").stdout
    assert "…" not in wide
    assert "12,000,000,000,000" in wide and "2,697,599,997,600.00" in wide
    assert "10,000,000 × 1,200,000" in wide
    assert_fits(on_terminal(monkeypatch, width, *args), width, wide)


def test_off_a_terminal_nothing_changes_where_the_data_fits_120_columns():
    out = ok("bill", G6_FORECAST, "-v").stdout
    assert max(len(line) for line in out.splitlines()) <= 120


def test_narrow_tables_split_with_the_key_column_repeated(monkeypatch):
    out = on_terminal(monkeypatch, 80, "plan", "-v")
    assert "Cost by product (continued)" in out
    assert "general_print (通用印刷体识别), month by month (continued)" in out
    part2 = out[out.index("Cost by product (continued)"):]
    assert part2.splitlines()[4].startswith("general_print ")     # the key column again


def test_prose_wraps_between_words_on_a_terminal(monkeypatch):
    out = on_terminal(monkeypatch, 60, "plan")
    line = next(l for l in out.splitlines() if l.startswith("Total cost"))
    assert line == "Total cost 398,231.00 CNY (packs 343,840.00, postpaid"


def test_too_narrow_for_columns_gives_records():
    t = table(["Product", "Pack\ncost", "Postpaid\ncost"], [["general_handwriting",
                                                             "70,000.00", "610.00"]],
              total=["Total", "70,000.00", "610.00"], title="Cost by product")
    out = render([t], width=24, terminal=True, no_color=True)
    assert out == ("Cost by product\ngeneral_handwriting\n  Pack cost: 70,000.00\n"
                   "  Postpaid cost: 610.00\nTotal\n  Pack cost: 70,000.00\n"
                   "  Postpaid cost: 610.00\n")


def test_headers_wrap_between_words_before_a_table_is_split():
    t = table(["Month", "Balance at\nmonth end", "Reminders"],
              [["2027-01", "1,234,567", "100,000 × 3 (bought 2027-01) below 15%"]],
              left=("Reminders",), wrap=("Reminders",))
    out = render([t], width=40, terminal=True, no_color=True)
    assert "…" not in out and "1,234,567" in out.split()
    assert max(cell_len(l) for l in out.splitlines()) <= 40
    assert "(continued)" not in out


@pytest.mark.parametrize("width", range(30, 81, 2))
def test_a_list_of_packs_wraps_between_its_items(width):
    """The break-even table at 60 columns wrapped '100,000 × 2, 1,000,000 × 2' as
    '100,000 ×', '2,', '1,000,000', '× 2': a count on another line than its size."""
    packs = "100,000 × 2, 1,000,000 × 2, 10,000 × 12 (3 months)"
    t = table(["Product", "Packs in this plan", "Stays optimal from", "to"],
              [["general_print", packs, "×1.00", "×1.04"], ["id_card", "100,000 × 3", "×0.92",
                                                             "×1.06"]],
              right_from=2, keep=("Packs in this plan",))
    out = render([t], width=width, terminal=True, no_color=True)
    assert max(cell_len(line) for line in out.splitlines()) <= width
    items = re.findall(r"[\d,]+ × \d+(?: \(\d+ months\))?", out)
    assert items == ["100,000 × 2", "1,000,000 × 2", "10,000 × 12 (3 months)", "100,000 × 3"]


def test_a_terminal_of_zero_columns_wraps_notes_at_the_default_width(monkeypatch):
    """A pseudo-terminal that was never sized (`script`, some CI runners) reports 0
    columns; wrapping a note at 0 raised ValueError from textwrap after the plan."""
    import os

    import cli
    monkeypatch.setattr(os, "get_terminal_size", lambda fd=1: os.terminal_size((0, 0)))
    assert cli._stderr_columns() == cli.TABLE_WIDTH


@pytest.mark.parametrize("command", ["", "plan", "bill", "whatif", "forecast", "backtest",
                                     "catalog"])
def test_every_help_fits_an_80_column_terminal(command):
    """Click wraps the prose but not the examples' lines (\\b blocks): eight ran to 81-89
    columns and wrapped mid-command on an ordinary terminal."""
    from click.testing import CliRunner
    r = CliRunner(env={"COLUMNS": "80"}).invoke(cli_module.cli, [*command.split(), "--help"])
    assert r.exit_code == 0
    assert max(map(cell_len, r.output.splitlines())) <= 80, r.output


@pytest.mark.parametrize("width", WIDTHS)
def test_a_heading_breaks_between_its_items(monkeypatch, tmp_path, width):
    """The horizon line of a 24-month any-month plan (longer than 80 columns) breaks
    between its " · " items, each printed whole on one line."""
    forecast = write(tmp_path, "f24.csv", "product,month,calls\n" + "".join(
        f"id_card,{2027 + m // 12}-{m % 12 + 1:02d},{50_000 + 1000 * m}\n" for m in range(24)))
    out = on_terminal(monkeypatch, width, "plan", forecast, "--purchase-months", "any")
    head = out.split("Packs to buy")[0].splitlines()
    items = ["Horizon 2027-01..2028-12 (24 months)", "tier basis total", "money in CNY",
             "packs bought at the start of any month"]
    for item in items:
        assert any(item in line for line in head), (item, head)
    for line in head:
        assert not line.rstrip().endswith("·") and not line.startswith("·"), head
