"""Output polish: snapshots of the bundled example, Markdown, the Excel BOM, -q, the config
file with its precedence, and the progress indicator's manners."""

from __future__ import annotations

import json
import os
import re

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
    assert ("| Month | Calls | Free | From packs | Postpaid calls | Rate | Postpaid cost | "
            "Pack spend | Balance at month end | Waste | Reminders |") in months
    assert "| 1,000 × 1 (bought 2027-01) exhausted |" in months
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
            assert kw == {"stderr": True, "no_color": False}

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


def test_a_switch_set_in_a_config_file_is_turned_off_on_the_command_line(tmp_path):
    """`compare = true` in a config file made `plan -v --format csv` fail, with no way to
    turn it off but the environment: every switch has its --no- form."""
    cfg = write(tmp_path, "packopt.toml", "[plan]\ncompare = true\nmonths = true\n"
                                          "cashflow = true\nquiet = true\n")
    r = run("--config", cfg, "plan", ID_YEAR, "--format", "csv")
    assert r.exit_code == 2 and "cannot be combined with --format csv" in r.stderr
    csv_plan = ok("--config", cfg, "plan", ID_YEAR, "--format", "csv", "--no-compare",
                  "--no-months", "--no-cashflow").stdout
    assert csv_plan == ok("plan", ID_YEAR, "--format", "csv").stdout
    shown = ok("--config", cfg, "plan", ID_YEAR, "--no-quiet", "--no-compare", "--no-months",
               "--no-cashflow")
    assert shown.stdout == ok("plan", ID_YEAR).stdout


def test_config_after_the_command_and_from_the_environment(tmp_path):
    cfg = write(tmp_path, "c.toml", '[bill]\nformat = "json"\nmonths = true\n')
    data = as_json("bill", G6_FORECAST, "--plan", G6_PLAN, "--config", cfg)
    assert data["status"] == "billed"
    out = ok("bill", G6_FORECAST, "--plan", G6_PLAN, env={"PACKOPT_CONFIG": cfg}).stdout
    assert out.lstrip().startswith("{")


def test_config_before_the_command_beats_the_environments(tmp_path):
    """Command line over environment for the file too: `packopt --config A <command>` with
    PACKOPT_CONFIG=B reads A (the command's own --config read B over it), and a bad B is
    not read at all."""
    json_cfg = write(tmp_path, "j.toml", 'format = "json"\n')
    csv_cfg = write(tmp_path, "c.toml", 'format = "csv"\n')
    bad = write(tmp_path, "bad.toml", 'formt = "csv"\n')
    assert ok("--config", json_cfg, "catalog", env={"PACKOPT_CONFIG": csv_cfg}
              ).stdout.lstrip().startswith("{")
    assert ok("--config", json_cfg, "catalog", env={"PACKOPT_CONFIG": bad}
              ).stdout.lstrip().startswith("{")
    assert ok("catalog", env={"PACKOPT_CONFIG": csv_cfg}).stdout.startswith("product,")
    assert ok("catalog", "--config", json_cfg, env={"PACKOPT_CONFIG": csv_cfg}
              ).stdout.lstrip().startswith("{")


def test_config_option_names_accept_dashes_and_lists(tmp_path):
    cfg = write(tmp_path, "c.toml", 'tier-basis = "after-packs"\n'
                'negotiated_rate = ["license_plate=0.04"]\n')
    data = as_json("--config", cfg, "catalog")
    assert data["tier_basis"] == "after-packs"
    lp = next(p for p in data["products"] if p["id"] == "license_plate")
    assert lp["tiers"][-1]["rate"] == 0.04


@pytest.mark.parametrize("text, says", [
    # (each with its line: they named only the file)
    ('colour = "blue"\n', r"line 1: unknown option 'colour'"),
    ('[plan]\nmonths = true\nfoo = 1\n', r"line 3: \[plan\] has no option 'foo'"),
    ('\n[deploy]\nx = 1\n', r"line 2: unknown section \[deploy\]"),
    ('a = 1\nformat = \n', r"line 2: not valid TOML"),
    ('[plan]\nsolver = "highs"\n[bill]\nsolver = 3\n', r"line 4: \[bill\] has no option"),
])
def test_bad_config_files(tmp_path, text, says):
    cfg = write(tmp_path, "bad.toml", text)
    assert_input_error(run("--config", cfg, "plan", ID_YEAR), "bad.toml", says=says)


