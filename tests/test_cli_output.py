"""Output polish: snapshots of the bundled example, Markdown, the Excel BOM, -q, the config
file with its precedence, and the progress indicator's manners."""

from __future__ import annotations

import json
import os

import pytest

import cli as cli_module
from test_cli import (DATA, G6_FORECAST, G6_PLAN, ID_YEAR, WIDE, as_csv, as_json,
                      assert_input_error, ok, run, write)

SNAP_TABLE = DATA / "snapshot_plan_table.txt"
SNAP_MARKDOWN = DATA / "snapshot_plan_markdown.md"


def check_snapshot(path, text):
    """Compare with the committed snapshot; UPDATE_SNAPSHOTS=1 rewrites it instead."""
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- snapshots

def test_snapshot_bundled_example_table():
    result = ok("plan", "--cashflow")
    check_snapshot(SNAP_TABLE, result.stdout)


def test_snapshot_bundled_example_markdown():
    result = ok("plan", "--format", "markdown", "-q")
    assert result.stderr == ""
    check_snapshot(SNAP_MARKDOWN, result.stdout)


# --------------------------------------------------------------------------- markdown

def test_markdown_is_pipe_tables_without_markup():
    md = ok("bill", G6_FORECAST, "--plan", G6_PLAN, "--format", "markdown").stdout
    assert "**Packs bought**" in md
    assert "| Product | Month | Packs (size × count) | Calls | Cost |" in md
    assert "| :--- | :--- | ---: | ---: | ---: |" in md
    assert "| bank_card | 2027-01 | 1,000 × 1 | 1,000 | 120.00 |" in md
    assert "| **Total** |  |  | **1,000** | **120.00** |" in md
    assert "\x1b[" not in md and "─" not in md


def test_markdown_for_every_command():
    cat = ok("catalog", "--format", "markdown").stdout
    assert "| general_print | 通用印刷体识别 | 1,000 | 1,000 → 120.00<br>10,000 → 800.00" in cat
    months = ok("bill", G6_FORECAST, "--plan", G6_PLAN, "--format", "markdown", "-v").stdout
    assert "**bank_card (银行卡识别), month by month**" in months
    assert "| Month | Calls | Free | Pack | Postpaid | Rate | Postpaid cost |" in months
    md = ok("whatif", WIDE, "--scale", "1", "--format", "markdown").stdout
    assert "**Under each demand level**" in md and "| ×1 |" in md


def test_markdown_escapes_pipes():
    from optimizer.output.text import markdown_table
    assert markdown_table(["a|b"], [["x|y"]], right_from=1) == \
        ["| a\\|b |", "| :--- |", "| x\\|y |"]


# --------------------------------------------------------------------------- CSV for Excel

def test_excel_bom_and_plain_csv():
    plain = ok("plan", ID_YEAR, "--format", "csv").stdout
    bom = ok("plan", ID_YEAR, "--format", "csv", "--excel-bom").stdout
    assert not plain.startswith("\ufeff")
    assert bom == "\ufeff" + plain
    assert "," not in plain.splitlines()[1].split(",", 4)[-1]     # 15000.00: no separators


def test_excel_bom_output_reads_back_as_a_plan(tmp_path):
    out = ok("plan", WIDE, "--format", "csv", "--excel-bom").stdout
    plan = write(tmp_path, "plan.csv", out)
    assert as_json("bill", WIDE, "--plan", plan)["total_cost"] == \
        as_json("plan", WIDE)["total_cost"]


def test_excel_bom_only_with_csv():
    result = run("plan", ID_YEAR, "--excel-bom")
    assert result.exit_code == 2 and result.stdout == ""
    assert "--excel-bom applies only to --format csv" in result.stderr


def test_csv_months_gives_month_rows():
    rows = as_csv("bill", WIDE, "--months")
    assert rows[0][:3] == ["product", "month", "calls"]
    assert len(rows) == 1 + 3 * 3


# --------------------------------------------------------------------------- quiet, progress

def test_quiet_silences_notes_but_not_errors():
    assert "bundled example" in ok("plan", "--format", "json").stderr
    assert ok("plan", "--format", "json", "-q").stderr == ""
    assert ok("plan", "--format", "json", "--quiet").stderr == ""
    result = run("plan", "--budget", "x", "-q")
    assert result.exit_code == 2 and result.stderr.startswith("Error: --budget")


