"""Progress of long solves: on a terminal, the spinner's line shows an integer program's
incumbent, bound and gap; off a terminal nothing; Ctrl-C still ends at once (exit 130)."""

from __future__ import annotations

import pytest

import os
import pty
import select
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from optimizer import load_catalog, plan
from optimizer.io.forecast import read_forecast
from optimizer.output.progress import describe
from optimizer.solve import solvers

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "optimizer" / "data" / "example_forecast.csv"
LONG = ["plan", "--purchase-months", "any", "--monthly-budget", "8000", "--format", "json"]


def test_integer_programs_report_incumbent_bound_and_gap_to_a_listener():
    cat = load_catalog()
    seen = []
    with solvers.reporting(seen.append):
        r = plan(cat, read_forecast(EXAMPLE, cat), purchase_months="any",
                 monthly_budget=Decimal(8000), time_limit=3)
    with_plan = [p for p in seen if p.best is not None and p.bound is not None]
    joint = [p for p in with_plan if p.label == "all"]
    assert joint, seen
    for p in with_plan:
        # In currency: the incumbent is a plan's cost, never below the proven bound.
        assert p.best >= p.bound - 0.01 and p.solver == "highs"
        assert p.gap_rel == (p.best - p.bound) / p.best
    # Before the joint model, products alone or a few together (planner._apart_under_caps).
    products = {pb.product for pb in r.bill.products}
    for p in with_plan:
        assert p.label == "all" or set(p.label.split(", ")) <= products or \
            p.label.endswith(" products")
    # The last incumbent is no better than the plan returned (the solver only improves).
    assert min(p.best for p in joint) >= float(r.bill.total_cost) - 0.01
    # Outside a `reporting` block nothing is called back.
    seen.clear()
    plan(cat, read_forecast(EXAMPLE, cat), purchase_months="any",
         monthly_budget=Decimal(8000), time_limit=1)
    assert seen == []


def test_the_spinner_line_says_what_runs_and_how_far_from_proven():
    p = solvers.Progress("all", "highs", 3.2, 800257.0, 788353.9, 0.014874)
    assert describe("Solving…", p) == ("Solving… joint integer program (highs, 3 s): best "
                                       "800,257.00, bound 788,353.90, gap 1.49 %")
    q = solvers.Progress("id_card", "highs", 1.0, None, None, None)
    assert describe("Planning…", q) == ("Planning… integer program for id_card (highs, 1 s): "
                                        "no plan found yet")


@pytest.mark.parametrize("width", [20, 40, 60, 80, 100, 120])
def test_the_spinner_line_fits_the_terminal(width):
    """A line wider than the terminal wraps and is redrawn as two: it says less instead,
    keeping the product and the gap as long as they fit."""
    p = solvers.Progress("general_print", "highs", 2.0, 27173.75, 24809.81, 0.087)
    line = describe("Solving…", p, width)
    assert len(line) <= width - 2
    if width >= 40:
        assert "general_print" in line and "gap 8.70 %" in line
    assert describe("Solving…", p, 200) == describe("Solving…", p)


def _run_on_a_terminal(args, seconds):
    """Run the command with stderr on a pseudo-terminal for `seconds`; return (process,
    what the terminal showed so far, stdout pipe)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "cli.py", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=slave, text=True,
                            env={**os.environ, "COLUMNS": "200", "TERM": "xterm"})
    os.close(slave)
    shown = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                shown += os.read(master, 65536)
            except OSError:
                break
    return proc, master, shown


def test_a_long_solve_shows_its_gap_on_a_terminal_and_ctrl_c_still_stops_it():
    proc, master, shown = _run_on_a_terminal(LONG, 4)
    try:
        assert proc.poll() is None
        text = shown.decode("utf-8", "replace")
        assert "joint integer program (highs" in text and "gap" in text, text[-500:]
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
        assert time.monotonic() - sent < 1.0
        assert proc.returncode == 130 and out == ""
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


def test_nothing_of_it_off_a_terminal():
    r = subprocess.run([sys.executable, "cli.py", *LONG, "--time-limit", "2"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0
    assert "gap" not in r.stderr and "integer program" not in r.stderr


@pytest.mark.parametrize("args, colour", [(["--no-color"], False), ([], True)])
def test_the_spinner_keeps_no_color(monkeypatch, args, colour):
    """--no-color reaches the spinner too (it stayed green under backtest --no-color)."""
    import rich.console
    from click.testing import CliRunner

    import cli as cli_module
    made = []
    real = rich.console.Console

    def console(*a, **k):
        made.append(k.get("no_color", False))
        return real(*a, **k)
    monkeypatch.setattr(rich.console, "Console", console)
    monkeypatch.setattr(cli_module, "_stderr_isatty", lambda: True)
    r = CliRunner().invoke(cli_module.cli, ["plan", str(EXAMPLE), "--format", "json", *args])
    assert r.exit_code == 0, r.output
    assert made and all(no_color is not colour for no_color in made)