@pytest.mark.parametrize("text, says", [
    # a scalar for a repeatable option: Click said "Value must be an iterable."
    ('[plan]\nnegotiated_rate = "id_card=0.04"\n', r"c\.toml, line 2: \[plan\] key "
     r"'negotiated_rate' takes a list \(the option is repeatable\): write negotiated_rate = \[\"id_card=0\.04\"\]$"),
    ('negotiated_rate = [["id_card=0.04"]]\n', "key 'negotiated_rate' takes a list of values, "
     "not of lists or tables$"),
    # a list for a one-value option: Click showed it as Python does, ['json']
    ('format = ["json"]\n', r"c\.toml, line 1: key 'format' takes one value, not a list$"),
    ('[plan]\nbudget = { yearly = 1 }\n', r"c\.toml, line 2: \[plan\] key 'budget' takes one "
     r"value, not a table$"),
])
def test_config_value_of_the_wrong_shape(tmp_path, text, says):
    cfg = write(tmp_path, "c.toml", text)
    assert_input_error(run("--config", cfg, "plan", ID_YEAR), "c.toml", says=says)


def test_config_file_not_utf8_names_the_line(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_bytes(b'format = "json"\n# caf\xe9\n')
    assert_input_error(run("--config", cfg, "catalog"), "c.toml",
                       says=r"c\.toml, line 2: not UTF-8 text: save it as UTF-8$")


def test_bad_config_value_is_a_usage_error_naming_file_and_key(tmp_path):
    cfg = write(tmp_path, "c.toml", 'format = "xml"\n[plan]\nsolver = "gurobi"\n')
    result = run("--config", cfg, "catalog")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (f"Error: Invalid value for '--format' (from config file {cfg}, "
                             f"key 'format'): 'xml' is not one of 'table', 'json', 'csv', "
                             f"'markdown'. (see 'packopt catalog --help')\n")
    result = run("plan", ID_YEAR, "--config", cfg, "--format", "json")
    assert result.exit_code == 2 and result.stdout == ""
    assert (f"Invalid value for '--solver' (from config file {cfg}, [plan] key 'solver')"
            in result.stderr)


def test_bad_environment_value_names_the_variable(tmp_path):
    result = run("catalog", env={"PACKOPT_FORMAT": "xml"})
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("Error: Invalid value for '--format' (from environment "
                                    "variable PACKOPT_FORMAT): 'xml' is not one of")
    # values the library checks (amounts) name their source too
    assert_input_error(run("plan", ID_YEAR, env={"PACKOPT_BUDGET": "20,000"}), "--budget",
                       says=r"not '20,000' \(no thousands separators\) \(from environment "
                            r"variable PACKOPT_BUDGET\)$")
    cfg = write(tmp_path, "c.toml", '[plan]\nbudget = "lots"\n')
    assert_input_error(run("plan", ID_YEAR, "--config", cfg), "--budget",
                       says=rf"not 'lots' \(from config file .*c\.toml, \[plan\] key 'budget'\)$")
    # typed on the command line: no origin added
    result = run("catalog", "--format", "xml")
    assert "(from" not in result.stderr and "Invalid value for '--format': 'xml'" in result.stderr


def test_errors_over_values_not_typed_say_where_they_came_from(tmp_path):
    """A usage error naming an option a shell profile set, or a file a variable or config
    key named, did not say so: "give FORECAST or --history HISTORY, not both" with only
    FORECAST typed."""
    r = run("plan", ID_YEAR, env={"PACKOPT_HISTORY": str(ID_YEAR)})
    assert r.exit_code == 2 and r.stdout == ""
    assert "not both (--history from environment variable PACKOPT_HISTORY)" in r.stderr
    r = run("plan", ID_YEAR, env={"PACKOPT_CATALOG": str(tmp_path / "none.toml")})
    assert r.exit_code == 2 and r.stdout == ""
    assert "(--catalog from environment variable PACKOPT_CATALOG)" in r.stderr
    cfg = write(tmp_path, "c.toml", f'[plan]\nholdings = "{tmp_path / "owned.csv"}"\n')
    r = run("plan", ID_YEAR, "--config", cfg)
    assert r.exit_code == 2 and "(--holdings from config file" in r.stderr
    assert "key 'holdings')" in r.stderr
    # typed: nothing added
    r = run("plan", ID_YEAR, "--history", str(ID_YEAR))
    assert r.exit_code == 2 and "environment" not in r.stderr and "config" not in r.stderr
    r = run("plan", ID_YEAR, "--catalog", str(tmp_path / "none.toml"))
    assert r.exit_code == 2 and "(--catalog" not in r.stderr


@pytest.mark.parametrize("text, where", [
    ('[plan]\ntime_limit = 5\ntime-limit = "x"\n', "[plan] key 'time-limit'"),
    ("time_limit = 5\ntime-limit = 7\n", "key 'time-limit'"),
])
def test_an_option_spelled_twice_in_a_config_file_is_refused(tmp_path, text, where):
    """time_limit and time-limit are one option: the last won, dropping a bad value."""
    cfg = write(tmp_path, "c.toml", text)
    assert_input_error(run("plan", ID_YEAR, "--config", cfg), "c.toml",
                       says=re.escape(f"{where} repeats 'time_limit'"))


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


# --------------------------------------------------------------------------- small things

def test_short_version_flag():
    from optimizer import __version__
    assert ok("-V").stdout == ok("--version").stdout == f"packopt {__version__}\n"


def test_postpaid_only_products_say_so():
    out = ok("plan", "-v", "-q").stdout
    assert "vat_invoice: postpaid only (no packs sold)." in out
    assert "vat_invoice (增值税发票), month by month: postpaid only (no packs sold)" in out
    assert "postpaid only" not in ok("plan", ID_YEAR).stdout      # id_card has packs


def test_month_view_names_columns_and_one_balance_convention():
    """Pack spend is money, the balance is at the month's end (as in JSON and the chart),
    and the seller's notices read as packs, not dates."""
    out = ok("bill", ID_YEAR, "--plan", DATA / "id_card_plan.csv", "-v").stdout
    assert ("                             From   Postpaid          Postpaid        Pack   "
            "Balance at\n"
            "Month      Calls    Free    packs      calls   Rate       cost       spend    "
            "month end    Waste   Reminders\n") in out
    assert "2027-01   25,000   1,000   24,000          0   0.10       0.00   15,000.00      276,000" \
        in out
    assert "100,000 × 3 (bought" in out and "2027-01) below 15%" in out
    data = as_json("bill", ID_YEAR, "--plan", DATA / "id_card_plan.csv")
    assert data["products"][0]["months"][0]["balance"] == 276_000
    assert data["products"][0]["months"][10]["reminders"] == ["below 15%: 2027-01 100000×3"]


# --------------------------------------------------------------------------- bill --compare

EDITED = ("product,month,size,count,cost\n"
          "id_card,2027-01,100000,2,15000.00\n"          # edited: count 3 -> 2, cost kept
          "id_card,2027-01,10000,5,4000.00\n")


def test_bill_compare_shows_the_optimum_beside_an_edited_plan(tmp_path):
    plan = write(tmp_path, "edited.csv", EDITED)
    out = ok("bill", ID_YEAR, "--plan", plan, "--compare").stdout
    assert "Beside the optimal plan" in out
    assert ("id_card   17,800.00   15,000.00     2,800.00   more 10,000 × 5 in 2027-01\n"
            "                                               fewer 100,000 × 1 in 2027-01\n"
            in out)
    assert ("This plan's cost is 2,800.00 CNY (18.7%) above the optimal plan's (15,000.00 "
            "CNY, buying only in the first month, as this plan does).") in out
    assert (f"Warning: {plan}, line 2: cost 15000.00 disagrees with the catalog (id_card "
            f"100,000 × 2 costs 10,000.00 CNY); the catalog's price is billed") in out
    assert "line 3" not in out                                 # 4000.00 is right

    data = as_json("bill", ID_YEAR, "--plan", plan, "--compare")
    c = data["comparison"]
    assert (c["plan_cost"], c["optimal_cost"], c["difference"]) == (17800.0, 15000.0, 2800.0)
    assert c["optimal_status"] == "optimal" and c["purchase_months"] == "start"
    assert c["optimal_purchases"] == [{"product": "id_card", "month": "2027-01",
                                       "size": 100000, "count": 3, "cost": 15000.0}]
    assert c["products"] == [{"product": "id_card", "plan_cost": 17800.0,
                              "optimal_cost": 15000.0, "difference": 2800.0,
                              "more": [{"month": "2027-01", "size": 10000, "count": 5}],
                              "fewer": [{"month": "2027-01", "size": 100000, "count": 1}]}]
    assert data["warnings"][0].startswith(f"{plan}, line 2: cost 15000.00 disagrees")
    assert data["total_cost"] == 17800.0                       # the catalog's price billed

    assert as_csv("bill", ID_YEAR, "--plan", plan, "--compare") == [
        ["product", "plan_cost", "optimal_cost", "difference"],
        ["id_card", "17800.00", "15000.00", "2800.00"]]


def test_bill_compare_of_a_later_purchase_uses_the_any_month_optimum(tmp_path):
    plan = write(tmp_path, "late.csv", "product,month,size,count\nid_card,2027-06,100000,3\n")
    c = as_json("bill", ID_YEAR, "--plan", plan, "--compare")["comparison"]
    assert c["purchase_months"] == "any" and c["difference"] > 0
    assert "buying in any month, as this plan does" in ok(
        "bill", ID_YEAR, "--plan", plan, "--compare").stdout


def test_stale_cost_in_a_json_plan_names_the_purchase(tmp_path):
    data = as_json("plan", ID_YEAR)
    data["products"][0]["purchases"][0]["count"] = 2           # edited without the cost
    plan = write(tmp_path, "plan.json", json.dumps(data))
    warnings = as_json("bill", ID_YEAR, "--plan", plan)["warnings"]
    assert warnings == [f"{plan}, field 'products[0].purchases[0].cost': cost 15000.0 "
                        f"disagrees with the catalog (id_card 100,000 × 2 costs 10,000.00 "
                        f"CNY); the catalog's price is billed"]
    assert as_json("bill", ID_YEAR, "--plan", DATA / "id_card_plan.csv")["warnings"] == []


def test_an_unreadable_cost_is_warned_like_a_stale_one(tmp_path):
    """A cost that is no number is not billed either: a reader trusting it hears so."""
    billed = "(id_card 100,000 × 3 costs 15,000.00 CNY); the catalog's price is billed"
    plan = write(tmp_path, "plan.csv", "product,month,size,count,cost\n"
                 "id_card,2027-01,100000,3,abc\nid_card,2027-01,100000,3,NaN\n"
                 'id_card,2027-01,100000,3,"15,000.00"\nid_card,2027-01,100000,3,\n')
    warnings = as_json("bill", ID_YEAR, "--plan", plan)["warnings"]
    assert [w for w in warnings if w.startswith(str(plan))] == [   # a blank cost is no claim
        f"{plan}, line 2: cost 'abc' is not a number {billed}",
        f"{plan}, line 3: cost 'NaN' is not a number {billed}",
        f"{plan}, line 4: cost '15,000.00' is not a number {billed}"]
    data = as_json("plan", ID_YEAR)
    data["products"][0]["purchases"][0]["cost"] = "abc"
    plan = write(tmp_path, "plan.json", json.dumps(data))
    assert as_json("bill", ID_YEAR, "--plan", plan)["warnings"] == [
        f"{plan}, field 'products[0].purchases[0].cost': cost 'abc' is not a number {billed}"]


def test_whatif_warns_of_a_stale_cost_as_bill_does(tmp_path):
    """`bill --plan` warned of a cost cell that disagrees with the catalog; `whatif --plan`,
    billing the same packs from the same file, said nothing (table, JSON or CSV)."""
    plan = write(tmp_path, "plan.csv", "product,month,size,count,cost\n"
                 "id_card,2027-01,100000,3,1500.00\n")
    stale = (f"{plan}, line 2: cost 1500.00 disagrees with the catalog (id_card 100,000 × 3 "
             f"costs 15,000.00 CNY); the catalog's price is billed")
    assert as_json("bill", ID_YEAR, "--plan", plan)["warnings"] == [stale]
    args = ("whatif", ID_YEAR, "--plan", plan, "--scale", "1", "--no-break-even")
    assert as_json(*args)["warnings"] == [stale]
    assert f"Warning: {stale}" in ok(*args).stdout
    assert f"warning: {stale}" in ok(*args, "--format", "csv").stderr
    assert as_json(*args[:3], DATA / "id_card_plan.csv", *args[4:])["warnings"] == []


def test_bill_compare_is_one_csv_table():
    result = run("bill", ID_YEAR, "--compare", "-v", "--format", "csv")
    assert result.exit_code == 2 and "--months and --compare cannot be combined" in result.stderr


def test_notes_on_a_narrow_terminal_wrap_between_words(monkeypatch):
    """A note on stderr is folded at the terminal's width, never inside a word or number."""
    monkeypatch.setattr(cli_module, "_stderr_isatty", lambda: True)
    monkeypatch.setattr(cli_module, "_stderr_columns", lambda: 40)
    out = cli_module.Output("table", False, False, quiet=False)
    text = "no FORECAST given; using the bundled example forecast (2027-01..2027-12, 9 products)"
    from click.testing import CliRunner
    with CliRunner().isolation() as streams:
        out.note(text)
        lines = streams[-1].getvalue().decode().splitlines()
    assert len(lines) > 1 and all(len(line) <= 40 for line in lines)
    assert " ".join(lines) == f"packopt: {text}"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_plan_file_not_proven_optimal_says_so_on_stderr(monkeypatch, tmp_path, fmt):
    """The CSV or workbook is the plan alone: a time limit's `feasible` and its gap went
    unsaid (the table and JSON carry them)."""
    from dataclasses import replace
    from decimal import Decimal

    from optimizer.analysis import planning
    real = planning.plan_report

    def stopped(*a, **k):
        report = real(*a, **k)
        return replace(report, result=replace(report.result, status="feasible",
                                              gap=Decimal("12.50"), gap_rel=0.0125))
    monkeypatch.setattr(planning, "plan_report", stopped)
    extra = ["--output", str(tmp_path / "p.xlsx")] if fmt == "xlsx" else []
    r = ok("plan", ID_YEAR, "--format", fmt, *extra)
    assert "the plan is feasible, proven gap ≤ 12.50 CNY (1.25%)" in r.stderr
    monkeypatch.setattr(planning, "plan_report", real)
    assert "the plan is" not in ok("plan", ID_YEAR, "--format", fmt, *extra).stderr


@pytest.mark.parametrize("args, where", [
    (("plan", "--time-limit"), "packopt plan"),      # it pointed to `packopt --help`
    (("--no-color", "bill", "--plan"), "packopt bill"),
    (("--bogus",), "packopt"),
])
def test_an_options_missing_value_points_to_its_commands_help(args, where):
    result = run(*args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.endswith(f"(see '{where} --help')\n"), result.stderr


def test_catalog_csv_shows_rates_with_two_decimals_at_least(tmp_path):
    """As the table does (docs/cli.md): a rate written 0.1 in the catalog, or given by
    --negotiated-rate, came out '0.1'."""
    cat = tmp_path / "c.toml"
    cat.write_text('[[product]]\nid = "p"\npacks = [ { calls = 1000, price = 5 } ]\n'
                   'tiers = [ { up_to = 10000, rate = 0.1 }, { rate = "0.0035" } ]\n')
    rows = ok("catalog", "--catalog", str(cat), "--format", "csv").stdout.splitlines()
    assert [r.split(",")[7] for r in rows if ",tier," in r] == ["0.10", "0.0035"]
    rows = ok("catalog", "--negotiated-rate", "vat_invoice=0.1", "--format", "csv").stdout
    assert "vat_invoice,增值税发票,1000,tier,,,,0.10,true" in rows.splitlines()


def test_output_files_write_through_links_and_pipes_and_keep_permissions(tmp_path):
    """Output files were renamed onto their paths: a symbolic link became a file (its
    target untouched), a FIFO's reader got nothing, a private (0600) report came back
    world-readable."""
    import threading

    from optimizer.output.files import write_together

    def text(body: str):
        return lambda p: open(p, "w").write(body)
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "plan.csv"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    private = tmp_path / "report.html"
    private.write_text("old")
    private.chmod(0o600)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    write_together([(str(link), text("new"), "CSV"), (str(private), text("<p>"), "report"),
                    (str(fifo), text("piped"), "CSV")])
    reader.join(10)
    assert link.is_symlink() and target.read_text() == "new"
    assert private.read_text() == "<p>" and private.stat().st_mode & 0o777 == 0o600
    assert fifo.is_fifo() and got == ["piped"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "pipe.csv", "real",
                                                           "report.html"]


def test_one_call_carried_over_is_one_call(tmp_path):
    """"1 calls still valid": the count agrees with its noun."""
    from decimal import Decimal

    from optimizer import bill as bill_of
    from optimizer import load_catalog
    from optimizer.domain.records import Forecast, Month, Plan, Purchase
    from optimizer.output import cells
    catalog = load_catalog()
    f = Forecast(Month.parse("2027-01"), 1, (("id_card", (999 + 1000,)),), "f")
    b = bill_of(catalog, f, Plan((Purchase("id_card", Month.parse("2027-01"), 1000, 1),)))
    assert b.carry_over_calls == 1 and b.carry_over_value > Decimal(0)
    assert "Carry-over at the end: 1 call still valid" in cells.carry_over_line(b, "prorata")