def test_progress_only_on_a_terminal_and_not_when_quiet(monkeypatch):
    started = []

    class FakeStatus:
        def start(self):
            started.append(True)

        def stop(self):
            pass

    class FakeConsole:
        def __init__(self, **kw):
            assert kw == {"stderr": True}

        def status(self, message):
            return FakeStatus()

    import rich.console
    monkeypatch.setattr(rich.console, "Console", FakeConsole)
    out = cli_module.Output("table", False, False, quiet=False)
    monkeypatch.setattr(cli_module, "_stderr_isatty", lambda: False)
    with cli_module.progress("x", out, delay=0):
        pass
    assert started == []
    monkeypatch.setattr(cli_module, "_stderr_isatty", lambda: True)
    with cli_module.progress("x", cli_module.Output("table", False, False, True), delay=0):
        pass
    assert started == []
    import time
    with cli_module.progress("x", out, delay=0.01):
        time.sleep(0.2)                     # a "long" solve: the spinner appears
    assert started == [True]
    with cli_module.progress("x", out, delay=5):
        pass                                # a quick one: it never does
    assert started == [True]


# --------------------------------------------------------------------------- config file

def test_config_precedence(tmp_path):
    """command line > environment PACKOPT_* > config file > built-in default."""
    cfg = write(tmp_path, "packopt.toml", 'format = "csv"\n[plan]\nsolver = "cbc"\n')
    base = ("--config", cfg, "plan", ID_YEAR)
    # config over default
    assert ok(*base).stdout.startswith("product,month,size,count,cost\n")
    # environment over config
    out = ok(*base, env={"PACKOPT_FORMAT": "json"}).stdout
    assert out.startswith("{")
    data = as_json(*base)                   # command line over config (and over env below)
    assert data["solver"] == "cbc"          # from [plan]
    assert ok(*base, "--format", "table", env={"PACKOPT_FORMAT": "json"}).stdout.startswith(
        "packopt plan:")
    assert as_json(*base, "--solver", "highs")["solver"] == "highs"
    out = ok(*base, "--format", "json", env={"PACKOPT_SOLVER": "highs"}).stdout
    assert json.loads(out)["solver"] == "highs"
    # the section applies to its command only; top-level keys to every command with the option
    assert ok("--config", cfg, "catalog").stdout.startswith("product,name,")


def test_config_after_the_command_and_from_the_environment(tmp_path):
    cfg = write(tmp_path, "c.toml", '[bill]\nformat = "json"\nmonths = true\n')
    data = as_json("bill", G6_FORECAST, "--plan", G6_PLAN, "--config", cfg)
    assert data["status"] == "billed"
    out = ok("bill", G6_FORECAST, "--plan", G6_PLAN, env={"PACKOPT_CONFIG": cfg}).stdout
    assert out.lstrip().startswith("{")


def test_config_option_names_accept_dashes_and_lists(tmp_path):
    cfg = write(tmp_path, "c.toml", 'tier-basis = "after-packs"\n'
                'negotiated_rate = ["license_plate=0.04"]\n')
    data = as_json("--config", cfg, "catalog")
    assert data["tier_basis"] == "after-packs"
    lp = next(p for p in data["products"] if p["id"] == "license_plate")
    assert lp["tiers"][-1]["rate"] == 0.04


@pytest.mark.parametrize("text, says", [
    ('colour = "blue"\n', "unknown option 'colour'"),
    ('[plan]\nmonths = true\nfoo = 1\n', r"\[plan\] has no option 'foo'"),
    ('[deploy]\nx = 1\n', r"unknown section \[deploy\]"),
    ('format = \n', "not valid TOML"),
])
def test_bad_config_files(tmp_path, text, says):
    cfg = write(tmp_path, "bad.toml", text)
    assert_input_error(run("--config", cfg, "plan", ID_YEAR), "bad.toml", says=says)


def test_bad_config_value_is_a_usage_error(tmp_path):
    cfg = write(tmp_path, "c.toml", 'format = "xml"\n')
    result = run("--config", cfg, "catalog")
    assert result.exit_code == 2 and result.stdout == ""
    assert "Invalid value for '--format'" in result.stderr


def test_missing_config_file(tmp_path):
    assert_input_error(run("--config", tmp_path / "none.toml", "catalog"), "none.toml",
                       says="config file not found")


def test_every_option_has_an_environment_variable():
    for cmd in cli_module.cli.commands.values():
        for p in cmd.params:
            if p.param_type_name == "option":
                assert p.envvar and p.envvar.startswith("PACKOPT_"), (cmd.name, p.name)


def test_shell_completion_script():
    result = ok(env={"_PACKOPT_COMPLETE": "bash_source"})
    assert "_packopt_completion" in result.stdout


def test_whatif_has_help_with_examples():
    out = ok("whatif", "--help").stdout
    assert "Examples:" in out and "--scale" in out and "--break-even" in out
